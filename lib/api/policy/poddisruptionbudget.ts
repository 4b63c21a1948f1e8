// policy/v1 PodDisruptionBudget: its types, strategy (pkg/registry/policy/poddisruptionbudget/
// strategy.go), validation (pkg/apis/policy/validation) and the table kube-apiserver prints for
// it. Its status is the disruption controller's (controllers/disruption) and the eviction
// subresource's (apiserver/registry/subresources/eviction.ts) to write.

import { type FieldError, Path, duplicate, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { validateLabelSelector } from '../../machinery/labels.js';
import { isQualifiedName, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { isNotMoreThan100Percent, validateNonnegativeField, validatePositiveIntOrPercent } from '../apps/validation.js';
import type { IntOrString } from '../apps/types.js';
import type { Condition, KubeObject, LabelSelector } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

/** UnhealthyPodEvictionPolicy says when a not-ready pod guarded by a budget may be evicted. */
export const UnhealthyPodEvictionPolicy = { IfHealthyBudget: 'IfHealthyBudget', AlwaysAllow: 'AlwaysAllow' } as const;
export type UnhealthyPodEvictionPolicy = (typeof UnhealthyPodEvictionPolicy)[keyof typeof UnhealthyPodEvictionPolicy];

export interface PodDisruptionBudgetSpec {
  minAvailable?: IntOrString;
  selector?: LabelSelector;
  maxUnavailable?: IntOrString;
  unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy | string;
}

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  /** disruptedPods maps pod names to when the eviction subresource let them go (metav1.Time). */
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Condition[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec?: PodDisruptionBudgetSpec;
  status?: PodDisruptionBudgetStatus;
}

/** DisruptionAllowedCondition and its reasons (k8s.io/api/policy/v1). */
export const DisruptionAllowedCondition = 'DisruptionAllowed';
export const SyncFailedReason = 'SyncFailed';
export const SufficientPodsReason = 'SufficientPods';
export const InsufficientPodsReason = 'InsufficientPods';

/** DisruptionBudgetCause is the StatusCause type of an eviction the budget refused. */
export const DisruptionBudgetCause = 'DisruptionBudget';

const supportedUnhealthyPodEvictionPolicies = [UnhealthyPodEvictionPolicy.AlwaysAllow, UnhealthyPodEvictionPolicy.IfHealthyBudget];

/** validatePodDisruptionBudget is ValidatePodDisruptionBudget with the object's metadata. */
export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  return [...validateObjectMeta(pdb.metadata, true, nameIsDNSSubdomain), ...validatePodDisruptionBudgetSpec(pdb.spec ?? {}, new Path('spec'))];
}

/** validatePodDisruptionBudgetSpec is ValidatePodDisruptionBudgetSpec. */
export function validatePodDisruptionBudgetSpec(spec: PodDisruptionBudgetSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const set = (v: unknown) => v !== undefined && v !== null;
  if (set(spec.minAvailable) && set(spec.maxUnavailable)) {
    errs.push(invalidValue(path, spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const field of ['minAvailable', 'maxUnavailable'] as const) {
    if (!set(spec[field])) continue;
    errs.push(...validatePositiveIntOrPercent(spec[field], path.child(field)));
    errs.push(...isNotMoreThan100Percent(spec[field], path.child(field)));
  }
  errs.push(...validateLabelSelector(spec.selector, path.child('selector'), { allowInvalidLabelValueInSelector: false }));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (set(policy) && !(supportedUnhealthyPodEvictionPolicies as readonly string[]).includes(policy!)) {
    errs.push(notSupported(path.child('unhealthyPodEvictionPolicy'), policy, supportedUnhealthyPodEvictionPolicies));
  }
  return errs;
}

const conditionReasonRe = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const conditionReasonMsg =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')";

/** validateConditions is metav1validation.ValidateConditions: metav1.Condition lists, unique by type. */
export function validateConditions(conditions: Condition[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((c, i) => {
    const p = path.index(i);
    const type = c.type ?? '';
    for (const m of isQualifiedName(type)) errs.push(invalidValue(p.child('type'), type, m));
    if (seen.has(type)) errs.push(duplicate(p.child('type'), type));
    seen.add(type);
    if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(notSupported(p.child('status'), c.status, ['False', 'True', 'Unknown']));
    if ((c.observedGeneration ?? 0) < 0) errs.push(invalidValue(p.child('observedGeneration'), c.observedGeneration, 'must be greater than or equal to zero'));
    if (!c.lastTransitionTime) errs.push(required(p.child('lastTransitionTime'), 'must be set'));
    if (!c.reason) errs.push(required(p.child('reason'), 'must be set'));
    else {
      if (c.reason.length > 1024) errs.push(invalidValue(p.child('reason'), c.reason, 'must be no more than 1024 characters'));
      if (!conditionReasonRe.test(c.reason)) errs.push(invalidValue(p.child('reason'), c.reason, conditionReasonMsg));
    }
    if ((c.message ?? '').length > 32768) errs.push(invalidValue(p.child('message'), c.message, 'must be no more than 32768 characters'));
  });
  return errs;
}

/** validatePodDisruptionBudgetStatus is ValidatePodDisruptionBudgetStatusUpdate for policy/v1. */
export function validatePodDisruptionBudgetStatus(status: PodDisruptionBudgetStatus, path: Path): FieldError[] {
  return [
    ...validateConditions(status.conditions, path.child('conditions')),
    ...validateNonnegativeField(status.disruptionsAllowed ?? 0, path.child('disruptionsAllowed')),
    ...validateNonnegativeField(status.currentHealthy ?? 0, path.child('currentHealthy')),
    ...validateNonnegativeField(status.desiredHealthy ?? 0, path.child('desiredHealthy')),
    ...validateNonnegativeField(status.expectedPods ?? 0, path.child('expectedPods')),
  ];
}

/** emptyStatus is PodDisruptionBudgetStatus{} as policy/v1 serializes it: the four counters are not omitempty. */
function emptyStatus(): PodDisruptionBudgetStatus {
  return { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
}

/** intOrStringCell is intstr.IntOrString.String(), or N/A when unset (printPodDisruptionBudget). */
function intOrStringCell(v: IntOrString | undefined): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

const podDisruptionBudgetColumns: PrinterColumn<PodDisruptionBudget>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (p) => p.metadata.name },
  { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.', cell: (p) => intOrStringCell(p.spec?.minAvailable) },
  { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.', cell: (p) => intOrStringCell(p.spec?.maxUnavailable) },
  { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', cell: (p) => p.status?.disruptionsAllowed ?? 0 },
  { name: 'Age', type: 'string', cell: (p, now) => age(p.metadata.creationTimestamp, now) },
];

export const podDisruptionBudgets = defineResource<PodDisruptionBudget>({
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  namespaced: true,
  subresources: { status: true },
  hasGeneration: true,
  printerColumns: podDisruptionBudgetColumns,
  prepareForCreate(pdb) {
    pdb.status = emptyStatus();
  },
  prepareForStatusUpdate(pdb) {
    pdb.status = { ...emptyStatus(), ...pdb.status };
  },
  validate: validatePodDisruptionBudget,
  validateStatusUpdate: (pdb) => validatePodDisruptionBudgetStatus(pdb.status ?? {}, new Path('status')),
});
