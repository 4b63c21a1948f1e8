// The pvc-protection controller: wiring. A claim is enqueued when it lacks the finalizer or is
// marked for deletion while holding it; a pod event enqueues the claims it may have freed (the pod
// deleted, terminated, or not scheduled). Sync logic is in sync.ts.

import type { PersistentVolumeClaim } from '../../../lib/api/core/persistentvolume.js';
import { VolumeFinalizer } from '../../../lib/api/core/persistentvolume.js';
import type { Pod } from '../../../lib/api/core/pod.js';
import { PersistentVolumeClaims, Pods } from '../../../lib/client/resources.js';
import type { ControllerStarter } from '../../context.js';
import { isDeletionCandidate, needToAddFinalizer } from '../protectionutil.js';
import { type PVCProtectionSyncer, podEventClaimKeys, syncClaim } from './sync.js';

/** startPVCProtectionController starts the pvc-protection controller. */
export const startPVCProtectionController: ControllerStarter = (ctx) => {
  const claimInformer = ctx.informers.informerFor<PersistentVolumeClaim>(PersistentVolumeClaims);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const syncer: PVCProtectionSyncer = {
    client: ctx.client,
    claims: claimInformer.lister(),
    pods: podInformer.lister(),
    log: ctx.log.with({ controller: 'pvc-protection' }),
  };
  const controller = ctx.runController({
    name: 'pvc-protection',
    informers: [claimInformer, podInformer],
    setup: (c) => {
      const onClaim = (pvc: PersistentVolumeClaim) => {
        if (needToAddFinalizer(pvc, VolumeFinalizer.PVCProtection) || isDeletionCandidate(pvc, VolumeFinalizer.PVCProtection)) c.enqueue(pvc);
      };
      claimInformer.on('add', onClaim);
      claimInformer.on('update', onClaim);
      const onPod = (old: Pod | undefined, pod: Pod, deleted: boolean) => {
        for (const key of podEventClaimKeys(old, pod, deleted)) c.enqueueKey(key);
      };
      podInformer.addEventHandler({
        onAdd: (pod) => onPod(undefined, pod, false),
        onUpdate: (old, pod) => onPod(old, pod, false),
        onDelete: (pod) => onPod(undefined, pod, true),
      });
    },
    reconcile: (key) => syncClaim(syncer, key),
  });
  return [controller];
};
