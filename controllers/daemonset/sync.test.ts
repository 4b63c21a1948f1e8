import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import { type DaemonSet, defaultDaemonSet } from '../../lib/api/apps/daemonset.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { ControllerRevisions, DaemonSets, Pods } from '../../lib/client/index.js';
import { Backoff } from '../../lib/controller/backoff.js';
import { listerOf } from '../../lib/controller/factory.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { newControllerRevision } from '../common/history.js';
import { DaemonSetEventHandlers } from './handlers.js';
import { DaemonSetSyncer } from './sync.js';
import { daemonSetPatch } from './util.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

interface DSOpts {
  image?: string;
  generation?: number;
  templateGeneration?: number;
  strategy?: DaemonSet['spec']['updateStrategy'];
  nodeSelector?: Record<string, string>;
  status?: DaemonSet['status'];
  revisionHistoryLimit?: number;
}

function daemonSet(o: DSOpts = {}): DaemonSet {
  const ds: DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'agent',
      namespace: 'ns',
      uid: 'ds-uid',
      resourceVersion: '10',
      generation: o.generation ?? 1,
      annotations: { 'deprecated.daemonset.template.generation': String(o.templateGeneration ?? 1) },
    },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: o.strategy,
      revisionHistoryLimit: o.revisionHistoryLimit,
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: { containers: [{ name: 'c', image: o.image ?? 'busybox:1' }], ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}) },
      },
    },
    status: o.status ?? { observedGeneration: o.generation ?? 1 },
  };
  defaultDaemonSet(ds);
  return ds;
}

function node(name: string, o: { labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string }[] } = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: '1', labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } }, spec: { taints: o.taints } };
}

/** revisionOf is the ControllerRevision the controller makes for ds (number n). */
function revisionOf(ds: DaemonSet, n: number): ControllerRevision {
  const rev = newControllerRevision(ds, { apiVersion: 'apps/v1', kind: 'DaemonSet' }, ds.spec.template?.metadata?.labels, daemonSetPatch(ds), n);
  rev.metadata.annotations = { ...ds.metadata.annotations };
  rev.metadata.resourceVersion = '3';
  rev.metadata.uid = `rev-${n}`;
  return rev;
}

const hashOf = (r: ControllerRevision) => r.metadata.labels!['controller-revision-hash']!;

function pod(name: string, nodeName: string, hash: string, o: { ready?: boolean; phase?: string; created?: number; generation?: number } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '5',
      creationTimestamp: ago(o.created ?? 100),
      labels: { app: 'agent', 'controller-revision-hash': hash, 'pod-template-generation': String(o.generation ?? 1) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox:1' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(60) }],
    },
  };
}

interface Fixture {
  client: FakeClient;
  recorder: FakeRecorder;
  expectations: UIDTrackingControllerExpectations;
  syncer: DaemonSetSyncer;
  requeued: Array<[string, number]>;
}

function fixture(ds: DaemonSet, nodes: Node[], pods: Pod[], revisions: ControllerRevision[], expectations = new UIDTrackingControllerExpectations(() => now.getTime())): Fixture {
  const client = new FakeClient();
  client.add(DaemonSets, ds);
  for (const p of pods) client.add(Pods, p);
  for (const r of revisions) client.add(ControllerRevisions, r);
  const recorder = new FakeRecorder();
  const requeued: Array<[string, number]> = [];
  const syncer = new DaemonSetSyncer({
    client,
    daemonSets: listerOf([ds]),
    nodes: listerOf(nodes),
    pods: listerOf(pods),
    revisions: listerOf(revisions),
    recorder,
    expectations,
    failedPodsBackoff: new Backoff(1000, 15 * 60_000, () => now.getTime()),
    enqueueAfter: (key, ms) => requeued.push([key, ms]),
    now: () => now,
  });
  return { client, recorder, expectations, syncer, requeued };
}

const summary = (actions: Action[]) => actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}`);
const creates = (f: Fixture) => f.client.writes().filter((a) => a.verb === 'create' && a.resource === 'pods').map((a) => a.object as Pod);
const lastStatus = (f: Fixture) => (f.client.writes().filter((a) => a.subresource === 'status').at(-1)?.object as DaemonSet | undefined)?.status;
const threeNodes = () => [node('n1'), node('n2'), node('n3')];

describe('syncDaemonSet', () => {
  it('creates the first revision and one pod per node, bound by metadata.name affinity, with the daemon tolerations', async () => {
    const ds = daemonSet();
    const rev = revisionOf(ds, 1);
    const f = fixture(ds, threeNodes(), [], []);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), [`create controllerrevisions ${rev.metadata.name}`, 'create pods agent-', 'create pods agent-', 'create pods agent-', 'update daemonsets/status agent']);
    const created = f.client.writes()[0]!.object as ControllerRevision;
    assert.equal(created.metadata.name, rev.metadata.name);
    assert.equal(created.revision, 1);
    assert.deepEqual(created.data, daemonSetPatch(ds));
    assert.deepEqual((created.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
    assert.deepEqual(created.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }]);

    const pods = creates(f);
    assert.deepEqual(
      pods.map((p) => p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0]),
      ['n1', 'n2', 'n3'],
    );
    const p = pods[0]!;
    assert.equal(p.spec.nodeName, undefined, 'the scheduler binds the pod');
    assert.deepEqual(p.metadata.labels, { app: 'agent', 'pod-template-generation': '1', 'controller-revision-hash': hashOf(rev) });
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(p.spec.tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    assert.deepEqual(lastStatus(f), {
      observedGeneration: 1,
      desiredNumberScheduled: 3,
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      updatedNumberScheduled: 0,
      numberAvailable: 0,
      numberUnavailable: 3,
    });
    assert.deepEqual(f.recorder.events.filter((e) => e.startsWith('Normal SuccessfulCreate')).length, 3);
  });

  it('writes nothing when every node runs its ready, current pod', async () => {
    const ds = daemonSet();
    const rev = revisionOf(ds, 1);
    const pods = ['n1', 'n2', 'n3'].map((n) => pod(`p-${n}`, n, hashOf(rev)));
    ds.status = { observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberUnavailable: 0 };
    const f = fixture(ds, threeNodes(), pods, [rev]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), []);
  });

  it('skips a tainted node and one the nodeSelector does not match, and deletes the pod of a node it no longer matches', async () => {
    const ds = daemonSet({ nodeSelector: { role: 'edge' } });
    const rev = revisionOf(ds, 1);
    const nodes = [
      node('n1', { labels: { role: 'edge' } }),
      node('n2', { labels: { role: 'edge' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }),
      node('n3'),
      // Cordoned: the daemon pods tolerate that.
      { ...node('n4', { labels: { role: 'edge' } }), spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } },
    ];
    const f = fixture(ds, nodes, [pod('old-n3', 'n3', hashOf(rev))], [rev]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['create pods agent-', 'create pods agent-', 'delete pods old-n3', 'update daemonsets/status agent']);
    assert.deepEqual(
      creates(f).map((p) => p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0]),
      ['n1', 'n4'],
    );
    assert.equal(lastStatus(f)?.desiredNumberScheduled, 2);
    assert.equal(lastStatus(f)?.numberMisscheduled, 1);
  });

  it('keeps a running pod on a node tainted NoSchedule, deletes it on NoExecute', async () => {
    const ds = daemonSet();
    const rev = revisionOf(ds, 1);
    const nodes = [node('n1', { taints: [{ key: 'k', effect: 'NoSchedule' }] }), node('n2', { taints: [{ key: 'k', effect: 'NoExecute' }] })];
    const f = fixture(ds, nodes, [pod('p1', 'n1', hashOf(rev)), pod('p2', 'n2', hashOf(rev))], [rev]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['delete pods p2', 'update daemonsets/status agent']);
  });

  it('deletes all but the oldest pod of a node', async () => {
    const ds = daemonSet();
    const rev = revisionOf(ds, 1);
    const pods = [pod('young', 'n1', hashOf(rev), { created: 10 }), pod('old', 'n1', hashOf(rev), { created: 500 })];
    const f = fixture(ds, [node('n1')], pods, [rev]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['delete pods young', 'update daemonsets/status agent']);
  });

  it('deletes a failed pod with an event, then waits out the back-off before deleting the next', async () => {
    const ds = daemonSet();
    const rev = revisionOf(ds, 1);
    const f = fixture(ds, [node('n1')], [pod('failed', 'n1', hashOf(rev), { phase: 'Failed' })], [rev]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['delete pods failed', 'update daemonsets/status agent']);
    assert.ok(f.recorder.events.includes('Warning FailedDaemonPod Found failed daemon pod ns/failed on node n1, will try to kill it'));
    // The replacement failed too: within the back-off it is left alone and the sync comes back later.
    const again = fixture(ds, [node('n1')], [pod('failed2', 'n1', hashOf(rev), { phase: 'Failed' })], [rev]);
    (again.syncer as unknown as { opts: { failedPodsBackoff: Backoff } }).opts.failedPodsBackoff = (f.syncer as unknown as { opts: { failedPodsBackoff: Backoff } }).opts.failedPodsBackoff;
    await again.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(again.client.writes()), ['update daemonsets/status agent']);
    assert.deepEqual(again.requeued, [['ns/agent', 1000]]);
  });

  it('rolling update without surge deletes one old available pod at a time (maxUnavailable 1)', async () => {
    const ds = daemonSet({ image: 'busybox:2', generation: 2, templateGeneration: 2 });
    const v1 = revisionOf(daemonSet(), 1);
    const v2 = revisionOf(ds, 2);
    const pods = ['n1', 'n2', 'n3'].map((n) => pod(`old-${n}`, n, hashOf(v1)));
    const f = fixture(ds, threeNodes(), pods, [v1, v2]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['delete pods old-n1', 'update daemonsets/status agent']);
    assert.equal(lastStatus(f)?.updatedNumberScheduled, 0);
    assert.equal(lastStatus(f)?.observedGeneration, 2);
  });

  it('rolling update waits while a new pod is unavailable, then moves to the next node', async () => {
    const ds = daemonSet({ image: 'busybox:2', generation: 2, templateGeneration: 2 });
    const v1 = revisionOf(daemonSet(), 1);
    const v2 = revisionOf(ds, 2);
    const waiting = fixture(ds, threeNodes(), [pod('new-n1', 'n1', hashOf(v2), { ready: false, generation: 2 }), pod('old-n2', 'n2', hashOf(v1)), pod('old-n3', 'n3', hashOf(v1))], [v1, v2]);
    await waiting.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(waiting.client.writes()), ['update daemonsets/status agent']);
    const next = fixture(ds, threeNodes(), [pod('new-n1', 'n1', hashOf(v2), { generation: 2 }), pod('old-n2', 'n2', hashOf(v1)), pod('old-n3', 'n3', hashOf(v1))], [v1, v2]);
    await next.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(next.client.writes()), ['delete pods old-n2', 'update daemonsets/status agent']);
  });

  it('rolling update with maxSurge creates the new pod beside the old one, and deletes the old one once the new is available', async () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    const ds = daemonSet({ image: 'busybox:2', generation: 2, templateGeneration: 2, strategy });
    const v1 = revisionOf(daemonSet({ strategy }), 1);
    const v2 = revisionOf(ds, 2);
    const start = fixture(ds, threeNodes(), ['n1', 'n2', 'n3'].map((n) => pod(`old-${n}`, n, hashOf(v1))), [v1, v2]);
    await start.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(start.client.writes()), ['create pods agent-', 'update daemonsets/status agent']);
    assert.equal(creates(start)[0]!.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0], 'n1');
    const swap = fixture(ds, threeNodes(), [pod('old-n1', 'n1', hashOf(v1), { created: 500 }), pod('new-n1', 'n1', hashOf(v2), { generation: 2 }), pod('old-n2', 'n2', hashOf(v1)), pod('old-n3', 'n3', hashOf(v1))], [v1, v2]);
    await swap.syncer.syncDaemonSet('ns/agent');
    // manage keeps both (the new one is available: the old one goes), then the next surge starts.
    assert.deepEqual(summary(swap.client.writes()), ['delete pods old-n1', 'update daemonsets/status agent']);
  });

  it('OnDelete never replaces a pod by itself', async () => {
    const ds = daemonSet({ image: 'busybox:2', generation: 2, templateGeneration: 2, strategy: { type: 'OnDelete' } });
    const v1 = revisionOf(daemonSet({ strategy: { type: 'OnDelete' } }), 1);
    const v2 = revisionOf(ds, 2);
    const f = fixture(ds, threeNodes(), ['n1', 'n2', 'n3'].map((n) => pod(`old-${n}`, n, hashOf(v1))), [v1, v2]);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['update daemonsets/status agent']);
    assert.equal(lastStatus(f)?.updatedNumberScheduled, 0);
  });

  it('an old template coming back renumbers its revision, and history beyond revisionHistoryLimit goes (never one a pod still uses)', async () => {
    const ds = daemonSet({ generation: 3, templateGeneration: 3, revisionHistoryLimit: 1 });
    const v1 = revisionOf(ds, 1);
    const v2 = revisionOf(daemonSet({ image: 'busybox:2' }), 2);
    const v3 = revisionOf(daemonSet({ image: 'busybox:3' }), 3);
    v3.metadata.creationTimestamp = ago(10);
    // A pod still runs revision 3: of the two old revisions only 2 may go, which meets the limit.
    const pods = [pod('p1', 'n1', hashOf(v1)), pod('p2', 'n2', hashOf(v3))];
    const f = fixture(ds, [node('n1'), node('n2')], pods, [v1, v2, v3]);
    await f.syncer.syncDaemonSet('ns/agent');
    const w = summary(f.client.writes());
    assert.deepEqual(w.slice(0, 1), [`update controllerrevisions ${v1.metadata.name}`]);
    assert.equal((f.client.writes()[0]!.object as ControllerRevision).revision, 4);
    assert.ok(w.includes(`delete controllerrevisions ${v2.metadata.name}`), w.join('\n'));
    assert.ok(!w.includes(`delete controllerrevisions ${v3.metadata.name}`), w.join('\n'));
  });

  it('while expectations are pending it writes only status, without observedGeneration', async () => {
    const ds = daemonSet({ generation: 2 });
    ds.status = { observedGeneration: 1 };
    const rev = revisionOf(ds, 1);
    const expectations = new UIDTrackingControllerExpectations(() => now.getTime());
    expectations.setExpectations('ns/agent', 2, []);
    const f = fixture(ds, threeNodes(), [pod('p1', 'n1', hashOf(rev))], [rev], expectations);
    await f.syncer.syncDaemonSet('ns/agent');
    assert.deepEqual(summary(f.client.writes()), ['update daemonsets/status agent']);
    assert.equal(lastStatus(f)?.observedGeneration, 1);
    assert.equal(lastStatus(f)?.currentNumberScheduled, 1);
  });

  it('a DaemonSet that is gone forgets its expectations', async () => {
    const f = fixture(daemonSet(), [], [], []);
    f.expectations.setExpectations('ns/other', 3, []);
    await f.syncer.syncDaemonSet('ns/other');
    assert.equal(f.expectations.getExpectations('ns/other'), undefined);
    assert.deepEqual(f.client.writes(), []);
  });
});

describe('DaemonSetEventHandlers', () => {
  it('observe their pods\' creations and deletions once, and wake DaemonSets for nodes they should run on', () => {
    const ds = daemonSet({ nodeSelector: { role: 'edge' } });
    const expectations = new UIDTrackingControllerExpectations(() => now.getTime());
    const keys: string[] = [];
    const h = new DaemonSetEventHandlers(listerOf([ds]), expectations, { enqueueKey: (k) => keys.push(k), enqueueAfter: () => {} });
    expectations.setExpectations('ns/agent', 1, ['ns/gone']);
    h.addPod(pod('new', 'n1', 'h'));
    const gone = pod('gone', 'n1', 'h');
    h.updatePod(gone, { ...gone, metadata: { ...gone.metadata, resourceVersion: '6', deletionTimestamp: ago(0) } });
    h.deletePod(gone);
    assert.ok(expectations.satisfiedExpectations('ns/agent'));
    assert.deepEqual(keys, ['ns/agent', 'ns/agent', 'ns/agent']);
    keys.length = 0;
    h.addNode(node('plain'));
    assert.deepEqual(keys, []);
    h.addNode(node('edge', { labels: { role: 'edge' } }));
    assert.deepEqual(keys, ['ns/agent']);
    h.updateNode(node('plain'), { ...node('plain', { labels: { role: 'edge' } }), metadata: { ...node('plain', { labels: { role: 'edge' } }).metadata, resourceVersion: '2' } });
    assert.deepEqual(keys, ['ns/agent', 'ns/agent']);
  });
});
