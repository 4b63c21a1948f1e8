// Helpers every user of a CustomResourceDefinition needs (apiextensions-apiserver pkg/apihelpers):
// conditions, the storage version, the per-version schema/subresources/columns, and Kubernetes'
// version ordering.

import { nowRFC3339, type KubeObject } from '../meta.js';
import { isQualifiedName } from '../../machinery/validation.js';
import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  CustomResourceDefinitionCondition,
  CustomResourceDefinitionVersion,
  CustomResourceSubresources,
  JSONSchemaProps,
} from './types.js';

/** findCRDCondition returns the condition of type t, if the CRD has one. */
export function findCRDCondition(crd: CustomResourceDefinition, t: string): CustomResourceDefinitionCondition | undefined {
  return crd.status?.conditions?.find((c) => c.type === t);
}

/** isCRDConditionTrue tells whether the condition of type t is True. */
export function isCRDConditionTrue(crd: CustomResourceDefinition, t: string): boolean {
  return findCRDCondition(crd, t)?.status === 'True';
}

/**
 * setCRDCondition sets a condition in place as SetCRDCondition does: lastTransitionTime moves
 * only when the status changes (or was never set); reason and message always follow.
 */
export function setCRDCondition(crd: CustomResourceDefinition, cond: CustomResourceDefinitionCondition, now: Date): void {
  const status = (crd.status ??= {});
  const conditions = (status.conditions ??= []);
  const at = nowRFC3339(now);
  const existing = conditions.find((c) => c.type === cond.type);
  if (!existing) {
    conditions.push({ type: cond.type, status: cond.status, lastTransitionTime: at, reason: cond.reason, message: cond.message });
    return;
  }
  if (existing.status !== cond.status || !existing.lastTransitionTime) existing.lastTransitionTime = at;
  existing.status = cond.status;
  existing.reason = cond.reason;
  existing.message = cond.message;
}

/** storageVersion is the name of the version marked storage, if exactly one is. */
export function storageVersion(crd: CustomResourceDefinition): string | undefined {
  return crd.spec?.versions?.find((v) => v.storage)?.name;
}

export function versionOf(crd: CustomResourceDefinition, name: string): CustomResourceDefinitionVersion | undefined {
  return crd.spec?.versions?.find((v) => v.name === name);
}

export function schemaForVersion(crd: CustomResourceDefinition, name: string): JSONSchemaProps | undefined {
  return versionOf(crd, name)?.schema?.openAPIV3Schema;
}

export function subresourcesForVersion(crd: CustomResourceDefinition, name: string): CustomResourceSubresources | undefined {
  return versionOf(crd, name)?.subresources;
}

export function columnsForVersion(crd: CustomResourceDefinition, name: string): CustomResourceColumnDefinition[] {
  return versionOf(crd, name)?.additionalPrinterColumns ?? [];
}

/** isProtectedCommunityGroup: groups under k8s.io and kubernetes.io need API approval. */
export function isProtectedCommunityGroup(group: string): boolean {
  return group === 'k8s.io' || group === 'kubernetes.io' || group.endsWith('.k8s.io') || group.endsWith('.kubernetes.io');
}

const kubeVersionRE = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * compareKubeAwareVersion orders versions as Kubernetes discovery does: GA before beta before
 * alpha, higher numbers first within each, then every other name alphabetically.
 * Returns a negative number when a sorts before b.
 */
export function compareKubeAwareVersion(a: string, b: string): number {
  const pa = kubeVersionRE.exec(a);
  const pb = kubeVersionRE.exec(b);
  if (!pa && !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (!pa) return 1;
  if (!pb) return -1;
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(pa) !== rank(pb)) return rank(pb) - rank(pa);
  const major = Number(pb[1]) - Number(pa[1]);
  if (major !== 0) return major;
  return Number(pb[3] ?? 0) - Number(pa[3] ?? 0);
}

/**
 * deprecationWarning is the warning every request to a deprecated version gets: the version's
 * deprecationWarning, or `<group>/<version> <Kind> is deprecated` naming the highest served,
 * non-deprecated newer version to use instead (apiextensions-apiserver's defaultDeprecationWarning).
 * Undefined for a version that is not deprecated.
 */
export function deprecationWarning(crd: CustomResourceDefinition, version: string): string | undefined {
  const v = versionOf(crd, version);
  if (!v?.deprecated) return undefined;
  if (v.deprecationWarning !== undefined) return v.deprecationWarning;
  const { group, names } = crd.spec;
  const msg = `${group}/${version} ${names.kind} is deprecated`;
  const newer = crd.spec.versions
    .filter((o) => o.served && !o.deprecated && compareKubeAwareVersion(o.name, version) < 0)
    .map((o) => o.name)
    .sort(compareKubeAwareVersion);
  return newer.length ? `${msg}; use ${group}/${newer[0]} ${names.kind}` : msg;
}

/** standardFinalizers are Kubernetes' own finalizer names, which need no domain. */
const standardFinalizers = new Set(['orphan', 'foregroundDeletion', 'kubernetes']);

/**
 * finalizerWarnings are a custom resource's warnings for the finalizers a write adds (all of them
 * on create), in sorted order: names that are not qualified, and names without a path, as
 * apiextensions-apiserver's customResourceStrategy warns.
 */
export function finalizerWarnings(obj: KubeObject, old?: KubeObject): string[] {
  const before = new Set(old?.metadata.finalizers ?? []);
  const added = [...new Set(obj.metadata.finalizers ?? [])].filter((f) => !before.has(f)).sort();
  const out: string[] = [];
  for (const f of added) {
    const at = `metadata.finalizers: ${JSON.stringify(f)}`;
    for (const msg of isQualifiedName(f)) out.push(`${at}: ${msg}`);
    if (f.includes('/') || standardFinalizers.has(f)) continue;
    out.push(f.includes('.') ? `${at}: prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers` : `${at}: prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers`);
  }
  return out;
}
