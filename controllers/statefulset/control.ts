// The StatefulSet update algorithm (kube's pkg/controller/statefulset/stateful_set_control.go):
// find or make the current and update ControllerRevisions, bring the pods in ordinal range into
// being (creating missing ones, re-creating failed ones, fixing drifted identity), delete the
// pods beyond range (highest ordinal first), then roll pods onto the update revision from the
// highest ordinal down to the partition. With OrderedReady every step waits for the pods before
// it to be Running, Ready and available; with Parallel the pods are handled all at once.

import { type StatefulSet, type StatefulSetStatus, StatefulSetUpdateStrategyType } from '../../lib/api/apps/statefulset.js';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { ControllerRevisions, StatefulSets } from '../../lib/client/resources.js';
import type { Logger } from '../../lib/log.js';
import { createControllerRevision, findEqualRevisions, equalRevision, nextRevision, sortControllerRevisions, updateControllerRevision } from '../common/history.js';
import { type StatefulPodControl, setTarget } from './podcontrol.js';
import {
  allowsBurst,
  applyRevision,
  completeRollingUpdate,
  getEndOrdinal,
  getOrdinal,
  getPodRevision,
  getStartOrdinal,
  identityMatches,
  inconsistentStatus,
  isCreated,
  isFailed,
  isHealthy,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newRevision,
  newVersionedStatefulSetPod,
  podInOrdinalRange,
  storageMatches,
  updateStatus,
} from './utils.js';

/** StatefulSetControlOptions are what one control writes through. */
export interface StatefulSetControlOptions {
  client: Client;
  podControl: StatefulPodControl;
  recorder: Recorder;
  now: () => Date;
  log?: Logger;
}

/** SyncErrors is an aggregate error, its text as utilerrors.NewAggregate prints it. */
class SyncErrors extends Error {
  constructor(readonly errors: readonly Error[]) {
    super(errors.length === 1 ? errors[0]!.message : `[${errors.map((e) => e.message).join(', ')}]`);
    this.name = 'SyncErrors';
  }
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** StatefulSetControl runs updateStatefulSet for one set at a time (it keeps no per-set state). */
export class StatefulSetControl {
  constructor(private readonly opts: StatefulSetControlOptions) {}

  /**
   * updateStatefulSet is UpdateStatefulSet: one pass over the set's pods and revisions, the status
   * written when it changed, and the revision history cut to revisionHistoryLimit. Returns the
   * status computed (undefined when revisions could not be made).
   */
  async updateStatefulSet(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[]): Promise<StatefulSetStatus | undefined> {
    set = structuredClone(set);
    sortControllerRevisions(revisions);
    let current: ControllerRevision | undefined;
    let update: ControllerRevision | undefined;
    let status: StatefulSetStatus | undefined;
    try {
      ({ current, update, status } = await this.performUpdate(set, pods, revisions));
    } catch (err) {
      const errs = [asError(err)];
      try {
        await this.truncateHistory(set, pods, revisions, current, update);
      } catch (truncErr) {
        errs.push(asError(truncErr));
      }
      throw errs.length === 1 ? errs[0] : new SyncErrors(errs);
    }
    await this.truncateHistory(set, pods, revisions, current, update);
    return status;
  }

  private async performUpdate(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[]) {
    const { current, update, collisionCount } = await this.getStatefulSetRevisions(set, revisions);
    const { status, error } = await this.updateStatefulSetPods(set, current, update, collisionCount, pods);
    // The status is written even when a pod operation failed: it says what was done.
    await this.updateStatefulSetStatus(set, status);
    if (error) throw error;
    this.opts.log?.v(4).info('StatefulSet revisions', {
      statefulSet: `${set.metadata.namespace}/${set.metadata.name}`,
      currentRevision: status.currentRevision,
      updateRevision: status.updateRevision,
    });
    return { current, update, status };
  }

  /**
   * getStatefulSetRevisions is kube's: the update revision is the latest revision when it holds
   * the same template, an older equal revision renumbered as the newest (a rollback), or a new
   * one (with collisionCount bumped on a hash collision); the current revision is the one
   * status.currentRevision names, else the update revision (a new set).
   */
  async getStatefulSetRevisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    const collision = { value: set.status?.collisionCount ?? 0 };
    let update = newRevision(set, nextRevision(revisions), collision.value);
    const equal = findEqualRevisions(revisions, update);
    const last = revisions[revisions.length - 1];
    if (equal.length > 0 && equalRevision(last, equal[equal.length - 1])) {
      update = last!;
    } else if (equal.length > 0) {
      update = await updateControllerRevision(this.opts.client, equal[equal.length - 1]!, update.revision ?? 0);
    } else {
      update = await createControllerRevision(this.opts.client, set, update, collision);
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount: collision.value };
  }

  /** updateStatefulSetPods is kube's updateStatefulSet: the pod work of one sync and the status it leaves. */
  private async updateStatefulSetPods(
    set: StatefulSet,
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
    collisionCount: number,
    pods: Pod[],
  ): Promise<{ status: StatefulSetStatus; error?: Error }> {
    const { podControl, recorder, log } = this.opts;
    const now = this.opts.now();
    const currentSet = applyRevision(set, currentRevision);
    const updateSet = applyRevision(set, updateRevision);
    const minReadySeconds = set.spec.minReadySeconds ?? 0;
    const key = `${set.metadata.namespace}/${set.metadata.name}`;

    const status: StatefulSetStatus = {
      observedGeneration: set.metadata.generation,
      currentRevision: currentRevision.metadata.name,
      updateRevision: updateRevision.metadata.name,
      collisionCount,
    };
    const cur = currentRevision.metadata.name ?? '';
    const upd = updateRevision.metadata.name ?? '';
    updateStatus(status, minReadySeconds, cur, upd, now, pods);

    const start = getStartOrdinal(set);
    const replicaCount = set.spec.replicas ?? 1;
    const replicas: Pod[] = new Array<Pod>(replicaCount);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (podInOrdinalRange(pod, set)) replicas[getOrdinal(pod) - start] = pod;
      else if (getOrdinal(pod) >= 0) condemned.push(pod);
    }
    for (let ord = start; ord <= getEndOrdinal(set); ord++) {
      replicas[ord - start] ??= newVersionedStatefulSetPod(currentSet, updateSet, cur, upd, ord);
    }
    // Highest ordinal first: scale-down removes from the top.
    condemned.sort((a, b) => getOrdinal(b) - getOrdinal(a));

    let firstUnhealthyPod: Pod | undefined;
    let unhealthy = 0;
    for (const pod of replicas) {
      if (!isHealthy(pod)) {
        unhealthy++;
        firstUnhealthyPod ??= pod;
      }
    }
    for (let i = condemned.length - 1; i >= 0; i--) {
      if (!isHealthy(condemned[i]!)) {
        unhealthy++;
        firstUnhealthyPod ??= condemned[i];
      }
    }
    if (unhealthy > 0) log?.v(4).info('StatefulSet has unhealthy Pods', { statefulSet: key, unhealthyReplicas: unhealthy, pod: firstUnhealthyPod?.metadata.name });

    // A set being deleted only gets its status: the garbage collector removes its pods.
    if (set.metadata.deletionTimestamp) return { status };

    const monotonic = !allowsBurst(set);
    const recount = () => updateStatus(status, minReadySeconds, cur, upd, now, replicas, condemned);

    // First, each replica in range: exit on an error, or on anything blocking in OrderedReady.
    const processReplica = async (i: number): Promise<boolean> => {
      let replica = replicas[i]!;
      if (isFailed(replica) || isSucceeded(replica)) {
        if (isFailed(replica)) {
          recorder.event(setTarget(set), 'Warning', 'RecreatingFailedPod', `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating failed Pod ${replica.metadata.name}`);
        } else {
          recorder.event(setTarget(set), 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating terminated Pod ${replica.metadata.name}`);
        }
        await podControl.deleteStatefulPod(set, replica);
        replica = replicas[i] = newVersionedStatefulSetPod(currentSet, updateSet, cur, upd, i + start);
      }
      if (!isCreated(replica)) {
        // A claim still owned by an earlier pod of this name is about to be deleted: wait for it.
        if (podControl.podClaimIsStale(set, replica)) return true;
        await podControl.createStatefulPod(set, replica);
        if (monotonic) return true;
      }
      if (isPending(replica)) {
        log?.v(4).info('StatefulSet is triggering PVC creation for pending Pod', { statefulSet: key, pod: replica.metadata.name });
        await podControl.createMissingPersistentVolumeClaims(set, replica);
      }
      if (isTerminating(replica) && monotonic) {
        log?.v(4).info('StatefulSet is waiting for Pod to Terminate', { statefulSet: key, pod: replica.metadata.name });
        return true;
      }
      if (!isRunningAndReady(replica) && monotonic) {
        log?.v(4).info('StatefulSet is waiting for Pod to be Running and Ready', { statefulSet: key, pod: replica.metadata.name });
        return true;
      }
      if (!isRunningAndAvailable(replica, minReadySeconds, now) && monotonic) {
        log?.v(4).info('StatefulSet is waiting for Pod to be Available', { statefulSet: key, pod: replica.metadata.name });
        return true;
      }
      // A pod just created in this pass (Parallel) is not in the cache yet: nothing to fix on it.
      if (!isCreated(replica)) return false;
      if (identityMatches(set, replica) && storageMatches(set, replica) && podControl.claimsMatchRetentionPolicy(updateSet, replica)) return false;
      await podControl.updateStatefulPod(updateSet, replica);
      return false;
    };
    const replicaErr = await runForAll(replicas.length, processReplica, monotonic);
    if (replicaErr.exit) {
      recount();
      return { status, error: replicaErr.error };
    }

    // Claims of condemned pods get the owner references whenScaled asks for before the pods go.
    const fixPodClaim = async (i: number): Promise<boolean> => {
      if (!podControl.claimsMatchRetentionPolicy(updateSet, condemned[i]!)) await podControl.updatePodClaimForRetentionPolicy(updateSet, condemned[i]!);
      return false;
    };
    const claimErr = await runForAll(condemned.length, fixPodClaim, monotonic);
    if (claimErr.exit) {
      recount();
      return { status, error: claimErr.error };
    }

    // Every replica is Running and Ready now (in OrderedReady): scale down, highest ordinal first,
    // one at a time, each waiting for its predecessors to be healthy. Scaling goes before updates.
    const processCondemned = async (i: number): Promise<boolean> => {
      const pod = condemned[i]!;
      if (isTerminating(pod)) {
        if (monotonic) {
          log?.v(4).info('StatefulSet is waiting for Pod to Terminate prior to scale down', { statefulSet: key, pod: pod.metadata.name });
          return true;
        }
        return false;
      }
      if (!isRunningAndReady(pod) && monotonic && pod !== firstUnhealthyPod) {
        log?.v(4).info('StatefulSet is waiting for Pod to be Running and Ready prior to scale down', { statefulSet: key, pod: pod.metadata.name });
        return true;
      }
      if (!isRunningAndAvailable(pod, minReadySeconds, now) && monotonic && pod !== firstUnhealthyPod) {
        log?.v(4).info('StatefulSet is waiting for Pod to be Available prior to scale down', { statefulSet: key, pod: pod.metadata.name });
        return true;
      }
      log?.v(2).info('Pod of StatefulSet is terminating for scale down', { statefulSet: key, pod: pod.metadata.name });
      await podControl.deleteStatefulPod(set, pod);
      return true;
    };
    const condemnedErr = await runForAll(condemned.length, processCondemned, monotonic);
    recount();
    if (condemnedErr.exit) return { status, error: condemnedErr.error };

    // OnDelete: pods move to the update revision only when someone deletes them.
    if (set.spec.updateStrategy?.type === StatefulSetUpdateStrategyType.OnDelete) return { status };

    // RollingUpdate: the highest-ordinal pod not at the update revision is deleted (and re-created
    // at it by a later sync), one at a time, down to the partition; an unhealthy pod waits.
    const updateMin = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = replicas.length - 1; target >= updateMin; target--) {
      const pod = replicas[target]!;
      if (getPodRevision(pod) !== upd && !isTerminating(pod)) {
        // A pod made in this pass is already at the right revision; only cached pods get here.
        log?.v(2).info('Pod of StatefulSet is terminating for update', { statefulSet: key, pod: pod.metadata.name });
        try {
          await podControl.deleteStatefulPod(set, pod);
        } catch (err) {
          if (!isNotFound(err)) return { status, error: asError(err) };
        }
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return { status };
      }
      if (!isHealthy(pod) || !isRunningAndAvailable(pod, minReadySeconds, now)) {
        log?.v(4).info('StatefulSet is waiting for Pod to update', { statefulSet: key, pod: pod.metadata.name });
        return { status };
      }
    }
    return { status };
  }

  /**
   * updateStatefulSetStatus completes a finished rolling update, then writes status through
   * /status when it differs from the stored one (once more over a fresh GET on a conflict).
   */
  private async updateStatefulSetStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    completeRollingUpdate(set, status);
    if (!inconsistentStatus(set, status)) return;
    let current = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.client.update<StatefulSet>(StatefulSets, { ...structuredClone(current), status: { ...(current.status ?? {}), ...structuredClone(status) } }, { subresource: 'status' });
        return;
      } catch (err) {
        if (attempt >= 1) throw err;
        current = await this.opts.client.get<StatefulSet>(StatefulSets, set.metadata.namespace ?? '', set.metadata.name ?? '');
      }
    }
  }

  /**
   * truncateHistory deletes the oldest revisions that no pod, nor the current or update
   * revision, uses, beyond revisionHistoryLimit.
   */
  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current?: ControllerRevision, update?: ControllerRevision): Promise<void> {
    const live = new Set<string>();
    if (current?.metadata.name) live.add(current.metadata.name);
    if (update?.metadata.name) live.add(update.metadata.name);
    for (const pod of pods) live.add(getPodRevision(pod));
    const history = revisions.filter((r) => !live.has(r.metadata.name ?? ''));
    const limit = set.spec.revisionHistoryLimit ?? 10;
    if (history.length <= limit) return;
    for (const r of history.slice(0, history.length - limit)) {
      try {
        await this.opts.client.delete(ControllerRevisions, r.metadata.namespace ?? '', r.metadata.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/**
 * runForAll is kube's: in OrderedReady, fn for each index in order until one asks to stop or
 * fails; in Parallel, all of them in slow-start batches (1, 2, 4, …), stopping after a batch
 * with a failure. exit is true when the caller must stop this pass.
 */
async function runForAll(count: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<{ exit: boolean; error?: Error }> {
  if (monotonic) {
    for (let i = 0; i < count; i++) {
      try {
        if (await fn(i)) return { exit: true };
      } catch (err) {
        return { exit: true, error: asError(err) };
      }
    }
    return { exit: false };
  }
  let next = 0;
  for (let batch = Math.min(1, count); batch > 0; batch = Math.min(2 * batch, count - next)) {
    const indices = Array.from({ length: batch }, (_, k) => next + k);
    next += batch;
    const results = await Promise.allSettled(indices.map((i) => fn(i)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) return { exit: true, error: asError(failed.reason) };
  }
  return { exit: false };
}
