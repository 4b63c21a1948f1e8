// The pod template inside Deployments and ReplicaSets. Its defaults and validation are the core
// PodSpec rules (core/v1 SetDefaults_PodSpec and validation.ValidatePodTemplateSpec), which the
// core kinds own; this adapter is the one place apps/v1 reaches into them.

import { type FieldError, type Path, Path as RootPath } from '../../machinery/field-errors.js';
import { defaultPodSpec, validatePodTemplateSpec } from '../core/podspec.js';
import { podSpecWarnings } from '../core/podwarnings.js';
import { semanticEqual } from './equality.js';
import type { PodSpec as CorePodSpec, PodTemplateSpec as CorePodTemplateSpec } from '../core/types.js';
import type { PodTemplateSpec } from './types.js';

/**
 * defaultPodTemplate applies the pod template defaults in place. A template without a spec still
 * gets one: in Go the template's spec is a struct, so it is always there to be defaulted (and then
 * fails validation for its missing containers).
 */
export function defaultPodTemplate(template: PodTemplateSpec): void {
  template.spec ??= {};
  defaultPodSpec(template.spec as CorePodSpec);
}

/**
 * validatePodTemplate is ValidatePodTemplateSpec at `path` (e.g. spec.template): labels and
 * annotations at `<path>.labels` / `<path>.annotations` as Kubernetes reports them, the pod spec
 * at `<path>.spec`, and no ephemeral containers.
 */
export function validatePodTemplate(template: PodTemplateSpec | undefined, path: Path): FieldError[] {
  return validatePodTemplateSpec(template as CorePodTemplateSpec | undefined, path);
}

/**
 * podTemplateWarnings are the pod warnings for a workload's template (at spec.template). On an
 * update they come only when the spec changed, as kube warns only when the generation moves.
 */
export function podTemplateWarnings(spec: { template?: PodTemplateSpec } | undefined, oldSpec?: { template?: PodTemplateSpec }, updating = false): string[] {
  if (updating && semanticEqual(spec, oldSpec)) return [];
  const t = spec?.template;
  return podSpecWarnings(t?.spec as CorePodSpec | undefined, t?.metadata, RootPath.root('spec').child('template'));
}
