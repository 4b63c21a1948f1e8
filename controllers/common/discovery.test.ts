// Unit tests of discovery.ts, the discovery both the garbage collector and
// the namespace controller work from.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { type DiscoveryResult, DiscoveryRefresher, ResourceMapper, discoverResources, preferredResources } from './discovery.js';

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function cluster(): FakeClient {
  const fake = new FakeClient();
  fake.paths.set('/api', { versions: ['v1'] });
  fake.paths.set('/apis', {
    groups: [
      {
        name: 'stable.example.com',
        versions: [{ groupVersion: 'stable.example.com/v1beta1', version: 'v1beta1' }, { groupVersion: 'stable.example.com/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'stable.example.com/v1', version: 'v1' },
      },
    ],
  });
  fake.paths.set('/api/v1', {
    groupVersion: 'v1',
    resources: [
      { name: 'pods', namespaced: true, kind: 'Pod', verbs: allVerbs },
      { name: 'pods/status', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'bindings', namespaced: true, kind: 'Binding', verbs: ['create'] },
    ],
  });
  fake.paths.set('/apis/stable.example.com/v1beta1', {
    groupVersion: 'stable.example.com/v1beta1',
    resources: [
      { name: 'crontabs', namespaced: true, kind: 'CronTab', verbs: allVerbs },
      { name: 'oldthings', namespaced: true, kind: 'OldThing', verbs: allVerbs },
    ],
  });
  fake.paths.set('/apis/stable.example.com/v1', { groupVersion: 'stable.example.com/v1', resources: [{ name: 'crontabs', namespaced: true, kind: 'CronTab', verbs: allVerbs }] });
  return fake;
}

const names = (d: DiscoveryResult, ...verbs: string[]) => preferredResources(d, ...verbs).map((r) => `${r.resource}.${r.group}/${r.version}`).sort();

describe('discoverResources', () => {
  it('lists top-level resources, choosing the preferred version of each', async () => {
    const d = await discoverResources(cluster());
    assert.equal(d.error, undefined);
    assert.deepEqual(names(d), ['bindings./v1', 'crontabs.stable.example.com/v1', 'oldthings.stable.example.com/v1beta1', 'pods./v1']);
    assert.deepEqual(names(d, 'list', 'watch'), ['crontabs.stable.example.com/v1', 'oldthings.stable.example.com/v1beta1', 'pods./v1']);
  });

  it('reports a failing group version and keeps the rest', async () => {
    const fake = cluster();
    fake.paths.delete('/apis/stable.example.com/v1');
    const d = await discoverResources(fake);
    assert.equal(d.error?.message, 'unable to retrieve the complete list of server APIs: stable.example.com/v1: the server could not find the requested resource');
    assert.deepEqual(names(d, 'list'), ['crontabs.stable.example.com/v1beta1', 'oldthings.stable.example.com/v1beta1', 'pods./v1']);
  });

  it('maps owner references to resources: exact version, else the served version of the same group and kind', async () => {
    const m = new ResourceMapper((await discoverResources(cluster())).resources);
    assert.equal(m.resourceFor('stable.example.com/v1beta1', 'CronTab')?.version, 'v1beta1');
    assert.equal(m.resourceFor('stable.example.com/v2', 'CronTab')?.version, 'v1');
    assert.equal(m.resourceFor('v1', 'Pod')?.resource, 'pods');
    assert.equal(m.resourceFor('apps/v1', 'ReplicaSet'), undefined);
  });
});

describe('DiscoveryRefresher', () => {
  it('calls onChange only when the served resources change, and keeps a failing group\'s resources', async () => {
    const fake = cluster();
    const seen: string[][] = [];
    const r = new DiscoveryRefresher({ client: fake, onChange: (d) => void seen.push(names(d, 'list')) });
    try {
      await r.refresh();
      await r.refresh();
      assert.equal(seen.length, 1);
      fake.paths.delete('/apis/stable.example.com/v1');
      await r.refresh();
      assert.equal(seen.length, 1, 'a group that failed to answer is not taken as removed');
      fake.paths.set('/apis/stable.example.com/v1', { groupVersion: 'stable.example.com/v1', resources: [] });
      await r.refresh();
      assert.equal(seen.length, 2);
      assert.deepEqual(seen[1], ['crontabs.stable.example.com/v1beta1', 'oldthings.stable.example.com/v1beta1', 'pods./v1']);
    } finally {
      r.stop();
    }
  });
});
