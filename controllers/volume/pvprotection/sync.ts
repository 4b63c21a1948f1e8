// The pv-protection controller (kube's pkg/controller/volume/pvprotection): a volume marked for
// deletion keeps its kubernetes.io/pv-protection finalizer while its status.phase is Bound, the
// phase the persistentvolume-binder keeps it in while its claim exists. Once the claim is gone
// the binder makes it Released (or Failed), and the finalizer goes, so the volume does too. A
// volume created without the finalizer (the admission plugin off) gets it.

import { type PersistentVolume, VolumeFinalizer, VolumePhase } from '../../../lib/api/core/persistentvolume.js';
import type { Client } from '../../../lib/client/client.js';
import { PersistentVolumes } from '../../../lib/client/resources.js';
import type { Lister } from '../../../lib/controller/lister.js';
import type { Logger } from '../../../lib/log.js';
import { isDeletionCandidate, needToAddFinalizer } from '../protectionutil.js';

/** PVProtectionSyncer holds what the controller reads and writes. */
export interface PVProtectionSyncer {
  client: Client;
  volumes: Lister<PersistentVolume>;
  log?: Logger;
}

/** volumeIsBeingUsed is kube's isBeingUsed: the volume's phase is Bound. */
export function volumeIsBeingUsed(pv: PersistentVolume): boolean {
  return pv.status?.phase === VolumePhase.Bound;
}

/** syncVolume is processPV: remove the finalizer of a deleted volume that is not Bound, add it to a volume without it. */
export async function syncVolume(s: PVProtectionSyncer, name: string): Promise<void> {
  const pv = s.volumes.get(name);
  if (!pv) return;
  if (isDeletionCandidate(pv, VolumeFinalizer.PVProtection)) {
    if (!volumeIsBeingUsed(pv)) {
      const next = structuredClone(pv);
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== VolumeFinalizer.PVProtection);
      await s.client.update<PersistentVolume>(PersistentVolumes, next);
      s.log?.v(3).info('Removed protection finalizer from PV', { pv: name });
      return;
    }
    s.log?.v(4).info('Keeping PV because it is being used', { pv: name });
  }
  if (needToAddFinalizer(pv, VolumeFinalizer.PVProtection)) {
    const next = structuredClone(pv);
    next.metadata.finalizers = [...(next.metadata.finalizers ?? []), VolumeFinalizer.PVProtection];
    await s.client.update<PersistentVolume>(PersistentVolumes, next);
    s.log?.v(3).info('Added protection finalizer to PV', { pv: name });
  }
}
