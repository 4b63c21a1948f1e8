// The pod template inside Deployments and ReplicaSets: its defaults and its validation
// (core/v1 SetDefaults_PodSpec / SetDefaults_Container and validation.ValidatePodTemplateSpec).
//
// The core kinds own the full PodSpec rules; this file covers the part every workload template
// needs — the defaults kubectl shows on a Deployment's template and the required containers — so
// apps/v1 is served faithfully for the common case. Swap both functions for the core versions
// (`defaultPodSpec`, `validatePodTemplateSpec` from ../core/pod.js) once they exist.

import { type FieldError, Path, duplicate, forbiddenField, invalidValue, required } from '../../machinery/field-errors.js';
import { isDNS1123Label, validateAnnotations, validateLabels } from '../../machinery/validation.js';
import type { Container, PodSpec, PodTemplateSpec } from './types.js';

/** defaultPodTemplate applies the core/v1 pod template defaults in place (creating template.spec if absent). */
export function defaultPodTemplate(template: PodTemplateSpec): void {
  template.spec ??= {};
  defaultPodSpec(template.spec);
}

function defaultPodSpec(spec: PodSpec): void {
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
}

function defaultContainer(c: Container): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.imagePullPolicy ??= imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  // ResourceRequirements is a struct in Go, so an absent one comes back as {}.
  c.resources ??= {};
  for (const p of (c.ports as { protocol?: string }[] | undefined) ?? []) p.protocol ??= 'TCP';
}

/**
 * imageTag is the tag parsers.ParseImageName finds: the part after ':' in the last path element,
 * "latest" when there is neither tag nor digest, "" when there is only a digest.
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastElement = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastElement.lastIndexOf(':');
  if (colon >= 0) return lastElement.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

/**
 * validatePodTemplate is ValidatePodTemplateSpec at `path` (e.g. spec.template): template labels
 * and annotations (reported at `<path>.labels`, `<path>.annotations`, as Kubernetes does), the
 * pod spec's containers, and no ephemeral containers.
 */
export function validatePodTemplate(template: PodTemplateSpec | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const t = template ?? {};
  errs.push(...validateLabels(t.metadata?.labels, path.child('labels')));
  errs.push(...validateAnnotations(t.metadata?.annotations, path.child('annotations')));
  errs.push(...validateContainers(t.spec?.containers, path.child('spec', 'containers')));
  if (((t.spec?.ephemeralContainers as unknown[] | undefined) ?? []).length > 0) {
    errs.push(forbiddenField(path.child('spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

function validateContainers(containers: Container[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!containers || containers.length === 0) return [required(path, '')];
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const namePath = path.index(i).child('name');
    const name = c.name ?? '';
    if (name === '') errs.push(required(namePath, ''));
    else for (const m of isDNS1123Label(name)) errs.push(invalidValue(namePath, name, m));
    if (seen.has(name)) errs.push(duplicate(namePath, name));
    else seen.add(name);
    if (!c.image) errs.push(required(path.index(i).child('image'), ''));
  });
  return errs;
}
