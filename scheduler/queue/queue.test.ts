import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import { FakeClock } from '../../lib/testing/fakeclock.js';
import { Heap } from './heap.js';
import { ClusterEvents, type QueuedPodInfo, SchedulingQueue, isPodUpdated } from './queue.js';

let uid = 0;
function pod(name: string, opts: { priority?: number; created?: string; gates?: string[]; nominated?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}-${++uid}`, creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'c', image: 'i' }], priority: opts.priority, schedulingGates: opts.gates?.map((g) => ({ name: g })) },
    status: opts.nominated ? { nominatedNodeName: opts.nominated } : {},
  };
}

function newQueue(clock = new FakeClock()): { q: SchedulingQueue; clock: FakeClock } {
  return { q: new SchedulingQueue({ clock }), clock };
}

async function popName(q: SchedulingQueue): Promise<string> {
  const p = await q.pop();
  assert.ok(p);
  return p.pod.metadata.name!;
}

/** popAndFail pops the next pod and puts it back as rejected by a plugin (or by an error when plugin is omitted). */
async function popAndFail(q: SchedulingQueue, plugin?: string): Promise<QueuedPodInfo> {
  const p = await q.pop();
  assert.ok(p);
  const cycle = q.schedulingCycle();
  p.unschedulablePlugins = new Set(plugin ? [plugin] : []);
  q.addUnschedulableIfNotPresent(p, cycle);
  return p;
}

test('Heap: pops in order and deletes and updates by key', () => {
  const h = new Heap<{ k: string; v: number }>((x) => x.k, (a, b) => a.v < b.v);
  for (const [k, v] of [['a', 5], ['b', 1], ['c', 3], ['d', 4], ['e', 2]] as const) h.addOrUpdate({ k, v });
  h.delete('c');
  h.addOrUpdate({ k: 'a', v: 0 });
  const out: string[] = [];
  while (h.length) out.push(h.pop()!.k);
  assert.deepEqual(out, ['a', 'b', 'e', 'd']);
});

test('activeQ: higher priority first, then older creation time, then FIFO', async () => {
  const { q } = newQueue();
  q.add(pod('low-old', { priority: 1, created: '2024-01-01T00:00:00Z' }));
  q.add(pod('high-new', { priority: 100, created: '2024-01-01T00:00:09Z' }));
  q.add(pod('low-new-b', { priority: 1, created: '2024-01-01T00:00:05Z' }));
  q.add(pod('low-new-a', { priority: 1, created: '2024-01-01T00:00:05Z' }));
  q.add(pod('high-old', { priority: 100, created: '2024-01-01T00:00:01Z' }));
  const order = [];
  for (let i = 0; i < 5; i++) order.push(await popName(q));
  assert.deepEqual(order, ['high-old', 'high-new', 'low-old', 'low-new-b', 'low-new-a']);
  assert.equal(q.schedulingCycle(), 5);
});

test('pop waits for a pod and ends when the queue closes', async () => {
  const { q } = newQueue();
  const waiting = q.pop();
  q.add(pod('a'));
  assert.equal((await waiting)?.pod.metadata.name, 'a');
  const blocked = q.pop();
  q.close();
  assert.equal(await blocked, undefined);
  const ac = new AbortController();
  const { q: q2 } = newQueue();
  const aborted = q2.pop(ac.signal);
  ac.abort();
  assert.equal(await aborted, undefined);
});

test('backoff doubles per attempt from 1 s and stops at 10 s', () => {
  const { q } = newQueue();
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n)), [1000, 2000, 4000, 8000, 10000, 10000]);
});

test('a pod that failed with an error waits out its backoff in backoffQ, then is active again', async () => {
  const { q, clock } = newQueue();
  q.add(pod('a'));
  await popAndFail(q); // attempt 1 → 1 s
  assert.deepEqual(q.pendingPods(), { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
  clock.step(999);
  q.flushBackoffQCompleted();
  assert.equal(q.pendingPods().backoff, 1);
  clock.step(1);
  q.flushBackoffQCompleted();
  assert.deepEqual(q.pendingPods(), { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
  await popAndFail(q); // attempt 2 → 2 s
  clock.step(1500);
  q.flushBackoffQCompleted();
  assert.equal(q.pendingPods().backoff, 1);
  clock.step(500);
  q.flushBackoffQCompleted();
  assert.equal(q.pendingPods().active, 1);
});

test('run() flushes backoffQ every second by itself', async () => {
  const { q, clock } = newQueue();
  q.run();
  q.add(pod('a'));
  await popAndFail(q);
  clock.step(1000);
  assert.equal(q.pendingPods().active, 1);
  q.close();
  assert.equal(clock.pending(), 0);
});

test('an unschedulable pod waits for a relevant cluster event, then goes to activeQ or backoffQ', async () => {
  const { q, clock } = newQueue();
  q.add(pod('a'));
  q.add(pod('b'));
  await popAndFail(q, 'NodeResourcesFit');
  await popAndFail(q, 'NodeResourcesFit');
  assert.deepEqual(q.pendingPods(), { active: 0, backoff: 0, unschedulable: 2, gated: 0 });
  // Still within its 1 s backoff: the event sends it to backoffQ.
  clock.step(500);
  assert.equal(q.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeAdd, (p) => p.metadata.name === 'a'), 1);
  assert.deepEqual(q.pendingPods(), { active: 0, backoff: 1, unschedulable: 1, gated: 0 });
  // Past its backoff: straight to activeQ.
  clock.step(1000);
  q.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodDelete);
  assert.deepEqual(q.pendingPods(), { active: 1, backoff: 1, unschedulable: 0, gated: 0 });
});

test('events the rejecting plugins do not care about leave the pod waiting', async () => {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock, isEventRelevant: (p, ev) => !(p.unschedulablePlugins.has('NodeAffinity') && ev.resource === 'AssignedPod') });
  q.add(pod('a'));
  await popAndFail(q, 'NodeAffinity');
  assert.equal(q.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodDelete), 0);
  assert.equal(q.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeUpdate), 1);
});

test('an event during the attempt sends the failed pod to backoffQ, not unschedulablePods', async () => {
  const { q } = newQueue();
  q.add(pod('a'));
  const p = await q.pop();
  assert.ok(p);
  const cycle = q.schedulingCycle();
  q.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeAdd); // a node appears while we decide
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(p, cycle);
  assert.deepEqual(q.pendingPods(), { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
});

test('unschedulable pods are retried after 60 s without any event', async () => {
  const { q, clock } = newQueue();
  q.run();
  q.add(pod('a'));
  await popAndFail(q, 'TaintToleration');
  clock.step(59_000);
  assert.equal(q.pendingPods().unschedulable, 1);
  clock.step(31_000); // the 90 s flush sees it waited more than 60 s
  assert.equal(q.pendingPods().unschedulable, 0);
  assert.equal(q.pendingPods().active, 1);
  q.close();
});

test('updating an unschedulable pod\'s spec retries it; a status-only update does not', async () => {
  const { q, clock } = newQueue();
  const a = pod('a');
  q.add(a);
  await popAndFail(q, 'NodeAffinity');
  clock.step(5_000);
  const statusOnly = structuredClone(a);
  statusOnly.metadata.resourceVersion = '9';
  statusOnly.status = { conditions: [{ type: 'PodScheduled', status: 'False' }] };
  q.update(a, statusOnly);
  assert.equal(q.pendingPods().unschedulable, 1);
  const relabeled = structuredClone(statusOnly);
  relabeled.metadata.labels = { x: 'y' };
  q.update(statusOnly, relabeled);
  assert.deepEqual(q.pendingPods(), { active: 1, backoff: 0, unschedulable: 0, gated: 0 });
  assert.deepEqual((await q.pop())?.pod.metadata.labels, { x: 'y' });
});

test('gated pods are not tried until their gates are removed', async () => {
  const { q } = newQueue();
  const g = pod('g', { gates: ['wait'] });
  q.add(g);
  q.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeAdd);
  assert.deepEqual(q.pendingPods(), { active: 0, backoff: 0, unschedulable: 0, gated: 1 });
  const open = structuredClone(g);
  open.spec.schedulingGates = [];
  q.update(g, open);
  assert.equal(await popName(q), 'g');
});

test('a pod deleted while in flight is not queued again', async () => {
  const { q } = newQueue();
  const a = pod('a');
  q.add(a);
  const p = await q.pop();
  assert.ok(p);
  q.delete(a);
  assert.ok(q.isDeleted(p));
  p.unschedulablePlugins = new Set(['X']);
  q.addUnschedulableIfNotPresent(p, q.schedulingCycle());
  assert.deepEqual(q.pendingPods(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 });
  assert.equal(q.has('ns/a'), false);
});

test('nominator: nominations by node, kept across updates until status says otherwise', () => {
  const { q } = newQueue();
  const a = pod('a');
  q.add(a);
  q.addNominatedPod(a, 'n1');
  assert.deepEqual(q.nominatedPodsForNode('n1').map((p) => p.pod.metadata.name), ['a']);
  // The informer's update may arrive before the status write: the nomination stays.
  const a2 = structuredClone(a);
  a2.metadata.labels = { v: '2' };
  q.update(a, a2);
  assert.equal(q.nominatedNodeOf(a2), 'n1');
  // Status now carries it on another node, then clears it.
  const a3 = structuredClone(a2);
  a3.status = { nominatedNodeName: 'n2' };
  q.update(a2, a3);
  assert.deepEqual(q.nominatedPodsForNode('n1'), []);
  assert.equal(q.nominatedNodeOf(a3), 'n2');
  const a4 = structuredClone(a3);
  a4.status = {};
  q.update(a3, a4);
  assert.equal(q.nominatedNodeOf(a4), undefined);
  // A pod that arrives already nominated is tracked; deleting it forgets it.
  const b = pod('b', { nominated: 'n3' });
  q.add(b);
  assert.equal(q.nominatedPodsForNode('n3').length, 1);
  q.delete(b);
  assert.equal(q.nominatedPodsForNode('n3').length, 0);
});

test('isPodUpdated compares pods whose spec holds an int64 beyond 2^53 (a BigInt)', () => {
  const pod = (grace: bigint, rv: string): Pod =>
    ({ metadata: { name: 'p', namespace: 'd', resourceVersion: rv }, spec: { containers: [{ name: 'c' }], terminationGracePeriodSeconds: grace } }) as Pod;
  assert.equal(isPodUpdated(pod(9223372036854775807n, '1'), pod(9223372036854775807n, '2')), false);
  assert.equal(isPodUpdated(pod(9223372036854775807n, '1'), pod(9223372036854775806n, '2')), true);
});
