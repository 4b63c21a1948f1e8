// apps/v1 StatefulSet: defaults (apps/v1 SetDefaults_StatefulSet), strategy hooks
// (pkg/registry/apps/statefulset/strategy.go), validation (pkg/apis/apps/validation, Kubernetes
// 1.32) and the table kube-apiserver prints for it.

import { Path, type FieldError, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isEverything, labelSelectorAsSelector, matches, validateLabelSelector } from '../../machinery/labels.js';
import { nameIsDNSLabel, validateAnnotations, validateLabels, validateObjectMeta } from '../../machinery/validation.js';
import { validatePodSpecificAnnotations } from '../core/podspec.js';
import { type PersistentVolumeClaim, defaultPersistentVolumeClaim } from '../core/persistentvolumeclaim.js';
import type { PodSpec as CorePodSpec } from '../core/types.js';
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { deploymentScaleSelector } from './deployment.js';
import { semanticEqual } from './equality.js';
import { defaultPodTemplate, podTemplateWarnings } from './podtemplate.js';
import { type IntOrString, type PodTemplateSpec, layoutContainerCells } from './types.js';
import { intOrPercentValue, isDecremented, isNotMoreThan100Percent, replicaCountsWithin, validateNonnegativeField, validatePositiveIntOrPercent } from './validation.js';

export const PodManagementPolicy = { OrderedReady: 'OrderedReady', Parallel: 'Parallel' } as const;
export const StatefulSetUpdateStrategyType = { RollingUpdate: 'RollingUpdate', OnDelete: 'OnDelete' } as const;
export const PersistentVolumeClaimRetentionPolicyType = { Retain: 'Retain', Delete: 'Delete' } as const;

/** StatefulSetPodNameLabel is the label every pod of a StatefulSet carries its own name in. */
export const StatefulSetPodNameLabel = 'statefulset.kubernetes.io/pod-name';
/** PodIndexLabel is the label with the pod's ordinal (PodIndexLabel, on by default in 1.32). */
export const PodIndexLabel = 'apps.kubernetes.io/pod-index';

/** PersistentVolumeClaimTemplate is one entry of volumeClaimTemplates: a PersistentVolumeClaim (metadata partly filled). */
export type PersistentVolumeClaimTemplate = Omit<PersistentVolumeClaim, 'metadata' | 'spec'> & { metadata?: ObjectMeta; spec?: PersistentVolumeClaim['spec'] };

export interface RollingUpdateStatefulSetStrategy {
  partition?: number;
  maxUnavailable?: IntOrString;
}

export interface StatefulSetUpdateStrategy {
  type?: string;
  rollingUpdate?: RollingUpdateStatefulSetStrategy;
}

export interface StatefulSetPersistentVolumeClaimRetentionPolicy {
  whenDeleted?: string;
  whenScaled?: string;
}

export interface StatefulSetSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplateSpec;
  volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
  serviceName?: string;
  podManagementPolicy?: string;
  updateStrategy?: StatefulSetUpdateStrategy;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  persistentVolumeClaimRetentionPolicy?: StatefulSetPersistentVolumeClaimRetentionPolicy;
  ordinals?: { start?: number };
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: Condition[];
  availableReplicas?: number;
}

export interface StatefulSet extends KubeObject {
  spec: StatefulSetSpec;
  status?: StatefulSetStatus;
}

/**
 * defaultStatefulSet is SetDefaults_StatefulSet (with StatefulSetAutoDeletePVC on, as in 1.32)
 * plus the pod template defaults and the claim templates' PersistentVolumeClaim defaults. The
 * claim templates carry apiVersion and kind, as apps/v1's conversion writes them.
 */
export function defaultStatefulSet(set: StatefulSet): void {
  const spec = (set.spec ??= {});
  if (!spec.podManagementPolicy) spec.podManagementPolicy = PodManagementPolicy.OrderedReady;
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = StatefulSetUpdateStrategyType.RollingUpdate;
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === StatefulSetUpdateStrategyType.RollingUpdate && strategy.rollingUpdate) {
    strategy.rollingUpdate.partition ??= 0;
  }
  const policy = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  if (!policy.whenDeleted) policy.whenDeleted = PersistentVolumeClaimRetentionPolicyType.Retain;
  if (!policy.whenScaled) policy.whenScaled = PersistentVolumeClaimRetentionPolicyType.Retain;
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplate((spec.template ??= {}));
  for (const claim of spec.volumeClaimTemplates ?? []) {
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    defaultPersistentVolumeClaim(claim as PersistentVolumeClaim);
  }
}

/** validateStatefulSet is ValidateStatefulSet: metadata (a DNS label name, since pods are named after it) and the spec. */
export function validateStatefulSet(set: StatefulSet): FieldError[] {
  return [...validateObjectMeta(set.metadata, true, nameIsDNSLabel), ...validateStatefulSetSpec(set.spec ?? {}, new Path('spec'))];
}

/** validateStatefulSetSpec is ValidateStatefulSetSpec, in Kubernetes' order. */
export function validateStatefulSetSpec(spec: StatefulSetSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy ?? '';
  if (policy === '') errs.push(required(path.child('podManagementPolicy'), ''));
  else if (policy !== PodManagementPolicy.OrderedReady && policy !== PodManagementPolicy.Parallel) {
    errs.push(invalidValue(path.child('podManagementPolicy'), policy, `must be '${PodManagementPolicy.OrderedReady}' or '${PodManagementPolicy.Parallel}'`));
  }

  const strategy = spec.updateStrategy ?? {};
  switch (strategy.type ?? '') {
    case '':
      errs.push(required(path.child('updateStrategy'), ''));
      break;
    case StatefulSetUpdateStrategyType.OnDelete:
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        errs.push(invalidValue(path.child('updateStrategy', 'rollingUpdate'), strategy.rollingUpdate, `only allowed for updateStrategy '${StatefulSetUpdateStrategyType.RollingUpdate}'`));
      }
      break;
    case StatefulSetUpdateStrategyType.RollingUpdate:
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        errs.push(...validateRollingUpdateStatefulSet(strategy.rollingUpdate, path.child('updateStrategy', 'rollingUpdate')));
      }
      break;
    default:
      errs.push(
        invalidValue(path.child('updateStrategy'), strategy, `must be '${StatefulSetUpdateStrategyType.RollingUpdate}' or '${StatefulSetUpdateStrategyType.OnDelete}'`),
      );
  }

  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention !== undefined && retention !== null) {
    const valid = [PersistentVolumeClaimRetentionPolicyType.Retain, PersistentVolumeClaimRetentionPolicyType.Delete];
    const rpath = path.child('persistentVolumeClaimRetentionPolicy');
    for (const field of ['whenDeleted', 'whenScaled'] as const) {
      const v = retention[field] ?? '';
      if (!(valid as string[]).includes(v)) errs.push(notSupported(rpath.child(field), v, valid));
    }
  }

  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  if (spec.ordinals !== undefined && spec.ordinals !== null) {
    // Kubernetes names the field "ordinals.start" as one path element.
    errs.push(...validateNonnegativeField(spec.ordinals.start ?? 0, path.child('ordinals.start')));
  }

  const selPath = path.child('selector');
  if (spec.selector === undefined || spec.selector === null) {
    errs.push(required(selPath, ''));
  } else {
    errs.push(...validateLabelSelector(spec.selector, selPath, { allowInvalidLabelValueInSelector: false }));
    if (Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0) {
      errs.push(invalidValue(selPath, spec.selector, 'empty selector is invalid for statefulset'));
    }
  }
  let selectorOK = true;
  let sel;
  try {
    sel = labelSelectorAsSelector(spec.selector);
  } catch {
    selectorOK = false;
    errs.push(invalidValue(selPath, spec.selector, ''));
  }
  if (selectorOK && sel) errs.push(...validatePodTemplateSpecForStatefulSet(spec.template, sel, path.child('template')));

  const restartPolicy = spec.template?.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(notSupported(path.child('template', 'spec', 'restartPolicy'), restartPolicy, ['Always']));
  if (spec.template?.spec?.activeDeadlineSeconds !== undefined && spec.template.spec.activeDeadlineSeconds !== null) {
    errs.push(forbiddenField(path.child('template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

/**
 * validatePodTemplateSpecForStatefulSet: the template's labels must match the selector, and its
 * labels and annotations be valid. Kubernetes does not validate the pod spec here (its volumes
 * name claims that exist only once the controller creates them); the pod create does.
 */
function validatePodTemplateSpecForStatefulSet(template: PodTemplateSpec | undefined, selector: ReturnType<typeof labelSelectorAsSelector>, path: Path): FieldError[] {
  if (template === undefined || template === null) return [required(path, '')];
  const errs: FieldError[] = [];
  const labels = template.metadata?.labels;
  if (!isEverything(selector) && !matches(selector, labels)) {
    errs.push(invalidValue(path.child('metadata', 'labels'), labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validateLabels(labels, path.child('labels')));
  errs.push(...validateAnnotations(template.metadata?.annotations, path.child('annotations')));
  errs.push(...validatePodSpecificAnnotations(template.metadata?.annotations, (template.spec ?? {}) as CorePodSpec, path.child('annotations')));
  return errs;
}

/** validateRollingUpdateStatefulSet: partition ≥ 0; maxUnavailable a positive count or percentage up to 100%. */
function validateRollingUpdateStatefulSet(ru: RollingUpdateStatefulSetStrategy, path: Path): FieldError[] {
  const errs = validateNonnegativeField(ru.partition ?? 0, path.child('partition'));
  if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
    const p = path.child('maxUnavailable');
    errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, p));
    if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalidValue(p, ru.maxUnavailable, 'cannot be 0'));
    errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, p));
  }
  return errs;
}

/** updatableSpecFields are what ValidateStatefulSetUpdate lets change; the rest of the spec is fixed at creation. */
const updatableSpecFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'] as const;

/**
 * validateStatefulSetUpdate is ValidateStatefulSetUpdate: the new spec must be valid, and nothing
 * but replicas, ordinals, template, updateStrategy, the claim retention policy and minReadySeconds
 * may change (the name is not validated again: older servers allowed DNS subdomains).
 */
export function validateStatefulSetUpdate(set: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateStatefulSetSpec(set.spec ?? {}, new Path('spec'));
  const rest = (spec: StatefulSetSpec | undefined) => {
    const copy: Record<string, unknown> = { ...(spec ?? {}) };
    for (const f of updatableSpecFields) delete copy[f];
    return copy;
  };
  if (!semanticEqual(rest(set.spec), rest(old.spec))) {
    errs.push(
      forbiddenField(
        new Path('spec'),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

/** validateStatefulSetStatus is ValidateStatefulSetStatus. */
export function validateStatefulSetStatus(status: StatefulSetStatus, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const replicas = status.replicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const current = status.currentReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  errs.push(...validateNonnegativeField(replicas, path.child('replicas')));
  errs.push(...validateNonnegativeField(ready, path.child('readyReplicas')));
  errs.push(...validateNonnegativeField(current, path.child('currentReplicas')));
  errs.push(...validateNonnegativeField(updated, path.child('updatedReplicas')));
  errs.push(...validateNonnegativeField(available, path.child('availableReplicas')));
  if (status.observedGeneration !== undefined && status.observedGeneration !== null) {
    errs.push(...validateNonnegativeField(status.observedGeneration, path.child('observedGeneration')));
  }
  if (status.collisionCount !== undefined && status.collisionCount !== null) {
    errs.push(...validateNonnegativeField(status.collisionCount, path.child('collisionCount')));
  }
  errs.push(...replicaCountsWithin(path, replicas, [['readyReplicas', ready], ['currentReplicas', current], ['updatedReplicas', updated], ['availableReplicas', available]]));
  if (available > ready) errs.push(invalidValue(path.child('availableReplicas'), available, 'cannot be greater than status.readyReplicas'));
  return errs;
}

/** validateStatefulSetStatusUpdate is ValidateStatefulSetStatusUpdate: a valid status whose collisionCount never goes down. */
export function validateStatefulSetStatusUpdate(set: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateStatefulSetStatus(set.status ?? {}, new Path('status'));
  const collisionCount = set.status?.collisionCount ?? undefined;
  if (isDecremented(collisionCount, old.status?.collisionCount ?? undefined)) {
    errs.push(invalidValue(new Path('status').child('collisionCount'), collisionCount ?? 0, 'cannot be decremented'));
  }
  return errs;
}

/**
 * dropMaxUnavailable is dropStatefulSetDisabledFields with MaxUnavailableStatefulSet off (alpha,
 * off by default in 1.32): the field is dropped unless the stored object already uses it.
 */
function dropMaxUnavailable(set: StatefulSet): void {
  const ru = set.spec?.updateStrategy?.rollingUpdate;
  if (ru) delete ru.maxUnavailable;
}

const templateContainers = (s: StatefulSet) => layoutContainerCells(s.spec?.template?.spec?.containers);

// kubectl's printStatefulSet (1.32): no Selector column, unlike Deployments and ReplicaSets.
const statefulSetColumns: PrinterColumn<StatefulSet>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (s) => s.metadata.name },
  { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (s) => `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}` },
  { name: 'Age', type: 'string', cell: (s, now) => age(s.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (s) => templateContainers(s).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (s) => templateContainers(s).images },
];

export const statefulSets = defineResource<StatefulSet>({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  subresources: {
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selector: deploymentScaleSelector },
  },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec, old.spec, true),
  printerColumns: statefulSetColumns,
  defaults: defaultStatefulSet,
  prepareForCreate(set) {
    // replicas and availableReplicas are not omitempty in apps/v1: a cleared status still shows them.
    set.status = { replicas: 0, availableReplicas: 0 };
    dropMaxUnavailable(set);
  },
  prepareForUpdate(set, old) {
    if (old.spec?.updateStrategy?.rollingUpdate?.maxUnavailable === undefined) dropMaxUnavailable(set);
  },
  prepareForStatusUpdate(set) {
    set.status = { ...set.status, replicas: set.status?.replicas ?? 0, availableReplicas: set.status?.availableReplicas ?? 0 };
  },
  validate: validateStatefulSet,
  validateUpdate: validateStatefulSetUpdate,
  validateStatusUpdate: validateStatefulSetStatusUpdate,
});
