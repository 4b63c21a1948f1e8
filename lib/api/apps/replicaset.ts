// apps/v1 ReplicaSet: defaults, strategy hooks (pkg/registry/apps/replicaset/strategy.go),
// validation and the table kube-apiserver prints for it.

import { Path, type FieldError, invalidValue } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { formatLabelSelector } from '../../machinery/labels.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { deploymentScaleSelector, validateSelectorImmutable } from './deployment.js';
import { defaultPodTemplate, podTemplateWarnings } from './podtemplate.js';
import { type ReplicaSet, type ReplicaSetSpec, type ReplicaSetStatus, layoutContainerCells } from './types.js';
import { replicaCountsWithin, validateNonnegativeField, validateWorkloadSelector } from './validation.js';

/** defaultReplicaSet is SetDefaults_ReplicaSet plus the pod template defaults. */
export function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = (rs.spec ??= {});
  spec.replicas ??= 1;
  defaultPodTemplate((spec.template ??= {}));
}

/** validateReplicaSet is ValidateReplicaSet: metadata (DNS subdomain name) and the spec. */
export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  return [...validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain), ...validateReplicaSetSpec(rs.spec ?? {}, new Path('spec'))];
}

/** validateReplicaSetSpec is ValidateReplicaSetSpec. */
export function validateReplicaSetSpec(spec: ReplicaSetSpec, path: Path): FieldError[] {
  return [
    ...validateNonnegativeField(spec.replicas ?? 0, path.child('replicas')),
    ...validateNonnegativeField(spec.minReadySeconds ?? 0, path.child('minReadySeconds')),
    ...validateWorkloadSelector(spec.selector, spec.template, path),
  ];
}

/** validateReplicaSetUpdate: in apps/v1 the selector is immutable. */
export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  return validateSelectorImmutable(rs.spec?.selector, old.spec?.selector);
}

/** validateReplicaSetStatus is ValidateReplicaSetStatus. */
export function validateReplicaSetStatus(status: ReplicaSetStatus, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const replicas = status.replicas ?? 0;
  const fullyLabeled = status.fullyLabeledReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  errs.push(...validateNonnegativeField(replicas, path.child('replicas')));
  errs.push(...validateNonnegativeField(fullyLabeled, path.child('fullyLabeledReplicas')));
  errs.push(...validateNonnegativeField(ready, path.child('readyReplicas')));
  errs.push(...validateNonnegativeField(available, path.child('availableReplicas')));
  errs.push(...validateNonnegativeField(status.observedGeneration ?? 0, path.child('observedGeneration')));
  errs.push(...replicaCountsWithin(path, replicas, [['fullyLabeledReplicas', fullyLabeled], ['readyReplicas', ready], ['availableReplicas', available]]));
  if (available > ready) errs.push(invalidValue(path.child('availableReplicas'), available, 'cannot be greater than readyReplicas'));
  return errs;
}

const templateContainers = (rs: ReplicaSet) => layoutContainerCells(rs.spec?.template?.spec?.containers);

const replicaSetColumns: PrinterColumn<ReplicaSet>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (rs) => rs.metadata.name },
  { name: 'Desired', type: 'integer', cell: (rs) => rs.spec?.replicas ?? 0 },
  { name: 'Current', type: 'integer', cell: (rs) => rs.status?.replicas ?? 0 },
  { name: 'Ready', type: 'integer', cell: (rs) => rs.status?.readyReplicas ?? 0 },
  { name: 'Age', type: 'string', cell: (rs, now) => age(rs.metadata.creationTimestamp, now) },
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (rs) => templateContainers(rs).names },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (rs) => templateContainers(rs).images },
  // Unlike Deployments, ReplicaSets print metav1.FormatLabelSelector: `<none>` for an empty selector.
  { name: 'Selector', type: 'string', priority: 1, cell: (rs) => formatLabelSelector(rs.spec?.selector) },
];

export const replicaSets = defineResource<ReplicaSet>({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  subresources: {
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selector: deploymentScaleSelector },
  },
  hasGeneration: true,
  warningsOnCreate: (o) => podTemplateWarnings(o.spec),
  warningsOnUpdate: (o, old) => podTemplateWarnings(o.spec, old.spec, true),
  printerColumns: replicaSetColumns,
  fieldSelectors: {
    'status.replicas': (rs) => String(rs.status?.replicas ?? 0),
  },
  defaults: defaultReplicaSet,
  prepareForCreate(rs) {
    // status.replicas is not omitempty in apps/v1, so a cleared status still carries it.
    rs.status = { replicas: 0 };
  },
  prepareForStatusUpdate(rs) {
    rs.status = { ...rs.status, replicas: rs.status?.replicas ?? 0 };
  },
  validate: validateReplicaSet,
  validateUpdate: validateReplicaSetUpdate,
  validateStatusUpdate: (rs, _old) => validateReplicaSetStatus(rs.status ?? {}, new Path('status')),
});
