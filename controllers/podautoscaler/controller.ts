// The horizontal-pod-autoscaler controller: wiring. HPA adds and updates enqueue the HPA; each
// sync asks to run again after the sync period, which is how the autoscaler re-reads metrics
// (kube's HPA controller resyncs on its own timer the same way). Reconcile logic is in sync.ts.

import type { Pod } from '../../lib/api/core/pod.js';
import type { HorizontalPodAutoscaler } from '../../lib/api/autoscaling/hpa.js';
import { HorizontalPodAutoscalers, Pods } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { HorizontalController } from './sync.js';

/** startHPAController starts the horizontal-pod-autoscaler controller. */
export const startHPAController: ControllerStarter = (ctx) => {
  const hpaInformer = ctx.informers.informerFor<HorizontalPodAutoscaler>(HorizontalPodAutoscalers);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const hc = new HorizontalController({
    client: ctx.client,
    hpas: hpaInformer.lister(),
    pods: podInformer.lister(),
    recorder: ctx.recorder('horizontal-pod-autoscaler'),
    log: ctx.log.with({ controller: 'horizontal-pod-autoscaler' }),
    syncPeriodMs: ctx.config.hpaSyncPeriodMs,
    downscaleStabilizationMs: ctx.config.hpaDownscaleStabilizationMs,
  });
  const controller = ctx.runController({
    name: 'horizontal-pod-autoscaler',
    informers: [hpaInformer, podInformer],
    setup: (c) => {
      hpaInformer.on('add', (h) => c.enqueue(h));
      hpaInformer.on('update', (h) => c.enqueue(h));
      hpaInformer.on('delete', (h) => c.enqueue(h));
    },
    reconcile: (key) => hc.sync(key),
  });
  return [controller];
};
