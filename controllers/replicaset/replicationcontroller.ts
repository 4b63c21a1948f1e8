// The ReplicationController manager: the ReplicaSet controller run over ReplicationControllers
// seen as ReplicaSets, as kube's pkg/controller/replication does (its informer, client and
// conversion adapters). An RC's equality-based selector becomes a ReplicaSet selector's
// matchLabels; status is the same on both kinds. Pods get an RC controllerRef and events name the
// RC, because the syncer writes as the kind it is given.

import type { ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ReplicationController } from '../../lib/api/core/replicationcontroller.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { Pods, ReplicationControllers } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { LabelSelectorExpr } from '../../lib/machinery/labels.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import type { ControllerStarter } from '../context.js';
import { ReplicaSetEventHandlers } from './handlers.js';
import { type ControlledKind, type ReplicaSetLister, ReplicaSetSyncer } from './sync.js';

/** replicaSetFromRC is the RC→ReplicaSet conversion (kube's Convert_v1_ReplicationController_To_apps_ReplicaSet). */
export function replicaSetFromRC(rc: ReplicationController): ReplicaSet {
  const { selector, ...spec } = rc.spec ?? {};
  return {
    ...rc,
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    spec: { ...spec, ...(selector ? { selector: { matchLabels: selector } } : {}) },
  };
}

/** rcFromReplicaSet is the way back: matchLabels become the RC's selector map. */
export function rcFromReplicaSet(rs: ReplicaSet): ReplicationController {
  const { selector, ...spec } = rs.spec ?? {};
  return {
    ...rs,
    apiVersion: 'v1',
    kind: 'ReplicationController',
    spec: { ...spec, ...(selector?.matchLabels ? { selector: selector.matchLabels } : {}) },
  };
}

/** replicationControllerKind is the ControlledKind of the RC manager. */
export const replicationControllerKind: ControlledKind = {
  resource: ReplicationControllers,
  toStored: (rs) => rcFromReplicaSet(rs) as KubeObject,
  fromStored: (obj) => replicaSetFromRC(obj as ReplicationController),
};

/** rcListerAsReplicaSets reads a ReplicationController lister as a ReplicaSet one (kube's informerAdapter). */
export function rcListerAsReplicaSets(rcs: Pick<Lister<ReplicationController>, 'get' | 'list'>): ReplicaSetLister {
  return {
    get: (key: string) => {
      const rc = rcs.get(key);
      return rc ? replicaSetFromRC(rc) : undefined;
    },
    list: (namespace?: string, selector?: LabelSelectorExpr | string) => rcs.list(namespace, selector).map(replicaSetFromRC),
  };
}

/** startReplicationControllerController starts the replicationcontroller controller. */
export const startReplicationControllerController: ControllerStarter = (ctx) => {
  const rcInformer = ctx.informers.informerFor<ReplicationController>(ReplicationControllers);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const replicaSets = rcListerAsReplicaSets(rcInformer.lister());
  const log = ctx.log.with({ controller: 'replicationcontroller' });
  const expectations = new UIDTrackingControllerExpectations();
  const syncer = new ReplicaSetSyncer({
    client: ctx.client,
    replicaSets,
    kind: replicationControllerKind,
    pods: podInformer.lister(),
    recorder: ctx.recorder('replication-controller'),
    expectations,
    log,
  });
  const controller = ctx.runController({
    name: 'replicationcontroller',
    informers: [rcInformer, podInformer],
    reconcile: (key, signal) => syncer.syncReplicaSet(key, signal),
    setup: (c) => {
      const h = new ReplicaSetEventHandlers(replicaSets, expectations, c, log, 'ReplicationController');
      const rs = (rc: ReplicationController) => replicaSetFromRC(rc);
      rcInformer.addEventHandler({ onAdd: (rc) => h.addRS(rs(rc)), onUpdate: (old, rc) => h.updateRS(rs(old), rs(rc)), onDelete: (rc) => h.deleteRS(rs(rc)) });
      podInformer.addEventHandler({ onAdd: (pod) => h.addPod(pod), onUpdate: (old, pod) => h.updatePod(old, pod), onDelete: (pod) => h.deletePod(pod) });
    },
  });
  return [controller];
};
