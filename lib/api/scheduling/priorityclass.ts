// scheduling.k8s.io/v1 PriorityClass: a cluster-scoped name for a pod priority value. Defaults
// (pkg/apis/scheduling/v1/defaults.go), validation (pkg/apis/scheduling/validation), the two
// system classes every cluster has (pkg/apis/scheduling/helpers.go) and the table kubectl prints.
// Resolving a pod's priorityClassName is the Priority admission plugin's job (apiserver/admission).

import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { nameIsDNSSubdomain, validateImmutable, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';

export const PreemptionPolicy = { PreemptLowerPriority: 'PreemptLowerPriority', Never: 'Never' } as const;
export type PreemptionPolicy = (typeof PreemptionPolicy)[keyof typeof PreemptionPolicy];

/** PriorityClass is scheduling.k8s.io/v1 PriorityClass. */
export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: PreemptionPolicy;
}

/** HighestUserDefinablePriority is the largest value a class not named system-… may have. */
export const HighestUserDefinablePriority = 1_000_000_000;
/** SystemCriticalPriority is the base of the system classes' values. */
export const SystemCriticalPriority = 2 * HighestUserDefinablePriority;
/** SystemPriorityClassPrefix marks names reserved for the system classes. */
export const SystemPriorityClassPrefix = 'system-';
export const SystemClusterCritical = 'system-cluster-critical';
export const SystemNodeCritical = 'system-node-critical';
/** DefaultPriorityWhenNoDefaultClassExists is a pod's priority when it names no class and none is the global default. */
export const DefaultPriorityWhenNoDefaultClassExists = 0;

/** systemPriorityClasses are created by the apiserver at bootstrap, as kube-apiserver's scheduling post-start hook does. */
export function systemPriorityClasses(): PriorityClass[] {
  return [
    {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: SystemNodeCritical },
      value: SystemCriticalPriority + 1000,
      description: 'Used for system critical pods that must not be moved from their current node.',
    },
    {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: SystemClusterCritical },
      value: SystemCriticalPriority,
      description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
    },
  ];
}

/**
 * isKnownSystemPriorityClass is IsKnownSystemPriorityClass: name, value and globalDefault equal
 * one of the system classes (description, labels and the rest are free). It answers why not.
 */
export function isKnownSystemPriorityClass(name: string, value: number, globalDefault: boolean): string | undefined {
  const spc = systemPriorityClasses().find((c) => c.metadata.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (spc.value !== value) return `value of ${name} PriorityClass must be ${spc.value}`;
  if (!!spc.globalDefault !== globalDefault) return `globalDefault of ${name} PriorityClass must be ${!!spc.globalDefault}`;
  return undefined;
}

/** defaultPriorityClass is SetDefaults_PriorityClass: preemptionPolicy defaults to PreemptLowerPriority. */
export function defaultPriorityClass(pc: PriorityClass): void {
  pc.preemptionPolicy ??= PreemptionPolicy.PreemptLowerPriority;
}

const preemptionPolicies = [PreemptionPolicy.PreemptLowerPriority, PreemptionPolicy.Never];

/** validatePriorityClass is ValidatePriorityClass. */
export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, false, nameIsDNSSubdomain);
  const name = pc.metadata?.name ?? '';
  if (typeof pc.value !== 'number' || !Number.isInteger(pc.value) || pc.value < -2147483648 || pc.value > 2147483647) {
    // The Go type is int32: anything else fails decoding there; here it is a field error.
    if (pc.value === undefined || pc.value === null) errs.push(required(new Path('value')));
    else errs.push(invalidValue(new Path('value'), pc.value, 'must be a 32-bit integer'));
    return errs;
  }
  if (name.startsWith(SystemPriorityClassPrefix)) {
    const why = isKnownSystemPriorityClass(name, pc.value, !!pc.globalDefault);
    if (why) {
      errs.push(forbiddenField(new Path('metadata').child('name'), `priority class names with '${SystemPriorityClassPrefix}' prefix are reserved for system use only. error: ${why}`));
    }
  } else if (pc.value > HighestUserDefinablePriority) {
    errs.push(forbiddenField(new Path('value'), `maximum allowed value of a user defined priority is ${HighestUserDefinablePriority}`));
  }
  if (pc.preemptionPolicy !== undefined && pc.preemptionPolicy !== null && !preemptionPolicies.includes(pc.preemptionPolicy)) {
    errs.push(notSupported(new Path('preemptionPolicy'), pc.preemptionPolicy, preemptionPolicies));
  }
  return errs;
}

/** validatePriorityClassUpdate is ValidatePriorityClassUpdate: value and preemptionPolicy are immutable. */
export function validatePriorityClassUpdate(pc: PriorityClass, old: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  if (pc.value !== old.value) errs.push(forbiddenField(new Path('value'), 'may not be changed in an update.'));
  errs.push(...validateImmutable(pc.preemptionPolicy, old.preemptionPolicy, new Path('preemptionPolicy')));
  return errs;
}

const priorityClassColumns: PrinterColumn<PriorityClass>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (pc) => pc.metadata.name },
  { name: 'Value', type: 'integer', description: 'value represents the integer value of this priority class.', cell: (pc) => pc.value },
  { name: 'Global-Default', type: 'boolean', description: 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.', cell: (pc) => !!pc.globalDefault },
  { name: 'Age', type: 'string', cell: (pc, now) => age(pc.metadata.creationTimestamp, now) },
  { name: 'PreemptionPolicy', type: 'string', description: 'preemptionPolicy is the Policy for preempting pods with lower priority.', cell: (pc) => pc.preemptionPolicy ?? '' },
];

export const priorityClasses = defineResource<PriorityClass>({
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  namespaced: false,
  printerColumns: priorityClassColumns,
  defaults: defaultPriorityClass,
  validate: validatePriorityClass,
  validateUpdate: validatePriorityClassUpdate,
});
