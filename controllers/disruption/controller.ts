// The disruption controller: keeps every PodDisruptionBudget's status (kube-controller-manager's
// disruption controller). Wiring only: informers, event handlers, the queues; the reconciles are
// DisruptionSyncer.sync (sync.ts) and syncStalePodDisruption (stale.ts).

import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ReplicationController } from '../../lib/api/core/replicationcontroller.js';
import { pdbGuardsPod } from '../../lib/api/policy/helpers.js';
import type { PodDisruptionBudget } from '../../lib/api/policy/poddisruptionbudget.js';
import type { Recorder } from '../../lib/client/events.js';
import { Deployments, PodDisruptionBudgets, Pods, ReplicaSets, ReplicationControllers } from '../../lib/client/resources.js';
import { keyOf } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import type { ControllerStarter } from '../context.js';
import { staleDisruptionCleanAt, syncStalePodDisruption } from './stale.js';
import { DisruptionSyncer } from './sync.js';

/**
 * getPdbForPod is kube's: the budget a pod event concerns. A pod that several budgets select
 * gets a MultiplePodDisruptionBudgets warning and the first of them.
 */
export function getPdbForPod(pdbs: Lister<PodDisruptionBudget>, pod: Pod, recorder: Recorder, log?: Logger): PodDisruptionBudget | undefined {
  if (!Object.keys(pod.metadata?.labels ?? {}).length) return undefined;
  const matching = pdbs.list(pod.metadata?.namespace).filter((pdb) => pdbGuardsPod(pdb, pod));
  if (matching.length === 0) {
    log?.v(4).info('No PodDisruptionBudgets found for pod, PodDisruptionBudget controller will avoid syncing.', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` });
    return undefined;
  }
  if (matching.length > 1) {
    const msg = `Pod ${JSON.stringify(pod.metadata?.namespace ?? '')}/${JSON.stringify(pod.metadata?.name ?? '')} matches multiple PodDisruptionBudgets.  Chose ${JSON.stringify(matching[0]!.metadata.name)} arbitrarily.`;
    log?.info(msg);
    recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, 'Warning', 'MultiplePodDisruptionBudgets', msg);
  }
  return matching[0];
}

/** startDisruptionController starts the disruption controller. */
export const startDisruptionController: ControllerStarter = (ctx) => {
  const pdbInformer = ctx.informers.informerFor<PodDisruptionBudget>(PodDisruptionBudgets);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const rsInformer = ctx.informers.informerFor<ReplicaSet>(ReplicaSets);
  const deploymentInformer = ctx.informers.informerFor<Deployment>(Deployments);
  const rcInformer = ctx.informers.informerFor<ReplicationController>(ReplicationControllers);
  const pdbs = pdbInformer.lister();
  const log = ctx.log.with({ controller: 'disruption' });
  const recorder = ctx.recorder('controllermanager');
  const syncer = new DisruptionSyncer({
    client: ctx.client,
    pdbs,
    pods: podInformer.lister(),
    replicaSets: rsInformer.lister(),
    deployments: deploymentInformer.lister(),
    replicationControllers: rcInformer.lister(),
    recorder,
    log,
  });
  const controller = ctx.runController({
    name: 'disruption',
    informers: [pdbInformer, podInformer, rsInformer, deploymentInformer, rcInformer],
    reconcile: (key) => syncer.sync(key),
    setup: (c) => {
      const enqueue = (pdb: PodDisruptionBudget) => c.enqueueKey(keyOf(pdb));
      pdbInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, pdb) => enqueue(pdb), onDelete: enqueue });
      const podChanged = (pod: Pod) => {
        const pdb = getPdbForPod(pdbs, pod, recorder, log);
        if (pdb) enqueue(pdb);
      };
      podInformer.addEventHandler({ onAdd: podChanged, onUpdate: (_old, pod) => podChanged(pod), onDelete: podChanged });
    },
  });
  // The second queue: pods whose DisruptionTarget condition may turn stale.
  const podLister = podInformer.lister();
  const stale = ctx.runController({
    name: 'disruption-stale-pod-disruption',
    informers: [podInformer],
    reconcile: (key) => syncStalePodDisruption(key, { client: ctx.client, pods: podLister, now: () => new Date(), log }),
    setup: (c) => {
      const check = (pod: Pod) => {
        const cleanAt = staleDisruptionCleanAt(pod);
        if (cleanAt !== undefined) c.enqueueAfter(keyOf(pod), Math.max(0, cleanAt - Date.now()));
      };
      podInformer.addEventHandler({ onAdd: check, onUpdate: (_old, pod) => check(pod) });
    },
  });
  return [controller, stale];
};
