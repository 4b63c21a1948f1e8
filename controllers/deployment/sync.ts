// syncDeployment and what every rollout strategy shares (kube's pkg/controller/deployment
// deployment_controller.go syncDeployment and sync.go): claiming ReplicaSets, finding or creating
// the new ReplicaSet with its revision, scaling (proportionally while a rollout is under way),
// cleaning up old revisions, and the Deployment's status. The strategies themselves are in
// rolling.ts and recreate.ts, the progress conditions in progress.ts.
//
// Reads come from the informer caches; every object from a cache is cloned before it is changed.
// A sync writes only on a real difference, and throws to be retried with backoff. A cache that
// has not yet seen this controller's own last write is not synced on (see cacheIsStale).

import { isNamespaceTerminatingError } from '../common/errors.js';
import {
  DefaultDeploymentUniqueLabelKey,
  type Deployment,
  DeploymentConditionType,
  DeploymentStrategyType,
  type ReplicaSet,
  RevisionAnnotation,
} from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { ApiError, type Client, isAlreadyExists, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { Deployments, ReplicaSets } from '../../lib/client/resources.js';
import { TerminalError } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { labelSelectorAsSelector } from '../../lib/machinery/labels.js';
import { ControllerRefManager, getControllerOf, newControllerRef } from '../common/controllerref.js';
import { rolloutRecreate } from './recreate.js';
import type { PodMap, RolloutSyncer, SyncResult } from './rollout.js';
import { rolloutRolling } from './rolling.js';
import {
  Reason,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  calculateStatus,
  cloneSelectorAndAddLabel,
  computeHash,
  dReplicas,
  equalIgnoreHash,
  filterActiveReplicaSets,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getDeploymentCondition,
  getDesiredReplicasAnnotation,
  getProportion,
  getReplicaCountForReplicaSets,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  newDeploymentCondition,
  newRSNewReplicas,
  replicasAnnotationsNeedUpdate,
  rsReplicas,
  setDeploymentCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusEqual,
  wireStatus,
} from './util.js';

export type { PodMap, SyncResult } from './rollout.js';

/** DeploymentSyncerOptions are what a sync reads and writes through. */
export interface DeploymentSyncerOptions {
  client: Client;
  recorder: Recorder;
  deployments: Lister<Deployment>;
  replicaSets: Lister<ReplicaSet>;
  pods: Lister<Pod>;
  log?: Logger;
  /** now is the clock of conditions and deadlines (tests pin it). */
  now?: () => Date;
}


/** StaleCacheRequeueMs is when a sync skipped for a stale cache looks again (the watch event for our write usually comes first). */
export const StaleCacheRequeueMs = 1000;
/** overwrittenTTLMs bounds how long a replaced resourceVersion is remembered (a watch that never delivers our write must not stall a Deployment). */
const overwrittenTTLMs = 10_000;

/** DeploymentSyncer is the Deployment controller's reconcile: syncDeployment(key). */
export class DeploymentSyncer implements RolloutSyncer {
  readonly client: Client;
  readonly recorder: Recorder;
  readonly deployments: Lister<Deployment>;
  readonly replicaSets: Lister<ReplicaSet>;
  readonly pods: Lister<Pod>;
  readonly log: Logger | undefined;
  readonly now: () => Date;
  /**
   * overwritten holds, per Deployment key, the resourceVersions (`kind/name@rv`) that this
   * controller's own writes replaced, and when. A cache still showing one of them has not seen
   * our last write yet: a sync on it would only compute stale numbers and fail with a conflict.
   */
  private readonly overwritten = new Map<string, Map<string, number>>();

  constructor(opts: DeploymentSyncerOptions) {
    this.client = opts.client;
    this.recorder = opts.recorder;
    this.deployments = opts.deployments;
    this.replicaSets = opts.replicaSets;
    this.pods = opts.pods;
    this.log = opts.log;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * syncDeployment brings the Deployment named by key one step closer to its spec. The order is
   * kube's: a Deployment being deleted only gets its status; pause/resume conditions come first;
   * a paused Deployment or a changed spec.replicas only scales; otherwise the strategy rolls out.
   */
  async syncDeployment(key: string): Promise<SyncResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.deployments.get(key);
    if (!cached) {
      this.overwritten.delete(key);
      this.log?.v(4).info('Deployment has been deleted', { deployment: key });
      return;
    }
    if (this.cacheIsStale(key, cached)) {
      this.log?.v(4).info('Waiting for the cache to see our last write', { deployment: key });
      return { requeueAfter: StaleCacheRequeueMs };
    }
    const d = structuredClone(cached);
    const sel = d.spec?.selector;
    if (sel && !Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation };
        await this.updateDeploymentStatus(d);
      }
      return;
    }

    const rsList = await this.getReplicaSetsForDeployment(d);
    // Only Recreate looks at pods: no new pod may start while an old one still runs.
    const podMap = d.spec?.strategy?.type === DeploymentStrategyType.Recreate ? this.getPodMapForDeployment(d, rsList) : new Map<string, Pod[]>();

    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(d, rsList);

    // Paused and resumed Deployments get an Unknown Progressing condition, so time spent paused
    // never counts against progressDeadlineSeconds.
    await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.sync(d, rsList);

    if (this.isScalingEvent(d, rsList)) return this.sync(d, rsList);

    switch (d.spec?.strategy?.type) {
      case DeploymentStrategyType.Recreate:
        return rolloutRecreate(this, d, rsList, podMap);
      case DeploymentStrategyType.RollingUpdate:
        return rolloutRolling(this, d, rsList);
      default:
        throw new TerminalError(`unexpected deployment strategy type: ${d.spec?.strategy?.type} (deployment ${namespace}/${name})`);
    }
  }

  /**
   * cacheIsStale: the cached Deployment or one of the namespace's cached ReplicaSets still has a
   * resourceVersion that one of our writes replaced. Otherwise the cache has caught up with all
   * of them and they are forgotten.
   */
  private cacheIsStale(key: string, d: Deployment): boolean {
    const marks = this.overwritten.get(key);
    if (!marks) return false;
    const now = Date.now();
    for (const [mark, at] of marks) if (now - at > overwrittenTTLMs) marks.delete(mark);
    const seen = [`Deployment/${d.metadata.name}@${d.metadata.resourceVersion}`];
    for (const rs of this.replicaSets.list(d.metadata.namespace ?? '')) seen.push(`ReplicaSet/${rs.metadata.name}@${rs.metadata.resourceVersion}`);
    if (seen.some((m) => marks.has(m))) return true;
    this.overwritten.delete(key);
    return false;
  }

  /** noteWrite remembers that our write replaced obj's resourceVersion (see overwritten). */
  private noteWrite(d: Deployment, obj: { kind?: string; metadata: { name?: string; resourceVersion?: string } }, kind: string): void {
    if (!obj.metadata.resourceVersion) return;
    const key = `${d.metadata.namespace}/${d.metadata.name}`;
    let marks = this.overwritten.get(key);
    if (!marks) this.overwritten.set(key, (marks = new Map()));
    marks.set(`${kind}/${obj.metadata.name}@${obj.metadata.resourceVersion}`, Date.now());
  }

  /** updateReplicaSet PUTs rs (written for d) and notes the version it replaced. */
  private async updateReplicaSet(d: Deployment, rs: ReplicaSet): Promise<ReplicaSet> {
    const out = await this.client.update(ReplicaSets, rs);
    this.noteWrite(d, rs, 'ReplicaSet');
    return out;
  }

  /**
   * getReplicaSetsForDeployment lists the namespace's ReplicaSets and claims them: ours that still
   * match stay, ours that stopped matching are released, matching orphans are adopted.
   */
  async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const all = this.replicaSets.list(d.metadata.namespace ?? '');
    let selector;
    try {
      selector = labelSelectorAsSelector(d.spec?.selector);
    } catch (err) {
      throw new TerminalError(`deployment ${d.metadata.namespace}/${d.metadata.name} has invalid label selector: ${(err as Error).message}`);
    }
    const manager = new ControllerRefManager({ client: this.client, owner: d, ownerType: Deployments, resource: ReplicaSets, selector });
    return manager.claim(all);
  }

  /**
   * getPodMapForDeployment groups the pods the Deployment's selector matches by the ReplicaSet
   * (uid) controlling them; every ReplicaSet has an entry, possibly empty.
   */
  getPodMapForDeployment(d: Deployment, rsList: readonly ReplicaSet[]): PodMap {
    const podMap: PodMap = new Map();
    for (const rs of rsList) podMap.set(rs.metadata.uid ?? '', []);
    const selector = labelSelectorAsSelector(d.spec?.selector);
    for (const pod of this.pods.list(d.metadata.namespace ?? '', selector)) {
      const ref = getControllerOf(pod);
      if (!ref || ref.kind !== 'ReplicaSet') continue;
      podMap.get(ref.uid)?.push(pod);
    }
    return podMap;
  }

  /** syncStatusOnly updates only the status (a Deployment being deleted). */
  async syncStatusOnly(d: Deployment, rsList: readonly ReplicaSet[]): Promise<SyncResult> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** sync scales (a paused Deployment, or a change of spec.replicas) without moving a rollout on. */
  async sync(d: Deployment, rsList: readonly ReplicaSet[]): Promise<SyncResult> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    // A paused Deployment still drops old revisions beyond its history limit.
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** checkPausedConditions records pausing and resuming as an Unknown Progressing condition (never over a timeout). */
  async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getDeploymentCondition(d.status, DeploymentConditionType.Progressing);
    if (cond?.reason === Reason.TimedOut) return;
    const pausedCondExists = cond?.reason === Reason.DeploymentPaused;
    let needsUpdate = false;
    d.status ??= {};
    if (d.spec?.paused && !pausedCondExists) {
      setDeploymentCondition(d.status, newDeploymentCondition(DeploymentConditionType.Progressing, 'Unknown', Reason.DeploymentPaused, 'Deployment is paused', this.now()));
      needsUpdate = true;
    } else if (!d.spec?.paused && pausedCondExists) {
      setDeploymentCondition(d.status, newDeploymentCondition(DeploymentConditionType.Progressing, 'Unknown', Reason.DeploymentResumed, 'Deployment is resumed', this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.updateDeploymentStatus(d);
  }

  /**
   * isScalingEvent: an active ReplicaSet was sized for a different spec.replicas (its
   * desired-replicas annotation), so the user scaled the Deployment.
   */
  isScalingEvent(d: Deployment, rsList: readonly ReplicaSet[]): boolean {
    const newRS = findNewReplicaSet(d, rsList);
    const { allOldRSs } = findOldReplicaSets(d, rsList);
    for (const rs of filterActiveReplicaSets([...allOldRSs, newRS])) {
      const desired = getDesiredReplicasAnnotation(rs);
      if (desired === undefined) continue;
      if (desired !== dReplicas(d)) return true;
    }
    return false;
  }

  /**
   * getAllReplicaSetsAndSyncRevision is the new ReplicaSet (created when asked and missing) with
   * its revision brought up to date, and all the old ones.
   */
  async getAllReplicaSetsAndSyncRevision(
    d: Deployment,
    rsList: readonly ReplicaSet[],
    createIfNotExisted: boolean,
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const { allOldRSs } = findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, allOldRSs, createIfNotExisted);
    return { newRS, oldRSs: allOldRSs };
  }

  /**
   * getNewReplicaSet finds the ReplicaSet whose template is the Deployment's and gives it the
   * next revision (max old revision + 1) when its own is lower (a rollback re-uses an old RS),
   * plus the Deployment's annotations. With none found and createIfNotExisted, it creates
   * `<deployment>-<pod-template-hash>`; a name taken by an RS with another template is a hash
   * collision, which bumps status.collisionCount so the next try hashes differently.
   */
  async getNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[], oldRSs: readonly ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSet | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1n);
    d.status ??= {};

    if (existing) {
      const rsCopy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReadySecondsNeedsUpdate = (rsCopy.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadySecondsNeedsUpdate) {
        if (d.spec.minReadySeconds === undefined) delete rsCopy.spec.minReadySeconds;
        else rsCopy.spec.minReadySeconds = d.spec.minReadySeconds;
        // The Deployment's revision follows on the next sync, which this update triggers.
        return this.updateReplicaSet(d, rsCopy);
      }
      let needsUpdate = setDeploymentRevision(d, rsCopy.metadata.annotations?.[RevisionAnnotation] ?? '');
      // A Deployment without any Progressing condition (one made before deadlines were set, or
      // whose condition was lost) starts counting from the first time its new RS is seen.
      if (hasProgressDeadline(d) && !getDeploymentCondition(d.status, DeploymentConditionType.Progressing)) {
        const msg = `Found new replica set ${JSON.stringify(rsCopy.metadata.name)}`;
        setDeploymentCondition(d.status, newDeploymentCondition(DeploymentConditionType.Progressing, 'True', Reason.FoundNewReplicaSet, msg, this.now()));
        needsUpdate = true;
      }
      if (needsUpdate) await this.updateDeploymentStatus(d);
      return rsCopy;
    }

    if (!createIfNotExisted) return undefined;

    const template = structuredClone(d.spec.template ?? {});
    const hash = computeHash(template, d.status.collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [DefaultDeploymentUniqueLabelKey]: hash };
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        // Deterministic, so that creating twice (a stale cache) fails instead of duplicating.
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, Deployments)],
        labels: { ...template.metadata.labels },
      },
      spec: {
        replicas: 0,
        selector: cloneSelectorAndAddLabel(d.spec.selector, DefaultDeploymentUniqueLabelKey, hash),
        template,
      },
    };
    if (d.spec.minReadySeconds !== undefined) newRS.spec.minReadySeconds = d.spec.minReadySeconds;
    const newReplicasCount = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec.replicas = newReplicasCount;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let createdRS: ReplicaSet;
    let alreadyExists = false;
    try {
      createdRS = await this.client.create(ReplicaSets, d.metadata.namespace ?? '', newRS);
    } catch (err) {
      if (isAlreadyExists(err)) {
        alreadyExists = true;
        const rs = this.replicaSets.get(`${d.metadata.namespace}/${newRS.metadata.name}`);
        if (!rs) throw err; // Not in the cache yet: retry once it is.
        const ref = getControllerOf(rs);
        if (ref && ref.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, rs.spec.template)) {
          createdRS = rs;
        } else {
          // A hash collision: another template owns the name. Hash again with a bumped count.
          const before = d.status.collisionCount ?? 0;
          d.status.collisionCount = before + 1;
          try {
            await this.updateDeploymentStatus(d);
            this.log?.v(2).info('Found a hash collision for deployment - bumping collisionCount to resolve it', {
              deployment: `${d.metadata.namespace}/${d.metadata.name}`,
              oldCollisionCount: before,
              newCollisionCount: d.status.collisionCount,
            });
          } catch {
            // The original error below retries the sync, which tries again.
          }
          throw err;
        }
      } else if (isNamespaceTerminatingError(err)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set ${JSON.stringify(newRS.metadata.name)}: ${(err as Error).message}`;
        if (hasProgressDeadline(d)) {
          setDeploymentCondition(d.status, newDeploymentCondition(DeploymentConditionType.Progressing, 'False', Reason.FailedRSCreate, msg, this.now()));
          // The failure to report matters more than whether reporting it worked.
          await this.updateDeploymentStatus(d).catch(() => undefined);
        }
        this.recorder.event(d, 'Warning', Reason.FailedRSCreate, msg);
        throw err;
      }
    }
    if (!alreadyExists && newReplicasCount > 0) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${createdRS.metadata.name} from 0 to ${newReplicasCount}`);
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      const msg = `Created new replica set ${JSON.stringify(createdRS.metadata.name)}`;
      setDeploymentCondition(d.status, newDeploymentCondition(DeploymentConditionType.Progressing, 'True', Reason.NewReplicaSetCreated, msg, this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.updateDeploymentStatus(d);
    return createdRS;
  }

  /**
   * scale sizes the ReplicaSets for spec.replicas outside a rollout step. One active (or no
   * active) ReplicaSet takes all replicas; a saturated new RS means the old ones go to 0;
   * otherwise, for RollingUpdate, the change (within replicas+maxSurge) is spread over the active
   * ReplicaSets in proportion to their size, largest first, leftovers to the first one, so a
   * rollout keeps its pace and its ratio of new to old pods.
   */
  async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): Promise<void> {
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (rsReplicas(activeOrLatest) === dReplicas(d)) return;
      await this.scaleReplicaSetAndRecordEvent(activeOrLatest, dReplicas(d), d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActiveReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;

    const allRSs = filterActiveReplicaSets([...oldRSs, newRS]);
    const allRSsReplicas = getReplicaCountForReplicaSets(allRSs);
    const allowedSize = dReplicas(d) > 0 ? dReplicas(d) + maxSurge(d) : 0;
    // Replicas to add (or, negative, remove) across the active ReplicaSets.
    const toAdd = allowedSize - allRSsReplicas;
    // Equal sizes: scale up the newer first, down the older first.
    if (toAdd > 0) allRSs.sort(bySizeNewer);
    else if (toAdd < 0) allRSs.sort(bySizeOlder);

    let added = 0;
    const nameToSize = new Map<string, number>();
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const proportion = getProportion(rs, d, toAdd, added);
        nameToSize.set(rs.metadata.name ?? '', rsReplicas(rs) + proportion);
        added += proportion;
      } else {
        nameToSize.set(rs.metadata.name ?? '', rsReplicas(rs));
      }
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i]!;
      const name = rs.metadata.name ?? '';
      // Rounding leftovers go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) nameToSize.set(name, Math.max(nameToSize.get(name)! + toAdd - added, 0));
      await this.scaleReplicaSet(rs, nameToSize.get(name)!, d);
    }
  }

  /** scaleReplicaSetAndRecordEvent scales rs when its size differs; returns whether it did and the RS as stored. */
  async scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (rsReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d);
  }

  /**
   * scaleReplicaSet writes rs's spec.replicas and its desired-replicas / max-replicas annotations
   * (in one update) when either differs, with a ScalingReplicaSet event when the size changed.
   */
  async scaleReplicaSet(rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const sizeNeedsUpdate = rsReplicas(rs) !== newScale;
    const desired = dReplicas(d);
    const max = desired + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = rsReplicas(rs);
    const rsCopy = structuredClone(rs);
    rsCopy.spec.replicas = newScale;
    setReplicasAnnotations(rsCopy, desired, max);
    const updated = await this.updateReplicaSet(d, rsCopy);
    if (sizeNeedsUpdate) {
      const op = oldScale < newScale ? 'up' : 'down';
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${updated.metadata.name} from ${oldScale} to ${newScale}`);
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  /**
   * cleanupDeployment deletes the oldest old ReplicaSets beyond revisionHistoryLimit, but only
   * those that are fully scaled down, have no pods left and whose controller saw their last spec.
   */
  async cleanupDeployment(oldRSs: readonly ReplicaSet[], d: Deployment): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - d.spec.revisionHistoryLimit!;
    if (diff <= 0) return;
    const sorted = [...cleanable].sort(byRevision);
    this.log?.v(4).info('Looking to cleanup old replica sets for deployment', { deployment: `${d.metadata.namespace}/${d.metadata.name}` });
    for (let i = 0; i < diff; i++) {
      const rs = sorted[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      this.log?.v(4).info('Trying to cleanup replica set for deployment', { replicaSet: rs.metadata.name, deployment: d.metadata.name });
      try {
        await this.client.delete(ReplicaSets, rs.metadata.namespace ?? '', rs.metadata.name ?? '');
      } catch (err) {
        // Stop at the first failure rather than pile more DELETEs on a struggling apiserver.
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** syncDeploymentStatus writes the status the ReplicaSets add up to, when it differs. */
  async syncDeploymentStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const newStatus = calculateStatus(allRSs, newRS, d, this.now());
    if (statusEqual(d.status, newStatus)) return;
    d.status = newStatus;
    await this.updateDeploymentStatus(d);
  }

  /**
   * updateDeploymentStatus PUTs d's status (and its revision annotation, which Deployment status
   * updates carry) and keeps d's resourceVersion current, so a later write in this sync does
   * not conflict with this one.
   */
  async updateDeploymentStatus(d: Deployment): Promise<void> {
    const body = { ...d, status: wireStatus(d.status ?? {}) };
    const out = await this.client.update(Deployments, body, { subresource: 'status' });
    this.noteWrite(d, d, 'Deployment');
    if (out?.metadata?.resourceVersion) d.metadata.resourceVersion = out.metadata.resourceVersion;
  }
}
