// The ReplicaSet controller: keeps spec.replicas pods for every ReplicaSet (kube-controller-
// manager's replicaset controller). Wiring only: informers, event handlers, the queue; the
// reconcile is ReplicaSetSyncer.syncReplicaSet (sync.ts).

import type { ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { Pods, ReplicaSets } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { ReplicaSetEventHandlers } from './handlers.js';
import { ReplicaSetSyncer } from './sync.js';

/** startReplicaSetController starts the replicaset controller. */
export const startReplicaSetController: ControllerStarter = (ctx) => {
  const rsInformer = ctx.informers.informerFor<ReplicaSet>(ReplicaSets);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const replicaSets = rsInformer.lister();
  const log = ctx.log.with({ controller: 'replicaset' });
  const expectations = new UIDTrackingControllerExpectations();
  const syncer = new ReplicaSetSyncer({
    client: ctx.client,
    replicaSets,
    pods: podInformer.lister(),
    recorder: ctx.recorder('replicaset-controller'),
    expectations,
    log,
  });
  const controller = ctx.runController({
    name: 'replicaset',
    informers: [rsInformer, podInformer],
    reconcile: (key, signal) => syncer.syncReplicaSet(key, signal),
    setup: (c) => {
      const h = new ReplicaSetEventHandlers(replicaSets, expectations, c, log);
      rsInformer.addEventHandler({ onAdd: (rs) => h.addRS(rs), onUpdate: (old, rs) => h.updateRS(old, rs), onDelete: (rs) => h.deleteRS(rs) });
      podInformer.addEventHandler({ onAdd: (pod) => h.addPod(pod), onUpdate: (old, pod) => h.updatePod(old, pod), onDelete: (pod) => h.deletePod(pod) });
    },
  });
  return [controller];
};
