// What the rollout strategies (rolling.ts, recreate.ts) and the progress conditions (progress.ts)
// need from the Deployment syncer, as an interface: sync.ts imports the strategies and implements
// this, the strategies import only this, so no module depends back on the one that calls it.

import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import type { Logger } from '../../lib/log.js';

/** SyncResult is what a sync step returns: nothing, or when to look at the Deployment again. */
export type SyncResult = ReconcileResult | void;

/** PodMap is the Deployment's pods grouped by the uid of the ReplicaSet that controls them. */
export type PodMap = Map<string, Pod[]>;

/** RolloutSyncer is the part of DeploymentSyncer a rollout step calls back into. */
export interface RolloutSyncer {
  readonly log: Logger | undefined;
  /** now is the clock of conditions and deadlines. */
  readonly now: () => Date;
  /** getAllReplicaSetsAndSyncRevision is the new ReplicaSet (created when asked and missing) and the old ones. */
  getAllReplicaSetsAndSyncRevision(
    d: Deployment,
    rsList: readonly ReplicaSet[],
    createIfNotExisted: boolean,
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }>;
  /** scaleReplicaSetAndRecordEvent scales rs to newScale unless it already is, with an event. */
  scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }>;
  /** cleanupDeployment deletes old ReplicaSets beyond the revision history limit. */
  cleanupDeployment(oldRSs: readonly ReplicaSet[], d: Deployment): Promise<void>;
  /** updateDeploymentStatus writes d's status through /status. */
  updateDeploymentStatus(d: Deployment): Promise<void>;
}
