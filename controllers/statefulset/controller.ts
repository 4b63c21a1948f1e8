// The StatefulSet controller's wiring (kube's pkg/controller/statefulset/stateful_set.go): sets
// enqueue themselves; a pod enqueues its controlling set, or, as an orphan, every set whose
// selector matches it (one may adopt it); a pod turning ready enqueues its set again after
// minReadySeconds. ControllerRevisions and claims are read from caches only, as kube does. The
// reconcile is StatefulSetSyncer (sync.ts).

import type { StatefulSet } from '../../lib/api/apps/statefulset.js';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { ControllerRevisions, PersistentVolumeClaims, Pods, StatefulSets } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import { isEverything, labelSelectorAsSelector, matches } from '../../lib/machinery/labels.js';
import { getControllerOf } from '../common/controllerref.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import { isPodReady } from '../common/pods.js';
import type { ControllerStarter } from '../context.js';
import { StatefulSetSyncer } from './sync.js';
import type { PersistentVolumeClaim } from './utils.js';

/** startStatefulSetController starts the statefulset controller. */
export const startStatefulSetController: ControllerStarter = (ctx) => {
  const setInformer = ctx.informers.informerFor<StatefulSet>(StatefulSets);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const revInformer = ctx.informers.informerFor<ControllerRevision>(ControllerRevisions);
  const claimInformer = ctx.informers.informerFor<PersistentVolumeClaim>(PersistentVolumeClaims);
  const statefulSets = setInformer.lister();
  const log = ctx.log.with({ controller: 'statefulset' });
  const syncer = new StatefulSetSyncer({
    client: ctx.client,
    statefulSets,
    pods: podInformer.lister(),
    revisions: revInformer.lister(),
    claims: claimInformer.lister(),
    recorder: ctx.recorder('statefulset-controller'),
    log,
  });
  const controller = ctx.runController({
    name: 'statefulset',
    informers: [setInformer, podInformer, revInformer, claimInformer],
    setup: (c) => {
      const enqueue = (s: StatefulSet | undefined) => s && c.enqueue(s);
      setInformer.on('add', enqueue);
      setInformer.on('update', enqueue);
      setInformer.on('delete', enqueue);

      const onPod = (pod: Pod) => {
        const ref = getControllerOf(pod);
        if (ref) {
          enqueue(resolveControllerRef(statefulSets, pod.metadata?.namespace, ref));
          return;
        }
        // An orphan: no set waits for it, but one whose selector matches may adopt it.
        if (pod.metadata?.deletionTimestamp) return;
        for (const s of statefulSetsForPod(statefulSets, pod)) enqueue(s);
      };
      podInformer.addEventHandler({
        onAdd: onPod,
        onUpdate: (old, pod) => {
          if (old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === pod.metadata?.resourceVersion) return;
          const oldRef = getControllerOf(old);
          const curRef = getControllerOf(pod);
          if (oldRef && oldRef.uid !== curRef?.uid) enqueue(resolveControllerRef(statefulSets, old.metadata?.namespace, oldRef));
          onPod(pod);
          if (curRef && !isPodReady(old) && isPodReady(pod)) {
            const set = resolveControllerRef(statefulSets, pod.metadata?.namespace, curRef);
            const minReadySeconds = set?.spec.minReadySeconds ?? 0;
            // Availability comes with time, not with an event (a second more for clock skew).
            if (set && minReadySeconds > 0) c.enqueueAfter(set, minReadySeconds * 1000 + 1000);
          }
        },
        onDelete: (pod) => {
          const ref = getControllerOf(pod);
          if (ref) enqueue(resolveControllerRef(statefulSets, pod.metadata?.namespace, ref));
        },
      });
    },
    reconcile: async (key) => {
      try {
        return await syncer.syncStatefulSet(key);
      } catch (err) {
        // A terminating namespace refuses every create from now on: nothing to retry.
        if (isNamespaceTerminatingError(err)) return;
        throw err;
      }
    },
  });
  return [controller];
};

/** resolveControllerRef is the cached set ref names, if it is still the same object (uid). */
function resolveControllerRef(sets: Lister<StatefulSet>, namespace: string | undefined, ref: OwnerReference): StatefulSet | undefined {
  if (ref.kind !== 'StatefulSet') return undefined;
  const s = sets.get(`${namespace}/${ref.name}`);
  return s && s.metadata.uid === ref.uid ? s : undefined;
}

/** statefulSetsForPod are the sets of the pod's namespace whose (non-empty, valid) selector matches it. */
function statefulSetsForPod(sets: Lister<StatefulSet>, pod: Pod): StatefulSet[] {
  const out: StatefulSet[] = [];
  for (const s of sets.list(pod.metadata?.namespace ?? '')) {
    try {
      const sel = labelSelectorAsSelector(s.spec.selector);
      if (!isEverything(sel) && matches(sel, pod.metadata?.labels)) out.push(s);
    } catch {
      // An invalid selector selects nothing.
    }
  }
  return out;
}
