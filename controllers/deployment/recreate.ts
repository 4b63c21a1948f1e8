// The Recreate strategy (kube's pkg/controller/deployment/recreate.go): scale every old
// ReplicaSet to 0, wait until none of their pods runs any more, and only then create (or scale
// up) the new ReplicaSet. Old and new pods never run at the same time.

import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import { PodPhase } from '../../lib/api/core/pod.js';
import type { PodMap, RolloutSyncer, SyncResult } from './rollout.js';
import { syncRolloutStatus } from './progress.js';
import { dReplicas, deploymentComplete, filterActiveReplicaSets, getActualReplicaCountForReplicaSets, rsReplicas } from './util.js';

/** rolloutRecreate moves a Recreate Deployment one step. */
export async function rolloutRecreate(dc: RolloutSyncer, d: Deployment, rsList: readonly ReplicaSet[], podMap: PodMap): Promise<SyncResult> {
  // Do not create the new ReplicaSet yet: nothing may scale up before the old pods are gone.
  let { newRS, oldRSs } = await dc.getAllReplicaSetsAndSyncRevision(d, rsList, false);
  let allRSs: (ReplicaSet | undefined)[] = [...oldRSs, newRS];

  if (await scaleDownOldReplicaSetsForRecreate(dc, filterActiveReplicaSets(oldRSs), d)) return syncRolloutStatus(dc, allRSs, newRS, d);

  // Wait for the old pods to be gone (the pod delete handler brings us back).
  if (oldPodsRunning(newRS, oldRSs, podMap)) return syncRolloutStatus(dc, allRSs, newRS, d);

  if (!newRS) {
    ({ newRS, oldRSs } = await dc.getAllReplicaSetsAndSyncRevision(d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }

  await dc.scaleReplicaSetAndRecordEvent(newRS!, dReplicas(d), d);

  if (deploymentComplete(d, d.status ?? {})) await dc.cleanupDeployment(oldRSs, d);

  return syncRolloutStatus(dc, allRSs, newRS, d);
}

/** scaleDownOldReplicaSetsForRecreate scales every old ReplicaSet with replicas to 0; true when any was. */
export async function scaleDownOldReplicaSetsForRecreate(dc: RolloutSyncer, oldRSs: readonly ReplicaSet[], d: Deployment): Promise<boolean> {
  let scaled = false;
  for (const rs of oldRSs) {
    if (rsReplicas(rs) === 0) continue;
    if ((await dc.scaleReplicaSetAndRecordEvent(rs, 0, d)).scaled) scaled = true;
  }
  return scaled;
}

/**
 * oldPodsRunning: an old ReplicaSet still reports replicas, or one of its pods is not in a
 * terminal phase (Unknown counts as running: it may well be).
 */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: PodMap): boolean {
  if (getActualReplicaCountForReplicaSets(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === PodPhase.Failed || phase === PodPhase.Succeeded) continue;
      return true;
    }
  }
  return false;
}
