// The RollingUpdate strategy (kube's pkg/controller/deployment/rolling.go): each sync first
// scales the new ReplicaSet up as far as maxSurge allows; when it cannot, it scales old ones
// down as far as maxUnavailable allows, unhealthy replicas first. So at every moment the
// ReplicaSets ask for at most replicas+maxSurge pods, and at least replicas-maxUnavailable are
// available (once they were).

import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import type { RolloutSyncer, SyncResult } from './rollout.js';
import { syncRolloutStatus } from './progress.js';
import {
  byCreationTimestamp,
  dReplicas,
  deploymentComplete,
  filterActiveReplicaSets,
  getAvailableReplicaCountForReplicaSets,
  getReplicaCountForReplicaSets,
  maxUnavailable,
  newRSNewReplicas,
  rsReplicas,
} from './util.js';

/** rolloutRolling moves a RollingUpdate Deployment one step: scale up, else scale down, else clean up. */
export async function rolloutRolling(dc: RolloutSyncer, d: Deployment, rsList: readonly ReplicaSet[]): Promise<SyncResult> {
  const { newRS, oldRSs } = await dc.getAllReplicaSetsAndSyncRevision(d, rsList, true);
  const allRSs = [...oldRSs, newRS!];

  if (await reconcileNewReplicaSet(dc, allRSs, newRS!, d)) return syncRolloutStatus(dc, allRSs, newRS, d);

  if (await reconcileOldReplicaSets(dc, allRSs, filterActiveReplicaSets(oldRSs), newRS!, d)) return syncRolloutStatus(dc, allRSs, newRS, d);

  if (deploymentComplete(d, d.status ?? {})) await dc.cleanupDeployment(oldRSs, d);

  return syncRolloutStatus(dc, allRSs, newRS, d);
}

/**
 * reconcileNewReplicaSet scales the new ReplicaSet toward spec.replicas: down at once when it is
 * larger, up only as far as replicas+maxSurge pods in all allow. Returns whether it scaled.
 */
export async function reconcileNewReplicaSet(dc: RolloutSyncer, allRSs: readonly ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
  if (rsReplicas(newRS) === dReplicas(d)) return false;
  if (rsReplicas(newRS) > dReplicas(d)) return (await dc.scaleReplicaSetAndRecordEvent(newRS, dReplicas(d), d)).scaled;
  const count = newRSNewReplicas(d, allRSs, newRS);
  return (await dc.scaleReplicaSetAndRecordEvent(newRS, count, d)).scaled;
}

/**
 * reconcileOldReplicaSets scales old ReplicaSets down as far as availability allows:
 *
 *   maxScaledDown = allPodsCount - minAvailable - newRSUnavailablePodCount
 *
 * Unavailable pods of the new RS are counted as if they will never become available, so they
 * never let old available pods go. Within that budget unhealthy old replicas go first (removing
 * them costs no availability and unblocks a stuck rollout), then available ones while more than
 * minAvailable pods are available. Returns whether anything was scaled down.
 */
export async function reconcileOldReplicaSets(
  dc: RolloutSyncer,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  if (getReplicaCountForReplicaSets(oldRSs) === 0) return false;
  const allPodsCount = getReplicaCountForReplicaSets(allRSs);
  const minAvailable = dReplicas(d) - maxUnavailable(d);
  const newRSUnavailablePodCount = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPodsCount - minAvailable - newRSUnavailablePodCount;
  if (maxScaledDown <= 0) return false;

  // As kube, a failure here only skips scaling down in this sync. The usual one is a ReplicaSet
  // whose status still counts pods its smaller spec gave up (availableReplicas > replicas):
  // scaling down on that stale availability could break maxUnavailable. Its status update, like
  // any failed write's cause, brings the Deployment back.
  let cleaned: { oldRSs: ReplicaSet[]; scaledDown: number };
  let scaledDown: number;
  try {
    cleaned = await cleanupUnhealthyReplicas(dc, oldRSs, d, maxScaledDown);
    scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(dc, [...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
  } catch (err) {
    dc.log?.v(2).info('Not scaling down old replica sets in this sync', { deployment: `${d.metadata.namespace}/${d.metadata.name}`, err: (err as Error).message });
    return false;
  }
  return cleaned.scaledDown + scaledDown > 0;
}

/**
 * cleanupUnhealthyReplicas scales old ReplicaSets (oldest first) down by their unavailable
 * replicas, at most maxCleanupCount in all. The ReplicaSet controller removes not-ready pods
 * first, so this costs no availability. Returns the ReplicaSets as updated and how many went.
 */
export async function cleanupUnhealthyReplicas(
  dc: RolloutSyncer,
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
  maxCleanupCount: number,
): Promise<{ oldRSs: ReplicaSet[]; scaledDown: number }> {
  const sorted = [...oldRSs].sort(byCreationTimestamp);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanupCount) break;
    const rs = sorted[i]!;
    const available = rs.status?.availableReplicas ?? 0;
    if (rsReplicas(rs) === 0 || rsReplicas(rs) === available) continue;
    const count = Math.min(maxCleanupCount - total, rsReplicas(rs) - available);
    const newReplicas = rsReplicas(rs) - count;
    if (newReplicas > rsReplicas(rs)) {
      throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${rsReplicas(rs)} -> ${newReplicas}`);
    }
    const { rs: updated } = await dc.scaleReplicaSetAndRecordEvent(rs, newReplicas, d);
    total += count;
    sorted[i] = updated;
  }
  return { oldRSs: sorted, scaledDown: total };
}

/**
 * scaleDownOldReplicaSetsForRollingUpdate scales old ReplicaSets (oldest first) down by as many
 * available pods as exceed minAvailable. Returns how many it removed.
 */
export async function scaleDownOldReplicaSetsForRollingUpdate(
  dc: RolloutSyncer,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): Promise<number> {
  const minAvailable = dReplicas(d) - maxUnavailable(d);
  const availablePodCount = getAvailableReplicaCountForReplicaSets(allRSs);
  if (availablePodCount <= minAvailable) return 0;
  const totalScaleDownCount = availablePodCount - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreationTimestamp)) {
    if (total >= totalScaleDownCount) break;
    if (rsReplicas(rs) === 0) continue;
    const count = Math.min(rsReplicas(rs), totalScaleDownCount - total);
    const newReplicas = rsReplicas(rs) - count;
    if (newReplicas > rsReplicas(rs)) {
      throw new Error(`when scaling down old replica set, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${rsReplicas(rs)} -> ${newReplicas}`);
    }
    await dc.scaleReplicaSetAndRecordEvent(rs, newReplicas, d);
    total += count;
  }
  return total;
}
