// The Deployment controller's wiring (kube's pkg/controller/deployment/deployment_controller.go):
// which events enqueue which Deployment. Deployments enqueue themselves; a ReplicaSet enqueues
// its controlling Deployment, or, as an orphan, every Deployment whose selector matches it (one
// may adopt it); a deleted pod enqueues its Deployment when that one uses Recreate, which waits
// for old pods to be gone. The reconcile itself is DeploymentSyncer (sync.ts).

import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { Deployments, Pods, ReplicaSets } from '../../lib/client/resources.js';
import { type Controller } from '../../lib/controller/controller.js';
import type { Lister } from '../../lib/controller/lister.js';
import { labelSelectorAsSelector, matches } from '../../lib/machinery/labels.js';
import { getControllerOf } from '../common/controllerref.js';
import type { ControllerStarter } from '../context.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import { DeploymentSyncer } from './sync.js';

/** startDeploymentController starts the deployment controller. */
export const startDeploymentController: ControllerStarter = (ctx) => {
  const dInformer = ctx.informers.informerFor<Deployment>(Deployments);
  const rsInformer = ctx.informers.informerFor<ReplicaSet>(ReplicaSets);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const deployments = dInformer.lister();
  const replicaSets = rsInformer.lister();
  const pods = podInformer.lister();
  const log = ctx.log.with({ controller: 'deployment' });
  const syncer = new DeploymentSyncer({ client: ctx.client, recorder: ctx.recorder('deployment-controller'), deployments, replicaSets, pods, log });

  const controller: Controller = ctx.runController({
    name: 'deployment',
    informers: [dInformer, rsInformer, podInformer],
    setup: (c) => {
      const enqueue = (d: Deployment | undefined) => d && c.enqueue(d);
      dInformer.on('add', enqueue);
      dInformer.on('update', enqueue);
      dInformer.on('delete', enqueue);

      const onReplicaSet = (rs: ReplicaSet) => {
        const ref = getControllerOf(rs);
        if (ref) {
          enqueue(resolveControllerRef(deployments, rs.metadata.namespace, ref));
          return;
        }
        // An orphan (or one just released): whoever matches it may adopt it. A ReplicaSet being
        // deleted is adopted by no one.
        if (rs.metadata.deletionTimestamp) return;
        for (const d of deploymentsForReplicaSet(deployments, rs)) enqueue(d);
      };
      rsInformer.on('add', onReplicaSet);
      rsInformer.on('update', onReplicaSet);
      rsInformer.on('delete', (rs) => {
        const ref = getControllerOf(rs);
        if (ref) enqueue(resolveControllerRef(deployments, rs.metadata.namespace, ref));
      });

      podInformer.on('delete', (pod) => {
        const d = deploymentForPod(deployments, replicaSets, pod);
        if (d?.spec?.strategy?.type === 'Recreate') enqueue(d);
      });
    },
    reconcile: async (key) => {
      try {
        return await syncer.syncDeployment(key);
      } catch (err) {
        // A terminating namespace refuses every create from now on: nothing to retry.
        if (isNamespaceTerminatingError(err)) return;
        throw err;
      }
    },
  });
  return [controller];
};

/** resolveControllerRef is the cached Deployment ref names, if it is still the same object (uid). */
function resolveControllerRef(deployments: Lister<Deployment>, namespace: string | undefined, ref: OwnerReference): Deployment | undefined {
  if (ref.kind !== 'Deployment') return undefined;
  const d = deployments.get(`${namespace}/${ref.name}`);
  return d && d.metadata.uid === ref.uid ? d : undefined;
}

/** deploymentsForReplicaSet are the Deployments of rs's namespace whose (non-empty) selector matches its labels. */
function deploymentsForReplicaSet(deployments: Lister<Deployment>, rs: ReplicaSet): Deployment[] {
  if (!rs.metadata.labels || !Object.keys(rs.metadata.labels).length) return [];
  return deployments.list(rs.metadata.namespace ?? '').filter((d) => {
    try {
      const sel = labelSelectorAsSelector(d.spec?.selector);
      return sel.requirements.length > 0 && matches(sel, rs.metadata.labels);
    } catch {
      return false;
    }
  });
}

/** deploymentForPod follows pod → ReplicaSet → Deployment through controller references. */
function deploymentForPod(deployments: Lister<Deployment>, replicaSets: Lister<ReplicaSet>, pod: Pod): Deployment | undefined {
  const ref = getControllerOf(pod);
  if (!ref || ref.kind !== 'ReplicaSet') return undefined;
  const rs = replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
  if (!rs || rs.metadata.uid !== ref.uid) return undefined;
  const dRef = getControllerOf(rs);
  return dRef ? resolveControllerRef(deployments, rs.metadata.namespace, dRef) : undefined;
}
