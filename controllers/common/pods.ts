// Pod helpers the workload controllers share (kube's pkg/controller/controller_utils.go and
// pkg/api/v1/pod): which pods count, which are ready or available, and the order in which a
// ReplicaSet gives up pods when it scales down ("least useful first").
//
// isPodReady, isPodActive and isPodAvailable live with the Pod kind in lib/api/core/pod.ts (the
// apiserver's printers and the endpoints controllers read them too); they are re-exported here so
// a controller imports its pod helpers from one place.

import { type Pod, PodConditionType, PodPhase, getPodCondition, isPodActive, isPodAvailable, isPodReady } from '../../lib/api/core/pod.js';
import { isRestartableInitContainer } from '../../lib/api/core/podspec.js';

export { isPodActive, isPodAvailable, isPodReady };

/** PodDeletionCostAnnotation lets a user mark which pods a ReplicaSet should remove first (lower cost first). */
export const PodDeletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

/** filterActivePods is controller.FilterActivePods: the pods that count as replicas. */
export function filterActivePods<P extends Pod>(pods: readonly P[]): P[] {
  return pods.filter(isPodActive);
}

/**
 * podReadyTime is the lastTransitionTime of a ready pod's Ready condition in epoch milliseconds,
 * or undefined (Go's zero time) when the pod is not ready or the time is missing.
 */
export function podReadyTime(pod: Pod): number | undefined {
  if (!isPodReady(pod)) return undefined;
  return timeOf(getPodCondition(pod, PodConditionType.Ready)?.lastTransitionTime);
}

/**
 * podDeletionCost reads the pod-deletion-cost annotation as kube's
 * GetDeletionCostFromPodAnnotations: a missing or invalid value is 0 (the apiserver validates it
 * as an int32 on write, so an invalid one is only seen on pods from older clusters).
 */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[PodDeletionCostAnnotation];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}

/** maxContainerRestarts is the highest restartCount of the regular containers and of the sidecars (restartable init containers). */
function maxContainerRestarts(pod: Pod): { regular: number; sidecar: number } {
  let regular = 0;
  for (const c of pod.status?.containerStatuses ?? []) regular = Math.max(regular, c.restartCount ?? 0);
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter(isRestartableInitContainer).map((c) => c.name));
  let sidecar = 0;
  for (const c of pod.status?.initContainerStatuses ?? []) if (sidecars.has(c.name)) sidecar = Math.max(sidecar, c.restartCount ?? 0);
  return { regular, sidecar };
}

const podPhaseOrdinal: Record<string, number> = { [PodPhase.Pending]: 0, [PodPhase.Unknown]: 1, [PodPhase.Running]: 2 };

/** timeOf parses a metav1.Time; missing or unparsable is undefined (Go's zero time). */
function timeOf(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** afterOrZero: t1 is after t2, where a zero (undefined) time counts as after every other time. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

/**
 * logarithmicRankDiff compares how long ago t1 and t2 were in powers of two of nanoseconds
 * (kube's LogarithmicScaleDown): pods of about the same age fall into one bucket, and the
 * tie is then broken by uid, which spreads scale-down randomly over pods of similar age.
 */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number) => {
    const d = (now - t) * 1e6;
    return d > 0 ? Math.floor(Math.log2(d)) : -1;
  };
  return rank(t1) - rank(t2);
}

/**
 * compareTimes orders two timestamps newest first (zero first), in logarithmic buckets when now
 * is known, and by uid within a bucket. Returns <0 when i sorts first, >0 when j does, 0 when equal.
 */
function compareTimes(ti: number | undefined, tj: number | undefined, now: number | undefined, uidI: string, uidJ: string): number {
  if (now === undefined || ti === undefined || tj === undefined) return afterOrZero(ti, tj) ? -1 : 1;
  const diff = logarithmicRankDiff(ti, tj, now);
  if (diff === 0) return uidI < uidJ ? -1 : uidI > uidJ ? 1 : 0;
  return diff;
}

/**
 * compareActivePodsWithRanks is kube's ActivePodsWithRanks.Less as a comparator: the pod a
 * ReplicaSet should delete first sorts first. rankI/rankJ are how many related active pods share
 * each pod's node (more doubled-up is deleted first). The order:
 *  1. unassigned < assigned;
 *  2. Pending < Unknown < Running;
 *  3. not ready < ready;
 *  4. lower pod-deletion-cost < higher;
 *  5. higher rank (more co-located pods) < lower;
 *  6. both ready: ready more recently < ready longer (logarithmic buckets, then uid);
 *  7. more container restarts < fewer (regular containers, then sidecars);
 *  8. newer creationTimestamp < older (logarithmic buckets, then uid), a missing one first.
 */
export function compareActivePodsWithRanks(pi: Pod, pj: Pod, rankI: number, rankJ: number, now?: Date): number {
  const nowMs = now?.getTime();
  const nodeI = pi.spec?.nodeName ?? '';
  const nodeJ = pj.spec?.nodeName ?? '';
  if (nodeI !== nodeJ && (nodeI === '' || nodeJ === '')) return nodeI === '' ? -1 : 1;
  const phaseI = podPhaseOrdinal[pi.status?.phase ?? ''] ?? 0;
  const phaseJ = podPhaseOrdinal[pj.status?.phase ?? ''] ?? 0;
  if (phaseI !== phaseJ) return phaseI - phaseJ;
  const readyI = isPodReady(pi);
  const readyJ = isPodReady(pj);
  if (readyI !== readyJ) return readyI ? 1 : -1;
  const costI = podDeletionCost(pi);
  const costJ = podDeletionCost(pj);
  if (costI !== costJ) return costI - costJ;
  if (rankI !== rankJ) return rankJ - rankI;
  if (readyI && readyJ) {
    const ti = podReadyTime(pi);
    const tj = podReadyTime(pj);
    if (ti !== tj) {
      const c = compareTimes(ti, tj, nowMs, pi.metadata?.uid ?? '', pj.metadata?.uid ?? '');
      if (c !== 0) return c;
    }
  }
  const ri = maxContainerRestarts(pi);
  const rj = maxContainerRestarts(pj);
  if (ri.regular !== rj.regular) return rj.regular - ri.regular;
  if (ri.sidecar !== rj.sidecar) return rj.sidecar - ri.sidecar;
  const ci = timeOf(pi.metadata?.creationTimestamp);
  const cj = timeOf(pj.metadata?.creationTimestamp);
  if (ci !== cj) return compareTimes(ci, cj, nowMs, pi.metadata?.uid ?? '', pj.metadata?.uid ?? '');
  return 0;
}

/**
 * sortActivePods sorts pods least useful first (kube's controller.ActivePods order: every pod
 * ranked 0, no clock, so plain newest-first timestamps). Returns a new array.
 */
export function sortActivePods<P extends Pod>(pods: readonly P[]): P[] {
  return [...pods].sort((a, b) => compareActivePodsWithRanks(a, b, 0, 0));
}

/**
 * sortActivePodsWithRanks sorts pods least useful first, rank[i] belonging to pods[i]
 * (kube's ActivePodsWithRanks with Now set). Returns a new array.
 */
export function sortActivePodsWithRanks<P extends Pod>(pods: readonly P[], ranks: readonly number[], now: Date): P[] {
  const idx = pods.map((_, i) => i);
  // Array.prototype.sort is stable: pods that compare equal keep their input order, so the
  // controller's choice is reproducible (Go's sort.Sort promises no order for them).
  idx.sort((a, b) => compareActivePodsWithRanks(pods[a]!, pods[b]!, ranks[a] ?? 0, ranks[b] ?? 0, now));
  return idx.map((i) => pods[i]!);
}

/**
 * ranksByRelatedPodsOnSameNode is kube's getPodsRankedByRelatedPodsOnSameNode: each pod's
 * rank is the number of active related pods (pods of the same owner's ReplicaSets) on its node.
 */
export function ranksByRelatedPodsOnSameNode(pods: readonly Pod[], related: readonly Pod[]): number[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  return pods.map((p) => onNode.get(p.spec?.nodeName ?? '') ?? 0);
}
