// core/v1 PersistentVolume: a cluster-scoped piece of storage, bound one-to-one to a claim.
// Defaults (pkg/apis/core/v1/defaults.go), the strategy (pkg/registry/core/persistentvolume:
// status cleared on create, lastPhaseTransitionTime kept by the status update), validation
// (ValidatePersistentVolume and its update) with Kubernetes' messages, and the table kubectl
// prints. The types and helpers the claim, the binder, the scheduler and the kubelet share live
// here too.

import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue, nameIsDNSSubdomain, validateImmutable, validateObjectMeta } from '../../machinery/validation.js';
import { type KubeObject, type LabelSelector, nowRFC3339 } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { canonicalQuantity, parseQuantity, quantityFormatError } from './quantity.js';
import type { NodeSelectorRequirement, NodeSelectorTerm, ObjectReference, ResourceList } from './types.js';
import { jsonEqual } from './validation.js';
import { type Operator, labelSelectorAsSelector, matches as matchesLabels, requirementMatches } from '../../machinery/labels.js';

export const PersistentVolumeAccessMode = {
  ReadWriteOnce: 'ReadWriteOnce',
  ReadOnlyMany: 'ReadOnlyMany',
  ReadWriteMany: 'ReadWriteMany',
  ReadWriteOncePod: 'ReadWriteOncePod',
} as const;

export const PersistentVolumeReclaimPolicy = { Retain: 'Retain', Delete: 'Delete', Recycle: 'Recycle' } as const;
export const PersistentVolumeMode = { Filesystem: 'Filesystem', Block: 'Block' } as const;
export const VolumePhase = { Pending: 'Pending', Available: 'Available', Bound: 'Bound', Released: 'Released', Failed: 'Failed' } as const;
export const ClaimPhase = { Pending: 'Pending', Bound: 'Bound', Lost: 'Lost' } as const;

/** BetaStorageClassAnnotation is the storage class as an annotation, read before spec.storageClassName. */
export const BetaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

/** VolumeNodeAffinity is the nodes a volume can be reached from. */
export interface VolumeNodeAffinity {
  required?: { nodeSelectorTerms: NodeSelectorTerm[] };
}

/** PersistentVolumeSpec is core/v1 PersistentVolumeSpec; exactly one volume source field is set. */
export interface PersistentVolumeSpec {
  capacity?: ResourceList;
  accessModes?: string[];
  claimRef?: ObjectReference;
  persistentVolumeReclaimPolicy?: string;
  storageClassName?: string;
  mountOptions?: string[];
  volumeMode?: string;
  nodeAffinity?: VolumeNodeAffinity;
  volumeAttributesClassName?: string;
  hostPath?: { path: string; type?: string };
  local?: { path: string; fsType?: string };
  nfs?: { server: string; path: string; readOnly?: boolean };
  csi?: { driver: string; volumeHandle: string; readOnly?: boolean; fsType?: string; volumeAttributes?: Record<string, string> };
  [source: string]: unknown;
}

export interface PersistentVolumeStatus {
  phase?: string;
  message?: string;
  reason?: string;
  lastPhaseTransitionTime?: string;
}

/** PersistentVolume is core/v1 PersistentVolume. */
export interface PersistentVolume extends KubeObject {
  spec: PersistentVolumeSpec;
  status?: PersistentVolumeStatus;
}

/** PersistentVolumeClaimSpec is core/v1 PersistentVolumeClaimSpec. */
export interface PersistentVolumeClaimSpec {
  accessModes?: string[];
  selector?: LabelSelector;
  resources?: { requests?: ResourceList; limits?: ResourceList };
  volumeName?: string;
  /** storageClassName: null (absent) asks for the default class; "" asks for a volume of no class. */
  storageClassName?: string | null;
  volumeMode?: string;
  dataSource?: { apiGroup?: string; kind: string; name: string };
  dataSourceRef?: { apiGroup?: string; kind: string; name: string; namespace?: string };
  volumeAttributesClassName?: string;
}

export interface PersistentVolumeClaimStatus {
  phase?: string;
  accessModes?: string[];
  capacity?: ResourceList;
  conditions?: { type: string; status: string; lastProbeTime?: string; lastTransitionTime?: string; reason?: string; message?: string }[];
  allocatedResources?: ResourceList;
  allocatedResourceStatuses?: Record<string, string>;
  currentVolumeAttributesClassName?: string;
  [field: string]: unknown;
}

/** PersistentVolumeClaim is core/v1 PersistentVolumeClaim. */
export interface PersistentVolumeClaim extends KubeObject {
  spec: PersistentVolumeClaimSpec;
  status?: PersistentVolumeClaimStatus;
}

// ---------------------------------------------------------------------------------------------
// Helpers (pkg/apis/core/helper and storage/util)

const accessModeShort: [string, string][] = [
  [PersistentVolumeAccessMode.ReadWriteOnce, 'RWO'],
  [PersistentVolumeAccessMode.ReadOnlyMany, 'ROX'],
  [PersistentVolumeAccessMode.ReadWriteMany, 'RWX'],
  [PersistentVolumeAccessMode.ReadWriteOncePod, 'RWOP'],
];

/** accessModesAsString is GetAccessModesAsString: `RWO,ROX,RWX,RWOP` in that order, each once. */
export function accessModesAsString(modes: readonly string[] | undefined): string {
  const have = new Set(modes ?? []);
  return accessModeShort
    .filter(([m]) => have.has(m))
    .map(([, s]) => s)
    .join(',');
}

/** persistentVolumeClass is GetPersistentVolumeClass: the beta annotation, else spec.storageClassName. */
export function persistentVolumeClass(pv: PersistentVolume): string {
  const ann = pv.metadata.annotations?.[BetaStorageClassAnnotation];
  if (ann !== undefined) return ann;
  return pv.spec?.storageClassName ?? '';
}

/** persistentVolumeClaimClass is GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName. */
export function persistentVolumeClaimClass(pvc: PersistentVolumeClaim): string {
  const ann = pvc.metadata.annotations?.[BetaStorageClassAnnotation];
  if (ann !== undefined) return ann;
  return pvc.spec?.storageClassName ?? '';
}

/** pvVolumeSourceKeys are the volume sources of a PersistentVolume, in the order validation checks them. */
export const pvVolumeSourceKeys = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
] as const;

/** pvSourceOf returns the spec's volume sources only (the PersistentVolumeSource part of the spec). */
export function pvSourceOf(spec: PersistentVolumeSpec | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of pvVolumeSourceKeys) if (spec?.[k] !== undefined && spec[k] !== null) out[k] = spec[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Defaults and strategy

/** defaultPersistentVolume is SetDefaults_PersistentVolume: Retain, Filesystem, phase Pending, hostPath type "". */
export function defaultPersistentVolume(pv: PersistentVolume): void {
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ||= PersistentVolumeReclaimPolicy.Retain;
  spec.volumeMode ??= PersistentVolumeMode.Filesystem;
  if (spec.hostPath && spec.hostPath.type === undefined) spec.hostPath.type = '';
  pv.status ??= {};
  pv.status.phase ||= VolumePhase.Pending;
}

// ---------------------------------------------------------------------------------------------
// Validation

const supportedAccessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const supportedReclaimPolicies = ['Delete', 'Recycle', 'Retain'];
const supportedVolumeModes = ['Block', 'Filesystem'];
const supportedHostPathTypes = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** validateAccessModes checks a PV's or PVC's access modes (ReadWriteOncePod only alone). */
export function validateAccessModes(modes: readonly string[] | undefined, path: Path, requiredDetail: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!modes?.length) errs.push(required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const m of modes ?? []) {
    if (!supportedAccessModes.includes(m)) errs.push(notSupported(path, m, supportedAccessModes));
    if (m === PersistentVolumeAccessMode.ReadWriteOncePod) rwop = true;
    else if (supportedAccessModes.includes(m)) other = true;
  }
  if (rwop && other) errs.push(forbiddenField(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** validatePositiveQuantity is ValidatePositiveQuantityValue. */
export function validatePositiveQuantity(q: unknown, path: Path): FieldError[] {
  const p = parseQuantity(q as string);
  if (!p) return [invalidValue(path, q, quantityFormatError)];
  if (p.nanos <= 0n) return [invalidValue(path, canonicalQuantity(q as string), 'must be greater than zero')];
  return [];
}

/** validateClassName is ValidateClassName: a DNS subdomain. */
export function validateClassName(name: string, path: Path): FieldError[] {
  return isDNS1123Subdomain(name).map((m) => invalidValue(path, name, m));
}

function validateNodeSelectorRequirement(r: NodeSelectorRequirement, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbiddenField(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalidValue(path.child('operator'), r.operator, 'not a valid selector operator'));
  }
  for (const m of isQualifiedName(r.key ?? '')) errs.push(invalidValue(path.child('key'), r.key, m));
  return errs;
}

/** validateNodeSelector is ValidateNodeSelector (the required node affinity of a volume or pod). */
export function validateNodeSelector(sel: { nodeSelectorTerms?: NodeSelectorTerm[] }, path: Path): FieldError[] {
  const termsPath = path.child('nodeSelectorTerms');
  const terms = sel.nodeSelectorTerms ?? [];
  if (terms.length === 0) return [required(termsPath, 'must have at least one node selector term')];
  const errs: FieldError[] = [];
  terms.forEach((t, i) => {
    const tp = termsPath.index(i);
    (t.matchExpressions ?? []).forEach((r, j) => {
      const rp = tp.child('matchExpressions').index(j);
      errs.push(...validateNodeSelectorRequirement(r, rp));
      for (const v of r.values ?? []) for (const m of isValidLabelValue(v)) errs.push(invalidValue(rp.child('values'), v, m));
    });
    (t.matchFields ?? []).forEach((r, j) => {
      const rp = tp.child('matchFields').index(j);
      if (r.key !== 'metadata.name') errs.push(invalidValue(rp.child('key'), r.key, 'not a valid field selector key'));
      else if (r.operator !== 'In' && r.operator !== 'NotIn') errs.push(invalidValue(rp.child('operator'), r.operator, 'not a valid selector operator'));
      else if ((r.values ?? []).length !== 1) errs.push(required(rp.child('values'), 'must be only one value when `operator` is \'In\' or \'NotIn\' for node field selector'));
    });
  });
  return errs;
}

function validatePathNoBacksteps(p: string, path: Path): FieldError[] {
  return p.split('/').includes('..') ? [invalidValue(path, p, "must not contain '..'")] : [];
}

/** validateSource validates the one volume source a PV names, by kind. */
function validateSource(kind: string, src: Record<string, any>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  switch (kind) {
    case 'hostPath':
      if (!src.path) return [required(path.child('path'))];
      errs.push(...validatePathNoBacksteps(src.path, path.child('path')));
      if (!supportedHostPathTypes.includes(src.type ?? '')) errs.push(notSupported(path.child('type'), src.type, supportedHostPathTypes));
      break;
    case 'local':
      if (!src.path) return [required(path.child('path'))];
      errs.push(...validatePathNoBacksteps(src.path, path.child('path')));
      break;
    case 'nfs':
      if (!src.server) errs.push(required(path.child('server')));
      if (!src.path) errs.push(required(path.child('path')));
      else if (!String(src.path).startsWith('/')) errs.push(invalidValue(path.child('path'), src.path, 'must be an absolute path'));
      break;
    case 'csi':
      if (!src.driver) errs.push(required(path.child('driver')));
      if (!src.volumeHandle) errs.push(required(path.child('volumeHandle')));
      break;
  }
  return errs;
}

/** validatePersistentVolumeSpec is ValidatePersistentVolumeSpec for a PersistentVolume (not an inline spec). */
export function validatePersistentVolumeSpec(spec: PersistentVolumeSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, path.child('accessModes'), ''));
  const capacity = spec.capacity ?? {};
  const capPath = path.child('capacity');
  if (Object.keys(capacity).length === 0) errs.push(required(capPath));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(notSupported(capPath, capacity, ['storage']));
  for (const [r, q] of Object.entries(capacity)) errs.push(...validatePositiveQuantity(q, capPath.key(r)));
  if (spec.persistentVolumeReclaimPolicy && !supportedReclaimPolicies.includes(spec.persistentVolumeReclaimPolicy)) {
    errs.push(notSupported(path.child('persistentVolumeReclaimPolicy'), spec.persistentVolumeReclaimPolicy, supportedReclaimPolicies));
  }
  let nodeAffinitySpecified = false;
  if (spec.nodeAffinity) {
    nodeAffinitySpecified = true;
    const naPath = path.child('nodeAffinity');
    if (spec.nodeAffinity.required) errs.push(...validateNodeSelector(spec.nodeAffinity.required, naPath.child('required')));
    else errs.push(required(naPath.child('required'), 'must specify required node constraints'));
  }
  let numVolumes = 0;
  for (const kind of pvVolumeSourceKeys) {
    const src = spec[kind];
    if (src === undefined || src === null) continue;
    // The flexVolume check counts without refusing a second source, as Kubernetes' does.
    if (numVolumes > 0 && kind !== 'flexVolume') {
      errs.push(forbiddenField(path.child(kind === 'cephfs' ? 'cephFS' : kind), 'may not specify more than 1 volume type'));
      continue;
    }
    numVolumes++;
    errs.push(...validateSource(kind, src as Record<string, any>, path.child(kind)));
    if (kind === 'local' && !nodeAffinitySpecified) errs.push(required(path.child('nodeAffinity'), 'Local volume requires node affinity'));
  }
  if (numVolumes === 0) errs.push(required(path, 'must specify a volume type'));
  if (spec.hostPath && spec.persistentVolumeReclaimPolicy === PersistentVolumeReclaimPolicy.Recycle && normalizedPath(spec.hostPath.path) === '/') {
    errs.push(forbiddenField(path.child('persistentVolumeReclaimPolicy'), "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (spec.storageClassName) errs.push(...validateClassName(spec.storageClassName, path.child('storageClassName')));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !supportedVolumeModes.includes(spec.volumeMode)) {
    errs.push(notSupported(path.child('volumeMode'), spec.volumeMode, supportedVolumeModes));
  }
  return errs;
}

/** normalizedPath is path.Clean for the cases that matter here (`//`, `/./`, a trailing `/`). */
function normalizedPath(p: string): string {
  const parts = p.split('/').filter((s) => s && s !== '.');
  return (p.startsWith('/') ? '/' : '') + parts.join('/');
}

/** validatePersistentVolume is ValidatePersistentVolume: metadata (DNS subdomain name) and the spec. */
export function validatePersistentVolume(pv: PersistentVolume): FieldError[] {
  return [...validateObjectMeta(pv.metadata, false, nameIsDNSSubdomain), ...validatePersistentVolumeSpec(pv.spec ?? {}, new Path('spec'))];
}

/**
 * validatePersistentVolumeUpdate is ValidatePersistentVolumeUpdate: the volume source, volumeMode
 * and a node affinity once set are immutable. Kubernetes appends a Go cmp.Diff of the sources to
 * the first message; skiff names the changed source fields instead.
 */
export function validatePersistentVolumeUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs: FieldError[] = [];
  const newSrc = pvSourceOf(pv.spec);
  const oldSrc = pvSourceOf(old.spec);
  if (!jsonEqual(newSrc, oldSrc)) {
    const changed = [...new Set([...Object.keys(newSrc), ...Object.keys(oldSrc)])].filter((k) => !jsonEqual(newSrc[k], oldSrc[k]));
    errs.push(forbiddenField(new Path('spec').child('persistentvolumesource'), `spec.persistentvolumesource is immutable after creation\n  changed: ${changed.join(', ')}`));
  }
  errs.push(...validateImmutable(pv.spec?.volumeMode, old.spec?.volumeMode, new Path('volumeMode')));
  if (old.spec?.nodeAffinity) errs.push(...validateImmutable(pv.spec?.nodeAffinity, old.spec.nodeAffinity, new Path('nodeAffinity')));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Definition

const unsetIfNull = (s: string | undefined | null) => (s === undefined || s === null ? '<unset>' : s);

const persistentVolumeColumns: PrinterColumn<PersistentVolume>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (pv) => pv.metadata.name },
  { name: 'Capacity', type: 'string', description: 'capacity is the description of the persistent volume\'s resources and capacity.', cell: (pv) => { const q = pv.spec?.capacity?.storage; return q === undefined ? '0' : canonicalQuantity(q); } },
  { name: 'Access Modes', type: 'string', description: 'accessModes contains all ways the volume can be mounted.', cell: (pv) => accessModesAsString(pv.spec?.accessModes) },
  { name: 'Reclaim Policy', type: 'string', description: 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.', cell: (pv) => pv.spec?.persistentVolumeReclaimPolicy ?? '' },
  { name: 'Status', type: 'string', description: 'phase indicates if a volume is available, bound to a claim, or released by a claim.', cell: (pv) => (pv.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '')) },
  { name: 'Claim', type: 'string', description: 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.', cell: (pv) => (pv.spec?.claimRef ? `${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name ?? ''}` : '') },
  { name: 'StorageClass', type: 'string', description: 'StorageClass of the pv', cell: (pv) => persistentVolumeClass(pv) },
  { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pv', cell: (pv) => unsetIfNull(pv.spec?.volumeAttributesClassName) },
  { name: 'Reason', type: 'string', description: 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.', cell: (pv) => pv.status?.reason ?? '' },
  { name: 'Age', type: 'string', cell: (pv, now) => age(pv.metadata.creationTimestamp, now) },
  { name: 'VolumeMode', type: 'string', priority: 1, description: 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', cell: (pv) => unsetIfNull(pv.spec?.volumeMode) },
];

export const persistentVolumes = defineResource<PersistentVolume>({
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  namespaced: false,
  subresources: { status: true },
  printerColumns: persistentVolumeColumns,
  defaults: defaultPersistentVolume,
  prepareForCreate(pv, ctx) {
    pv.status = { phase: VolumePhase.Pending, lastPhaseTransitionTime: nowRFC3339(ctx.now) };
  },
  prepareForStatusUpdate(pv, old, ctx) {
    // A phase change stamps lastPhaseTransitionTime unless the writer set a new one itself.
    const st = (pv.status ??= {});
    if (st.phase !== old.status?.phase && (!st.lastPhaseTransitionTime || st.lastPhaseTransitionTime === old.status?.lastPhaseTransitionTime)) {
      st.lastPhaseTransitionTime = nowRFC3339(ctx.now);
    }
  },
  validate: validatePersistentVolume,
  validateUpdate: validatePersistentVolumeUpdate,
  validateStatusUpdate: () => [],
});

// ---------------------------------------------------------------------------------------------
// Binding helpers shared by the PV controller, the scheduler and the kubelet

/** VolumeAnnotation names the annotations the PV controller, the scheduler and provisioners write (pkg/controller/volume/persistentvolume/util). */
export const VolumeAnnotation = {
  /** bindCompleted on a claim: the controller finished binding it. */
  BindCompleted: 'pv.kubernetes.io/bind-completed',
  /** boundByController on a claim or volume: the controller, not the user, wrote the binding. */
  BoundByController: 'pv.kubernetes.io/bound-by-controller',
  /** provisionedBy on a volume: the provisioner that made it (and will delete it). */
  ProvisionedBy: 'pv.kubernetes.io/provisioned-by',
  /** storageProvisioner on a claim: the provisioner asked to make its volume. */
  StorageProvisioner: 'volume.kubernetes.io/storage-provisioner',
  BetaStorageProvisioner: 'volume.beta.kubernetes.io/storage-provisioner',
  /** selectedNode on a claim: the node the scheduler picked for a WaitForFirstConsumer claim. */
  SelectedNode: 'volume.kubernetes.io/selected-node',
} as const;

/**
 * VolumeFinalizer names the finalizers StorageObjectInUseProtection admission puts on every claim
 * and volume; the pvc-protection and pv-protection controllers remove them once nothing uses it.
 */
export const VolumeFinalizer = {
  PVCProtection: 'kubernetes.io/pvc-protection',
  PVProtection: 'kubernetes.io/pv-protection',
} as const;

const nodeOperators: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

/** nodeSelectorTermMatches: every expression and field of the term holds for the node (an empty term matches nothing). */
function nodeSelectorTermMatches(t: NodeSelectorTerm, node: { metadata: { name?: string; labels?: Record<string, string> } }): boolean {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const check = (r: NodeSelectorRequirement, labels: Record<string, string>): boolean => {
    const op = nodeOperators[r.operator];
    return op !== undefined && requirementMatches({ key: r.key, operator: op, values: r.values ?? [] }, labels);
  };
  return exprs.every((r) => check(r, node.metadata.labels ?? {})) && fields.every((r) => check(r, { 'metadata.name': node.metadata.name ?? '' }));
}

/** volumeNodeAffinityMatches is CheckNodeAffinity: a volume without required node affinity is reachable from every node. */
export function volumeNodeAffinityMatches(pv: PersistentVolume, node: { metadata: { name?: string; labels?: Record<string, string> } }): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => nodeSelectorTermMatches(t, node));
}

/** storageBytes is the claim's storage request in bytes (0 when unset or malformed). */
export function storageBytes(q: string | number | undefined): bigint {
  const p = parseQuantity(q);
  return p ? p.nanos / 1_000_000_000n : 0n;
}

/** checkVolumeSatisfiesClaim is checkVolumeSatisfyClaim: not being deleted, size, class, volumeMode and access modes; it says why not. */
export function checkVolumeSatisfiesClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (pv.metadata.deletionTimestamp) return `the volume is marked for deletion "${pv.metadata.name}"`;
  const request = storageBytes(claim.spec?.resources?.requests?.storage);
  const capacity = storageBytes(pv.spec?.capacity?.storage);
  if (capacity < request) return `requested PV is too small`;
  if (persistentVolumeClass(pv) !== persistentVolumeClaimClass(claim)) return 'storageClassName does not match';
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  const modes = new Set(pv.spec?.accessModes ?? []);
  if (!(claim.spec?.accessModes ?? []).every((m) => modes.has(m))) return 'incompatible accessMode';
  return undefined;
}

/** isVolumeBoundToClaim: the volume's claimRef names this claim (and its uid, when the ref has one). */
export function isVolumeBoundToClaim(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/**
 * findMatchingVolume is persistentvolume's FindMatchingVolume: a volume pre-bound to the claim
 * wins; otherwise the smallest unbound volume that satisfies the claim, matches its selector, is
 * not being deleted, and (when node is given, for delayed binding) is reachable from the node.
 */
export function findMatchingVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], node?: { metadata: { name?: string; labels?: Record<string, string> } }): PersistentVolume | undefined {
  const selector = claim.spec?.selector ? labelSelectorAsSelector(claim.spec.selector) : undefined;
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (checkVolumeSatisfiesClaim(pv, claim) !== undefined) continue;
    if (node && !volumeNodeAffinityMatches(pv, node)) continue;
    if (isVolumeBoundToClaim(pv, claim)) return pv;
    if (pv.spec?.claimRef) continue;
    if (pv.metadata.deletionTimestamp) continue;
    if (pv.status?.phase && pv.status.phase !== VolumePhase.Available && pv.status.phase !== VolumePhase.Pending) continue;
    if (selector && !matchesLabels(selector, pv.metadata.labels)) continue;
    // A volume of a class is bound only to a claim of that class, and a claim naming no class
    // takes only a volume of no class: both were checked above.
    if (!best || storageBytes(pv.spec?.capacity?.storage) < storageBytes(best.spec?.capacity?.storage)) best = pv;
  }
  return best;
}
