// Validation shared by the apps/v1 workloads, with Kubernetes' messages and field paths
// (pkg/apis/apps/validation/validation.go).

import type { LabelSelector } from '../meta.js';
import { type FieldError, Path, forbiddenField, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { type LabelSelectorExpr, isEverything, labelSelectorAsSelector, matches, validateLabelSelector } from '../../machinery/labels.js';
import { validatePodTemplate } from './podtemplate.js';
import { type IntOrString, type PodTemplateSpec, intOrStringValue } from './types.js';

/** validateNonnegativeField is ValidateNonnegativeField: `must be greater than or equal to 0`. */
export function validateNonnegativeField(value: number | undefined, path: Path): FieldError[] {
  if (value !== undefined && value !== null && value < 0) return [invalidValue(path, value, 'must be greater than or equal to 0')];
  return [];
}

const percentFmt = '[0-9]+%';
const percentRe = /^[0-9]+%$/;

/**
 * replicaCountsWithin reports, in the order given, each status count greater than status.replicas
 * (the check ValidateReplicaSetStatus, ValidateDeploymentStatus and ValidateStatefulSetStatus share).
 */
export function replicaCountsWithin(path: Path, replicas: number, counts: [field: string, value: number][]): FieldError[] {
  return counts.filter(([, v]) => v > replicas).map(([f, v]) => invalidValue(path.child(f), v, 'cannot be greater than status.replicas'));
}

/** isValidPercent is validation.IsValidPercent. */
export function isValidPercent(s: string): string[] {
  if (percentRe.test(s)) return [];
  return [
    `a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '${percentFmt}')`,
  ];
}

/** percentValue is the N of a valid "N%", undefined for anything else. */
function percentValue(v: IntOrString | undefined): number | undefined {
  if (typeof v !== 'string' || !percentRe.test(v)) return undefined;
  return Number.parseInt(v.slice(0, -1), 10);
}

/** intOrPercentValue is getIntOrPercentValue: the percentage number, else IntValue(). */
export function intOrPercentValue(v: IntOrString | undefined): number {
  return percentValue(v) ?? intOrStringValue(v);
}

/**
 * validatePositiveIntOrPercent is ValidatePositiveIntOrPercent: strings must be percentages,
 * integers non-negative. (Kubernetes prints the value as a Go intstr.IntOrString struct; the raw
 * value is kept here.)
 */
export function validatePositiveIntOrPercent(v: IntOrString | undefined, path: Path): FieldError[] {
  const value = v ?? 0;
  if (typeof value === 'string') return isValidPercent(value).map((m) => invalidValue(path, value, m));
  if (typeof value === 'number') return validateNonnegativeField(value, path);
  return [invalidValue(path, value, "must be an integer or percentage (e.g '5%%')")];
}

/** isNotMoreThan100Percent is IsNotMoreThan100Percent: only valid percentages are checked. */
export function isNotMoreThan100Percent(v: IntOrString | undefined, path: Path): FieldError[] {
  const p = percentValue(v);
  if (p === undefined || p <= 100) return [];
  return [invalidValue(path, v, 'must not be greater than 100%')];
}

/**
 * validateWorkloadSelector is the selector part of ValidateDeploymentSpec / ValidateReplicaSetSpec:
 * the selector is required, valid and non-empty, and the template must match it. ReplicaSets get
 * the Deployment's "empty selector" message too, as in Kubernetes.
 */
export function validateWorkloadSelector(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  specPath: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  const selPath = specPath.child('selector');
  if (selector === undefined || selector === null) {
    errs.push(required(selPath, ''));
  } else {
    errs.push(...validateLabelSelector(selector, selPath, { allowInvalidLabelValueInSelector: false }));
    if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length === 0) {
      errs.push(invalidValue(selPath, selector, 'empty selector is invalid for deployment'));
    }
  }
  let sel: LabelSelectorExpr;
  try {
    sel = labelSelectorAsSelector(selector);
  } catch {
    errs.push(invalidValue(selPath, selector, 'invalid label selector'));
    return errs;
  }
  errs.push(...validatePodTemplateSpecForReplicaSet(template, sel, specPath.child('template')));
  return errs;
}

/**
 * validatePodTemplateSpecForReplicaSet: the template's labels must match a non-empty selector,
 * the template must be a valid pod template, restartPolicy must be Always and
 * activeDeadlineSeconds unset (the message says ReplicaSet for Deployments too).
 */
export function validatePodTemplateSpecForReplicaSet(template: PodTemplateSpec | undefined, selector: LabelSelectorExpr, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const labels = template?.metadata?.labels;
  if (!isEverything(selector) && !matches(selector, labels)) {
    errs.push(invalidValue(path.child('metadata', 'labels'), labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, path));
  const restartPolicy = template?.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(notSupported(path.child('spec', 'restartPolicy'), restartPolicy, ['Always']));
  if (template?.spec?.activeDeadlineSeconds !== undefined && template.spec.activeDeadlineSeconds !== null) {
    errs.push(forbiddenField(path.child('spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

/** isDecremented is apivalidation.IsDecremented for optional counters such as collisionCount. */
export function isDecremented(update: number | undefined, current: number | undefined): boolean {
  if (update === undefined && current !== undefined) return true;
  if (update === undefined || current === undefined) return false;
  return update < current;
}
