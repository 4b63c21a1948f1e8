// The pv-protection controller: wiring. A volume is enqueued when it lacks the finalizer or is
// marked for deletion while holding it (each phase change the binder writes is such an update).
// Sync logic is in sync.ts.

import { type PersistentVolume, VolumeFinalizer } from '../../../lib/api/core/persistentvolume.js';
import { PersistentVolumes } from '../../../lib/client/resources.js';
import type { ControllerStarter } from '../../context.js';
import { isDeletionCandidate, needToAddFinalizer } from '../protectionutil.js';
import { type PVProtectionSyncer, syncVolume } from './sync.js';

/** startPVProtectionController starts the pv-protection controller. */
export const startPVProtectionController: ControllerStarter = (ctx) => {
  const volumeInformer = ctx.informers.informerFor<PersistentVolume>(PersistentVolumes);
  const syncer: PVProtectionSyncer = {
    client: ctx.client,
    volumes: volumeInformer.lister(),
    log: ctx.log.with({ controller: 'pv-protection' }),
  };
  const controller = ctx.runController({
    name: 'pv-protection',
    informers: [volumeInformer],
    setup: (c) => {
      const onVolume = (pv: PersistentVolume) => {
        if (needToAddFinalizer(pv, VolumeFinalizer.PVProtection) || isDeletionCandidate(pv, VolumeFinalizer.PVProtection)) c.enqueue(pv);
      };
      volumeInformer.on('add', onVolume);
      volumeInformer.on('update', onVolume);
    },
    reconcile: (key) => syncVolume(syncer, key),
  });
  return [controller];
};
