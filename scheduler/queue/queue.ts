// SchedulingQueue holds the pods waiting for a node, as kube-scheduler's PriorityQueue
// (pkg/scheduler/internal/queue/scheduling_queue.go) does, in three parts:
//
//   activeQ            pods to try now, highest priority first, then oldest first;
//   backoffQ           pods that failed recently and wait out an exponential backoff
//                      (1 s doubling per attempt up to 10 s), ordered by when it ends;
//   unschedulablePods  pods no node fits; they wait for a cluster event that may help (a node
//                      added or changed, an assigned pod deleted, …) or for the periodic flush
//                      after maxInUnschedulable (60 s).
//
// A pod is in at most one of them, or "in flight" between pop() and done(). A cluster event that
// arrives while a pod is in flight is remembered through moveRequestCycle, so the pod goes to
// backoffQ instead of waiting in unschedulablePods for an event that already happened.
// The queue also tracks nominated pods (the Nominator): pods that preemption made room for.

import type { Pod } from '../../lib/api/core/pod.js';
import { type Clock, type TimerHandle, realClock } from '../../lib/clock.js';
import { PodInfo } from '../framework/podinfo.js';
import { Heap } from './heap.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

/** ClusterEvent says what changed in the cluster, as framework.ClusterEvent (resource + action + label). */
export interface ClusterEvent {
  resource: 'Node' | 'Pod' | 'AssignedPod' | 'UnscheduledPod' | 'WildCard';
  action: 'Add' | 'Update' | 'Delete' | 'All';
  /** label names the event in logs and metrics (e.g. NodeAdd, AssignedPodDelete). */
  label: string;
}

export const ClusterEvents = {
  NodeAdd: { resource: 'Node', action: 'Add', label: 'NodeAdd' },
  NodeUpdate: { resource: 'Node', action: 'Update', label: 'NodeUpdate' },
  AssignedPodAdd: { resource: 'AssignedPod', action: 'Add', label: 'AssignedPodAdd' },
  AssignedPodUpdate: { resource: 'AssignedPod', action: 'Update', label: 'AssignedPodUpdate' },
  AssignedPodDelete: { resource: 'AssignedPod', action: 'Delete', label: 'AssignedPodDelete' },
  UnscheduledPodUpdate: { resource: 'UnscheduledPod', action: 'Update', label: 'UnscheduledPodUpdate' },
  UnschedulableTimeout: { resource: 'WildCard', action: 'All', label: 'UnschedulableTimeout' },
  ForceActivate: { resource: 'WildCard', action: 'All', label: 'ForceActivate' },
} as const satisfies Record<string, ClusterEvent>;

/** QueuedPodInfo is a pod with what the queue knows about its attempts. */
export interface QueuedPodInfo {
  pod: Pod;
  /** key is `namespace/name`; the queue indexes pods by it. */
  key: string;
  /** timestamp is when the pod last entered the queue (clock ms); backoff counts from it. */
  timestamp: number;
  /** attempts counts pops (scheduling attempts). */
  attempts: number;
  /** initialAttemptTimestamp is when the pod was popped the first time (clock ms). */
  initialAttemptTimestamp?: number;
  /** firstEnqueued is when the queue first saw the pod (clock ms), for pod_scheduling_duration. */
  firstEnqueued: number;
  /** unschedulablePlugins rejected the pod in its last attempt; empty after an error. */
  unschedulablePlugins: Set<string>;
  /** gated: the pod has schedulingGates and is not tried until they are all removed. */
  gated: boolean;
}

/** QueueOptions tune a SchedulingQueue. */
export interface QueueOptions {
  clock?: Clock;
  /** podInitialBackoffMs is the backoff after the first failed attempt (default 1 s). */
  podInitialBackoffMs?: number;
  /** podMaxBackoffMs caps the backoff (default 10 s). */
  podMaxBackoffMs?: number;
  /** podMaxInUnschedulablePodsMs: a pod waiting that long for an event is retried anyway (default 60 s). */
  podMaxInUnschedulablePodsMs?: number;
  /**
   * isEventRelevant says whether event may make the pod schedulable (the plugins that rejected
   * it registered for it); by default every event is.
   */
  isEventRelevant?: (pInfo: QueuedPodInfo, event: ClusterEvent) => boolean;
}

/** PendingPods counts the pods in each part of the queue (scheduler_pending_pods). */
export interface PendingPods {
  active: number;
  backoff: number;
  unschedulable: number;
  gated: number;
}

/** podKey is `namespace/name`. */
export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** podPriority is spec.priority, 0 when unset (GetPodPriority). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

function creationMs(pod: Pod): number {
  const t = Date.parse(pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/**
 * prioritySortLess is the QueueSort: higher priority first, then the older pod (creation time),
 * then the one queued first.
 */
export function prioritySortLess(a: QueuedPodInfo & { seq: number }, b: QueuedPodInfo & { seq: number }): boolean {
  const pa = podPriority(a.pod);
  const pb = podPriority(b.pod);
  if (pa !== pb) return pa > pb;
  const ca = creationMs(a.pod);
  const cb = creationMs(b.pod);
  if (ca !== cb) return ca < cb;
  return a.seq < b.seq;
}

type Entry = QueuedPodInfo & { seq: number; deleted?: boolean };

/** QueueClosedError is what pop() rejects with once the queue is closed. */
export class QueueClosedError extends Error {
  constructor() {
    super('scheduling queue is closed');
    this.name = 'QueueClosedError';
  }
}

/** SchedulingQueue is the scheduler's PriorityQueue. */
export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxInUnschedulable: number;
  private readonly isEventRelevant: (pInfo: QueuedPodInfo, event: ClusterEvent) => boolean;

  private readonly activeQ = new Heap<Entry>((e) => e.key, prioritySortLess);
  private readonly backoffQ = new Heap<Entry>(
    (e) => e.key,
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  private readonly unschedulablePods = new Map<string, Entry>();
  /** inFlight are pods popped and not yet done, by key, with the latest object seen for them. */
  private readonly inFlight = new Map<string, Entry>();

  private seq = 0;
  private cycle = 0;
  /** moveRequestCycle is the scheduling cycle during which the last move request arrived. */
  private moveRequestCycle = -1;
  private closed = false;
  private readonly waiters: Array<() => void> = [];
  private readonly timers: TimerHandle[] = [];

  // Nominator: pods preemption made room for, by node.
  private readonly nominatedPods = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedPodToNode = new Map<string, string>();

  constructor(opts: QueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.initialBackoff = opts.podInitialBackoffMs ?? 1_000;
    this.maxBackoff = opts.podMaxBackoffMs ?? 10_000;
    this.maxInUnschedulable = opts.podMaxInUnschedulablePodsMs ?? 60_000;
    this.isEventRelevant = opts.isEventRelevant ?? (() => true);
  }

  /** run starts the periodic flushes: backoffQ every second, unschedulablePods every 30 s. */
  run(): void {
    const every = (ms: number, fn: () => void) => {
      const tick = () => {
        if (this.closed) return;
        fn();
        this.timers.push(this.clock.setTimeout(tick, ms));
      };
      this.timers.push(this.clock.setTimeout(tick, ms));
    };
    every(1_000, () => this.flushBackoffQCompleted());
    every(30_000, () => this.flushUnschedulablePodsLeftover());
  }

  /** close wakes every pop() with QueueClosedError and stops the flushes. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.length = 0;
    for (const w of this.waiters.splice(0)) w();
  }

  /** schedulingCycle is the number of pops so far. */
  schedulingCycle(): number {
    return this.cycle;
  }

  // ---- pods coming and going ----

  /** add queues a new pending pod (an informer add of an unassigned pod of ours). */
  add(pod: Pod): void {
    const key = podKey(pod);
    const flying = this.inFlight.get(key);
    if (flying && flying.pod.metadata.uid !== pod.metadata.uid) flying.deleted = true;
    else if (this.has(key)) return this.update(undefined, pod);
    const now = this.clock.now();
    const e: Entry = {
      pod,
      key,
      timestamp: now,
      attempts: 0,
      firstEnqueued: now,
      unschedulablePlugins: new Set(),
      gated: isGated(pod),
      seq: ++this.seq,
    };
    this.addNominatedPod(pod);
    if (e.gated) this.unschedulablePods.set(key, e);
    else this.pushActive(e);
  }

  /**
   * update replaces a queued pod with its newer version. A pod waiting in unschedulablePods
   * whose spec or labels changed (or whose scheduling gates were lifted) is tried again.
   */
  update(oldPod: Pod | undefined, pod: Pod): void {
    const key = podKey(pod);
    this.updateNominatedPod(oldPod, pod);
    const flying = this.inFlight.get(key);
    if (flying) {
      flying.pod = pod;
      return;
    }
    for (const q of [this.activeQ, this.backoffQ]) {
      const e = q.get(key);
      if (e) {
        e.pod = pod;
        q.addOrUpdate(e);
        return;
      }
    }
    const e = this.unschedulablePods.get(key);
    if (!e) return this.add(pod);
    const before = e.pod;
    e.pod = pod;
    const gated = isGated(pod);
    if (e.gated && !gated) {
      e.gated = false;
      this.unschedulablePods.delete(key);
      this.pushActive(e);
      return;
    }
    e.gated = gated;
    if (!gated && isPodUpdated(before, pod)) {
      this.unschedulablePods.delete(key);
      if (this.isBackingOff(e)) this.backoffQ.addOrUpdate(e);
      else this.pushActive(e);
    }
  }

  /** delete forgets a pod (deleted, bound, or handed to another scheduler). */
  delete(pod: Pod): void {
    const key = podKey(pod);
    this.deleteNominatedPodIfExists(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulablePods.delete(key);
    // An in-flight pod stays in flight until its attempt ends, and is then not queued again.
    const flying = this.inFlight.get(key);
    if (flying && (!pod.metadata.uid || flying.pod.metadata.uid === pod.metadata.uid)) flying.deleted = true;
  }

  /** has: the pod is queued (in any part) or in flight. */
  has(key: string): boolean {
    return this.activeQ.has(key) || this.backoffQ.has(key) || this.unschedulablePods.has(key) || this.inFlight.has(key);
  }

  // ---- the scheduling loop's side ----

  /**
   * pop waits for the best pod in activeQ and hands it out (in flight until done()). It resolves
   * undefined when signal aborts or the queue closes.
   */
  async pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const e = this.activeQ.pop();
      if (e) {
        this.cycle++;
        e.attempts++;
        e.initialAttemptTimestamp ??= this.clock.now();
        this.inFlight.set(e.key, e);
        return e;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** done ends a pod's attempt: it is no longer in flight (call after requeue or binding). */
  done(pInfo: QueuedPodInfo): void {
    if (this.inFlight.get(pInfo.key) === pInfo) this.inFlight.delete(pInfo.key);
  }

  /** isDeleted: the pod was deleted (or replaced) while its attempt was in flight. */
  isDeleted(pInfo: QueuedPodInfo): boolean {
    return !!(pInfo as Entry).deleted;
  }

  /**
   * addUnschedulableIfNotPresent puts a pod back after a failed attempt that started in
   * podSchedulingCycle. A pod rejected by plugins waits in unschedulablePods, unless a cluster
   * event arrived since its attempt began; a pod that failed for another reason (an error, a
   * failed bind: no plugins named) goes to backoffQ.
   */
  addUnschedulableIfNotPresent(pInfo: QueuedPodInfo, podSchedulingCycle: number): void {
    const e = pInfo as Entry;
    if (this.inFlight.get(e.key) === e) this.inFlight.delete(e.key);
    if (e.deleted || this.activeQ.has(e.key) || this.backoffQ.has(e.key) || this.unschedulablePods.has(e.key)) return;
    e.timestamp = this.clock.now();
    e.seq = ++this.seq;
    // Keep a nomination made in memory whose status write has not come back yet.
    this.updateNominatedPod(undefined, e.pod);
    if (this.moveRequestCycle >= podSchedulingCycle || e.unschedulablePlugins.size === 0) {
      this.backoffQ.addOrUpdate(e);
    } else {
      this.unschedulablePods.set(e.key, e);
    }
  }

  /**
   * moveAllToActiveOrBackoffQueue retries the unschedulable pods event may help: each goes to
   * backoffQ if its backoff has not ended, else to activeQ. preCheck narrows the pods further.
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, preCheck?: (pod: Pod) => boolean): number {
    let moved = 0;
    for (const [key, e] of this.unschedulablePods) {
      if (e.gated) continue;
      if (preCheck && !preCheck(e.pod)) continue;
      // A wildcard event (timeout, forced activation) concerns every pod.
      if (event.resource !== 'WildCard' && !this.isEventRelevant(e, event)) continue;
      this.unschedulablePods.delete(key);
      if (this.isBackingOff(e)) this.backoffQ.addOrUpdate(e);
      else this.pushActive(e);
      moved++;
    }
    this.moveRequestCycle = this.cycle;
    return moved;
  }

  /** flushBackoffQCompleted moves pods whose backoff has ended to activeQ. */
  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const e = this.backoffQ.peek();
      if (!e || this.backoffExpiry(e) > now) return;
      this.backoffQ.pop();
      this.pushActive(e);
    }
  }

  /** flushUnschedulablePodsLeftover retries pods that waited longer than podMaxInUnschedulablePods. */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    const stale = new Set<string>();
    for (const [key, e] of this.unschedulablePods) {
      if (!e.gated && now - e.timestamp > this.maxInUnschedulable) stale.add(key);
    }
    if (stale.size) this.moveAllToActiveOrBackoffQueue(ClusterEvents.UnschedulableTimeout, (p) => stale.has(podKey(p)));
  }

  /** pendingPods counts each part of the queue; in-flight pods count as active. */
  pendingPods(): PendingPods {
    let gated = 0;
    for (const e of this.unschedulablePods.values()) if (e.gated) gated++;
    return {
      active: this.activeQ.length + this.inFlight.size,
      backoff: this.backoffQ.length,
      unschedulable: this.unschedulablePods.size - gated,
      gated,
    };
  }

  /** pendingPodInfos lists every queued pod (tests and debugging). */
  pendingPodInfos(): { active: QueuedPodInfo[]; backoff: QueuedPodInfo[]; unschedulable: QueuedPodInfo[] } {
    return { active: this.activeQ.list(), backoff: this.backoffQ.list(), unschedulable: [...this.unschedulablePods.values()] };
  }

  // ---- backoff ----

  /** backoffDuration is initial·2^(attempts−1), capped at the maximum. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoff;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoff) return this.maxBackoff;
    }
    return Math.min(d, this.maxBackoff);
  }

  private backoffExpiry(e: QueuedPodInfo): number {
    return e.timestamp + this.backoffDuration(e.attempts);
  }

  private isBackingOff(e: QueuedPodInfo): boolean {
    return e.attempts > 0 && this.backoffExpiry(e) > this.clock.now();
  }

  private pushActive(e: Entry): void {
    this.activeQ.addOrUpdate(e);
    const w = this.waiters.shift();
    if (w) w();
  }

  // ---- nominator ----

  /**
   * addNominatedPod records pod as nominated to nodeName, or to its status.nominatedNodeName
   * when nodeName is not given (a nomination that came back through the informer).
   */
  addNominatedPod(pod: Pod, nodeName?: string): void {
    const node = nodeName ?? pod.status?.nominatedNodeName ?? '';
    const uid = pod.metadata.uid ?? podKey(pod);
    this.deleteNominated(uid);
    if (!node) return;
    this.nominatedPodToNode.set(uid, node);
    let m = this.nominatedPods.get(node);
    if (!m) this.nominatedPods.set(node, (m = new Map()));
    m.set(uid, new PodInfo(pod));
  }

  private updateNominatedPod(oldPod: Pod | undefined, pod: Pod): void {
    const uid = pod.metadata.uid ?? podKey(pod);
    // A nomination the scheduler made may not have reached the pod's status yet: keep it until it does or is cleared.
    const known = this.nominatedPodToNode.get(uid);
    const next = pod.status?.nominatedNodeName || (oldPod?.status?.nominatedNodeName ? '' : known) || '';
    this.addNominatedPod(pod, next);
  }

  /** deleteNominatedPodIfExists forgets pod's nomination. */
  deleteNominatedPodIfExists(pod: Pod): void {
    this.deleteNominated(pod.metadata.uid ?? podKey(pod));
  }

  private deleteNominated(uid: string): void {
    const node = this.nominatedPodToNode.get(uid);
    if (node === undefined) return;
    this.nominatedPodToNode.delete(uid);
    const m = this.nominatedPods.get(node);
    m?.delete(uid);
    if (m && m.size === 0) this.nominatedPods.delete(node);
  }

  /** nominatedPodsForNode are the pods nominated to run on node (the framework's PodNominator). */
  nominatedPodsForNode(node: string): readonly PodInfo[] {
    // Asked for every node a cycle filters: no allocation when none is nominated there.
    const m = this.nominatedPods.get(node);
    return m ? [...m.values()] : noPodInfos;
  }

  /** hasNominatedPods: some pod is nominated to some node. */
  hasNominatedPods(): boolean {
    return this.nominatedPods.size > 0;
  }

  /** nominatedNodeOf is the node pod is nominated to, if any. */
  nominatedNodeOf(pod: Pod): string | undefined {
    return this.nominatedPodToNode.get(pod.metadata.uid ?? podKey(pod));
  }
}

const noPodInfos: readonly PodInfo[] = Object.freeze([]);

/** isGated: the pod still has scheduling gates (the SchedulingGates PreEnqueue plugin). */
export function isGated(pod: Pod): boolean {
  return (pod.spec?.schedulingGates?.length ?? 0) > 0;
}

/**
 * isPodUpdated is kube's check that an update is more than bookkeeping: it ignores
 * resourceVersion, generation, managedFields and status.
 */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  const strip = (p: Pod) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata;
    return stringifyJSON({ meta, spec: p.spec }); // a spec may hold an int64 BigInt (a grace period of 2^63-1)
  };
  return strip(oldPod) !== strip(newPod);
}
