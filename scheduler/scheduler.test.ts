import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { ApiError, Pods } from '../lib/client/index.js';
import { FakeClient } from '../lib/testing/fakeclient.js';
import { FakeRecorder } from '../lib/testing/fakerecorder.js';
import { Logger } from '../lib/log.js';
import { FakeClock } from '../lib/testing/fakeclock.js';
import { defaultProfile } from './config.js';
import { ClusterEvents } from './queue/queue.js';
import { Scheduler } from './scheduler.js';

const quiet = new Logger('scheduler-test', 0, () => undefined);

function node(name: string, cpu: string, labels: Record<string, string> = {}): Node {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, status: { allocatable: { cpu, memory: '8Gi', pods: '110' } } };
}

let seq = 0;
function pod(name: string, cpu: string, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}-${++seq}`, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { schedulerName: 'default-scheduler', containers: [{ name: 'c', image: 'i', resources: { requests: { cpu } } }], ...extra },
    status: { phase: 'Pending' },
  };
}

interface Harness {
  s: Scheduler;
  clock: FakeClock;
  client: FakeClient;
  recorder: FakeRecorder;
  /** pods is what the informer would hold. */
  pods: Map<string, Pod>;
  /** run schedules until the queue has no active pod left and every binding finished. */
  run(): Promise<void>;
  bindings(): string[];
}

function harness(nodes: Node[], opts: { profiles?: string[] } = {}): Harness {
  const client = new FakeClient();
  const recorder = new FakeRecorder();
  const pods = new Map<string, Pod>();
  const clock = new FakeClock();
  const s = new Scheduler({
    client,
    clock,
    profiles: (opts.profiles ?? ['default-scheduler']).map((n) => defaultProfile(n)),
    log: quiet,
    recorderFor: () => recorder,
    rand: () => 0,
  });
  s.setPodLookup((ns, name) => pods.get(`${ns}/${name}`));
  for (const n of nodes) s.onNodeAdd(n);
  return {
    s,
    clock,
    client,
    recorder,
    pods,
    async run() {
      while (s.queue.pendingPods().active > 0 && s.binder.pending === 0) {
        const p = await s.queue.pop();
        s.scheduleOne(p!);
        await s.drain();
      }
      await s.drain();
    },
    bindings: () =>
      client
        .writes()
        .filter((a) => a.subresource === 'binding')
        .map((a) => `${a.name}->${(a.object as { target: { name: string } }).target.name}`),
  };
}

function add(h: Harness, p: Pod): void {
  h.pods.set(`default/${p.metadata.name}`, p);
  h.client.add(Pods, p);
  h.s.onPodAdd(p);
}

test('binds pods through pods/binding, fullest node first, and reports Scheduled', async () => {
  const h = harness([node('big', '8'), node('small', '2')]);
  add(h, pod('a', '1'));
  await h.run();
  // Bin packing: the node left fullest by the pod wins (small: 1/2 vs big: 1/8).
  assert.deepEqual(h.bindings(), ['a->small']);
  const binding = h.client.writes().find((a) => a.subresource === 'binding')!.object as Record<string, unknown>;
  assert.deepEqual(binding.metadata, { name: 'a', namespace: 'default', uid: h.pods.get('default/a')!.metadata.uid });
  assert.deepEqual(h.recorder.events, ['Normal Scheduled Successfully assigned default/a to small']);
  // The assumed pod counts at once: the next pod that does not fit beside it goes elsewhere.
  add(h, pod('b', '2'));
  await h.run();
  assert.deepEqual(h.bindings(), ['a->small', 'b->big']);
});

test('an unschedulable pod gets PodScheduled=False and a FailedScheduling event, then waits for a node', async () => {
  const h = harness([node('n1', '1')]);
  add(h, pod('huge', '4'));
  await h.run();
  const msg = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..';
  assert.deepEqual(h.recorder.events, [`Warning FailedScheduling ${msg}`]);
  const patch = h.client.writes().find((a) => a.verb === 'patch' && a.subresource === 'status')!;
  assert.equal(patch.patchType, 'strategic');
  const cond = (patch.patch as { status: { conditions: Record<string, unknown>[] } }).status.conditions[0];
  assert.deepEqual([cond.type, cond.status, cond.reason, cond.message], ['PodScheduled', 'False', 'Unschedulable', msg]);
  assert.equal(h.s.queue.pendingPods().unschedulable, 1);

  // Same failure again with the condition already in place: an event (counted) but no status write.
  const withCond = structuredClone(h.pods.get('default/huge')!);
  withCond.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: msg }];
  h.pods.set('default/huge', withCond);
  h.s.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.ForceActivate);
  h.clock.step(1000);
  h.s.queue.flushBackoffQCompleted();
  h.client.clearActions();
  const p = await h.s.queue.pop();
  h.s.scheduleOne(p!);
  await h.s.drain();
  assert.equal(h.client.writes().filter((a) => a.subresource === 'status').length, 0);

  // A node that fits appears: the pod is tried again (at once, or after its backoff).
  h.s.onNodeAdd(node('n2', '8'));
  const pending = h.s.queue.pendingPods();
  assert.equal(pending.active + pending.backoff, 1);
});

test('pods of other schedulers are left alone; bound pods only fill the cache', async () => {
  const h = harness([node('n1', '4')]);
  add(h, pod('mine', '1'));
  add(h, pod('theirs', '1', { schedulerName: 'other-scheduler' }));
  add(h, pod('bound', '3', { nodeName: 'n1' }));
  await h.run();
  assert.deepEqual(h.bindings(), ['mine->n1']);
  assert.equal(h.s.cache.dump().nodes.get('n1')!.requested.milliCPU, 4000);
});

test('a failed binding forgets the assumption and retries the pod with backoff', async () => {
  const h = harness([node('n1', '4')]);
  h.client.failOn('create', 'pods', new ApiError({ code: 500, reason: 'InternalError', message: 'etcd hiccup' }), 'binding');
  add(h, pod('a', '1'));
  await h.run();
  assert.equal(h.s.cache.dump().nodes.get('n1')!.requested.milliCPU, 0);
  assert.equal(h.s.cache.podCount(), 0);
  assert.deepEqual(h.s.queue.pendingPods(), { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
  assert.deepEqual(h.recorder.events, ['Warning FailedScheduling running Bind plugin "DefaultBinder": etcd hiccup']);
});

test('a pod bound by someone else meanwhile is dropped without complaint', async () => {
  const h = harness([node('n1', '4')]);
  h.client.failOn('create', 'pods', new ApiError({ code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on pods "a": pod a is already assigned to node "n1"' }), 'binding');
  add(h, pod('a', '1'));
  await h.run();
  assert.deepEqual(h.s.queue.pendingPods(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 });
  assert.deepEqual(h.recorder.events, []);
});

test('preemption: the preemptor is nominated and the lower-priority victim deleted', async () => {
  const h = harness([node('n1', '2')]);
  add(h, pod('low', '2', { nodeName: 'n1', priority: 1 }));
  add(h, pod('high', '2', { priority: 1000 }));
  await h.run();
  const writes = h.client.writes().map((a) => `${a.verb} ${a.name}${a.subresource ? '/' + a.subresource : ''}`);
  assert.ok(writes.includes('delete low'), writes.join('\n'));
  const nominate = h.client.writes().find((a) => a.name === 'high' && a.subresource === 'status')!;
  assert.equal((nominate.patch as { status: { nominatedNodeName?: string } }).status.nominatedNodeName, 'n1');
  assert.equal(h.s.queue.nominatedNodeOf(h.pods.get('default/high')!), 'n1');
  assert.ok(h.recorder.events.some((e) => e.startsWith('Normal Preempted Preempted by pod')));
  // Once the victim is gone the preemptor fits.
  h.s.onPodDelete(h.pods.get('default/low')!);
  h.s.queue.flushBackoffQCompleted();
  assert.equal(h.s.queue.pendingPods().unschedulable + h.s.queue.pendingPods().backoff + h.s.queue.pendingPods().active, 1);
});

test('profiles: one framework per schedulerName', async () => {
  const h = harness([node('n1', '4')], { profiles: ['default-scheduler', 'second'] });
  add(h, pod('one', '1'));
  add(h, pod('two', '1', { schedulerName: 'second' }));
  add(h, pod('three', '1', { schedulerName: 'unknown' }));
  await h.run();
  assert.deepEqual(h.bindings().sort(), ['one->n1', 'two->n1']);
});

test("a Deployment's 3 replicas spread over 3 empty equal nodes (PodTopologySpread's system defaults)", async () => {
  const h = harness([node('n1', '2'), node('n2', '2'), node('n3', '2')]);
  const selector = { matchLabels: { app: 'web', 'pod-template-hash': '5d' } };
  h.s.setWorkloadListers({ replicaSet: (ns, name) => (ns === 'default' && name === 'web-5d' ? { metadata: { name, namespace: ns }, spec: { selector } } : undefined) });
  for (const name of ['web-5d-a', 'web-5d-b', 'web-5d-c']) {
    const p = pod(name, '100m');
    p.metadata.labels = { app: 'web', 'pod-template-hash': '5d' };
    p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }];
    add(h, p);
  }
  await h.run();
  const nodes = h.bindings().map((b) => b.split('->')[1]);
  assert.equal(nodes.length, 3);
  assert.deepEqual([...new Set(nodes)].sort(), ['n1', 'n2', 'n3']);

  // Bare pods (nothing selects them) still bin-pack onto the fullest node.
  const h2 = harness([node('n1', '2'), node('n2', '2'), node('n3', '2')]);
  for (const name of ['a', 'b', 'c']) add(h2, pod(name, '100m'));
  await h2.run();
  assert.equal(new Set(h2.bindings().map((b) => b.split('->')[1])).size, 1);
});
