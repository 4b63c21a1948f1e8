// core/v1 PersistentVolumeClaim: a namespaced request for storage that the PV controller binds
// to one PersistentVolume. Defaults, the strategy (status cleared on create), validation with
// Kubernetes' messages (ValidatePersistentVolumeClaim and its update: the spec of a claim is
// immutable except volumeName once, the storage class once from nil, and the storage request of
// a bound claim, which may grow) and the table kubectl prints.

import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { validateLabelSelector } from '../../machinery/labels.js';
import { isDNS1123Subdomain, nameIsDNSSubdomain, validateImmutable, validateObjectMeta } from '../../machinery/validation.js';
import { stringifyJSON } from '../../machinery/json.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import {
  BetaStorageClassAnnotation,
  ClaimPhase,
  PersistentVolumeMode,
  type PersistentVolumeClaim,
  type PersistentVolumeClaimSpec,
  accessModesAsString,
  persistentVolumeClaimClass,
  validateAccessModes,
  validateClassName,
  validatePositiveQuantity,
} from './persistentvolume.js';
import { canonicalQuantity, compareQuantities } from './quantity.js';
import { jsonEqual } from './validation.js';

export type { PersistentVolumeClaim, PersistentVolumeClaimSpec } from './persistentvolume.js';

/** defaultPersistentVolumeClaim is SetDefaults_PersistentVolumeClaim and its spec's: phase Pending, volumeMode Filesystem. */
export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  defaultPersistentVolumeClaimSpec((pvc.spec ??= {}));
  pvc.status ??= {};
  pvc.status.phase ||= ClaimPhase.Pending;
}

/** defaultPersistentVolumeClaimSpec is SetDefaults_PersistentVolumeClaimSpec (also for StatefulSet claim templates). */
export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec): void {
  spec.volumeMode ??= PersistentVolumeMode.Filesystem;
}

const supportedVolumeModes = ['Block', 'Filesystem'];

function validateDataSource(ds: { apiGroup?: string; kind?: string; name?: string; namespace?: string }, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!ds.name) errs.push(required(path.child('name')));
  if (!ds.kind) errs.push(required(path.child('kind')));
  if (!ds.apiGroup && ds.kind !== 'PersistentVolumeClaim') errs.push(invalidValue(path, ds.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (ds.apiGroup) for (const m of isDNS1123Subdomain(ds.apiGroup)) errs.push(invalidValue(path.child('apiGroup'), ds.apiGroup, m));
  return errs;
}

/** validatePersistentVolumeClaimSpec is ValidatePersistentVolumeClaimSpec (claims and claim templates). */
export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, path.child('accessModes'), 'at least 1 access mode is required'));
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, path.child('selector')));
  const storagePath = path.child('resources').key('storage');
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined || storage === null) errs.push(required(storagePath));
  else errs.push(...validatePositiveQuantity(storage, storagePath));
  if (spec.storageClassName) errs.push(...validateClassName(spec.storageClassName, path.child('storageClassName')));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !supportedVolumeModes.includes(spec.volumeMode)) {
    errs.push(notSupported(path.child('volumeMode'), spec.volumeMode, supportedVolumeModes));
  }
  if (spec.dataSource) errs.push(...validateDataSource(spec.dataSource, path.child('dataSource')));
  if (spec.dataSourceRef) errs.push(...validateDataSource(spec.dataSourceRef, path.child('dataSourceRef')));
  if (spec.dataSource && spec.dataSourceRef && !spec.dataSourceRef.namespace) {
    const a = spec.dataSource;
    const b = spec.dataSourceRef;
    if ((a.apiGroup ?? '') !== (b.apiGroup ?? '') || a.kind !== b.kind || a.name !== b.name) errs.push(invalidValue(path, path.child('dataSource').toString(), 'must match dataSourceRef'));
  }
  if (spec.volumeAttributesClassName) errs.push(...validateClassName(spec.volumeAttributesClassName, path.child('volumeAttributesClassName')));
  return errs;
}

/** validatePersistentVolumeClaim is ValidatePersistentVolumeClaim. */
export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  return [...validateObjectMeta(pvc.metadata, true, nameIsDNSSubdomain), ...validatePersistentVolumeClaimSpec(pvc.spec ?? {}, new Path('spec'))];
}

/**
 * specDiff names what changed between two claim specs, in the spirit of the Go cmp.Diff that
 * Kubernetes appends to its message (`-` old, `+` new, by field).
 */
function specDiff(oldSpec: PersistentVolumeClaimSpec, newSpec: PersistentVolumeClaimSpec): string {
  const o = oldSpec as Record<string, unknown>;
  const n = newSpec as Record<string, unknown>;
  const lines = ['  core.PersistentVolumeClaimSpec{'];
  for (const k of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
    if (jsonEqual(o[k], n[k])) continue;
    if (o[k] !== undefined) lines.push(`- \t${k}: ${stringifyJSON(o[k])},`);
    if (n[k] !== undefined) lines.push(`+ \t${k}: ${stringifyJSON(n[k])},`);
  }
  lines.push('  }');
  return lines.join('\n');
}

/**
 * validatePersistentVolumeClaimUpdate is ValidatePersistentVolumeClaimUpdate: volumeName may be
 * set once; storageClassName may go from unset to the class the beta annotation names, or from
 * nil to a class (retroactive default class); a bound claim may change its storage request (not
 * below status.capacity: RecoverVolumeExpansionFailure is on in 1.32); everything else in spec
 * is immutable.
 */
export function validatePersistentVolumeClaimUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  const newSpec = structuredClone(pvc.spec ?? {});
  const oldSpec = structuredClone(old.spec ?? {});
  if (!oldSpec.volumeName) oldSpec.volumeName = newSpec.volumeName;
  const oldAnn = old.metadata.annotations ?? {};
  const newAnn = pvc.metadata.annotations ?? {};
  const oldHasAnn = BetaStorageClassAnnotation in oldAnn;
  const fromAnnotation =
    oldHasAnn &&
    (old.spec?.storageClassName === undefined || old.spec.storageClassName === null) &&
    newSpec.storageClassName === oldAnn[BetaStorageClassAnnotation] &&
    (!(BetaStorageClassAnnotation in newAnn) || newAnn[BetaStorageClassAnnotation] === oldAnn[BetaStorageClassAnnotation]);
  if (fromAnnotation) {
    delete newSpec.storageClassName;
    delete oldSpec.storageClassName;
  } else {
    errs.push(...validateImmutableAnnotation(newAnn[BetaStorageClassAnnotation], oldAnn[BetaStorageClassAnnotation], BetaStorageClassAnnotation));
    const fromNil = !oldHasAnn && (old.spec?.storageClassName === undefined || old.spec.storageClassName === null) && !!newSpec.storageClassName;
    if (fromNil) newSpec.storageClassName = oldSpec.storageClassName;
  }
  if (pvc.status?.phase === ClaimPhase.Bound && newSpec.resources?.requests) {
    const oldStorage = old.spec?.resources?.requests?.storage;
    if (oldStorage === undefined) delete newSpec.resources.requests.storage;
    else newSpec.resources.requests.storage = oldStorage;
  }
  newSpec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  if (newSpec.volumeAttributesClassName === undefined) delete newSpec.volumeAttributesClassName;
  if (!jsonEqual(newSpec, oldSpec)) {
    errs.push(forbiddenField(new Path('spec'), `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(oldSpec, newSpec)}`));
  }
  const oldSize = old.spec?.resources?.requests?.storage;
  const newSize = pvc.spec?.resources?.requests?.storage;
  if (compareQuantities(newSize, oldSize) < 0) {
    const statusSize = old.status?.capacity?.storage;
    if (compareQuantities(newSize, statusSize ?? '0') <= 0) {
      errs.push(forbiddenField(new Path('spec').child('resources', 'requests', 'storage'), 'field can not be less than status.capacity'));
    }
  }
  errs.push(...validateImmutable(pvc.spec?.volumeMode, old.spec?.volumeMode, new Path('volumeMode')));
  return errs;
}

function validateImmutableAnnotation(newVal: string | undefined, oldVal: string | undefined, annotation: string): FieldError[] {
  if (oldVal !== undefined && oldVal !== newVal) return [invalidValue(new Path('metadata').child('annotations').key(annotation), newVal ?? '', 'field is immutable')];
  return [];
}

/** validatePersistentVolumeClaimStatus checks the quantities a status update reports. */
export function validatePersistentVolumeClaimStatus(pvc: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  const capPath = new Path('status').child('capacity');
  for (const [r, q] of Object.entries(pvc.status?.capacity ?? {})) errs.push(...validatePositiveQuantity(q, capPath.key(r)));
  const phases: string[] = [ClaimPhase.Pending, ClaimPhase.Bound, ClaimPhase.Lost];
  if (pvc.status?.phase && !phases.includes(pvc.status.phase)) errs.push(notSupported(new Path('status').child('phase'), pvc.status.phase, phases));
  return errs;
}

const persistentVolumeClaimColumns: PrinterColumn<PersistentVolumeClaim>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (pvc) => pvc.metadata.name },
  { name: 'Status', type: 'string', description: 'phase represents the current phase of PersistentVolumeClaim.', cell: (pvc) => (pvc.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '')) },
  { name: 'Volume', type: 'string', description: 'volumeName is the binding reference to the PersistentVolume backing this claim.', cell: (pvc) => pvc.spec?.volumeName ?? '' },
  {
    name: 'Capacity',
    type: 'string',
    description: 'capacity represents the actual resources of the underlying volume.',
    cell: (pvc) => {
      if (!pvc.spec?.volumeName) return '';
      const q = pvc.status?.capacity?.storage;
      return q === undefined ? '0' : canonicalQuantity(q);
    },
  },
  { name: 'Access Modes', type: 'string', description: 'accessModes contains the actual access modes the volume backing the PVC has.', cell: (pvc) => (pvc.spec?.volumeName ? accessModesAsString(pvc.status?.accessModes) : '') },
  { name: 'StorageClass', type: 'string', description: 'StorageClass of the pvc', cell: (pvc) => persistentVolumeClaimClass(pvc) },
  { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pvc', cell: (pvc) => pvc.spec?.volumeAttributesClassName ?? '<unset>' },
  { name: 'Age', type: 'string', cell: (pvc, now) => age(pvc.metadata.creationTimestamp, now) },
  { name: 'VolumeMode', type: 'string', priority: 1, description: 'volumeMode defines what type of volume is required by the claim.', cell: (pvc) => pvc.spec?.volumeMode ?? '<unset>' },
];

export const persistentVolumeClaims = defineResource<PersistentVolumeClaim>({
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  namespaced: true,
  subresources: { status: true },
  printerColumns: persistentVolumeClaimColumns,
  defaults: defaultPersistentVolumeClaim,
  prepareForCreate(pvc) {
    pvc.status = { phase: ClaimPhase.Pending };
  },
  validate: validatePersistentVolumeClaim,
  validateUpdate: validatePersistentVolumeClaimUpdate,
  validateStatusUpdate: (pvc) => validatePersistentVolumeClaimStatus(pvc),
});
