// What both writers of a PodDisruptionBudget's status share: the disruption controller and the
// eviction subresource (k8s.io/component-helpers/apps/poddisruptionbudget, and apimachinery's
// meta.SetStatusCondition for metav1.Condition lists).

import { type Condition, nowRFC3339 } from '../meta.js';
import { type LabelSelectorExpr, isEverything, labelSelectorAsSelector, matches } from '../../machinery/labels.js';
import { DisruptionAllowedCondition, InsufficientPodsReason, type PodDisruptionBudget, SufficientPodsReason } from './poddisruptionbudget.js';

/**
 * setStatusCondition is meta.SetStatusCondition: add the condition, or update the one of its type
 * in place; lastTransitionTime moves only when the status changes. Returns whether anything changed.
 */
export function setStatusCondition(conditions: Condition[], next: Condition, now: Date): boolean {
  const existing = conditions.find((c) => c.type === next.type);
  if (!existing) {
    conditions.push({ ...next, lastTransitionTime: next.lastTransitionTime ?? nowRFC3339(now) });
    return true;
  }
  let changed = false;
  if (existing.status !== next.status) {
    existing.status = next.status;
    existing.lastTransitionTime = next.lastTransitionTime ?? nowRFC3339(now);
    changed = true;
  }
  if (existing.reason !== next.reason) {
    existing.reason = next.reason;
    changed = true;
  }
  if ((existing.message ?? '') !== (next.message ?? '')) {
    existing.message = next.message;
    changed = true;
  }
  if ((existing.observedGeneration ?? 0) !== (next.observedGeneration ?? 0)) {
    existing.observedGeneration = next.observedGeneration;
    changed = true;
  }
  return changed;
}

/** updateDisruptionAllowedCondition is pdbhelper.UpdateDisruptionAllowedCondition: the condition follows disruptionsAllowed. */
export function updateDisruptionAllowedCondition(pdb: PodDisruptionBudget, now: Date): void {
  const status = (pdb.status ??= {});
  const conditions = (status.conditions ??= []);
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  setStatusCondition(
    conditions,
    {
      type: DisruptionAllowedCondition,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SufficientPodsReason : InsufficientPodsReason,
      message: '',
      observedGeneration: status.observedGeneration ?? 0,
    },
    now,
  );
}

/** conditionsAreUpToDate is pdbhelper.ConditionsAreUpToDate. */
export function conditionsAreUpToDate(pdb: PodDisruptionBudget): boolean {
  const cond = pdb.status?.conditions?.find((c) => c.type === DisruptionAllowedCondition);
  if (!cond) return false;
  if ((pdb.status?.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  if ((pdb.status?.disruptionsAllowed ?? 0) > 0) return cond.status === 'True' && cond.reason === SufficientPodsReason;
  return cond.status === 'False' && cond.reason === InsufficientPodsReason;
}

/**
 * pdbSelector is the budget's selector, or undefined when it cannot be converted (such a budget
 * guards no pod).
 */
export function pdbSelector(pdb: PodDisruptionBudget): LabelSelectorExpr | undefined {
  try {
    return labelSelectorAsSelector(pdb.spec?.selector);
  } catch {
    return undefined;
  }
}

/**
 * pdbGuardsPod says whether the budget covers the pod: same namespace, and a valid selector that
 * matches the pod's labels. policy/v1 lets an empty selector match every pod of the namespace
 * (the eviction subresource and the disruption controller); the scheduler's preemption still
 * reads an empty selector as matching nothing (emptyMatchesAll false), as Kubernetes does.
 */
export function pdbGuardsPod(
  pdb: PodDisruptionBudget,
  pod: { metadata?: { namespace?: string; labels?: Record<string, string> } },
  opts: { emptyMatchesAll: boolean } = { emptyMatchesAll: true },
): boolean {
  if ((pdb.metadata.namespace ?? '') !== (pod.metadata?.namespace ?? '')) return false;
  const sel = pdbSelector(pdb);
  if (!sel || (!opts.emptyMatchesAll && isEverything(sel))) return false;
  return matches(sel, pod.metadata?.labels);
}
