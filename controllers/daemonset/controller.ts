// The DaemonSet controller: one pod per eligible node for every DaemonSet (kube-controller-
// manager's daemonset controller). Wiring only: informers, event handlers, the queue; the
// reconcile is DaemonSetSyncer.syncDaemonSet (sync.ts).

import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { DaemonSet } from '../../lib/api/apps/daemonset.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { ControllerRevisions, DaemonSets, Nodes, Pods } from '../../lib/client/resources.js';
import { Backoff } from '../../lib/controller/backoff.js';
import type { Controller } from '../../lib/controller/controller.js';
import type { ControllerStarter } from '../context.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { DaemonSetEventHandlers } from './handlers.js';
import { DaemonSetSyncer } from './sync.js';

/** failedPodsBackoffInitialMs and the maximum below are kube-controller-manager's NewBackOff(1s, 15m) for failed daemon pods. */
const failedPodsBackoffInitialMs = 1000;
const failedPodsBackoffMaxMs = 15 * 60_000;

/** startDaemonSetController starts the daemonset controller. */
export const startDaemonSetController: ControllerStarter = (ctx) => {
  const dsInformer = ctx.informers.informerFor<DaemonSet>(DaemonSets);
  const historyInformer = ctx.informers.informerFor<ControllerRevision>(ControllerRevisions);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  const daemonSets = dsInformer.lister();
  const log = ctx.log.with({ controller: 'daemonset' });
  const expectations = new UIDTrackingControllerExpectations();
  const failedPodsBackoff = new Backoff(failedPodsBackoffInitialMs, failedPodsBackoffMaxMs);
  let controller: Controller | undefined;
  const syncer = new DaemonSetSyncer({
    client: ctx.client,
    daemonSets,
    nodes: nodeInformer.lister(),
    pods: podInformer.lister(),
    revisions: historyInformer.lister(),
    recorder: ctx.recorder('daemonset-controller'),
    expectations,
    failedPodsBackoff,
    enqueueAfter: (key, delayMs) => controller?.enqueueAfter(key, delayMs),
    log,
  });
  const gc = setInterval(() => failedPodsBackoff.gc(), 60_000);
  gc.unref();
  controller = ctx.runController({
    name: 'daemonset',
    informers: [dsInformer, historyInformer, podInformer, nodeInformer],
    reconcile: (key, signal) => syncer.syncDaemonSet(key, signal),
    setup: (c) => {
      const h = new DaemonSetEventHandlers(daemonSets, expectations, c, log);
      dsInformer.addEventHandler({ onAdd: (ds) => h.addDaemonSet(ds), onUpdate: (old, ds) => h.updateDaemonSet(old, ds), onDelete: (ds) => h.deleteDaemonSet(ds) });
      historyInformer.addEventHandler({ onAdd: (r) => h.addHistory(r), onUpdate: (old, r) => h.updateHistory(old, r), onDelete: (r) => h.deleteHistory(r) });
      podInformer.addEventHandler({ onAdd: (p) => h.addPod(p), onUpdate: (old, p) => h.updatePod(old, p), onDelete: (p) => h.deletePod(p) });
      nodeInformer.addEventHandler({ onAdd: (n) => h.addNode(n), onUpdate: (old, n) => h.updateNode(old, n), onDelete: (n) => h.deleteNode(n) });
    },
  });
  return [controller];
};
