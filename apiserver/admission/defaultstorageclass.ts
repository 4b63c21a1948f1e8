// DefaultStorageClass admission (plugin/pkg/admission/storage/storageclass/setdefault): a claim
// created without a storage class (spec.storageClassName absent, not "", and no beta class
// annotation) gets the default class, the one whose is-default-class annotation says "true";
// when several do, the newest wins (then the first by name), as kube 1.32 picks it. With no
// default class the claim is left alone, and the PV controller assigns one retroactively later.

import type { PersistentVolumeClaim } from '../../lib/api/core/persistentvolume.js';
import { BetaStorageClassAnnotation } from '../../lib/api/core/persistentvolume.js';
import { type StorageClass, isDefaultAnnotation } from '../../lib/api/storage/storageclass.js';
import type { KubeObject } from '../../lib/api/meta.js';
import type { AdmissionRequest } from '../registry/store.js';

/** StorageClassLister lists the StorageClasses admission chooses from. */
export type StorageClassLister = () => Promise<KubeObject[]>;

/** defaultStorageClassOf is GetDefaultClass: the newest class annotated default, ties broken by name. */
export function defaultStorageClassOf(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter((c) => isDefaultAnnotation(c));
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
  });
  return defaults[0];
}

/** admitDefaultStorageClass sets the default class on a claim created without one. */
export async function admitDefaultStorageClass(req: AdmissionRequest, list: StorageClassLister): Promise<void> {
  if (req.operation !== 'CREATE' || req.subresource) return;
  const pvc = req.object as PersistentVolumeClaim;
  pvc.spec ??= {};
  if (pvc.spec.storageClassName !== undefined && pvc.spec.storageClassName !== null) return;
  if (pvc.metadata.annotations?.[BetaStorageClassAnnotation] !== undefined) return;
  const def = defaultStorageClassOf((await list()) as StorageClass[]);
  if (def) pvc.spec.storageClassName = def.metadata.name;
}
