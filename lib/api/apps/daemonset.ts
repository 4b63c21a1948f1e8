// apps/v1 DaemonSet: defaults (apps/v1 SetDefaults_DaemonSet), strategy hooks
// (pkg/registry/apps/daemonset/strategy.go, with the internal spec.templateGeneration that apps/v1
// carries as the `deprecated.daemonset.template.generation` annotation), validation
// (pkg/apis/apps/validation) and the table kube-apiserver prints for it.

import { Path, type FieldError, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { formatLabelSelector, labelSelectorAsSelector, matches, validateLabelSelector } from '../../machinery/labels.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { formatLabels } from '../core/validation.js';
import type { Condition, KubeObject, LabelSelector } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { validateSelectorImmutable } from './deployment.js';
import { semanticEqual } from './equality.js';
import { defaultPodTemplate, podTemplateWarnings, validatePodTemplate } from './podtemplate.js';
import { type IntOrString, type PodTemplateSpec, layoutContainerCells } from './types.js';
import { intOrPercentValue, isDecremented, isNotMoreThan100Percent, validateNonnegativeField, validatePositiveIntOrPercent } from './validation.js';

export const DaemonSetUpdateStrategyType = { RollingUpdate: 'RollingUpdate', OnDelete: 'OnDelete' } as const;
export type DaemonSetUpdateStrategyType = (typeof DaemonSetUpdateStrategyType)[keyof typeof DaemonSetUpdateStrategyType];

export interface RollingUpdateDaemonSet {
  maxUnavailable?: IntOrString;
  maxSurge?: IntOrString;
}

export interface DaemonSetUpdateStrategy {
  type?: DaemonSetUpdateStrategyType | string;
  rollingUpdate?: RollingUpdateDaemonSet;
}

export interface DaemonSetSpec {
  selector?: LabelSelector;
  template?: PodTemplateSpec;
  updateStrategy?: DaemonSetUpdateStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

export interface DaemonSetStatus {
  currentNumberScheduled?: number;
  numberMisscheduled?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

/** DaemonSet is apps/v1 DaemonSet. */
export interface DaemonSet extends KubeObject {
  spec: DaemonSetSpec;
  status?: DaemonSetStatus;
}

/**
 * DaemonSetTemplateGenerationAnnotation is apps/v1's home of the internal spec.templateGeneration:
 * 1 on create, one more whenever the template changes. The controller labels pods with it
 * (`pod-template-generation`) besides the revision hash.
 */
export const DaemonSetTemplateGenerationAnnotation = 'deprecated.daemonset.template.generation';

/** DaemonSetTemplateGenerationLabel is the label of a pod made from a given template generation. */
export const DaemonSetTemplateGenerationLabel = 'pod-template-generation';

/** templateGeneration reads the annotation as kube's conversion does; undefined when missing or not an int. */
export function templateGeneration(ds: KubeObject): number | undefined {
  const v = ds.metadata.annotations?.[DaemonSetTemplateGenerationAnnotation];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  return Number(v);
}

function setTemplateGeneration(ds: KubeObject, generation: number): void {
  ds.metadata.annotations = { ...(ds.metadata.annotations ?? {}), [DaemonSetTemplateGenerationAnnotation]: String(generation) };
}

/** defaultDaemonSet is SetDefaults_DaemonSet plus the pod template defaults. */
export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = (ds.spec ??= {});
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) strategy.type = DaemonSetUpdateStrategyType.RollingUpdate;
  if (strategy.type === DaemonSetUpdateStrategyType.RollingUpdate) {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= 1;
    ru.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplate((spec.template ??= {}));
}

/** validateDaemonSet is ValidateDaemonSet: metadata (DNS subdomain name) and the spec. */
export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return [...validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain), ...validateDaemonSetSpec(ds.spec ?? {}, new Path('spec'))];
}

/** validateDaemonSetSpec is ValidateDaemonSetSpec, in Kubernetes' order. */
export function validateDaemonSetSpec(spec: DaemonSetSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const selPath = path.child('selector');
  const selector = spec.selector;
  // A missing selector selects nothing: it is reported as the template not matching it.
  if (selector) errs.push(...validateLabelSelector(selector, selPath, { allowInvalidLabelValueInSelector: false }));
  const labels = spec.template?.metadata?.labels;
  try {
    // A nil selector selects nothing, so the template cannot match it either.
    if (!matches(labelSelectorAsSelector(selector), labels)) {
      errs.push(invalidValue(path.child('template', 'metadata', 'labels'), labels, '`selector` does not match template `labels`'));
    }
  } catch {
    // An unparsable selector was reported above.
  }
  if (selector && Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) {
    errs.push(invalidValue(selPath, selector, 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplate(spec.template, path.child('template')));
  const restartPolicy = spec.template?.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(notSupported(path.child('template', 'spec', 'restartPolicy'), restartPolicy, ['Always']));
  const ads = spec.template?.spec?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    errs.push(forbiddenField(path.child('template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in DaemonSet is not Supported'));
  }
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  errs.push(...validateDaemonSetUpdateStrategy(spec.updateStrategy ?? {}, path.child('updateStrategy')));
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
    // Zero is a valid revisionHistoryLimit: keep no old revisions.
    errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, path.child('revisionHistoryLimit')));
  }
  return errs;
}

/** validateDaemonSetUpdateStrategy is ValidateDaemonSetUpdateStrategy. */
export function validateDaemonSetUpdateStrategy(strategy: DaemonSetUpdateStrategy, path: Path): FieldError[] {
  switch (strategy.type) {
    case DaemonSetUpdateStrategyType.OnDelete:
      return [];
    case DaemonSetUpdateStrategyType.RollingUpdate:
      if (strategy.rollingUpdate === undefined || strategy.rollingUpdate === null) return [required(path.child('rollingUpdate'), '')];
      return validateRollingUpdateDaemonSet(strategy.rollingUpdate, path.child('rollingUpdate'));
    default:
      return [notSupported(path, strategy, [DaemonSetUpdateStrategyType.RollingUpdate, DaemonSetUpdateStrategyType.OnDelete])];
  }
}

/** validateRollingUpdateDaemonSet is ValidateRollingUpdateDaemonSet: exactly one of maxUnavailable and maxSurge is non-zero. */
export function validateRollingUpdateDaemonSet(ru: RollingUpdateDaemonSet, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, path.child('maxUnavailable')));
  errs.push(...validatePositiveIntOrPercent(ru.maxSurge, path.child('maxSurge')));
  errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, path.child('maxUnavailable')));
  errs.push(...isNotMoreThan100Percent(ru.maxSurge, path.child('maxSurge')));
  const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
  const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
  if (hasUnavailable && hasSurge) errs.push(invalidValue(path.child('maxSurge'), ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
  if (!hasUnavailable && !hasSurge) errs.push(required(path.child('maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
  return errs;
}

/** validateDaemonSetUpdate: the apps/v1 selector is immutable, and the template generation never goes down. */
export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errs = validateSelectorImmutable(ds.spec?.selector, old.spec?.selector);
  const gen = templateGeneration(ds) ?? 0;
  if (gen < (templateGeneration(old) ?? 0)) errs.push(invalidValue(new Path('spec').child('templateGeneration'), gen, 'must not be decremented'));
  return errs;
}

/** validateDaemonSetStatus is ValidateDaemonSetStatus: every count non-negative. */
export function validateDaemonSetStatus(status: DaemonSetStatus, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const counts: (keyof DaemonSetStatus)[] = [
    'currentNumberScheduled',
    'numberMisscheduled',
    'desiredNumberScheduled',
    'numberReady',
    'observedGeneration',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberUnavailable',
  ];
  for (const f of counts) errs.push(...validateNonnegativeField((status[f] as number | undefined) ?? 0, path.child(f)));
  if (status.collisionCount !== undefined && status.collisionCount !== null) {
    errs.push(...validateNonnegativeField(status.collisionCount, path.child('collisionCount')));
  }
  return errs;
}

/** validateDaemonSetStatusUpdate is ValidateDaemonSetStatusUpdate: valid counts, collisionCount never decremented. */
export function validateDaemonSetStatusUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const path = new Path('status');
  const status = ds.status ?? {};
  const errs = validateDaemonSetStatus(status, path);
  const collisionCount = status.collisionCount ?? undefined;
  if (isDecremented(collisionCount, old.status?.collisionCount ?? undefined)) {
    errs.push(invalidValue(path.child('collisionCount'), collisionCount ?? 0, 'cannot be decremented'));
  }
  return errs;
}

/** prepareDaemonSetForCreate is daemonSetStrategy.PrepareForCreate: no status, template generation at least 1. */
export function prepareDaemonSetForCreate(ds: DaemonSet): void {
  ds.status = {};
  const gen = templateGeneration(ds) ?? 0;
  setTemplateGeneration(ds, gen < 1 ? 1 : gen);
}

/**
 * prepareDaemonSetForUpdate is daemonSetStrategy.PrepareForUpdate: the template generation is the
 * server's (a client cannot set it), one more when the template changed.
 */
export function prepareDaemonSetForUpdate(ds: DaemonSet, old: DaemonSet): void {
  const oldGen = templateGeneration(old) ?? 0;
  setTemplateGeneration(ds, semanticEqual(ds.spec?.template, old.spec?.template) ? oldGen : oldGen + 1);
}

const templateContainers = (ds: DaemonSet) => layoutContainerCells(ds.spec?.template?.spec?.containers);

const daemonSetColumns: PrinterColumn<DaemonSet>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (ds) => ds.metadata.name },
  { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).', cell: (ds) => ds.status?.desiredNumberScheduled ?? 0 },
  { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', cell: (ds) => ds.status?.currentNumberScheduled ?? 0 },
  { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', cell: (ds) => ds.status?.numberReady ?? 0 },
  { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod', cell: (ds) => ds.status?.updatedNumberScheduled ?? 0 },
  { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', cell: (ds) => ds.status?.numberAvailable ?? 0 },
  { name: 'Node Selector', type: 'string', description: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.", cell: (ds) => formatLabels(ds.spec?.template?.spec?.nodeSelector as Record<string, string> | undefined) },
  { name: 'Age', type: 'string', cell: (ds, now) => age(ds.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (ds) => templateContainers(ds).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (ds) => templateContainers(ds).images },
  { name: 'Selector', type: 'string', priority: 1, cell: (ds) => formatLabelSelector(ds.spec?.selector) },
];

export const daemonSets = defineResource<DaemonSet>({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec, old.spec, true),
  printerColumns: daemonSetColumns,
  defaults: defaultDaemonSet,
  prepareForCreate: prepareDaemonSetForCreate,
  prepareForUpdate: prepareDaemonSetForUpdate,
  validate: validateDaemonSet,
  validateUpdate: validateDaemonSetUpdate,
  validateStatusUpdate: validateDaemonSetStatusUpdate,
});
