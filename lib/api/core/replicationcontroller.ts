// core/v1 ReplicationController: the ReplicaSet's predecessor, with an equality-based selector
// (a plain label map). Defaults (SetDefaults_ReplicationController), strategy
// (pkg/registry/core/replicationcontroller/strategy.go), validation and the table kube-apiserver
// prints for it. Its controller is the ReplicaSet controller behind an adapter
// (controllers/replicaset/replicationcontroller.ts), as in Kubernetes.

import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isEverything, matches, selectorFromSet, selectorToString } from '../../machinery/labels.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { defaultPodTemplate, podTemplateWarnings, validatePodTemplate } from '../apps/podtemplate.js';
import { type PodTemplateSpec, type ReplicaSetStatus, layoutContainerCells } from '../apps/types.js';
import { validateNonnegativeField } from '../apps/validation.js';
import { validateReplicaSetStatus } from '../apps/replicaset.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

export interface ReplicationControllerSpec {
  replicas?: number;
  minReadySeconds?: number;
  /** selector is a label map: every key must equal (labels.SelectorFromSet). */
  selector?: Record<string, string>;
  template?: PodTemplateSpec;
}

/** ReplicationControllerStatus has the ReplicaSet's status fields. */
export type ReplicationControllerStatus = ReplicaSetStatus;

export interface ReplicationController extends KubeObject {
  spec?: ReplicationControllerSpec;
  status?: ReplicationControllerStatus;
}

const isEmpty = (m: Record<string, string> | undefined | null) => !m || Object.keys(m).length === 0;

/**
 * defaultReplicationController is SetDefaults_ReplicationController: selector and the object's
 * own labels come from the template's labels when unset, one replica; plus the pod template defaults.
 */
export function defaultReplicationController(rc: ReplicationController): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (isEmpty(spec.selector)) spec.selector = { ...labels };
    if (isEmpty(rc.metadata.labels)) rc.metadata.labels = { ...labels };
  }
  spec.replicas ??= 1;
  if (spec.template) defaultPodTemplate(spec.template);
}

/** validateReplicationController is ValidateReplicationController: metadata and the spec. */
export function validateReplicationController(rc: ReplicationController): FieldError[] {
  return [...validateObjectMeta(rc.metadata, true, nameIsDNSSubdomain), ...validateReplicationControllerSpec(rc.spec ?? {}, new Path('spec'))];
}

/** validateReplicationControllerSpec is ValidateReplicationControllerSpec. */
export function validateReplicationControllerSpec(spec: ReplicationControllerSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')));
  // ValidateNonEmptySelector.
  if (isEverything(selectorFromSet(spec.selector))) errs.push(required(path.child('selector'), ''));
  errs.push(...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')));
  errs.push(...validatePodTemplateSpecForRC(spec.template, spec.selector, path.child('template')));
  return errs;
}

/** validatePodTemplateSpecForRC is ValidatePodTemplateSpecForRC: the template exists, matches the selector, restarts Always. */
function validatePodTemplateSpecForRC(template: PodTemplateSpec | undefined, selector: Record<string, string> | undefined, path: Path): FieldError[] {
  if (!template) return [required(path, '')];
  const errs: FieldError[] = [];
  const sel = selectorFromSet(selector);
  if (!isEverything(sel) && !matches(sel, template.metadata?.labels)) {
    errs.push(invalidValue(path.child('metadata', 'labels'), template.metadata?.labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, path));
  const restartPolicy = template.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(notSupported(path.child('spec', 'restartPolicy'), restartPolicy, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec.activeDeadlineSeconds !== null) {
    errs.push(forbiddenField(path.child('spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

/** replicationControllerScaleSelector is the Scale's status.selector: SelectorFromSet(spec.selector).String(). */
export function replicationControllerScaleSelector(obj: KubeObject): string {
  return selectorToString(selectorFromSet((obj.spec as ReplicationControllerSpec | undefined)?.selector));
}

/** formatLabels is labels.FormatLabels: `k=v,…` in key order, `<none>` when empty. */
function formatLabels(m: Record<string, string> | undefined): string {
  const s = selectorToString(selectorFromSet(m));
  return s === '' ? '<none>' : s;
}

const templateContainers = (rc: ReplicationController) => layoutContainerCells(rc.spec?.template?.spec?.containers);

const replicationControllerColumns: PrinterColumn<ReplicationController>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (rc) => rc.metadata.name },
  { name: 'Desired', type: 'integer', cell: (rc) => rc.spec?.replicas ?? 0 },
  { name: 'Current', type: 'integer', cell: (rc) => rc.status?.replicas ?? 0 },
  { name: 'Ready', type: 'integer', cell: (rc) => rc.status?.readyReplicas ?? 0 },
  { name: 'Age', type: 'string', cell: (rc, now) => age(rc.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (rc) => templateContainers(rc).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (rc) => templateContainers(rc).images },
  { name: 'Selector', type: 'string', priority: 1, cell: (rc) => formatLabels(rc.spec?.selector) },
];

export const replicationControllers = defineResource<ReplicationController>({
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  shortNames: ['rc'],
  categories: ['all'],
  namespaced: true,
  subresources: {
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selector: replicationControllerScaleSelector },
  },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec, old.spec, true),
  printerColumns: replicationControllerColumns,
  fieldSelectors: {
    'status.replicas': (rc) => String(rc.status?.replicas ?? 0),
  },
  defaults: defaultReplicationController,
  prepareForCreate(rc) {
    // status.replicas is not omitempty, so a cleared status still carries it.
    rc.status = { replicas: 0 };
  },
  prepareForStatusUpdate(rc) {
    rc.status = { ...rc.status, replicas: rc.status?.replicas ?? 0 };
  },
  validate: validateReplicationController,
  validateStatusUpdate: (rc) => validateReplicaSetStatus(rc.status ?? {}, new Path('status')),
});
