// Rollout progress (kube's pkg/controller/deployment/progress.go): the Progressing condition
// (NewReplicaSetAvailable when complete, ReplicaSetUpdated on any progress,
// ProgressDeadlineExceeded once progressDeadlineSeconds pass without progress), the
// ReplicaFailure condition carried over from the ReplicaSets, and a timed re-check so a stuck
// rollout is noticed even when no event arrives.

import { type Deployment, type DeploymentCondition, DeploymentConditionType, type DeploymentStatus, type ReplicaSet } from '../../lib/api/apps/types.js';
import type { RolloutSyncer, SyncResult } from './rollout.js';
import {
  Reason,
  calculateStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getDeploymentCondition,
  hasProgressDeadline,
  newDeploymentCondition,
  removeDeploymentCondition,
  replicaSetToDeploymentCondition,
  setDeploymentCondition,
  statusEqual,
} from './util.js';

/**
 * syncRolloutStatus computes the status with the Progressing and ReplicaFailure conditions and
 * writes it when it changed. When nothing changed and the rollout is neither complete nor timed
 * out, it asks to be synced again right after the deadline would pass.
 */
export async function syncRolloutStatus(dc: RolloutSyncer, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<SyncResult> {
  const now = dc.now();
  const newStatus = calculateStatus(allRSs, newRS, d, now);

  if (!hasProgressDeadline(d)) removeDeploymentCondition(newStatus, DeploymentConditionType.Progressing);

  // A complete rollout whose condition already says so is left alone: no timestamp churn.
  const currentCond = getDeploymentCondition(d.status, DeploymentConditionType.Progressing);
  const isCompleteDeployment = newStatus.replicas === newStatus.updatedReplicas && currentCond?.reason === Reason.NewReplicaSetAvailable;
  if (hasProgressDeadline(d) && !isCompleteDeployment) {
    const subject = newRS ? `ReplicaSet ${JSON.stringify(newRS.metadata.name)}` : `Deployment ${JSON.stringify(d.metadata.name)}`;
    if (deploymentComplete(d, newStatus)) {
      setDeploymentCondition(newStatus, newDeploymentCondition(DeploymentConditionType.Progressing, 'True', Reason.NewReplicaSetAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, newStatus)) {
      // Progress refreshes lastUpdateTime (the deadline counts from it), so the condition is
      // replaced, keeping lastTransitionTime while it stays True.
      const cond = newDeploymentCondition(DeploymentConditionType.Progressing, 'True', Reason.ReplicaSetUpdated, `${subject} is progressing.`, now);
      if (currentCond) {
        if (currentCond.status === 'True') cond.lastTransitionTime = currentCond.lastTransitionTime;
        removeDeploymentCondition(newStatus, DeploymentConditionType.Progressing);
      }
      setDeploymentCondition(newStatus, cond);
    } else if (deploymentTimedOut(d, newStatus, now)) {
      setDeploymentCondition(newStatus, newDeploymentCondition(DeploymentConditionType.Progressing, 'False', Reason.TimedOut, `${subject} has timed out progressing.`, now));
    }
  }

  // The new ReplicaSet's failure to create pods (quota, a rejected template) is the Deployment's too.
  const failures = getReplicaFailures(allRSs, newRS);
  if (failures.length) setDeploymentCondition(newStatus, failures[0]!);
  else removeDeploymentCondition(newStatus, DeploymentConditionType.ReplicaFailure);

  if (statusEqual(d.status, newStatus)) {
    const after = requeueStuckDeployment(d, newStatus, now);
    return after === undefined ? undefined : { requeueAfter: after };
  }
  d.status = newStatus;
  await dc.updateDeploymentStatus(d);
}

/** getReplicaFailures is the new ReplicaSet's ReplicaFailure conditions, else any old one's. */
export function getReplicaFailures(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentCondition[] {
  const failures = (rs: ReplicaSet) => (rs.status?.conditions ?? []).filter((c) => c.type === DeploymentConditionType.ReplicaFailure).map(replicaSetToDeploymentCondition);
  if (newRS) {
    const own = failures(newRS);
    if (own.length) return own;
  }
  return allRSs.flatMap((rs) => (rs ? failures(rs) : []));
}

/**
 * requeueStuckDeployment is how long (ms) until the deadline of a rollout that shows no progress
 * now, plus a second against clock skew; undefined when there is no deadline to watch. A
 * deadline less than a second away is checked again in a second.
 */
export function requeueStuckDeployment(d: Deployment, newStatus: DeploymentStatus, now: Date): number | undefined {
  const cond = getDeploymentCondition(d.status, DeploymentConditionType.Progressing);
  if (!hasProgressDeadline(d) || !cond) return undefined;
  if (deploymentComplete(d, newStatus) || cond.reason === Reason.TimedOut) return undefined;
  const last = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(last)) return undefined;
  const after = last + d.spec.progressDeadlineSeconds! * 1000 - now.getTime();
  if (after < 1000) return 1000;
  return after + 1000;
}
