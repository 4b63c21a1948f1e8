// syncCronJob: the CronJob controller's reconcile (kube's pkg/controller/cronjob/
// cronjob_controllerv2.go). It reconciles status.active with the CronJob's Jobs, creates the Job
// of the most recent unmet schedule time (named `<cronjob>-<minutes since epoch>`, so a restart
// between the create and the status write never makes it twice), honours suspend,
// startingDeadlineSeconds and concurrencyPolicy, trims finished Jobs to the history limits, and
// asks to be called again at the next schedule time.

import { type CronJob, type CronJobStatus, ConcurrencyPolicy, type Job, type JobReference, JobConditionType, JobLabels, isJobFinished } from '../../lib/api/batch/types.js';
import { ScheduleError, type ParsedSchedule, formatInZone, isValidTimeZone, nextAfter, parseSchedule } from '../../lib/api/batch/schedule.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { type Client, isAlreadyExists, isNotFound } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { CronJobs, Jobs } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { getControllerOf, newControllerRef } from '../common/controllerref.js';
import { isNamespaceTerminatingError } from '../common/errors.js';

/** nextScheduleDeltaMs is kube's nextScheduleDelta: wake a little after the schedule time. */
export const nextScheduleDeltaMs = 100;

/** tooManyMissed is where kube stops counting missed start times. */
const tooManyMissed = 100;

export interface CronJobSyncerOptions {
  client: Client;
  cronJobs: Lister<CronJob>;
  jobs: Lister<Job>;
  recorder: Recorder;
  now?: () => Date;
  log?: Logger;
}

function eventTarget(cj: CronJob): InvolvedObject {
  return { apiVersion: 'batch/v1', kind: 'CronJob', metadata: cj.metadata };
}

/** getJobName is `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function getJobName(cj: CronJob, scheduled: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
}

/** jobFromTemplate is getJobFromTemplate2: the Job for one scheduled time. */
export function jobFromTemplate(cj: CronJob, scheduled: number): Job {
  const t = cj.spec.jobTemplate ?? {};
  const annotations = { ...(t.metadata?.annotations ?? {}) };
  annotations[JobLabels.CronJobScheduledTimestamp] = formatInZone(scheduled, cj.spec.timeZone);
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: getJobName(cj, scheduled),
      annotations,
      ownerReferences: [newControllerRef(cj, CronJobs)],
    },
    spec: structuredClone(t.spec ?? {}),
  };
  const labels = t.metadata?.labels;
  if (labels && Object.keys(labels).length) job.metadata.labels = { ...labels };
  return job;
}

/** MostRecent is mostRecentScheduleTime's answer: the latest unmet time (if any) and how many were missed. */
export interface MostRecent {
  earliest: number;
  mostRecent?: number;
  missed: number;
}

/** mostRecentScheduleTime finds the latest schedule time after the last one (or creation) that is not after now. */
export function mostRecentScheduleTime(cj: CronJob, now: number, sched: ParsedSchedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? new Date(now).toISOString());
  if (includeStartingDeadline && cj.spec.startingDeadlineSeconds !== undefined && cj.spec.startingDeadlineSeconds !== null) {
    earliest = Math.max(earliest, now - cj.spec.startingDeadlineSeconds * 1000);
  }
  let missed = 0;
  let mostRecent: number | undefined;
  let t = nextAfter(sched, earliest, cj.spec.timeZone);
  while (t !== undefined && t <= now) {
    missed++;
    mostRecent = t;
    if (missed > tooManyMissed) {
      // Jump to the last time before now without counting further.
      mostRecent = lastBefore(sched, t, now, cj.spec.timeZone);
      break;
    }
    t = nextAfter(sched, t, cj.spec.timeZone);
  }
  return { earliest, mostRecent, missed };
}

/** lastBefore walks forward in growing steps to the last schedule time not after now. */
function lastBefore(sched: ParsedSchedule, from: number, now: number, tz?: string): number {
  let last = from;
  // Binary search on the start point: nextAfter(x) <= now.
  let lo = from;
  let hi = now;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2);
    const n = nextAfter(sched, mid, tz);
    if (n !== undefined && n <= now) {
      last = n;
      lo = n;
    } else hi = mid;
  }
  return last;
}

/** nextScheduleTimeDuration is how long until the next schedule time after the most recent one, plus a little. */
export function nextScheduleTimeDuration(cj: CronJob, now: number, sched: ParsedSchedule): number | undefined {
  const r = mostRecentScheduleTime(cj, now, sched, false);
  const from = r.mostRecent ?? (r.missed === 0 ? r.earliest : now);
  const next = nextAfter(sched, Math.max(from, now - 1), cj.spec.timeZone);
  if (next === undefined) return undefined;
  return next + nextScheduleDeltaMs - now;
}

function refOf(job: Job): JobReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, namespace: job.metadata.namespace, uid: job.metadata.uid, resourceVersion: job.metadata.resourceVersion };
}

/** CronJobSyncer runs syncCronJob for keys. */
export class CronJobSyncer {
  private readonly now: () => Date;
  constructor(private readonly opts: CronJobSyncerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  async syncCronJob(key: string): Promise<ReconcileResult | void> {
    const { namespace } = splitKey(key);
    const cached = this.opts.cronJobs.get(key);
    if (!cached) return;
    let cj: CronJob = structuredClone(cached);
    const jobs = this.opts.jobs.list(namespace).filter((j) => getControllerOf(j)?.uid === cj.metadata.uid);
    const status: CronJobStatus = (cj.status ??= {});
    const before = JSON.stringify(status);
    const now = this.now();
    const recorder = this.opts.recorder;
    const inActive = (uid?: string) => (cj.status?.active ?? []).some((r) => r.uid === uid);
    const removeActive = (uid?: string) => {
      cj.status!.active = (cj.status!.active ?? []).filter((r) => r.uid !== uid);
    };

    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata.uid ?? '');
      const finished = isJobFinished(j);
      const found = inActive(j.metadata.uid);
      if (!found && !finished.finished) {
        const fresh = await this.opts.client.get<CronJob>(CronJobs, cj.metadata.namespace ?? '', cj.metadata.name ?? '');
        if ((fresh.status?.active ?? []).some((r) => r.uid === j.metadata.uid)) {
          cj = fresh;
          continue;
        }
        recorder.event(eventTarget(cj), 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (found && finished.finished) {
        removeActive(j.metadata.uid);
        recorder.event(eventTarget(cj), 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished.type}`);
      } else if (finished.type === JobConditionType.Complete && j.status?.completionTime) {
        if (!cj.status!.lastSuccessfulTime || Date.parse(j.status.completionTime) > Date.parse(cj.status!.lastSuccessfulTime)) cj.status!.lastSuccessfulTime = j.status.completionTime;
      }
    }
    for (const ref of [...(cj.status!.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.opts.client.get<Job>(Jobs, ref.namespace ?? cj.metadata.namespace ?? '', ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
        recorder.event(eventTarget(cj), 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        removeActive(ref.uid);
      }
    }
    if (!cj.status!.active?.length) delete cj.status!.active;

    const requeue = await this.schedule(cj, now);
    await this.cleanupFinishedJobs(cj, jobs);
    if (JSON.stringify(cj.status ?? {}) !== before) {
      await this.opts.client.update<CronJob>(CronJobs, { ...cj, status: cj.status }, { subresource: 'status' });
    }
    return requeue === undefined ? undefined : { requeueAfter: Math.max(0, requeue) };
  }

  /** schedule is the scheduling part of syncCronJob; returns when to look again. */
  private async schedule(cj: CronJob, now: Date): Promise<number | undefined> {
    const recorder = this.opts.recorder;
    if (cj.metadata.deletionTimestamp) return undefined;
    if (cj.spec.timeZone !== undefined && !isValidTimeZone(cj.spec.timeZone)) {
      recorder.event(eventTarget(cj), 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}: unknown time zone ${cj.spec.timeZone}`);
      return undefined;
    }
    if (cj.spec.suspend) return undefined;
    let sched: ParsedSchedule;
    try {
      sched = parseSchedule(cj.spec.schedule);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      recorder.event(eventTarget(cj), 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${err.message}`);
      return undefined;
    }
    const t = now.getTime();
    const r = mostRecentScheduleTime(cj, t, sched, true);
    const later = () => nextScheduleTimeDuration(cj, t, sched);
    if (r.mostRecent === undefined) return later();
    if (r.missed > tooManyMissed) {
      recorder.event(eventTarget(cj), 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      this.opts.log?.info('too many missed times', { cronjob: `${cj.metadata.namespace}/${cj.metadata.name}` });
    }
    const scheduled = r.mostRecent;
    if (cj.spec.startingDeadlineSeconds !== undefined && scheduled + cj.spec.startingDeadlineSeconds * 1000 < t) {
      recorder.event(eventTarget(cj), 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return later();
    }
    const name = getJobName(cj, scheduled);
    if ((cj.status?.active ?? []).some((a) => a.name === name) || (cj.status?.lastScheduleTime && Date.parse(cj.status.lastScheduleTime) === scheduled)) return later();
    if (cj.spec.concurrencyPolicy === ConcurrencyPolicy.Forbid && (cj.status?.active ?? []).length > 0) {
      recorder.event(eventTarget(cj), 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return later();
    }
    if (cj.spec.concurrencyPolicy === ConcurrencyPolicy.Replace) {
      for (const ref of [...(cj.status?.active ?? [])]) {
        let job: Job;
        try {
          job = await this.opts.client.get<Job>(Jobs, ref.namespace ?? cj.metadata.namespace ?? '', ref.name ?? '');
        } catch (err) {
          recorder.event(eventTarget(cj), 'Warning', 'FailedGet', `Get job: ${(err as Error).message}`);
          throw err;
        }
        await this.deleteJob(cj, job);
      }
    }
    const want = jobFromTemplate(cj, scheduled);
    let created: Job;
    let existed = false;
    try {
      created = await this.opts.client.create<Job>(Jobs, cj.metadata.namespace ?? '', want);
    } catch (err) {
      if (isNamespaceTerminatingError(err)) throw err;
      if (!isAlreadyExists(err)) {
        recorder.event(eventTarget(cj), 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Made before a restart, its status write lost: the name is the lock.
      created = await this.opts.client.get<Job>(Jobs, cj.metadata.namespace ?? '', want.metadata.name ?? '');
      if (getControllerOf(created)?.uid !== cj.metadata.uid) throw new Error(`job ${want.metadata.name} already exists and is not controlled by this CronJob`);
      existed = true;
    }
    if (!existed) recorder.event(eventTarget(cj), 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    const status = (cj.status ??= {});
    if (!(status.active ?? []).some((a) => a.uid === created.metadata.uid)) status.active = [...(status.active ?? []), refOf(created)];
    status.lastScheduleTime = nowRFC3339(new Date(scheduled));
    return later();
  }

  /** deleteJob deletes a Job in the background and drops it from status.active (kube's deleteJob). */
  private async deleteJob(cj: CronJob, job: Job): Promise<void> {
    try {
      await this.opts.client.delete(Jobs, job.metadata.namespace ?? '', job.metadata.name ?? '', { propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) {
        this.opts.recorder.event(eventTarget(cj), 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
        throw err;
      }
    }
    if (cj.status?.active) {
      cj.status.active = cj.status.active.filter((r) => r.uid !== job.metadata.uid);
      if (!cj.status.active.length) delete cj.status.active;
    }
    this.opts.recorder.event(eventTarget(cj), 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
  }

  /** cleanupFinishedJobs keeps the newest successfulJobsHistoryLimit complete and failedJobsHistoryLimit failed Jobs. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: readonly Job[]): Promise<void> {
    const done = jobs.filter((j) => !j.metadata.deletionTimestamp);
    const byStart = (a: Job, b: Job) => Date.parse(a.status?.startTime ?? a.metadata.creationTimestamp ?? '') - Date.parse(b.status?.startTime ?? b.metadata.creationTimestamp ?? '');
    const trim = async (type: string, limit: number | undefined) => {
      if (limit === undefined || limit === null) return;
      const list = done.filter((j) => isJobFinished(j).type === type).sort(byStart);
      for (const j of list.slice(0, Math.max(0, list.length - limit))) await this.deleteJob(cj, j);
    };
    await trim(JobConditionType.Complete, cj.spec.successfulJobsHistoryLimit);
    await trim(JobConditionType.Failed, cj.spec.failedJobsHistoryLimit);
  }
}

/** rfc1123z is Go's time.RFC1123Z in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
function rfc1123z(t: number): string {
  return new Date(t).toUTCString().replace('GMT', '+0000');
}
