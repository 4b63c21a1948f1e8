// The names skiff's local-path storage shares between the provisioner (controller manager), the
// kubelet that publishes where its volumes live, and the default StorageClass.

import type { StorageClass } from './storageclass.js';
import { IsDefaultStorageClassAnnotation, VolumeBindingMode } from './storageclass.js';

/** LocalPathProvisioner is the provisioner name of skiff's local-path volumes. */
export const LocalPathProvisioner = 'skiff.dev/local-path';
/** LocalPathClassName is the default StorageClass skiff creates at start. */
export const LocalPathClassName = 'local-path';
/** LocalPathDirAnnotation on a Node says under which directory its local-path volumes live (the kubelet sets it). */
export const LocalPathDirAnnotation = 'skiff.dev/local-path-dir';
/** DefaultLocalPathDir is used for a Node that does not say (simulated nodes). */
export const DefaultLocalPathDir = '/var/lib/skiff/local-path';
/** LocalPathHelperLabel marks the helper pods that remove a volume's directory; its value is the volume's name. */
export const LocalPathHelperLabel = 'skiff.dev/local-path-helper';

/** localPathStorageClass is the default class: WaitForFirstConsumer, so the volume lands on the pod's node. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LocalPathClassName, annotations: { [IsDefaultStorageClassAnnotation]: 'true' } },
    provisioner: LocalPathProvisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: VolumeBindingMode.WaitForFirstConsumer,
  };
}
