// Unit tests of the namespace deleter: FakeClient discovery documents, preloaded content, and the
// exact deletecollection / delete / status / finalize actions it takes.

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Namespace } from '../../lib/api/core/namespace.js';
import { ApiError, ConfigMaps, Namespaces, Pods, type ResourceType, Secrets } from '../../lib/client/index.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { discoverResources } from '../common/discovery.js';
import { remainingDelayMs } from './controller.js';
import { NamespacedResourcesDeleter, ResourcesRemainingError } from './deleter.js';

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const CronTabs: ResourceType = { group: 'stable.example.com', version: 'v1', resource: 'crontabs', kind: 'CronTab', namespaced: true };
const Widgets: ResourceType = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };

/** serveDiscovery answers the discovery documents of a small cluster: core, a CRD in two versions, and a kind without deletecollection. */
function serveDiscovery(fake: FakeClient): void {
  fake.paths.set('/api', { kind: 'APIVersions', versions: ['v1'] });
  fake.paths.set('/apis', {
    kind: 'APIGroupList',
    groups: [
      { name: 'stable.example.com', versions: [{ groupVersion: 'stable.example.com/v1', version: 'v1' }, { groupVersion: 'stable.example.com/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'stable.example.com/v1', version: 'v1' } },
      { name: 'example.com', versions: [{ groupVersion: 'example.com/v1', version: 'v1' }], preferredVersion: { groupVersion: 'example.com/v1', version: 'v1' } },
    ],
  });
  fake.paths.set('/api/v1', {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: allVerbs },
      { name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
      { name: 'namespaces/finalize', namespaced: false, kind: 'Namespace', verbs: ['update'] },
      { name: 'pods', namespaced: true, kind: 'Pod', verbs: allVerbs },
      { name: 'pods/status', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'secrets', namespaced: true, kind: 'Secret', verbs: allVerbs },
    ],
  });
  fake.paths.set('/apis/stable.example.com/v1', { kind: 'APIResourceList', groupVersion: 'stable.example.com/v1', resources: [{ name: 'crontabs', namespaced: true, kind: 'CronTab', verbs: allVerbs }] });
  fake.paths.set('/apis/stable.example.com/v1beta1', { kind: 'APIResourceList', groupVersion: 'stable.example.com/v1beta1', resources: [{ name: 'crontabs', namespaced: true, kind: 'CronTab', verbs: allVerbs }] });
  fake.paths.set('/apis/example.com/v1', { kind: 'APIResourceList', groupVersion: 'example.com/v1', resources: [{ name: 'widgets', namespaced: true, kind: 'Widget', verbs: ['delete', 'get', 'list'] }] });
}

function terminating(name: string, extra: Partial<Namespace> = {}): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: `ns-${name}`, deletionTimestamp: '2024-01-01T00:00:00Z' },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Terminating' },
    ...extra,
  };
}

const obj = (name: string, namespace: string, extra: Record<string, unknown> = {}) => ({ metadata: { name, namespace, ...extra } });

let fake: FakeClient;
let deleter: NamespacedResourcesDeleter;
const now = new Date('2024-01-02T03:04:05Z');

beforeEach(() => {
  fake = new FakeClient();
  serveDiscovery(fake);
  deleter = new NamespacedResourcesDeleter({ client: fake, discover: () => discoverResources(fake), now: () => now });
});

function conditions(ns: string): Array<[string, string, string, string]> {
  const n = fake.stored<Namespace>(Namespaces, '', ns)!;
  return (n.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']);
}

describe('NamespacedResourcesDeleter', () => {
  it('deletes every namespaced resource (custom ones too), reports success and finalizes', async () => {
    fake.add(Namespaces, terminating('team'));
    fake.add(ConfigMaps, obj('a', 'team'), obj('b', 'team'), obj('keep', 'default'));
    fake.add(Secrets, obj('s', 'team'));
    fake.add(CronTabs, obj('nightly', 'team'));
    fake.add(Widgets, obj('w', 'team'));
    await deleter.delete('team');

    const writes = fake.writes();
    assert.deepEqual(
      writes.filter((a) => a.verb === 'deletecollection').map((a) => [a.resource, a.namespace, a.options]),
      [
        ['configmaps', 'team', { propagationPolicy: 'Background' }],
        ['pods', 'team', { propagationPolicy: 'Background' }],
        ['secrets', 'team', { propagationPolicy: 'Background' }],
        ['crontabs', 'team', { propagationPolicy: 'Background' }],
      ],
    );
    // widgets serve no deletecollection: listed and deleted one by one.
    assert.deepEqual(writes.filter((a) => a.verb === 'delete').map((a) => [a.resource, a.namespace, a.name]), [['widgets', 'team', 'w']]);
    assert.ok(!writes.some((a) => a.resource === 'namespaces' && a.verb.startsWith('delete')), 'the namespace itself is the apiserver\'s to delete');
    assert.equal(fake.stored(ConfigMaps, 'default', 'keep') !== undefined, true, 'other namespaces are untouched');
    for (const [r, name] of [[ConfigMaps, 'a'], [Secrets, 's'], [CronTabs, 'nightly'], [Widgets, 'w']] as const) assert.equal(fake.stored(r, 'team', name), undefined, name);

    const status = writes.find((a) => a.verb === 'update' && a.subresource === 'status');
    assert.ok(status, 'conditions written through /status');
    assert.deepEqual(conditions('team'), [
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
      ['NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'],
      ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'],
    ]);
    const finalize = writes.filter((a) => a.subresource === 'finalize');
    assert.equal(finalize.length, 1);
    assert.deepEqual((finalize[0]!.object as Namespace).spec?.finalizers, []);
    assert.equal(writes.at(-1), finalize[0], 'finalize comes last');
  });

  it('does nothing for a namespace that is not being deleted, or is gone', async () => {
    fake.add(Namespaces, { metadata: { name: 'live', uid: 'n1' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    fake.add(ConfigMaps, obj('a', 'live'));
    await deleter.delete('live');
    await deleter.delete('missing');
    assert.deepEqual(fake.writes(), []);
  });

  it('waits while objects with finalizers remain, and says so in the conditions', async () => {
    fake.add(Namespaces, terminating('team'));
    fake.add(ConfigMaps, obj('held', 'team', { finalizers: ['example.com/hold'] }), obj('free', 'team'));
    const err = await deleter.delete('team').then(
      () => assert.fail('expected ResourcesRemainingError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResourcesRemainingError);
    assert.equal(err.estimate, 15);
    assert.deepEqual(conditions('team').slice(2), [
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'],
      ['NamespaceContentRemaining', 'True', 'SomeResourcesRemain', 'Some resources are remaining: configmaps. has 1 resource instances'],
      ['NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances'],
    ]);
    assert.ok(!fake.writes().some((a) => a.subresource === 'finalize'));

    // The finalizer is removed (and the object goes): the next pass clears the conditions and finalizes.
    fake.add(ConfigMaps, { metadata: { ...fake.stored<{ metadata: object }>(ConfigMaps, 'team', 'held')!.metadata, finalizers: [] } });
    await fake.deleteCollection(ConfigMaps, 'team');
    fake.clearActions();
    await deleter.delete('team');
    assert.deepEqual(conditions('team').slice(3).map((c) => [c[0], c[1]]), [['NamespaceContentRemaining', 'False'], ['NamespaceFinalizersRemaining', 'False']]);
    assert.ok(fake.writes().some((a) => a.subresource === 'finalize'));
  });

  it('estimates from the grace period of pods still terminating', async () => {
    fake.add(Namespaces, terminating('team'));
    fake.add(Pods, { metadata: { name: 'web', namespace: 'team', finalizers: ['example.com/x'] }, spec: { terminationGracePeriodSeconds: 30 }, status: { phase: 'Running' } });
    await assert.rejects(deleter.delete('team'), (e: unknown) => e instanceof ResourcesRemainingError && e.estimate === 30);
  });

  it('reports a failing group version and does not finalize, but still deletes what it can', async () => {
    fake.add(Namespaces, terminating('team'));
    fake.add(ConfigMaps, obj('a', 'team'));
    fake.paths.delete('/apis/example.com/v1');
    await assert.rejects(deleter.delete('team'), /unable to retrieve the complete list of server APIs: example.com\/v1: the server could not find the requested resource/);
    assert.equal(fake.stored(ConfigMaps, 'team', 'a'), undefined);
    assert.deepEqual(conditions('team')[0], [
      'NamespaceDeletionDiscoveryFailure',
      'True',
      'DiscoveryFailed',
      'Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: example.com/v1: the server could not find the requested resource',
    ]);
    assert.ok(!fake.writes().some((a) => a.subresource === 'finalize'));
  });

  it('reports a collection that could not be deleted', async () => {
    fake.add(Namespaces, terminating('team'));
    fake.failOn('deletecollection', 'secrets', new ApiError({ code: 500, reason: 'InternalError', message: 'etcd is sad' }));
    await assert.rejects(deleter.delete('team'), /etcd is sad/);
    assert.deepEqual(conditions('team')[2], ['NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', 'Failed to delete all resource types, 1 remaining: etcd is sad']);
    // Several, as utilerrors.NewAggregate prints them.
    fake.failOn('deletecollection', 'configmaps', new ApiError({ code: 500, reason: 'InternalError', message: 'etcd is very sad' }));
    await assert.rejects(deleter.delete('team'), /etcd is/);
    assert.deepEqual(conditions('team')[2], ['NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', 'Failed to delete all resource types, 2 remaining: [etcd is sad, etcd is very sad]']);
  });

  it('falls back to deleting one by one when deletecollection is refused', async () => {
    fake.add(Namespaces, terminating('team'));
    fake.add(Secrets, obj('s1', 'team'), obj('s2', 'team'));
    fake.failOn('deletecollection', 'secrets', new ApiError({ code: 405, reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' }));
    await deleter.delete('team');
    assert.deepEqual(fake.writes().filter((a) => a.verb === 'delete').map((a) => [a.resource, a.name]), [['secrets', 's1'], ['secrets', 's2']]);
    fake.clearActions();
    fake.add(Namespaces, terminating('again'));
    await deleter.delete('again');
    assert.ok(!fake.actions.some((a) => a.verb === 'deletecollection' && a.resource === 'secrets'), 'remembered as not supported');
  });

  it('marks the namespace Terminating first, and retries finalize on a conflict', async () => {
    fake.add(Namespaces, terminating('team', { status: { phase: 'Active' } }));
    let conflicts = 0;
    fake.reactors.push((a) => (a.subresource === 'finalize' && conflicts++ === 0 ? new ApiError({ code: 409, reason: 'Conflict', message: 'the object has been modified' }) : undefined));
    await deleter.delete('team');
    const first = fake.writes()[0]!;
    assert.equal(first.subresource, 'status');
    assert.equal((first.object as Namespace).status?.phase, 'Terminating');
    assert.equal(fake.writes().filter((a) => a.subresource === 'finalize').length, 2);
    assert.deepEqual(fake.stored<Namespace>(Namespaces, '', 'team')?.spec?.finalizers, []);
  });

  it('keeps other spec finalizers', async () => {
    fake.add(Namespaces, terminating('team', { spec: { finalizers: ['kubernetes', 'example.com/other'] } }));
    await deleter.delete('team');
    assert.deepEqual(fake.stored<Namespace>(Namespaces, '', 'team')?.spec?.finalizers, ['example.com/other']);
  });

  it('does nothing once its own finalizer is gone, while another one still holds the namespace', async () => {
    fake.add(Namespaces, terminating('team', { spec: { finalizers: ['example.com/other'] } }));
    fake.add(ConfigMaps, obj('left-by-the-other-finalizer', 'team'));
    await deleter.delete('team');
    assert.deepEqual(fake.writes(), []);
  });
});

describe('remainingDelayMs', () => {
  it('polls with the backoff, never beyond kube\'s estimate/2+1 seconds', () => {
    assert.equal(remainingDelayMs(15, 250), 250);
    assert.equal(remainingDelayMs(15, 60_000), 8_000);
    assert.equal(remainingDelayMs(0, 60_000), 1_000);
  });
});
