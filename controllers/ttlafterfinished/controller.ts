// The TTL-after-finished controller (kube-controller-manager's ttl-after-finished controller):
// Job events enqueue Jobs that may need cleaning up; the reconcile is TTLAfterFinishedSyncer.

import type { Job } from '../../lib/api/batch/types.js';
import { Jobs } from '../../lib/client/resources.js';
import { keyOf } from '../../lib/controller/keys.js';
import type { ControllerStarter } from '../context.js';
import { TTLAfterFinishedSyncer, needsCleanup } from './sync.js';

/** startTTLAfterFinishedController starts the ttl-after-finished controller. */
export const startTTLAfterFinishedController: ControllerStarter = (ctx) => {
  const jobInformer = ctx.informers.informerFor<Job>(Jobs);
  const syncer = new TTLAfterFinishedSyncer({ client: ctx.client, jobs: jobInformer.lister(), log: ctx.log.with({ controller: 'ttl-after-finished' }) });
  const controller = ctx.runController({
    name: 'ttlafterfinished',
    informers: [jobInformer],
    reconcile: (key) => syncer.processJob(key),
    setup: (c) => {
      const enqueue = (job: Job) => {
        if (needsCleanup(job)) c.enqueueKey(keyOf(job));
      };
      jobInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, job) => enqueue(job) });
    },
  });
  return [controller];
};
