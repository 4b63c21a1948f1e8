// The Job controller (kube-controller-manager's job controller). Wiring only: informers, event
// handlers that lower expectations and enqueue Job keys, and a second queue of pods whose
// tracking finalizer no Job will remove any more (orphans, pods of finished or deleted Jobs).
// The reconcile is JobSyncer.syncJob (sync.ts).

import type { Job } from '../../lib/api/batch/types.js';
import { JobLabels, isJobFinished } from '../../lib/api/batch/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { isNotFound } from '../../lib/client/client.js';
import { Jobs, Pods } from '../../lib/client/resources.js';
import { keyOf, splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import { isEverything, labelSelectorAsSelector, matches } from '../../lib/machinery/labels.js';
import type { ControllerStarter } from '../context.js';
import { getControllerOf } from '../common/controllerref.js';
import { ControllerExpectations } from '../common/expectations.js';
import { FinalizerExpectations, JobSyncer, hasTrackingFinalizer } from './sync.js';

/** syncJobBatchPeriodMs is kube's syncJobBatchPeriod: pod events are folded into one sync a second later. */
const syncJobBatchPeriodMs = 1000;

function resolveJob(jobs: Lister<Job>, namespace: string, ref: OwnerReference | undefined): Job | undefined {
  if (!ref || ref.kind !== 'Job') return undefined;
  const job = jobs.get(`${namespace}/${ref.name}`);
  return job && job.metadata.uid === ref.uid ? job : undefined;
}

/** startJobController starts the job controller. */
export const startJobController: ControllerStarter = (ctx) => {
  const jobInformer = ctx.informers.informerFor<Job>(Jobs);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const jobs = jobInformer.lister();
  const pods = podInformer.lister();
  const log = ctx.log.with({ controller: 'job' });
  const expectations = new ControllerExpectations();
  const finalizerExpectations = new FinalizerExpectations();
  const syncer = new JobSyncer({ client: ctx.client, jobs, pods, recorder: ctx.recorder('job-controller'), expectations, finalizerExpectations, log });

  // syncOrphanPod removes the tracking finalizer of a pod no unfinished Job controls.
  const orphans = ctx.runController({
    name: 'job_orphan_pod',
    informers: [jobInformer, podInformer],
    reconcile: async (key) => {
      const pod = pods.get(key);
      if (!pod || !hasTrackingFinalizer(pod)) return;
      const ref = getControllerOf(pod);
      if (ref) {
        if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
        const job = resolveJob(jobs, pod.metadata.namespace ?? '', ref);
        if (job && !isJobFinished(job).finished) return; // Adopted, or still counting.
      }
      const { namespace, name } = splitKey(key);
      try {
        await ctx.client.patch(Pods, namespace, name, 'strategic', { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JobLabels.JobTrackingFinalizer] } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  });

  const controller = ctx.runController({
    name: 'job',
    informers: [jobInformer, podInformer],
    reconcile: (key, signal) => syncer.syncJob(key, signal),
    setup: (c) => {
      const enqueueBatched = (job: Job) => c.enqueueAfter(keyOf(job), syncJobBatchPeriodMs);
      const cleanupPodFinalizers = (job: Job) => {
        for (const p of pods.list(job.metadata.namespace)) {
          if (hasTrackingFinalizer(p) && getControllerOf(p)?.uid === job.metadata.uid) orphans.enqueueKey(keyOf(p));
        }
      };
      const podJobs = (pod: Pod) =>
        jobs.list(pod.metadata.namespace).filter((j) => {
          try {
            const sel = labelSelectorAsSelector(j.spec.selector);
            return !isEverything(sel) && matches(sel, pod.metadata.labels);
          } catch {
            return false;
          }
        });
      const deletePod = (pod: Pod, final: boolean) => {
        const ref = getControllerOf(pod);
        const job = resolveJob(jobs, pod.metadata.namespace ?? '', ref);
        if (!job || isJobFinished(job).finished) {
          if (hasTrackingFinalizer(pod)) orphans.enqueueKey(keyOf(pod));
          return;
        }
        const key = keyOf(job);
        expectations.deletionObserved(key);
        if (final || !hasTrackingFinalizer(pod)) finalizerExpectations.removalObserved(key, pod.metadata.uid ?? '');
        enqueueBatched(job);
      };
      jobInformer.addEventHandler({
        onAdd: (job) => c.enqueueKey(keyOf(job)),
        onUpdate: (old, job) => {
          if (old.metadata.uid !== job.metadata.uid) expectations.deleteExpectations(keyOf(job));
          if (old.metadata.generation === job.metadata.generation) enqueueBatched(job);
          else c.enqueueKey(keyOf(job));
          if (isJobFinished(job).finished) cleanupPodFinalizers(job);
          // A new or changed deadline: look again when it passes.
          const ads = job.spec.activeDeadlineSeconds;
          if (job.status?.startTime && ads !== undefined && ads !== old.spec.activeDeadlineSeconds) {
            c.enqueueAfter(keyOf(job), Math.max(0, Date.parse(job.status.startTime) + ads * 1000 - Date.now()));
          }
        },
        onDelete: (job) => {
          c.enqueueKey(keyOf(job));
          cleanupPodFinalizers(job);
        },
      });
      podInformer.addEventHandler({
        onAdd: (pod) => {
          if (pod.metadata.deletionTimestamp) return deletePod(pod, false);
          const ref = getControllerOf(pod);
          if (ref) {
            const job = resolveJob(jobs, pod.metadata.namespace ?? '', ref);
            if (!job) return;
            expectations.creationObserved(keyOf(job));
            enqueueBatched(job);
            return;
          }
          if (hasTrackingFinalizer(pod)) orphans.enqueueKey(keyOf(pod));
          for (const j of podJobs(pod)) enqueueBatched(j);
        },
        onUpdate: (old, pod) => {
          if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
          if (pod.metadata.deletionTimestamp) return deletePod(pod, false);
          const finalizerRemoved = !hasTrackingFinalizer(pod);
          const oldRef = getControllerOf(old);
          const curRef = getControllerOf(pod);
          const ns = pod.metadata.namespace ?? '';
          if (oldRef && oldRef.uid !== curRef?.uid) {
            const job = resolveJob(jobs, ns, oldRef);
            if (job) {
              if (finalizerRemoved) finalizerExpectations.removalObserved(keyOf(job), pod.metadata.uid ?? '');
              enqueueBatched(job);
            }
          }
          if (curRef) {
            const job = resolveJob(jobs, ns, curRef);
            if (!job) return;
            if (finalizerRemoved) finalizerExpectations.removalObserved(keyOf(job), pod.metadata.uid ?? '');
            enqueueBatched(job);
            return;
          }
          if (hasTrackingFinalizer(pod)) orphans.enqueueKey(keyOf(pod));
          for (const j of podJobs(pod)) enqueueBatched(j);
        },
        onDelete: (pod) => deletePod(pod, true),
      });
    },
  });
  return [controller, orphans];
};
