import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ReplicationController } from '../../lib/api/core/replicationcontroller.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import type { PodDisruptionBudget } from '../../lib/api/policy/poddisruptionbudget.js';
import type { ResourceType } from '../../lib/client/client.js';
import { PodDisruptionBudgets, Pods } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { staleDisruptionCleanAt, syncStalePodDisruption } from './stale.js';
import { DisruptionSyncer } from './sync.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function pdb(spec: PodDisruptionBudget['spec'], status: PodDisruptionBudget['status'] = {}, generation = 1): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'ns', uid: 'pdb-uid', resourceVersion: '7', generation }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, status };
}

const ref = (kind: string, name: string, uid: string, apiVersion = 'apps/v1'): OwnerReference => ({ apiVersion, kind, name, uid, controller: true });

function pod(name: string, o: { ready?: boolean; owner?: OwnerReference | null; deleting?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels: { app: 'web' },
      ownerReferences: o.owner === null ? undefined : [o.owner ?? ref('ReplicaSet', 'web-rs', 'rs-uid')],
      deletionTimestamp: o.deleting ? ago(1) : undefined,
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

const deploymentRS: ReplicaSet = { metadata: { name: 'web-rs', namespace: 'ns', uid: 'rs-uid', ownerReferences: [ref('Deployment', 'web', 'd-uid')] }, spec: { replicas: 3 } };
const deployment: Deployment = { metadata: { name: 'web', namespace: 'ns', uid: 'd-uid' }, spec: { replicas: 4 } };

function fixture(budget: PodDisruptionBudget, pods: Pod[], o: { replicaSets?: ReplicaSet[]; rcs?: ReplicationController[]; client?: FakeClient } = {}) {
  const client = o.client ?? new FakeClient();
  client.add(PodDisruptionBudgets, budget);
  const recorder = new FakeRecorder();
  const syncer = new DisruptionSyncer({
    client,
    pdbs: listerOf([budget]),
    pods: listerOf(pods),
    replicaSets: listerOf(o.replicaSets ?? [deploymentRS]),
    deployments: listerOf([deployment]),
    replicationControllers: listerOf(o.rcs ?? []),
    recorder,
    now: () => now,
  });
  return { client, recorder, syncer };
}

const summary = (actions: Action[]) => actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}`);
const written = (client: FakeClient) => (client.writes()[0]?.object as PodDisruptionBudget).status;

describe('disruption controller sync', () => {
  it('an integer minAvailable counts the pods found and allows the surplus', async () => {
    const f = fixture(pdb({ minAvailable: 2 }), [pod('a'), pod('b'), pod('c'), pod('d', { ready: false })]);
    assert.equal(await f.syncer.sync('ns/web'), undefined);
    assert.deepEqual(summary(f.client.actions), ['update poddisruptionbudgets/status web']);
    assert.deepEqual(written(f.client), {
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 4,
      disruptionsAllowed: 1,
      observedGeneration: 1,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: '2024-05-01T12:00:00Z' }],
    });
  });

  it('writes nothing when the status is already current', async () => {
    const current = {
      currentHealthy: 2,
      desiredHealthy: 2,
      expectedPods: 2,
      disruptionsAllowed: 0,
      observedGeneration: 1,
      conditions: [{ type: 'DisruptionAllowed', status: 'False' as const, reason: 'InsufficientPods', message: '', observedGeneration: 1, lastTransitionTime: ago(60) }],
    };
    const f = fixture(pdb({ minAvailable: 2 }, current), [pod('a'), pod('b')]);
    await f.syncer.sync('ns/web');
    assert.deepEqual(f.client.actions, []);
  });

  it('maxUnavailable takes the expected count from the Deployment behind the pods\' ReplicaSet', async () => {
    const f = fixture(pdb({ maxUnavailable: '50%' }), [pod('a'), pod('b'), pod('c')]);
    await f.syncer.sync('ns/web');
    const s = written(f.client)!;
    // 4 expected (the Deployment's replicas), 50% of 4 rounded up is 2 unavailable: 2 must be healthy.
    assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [4, 2, 3, 1]);
  });

  it('a percentage minAvailable reads an RC\'s replicas, and any other controller through /scale', async () => {
    const rc: ReplicationController = { metadata: { name: 'legacy', namespace: 'ns', uid: 'rc-uid' }, spec: { replicas: 2 } };
    const client = new FakeClient();
    const StatefulSets: ResourceType = { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true };
    client.paths.set('/apis/apps/v1', { groupVersion: 'apps/v1', resources: [{ name: 'statefulsets', namespaced: true, kind: 'StatefulSet', verbs: [] }, { name: 'statefulsets/scale', namespaced: true, kind: 'Scale', verbs: [] }] });
    client.add(StatefulSets, { metadata: { name: 'db', namespace: 'ns', uid: 'ss-uid' }, spec: { replicas: 3 } });
    const pods = [pod('a', { owner: ref('ReplicationController', 'legacy', 'rc-uid', 'v1') }), pod('db-0', { owner: ref('StatefulSet', 'db', 'ss-uid') })];
    const f = fixture(pdb({ minAvailable: '60%' }), pods, { rcs: [rc], client });
    await f.syncer.sync('ns/web');
    assert.deepEqual(summary(f.client.actions), ['get statefulsets/scale db', 'update poddisruptionbudgets/status web']);
    const s = written(f.client)!;
    // 2 + 3 = 5 expected; 60% of 5 is 3.
    assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [5, 3, 2, 0]);
    assert.equal(s.conditions?.[0]?.reason, 'InsufficientPods');
  });

  it('a pod without a controller is reported as unmanaged, and a controller nobody serves fails safe', async () => {
    const f = fixture(pdb({ maxUnavailable: 1 }), [pod('orphan', { owner: null })]);
    await f.syncer.sync('ns/web');
    assert.match(f.recorder.events[0]!, /^Warning UnmanagedPods Pods selected by this PodDisruptionBudget \(selector: app=web\) were found to be unmanaged\./);
    assert.deepEqual([written(f.client)?.expectedPods, written(f.client)?.disruptionsAllowed], [0, 0]);

    const g = fixture(pdb({ maxUnavailable: 1 }, { disruptionsAllowed: 2, observedGeneration: 1 }), [pod('x', { owner: ref('Widget', 'w', 'w-uid', 'example.com/v1') })]);
    await g.syncer.sync('ns/web');
    assert.deepEqual(g.recorder.events, ['Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: no matches for kind "Widget" in version "example.com/v1"']);
    assert.deepEqual(written(g.client), {
      disruptionsAllowed: 0,
      observedGeneration: 1,
      conditions: [{ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'no matches for kind "Widget" in version "example.com/v1"', observedGeneration: 1, lastTransitionTime: '2024-05-01T12:00:00Z' }],
    });
  });

  it('keeps recent disruptedPods out of currentHealthy, drops expired or deleting ones, and rechecks when the next expires', async () => {
    const disrupted = { a: ago(30), b: ago(200), c: ago(10) };
    const f = fixture(pdb({ minAvailable: 1 }, { disruptedPods: disrupted }), [pod('a'), pod('b'), pod('c', { deleting: true }), pod('d')]);
    const r = await f.syncer.sync('ns/web');
    const s = written(f.client)!;
    // a is still expected to go; b's two minutes passed (healthy again, NotDeleted event); c is being deleted.
    assert.deepEqual(s.disruptedPods, { a: ago(30) });
    assert.deepEqual([s.currentHealthy, s.expectedPods, s.disruptionsAllowed], [2, 4, 1]);
    assert.deepEqual(f.recorder.events, ["Warning NotDeleted Pod was expected by PDB ns/web to be deleted but it wasn't"]);
    assert.deepEqual(r, { requeueAfter: 90_000 });
  });

  it('no pods: a NoPods event and nothing allowed', async () => {
    const f = fixture(pdb({ minAvailable: 0 }), []);
    await f.syncer.sync('ns/web');
    assert.deepEqual(f.recorder.events, ['Normal NoPods No matching pods found']);
    assert.equal(written(f.client)?.disruptionsAllowed, 0);
  });
});

describe('stale DisruptionTarget conditions', () => {
  const marked = (o: { since: number; reason?: string; deleting?: boolean; phase?: string }): Pod => {
    const p = pod('a', { deleting: o.deleting });
    p.metadata.resourceVersion = '42';
    p.status = { phase: o.phase ?? 'Running', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: o.reason ?? 'EvictionByEvictionAPI', lastTransitionTime: ago(o.since) }] };
    return p;
  };

  it('resets the condition to False once it stood two minutes on a pod still not deleted', async () => {
    const client = new FakeClient();
    const p = marked({ since: 121 });
    client.add(Pods, p);
    assert.equal(await syncStalePodDisruption('ns/a', { client, pods: listerOf([p]), now: () => now }), undefined);
    assert.deepEqual(client.actions.map((a) => [a.verb, a.resource, a.subresource, a.patchType, a.patch]), [
      ['patch', 'pods', 'status', 'strategic', { metadata: { resourceVersion: '42' }, status: { conditions: [{ type: 'DisruptionTarget', status: 'False', lastTransitionTime: '2024-05-01T12:00:00Z' }] } }],
    ]);
  });

  it('looks again when it will be stale, and leaves deleting, finished or kubelet-marked pods alone', async () => {
    const client = new FakeClient();
    const young = marked({ since: 30 });
    assert.deepEqual(await syncStalePodDisruption('ns/a', { client, pods: listerOf([young]), now: () => now }), { requeueAfter: 90_000 });
    for (const p of [marked({ since: 500, deleting: true }), marked({ since: 500, phase: 'Succeeded' }), marked({ since: 500, reason: 'TerminationByKubelet' })]) {
      assert.equal(staleDisruptionCleanAt(p), undefined);
      await syncStalePodDisruption('ns/a', { client, pods: listerOf([p]), now: () => now });
    }
    assert.deepEqual(client.actions, []);
  });
});
