// storage.k8s.io/v1 StorageClass: a named kind of storage, with the provisioner that makes
// volumes of it. Defaults (pkg/apis/storage/v1/defaults.go: reclaimPolicy Delete,
// volumeBindingMode Immediate), validation and its update rules
// (pkg/apis/storage/validation) with Kubernetes' messages, and the table kubectl prints.

import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required, tooLong } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isQualifiedName, nameIsDNSSubdomain, validateImmutable, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { validateNodeSelector } from '../core/persistentvolume.js';
import { jsonEqual } from '../core/validation.js';

export const VolumeBindingMode = { Immediate: 'Immediate', WaitForFirstConsumer: 'WaitForFirstConsumer' } as const;

/** IsDefaultStorageClassAnnotation marks the class a claim without storageClassName gets. */
export const IsDefaultStorageClassAnnotation = 'storageclass.kubernetes.io/is-default-class';
/** BetaIsDefaultStorageClassAnnotation is the older spelling, still honoured. */
export const BetaIsDefaultStorageClassAnnotation = 'storageclass.beta.kubernetes.io/is-default-class';

/** TopologySelectorTerm is one term of allowedTopologies. */
export interface TopologySelectorTerm {
  matchLabelExpressions?: { key: string; values: string[] }[];
}

/** StorageClass is storage.k8s.io/v1 StorageClass. */
export interface StorageClass extends KubeObject {
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  mountOptions?: string[];
  allowVolumeExpansion?: boolean;
  volumeBindingMode?: string;
  allowedTopologies?: TopologySelectorTerm[];
}

/** isDefaultAnnotation is storageutil.IsDefaultAnnotation: either annotation says "true". */
export function isDefaultAnnotation(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[IsDefaultStorageClassAnnotation] === 'true' || a[BetaIsDefaultStorageClassAnnotation] === 'true';
}

/** defaultStorageClass is SetDefaults_StorageClass. */
export function defaultStorageClass(sc: StorageClass): void {
  sc.reclaimPolicy ||= 'Delete';
  sc.volumeBindingMode ||= VolumeBindingMode.Immediate;
}

const maxProvisionerParameterSize = 256 * 1024;
const maxProvisionerParameterLen = 512;
const supportedReclaimPolicies = ['Delete', 'Retain'];
const supportedVolumeBindingModes = ['Immediate', 'WaitForFirstConsumer'];

/** validateStorageClass is ValidateStorageClass. */
export function validateStorageClass(sc: StorageClass): FieldError[] {
  const errs = validateObjectMeta(sc.metadata, false, nameIsDNSSubdomain);
  const provPath = new Path('provisioner');
  if (!sc.provisioner) errs.push(required(provPath));
  else for (const m of isQualifiedName(sc.provisioner.toLowerCase())) errs.push(invalidValue(provPath, sc.provisioner, m));
  const params = Object.entries(sc.parameters ?? {});
  const paramsPath = new Path('parameters');
  if (params.length > maxProvisionerParameterLen) {
    errs.push(tooLong(paramsPath, 'Provisioner Parameters exceeded max allowed', maxProvisionerParameterLen));
  } else {
    let total = 0;
    for (const [k, v] of params) {
      if (k.length < 1) errs.push(invalidValue(paramsPath, k, 'field can not be empty.'));
      total += k.length + String(v).length;
    }
    if (total > maxProvisionerParameterSize) errs.push(tooLong(paramsPath, '', maxProvisionerParameterSize));
  }
  if (sc.reclaimPolicy && !supportedReclaimPolicies.includes(sc.reclaimPolicy)) errs.push(notSupported(new Path('reclaimPolicy'), sc.reclaimPolicy, supportedReclaimPolicies));
  const modePath = new Path('volumeBindingMode');
  if (!sc.volumeBindingMode) errs.push(required(modePath));
  else if (!supportedVolumeBindingModes.includes(sc.volumeBindingMode)) errs.push(notSupported(modePath, sc.volumeBindingMode, supportedVolumeBindingModes));
  (sc.allowedTopologies ?? []).forEach((t, i) => {
    const p = new Path('allowedTopologies').index(i);
    const exprs = t.matchLabelExpressions ?? [];
    if (exprs.length === 0) errs.push(required(p.child('matchLabelExpressions'), 'must have at least one label expression'));
    // A topology term is a node selector term whose expressions are all `In`.
    errs.push(
      ...validateNodeSelector({ nodeSelectorTerms: [{ matchExpressions: exprs.map((e) => ({ key: e.key, operator: 'In', values: e.values })) }] }, p).map((e) => ({
        ...e,
        field: e.field.replace(`${p}.nodeSelectorTerms[0].matchExpressions`, `${p}.matchLabelExpressions`),
      })),
    );
  });
  return errs;
}

/** validateStorageClassUpdate is ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and volumeBindingMode are fixed. */
export function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): FieldError[] {
  const errs: FieldError[] = [];
  if (!jsonEqual(sc.parameters ?? {}, old.parameters ?? {})) errs.push(forbiddenField(new Path('parameters'), 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) errs.push(forbiddenField(new Path('provisioner'), 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(forbiddenField(new Path('reclaimPolicy'), 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutable(sc.volumeBindingMode, old.volumeBindingMode, new Path('volumeBindingMode')));
  return errs;
}

const storageClassColumns: PrinterColumn<StorageClass>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (sc) => (isDefaultAnnotation(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name) },
  { name: 'Provisioner', type: 'string', description: 'provisioner indicates the type of the provisioner.', cell: (sc) => sc.provisioner },
  { name: 'ReclaimPolicy', type: 'string', description: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.', cell: (sc) => sc.reclaimPolicy || 'Delete' },
  { name: 'VolumeBindingMode', type: 'string', description: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.', cell: (sc) => sc.volumeBindingMode || VolumeBindingMode.Immediate },
  { name: 'AllowVolumeExpansion', type: 'string', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.', cell: (sc) => String(sc.allowVolumeExpansion ?? false) },
  { name: 'Age', type: 'string', cell: (sc, now) => age(sc.metadata.creationTimestamp, now) },
];

export const storageClasses = defineResource<StorageClass>({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  namespaced: false,
  printerColumns: storageClassColumns,
  defaults: defaultStorageClass,
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
});
