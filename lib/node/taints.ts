// Taints and tolerations as every process reads them: the scheduler's TaintToleration and
// NodeUnschedulable plugins, the node lifecycle and taint eviction controllers, and the
// kubelet's admission (k8s.io/api core/v1 Toleration.ToleratesTaint, Taint.MatchTaint,
// k8s.io/component-helpers/scheduling/corev1 FindMatchingUntoleratedTaint, v1helper.GetMatchingTolerations).

import type { Taint, Toleration } from '../api/core/types.js';

/** TaintEffect values. */
export const TaintEffect = { NoSchedule: 'NoSchedule', PreferNoSchedule: 'PreferNoSchedule', NoExecute: 'NoExecute' } as const;
export type TaintEffect = (typeof TaintEffect)[keyof typeof TaintEffect];

// The taints the node controllers put on nodes (k8s.io/api core/v1 well_known_taints.go).
export const TaintNodeNotReady = 'node.kubernetes.io/not-ready';
export const TaintNodeUnreachable = 'node.kubernetes.io/unreachable';
export const TaintNodeUnschedulable = 'node.kubernetes.io/unschedulable';
export const TaintNodeMemoryPressure = 'node.kubernetes.io/memory-pressure';
export const TaintNodeDiskPressure = 'node.kubernetes.io/disk-pressure';
export const TaintNodeNetworkUnavailable = 'node.kubernetes.io/network-unavailable';
export const TaintNodePIDPressure = 'node.kubernetes.io/pid-pressure';

/** matchTaint is Taint.MatchTaint: same key and effect (the value and time do not count). */
export function matchTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** taintExists says whether taints hold one matching t. */
export function taintExists(taints: readonly Taint[] | undefined, t: Taint): boolean {
  return (taints ?? []).some((x) => matchTaint(x, t));
}

/**
 * toleratesTaint is Toleration.ToleratesTaint: an empty effect matches every effect and an empty
 * key every key; Equal (or no operator) compares values, Exists matches any value, and an
 * unknown operator matches nothing.
 */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  switch (tol.operator ?? '') {
    case '':
    case 'Equal':
      return (tol.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** tolerationsTolerateTaint says whether some toleration tolerates the taint. */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  if (!tolerations) return false;
  for (let i = 0; i < tolerations.length; i++) if (toleratesTaint(tolerations[i]!, taint)) return true;
  return false;
}

/** isDoNotScheduleTaint is DoNotScheduleTaintsFilterFunc: NoSchedule and NoExecute taints keep pods off. */
export function isDoNotScheduleTaint(t: Taint): boolean {
  return t.effect === TaintEffect.NoSchedule || t.effect === TaintEffect.NoExecute;
}

/** findMatchingUntoleratedTaint is the first taint passing filter that no toleration tolerates, in the node's order. */
export function findMatchingUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  filter: (t: Taint) => boolean,
): Taint | undefined {
  if (!taints) return undefined;
  for (let i = 0; i < taints.length; i++) {
    const t = taints[i]!;
    if (!filter(t)) continue;
    if (!tolerationsTolerateTaint(tolerations, t)) return t;
  }
  return undefined;
}

/**
 * getMatchingTolerations is GetMatchingTolerations: whether every taint is tolerated, and the
 * first toleration that tolerates each one.
 */
export function getMatchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined): { all: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const tol = (tolerations ?? []).find((t) => toleratesTaint(t, taint));
    if (!tol) return { all: false, used: [] };
    used.push(tol);
  }
  return { all: true, used };
}
