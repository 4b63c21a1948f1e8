import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatefulSet } from '../../lib/api/apps/statefulset.js';
import { statefulSets } from '../../lib/api/apps/statefulset.js';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { ApiError, ControllerRevisions, PersistentVolumeClaims, Pods, StatefulSets } from '../../lib/client/index.js';
import { listerOf } from '../../lib/controller/factory.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { StatefulSetSyncer } from './sync.js';
import { type PersistentVolumeClaim, newRevision, newVersionedStatefulSetPod } from './utils.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

interface SetOpts {
  replicas?: number;
  parallel?: boolean;
  partition?: number;
  onDelete?: boolean;
  image?: string;
  claims?: boolean;
  whenDeleted?: string;
  whenScaled?: string;
  status?: StatefulSet['status'];
  start?: number;
}

function statefulSet(o: SetOpts = {}): StatefulSet {
  const s: StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'ns', uid: 'set-uid', resourceVersion: '10', generation: 2 },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: 'nginx',
      podManagementPolicy: o.parallel ? 'Parallel' : 'OrderedReady',
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: o.image ?? 'nginx:1' }] } },
      volumeClaimTemplates: o.claims === false ? undefined : [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      persistentVolumeClaimRetentionPolicy: { whenDeleted: o.whenDeleted ?? 'Retain', whenScaled: o.whenScaled ?? 'Retain' },
      ordinals: o.start === undefined ? undefined : { start: o.start },
    },
    status: o.status,
  };
  statefulSets.defaults!(s);
  return s;
}

/** revisionOf is the revision the controller makes for set's template (number n). */
function revisionOf(set: StatefulSet, n = 1): ControllerRevision {
  const r = newRevision(set, n, 0);
  r.metadata.uid = `rev-uid-${n}`;
  r.metadata.creationTimestamp = ago(1000 - n);
  return r;
}

interface PodState {
  phase?: string;
  ready?: boolean;
  deleting?: boolean;
}

/** podAt is the pod the controller would make for ordinal at revision rev, as the apiserver would hold it. */
function podAt(set: StatefulSet, rev: ControllerRevision, ordinal: number, st: PodState = { phase: 'Running', ready: true }): Pod {
  const name = rev.metadata.name!;
  const pod = newVersionedStatefulSetPod(set, set, name, name, ordinal);
  // Built from the revision's template: a set whose template moved on still has pods of the old one.
  const tmpl = (rev.data as { spec: { template: { spec: unknown } } }).spec.template.spec;
  pod.spec.containers = structuredClone((tmpl as Pod['spec']).containers);
  pod.metadata.namespace = 'ns';
  pod.metadata.uid = `uid-${pod.metadata.name}`;
  pod.metadata.resourceVersion = '5';
  pod.metadata.creationTimestamp = ago(500);
  if (st.deleting) pod.metadata.deletionTimestamp = ago(1);
  pod.status = {
    phase: st.phase ?? 'Running',
    conditions: st.ready === undefined ? undefined : [{ type: 'Ready', status: st.ready ? 'True' : 'False', lastTransitionTime: ago(60) }],
  };
  return pod;
}

function claimFor(set: StatefulSet, ordinal: number, owners?: PersistentVolumeClaim['metadata']['ownerReferences']): PersistentVolumeClaim {
  return { metadata: { name: `www-web-${ordinal}`, namespace: 'ns', uid: `claim-uid-${ordinal}`, resourceVersion: '3', labels: { app: 'nginx' }, ownerReferences: owners }, spec: {} };
}

interface Fixture {
  client: FakeClient;
  recorder: FakeRecorder;
  syncer: StatefulSetSyncer;
}

function fixture(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], claims: PersistentVolumeClaim[] = [], client = new FakeClient()): Fixture {
  client.add(StatefulSets, set);
  for (const p of pods) client.add(Pods, p);
  for (const r of revisions) client.add(ControllerRevisions, r);
  for (const c of claims) client.add(PersistentVolumeClaims, c);
  const recorder = new FakeRecorder();
  const syncer = new StatefulSetSyncer({
    client,
    statefulSets: listerOf([set]),
    pods: listerOf(pods),
    revisions: listerOf(revisions),
    claims: listerOf(claims),
    recorder,
    now: () => now,
  });
  return { client, recorder, syncer };
}

const summary = (actions: Action[]) => actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}`);
const lastStatus = (client: FakeClient) => (client.writes().filter((a) => a.subresource === 'status').at(-1)?.object as StatefulSet | undefined)?.status;

describe('syncStatefulSet', () => {
  it('starts a new set: a revision, the claim of web-0, then web-0 alone (OrderedReady), then status', async () => {
    const set = statefulSet();
    const rev = revisionOf(set);
    const f = fixture(set, [], []);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), [
      `create controllerrevisions ${rev.metadata.name}`,
      'create persistentvolumeclaims www-web-0',
      'create pods web-0',
      'update statefulsets/status web',
    ]);
    const pod = f.client.stored<Pod>(Pods, 'ns', 'web-0')!;
    assert.equal(pod.spec.hostname, 'web-0');
    assert.equal(pod.spec.subdomain, 'nginx');
    assert.deepEqual(pod.metadata.labels, {
      app: 'nginx',
      'statefulset.kubernetes.io/pod-name': 'web-0',
      'apps.kubernetes.io/pod-index': '0',
      'controller-revision-hash': rev.metadata.name,
    });
    assert.deepEqual((pod.spec as { volumes?: unknown }).volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }]);
    assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
    const claim = f.client.stored<PersistentVolumeClaim>(PersistentVolumeClaims, 'ns', 'www-web-0')!;
    assert.deepEqual(claim.metadata.labels, { app: 'nginx' });
    // Retain/Retain: the claim outlives everything, so nothing owns it.
    assert.equal(claim.metadata.ownerReferences, undefined);
    assert.deepEqual(lastStatus(f.client), {
      observedGeneration: 2,
      currentRevision: rev.metadata.name,
      updateRevision: rev.metadata.name,
      collisionCount: 0,
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
    });
    assert.deepEqual(
      f.recorder.events,
      ['Normal SuccessfulCreate create Claim www-web-0 Pod web-0 in StatefulSet web success', 'Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful'],
    );
  });

  it('OrderedReady waits for web-0 to be Running and Ready before creating web-1', async () => {
    const set = statefulSet();
    const rev = revisionOf(set);
    const pending = fixture(set, [podAt(set, rev, 0, { phase: 'Pending' })], [rev], [claimFor(set, 0)]);
    await pending.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(pending.client.writes()), ['update statefulsets/status web']);

    const ready = fixture(set, [podAt(set, rev, 0)], [rev], [claimFor(set, 0)]);
    await ready.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(ready.client.writes()), ['create persistentvolumeclaims www-web-1', 'create pods web-1', 'update statefulsets/status web']);
  });

  it('Parallel creates every missing pod in one pass', async () => {
    const set = statefulSet({ parallel: true, claims: false });
    const rev = revisionOf(set);
    const f = fixture(set, [], [rev]);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()).sort(), ['create pods web-0', 'create pods web-1', 'create pods web-2', 'update statefulsets/status web']);
  });

  it('ordinals.start numbers the pods from start', async () => {
    const set = statefulSet({ parallel: true, claims: false, start: 5, replicas: 2 });
    const rev = revisionOf(set);
    const f = fixture(set, [], [rev]);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()).sort(), ['create pods web-5', 'create pods web-6', 'update statefulsets/status web']);
  });

  it('scales down from the highest ordinal, one pod at a time', async () => {
    const set = statefulSet({ replicas: 1, status: { replicas: 3 } });
    const rev = revisionOf(set);
    const pods = [0, 1, 2].map((i) => podAt(set, rev, i));
    const f = fixture(set, pods, [rev], [0, 1, 2].map((i) => claimFor(set, i)));
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), ['delete pods web-2', 'update statefulsets/status web']);
    assert.deepEqual(f.recorder.events, ['Normal SuccessfulDelete delete Pod web-2 in StatefulSet web successful']);
    // While web-2 terminates, web-1 waits.
    const g = fixture(set, [pods[0]!, pods[1]!, podAt(set, rev, 2, { phase: 'Running', ready: true, deleting: true })], [rev]);
    await g.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(g.client.writes()), ['update statefulsets/status web']);
  });

  it('whenScaled Delete hands the claim of a scaled-away pod to the pod before deleting it', async () => {
    const set = statefulSet({ replicas: 1, whenScaled: 'Delete' });
    const rev = revisionOf(set);
    const pods = [0, 1].map((i) => podAt(set, rev, i));
    const f = fixture(set, pods, [rev], [claimFor(set, 0), claimFor(set, 1)]);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), ['update persistentvolumeclaims www-web-1', 'delete pods web-1', 'update statefulsets/status web']);
    const claim = f.client.stored<PersistentVolumeClaim>(PersistentVolumeClaims, 'ns', 'www-web-1')!;
    assert.deepEqual(claim.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: 'uid-web-1' }]);
  });

  it('whenDeleted Delete makes the set an owner of each claim it creates', async () => {
    const set = statefulSet({ whenDeleted: 'Delete' });
    const f = fixture(set, [], [revisionOf(set)]);
    await f.syncer.syncStatefulSet('ns/web');
    const claim = f.client.stored<PersistentVolumeClaim>(PersistentVolumeClaims, 'ns', 'www-web-0')!;
    assert.deepEqual(claim.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' }]);
    // A claim made under Retain gets the reference when the policy changes.
    const g = fixture(set, [podAt(set, revisionOf(set), 0)], [revisionOf(set)], [claimFor(set, 0)]);
    await g.syncer.syncStatefulSet('ns/web');
    assert.equal(summary(g.client.writes())[0], 'update persistentvolumeclaims www-web-0');
  });

  it('rolls from the highest ordinal down to the partition, one pod at a time', async () => {
    const old = statefulSet({ partition: 1 });
    const oldRev = revisionOf(old, 1);
    const set = statefulSet({ partition: 1, image: 'nginx:2', status: { currentRevision: oldRev.metadata.name, replicas: 3 } });
    const newRev = revisionOf(set, 2);
    const claims = [0, 1, 2].map((i) => claimFor(set, i));
    // A new template: a new revision is made and web-2 goes first.
    const f = fixture(set, [0, 1, 2].map((i) => podAt(old, oldRev, i)), [oldRev], claims);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), [`create controllerrevisions ${newRev.metadata.name}`, 'delete pods web-2', 'update statefulsets/status web']);
    assert.equal(lastStatus(f.client)?.updateRevision, newRev.metadata.name);
    assert.equal(lastStatus(f.client)?.currentRevision, oldRev.metadata.name);
    // web-2 was re-created at the new revision: web-1 is next; web-0 (below the partition) stays.
    const g = fixture(set, [podAt(old, oldRev, 0), podAt(old, oldRev, 1), podAt(set, newRev, 2)], [oldRev, newRev], claims);
    await g.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(g.client.writes()), ['delete pods web-1', 'update statefulsets/status web']);
    const h = fixture(set, [podAt(old, oldRev, 0), podAt(set, newRev, 1), podAt(set, newRev, 2)], [oldRev, newRev], claims);
    await h.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(h.client.writes()), ['update statefulsets/status web']);
    assert.equal(lastStatus(h.client)?.updatedReplicas, 2);
    assert.equal(lastStatus(h.client)?.currentReplicas, 1);
    // A missing pod below the partition is made at the current revision.
    const i = fixture(set, [podAt(set, newRev, 1), podAt(set, newRev, 2)], [oldRev, newRev], claims);
    await i.syncer.syncStatefulSet('ns/web');
    const made = i.client.stored<Pod>(Pods, 'ns', 'web-0')!;
    assert.equal(made.metadata.labels?.['controller-revision-hash'], oldRev.metadata.name);
    assert.equal(made.spec.containers[0]!.image, 'nginx:1');
  });

  it('a rolling update waits for the re-created pod to be ready, and completes once all are updated', async () => {
    const old = statefulSet();
    const oldRev = revisionOf(old, 1);
    const set = statefulSet({ image: 'nginx:2', status: { currentRevision: oldRev.metadata.name, replicas: 3 } });
    const newRev = revisionOf(set, 2);
    const claims = [0, 1, 2].map((i) => claimFor(set, i));
    const f = fixture(set, [podAt(old, oldRev, 0), podAt(old, oldRev, 1), podAt(set, newRev, 2, { phase: 'Running', ready: false })], [oldRev, newRev], claims);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), ['update statefulsets/status web']);
    const g = fixture(set, [0, 1, 2].map((i) => podAt(set, newRev, i)), [oldRev, newRev], claims);
    await g.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(lastStatus(g.client), {
      observedGeneration: 2,
      currentRevision: newRev.metadata.name,
      updateRevision: newRev.metadata.name,
      collisionCount: 0,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
    });
  });

  it('OnDelete leaves old pods alone; a deleted one comes back at the update revision', async () => {
    const old = statefulSet({ onDelete: true });
    const oldRev = revisionOf(old, 1);
    const set = statefulSet({ onDelete: true, image: 'nginx:2', status: { currentRevision: oldRev.metadata.name, replicas: 3, currentReplicas: 3 } });
    const newRev = revisionOf(set, 2);
    const claims = [0, 1, 2].map((i) => claimFor(set, i));
    const f = fixture(set, [0, 1, 2].map((i) => podAt(old, oldRev, i)), [oldRev, newRev], claims);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), ['update statefulsets/status web']);
    const g = fixture(set, [podAt(old, oldRev, 0), podAt(old, oldRev, 2)], [oldRev, newRev], claims);
    await g.syncer.syncStatefulSet('ns/web');
    assert.equal(g.client.stored<Pod>(Pods, 'ns', 'web-1')!.metadata.labels?.['controller-revision-hash'], newRev.metadata.name);
  });

  it('rollback to an older template renumbers its revision instead of making a new one', async () => {
    const v1 = statefulSet();
    const rev1 = revisionOf(v1, 1);
    const v2 = statefulSet({ image: 'nginx:2' });
    const rev2 = revisionOf(v2, 2);
    const back = statefulSet({ status: { currentRevision: rev2.metadata.name, replicas: 3 } });
    const f = fixture(back, [0, 1, 2].map((i) => podAt(v2, rev2, i)), [rev1, rev2], [0, 1, 2].map((i) => claimFor(back, i)));
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), [`update controllerrevisions ${rev1.metadata.name}`, 'delete pods web-2', 'update statefulsets/status web']);
    assert.equal(f.client.stored<ControllerRevision>(ControllerRevisions, 'ns', rev1.metadata.name!)!.revision, 3);
  });

  it('re-creates a failed pod', async () => {
    const set = statefulSet({ claims: false });
    const rev = revisionOf(set);
    const f = fixture(set, [podAt(set, rev, 0, { phase: 'Failed' })], [rev]);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), ['delete pods web-0', 'create pods web-0', 'update statefulsets/status web']);
    assert.equal(f.recorder.events[0], 'Warning RecreatingFailedPod StatefulSet ns/web is recreating failed Pod web-0');
  });

  it('a pod the cache has not shown yet is not made twice: AlreadyExists fails the sync for a retry', async () => {
    const set = statefulSet({ claims: false });
    const rev = revisionOf(set);
    const client = new FakeClient();
    client.add(Pods, podAt(set, rev, 0, { phase: 'Pending' }));
    const f = fixture(set, [], [rev], [], client);
    await assert.rejects(f.syncer.syncStatefulSet('ns/web'), (err: unknown) => err instanceof ApiError && err.code === 409);
    assert.deepEqual(summary(f.client.writes()), ['create pods web-0', 'update statefulsets/status web']);
    assert.deepEqual(f.recorder.events, []);
  });

  it('adopts an orphaned pod named after the set and releases none of another name', async () => {
    const set = statefulSet({ claims: false, replicas: 1 });
    const rev = revisionOf(set);
    const orphan = podAt(set, rev, 0);
    delete orphan.metadata.ownerReferences;
    const stranger = podAt(set, rev, 0);
    stranger.metadata.name = 'db-0';
    stranger.metadata.uid = 'uid-db-0';
    delete stranger.metadata.ownerReferences;
    const f = fixture(set, [orphan, stranger], [rev]);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(summary(f.client.writes()), ['patch pods web-0', 'update statefulsets/status web']);
  });

  it('keeps revisionHistoryLimit revisions that no pod uses', async () => {
    const set = statefulSet({ claims: false, replicas: 1 });
    set.spec.revisionHistoryLimit = 1;
    const olds = [1, 2, 3].map((n) => revisionOf(statefulSet({ image: `nginx:old${n}` }), n));
    const cur = revisionOf(set, 4);
    const withStatus = { ...set, status: { currentRevision: cur.metadata.name, updateRevision: cur.metadata.name, replicas: 1 } };
    const f = fixture(withStatus, [podAt(set, cur, 0)], [...olds, cur]);
    await f.syncer.syncStatefulSet('ns/web');
    assert.deepEqual(
      summary(f.client.writes()).filter((s) => s.startsWith('delete')),
      [`delete controllerrevisions ${olds[0]!.metadata.name}`, `delete controllerrevisions ${olds[1]!.metadata.name}`],
    );
  });
});
