import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import { RevisionAnnotation, RevisionHistoryAnnotation } from '../../lib/api/apps/types.js';
import { ApiError } from '../../lib/client/client.js';
import { Deployments, Pods, ReplicaSets } from '../../lib/client/resources.js';
import { T0, World, at, deployment, pod, replicaSet, template } from './testing.js';
import { oldPodsRunning } from './recreate.js';
import { requeueStuckDeployment } from './progress.js';
import { byRevision, computeHash } from './util.js';
import { DeploymentSyncer, StaleCacheRequeueMs } from './sync.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { listerOf } from '../../lib/controller/factory.js';

const cond = (d: Deployment, type: string) => d.status?.conditions?.find((c) => c.type === type);

describe('Recreate', () => {
  it('scales old ReplicaSets to 0, waits for their pods to be gone, then creates the new one', async () => {
    const d1 = deployment({ strategy: 'Recreate', replicas: 3 });
    const old = replicaSet(d1, { replicas: 3 });
    const pods = [pod(old, 0), pod(old, 1), pod(old, 2)];
    const d2 = deployment({ strategy: 'Recreate', replicas: 3, image: 'web:2', generation: 2, status: { observedGeneration: 1 } });
    const world = new World(d2, [old], pods);

    let step = await world.sync();
    assert.deepEqual(World.rsWrites(step.writes), [`update ${old.metadata.name} 0`]);
    assert.deepEqual(step.events, [`Normal ScalingReplicaSet Scaled down replica set ${old.metadata.name} from 3 to 0`]);

    // The ReplicaSet controller has updated the status, but the pods still run: wait.
    await world.settle();
    step = await world.sync();
    assert.deepEqual(World.rsWrites(step.writes), []);

    // One pod is left, Failed: terminal pods do not count.
    await world.client.delete(Pods, 'default', pods[0]!.metadata.name!);
    await world.client.delete(Pods, 'default', pods[1]!.metadata.name!);
    await world.client.update(Pods, { ...pods[2]!, status: { phase: 'Failed' } });
    step = await world.sync();
    const hash = computeHash(template('web:2'));
    assert.deepEqual(World.rsWrites(step.writes), [`create web-${hash} 3`]);
    assert.deepEqual(step.events, [`Normal ScalingReplicaSet Scaled up replica set web-${hash} from 0 to 3`]);
  });

  it('oldPodsRunning: old status replicas or non-terminal old pods; the new ReplicaSet\'s pods never count', () => {
    const d = deployment({ strategy: 'Recreate' });
    const oldRS = replicaSet(d, { replicas: 0, statusReplicas: 0 });
    const newRS = replicaSet(d, { image: 'web:2', replicas: 1 });
    const map = (...entries: Array<[ReplicaSet, string[]]>) => new Map(entries.map(([rs, phases]) => [rs.metadata.uid!, phases.map((p, i) => pod(rs, i, p))]));
    assert.equal(oldPodsRunning(newRS, [], map()), false);
    assert.equal(oldPodsRunning(newRS, [replicaSet(d, { replicas: 0, statusReplicas: 1 })], map()), true);
    assert.equal(oldPodsRunning(newRS, [oldRS], map([oldRS, ['Failed', 'Succeeded']])), false);
    assert.equal(oldPodsRunning(newRS, [oldRS], map([oldRS, ['Unknown']])), true);
    assert.equal(oldPodsRunning(newRS, [oldRS], map([oldRS, ['Pending']])), true);
    assert.equal(oldPodsRunning(newRS, [oldRS], map([newRS, ['Running']])), false);
  });
});

describe('revisions and rollback', () => {
  it('gives a new ReplicaSet the next revision and the Deployment the same', async () => {
    const d1 = deployment();
    const world = new World(deployment({ image: 'web:3', generation: 3, status: { observedGeneration: 2 } }), [
      replicaSet(d1, { image: 'web:1', replicas: 0, revision: 1, createdAt: 0 }),
      replicaSet(d1, { image: 'web:2', replicas: 3, revision: 2, createdAt: 1000 }),
    ]);
    const { writes } = await world.sync();
    const created = writes.find((a) => a.verb === 'create')!.object as ReplicaSet;
    assert.equal(created.metadata.annotations![RevisionAnnotation], '3');
    assert.equal(created.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(created.metadata.annotations!['deployment.kubernetes.io/max-replicas'], '4');
    assert.deepEqual(created.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': computeHash(template('web:3')) } });
    assert.equal(created.metadata.labels!['pod-template-hash'], computeHash(template('web:3')));
    assert.equal(created.spec.template!.metadata!.labels!['pod-template-hash'], computeHash(template('web:3')));
    assert.deepEqual(created.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(world.deployment().metadata.annotations![RevisionAnnotation], '3');
  });

  it('keeps all 64 bits of a revision: the next after 3546343826724305832 is 3546343826724305833', async () => {
    const d1 = deployment();
    // Two old revisions a double cannot tell apart; the older-created one has the higher revision.
    const world = new World(deployment({ image: 'web:3', generation: 3, status: { observedGeneration: 2 } }), [
      replicaSet(d1, { image: 'web:1', replicas: 0, revision: '3546343826724305832', createdAt: 0 }),
      replicaSet(d1, { image: 'web:2', replicas: 3, revision: '3546343826724305831', createdAt: 1000 }),
    ]);
    const { writes } = await world.sync();
    const created = writes.find((a) => a.verb === 'create')!.object as ReplicaSet;
    assert.equal(created.metadata.annotations![RevisionAnnotation], '3546343826724305833');
    assert.equal(world.deployment().metadata.annotations![RevisionAnnotation], '3546343826724305833');
    const rss = await world.replicaSets();
    assert.deepEqual(
      [...rss].sort(byRevision).map((rs) => rs.metadata.annotations![RevisionAnnotation]),
      ['3546343826724305831', '3546343826724305832', '3546343826724305833'],
    );
  });

  it('rollback to a ReplicaSet with a 64-bit revision keeps it exactly in revision-history', async () => {
    const d1 = deployment();
    const rev1 = replicaSet(d1, { image: 'web:1', replicas: 0, revision: '3546343826724305832', createdAt: 0 });
    const rev2 = replicaSet(d1, { image: 'web:2', replicas: 3, revision: '3546343826724305833', createdAt: 1000 });
    const world = new World(deployment({ image: 'web:1', generation: 3, status: { observedGeneration: 2 } }), [rev1, rev2]);
    const { writes } = await world.sync();
    const update = writes.find((a) => a.verb === 'update' && a.name === rev1.metadata.name)!.object as ReplicaSet;
    assert.equal(update.metadata.annotations![RevisionAnnotation], '3546343826724305834');
    assert.equal(update.metadata.annotations![RevisionHistoryAnnotation], '3546343826724305832');
  });

  it('rollback: the old ReplicaSet becomes new again with the next revision and its old one in revision-history', async () => {
    const d1 = deployment();
    const rev1 = replicaSet(d1, { image: 'web:1', replicas: 0, revision: 1, createdAt: 0 });
    const rev2 = replicaSet(d1, { image: 'web:2', replicas: 3, revision: 2, createdAt: 1000 });
    // `kubectl rollout undo` copied web:1's template back into the Deployment.
    const world = new World(deployment({ image: 'web:1', generation: 3, annotations: { [RevisionAnnotation]: '2' }, status: { observedGeneration: 2 } }), [rev1, rev2]);
    const { writes } = await world.sync();
    const update = writes.find((a) => a.verb === 'update' && a.name === rev1.metadata.name)!.object as ReplicaSet;
    assert.equal(update.metadata.annotations![RevisionAnnotation], '3');
    assert.equal(update.metadata.annotations![RevisionHistoryAnnotation], '1');
    // The next sync carries the revision over to the Deployment and rolls forward to web:1.
    await world.sync();
    assert.equal(world.deployment().metadata.annotations![RevisionAnnotation], '3');
    const rss = await world.replicaSets();
    assert.equal(rss.find((rs) => rs.metadata.name === rev1.metadata.name)!.spec.replicas, 1, 'surges one pod of the rolled-back revision');
    assert.equal(rss.length, 2, 'no new ReplicaSet');
  });

  it('bumps collisionCount when the name is taken by a ReplicaSet with another template, then uses another name', async () => {
    const d = deployment({ image: 'web:2', generation: 2, status: { observedGeneration: 1 } });
    const hash = computeHash(template('web:2'));
    // Someone else's ReplicaSet under our would-be name.
    const squatter = replicaSet(d, { image: 'other', replicas: 1, name: `web-${hash}`, owner: { ...d, metadata: { ...d.metadata, name: 'other', uid: 'other-uid' } } });
    const world = new World(d, [squatter]);
    await assert.rejects(world.sync(), (err: unknown) => err instanceof ApiError && err.reason === 'AlreadyExists');
    assert.equal(world.deployment().status!.collisionCount, 1);
    const { writes } = await world.sync();
    const created = writes.find((a) => a.verb === 'create')!;
    assert.equal(created.name, `web-${computeHash(template('web:2'), 1)}`);
  });
});

describe('claiming ReplicaSets', () => {
  it('adopts a matching orphan and releases an owned ReplicaSet that no longer matches', async () => {
    const d = deployment();
    const orphan = replicaSet(d, { replicas: 3, owner: null });
    const stray = replicaSet(d, { image: 'web:0', replicas: 0, name: 'web-stray' });
    stray.metadata.labels = { app: 'other' };
    const world = new World(d, [orphan, stray]);
    const { writes } = await world.sync();
    const patches = writes.filter((a) => a.verb === 'patch');
    assert.deepEqual(
      patches.map((a) => [a.name, a.patch]),
      [
        [orphan.metadata.name, { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }], uid: orphan.metadata.uid } }],
        ['web-stray', { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'd-uid' }], uid: stray.metadata.uid } }],
      ],
    );
  });
});

describe('revisionHistoryLimit', () => {
  it('deletes the oldest fully scaled-down old ReplicaSets beyond the limit, never one with pods', async () => {
    const d = deployment({ image: 'web:9', revisionHistoryLimit: 2, annotations: { [RevisionAnnotation]: '9' }, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
    const olds = [1, 2, 3, 4, 5].map((r) => replicaSet(d, { image: `web:${r}`, replicas: 0, revision: r, createdAt: r * 1000 }));
    // Revision 2 still has a pod going away: it must stay even though it is beyond the limit.
    olds[1]!.status!.replicas = 1;
    const current = replicaSet(d, { image: 'web:9', replicas: 3, revision: 9, createdAt: 9000 });
    const world = new World(d, [...olds, current]);
    const { writes } = await world.sync();
    assert.deepEqual(
      writes.filter((a) => a.verb === 'delete').map((a) => a.name),
      [olds[0]!.metadata.name, olds[2]!.metadata.name],
    );
  });

  it('cleans up while paused too', async () => {
    const d = deployment({ image: 'web:9', revisionHistoryLimit: 0, paused: true, annotations: { [RevisionAnnotation]: '9' } });
    const old = replicaSet(d, { image: 'web:1', replicas: 0, revision: 1 });
    const world = new World(d, [old, replicaSet(d, { image: 'web:9', replicas: 3, revision: 9, createdAt: 9000 })]);
    const { writes } = await world.sync();
    assert.deepEqual(writes.filter((a) => a.verb === 'delete').map((a) => a.name), [old.metadata.name]);
  });
});

describe('conditions and status', () => {
  it('NewReplicaSetCreated → ReplicaSetUpdated → NewReplicaSetAvailable, with kube\'s messages', async () => {
    const d1 = deployment({ replicas: 2, maxSurge: 1, maxUnavailable: 0 });
    const settled = { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };
    const world = new World(deployment({ replicas: 2, maxSurge: 1, maxUnavailable: 0, image: 'web:2', generation: 2, status: settled }), [replicaSet(d1, { replicas: 2 })]);
    const name = `web-${computeHash(template('web:2'))}`;
    await world.sync();
    let d = world.deployment();
    assert.equal(cond(d, 'Progressing')!.reason, 'NewReplicaSetCreated');
    assert.equal(cond(d, 'Progressing')!.message, `Created new replica set "${name}"`);
    assert.equal(cond(d, 'Available')!.status, 'True');
    assert.equal(cond(d, 'Available')!.reason, 'MinimumReplicasAvailable');
    assert.equal(cond(d, 'Available')!.message, 'Deployment has minimum availability.');

    world.now += 5000;
    await world.settle();
    await world.sync();
    d = world.deployment();
    assert.deepEqual(
      { ...cond(d, 'Progressing') },
      { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.`, lastUpdateTime: at(5000), lastTransitionTime: at(0) },
    );
    for (let i = 0; i < 6; i++) {
      await world.settle();
      await world.sync();
    }
    d = world.deployment();
    assert.equal(cond(d, 'Progressing')!.reason, 'NewReplicaSetAvailable');
    assert.equal(cond(d, 'Progressing')!.message, `ReplicaSet "${name}" has successfully progressed.`);
    assert.deepEqual(
      { replicas: d.status!.replicas, updated: d.status!.updatedReplicas, ready: d.status!.readyReplicas, available: d.status!.availableReplicas, unavailable: d.status!.unavailableReplicas, gen: d.status!.observedGeneration },
      { replicas: 2, updated: 2, ready: 2, available: 2, unavailable: undefined, gen: 2 },
    );
  });

  it('Available=False below replicas-maxUnavailable', async () => {
    const d = deployment({ replicas: 4, maxSurge: 1, maxUnavailable: 1 });
    const world = new World(d, [replicaSet(d, { replicas: 4, available: 2 })]);
    await world.sync();
    const got = world.deployment();
    assert.equal(cond(got, 'Available')!.status, 'False');
    assert.equal(cond(got, 'Available')!.reason, 'MinimumReplicasUnavailable');
    assert.equal(cond(got, 'Available')!.message, 'Deployment does not have minimum availability.');
    assert.equal(got.status!.unavailableReplicas, 2);
  });

  it('ProgressDeadlineExceeded once progressDeadlineSeconds pass without progress, re-checked on time', async () => {
    const d1 = deployment({ replicas: 2, maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 30 });
    const world = new World(deployment({ replicas: 2, maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 30, image: 'web:2', generation: 2, status: { observedGeneration: 1 } }), [replicaSet(d1, { replicas: 2 })]);
    const name = `web-${computeHash(template('web:2'))}`;
    await world.sync();
    // The new pod never becomes ready.
    const stuck = (rs: ReplicaSet) => (rs.metadata.name === name ? 0 : (rs.spec.replicas ?? 0));
    await world.settle(stuck);
    // The surge pod exists now: that is progress (updatedReplicas went up).
    world.now = T0 + 10_000;
    let { result } = await world.sync();
    assert.equal(cond(world.deployment(), 'Progressing')!.lastUpdateTime, at(10_000));
    world.now = T0 + 20_000;
    ({ result } = await world.sync());
    assert.deepEqual(result, { requeueAfter: 21_000 }, 'look again a second after the deadline');
    world.now = T0 + 40_000;
    ({ result } = await world.sync());
    assert.equal(cond(world.deployment(), 'Progressing')!.reason, 'ReplicaSetUpdated', 'not before the deadline');
    world.now = T0 + 41_000;
    ({ result } = await world.sync());
    const d = world.deployment();
    assert.deepEqual(
      { ...cond(d, 'Progressing') },
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}" has timed out progressing.`, lastUpdateTime: at(41_000), lastTransitionTime: at(41_000) },
    );
    // Timed out stays timed out, with no further re-checks.
    world.now = T0 + 100_000;
    ({ result } = await world.sync());
    assert.equal(result, undefined);
    assert.equal(cond(world.deployment(), 'Progressing')!.reason, 'ProgressDeadlineExceeded');
  });

  it('requeueStuckDeployment: deadline minus elapsed plus a second; nothing without a deadline or when done', () => {
    const stuck = deployment({ progressDeadlineSeconds: 60, status: { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2017-02-15T18:49:00Z' }] } });
    const s = { replicas: 3, updatedReplicas: 3, availableReplicas: 1 };
    assert.equal(requeueStuckDeployment(stuck, s, new Date('2017-02-15T18:49:30Z')), 31_000);
    assert.equal(requeueStuckDeployment(stuck, s, new Date('2017-02-15T18:49:59Z')), 2_000);
    assert.equal(requeueStuckDeployment(stuck, s, new Date('2017-02-15T18:49:59.500Z')), 1_000);
    assert.equal(requeueStuckDeployment(stuck, s, new Date('2017-02-15T18:51:00Z')), 1_000);
    assert.equal(requeueStuckDeployment({ ...stuck, spec: { ...stuck.spec, progressDeadlineSeconds: undefined } }, s, new Date()), undefined);
    assert.equal(requeueStuckDeployment(stuck, { replicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 1 }, new Date()), undefined);
  });

  it('paused: DeploymentPaused, scaling still works but no rollout; resumed: DeploymentResumed and the rollout starts', async () => {
    const d1 = deployment({ replicas: 2 });
    const old = replicaSet(d1, { replicas: 2 });
    const world = new World(deployment({ replicas: 4, paused: true, image: 'web:2', generation: 3, status: { observedGeneration: 1 } }), [old]);
    const { writes } = await world.sync();
    assert.deepEqual(World.rsWrites(writes), [`update ${old.metadata.name} 4`], 'scaled, no new ReplicaSet');
    let d = world.deployment();
    assert.deepEqual([cond(d, 'Progressing')!.status, cond(d, 'Progressing')!.reason, cond(d, 'Progressing')!.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
    assert.equal(d.status!.observedGeneration, 3);

    // The ReplicaSet controller catches up while still paused.
    await world.settle();
    await world.sync();
    d = world.deployment();
    d.spec.paused = false;
    d.metadata.generation = 4;
    world.client.add(Deployments, d);
    const resumed = await world.sync();
    assert.equal(World.rsWrites(resumed.writes).filter((w) => w.startsWith('create')).length, 1);
    d = world.deployment();
    assert.equal(cond(d, 'Progressing')!.reason, 'NewReplicaSetCreated');
  });

  it('surfaces the new ReplicaSet\'s ReplicaFailure condition and drops it when it clears', async () => {
    const d = deployment({ replicas: 2 });
    const failure = { type: 'ReplicaFailure', status: 'True' as const, reason: 'FailedCreate', message: 'pods "web-x" is forbidden: exceeded quota', lastTransitionTime: at(0) };
    const rs = replicaSet(d, { replicas: 2, available: 0, statusReplicas: 0, conditions: [failure] });
    const world = new World(d, [rs]);
    await world.sync();
    assert.deepEqual({ ...cond(world.deployment(), 'ReplicaFailure') }, { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure.message, lastUpdateTime: at(0), lastTransitionTime: at(0) });
    const stored = world.client.stored<ReplicaSet>(ReplicaSets, 'default', rs.metadata.name!)!;
    delete stored.status!.conditions;
    world.client.add(ReplicaSets, stored);
    await world.sync();
    assert.equal(cond(world.deployment(), 'ReplicaFailure'), undefined);
  });

  it('a failed ReplicaSet create sets Progressing=False ReplicaSetCreateError with a Warning event', async () => {
    const d = deployment({ image: 'web:2', generation: 2, status: { observedGeneration: 1 } });
    const world = new World(d, []);
    world.client.failOn('create', 'replicasets', new ApiError({ code: 403, reason: 'Forbidden', message: 'replicasets.apps "web-x" is forbidden: quota' }));
    await assert.rejects(world.sync());
    const name = `web-${computeHash(template('web:2'))}`;
    const c = cond(world.deployment(), 'Progressing')!;
    assert.deepEqual([c.status, c.reason, c.message], ['False', 'ReplicaSetCreateError', `Failed to create new replica set "${name}": replicasets.apps "web-x" is forbidden: quota`]);
    assert.deepEqual(world.recorder.events, [`Warning ReplicaSetCreateError Failed to create new replica set "${name}": replicasets.apps "web-x" is forbidden: quota`]);
  });

  it('writes nothing when nothing changed', async () => {
    const d = deployment({ replicas: 2 });
    const world = new World(d, [replicaSet(d, { replicas: 2 })]);
    await world.sync();
    const again = await world.sync();
    assert.deepEqual(again.writes, []);
  });

  it('a Deployment being deleted gets its status and nothing else', async () => {
    const d = deployment({ image: 'web:2', generation: 2, status: { observedGeneration: 1 } });
    d.metadata.deletionTimestamp = at(0);
    const world = new World(d, [replicaSet(d, { replicas: 3 })]);
    const { writes } = await world.sync();
    assert.deepEqual(writes.map((a) => `${a.verb} ${a.resource}/${a.subresource ?? ''}`), ['update deployments/status']);
  });
});

describe('stale cache', () => {
  it('skips a sync whose cache has not seen our last write yet, then proceeds once it has', async () => {
    const d1 = deployment({ replicas: 3 });
    const rs = replicaSet(d1, { replicas: 3 });
    const d = deployment({ replicas: 5, generation: 2, status: { observedGeneration: 1 } });
    const world = new World(d, [rs]);
    const listers = async () => ({
      deployments: listerOf((await world.client.list<Deployment>(Deployments)).items),
      replicaSets: listerOf((await world.client.list<ReplicaSet>(ReplicaSets)).items),
      pods: listerOf([] as never[]),
    });
    const stale = await listers();
    let current = stale;
    // Listers that read whichever cache is current, as an informer's lister does.
    const live = <K extends keyof typeof current>(k: K) =>
      ({ get: (key: string) => current[k].get(key), list: (ns?: string, sel?: string) => current[k].list(ns, sel) }) as unknown as (typeof current)[K];
    const dc = new DeploymentSyncer({ client: world.client, recorder: new FakeRecorder(), deployments: live('deployments'), replicaSets: live('replicaSets'), pods: live('pods'), now: () => new Date(T0) });
    await dc.syncDeployment('default/web');
    world.client.clearActions();
    // The same (stale) cache again: nothing is written, and the key is looked at again soon.
    assert.deepEqual(await dc.syncDeployment('default/web'), { requeueAfter: StaleCacheRequeueMs });
    assert.deepEqual(world.client.writes(), []);
    // The watch delivered our writes: the sync runs, and its writes carry current versions (a
    // stale one would be a Conflict from the FakeClient).
    current = await listers();
    world.client.clearActions();
    assert.notDeepEqual(await dc.syncDeployment('default/web'), { requeueAfter: StaleCacheRequeueMs });
    assert.ok(world.client.writes().length > 0, 'the rolling sync records its Progressing condition');
    assert.equal(world.client.stored<ReplicaSet>(ReplicaSets, 'default', rs.metadata.name!)!.spec.replicas, 5);
  });
});
