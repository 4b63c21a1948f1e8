// The TTL-after-finished controller's reconcile (kube's pkg/controller/ttlafterfinished): a Job
// that finished (Complete or Failed) more than spec.ttlSecondsAfterFinished ago is deleted, in the
// foreground so its pods go first. Before deleting, the Job is read fresh from the apiserver (the
// cache may be stale: the TTL may have been changed or removed), and the delete carries its
// resourceVersion as a precondition.

import { type Job, isJobFinished } from '../../lib/api/batch/types.js';
import { type Client, isConflict, isNotFound } from '../../lib/client/client.js';
import { Jobs } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';

/** needsCleanup is needsCleanup: a finished Job with a TTL and no deletion under way. */
export function needsCleanup(job: Job): boolean {
  return job.spec.ttlSecondsAfterFinished !== undefined && job.spec.ttlSecondsAfterFinished !== null && !job.metadata.deletionTimestamp && isJobFinished(job).finished;
}

/** timeLeft is how long until the Job expires (ms, may be negative), or undefined when it has no finish time. */
export function timeLeft(job: Job, now: number): number | undefined {
  const finished = isJobFinished(job).time;
  if (!finished) return undefined;
  return Date.parse(finished) + (job.spec.ttlSecondsAfterFinished ?? 0) * 1000 - now;
}

export interface TTLAfterFinishedOptions {
  client: Client;
  jobs: Lister<Job>;
  now?: () => number;
  log?: Logger;
}

/** TTLAfterFinishedSyncer runs processJob for keys. */
export class TTLAfterFinishedSyncer {
  private readonly now: () => number;
  constructor(private readonly opts: TTLAfterFinishedOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** processJob deletes the Job named by key once its TTL has passed, else asks to look again then. */
  async processJob(key: string): Promise<ReconcileResult | void> {
    const cached = this.opts.jobs.get(key);
    if (!cached || !needsCleanup(cached)) return;
    const left = timeLeft(cached, this.now());
    if (left === undefined) return;
    if (left > 0) return { requeueAfter: left };
    const { namespace, name } = splitKey(key);
    let fresh: Job;
    try {
      fresh = await this.opts.client.get<Job>(Jobs, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!needsCleanup(fresh)) return;
    const freshLeft = timeLeft(fresh, this.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfter: freshLeft };
    this.opts.log?.v(4).info('Cleaning up Job', { job: key });
    try {
      await this.opts.client.delete(Jobs, namespace, name, { propagationPolicy: 'Foreground', preconditions: { resourceVersion: fresh.metadata.resourceVersion } });
    } catch (err) {
      // Gone already, or changed since the read: the next event brings it back here.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
