// The podgc controller: wiring. It is periodic, not event driven (kube's gcCheckPeriod): one key
// whose reconcile runs a PodGC pass over the pod and node caches and schedules the next.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { Nodes, Pods } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { PodGC } from './gc.js';

/** gcCheckPeriodMs is kube's gcCheckPeriod; a shorter quarantine (tests) checks more often. */
export function gcCheckPeriodMs(quarantineMs: number): number {
  return Math.min(20_000, Math.max(500, Math.floor(quarantineMs / 2)));
}

/** startPodGCController starts the podgc controller. */
export const startPodGCController: ControllerStarter = (ctx) => {
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  const gc = new PodGC({
    client: ctx.client,
    pods: podInformer.lister(),
    nodes: nodeInformer.lister(),
    terminatedPodThreshold: ctx.config.terminatedPodGCThreshold,
    quarantineMs: ctx.config.podGCOrphanGraceMs,
    log: ctx.log.with({ controller: 'podgc' }),
  });
  const period = gcCheckPeriodMs(ctx.config.podGCOrphanGraceMs);
  const controller = ctx.runController({
    name: 'podgc',
    informers: [podInformer, nodeInformer],
    workers: 1,
    setup: (c) => c.enqueueKey('podgc'),
    reconcile: async () => {
      await gc.gc();
      return { requeueAfter: period };
    },
  });
  return [controller];
};
