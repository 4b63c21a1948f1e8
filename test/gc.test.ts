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
  { kind: 'ConfigMap', resource: 'configmap', apiVersion: 'v1', path: `/api/v1/namespaces/${ns}/configmaps`, make: (name: string) => configMap(name) },
  { kind: 'CronTab', resource: 'crontab', apiVersion: 'stable.example.com/v1', path: `/apis/stable.example.com/v1/namespaces/${ns}/crontabs`, make: (name: string) => cronTab(name) },
];

const configMaps = `/api/v1/namespaces/${ns}/configmaps`;

/** currentRevision is the resourceVersion of a list of path now: deletions after it are replayed by deletedAt. */
async function currentRevision(path: string): Promise<string> {
  const r = await cluster.request(`${path}?limit=1`);
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

/**
 * deletedAt replays the watch of each collection from resourceVersion `from` and returns, per
 * deleted object's name, the resourceVersion its DELETED event carries: the etcd revision of the
 * delete. skiff's resourceVersions are etcd revisions, one counter for every kind, so comparing
 * them orders deletions across kinds (a test may rely on it; clients may not).
 */
async function deletedAt(from: string, ...paths: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const path of paths) {
    const r = await cluster.request(`${path}?watch=1&resourceVersion=${from}&timeoutSeconds=1`);
    assert.equal(r.status, 200, r.body);
    for (const line of r.body.split('\n')) {
      if (!line.trim()) continue;
      const ev = JSON.parse(line) as { type: string; object: { metadata: { name: string; resourceVersion: string } } };
      if (ev.type === 'DELETED') out.set(ev.object.metadata.name, Number(ev.object.metadata.resourceVersion));
    }
  }
  return out;
}

/** revisionOf is when name was deleted, failing the test when it was not. */
function revisionOf(deleted: Map<string, number>, name: string): number {
  const rv = deleted.get(name);
  assert.ok(rv !== undefined, `${name} was deleted (deleted: ${[...deleted.keys()].join(', ')})`);
  return rv;
}

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
        const from = await currentRevision(configMaps);
        await ok(['delete', o.resource, `${p}-fg`, '-n', ns, '--cascade=foreground', '--timeout=45s']);
        assert.equal(await exists(o.resource, `${p}-fg`), false);
        // Blocking dependents (and theirs) went before the owner could.
        assert.equal(await exists('configmap', `${p}-fg-child`), false);
        assert.equal(await exists('configmap', `${p}-fg-grandchild`), false);
        const deleted = await deletedAt(from, ...new Set([configMaps, o.path]));
        const ownerGone = revisionOf(deleted, `${p}-fg`);
        assert.ok(revisionOf(deleted, `${p}-fg-child`) < ownerGone, 'the blocking child was deleted before its owner');
        assert.ok(revisionOf(deleted, `${p}-fg-grandchild`) < ownerGone, "the child's own blocking dependent was deleted before the owner");
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
      const { rs, pods } = await ready('web-fg');
      const from = await currentRevision(`/apis/apps/v1/namespaces/${ns}/deployments`);
      await ok(['delete', 'deployment', 'web-fg', '-n', ns, '--cascade=foreground', '--timeout=45s']);
      assert.deepEqual(await list('replicasets', 'web-fg'), []);
      assert.deepEqual(await list('pods', 'web-fg'), []);
      const deleted = await deletedAt(from, `/api/v1/namespaces/${ns}/pods`, `/apis/apps/v1/namespaces/${ns}/replicasets`, `/apis/apps/v1/namespaces/${ns}/deployments`);
      const rsGone = revisionOf(deleted, rs.metadata.name);
      for (const pod of pods) assert.ok(revisionOf(deleted, pod.metadata.name) < rsGone, `pod ${pod.metadata.name} was deleted before the ReplicaSet`);
      assert.ok(rsGone < revisionOf(deleted, 'web-fg'), 'the ReplicaSet was deleted before the Deployment');
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
