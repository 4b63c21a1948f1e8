// The garbage collector end to end: a real etcd, apiserver and controller manager (the garbage
// collector, plus the Deployment and ReplicaSet controllers for the Deployment chain) and the
// real kubectl. Owners are ConfigMaps, a custom resource (manifests/crontab-crd.yaml) and a
// Deployment; every cascade mode is driven through `kubectl delete --cascade=…`.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { OwnerReference } from '../lib/api/meta.js';
import { type Cluster, startCluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

const ns = 'gc-e2e';
let cluster: Cluster;
const { k, ok } = kubectlHelpers(() => cluster);
const crdFile = fileURLToPath(new URL('../../manifests/crontab-crd.yaml', import.meta.url));

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager'],
    extraArgs: { 'controller-manager': ['--controllers=garbagecollector,deployment,replicaset'] },
  });
  await ok(['create', 'namespace', ns]);
  await ok(['apply', '-f', crdFile]);
  await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/crontabs.stable.example.com']);
});

after(async () => {
  await cluster?.stop();
});

interface Meta {
  metadata: { name: string; uid: string; ownerReferences?: OwnerReference[]; finalizers?: string[] };
}

/** exists tells whether kubectl finds the object (false on NotFound, failing on any other error). */
async function exists(kind: string, name: string): Promise<boolean> {
  const r = await k(['get', kind, name, '-n', ns, '-o', 'name']);
  if (r.code === 0) return true;
  assert.match(r.stderr, /NotFound/, r.stderr);
  return false;
}

async function getObj(kind: string, name: string): Promise<Meta> {
  return JSON.parse(await ok(['get', kind, name, '-n', ns, '-o', 'json'])) as Meta;
}

function ownerRef(kind: string, apiVersion: string, o: Meta, block = true): OwnerReference {
  return { apiVersion, kind, name: o.metadata.name, uid: o.metadata.uid, blockOwnerDeletion: block };
}

/** configMap creates a ConfigMap with ownerReferences and returns it. */
async function configMap(name: string, owners: OwnerReference[] = []): Promise<Meta> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ownerReferences: owners.length ? owners : undefined }, data: { k: 'v' } };
  // The created object as the server answered: the collector may delete it right away.
  return JSON.parse(await ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(body))) as Meta;
}

async function cronTab(name: string): Promise<Meta> {
  const body = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name, namespace: ns }, spec: { cronSpec: '* * * * *', image: 'busybox' } };
  return JSON.parse(await ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(body))) as Meta;
}

/** ownerKinds are the two owner kinds every cascade mode is tried with. */
const ownerKinds = [
  { kind: 'ConfigMap', resource: 'configmap', apiVersion: 'v1', make: (name: string) => configMap(name) },
  { kind: 'CronTab', resource: 'crontab', apiVersion: 'stable.example.com/v1', make: (name: string) => cronTab(name) },
];

describe('garbage collector', () => {
  for (const o of ownerKinds) {
    describe(`${o.kind} owner`, () => {
      const p = o.resource === 'configmap' ? 'cm' : 'ct';

      it('background: deleting the owner deletes its dependents afterwards', async () => {
        const owner = await o.make(`${p}-bg`);
        await configMap(`${p}-bg-1`, [ownerRef(o.kind, o.apiVersion, owner)]);
        await configMap(`${p}-bg-2`, [ownerRef(o.kind, o.apiVersion, owner, false)]);
        await ok(['delete', o.resource, `${p}-bg`, '-n', ns]);
        assert.equal(await exists(o.resource, `${p}-bg`), false);
        await until(async () => !(await exists('configmap', `${p}-bg-1`)) && !(await exists('configmap', `${p}-bg-2`)), 30_000, 'dependents collected');
      });

      it('foreground: kubectl returns once the owner is gone, which is after its dependents', async () => {
        const owner = await o.make(`${p}-fg`);
        const child = await configMap(`${p}-fg-child`, [ownerRef(o.kind, o.apiVersion, owner)]);
        await configMap(`${p}-fg-grandchild`, [ownerRef('ConfigMap', 'v1', child)]);
        await configMap(`${p}-fg-loose`, [ownerRef(o.kind, o.apiVersion, owner, false)]);
        await ok(['delete', o.resource, `${p}-fg`, '-n', ns, '--cascade=foreground', '--timeout=45s']);
        assert.equal(await exists(o.resource, `${p}-fg`), false);
        // Blocking dependents (and theirs) went before the owner could.
        assert.equal(await exists('configmap', `${p}-fg-child`), false);
        assert.equal(await exists('configmap', `${p}-fg-grandchild`), false);
        await until(async () => !(await exists('configmap', `${p}-fg-loose`)), 30_000, 'non-blocking dependent collected');
      });

      it('orphan: dependents stay, without the reference to the owner', async () => {
        const owner = await o.make(`${p}-or`);
        const other = await configMap(`${p}-or-other`);
        await configMap(`${p}-or-1`, [ownerRef(o.kind, o.apiVersion, owner)]);
        await configMap(`${p}-or-2`, [ownerRef(o.kind, o.apiVersion, owner), ownerRef('ConfigMap', 'v1', other, false)]);
        await ok(['delete', o.resource, `${p}-or`, '-n', ns, '--cascade=orphan', '--timeout=45s']);
        assert.equal(await exists(o.resource, `${p}-or`), false);
        assert.equal((await getObj('configmap', `${p}-or-1`)).metadata.ownerReferences, undefined);
        assert.deepEqual((await getObj('configmap', `${p}-or-2`)).metadata.ownerReferences, [ownerRef('ConfigMap', 'v1', other, false)]);
      });
    });
  }

  it('deletes dependents whose owner never existed, and keeps those with a live owner', async () => {
    const live = await configMap('live-owner');
    await configMap('ghost-child', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never-was', uid: '00000000-0000-0000-0000-000000000001' }]);
    await configMap('mixed-child', [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'never-was', uid: '00000000-0000-0000-0000-000000000001' },
      ownerRef('ConfigMap', 'v1', live, false),
    ]);
    await until(async () => !(await exists('configmap', 'ghost-child')), 30_000, 'dependent of a missing owner collected');
    await until(async () => (await getObj('configmap', 'mixed-child')).metadata.ownerReferences?.length === 1, 30_000, 'dangling reference removed');
    assert.equal((await getObj('configmap', 'mixed-child')).metadata.ownerReferences![0]!.uid, live.metadata.uid);
  });

  it('leaves alone a dependent whose owner kind is not served', async () => {
    await configMap('unknown-owner-child', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: '00000000-0000-0000-0000-000000000002' }]);
    await configMap('sentinel', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never-was', uid: '00000000-0000-0000-0000-000000000003' }]);
    // Once the collector has handled the sentinel (created after it), it has seen the other one too.
    await until(async () => !(await exists('configmap', 'sentinel')), 30_000, 'sentinel collected');
    assert.equal(await exists('configmap', 'unknown-owner-child'), true);
    assert.match(cluster.logs('controller-manager'), /its kind or an owner's kind is not served/);
  });

  it('foreground deletion of a cycle (A owns B owns A) completes', async () => {
    const a = await configMap('cycle-a');
    const b = await configMap('cycle-b', [ownerRef('ConfigMap', 'v1', a)]);
    await ok(['patch', 'configmap', 'cycle-a', '-n', ns, '--type=merge', '-p', JSON.stringify({ metadata: { ownerReferences: [ownerRef('ConfigMap', 'v1', b)] } })]);
    await ok(['delete', 'configmap', 'cycle-a', '-n', ns, '--cascade=foreground', '--timeout=45s']);
    await until(async () => !(await exists('configmap', 'cycle-a')) && !(await exists('configmap', 'cycle-b')), 30_000, 'both cycle members gone');
  });

  describe('Deployment → ReplicaSet → Pods', () => {
    const deployment = (name: string) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns },
        spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      });

    interface Listed {
      items: Meta[];
    }
    const list = async (kind: string, app: string): Promise<Meta[]> => (JSON.parse(await ok(['get', kind, '-n', ns, '-l', `app=${app}`, '-o', 'json'])) as Listed).items;

    const ready = async (name: string): Promise<{ rs: Meta; pods: Meta[] }> => {
      await ok(['create', '-f', '-'], deployment(name));
      let rs: Meta[] = [];
      let pods: Meta[] = [];
      await until(
        async () => {
          rs = await list('replicasets', name);
          pods = await list('pods', name);
          return rs.length === 1 && pods.length === 2;
        },
        30_000,
        `deployment ${name} has its ReplicaSet and 2 pods`,
      );
      return { rs: rs[0]!, pods };
    };

    it('kubectl delete --cascade=foreground removes pods, then the ReplicaSet, then the Deployment', async () => {
      await ready('web-fg');
      await ok(['delete', 'deployment', 'web-fg', '-n', ns, '--cascade=foreground', '--timeout=45s']);
      assert.deepEqual(await list('replicasets', 'web-fg'), []);
      assert.deepEqual(await list('pods', 'web-fg'), []);
    });

    it('kubectl delete --cascade=orphan keeps the ReplicaSet and pods, without the reference to the Deployment', async () => {
      const { rs, pods } = await ready('web-or');
      await ok(['delete', 'deployment', 'web-or', '-n', ns, '--cascade=orphan', '--timeout=45s']);
      const after = await list('replicasets', 'web-or');
      assert.deepEqual(after.map((r) => [r.metadata.uid, r.metadata.ownerReferences]), [[rs.metadata.uid, undefined]]);
      assert.deepEqual((await list('pods', 'web-or')).map((p) => p.metadata.uid).sort(), pods.map((p) => p.metadata.uid).sort());
    });

    it('kubectl delete (background) removes the Deployment at once and its ReplicaSet and pods afterwards', async () => {
      await ready('web-bg');
      await ok(['delete', 'deployment', 'web-bg', '-n', ns]);
      await until(async () => (await list('replicasets', 'web-bg')).length === 0 && (await list('pods', 'web-bg')).length === 0, 30_000, 'ReplicaSet and pods collected');
    });
  });
});
