// The StorageObjectInUseProtection admission plugin (plugin/pkg/admission/storage/
// storageobjectinuseprotection): every PersistentVolumeClaim is created with the
// kubernetes.io/pvc-protection finalizer and every PersistentVolume with kubernetes.io/pv-protection,
// so a claim a pod still uses, or a volume still bound, is only marked for deletion; the
// pvc-protection and pv-protection controllers remove the finalizers once that is no longer so.
// Creates of the main resource only: an update that drops the finalizer is the controllers' (or
// the user's) business, as in Kubernetes.

import { VolumeFinalizer } from '../../lib/api/core/persistentvolume.js';
import type { AdmissionRequest } from '../registry/store.js';

/** StorageObjectInUseProtection is the plugin's name, as --disable-admission-plugins takes it. */
export const StorageObjectInUseProtection = 'StorageObjectInUseProtection';

/** admitWithFinalizer adds finalizer to the object being created unless it is already there. */
function admitWithFinalizer(req: AdmissionRequest, finalizer: string): void {
  if (req.operation !== 'CREATE' || req.subresource) return;
  const meta = req.object.metadata;
  const finalizers = meta.finalizers ?? [];
  if (finalizers.includes(finalizer)) return;
  meta.finalizers = [...finalizers, finalizer];
}

/** admitClaimProtection gives a claim being created the kubernetes.io/pvc-protection finalizer. */
export function admitClaimProtection(req: AdmissionRequest): void {
  admitWithFinalizer(req, VolumeFinalizer.PVCProtection);
}

/** admitVolumeProtection gives a volume being created the kubernetes.io/pv-protection finalizer. */
export function admitVolumeProtection(req: AdmissionRequest): void {
  admitWithFinalizer(req, VolumeFinalizer.PVProtection);
}
