// The Job's pod failure policy (kube's pkg/controller/job/pod_failure_policy.go) and the pod
// failure back-off (backoff_utils.go): pure functions over pods.

import type { Pod } from '../../lib/api/core/pod.js';
import type { PodFailurePolicy } from '../../lib/api/batch/types.js';

/** PolicyMatch is matchPodFailurePolicy's answer: a FailJob message, whether the failure counts, and the rule's action. */
export interface PolicyMatch {
  failJobMessage?: string;
  countFailed: boolean;
  action?: string;
}

/** matchPodFailurePolicy returns what the first matching rule says about a failed pod (no rule: counted). */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let message: string | undefined;
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      for (const cs of statuses) {
        if (req.containerName && req.containerName !== cs.name) continue;
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        const inValues = req.values.includes(code);
        if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) {
          message = `Container ${cs.name} for pod ${who} failed with exit code ${code} matching ${rule.action} rule at index ${index}`;
          break;
        }
      }
    } else {
      for (const pattern of rule.onPodConditions ?? []) {
        const cond = pod.status?.conditions?.find((c) => c.type === pattern.type && c.status === (pattern.status ?? 'True'));
        if (cond) {
          message = `Pod ${who} has condition ${pattern.type} matching ${rule.action} rule at index ${index}`;
          break;
        }
      }
    }
    if (message === undefined) continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: rule.action };
      case 'FailJob':
        return { failJobMessage: message, countFailed: true, action: rule.action };
      default:
        // Count, and FailIndex (whose per-index accounting skiff leaves out) count the failure.
        return { countFailed: true, action: rule.action };
    }
  }
  return { countFailed: true };
}

/** DefaultJobPodFailureBackOffMs and MaxJobPodFailureBackOffMs are the job controller's (10 s doubling, at most 10 min). */
export const DefaultJobPodFailureBackOffMs = 10_000;
export const MaxJobPodFailureBackOffMs = 10 * 60_000;

/** BackoffRecord is kube's backoffRecord: failures since the last success, and when the last one happened. */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** podFinishedTime is getFinishedTime: the latest container finish, else the deletion or now. */
export function podFinishedTime(pod: Pod, now: number): number {
  let latest: number | undefined;
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const t = cs.state?.terminated?.finishedAt;
    if (t) latest = Math.max(latest ?? 0, Date.parse(t));
  }
  if (latest !== undefined) return latest;
  if (pod.metadata.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp);
  return now;
}

/** newBackoffRecord folds newly finished pods, oldest first, into the stored record: a success resets it. */
export function newBackoffRecord(stored: BackoffRecord | undefined, succeeded: readonly Pod[], failed: readonly Pod[], now: number): BackoffRecord {
  const rec: BackoffRecord = { ...(stored ?? { failuresAfterLastSuccess: 0 }) };
  const events = [...succeeded.map((p) => ({ t: podFinishedTime(p, now), ok: true })), ...failed.map((p) => ({ t: podFinishedTime(p, now), ok: false }))].sort((a, b) => a.t - b.t);
  for (const e of events) {
    if (e.ok) {
      if (rec.lastFailureTime === undefined || e.t >= rec.lastFailureTime) rec.failuresAfterLastSuccess = 0;
    } else {
      rec.failuresAfterLastSuccess++;
      rec.lastFailureTime = Math.max(rec.lastFailureTime ?? 0, e.t);
    }
  }
  return rec;
}

/** remainingBackoffMs is getRemainingTime: how long pod creation must still wait after the last failure. */
export function remainingBackoffMs(rec: BackoffRecord, now: number): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  const backoff = Math.min(DefaultJobPodFailureBackOffMs * 2 ** (rec.failuresAfterLastSuccess - 1), MaxJobPodFailureBackOffMs);
  return Math.max(0, backoff - (now - rec.lastFailureTime));
}
