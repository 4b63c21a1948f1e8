// syncJob: the Job controller's reconcile (kube's pkg/controller/job/job_controller.go). From
// the caches it takes the Job and its pods, counts finished pods exactly once through the
// batch.kubernetes.io/job-tracking finalizer (a finished pod is first recorded in
// status.uncountedTerminatedPods, then its finalizer removed, then moved into the counters), creates
// or deletes pods toward parallelism and completions (with the pod failure back-off), and decides
// the Job's conditions: SuccessCriteriaMet then Complete, FailureTarget then Failed (once no pod is
// terminating), Suspended.
//
// It is a class over listers, a Client, a Recorder, expectations and a clock, so a unit test
// preloads caches, runs one sync against a FakeClient and asserts the exact actions.

import type { Pod } from '../../lib/api/core/pod.js';
import { PodPhase } from '../../lib/api/core/pod.js';
import type { Condition } from '../../lib/api/meta.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { CompletionMode, type Job, JobConditionType, JobLabels, type JobStatus, isJobFinished } from '../../lib/api/batch/types.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { Jobs, Pods } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { type LabelSelectorExpr, labelSelectorAsSelector } from '../../lib/machinery/labels.js';
import { ControllerRefManager, newControllerRef } from '../common/controllerref.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import type { ControllerExpectations } from '../common/expectations.js';
import { filterActivePods, isPodReady, sortActivePods } from '../common/pods.js';
import { slowStartBatch } from '../replicaset/sync.js';
import { firstPendingIndexes, formatIndexes, getCompletionIndex, parseIndexes, podGenerateNameWithIndex } from './indexes.js';
import { type BackoffRecord, matchPodFailurePolicy, newBackoffRecord, remainingBackoffMs } from './podfailurepolicy.js';

/** MaxUncountedPods bounds status.uncountedTerminatedPods; MaxPodCreateDeletePerSync bounds one sync's writes. */
export const MaxUncountedPods = 500;
export const MaxPodCreateDeletePerSync = 500;

/** JobControllerName is the managedBy value this controller serves (besides none). */
export const JobControllerName = 'kubernetes.io/job-controller';

// Condition reasons and messages (batch/v1 types.go and the controller's texts).
export const JobReason = {
  BackoffLimitExceeded: 'BackoffLimitExceeded',
  DeadlineExceeded: 'DeadlineExceeded',
  PodFailurePolicy: 'PodFailurePolicy',
  CompletionsReached: 'CompletionsReached',
  SuccessPolicy: 'SuccessPolicy',
} as const;
export const BackoffLimitExceededMessage = 'Job has reached the specified backoff limit';
export const DeadlineExceededMessage = 'Job was active longer than specified deadline';
export const CompletionsReachedMessage = 'Reached expected number of succeeded pods';

/** FinalizerExpectations is kube's uidTrackingExpectations: pods whose finalizer removal a Job waits to see. */
export class FinalizerExpectations {
  private readonly byJob = new Map<string, Set<string>>();
  get(key: string): Set<string> {
    return new Set(this.byJob.get(key) ?? []);
  }
  expectRemoved(key: string, uids: readonly string[]): void {
    const set = this.byJob.get(key) ?? new Set<string>();
    for (const u of uids) set.add(u);
    this.byJob.set(key, set);
  }
  removalObserved(key: string, uid: string): void {
    const set = this.byJob.get(key);
    if (!set) return;
    set.delete(uid);
    if (!set.size) this.byJob.delete(key);
  }
  delete(key: string): void {
    this.byJob.delete(key);
  }
}

/** JobSyncerOptions are what one syncer reads and writes through. */
export interface JobSyncerOptions {
  client: Client;
  jobs: Lister<Job>;
  pods: Lister<Pod>;
  recorder: Recorder;
  expectations: ControllerExpectations;
  finalizerExpectations: FinalizerExpectations;
  now?: () => Date;
  log?: Logger;
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return (pod.metadata.finalizers ?? []).includes(JobLabels.JobTrackingFinalizer);
}

function isIndexed(job: Job): boolean {
  return job.spec.completionMode === CompletionMode.Indexed;
}

/** onlyReplaceFailedPods: podReplacementPolicy Failed (forced by a pod failure policy) waits for terminating pods. */
function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || !!job.spec.podFailurePolicy;
}

/** isPodFailed is isPodFailed: phase Failed, or (unless only failed pods are replaced) deleted before succeeding. */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === PodPhase.Failed) return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== PodPhase.Succeeded;
}

function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== PodPhase.Failed && pod.status?.phase !== PodPhase.Succeeded;
}

function findCondition(job: Job, type: string): Condition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: Date): Condition {
  const t = nowRFC3339(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/** ensureCondition (ensureJobConditionStatus) adds or changes a condition; a False one is only written over an existing one. */
function ensureCondition(status: JobStatus, type: string, cStatus: Condition['status'], reason: string, message: string, now: Date): boolean {
  const list = status.conditions ?? [];
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i]!;
    if (c.status === cStatus && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, cStatus, reason, message, now);
    return true;
  }
  if (cStatus === 'False') return false;
  status.conditions = [...list, newCondition(type, cStatus, reason, message, now)];
  return true;
}

function eventTarget(job: Job): InvolvedObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: job.metadata };
}

/** addCompletionIndexEnv adds JOB_COMPLETION_INDEX from the index annotation to every container that lacks it. */
function addCompletionIndexEnv(spec: Pod['spec']): void {
  const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JobLabels.JobCompletionIndex}']` } } };
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.env ?? []).some((e) => e.name === env.name)) continue;
    c.env = [...(c.env ?? []), structuredClone(env)];
  }
}

/** SyncContext is kube's syncJobCtx: what one sync learned about the Job's pods. */
interface SyncContext {
  job: Job;
  pods: Pod[];
  active: Pod[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  finished?: Condition;
  expectedRm: Set<string>;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  succeededIndexes: Set<number>;
  prevSucceededIndexes: Set<number>;
  backoff: BackoffRecord;
  requeue: number[];
}

/** JobSyncer runs syncJob for keys; one per controller. */
export class JobSyncer {
  private readonly opts: JobSyncerOptions;
  private readonly now: () => Date;
  /** backoffs is kube's podBackoffStore: per Job, the failures since its last success. */
  readonly backoffs = new Map<string, BackoffRecord>();

  constructor(opts: JobSyncerOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => new Date());
  }

  /** syncJob brings the Job named by key one step toward its completions and writes its status. */
  async syncJob(key: string, signal?: AbortSignal): Promise<ReconcileResult | void> {
    const { expectations, finalizerExpectations, log } = this.opts;
    const { namespace } = splitKey(key);
    const cached = this.opts.jobs.get(key);
    if (!cached) {
      log?.v(4).info('Job has been deleted', { job: key });
      expectations.deleteExpectations(key);
      finalizerExpectations.delete(key);
      this.backoffs.delete(key);
      return;
    }
    if (cached.spec.managedBy && cached.spec.managedBy !== JobControllerName) return;
    // Never modify the cached object.
    const job: Job = structuredClone(cached);
    if (isJobFinished(job).finished) {
      this.backoffs.delete(key);
      return;
    }
    const mode = job.spec.completionMode ?? CompletionMode.NonIndexed;
    if (mode !== CompletionMode.NonIndexed && mode !== CompletionMode.Indexed) {
      this.opts.recorder.event(eventTarget(job), 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    job.status ??= {};
    job.status.uncountedTerminatedPods ??= {};
    const now = this.now();

    // Expectations first: a pod created after this point is seen by the next sync.
    const satisfied = expectations.satisfiedExpectations(key);
    let selector: LabelSelectorExpr;
    try {
      selector = labelSelectorAsSelector(job.spec.selector);
    } catch (err) {
      log?.error('Invalid Job selector', { job: key, err: (err as Error).message });
      return;
    }
    const manager = new ControllerRefManager({ client: this.opts.client, owner: job, ownerType: Jobs, resource: Pods, selector });
    const pods = await manager.claim(this.opts.pods.list(namespace));
    const active = filterActivePods(pods);
    const uncounted = job.status.uncountedTerminatedPods;
    const ctx: SyncContext = {
      job,
      pods,
      active,
      ready: active.filter((p) => isPodReady(p)).length,
      terminating: pods.filter(isTerminating).length,
      succeeded: 0,
      failed: 0,
      expectedRm: finalizerExpectations.get(key),
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      succeededIndexes: new Set(),
      prevSucceededIndexes: new Set(),
      backoff: { failuresAfterLastSuccess: 0 },
      requeue: [],
    };
    let activeCount = active.length;
    const { succeeded: newSucceeded, failed: newFailed } = this.newFinishedPods(ctx);
    const countedNewFailed = newFailed.filter((p) => matchPodFailurePolicy(job.spec.podFailurePolicy, p).countFailed).length;
    ctx.succeeded = (job.status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed = (job.status.failed ?? 0) + countedNewFailed + ctx.uncountedFailed.size;

    const suspended = job.spec.suspend === true;
    if (!job.status.startTime && !suspended) job.status.startTime = nowRFC3339(now);
    ctx.backoff = newBackoffRecord(this.backoffs.get(key), newSucceeded, newFailed, now.getTime());

    const successMet = findCondition(job, JobConditionType.SuccessCriteriaMet);
    if (successMet?.status === 'True') ctx.finished = successMet;
    if (!ctx.finished) {
      const target = findCondition(job, JobConditionType.FailureTarget);
      if (target?.status === 'True') ctx.finished = newCondition(JobConditionType.Failed, 'True', target.reason ?? '', target.message ?? '', now);
      else {
        const message = this.failJobMessage(job, pods);
        if (message) ctx.finished = newCondition(JobConditionType.FailureTarget, 'True', JobReason.PodFailurePolicy, message, now);
      }
    }
    if (!ctx.finished) {
      if (ctx.failed > (job.spec.backoffLimit ?? 6) || this.pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = newCondition(JobConditionType.FailureTarget, 'True', JobReason.BackoffLimitExceeded, BackoffLimitExceededMessage, now);
      } else if (this.pastActiveDeadline(job, now)) {
        ctx.finished = newCondition(JobConditionType.FailureTarget, 'True', JobReason.DeadlineExceeded, DeadlineExceededMessage, now);
      } else if (job.spec.activeDeadlineSeconds !== undefined && !suspended && job.status.startTime) {
        ctx.requeue.push(Date.parse(job.status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now.getTime());
      }
    }
    if (isIndexed(job)) {
      const completions = job.spec.completions ?? 0;
      ctx.prevSucceededIndexes = parseIndexes(job.status.completedIndexes, completions);
      ctx.succeededIndexes = new Set(ctx.prevSucceededIndexes);
      for (const p of pods) {
        const ix = getCompletionIndex(p);
        if (p.status?.phase === PodPhase.Succeeded && ix >= 0 && ix < completions) ctx.succeededIndexes.add(ix);
      }
      ctx.succeeded = ctx.succeededIndexes.size;
      if (!ctx.finished) {
        const message = matchSuccessPolicy(job, ctx.succeededIndexes);
        if (message) ctx.finished = newCondition(JobConditionType.SuccessCriteriaMet, 'True', JobReason.SuccessPolicy, message, now);
      }
    }

    let manageErr: Error | undefined;
    let suspendChanged = false;
    if (ctx.finished) {
      const { deleted, deletedReady, error } = await this.deleteActivePods(job, active);
      if (deleted !== activeCount || !satisfied) ctx.finished = undefined;
      activeCount -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      manageErr = error;
    } else {
      let manageCalled = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        try {
          activeCount = await this.manageJob(key, job, ctx, signal);
        } catch (err) {
          manageErr = err instanceof Error ? err : new Error(String(err));
          activeCount = ctx.active.length;
        }
        manageCalled = true;
      }
      const completions = job.spec.completions;
      const complete = completions === undefined || completions === null ? ctx.succeeded > 0 && activeCount === 0 : ctx.succeeded >= completions && activeCount === 0;
      if (complete) {
        ctx.finished = newCondition(JobConditionType.SuccessCriteriaMet, 'True', JobReason.CompletionsReached, CompletionsReachedMessage, now);
      } else if (manageCalled) {
        if (suspended) {
          if (ensureCondition(job.status, JobConditionType.Suspended, 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.opts.recorder.event(eventTarget(job), 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job.status, JobConditionType.Suspended, 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.opts.recorder.event(eventTarget(job), 'Normal', 'Resumed', 'Job resumed');
          // A resumed Job's activeDeadlineSeconds counts from now.
          job.status.startTime = nowRFC3339(now);
        }
      }
    }

    const needsUpdate =
      suspendChanged || activeCount !== (job.status.active ?? 0) || ctx.ready !== job.status.ready || ctx.terminating !== job.status.terminating;
    job.status.active = activeCount;
    job.status.ready = ctx.ready;
    job.status.terminating = ctx.terminating;
    await this.trackJobStatusAndRemoveFinalizers(key, ctx, needsUpdate);
    if (manageErr) throw manageErr;
    const waits = ctx.requeue.filter((t) => t >= 0);
    return waits.length ? { requeueAfter: Math.max(1000, Math.min(...waits)) } : undefined;
  }

  /** newFinishedPods are getNewFinishedPods: finished pods that still carry the finalizer and are counted nowhere yet. */
  private newFinishedPods(ctx: SyncContext): { succeeded: Pod[]; failed: Pod[] } {
    const valid = (p: Pod, uncounted: Set<string>) => {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || uncounted.has(uid) || ctx.expectedRm.has(uid)) return false;
      if (isIndexed(ctx.job)) {
        const ix = getCompletionIndex(p);
        if (ix < 0 || ix >= (ctx.job.spec.completions ?? 0)) return false;
      }
      return true;
    };
    return {
      succeeded: ctx.pods.filter((p) => valid(p, ctx.uncountedSucceeded) && p.status?.phase === PodPhase.Succeeded),
      failed: ctx.pods.filter((p) => valid(p, ctx.uncountedFailed) && isPodFailed(p, ctx.job)),
    };
  }

  private failJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
    if (!job.spec.podFailurePolicy) return undefined;
    for (const p of pods) {
      if (!isPodFailed(p, job)) continue;
      const m = matchPodFailurePolicy(job.spec.podFailurePolicy, p).failJobMessage;
      if (m) return m;
    }
    return undefined;
  }

  /** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures. */
  private pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
    if (job.spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of pods) {
      if (p.status?.phase !== PodPhase.Running && p.status?.phase !== PodPhase.Pending) continue;
      for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
    }
    const limit = job.spec.backoffLimit ?? 6;
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  private pastActiveDeadline(job: Job, now: Date): boolean {
    if (job.spec.activeDeadlineSeconds === undefined || !job.status?.startTime || job.spec.suspend) return false;
    return now.getTime() - Date.parse(job.status.startTime) >= job.spec.activeDeadlineSeconds * 1000;
  }

  /** manageJob is manageJob: delete pods of a suspended Job or beyond what is wanted, else create the missing ones. Returns active. */
  private async manageJob(key: string, job: Job, ctx: SyncContext, signal?: AbortSignal): Promise<number> {
    const { expectations, log } = this.opts;
    let active = ctx.active.length;
    const parallelism = job.spec.parallelism ?? 1;
    if (job.spec.suspend) {
      log?.v(4).info('Deleting all active pods in suspended job', { job: key, active });
      const toDelete = this.podsForRemoval(job, ctx.active, active);
      expectations.expectDeletions(key, toDelete.length);
      const { deleted, deletedReady, error } = await this.deleteJobPods(key, job, toDelete);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (error) throw error;
      return active - deleted;
    }
    let want: number;
    if (job.spec.completions === undefined || job.spec.completions === null) want = ctx.succeeded > 0 ? active : parallelism;
    else want = Math.max(0, Math.min(job.spec.completions - ctx.succeeded, parallelism));

    const toDelete = this.podsForRemoval(job, ctx.active, Math.max(0, active - want)).slice(0, MaxPodCreateDeletePerSync);
    if (toDelete.length) {
      expectations.expectDeletions(key, toDelete.length);
      log?.v(4).info('Too many pods running for job', { job: key, deleted: toDelete.length, target: want });
      const { deleted, deletedReady, error } = await this.deleteJobPods(key, job, toDelete);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      if (error) throw error;
      return active - deleted;
    }
    const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = want - terminating - active;
    if (diff <= 0) return active;
    const wait = remainingBackoffMs(ctx.backoff, this.now().getTime());
    if (wait > 0) {
      ctx.requeue.push(wait);
      return active;
    }
    diff = Math.min(diff, MaxPodCreateDeletePerSync);
    let indexes: number[] = [];
    if (isIndexed(job)) {
      indexes = firstPendingIndexes(ctx.succeededIndexes, ctx.active, diff, job.spec.completions ?? 0);
      diff = indexes.length;
      if (!diff) return active;
    }
    expectations.expectCreations(key, diff);
    log?.v(4).info('Too few pods running', { job: key, need: want, creating: diff });
    let next = 0;
    const { successes, error } = await slowStartBatch(diff, 1, () => this.createPod(job, isIndexed(job) ? indexes[next++]! : -1), signal);
    const skipped = diff - successes;
    for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
    active += successes;
    if (error) throw error;
    return active;
  }

  /** podsForRemoval is activePodsForRemoval: duplicated or out-of-range indexes first, then the least advanced pods. */
  private podsForRemoval(job: Job, pods: readonly Pod[], atLeast: number): Pod[] {
    const rm: Pod[] = [];
    let left: Pod[] = [...pods];
    if (isIndexed(job)) {
      const seen = new Set<number>();
      left = [];
      for (const p of sortActivePods(pods).reverse()) {
        const ix = getCompletionIndex(p);
        if (ix < 0 || ix >= (job.spec.completions ?? 0) || seen.has(ix)) rm.push(p);
        else {
          seen.add(ix);
          left.push(p);
        }
      }
    }
    if (rm.length < atLeast) rm.push(...sortActivePods(left).slice(0, atLeast - rm.length));
    return rm;
  }

  /** createPod is CreatePodsWithGenerateName for one pod of the Job (index -1: not Indexed). */
  private async createPod(job: Job, index: number): Promise<void> {
    const template = structuredClone(job.spec.template ?? {});
    const meta = template.metadata ?? {};
    const spec = structuredClone(template.spec ?? {}) as Pod['spec'];
    const labels = { ...(meta.labels ?? {}) };
    const annotations = { ...(meta.annotations ?? {}) };
    let generateName = `${job.metadata.name}-`;
    if (index >= 0) {
      addCompletionIndexEnv(spec);
      annotations[JobLabels.JobCompletionIndex] = String(index);
      labels[JobLabels.JobCompletionIndex] = String(index);
      spec.hostname = `${job.metadata.name}-${index}`;
      generateName = podGenerateNameWithIndex(job.metadata.name ?? '', index);
    }
    const finalizers = [...(meta.finalizers ?? [])];
    if (!finalizers.includes(JobLabels.JobTrackingFinalizer)) finalizers.push(JobLabels.JobTrackingFinalizer);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName, ownerReferences: [newControllerRef(job, Jobs)], finalizers },
      spec,
    };
    if (Object.keys(labels).length) pod.metadata.labels = labels;
    if (Object.keys(annotations).length) pod.metadata.annotations = annotations;
    let created: Pod;
    try {
      created = await this.opts.client.create<Pod>(Pods, job.metadata.namespace ?? '', pod);
    } catch (err) {
      if (isNamespaceTerminatingError(err)) return;
      const message = err instanceof Error ? err.message : String(err);
      this.opts.recorder.event(eventTarget(job), 'Warning', 'FailedCreate', `Error creating: ${message}`);
      throw err;
    }
    this.opts.recorder.event(eventTarget(job), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
  }

  /** deletePod is RealPodControl.DeletePod with its events; a 404 is rethrown without an event. */
  private async deletePod(job: Job, pod: Pod): Promise<void> {
    const name = pod.metadata.name ?? '';
    try {
      await this.opts.client.delete(Pods, job.metadata.namespace ?? '', name);
    } catch (err) {
      if (isNotFound(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.opts.recorder.event(eventTarget(job), 'Warning', 'FailedDelete', `Error deleting: ${message}`);
      throw new Error(`unable to delete pods: ${message}`, { cause: err });
    }
    this.opts.recorder.event(eventTarget(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  /** deleteActivePods deletes a finished Job's active pods, keeping their finalizers (the tracking removes them). */
  private async deleteActivePods(job: Job, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; error?: Error }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: Error | undefined;
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.deletePod(job, p);
        } catch (err) {
          if (!isNotFound(err)) {
            error ??= err as Error;
            return;
          }
        }
        deleted++;
        if (isPodReady(p)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  /** deleteJobPods removes the tracking finalizer and deletes: a pod a Job no longer wants is not counted. */
  private async deleteJobPods(key: string, job: Job, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; error?: Error }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: Error | undefined;
    await Promise.all(
      pods.map(async (p) => {
        try {
          if (hasTrackingFinalizer(p)) await this.removeFinalizer(p);
          await this.deletePod(job, p);
        } catch (err) {
          // This deletion will not be observed.
          this.opts.expectations.deletionObserved(key);
          if (!isNotFound(err)) {
            error ??= err as Error;
            return;
          }
        }
        deleted++;
        if (isPodReady(p)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  /** removeFinalizer is removeTrackingFinalizerPatch: a strategic merge patch deleting the finalizer from the list. */
  private async removeFinalizer(pod: Pod): Promise<void> {
    await this.opts.client.patch(Pods, pod.metadata.namespace ?? '', pod.metadata.name ?? '', 'strategic', {
      metadata: { '$deleteFromPrimitiveList/finalizers': [JobLabels.JobTrackingFinalizer] },
    });
  }

  /**
   * trackJobStatusAndRemoveFinalizers is kube's: finished pods go into uncountedTerminatedPods
   * (flushed first), then lose their finalizer, then move into the counters; a finished Job gets
   * its terminal condition once nothing is uncounted and no pod is terminating.
   */
  private async trackJobStatusAndRemoveFinalizers(key: string, ctx: SyncContext, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const job = ctx.job;
    const status = job.status!;
    const uncounted = status.uncountedTerminatedPods!;
    const indexed = isIndexed(job);
    const completions = job.spec.completions ?? 0;
    const pods = indexed ? [...ctx.pods].sort((a, b) => getCompletionIndex(a) - getCompletionIndex(b)) : ctx.pods;
    const withFinalizer = new Set<string>();
    for (const p of pods) if (hasTrackingFinalizer(p) && !ctx.expectedRm.has(p.metadata.uid ?? '')) withFinalizer.add(p.metadata.uid ?? '');
    if (cleanUncounted(status, withFinalizer)) needsFlush = true;
    const toRemove: Pod[] = [];
    const newIndexes: number[] = [];
    let reachedMax = false;
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || ctx.expectedRm.has(uid)) continue;
      const failed = isPodFailed(p, job);
      // A finished Job, a succeeded pod or a failed one may lose its finalizer.
      if (!(job.metadata.deletionTimestamp || ctx.finished || p.status?.phase === PodPhase.Succeeded || failed)) continue;
      toRemove.push(p);
      if (p.status?.phase === PodPhase.Succeeded && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = getCompletionIndex(p);
          if (ix >= 0 && ix < completions && !ctx.prevSucceededIndexes.has(ix)) {
            newIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          needsFlush = true;
          (uncounted.succeeded ??= []).push(uid);
        }
      } else if (failed || (ctx.finished && ctx.finished.type !== JobConditionType.SuccessCriteriaMet)) {
        const ix = getCompletionIndex(p);
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          if (matchPodFailurePolicy(job.spec.podFailurePolicy, p).countFailed) {
            needsFlush = true;
            (uncounted.failed ??= []).push(uid);
          }
        }
      }
      if (newIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= MaxUncountedPods) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      const all = new Set([...ctx.prevSucceededIndexes, ...newIndexes]);
      const text = formatIndexes(all);
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = all.size;
      status.completedIndexes = text;
    }
    const now = this.now();
    if (ctx.finished?.type === JobConditionType.FailureTarget) {
      (status.conditions ??= []).push(ctx.finished);
      needsFlush = true;
      ctx.finished = newCondition(JobConditionType.Failed, 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', now);
    }
    if (ctx.finished?.type === JobConditionType.SuccessCriteriaMet) {
      if (findCondition(job, JobConditionType.SuccessCriteriaMet)?.status !== 'True') {
        (status.conditions ??= []).push(ctx.finished);
        needsFlush = true;
      }
      ctx.finished = newCondition(JobConditionType.Complete, 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', now);
    }
    // 1. Record the newly finished pods before any finalizer goes: a crash after this point recounts nothing.
    let current = job;
    if (needsFlush) {
      current = await this.updateStatus(current);
      this.backoffs.set(key, ctx.backoff);
      needsFlush = false;
    }
    // 2. Remove the finalizers; 3. move the pods whose finalizer is gone into the counters.
    let rmErr: Error | undefined;
    if (toRemove.length) {
      const uids = toRemove.map((p) => p.metadata.uid ?? '');
      this.opts.finalizerExpectations.expectRemoved(key, uids);
      await Promise.all(
        toRemove.map(async (p) => {
          try {
            await this.removeFinalizer(p);
          } catch (err) {
            this.opts.finalizerExpectations.removalObserved(key, p.metadata.uid ?? '');
            if (!isNotFound(err)) {
              rmErr ??= err as Error;
              return;
            }
          }
          withFinalizer.delete(p.metadata.uid ?? '');
        }),
      );
    }
    if (cleanUncounted(current.status!, withFinalizer)) needsFlush = true;
    if (rmErr) {
      if (needsFlush) await this.updateStatus(current);
      throw rmErr;
    }
    // 4. The terminal condition, once every pod is counted and none is still terminating.
    const finished = !reachedMax && this.enactJobFinished(current, ctx);
    if (finished || needsFlush) {
      await this.updateStatus(current);
      if (finished) this.recordJobFinished(current, ctx.finished!);
    }
  }

  private enactJobFinished(job: Job, ctx: SyncContext): boolean {
    const cond = ctx.finished;
    if (!cond) return false;
    const u = job.status?.uncountedTerminatedPods;
    if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
    if (ctx.terminating > 0) return false;
    const status = (job.status ??= {});
    ensureCondition(status, cond.type, cond.status, cond.reason ?? '', cond.message ?? '', this.now());
    if (cond.type === JobConditionType.Complete) status.completionTime = cond.lastTransitionTime;
    return true;
  }

  private recordJobFinished(job: Job, cond: Condition): void {
    if (cond.type === JobConditionType.Complete) {
      if (job.spec.completions !== undefined && (job.status?.succeeded ?? 0) > job.spec.completions) {
        this.opts.recorder.event(eventTarget(job), 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.opts.recorder.event(eventTarget(job), 'Normal', 'Completed', 'Job completed');
    } else {
      this.opts.recorder.event(eventTarget(job), 'Warning', cond.reason ?? '', cond.message ?? '');
    }
  }

  /** updateStatus PUTs /status with the Job's resourceVersion (a conflict retries the whole sync) and keeps the answer's. */
  private async updateStatus(job: Job): Promise<Job> {
    const status = job.status ?? {};
    const u = status.uncountedTerminatedPods;
    if (u && !u.succeeded?.length) delete u.succeeded;
    if (u && !u.failed?.length) delete u.failed;
    const out = await this.opts.client.update<Job>(Jobs, structuredClone(job), { subresource: 'status' });
    job.metadata.resourceVersion = out.metadata.resourceVersion;
    return job;
  }
}

/**
 * matchSuccessPolicy is matchSuccessPolicy: the first rule the succeeded indexes satisfy (all of
 * its succeededIndexes, or succeededCount of them, or succeededCount in all) names the message.
 */
export function matchSuccessPolicy(job: Job, succeeded: Set<number>): string | undefined {
  const rules = job.spec.successPolicy?.rules ?? [];
  if (!rules.length || !succeeded.size) return undefined;
  const completions = job.spec.completions ?? 0;
  for (const [index, rule] of rules.entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (!required.size) continue;
      const done = [...required].filter((i) => succeeded.has(i)).length;
      if (rule.succeededCount === undefined ? done === required.size : done >= rule.succeededCount) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && succeeded.size >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

/** cleanUncounted moves uncounted pods whose finalizer is gone into the counters; true if anything moved. */
function cleanUncounted(status: JobStatus, withFinalizer: Set<string>): boolean {
  const u = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  const keepS = (u.succeeded ?? []).filter((uid) => withFinalizer.has(uid));
  if (keepS.length !== (u.succeeded ?? []).length) {
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded!.length - keepS.length);
    u.succeeded = keepS;
    changed = true;
  }
  const keepF = (u.failed ?? []).filter((uid) => withFinalizer.has(uid));
  if (keepF.length !== (u.failed ?? []).length) {
    status.failed = (status.failed ?? 0) + (u.failed!.length - keepF.length);
    u.failed = keepF;
    changed = true;
  }
  return changed;
}
