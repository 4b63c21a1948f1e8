// apps/v1 Deployment: defaults (apps/v1 SetDefaults_Deployment), strategy hooks
// (pkg/registry/apps/deployment/strategy.go), validation (pkg/apis/apps/validation) and the
// table kube-apiserver prints for it.

import { Path, type FieldError, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { labelSelectorAsSelector, selectorToString } from '../../machinery/labels.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject, LabelSelector } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { semanticEqual } from './equality.js';
import { defaultPodTemplate, podTemplateWarnings } from './podtemplate.js';
import {
  type Deployment,
  type DeploymentSpec,
  type DeploymentStatus,
  type DeploymentStrategy,
  DeploymentStrategyType,
  type RollingUpdateDeployment,
  layoutContainerCells,
} from './types.js';
import {
  intOrPercentValue,
  isDecremented,
  isNotMoreThan100Percent,
  replicaCountsWithin,
  validateNonnegativeField,
  validatePositiveIntOrPercent,
  validateWorkloadSelector,
} from './validation.js';

/** defaultDeployment is SetDefaults_Deployment plus the pod template defaults. */
export function defaultDeployment(d: Deployment): void {
  const spec = (d.spec ??= {});
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  if (!strategy.type) strategy.type = DeploymentStrategyType.RollingUpdate;
  if (strategy.type === DeploymentStrategyType.RollingUpdate) {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplate((spec.template ??= {}));
}

/** validateDeployment is ValidateDeployment: metadata (DNS subdomain name) and the spec. */
export function validateDeployment(d: Deployment): FieldError[] {
  return [...validateObjectMeta(d.metadata, true, nameIsDNSSubdomain), ...validateDeploymentSpec(d.spec ?? {}, new Path('spec'))];
}

/** validateDeploymentSpec is ValidateDeploymentSpec, in Kubernetes' order (which the aggregated message keeps). */
export function validateDeploymentSpec(spec: DeploymentSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  errs.push(...validateWorkloadSelector(spec.selector, spec.template, path));
  errs.push(...validateDeploymentStrategy(spec.strategy ?? {}, path.child('strategy')));
  const minReadySeconds = spec.minReadySeconds ?? 0;
  errs.push(...validateNonnegativeField(minReadySeconds, path.child('minReadySeconds')));
  if (spec.revisionHistoryLimit !== undefined && spec.revisionHistoryLimit !== null) {
    // Zero is a valid revisionHistoryLimit: keep no old ReplicaSets.
    errs.push(...validateNonnegativeField(spec.revisionHistoryLimit, path.child('revisionHistoryLimit')));
  }
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds !== null) {
    errs.push(...validateNonnegativeField(spec.progressDeadlineSeconds, path.child('progressDeadlineSeconds')));
    if (spec.progressDeadlineSeconds <= minReadySeconds) {
      errs.push(invalidValue(path.child('progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** validateDeploymentStrategy is ValidateDeploymentStrategy. */
export function validateDeploymentStrategy(strategy: DeploymentStrategy, path: Path): FieldError[] {
  switch (strategy.type) {
    case DeploymentStrategyType.Recreate:
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        return [forbiddenField(path.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")];
      }
      return [];
    case DeploymentStrategyType.RollingUpdate:
      // Defaulting always fills it; only an object that skipped defaulting gets here without one.
      if (strategy.rollingUpdate === undefined || strategy.rollingUpdate === null) {
        return [required(path.child('rollingUpdate'), 'this should be defaulted and never be nil')];
      }
      return validateRollingUpdateDeployment(strategy.rollingUpdate, path.child('rollingUpdate'));
    default:
      return [notSupported(path, strategy.type ?? '', [DeploymentStrategyType.Recreate, DeploymentStrategyType.RollingUpdate])];
  }
}

/** validateRollingUpdateDeployment is ValidateRollingUpdateDeployment: maxSurge and maxUnavailable may not both be 0. */
export function validateRollingUpdateDeployment(ru: RollingUpdateDeployment, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, path.child('maxUnavailable')));
  errs.push(...validatePositiveIntOrPercent(ru.maxSurge, path.child('maxSurge')));
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
    errs.push(invalidValue(path.child('maxUnavailable'), ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
  }
  errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, path.child('maxUnavailable')));
  return errs;
}

/**
 * validateDeploymentUpdate holds what an update checks beyond validateDeployment: in apps/v1 the
 * selector is immutable (extensions/v1beta1 once allowed changing it; skiff serves apps/v1 only).
 */
export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  return validateSelectorImmutable(d.spec?.selector, old.spec?.selector);
}

/** validateSelectorImmutable is the apps/v1 `spec.selector: field is immutable` rule of Deployments and ReplicaSets. */
export function validateSelectorImmutable(selector: LabelSelector | undefined, oldSelector: LabelSelector | undefined): FieldError[] {
  if (semanticEqual(selector, oldSelector)) return [];
  return [invalidValue(new Path('spec').child('selector'), selector, 'field is immutable')];
}

/** validateDeploymentStatus is ValidateDeploymentStatus. */
export function validateDeploymentStatus(status: DeploymentStatus, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const replicas = status.replicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  errs.push(...validateNonnegativeField(status.observedGeneration ?? 0, path.child('observedGeneration')));
  errs.push(...validateNonnegativeField(replicas, path.child('replicas')));
  errs.push(...validateNonnegativeField(updated, path.child('updatedReplicas')));
  errs.push(...validateNonnegativeField(ready, path.child('readyReplicas')));
  errs.push(...validateNonnegativeField(available, path.child('availableReplicas')));
  errs.push(...validateNonnegativeField(status.unavailableReplicas ?? 0, path.child('unavailableReplicas')));
  if (status.collisionCount !== undefined && status.collisionCount !== null) {
    errs.push(...validateNonnegativeField(status.collisionCount, path.child('collisionCount')));
  }
  errs.push(...replicaCountsWithin(path, replicas, [['updatedReplicas', updated], ['readyReplicas', ready], ['availableReplicas', available]]));
  if (available > ready) errs.push(invalidValue(path.child('availableReplicas'), available, 'cannot be greater than readyReplicas'));
  return errs;
}

/** validateDeploymentStatusUpdate is ValidateDeploymentStatusUpdate (metadata immutability is the registry's). */
export function validateDeploymentStatusUpdate(d: Deployment, old: Deployment): FieldError[] {
  const path = new Path('status');
  const status = d.status ?? {};
  const errs = validateDeploymentStatus(status, path);
  const collisionCount = status.collisionCount ?? undefined;
  if (isDecremented(collisionCount, old.status?.collisionCount ?? undefined)) {
    errs.push(invalidValue(path.child('collisionCount'), collisionCount ?? 0, 'cannot be decremented'));
  }
  return errs;
}

/**
 * deploymentScaleSelector is the Scale's status.selector: the spec.selector as a selector string
 * ("" for an empty selector, which the Scale then omits).
 */
export function deploymentScaleSelector(obj: KubeObject): string {
  const spec = obj.spec as { selector?: LabelSelector } | undefined;
  try {
    return selectorToString(labelSelectorAsSelector(spec?.selector));
  } catch {
    return '';
  }
}

/** deploymentSelectorCell is the SELECTOR cell: the selector's String(), `<invalid>` when it cannot be converted. */
function deploymentSelectorCell(d: Deployment): string {
  try {
    return selectorToString(labelSelectorAsSelector(d.spec?.selector));
  } catch {
    return '<invalid>';
  }
}

const templateContainers = (d: Deployment) => layoutContainerCells(d.spec?.template?.spec?.containers);

const deploymentColumns: PrinterColumn<Deployment>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (d) => d.metadata.name },
  {
    name: 'Ready',
    type: 'string',
    description: 'Number of the pod with ready state',
    cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
  },
  // Kubernetes declares these two as strings but fills them with integers; kept as it does.
  { name: 'Up-to-date', type: 'string', cell: (d) => d.status?.updatedReplicas ?? 0 },
  { name: 'Available', type: 'string', cell: (d) => d.status?.availableReplicas ?? 0 },
  { name: 'Age', type: 'string', cell: (d, now) => age(d.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (d) => templateContainers(d).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (d) => templateContainers(d).images },
  { name: 'Selector', type: 'string', priority: 1, cell: deploymentSelectorCell },
];

export const deployments = defineResource<Deployment>({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  subresources: {
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selector: deploymentScaleSelector },
  },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec, old.spec, true),
  // kube's deploymentStatusStrategy resets only spec and labels: the controller's revision
  // annotation rides on its status updates.
  statusUpdateKeepsAnnotations: true,
  printerColumns: deploymentColumns,
  defaults: defaultDeployment,
  prepareForCreate(d) {
    d.status = {};
  },
  prepareForUpdate(d, old) {
    // Annotations are copied from a Deployment to its ReplicaSets, so changing them is a new
    // generation too (the registry bumps it for spec changes; this covers annotation-only ones).
    if (!semanticEqual(d.metadata.annotations, old.metadata.annotations)) {
      d.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
  },
  validate: validateDeployment,
  validateUpdate: validateDeploymentUpdate,
  validateStatusUpdate: validateDeploymentStatusUpdate,
});
