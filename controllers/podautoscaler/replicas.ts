// The replica calculator (kube's pkg/controller/podautoscaler/replica_calculator.go), as pure
// functions: from the pods a target selects, their resource metrics and requests, the replica
// count that brings the average to the target. desired = ceil(ready pods × usage / target), no
// change within the 10% tolerance; pods not yet ready and pods without metrics are counted so
// that they can only damp a change, never cause one.

import type { Pod } from '../../lib/api/core/pod.js';
import { parseQuantity } from '../../lib/api/core/quantity.js';

/** defaultTolerance is --horizontal-pod-autoscaler-tolerance. */
export const defaultTolerance = 0.1;
/** cpuInitializationPeriodMs is --horizontal-pod-autoscaler-cpu-initialization-period. */
export const cpuInitializationPeriodMs = 5 * 60_000;
/** initialReadinessDelayMs is --horizontal-pod-autoscaler-initial-readiness-delay. */
export const initialReadinessDelayMs = 30_000;

/** PodMetric is one pod's usage of a resource in milli-units, with when and over which window it was measured. */
export interface PodMetric {
  value: number;
  timestampMs: number;
  windowMs: number;
}

/** ReplicaCalculationError is a calculation that cannot be made (no pods, no metrics, no requests). */
export class ReplicaCalculationError extends Error {
  override name = 'ReplicaCalculationError';
}

interface Groups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** groupPods is groupPods: which pods count as ready, unready, without metrics, or not at all. */
export function groupPods(pods: Pod[], metrics: Map<string, PodMetric>, resource: string, nowMs: number): Groups {
  const g: Groups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
      let unready: boolean;
      if (!ready || start === undefined) unready = true;
      else {
        const transition = Date.parse(ready.lastTransitionTime ?? '') || 0;
        if (start + cpuInitializationPeriodMs > nowMs) {
          // Within the initialization period a metric counts only when taken wholly after the pod became ready.
          unready = ready.status === 'False' || metric.timestampMs < transition + metric.windowMs;
        } else {
          unready = ready.status === 'False' && start + initialReadinessDelayMs > transition;
        }
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

/** quantityMilli is a quantity in milli-units (Quantity.MilliValue). */
export function quantityMilli(q: string | number | undefined): number | undefined {
  const p = parseQuantity(q);
  return p ? Number(p.nanos / 1_000_000n) : undefined;
}

/** podRequests is calculatePodRequests: each pod's request of resource (milli), summed over its containers. */
export function podRequests(pods: Pod[], resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) {
      const r = quantityMilli(c.resources?.requests?.[resource]);
      if (r === undefined) throw new ReplicaCalculationError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += r;
    }
    out.set(pod.metadata.name ?? '', sum);
  }
  return out;
}

/** utilizationRatio is GetResourceUtilizationRatio: over the pods with both a metric and a request. */
export function utilizationRatio(metrics: Map<string, PodMetric>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let usage = 0;
  let request = 0;
  let n = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    usage += m.value;
    request += r;
    n++;
  }
  if (request === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
  const utilization = Math.trunc((usage * 100) / request);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(usage / n) };
}

export interface ResourceReplicas {
  replicas: number;
  /** utilization is the average percentage of requests (Utilization targets). */
  utilization?: number;
  /** rawAverage is the average usage per pod, in milli-units. */
  rawAverage: number;
  timestampMs: number;
}

/** ResourceReplicasInput is what a calculation starts from. */
export interface ResourceReplicasInput {
  currentReplicas: number;
  resource: string;
  pods: Pod[];
  metrics: Map<string, PodMetric>;
  nowMs: number;
  tolerance?: number;
  /** targetUtilization (percent of requests) or targetAverage (milli-units per pod): one of them. */
  targetUtilization?: number;
  targetAverage?: number;
}

/**
 * resourceReplicas is GetResourceReplicas (a Utilization target) and GetRawResourceReplicas
 * (an AverageValue target): the replica count for one resource metric.
 */
export function resourceReplicas(input: ResourceReplicasInput): ResourceReplicas {
  const { currentReplicas, resource, pods, nowMs } = input;
  const tolerance = input.tolerance ?? defaultTolerance;
  if (!pods.length) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const metrics = new Map(input.metrics);
  const timestampMs = Math.max(0, ...[...metrics.values()].map((m) => m.timestampMs));
  const g = groupPods(pods, metrics, resource, nowMs);
  for (const name of [...g.ignored, ...g.unready]) metrics.delete(name);
  if (!metrics.size) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');

  const utilization = input.targetUtilization !== undefined;
  const requests = utilization ? podRequests(pods, resource) : undefined;
  const ratioOf = (ms: Map<string, PodMetric>) => {
    if (requests) return utilizationRatio(ms, requests, input.targetUtilization!);
    const values = [...ms.values()].map((m) => m.value);
    const avg = values.reduce((a, b) => a + b, 0) / values.length;
    return { ratio: avg / input.targetAverage!, utilization: undefined, rawAverage: Math.trunc(avg) };
  };
  const first = ratioOf(metrics);
  const base = { utilization: first.utilization, rawAverage: first.rawAverage, timestampMs };
  const ratio = first.ratio;
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - ratio) <= tolerance) return { replicas: currentReplicas, ...base };
    // AverageValue counts the pods with metrics; Utilization the ready ones (the same set here).
    return { replicas: Math.ceil(ratio * (requests ? g.readyPodCount : metrics.size)), ...base };
  }
  // Missing pods count as using the target on a scale-down (100% at least) and nothing on a
  // scale-up; unready pods as nothing on a scale-up.
  for (const name of g.missing) {
    let value = 0;
    if (ratio < 1) value = requests ? ((requests.get(name) ?? 0) * Math.max(100, input.targetUtilization!)) / 100 : input.targetAverage!;
    else if (ratio === 1) continue;
    metrics.set(name, { value, timestampMs, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, { value: 0, timestampMs, windowMs: 0 });
  const next = ratioOf(metrics).ratio;
  if (Math.abs(1 - next) <= tolerance || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return { replicas: currentReplicas, ...base };
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1 && replicas > currentReplicas) || (next > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, ...base };
  return { replicas, ...base };
}
