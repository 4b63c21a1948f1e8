import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { ApiError, Pods, ReplicaSets } from '../../lib/client/index.js';
import { type Action, FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import type { ResourceType, WriteOptions } from '../../lib/client/client.js';
import { listerOf } from '../../lib/controller/factory.js';
import { namespaceTerminatingError } from '../common/errors.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { ReplicaSetEventHandlers } from './handlers.js';
import { ReplicaSetSyncer, podFromTemplate, slowStartBatch } from './sync.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function replicaSet(replicas: number, over: { minReadySeconds?: number; deleting?: boolean; status?: ReplicaSet['status']; generation?: number; owner?: OwnerReference } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'web',
      namespace: 'ns',
      uid: 'rs-uid',
      resourceVersion: '10',
      generation: over.generation ?? 1,
      deletionTimestamp: over.deleting ? ago(1) : undefined,
      ownerReferences: over.owner ? [over.owner] : undefined,
    },
    spec: {
      replicas,
      minReadySeconds: over.minReadySeconds,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'fe' }, annotations: { note: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
    status: over.status,
  };
}

const ownedBy = (uid = 'rs-uid'): OwnerReference[] => [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid, controller: true, blockOwnerDeletion: true }];

interface PodOpts {
  node?: string;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  created?: number;
  labels?: Record<string, string>;
  owners?: OwnerReference[] | null;
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '5',
      labels: o.labels ?? { app: 'web', tier: 'fe' },
      creationTimestamp: ago(o.created ?? 100),
      ownerReferences: o.owners === null ? undefined : (o.owners ?? ownedBy()),
      deletionTimestamp: o.deleting ? ago(1) : undefined,
    },
    spec: { nodeName: o.node, containers: [{ name: 'c', image: 'busybox' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready === undefined ? undefined : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 60) }],
    },
  };
}

interface Fixture {
  client: FakeClient;
  recorder: FakeRecorder;
  expectations: UIDTrackingControllerExpectations;
  syncer: ReplicaSetSyncer;
}

/** fixture preloads the caches (and the fake apiserver) with rs and pods. */
function fixture(rs: ReplicaSet, pods: Pod[], opts: { client?: FakeClient; expectations?: UIDTrackingControllerExpectations; burstReplicas?: number; replicaSets?: ReplicaSet[] } = {}): Fixture {
  const client = opts.client ?? new FakeClient();
  client.add(ReplicaSets, rs);
  for (const p of pods) client.add(Pods, p);
  const recorder = new FakeRecorder();
  const expectations = opts.expectations ?? new UIDTrackingControllerExpectations(() => now.getTime());
  const syncer = new ReplicaSetSyncer({
    client,
    replicaSets: listerOf(opts.replicaSets ?? [rs]),
    pods: listerOf(pods),
    recorder,
    expectations,
    now: () => now,
    burstReplicas: opts.burstReplicas,
  });
  return { client, recorder, expectations, syncer };
}

const summary = (actions: Action[]) => actions.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''}`);
const statusWrites = (client: FakeClient) => client.writes().filter((a) => a.subresource === 'status').map((a) => (a.object as ReplicaSet).status);

/** SlowClient answers creates after a tick and records how many were in flight at each call (batches). */
class SlowClient extends FakeClient {
  inFlight = 0;
  readonly peaks: number[] = [];
  override async create<T, R = T>(r: ResourceType, namespace: string, obj: T, opts?: WriteOptions & { name?: string }): Promise<R> {
    this.inFlight++;
    this.peaks.push(this.inFlight);
    try {
      await new Promise((res) => setImmediate(res));
      return await super.create<T, R>(r, namespace, obj, opts);
    } finally {
      this.inFlight--;
    }
  }
}

describe('syncReplicaSet', () => {
  it('scales up from 0 in slow-start batches with pods from the template', async () => {
    const client = new SlowClient();
    const f = fixture(replicaSet(5), [], { client });
    await f.syncer.syncReplicaSet('ns/web');
    const creates = client.writes().filter((a) => a.verb === 'create');
    assert.equal(creates.length, 5);
    // Batches of 1, 2 and 2: each batch runs concurrently and starts once the previous one ended.
    assert.deepEqual(client.peaks, [1, 1, 2, 1, 2]);
    assert.deepEqual(creates[0]!.object, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'web-',
        labels: { app: 'web', tier: 'fe' },
        annotations: { note: 'x' },
        ownerReferences: ownedBy(),
      },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    assert.equal(f.recorder.events.length, 5);
    for (const e of f.recorder.events) assert.match(e, /^Normal SuccessfulCreate Created pod: web-[0-9a-z]{5}$/);
    assert.deepEqual(f.expectations.getExpectations('ns/web'), { add: 5, del: 0, timestamp: now.getTime() });
    // Status still counts what the cache shows (nothing yet) and records the generation seen.
    assert.deepEqual(statusWrites(client), [{ replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 }]);
  });

  it('creates at most burstReplicas pods per sync', async () => {
    const f = fixture(replicaSet(10), [], { burstReplicas: 3 });
    await f.syncer.syncReplicaSet('ns/web');
    assert.equal(f.client.writes().filter((a) => a.verb === 'create').length, 3);
    assert.equal(f.expectations.getExpectations('ns/web')?.add, 3);
  });

  it('expectations keep a lagging cache from creating twice', async () => {
    const expectations = new UIDTrackingControllerExpectations(() => now.getTime());
    const client = new FakeClient();
    const rs = replicaSet(3);
    const first = fixture(rs, [], { client, expectations });
    await first.syncer.syncReplicaSet('ns/web');
    assert.equal(client.writes().filter((a) => a.verb === 'create').length, 3);

    // The watch has not delivered the pods yet: the same cache, a second sync creates nothing.
    client.clearActions();
    const lagging = fixture(rs, [], { client, expectations });
    await lagging.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(client.writes().filter((a) => a.verb === 'create'), []);
    assert.deepEqual(lagging.recorder.events, []);

    // The informer delivers two of the three: still waiting.
    const created = (await client.list<Pod>(Pods, 'ns')).items;
    assert.equal(created.length, 3);
    const queued: string[] = [];
    const handlers = new ReplicaSetEventHandlers(listerOf([rs]), expectations, { enqueueKey: (k) => queued.push(k), enqueueAfter: () => {} });
    handlers.addPod(created[0]!);
    handlers.addPod(created[1]!);
    assert.equal(expectations.satisfiedExpectations('ns/web'), false);
    assert.deepEqual(queued, ['ns/web', 'ns/web']);

    // Once all three are seen the ReplicaSet syncs again, and with the pods in its cache creates nothing.
    handlers.addPod(created[2]!);
    assert.equal(expectations.satisfiedExpectations('ns/web'), true);
    client.clearActions();
    const caughtUp = fixture(rs, created, { client, expectations });
    await caughtUp.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(client.writes().filter((a) => a.verb === 'create' || a.verb === 'delete'), []);
  });

  it('scales down deleting the least useful pods first', async () => {
    const pods = [
      pod('ready-old', { node: 'n1', ready: true, readySince: 5000, created: 6000 }),
      pod('unassigned', { phase: 'Pending', created: 10 }),
      pod('ready-new', { node: 'n2', ready: true, readySince: 4000, created: 5000 }),
      pod('not-ready', { node: 'n1', ready: false, created: 7000 }),
    ];
    const f = fixture(replicaSet(2), pods);
    await f.syncer.syncReplicaSet('ns/web');
    const deletes = f.client.writes().filter((a) => a.verb === 'delete');
    assert.deepEqual(deletes.map((a) => a.name).sort(), ['not-ready', 'unassigned']);
    assert.deepEqual(f.recorder.events.sort(), ['Normal SuccessfulDelete Deleted pod: not-ready', 'Normal SuccessfulDelete Deleted pod: unassigned']);
    assert.deepEqual(f.expectations.getDeleteKeys('ns/web').sort(), ['ns/not-ready', 'ns/unassigned']);
    assert.equal(f.expectations.satisfiedExpectations('ns/web'), false);
  });

  it('scales down the pods on the most crowded node of the Deployment first', async () => {
    const deployRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'd-uid', controller: true };
    const rs = replicaSet(1, { owner: deployRef });
    const sibling: ReplicaSet = { ...replicaSet(1, { owner: deployRef }), metadata: { ...rs.metadata, name: 'web-old', uid: 'old-uid' }, spec: { ...rs.spec, selector: { matchLabels: { app: 'old' } } } };
    const mine = [pod('alone', { node: 'n1', ready: true, readySince: 100 }), pod('crowded', { node: 'n2', ready: true, readySince: 100 })];
    const siblings = [pod('old-1', { node: 'n2', labels: { app: 'old' }, owners: ownedBy('old-uid') })];
    const f = fixture(rs, [...mine, ...siblings], { replicaSets: [rs, sibling] });
    await f.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(f.client.writes().filter((a) => a.verb === 'delete').map((a) => a.name), ['crowded']);
  });

  it('adopts matching orphans and releases owned pods that stopped matching, then replaces them', async () => {
    const pods = [
      pod('mine', { ready: true }),
      pod('orphan', { owners: null, ready: true }),
      pod('relabelled', { labels: { app: 'debug' } }),
      pod('foreign', { owners: ownedBy('other-uid') }),
    ];
    const f = fixture(replicaSet(3), pods);
    await f.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(summary(f.client.actions), [
      'get replicasets web',
      'patch pods orphan',
      'patch pods relabelled',
      'create pods web-',
      'update replicasets/status web',
    ]);
    const [, adopt, release] = f.client.actions;
    assert.deepEqual(adopt!.patch, { metadata: { ownerReferences: ownedBy(), uid: 'uid-orphan' } });
    assert.deepEqual(release!.patch, { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'uid-relabelled' } });
    assert.deepEqual(statusWrites(f.client), [{ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 }]);
  });

  it('a failed create stops slow start, sets ReplicaFailure and a FailedCreate event; success clears it', async () => {
    const message = 'Pod "web-" is invalid: spec.containers[0].image: Required value';
    const client = new FakeClient().failOn('create', 'pods', new ApiError({ kind: 'Status', code: 422, reason: 'Invalid', message }));
    const f = fixture(replicaSet(4), [], { client });
    await assert.rejects(f.syncer.syncReplicaSet('ns/web'), { message });
    assert.equal(client.actions.filter((a) => a.verb === 'create').length, 1, 'slow start sends one create, not four');
    assert.deepEqual(f.recorder.events, [`Warning FailedCreate Error creating: ${message}`]);
    // The three creates never tried are not expected; the failed one is not either (a failed
    // create in kube's slowStartBatch counts as skipped): nothing blocks the retry.
    assert.equal(f.expectations.satisfiedExpectations('ns/web'), true);
    const [status] = statusWrites(client);
    assert.deepEqual(status, {
      replicas: 0,
      fullyLabeledReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      observedGeneration: 1,
      conditions: [{ type: 'ReplicaFailure', status: 'True', lastTransitionTime: '2024-05-01T12:00:00Z', reason: 'FailedCreate', message }],
    });

    // Failing again with the condition already set writes no status.
    const stored = client.stored<ReplicaSet>(ReplicaSets, 'ns', 'web')!;
    const again = fixture(stored, [], { client: new FakeClient().failOn('create', 'pods', new ApiError({ code: 422, reason: 'Invalid', message })) });
    await assert.rejects(again.syncer.syncReplicaSet('ns/web'));
    assert.deepEqual(statusWrites(again.client), []);

    // Once creates succeed, the condition goes.
    const healed = fixture(stored, [], {});
    await healed.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(statusWrites(healed.client), [{ replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 }]);
  });

  it('a create refused because the namespace is terminating is no failure and no event', async () => {
    const client = new FakeClient().failOn('create', 'pods', namespaceTerminatingError('pods', 'ns', 'web-'));
    const f = fixture(replicaSet(3), [], { client });
    await f.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(f.recorder.events, []);
    assert.equal(statusWrites(client)[0]?.conditions, undefined);
    // Every create "succeeded" as far as expectations go, so the ReplicaSet waits instead of retrying.
    assert.equal(f.expectations.satisfiedExpectations('ns/web'), false);
  });

  it('counts status with minReadySeconds and requeues when the next pod becomes available', async () => {
    const pods = [
      pod('available', { ready: true, readySince: 30 }),
      pod('just-ready', { ready: true, readySince: 4 }),
      pod('not-ready', { ready: false }),
      pod('partly-labelled', { labels: { app: 'web' }, ready: true, readySince: 8 }),
      pod('failed', { phase: 'Failed', ready: false }),
      pod('terminating', { ready: true, readySince: 100, deleting: true }),
    ];
    const f = fixture(replicaSet(4, { minReadySeconds: 10, generation: 3 }), pods);
    const result = await f.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(statusWrites(f.client), [{ replicas: 4, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 1, observedGeneration: 3 }]);
    // partly-labelled becomes available in 2 s, plus a second against clock skew.
    assert.deepEqual(result, { requeueAfter: 3000 });
    assert.deepEqual(f.client.writes().filter((a) => a.subresource !== 'status'), [], 'four active pods: nothing to create or delete');

    // With that status stored, a sync writes nothing.
    const current = f.client.stored<ReplicaSet>(ReplicaSets, 'ns', 'web')!;
    const again = fixture(current, pods);
    await again.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(again.client.writes(), []);
  });

  it('replaces Failed pods and pods being deleted', async () => {
    const f = fixture(replicaSet(2), [pod('ok', { ready: true }), pod('failed', { phase: 'Failed' }), pod('going', { deleting: true })]);
    await f.syncer.syncReplicaSet('ns/web');
    assert.equal(f.client.writes().filter((a) => a.verb === 'create').length, 1);
    assert.equal(f.client.writes().filter((a) => a.verb === 'delete').length, 0);
  });

  it('a ReplicaSet being deleted gets only its status', async () => {
    const f = fixture(replicaSet(3, { deleting: true }), [pod('a', { ready: true })]);
    await f.syncer.syncReplicaSet('ns/web');
    assert.deepEqual(summary(f.client.actions), ['update replicasets/status web']);
  });

  it('a ReplicaSet gone from the cache forgets its expectations', async () => {
    const f = fixture(replicaSet(1), []);
    f.expectations.expectCreations('ns/gone', 2);
    await f.syncer.syncReplicaSet('ns/gone');
    assert.equal(f.expectations.getExpectations('ns/gone'), undefined);
    assert.deepEqual(f.client.actions, []);
  });

  it('a status conflict is retried once over a fresh GET', async () => {
    const rs = replicaSet(0);
    const client = new FakeClient();
    client.add(ReplicaSets, { ...rs, metadata: { ...rs.metadata, resourceVersion: '99' } });
    // The cache's copy (rv 10) is older than the server's (rv 99).
    const syncer = new ReplicaSetSyncer({ client, replicaSets: listerOf([rs]), pods: listerOf([]), recorder: new FakeRecorder(), expectations: new UIDTrackingControllerExpectations(), now: () => now });
    await syncer.syncReplicaSet('ns/web');
    assert.deepEqual(summary(client.actions), ['update replicasets/status web', 'get replicasets web', 'update replicasets/status web']);
    assert.equal(client.stored<ReplicaSet>(ReplicaSets, 'ns', 'web')?.status?.observedGeneration, 1);
  });
});

describe('slowStartBatch', () => {
  it('runs 1, 2, 4, … calls and stops after the first batch with a failure', async () => {
    let calls = 0;
    const r = await slowStartBatch(20, 1, async () => {
      calls++;
      if (calls > 5) throw new Error(`fail ${calls}`);
    });
    // Batches 1, 2, 4: the third batch has two failures; no fourth batch.
    assert.equal(calls, 7);
    assert.equal(r.successes, 5);
    assert.equal(r.error?.message, 'fail 6');
    assert.deepEqual(await slowStartBatch(0, 1, async () => assert.fail('called')), { successes: 0 });
  });
});

describe('podFromTemplate', () => {
  it('falls back to the bare name when "<name>-" is no valid generateName', () => {
    const long = 'a'.repeat(253);
    const rs = replicaSet(1);
    const p = podFromTemplate({ ...rs, metadata: { ...rs.metadata, name: long } });
    assert.equal(p.metadata.generateName, long);
    assert.equal(podFromTemplate(rs).metadata.generateName, 'web-');
  });
});
