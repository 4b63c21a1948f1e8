// The reconcile harness and its helpers: keys, informers with a sync signal, listers.
//
// A controller in a few lines (the ReplicaSet controller, say):
//
//   const rsInformer = newSharedInformer(kc, '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces());
//   const podInformer = newSharedInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
//   const replicaSets = rsInformer.lister();
//   runController({
//     name: 'replicaset', informers: [rsInformer, podInformer], workers: 5, log, signal,
//     setup: (c) => {
//       rsInformer.on('change', (rs) => c.enqueue(rs));                       // handlers only enqueue
//       podInformer.on('change', (pod) => c.enqueueOwner(pod, 'ReplicaSet', 'apps/v1'));
//     },
//     reconcile: async (key) => {
//       const rs = replicaSets.get(key);    // cached: never mutate, structuredClone() first
//       if (!rs) return;                    // deleted: nothing to do
//       …                                   // throw to retry with backoff, TerminalError to give up
//     },
//   });
export { type ObjectRef, InvalidKeyError, keyOf, ownerKeyFor, splitKey } from './keys.js';
export { type LabeledObject, type ListerOptions, Lister, deepFreeze } from './lister.js';
export { type ApiObject, type CacheSyncer, type InformerSource, type ResourceEventHandler, type SharedInformerOptions, SharedInformer, newSharedInformer } from './informer.js';
export {
  type ControllerMetrics,
  type ControllerOptions,
  type ReconcileOutcome,
  type ReconcileResult,
  type Reconciler,
  Controller,
  TerminalError,
  runController,
} from './controller.js';
export { InformerFactory, listerOf } from './factory.js';
export { type CachedObject, type ListResult, type ListWatchOptions, type ObjectCache, ListWatch } from './listwatch.js';
