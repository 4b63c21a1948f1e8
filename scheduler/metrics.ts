// The scheduler's Prometheus series, named as kube-scheduler publishes them
// (pkg/scheduler/metrics): attempts by result and profile, the duration of one attempt, the
// time from a pod's first enqueue to its binding, the pending pods per queue, and preemption.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PendingPods } from './queue/queue.js';

/** AttemptResult is the result label of scheduler_schedule_attempts_total. */
export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** SchedulerMetrics records what the scheduling loop does; NoopMetrics when no registry is given. */
export interface SchedulerMetrics {
  attempt(result: AttemptResult, profile: string, seconds: number): void;
  /** podScheduled records a binding: attempts it took and seconds since the pod was first queued. */
  podScheduled(profile: string, attempts: number, seconds: number): void;
  preemptionAttempt(): void;
  preemptionVictims(n: number): void;
  /** setPendingSource tells the pending_pods gauge where to read the queue's counts. */
  setPendingSource(fn: () => PendingPods): void;
}

const registered = new WeakMap<Registry, SchedulerMetrics>();

/** newSchedulerMetrics registers the series on registry (once per registry). */
export function newSchedulerMetrics(registry: Registry): SchedulerMetrics {
  const existing = registered.get(registry);
  if (existing) return existing;
  const attempts = new Counter({
    name: 'scheduler_schedule_attempts_total',
    help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
    labelNames: ['result', 'profile'],
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds',
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
    labelNames: ['result', 'profile'],
    buckets: exponentialBuckets(0.001, 2, 15),
    registers: [registry],
  });
  const podDuration = new Histogram({
    name: 'scheduler_pod_scheduling_duration_seconds',
    help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue to its binding; may include multiple scheduling attempts.',
    labelNames: ['attempts'],
    buckets: exponentialBuckets(0.01, 2, 20),
    registers: [registry],
  });
  let pendingSource: (() => PendingPods) | undefined;
  new Gauge({
    name: 'scheduler_pending_pods',
    help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      if (!pendingSource) return;
      const p = pendingSource();
      this.set({ queue: 'active' }, p.active);
      this.set({ queue: 'backoff' }, p.backoff);
      this.set({ queue: 'unschedulable' }, p.unschedulable);
      this.set({ queue: 'gated' }, p.gated);
    },
  });
  const preemptionAttempts = new Counter({ name: 'scheduler_preemption_attempts_total', help: 'Total preemption attempts in the cluster till now', registers: [registry] });
  const preemptionVictims = new Histogram({
    name: 'scheduler_preemption_victims',
    help: 'Number of selected preemption victims',
    buckets: exponentialBuckets(1, 2, 7),
    registers: [registry],
  });
  const m: SchedulerMetrics = {
    attempt: (result, profile, seconds) => {
      attempts.inc({ result, profile });
      attemptDuration.observe({ result, profile }, seconds);
    },
    podScheduled: (_profile, n, seconds) => podDuration.observe({ attempts: n >= 15 ? '15+' : String(n) }, seconds),
    preemptionAttempt: () => preemptionAttempts.inc(),
    preemptionVictims: (n) => preemptionVictims.observe(n),
    setPendingSource: (fn) => {
      pendingSource = fn;
    },
  };
  registered.set(registry, m);
  return m;
}

/** noopMetrics records nothing (unit tests). */
export const noopMetrics: SchedulerMetrics = {
  attempt: () => undefined,
  podScheduled: () => undefined,
  preemptionAttempt: () => undefined,
  preemptionVictims: () => undefined,
  setPendingSource: () => undefined,
};

function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < count; i++, v *= factor) out.push(Number(v.toPrecision(6)));
  return out;
}
