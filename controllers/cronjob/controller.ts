// The CronJob controller (kube-controller-manager's cronjob controller, v2): CronJob events and
// the events of the Jobs they control enqueue CronJob keys; each sync returns when to look
// again (the next schedule time). The reconcile is CronJobSyncer.syncCronJob (sync.ts).

import type { CronJob, Job } from '../../lib/api/batch/types.js';
import { CronJobs, Jobs } from '../../lib/client/resources.js';
import { keyOf } from '../../lib/controller/keys.js';
import type { ControllerStarter } from '../context.js';
import { getControllerOf } from '../common/controllerref.js';
import { CronJobSyncer } from './sync.js';

/** startCronJobController starts the cronjob controller. */
export const startCronJobController: ControllerStarter = (ctx) => {
  const cjInformer = ctx.informers.informerFor<CronJob>(CronJobs);
  const jobInformer = ctx.informers.informerFor<Job>(Jobs);
  const cronJobs = cjInformer.lister();
  const syncer = new CronJobSyncer({
    client: ctx.client,
    cronJobs,
    jobs: jobInformer.lister(),
    recorder: ctx.recorder('cronjob-controller'),
    log: ctx.log.with({ controller: 'cronjob' }),
  });
  const controller = ctx.runController({
    name: 'cronjob',
    informers: [cjInformer, jobInformer],
    reconcile: (key) => syncer.syncCronJob(key),
    setup: (c) => {
      const owner = (job: Job) => {
        const ref = getControllerOf(job);
        if (!ref || ref.kind !== 'CronJob') return;
        const cj = cronJobs.get(`${job.metadata.namespace}/${ref.name}`);
        if (cj && cj.metadata.uid === ref.uid) c.enqueueKey(keyOf(cj));
      };
      cjInformer.addEventHandler({ onAdd: (cj) => c.enqueueKey(keyOf(cj)), onUpdate: (_o, cj) => c.enqueueKey(keyOf(cj)) });
      jobInformer.addEventHandler({ onAdd: owner, onUpdate: (old, job) => {
        if (old.metadata.resourceVersion !== job.metadata.resourceVersion) owner(job);
      }, onDelete: owner });
    },
  });
  return [controller];
};
