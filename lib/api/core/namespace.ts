// core/v1 Namespace: cluster-scoped, named by a DNS label, born Active with the "kubernetes"
// finalizer that the namespace controller removes once the namespace is emptied. Termination
// itself (phase Terminating, deleting the contents) is the registry's and controller's work.

import { type FieldError, Path, invalidValue } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isQualifiedName, validateObjectMeta } from '../../machinery/validation.js';
import type { Condition, KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { nameIsDNSLabel } from './validation.js';

export const NamespacePhase = { Active: 'Active', Terminating: 'Terminating' } as const;
export type NamespacePhase = (typeof NamespacePhase)[keyof typeof NamespacePhase];

/** FinalizerKubernetes is the spec finalizer every namespace starts with. */
export const FinalizerKubernetes = 'kubernetes';
/** LabelMetadataName is the label that always carries the namespace's own name. */
export const LabelMetadataName = 'kubernetes.io/metadata.name';

export interface NamespaceSpec {
  finalizers?: string[];
}

export interface NamespaceStatus {
  phase?: string;
  conditions?: Condition[];
}

/** Namespace is core/v1 Namespace. */
export interface Namespace extends KubeObject {
  spec?: NamespaceSpec;
  status?: NamespaceStatus;
}

/** isNamespaceTerminating: the namespace is being deleted and accepts no new objects. */
export function isNamespaceTerminating(ns: Namespace): boolean {
  return !!ns.metadata.deletionTimestamp || ns.status?.phase === NamespacePhase.Terminating;
}

function setNameLabel(ns: Namespace): void {
  // A generateName namespace has no name yet at defaulting time; prepareForCreate labels it.
  if (!ns.metadata?.name) return;
  ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [LabelMetadataName]: ns.metadata.name };
}

/** defaultNamespace is SetDefaults_Namespace and SetDefaults_NamespaceStatus. */
export function defaultNamespace(ns: Namespace): void {
  setNameLabel(ns);
  ns.status ??= {};
  if (!ns.status.phase) ns.status.phase = NamespacePhase.Active;
}

function prepareForCreate(ns: Namespace): void {
  ns.status = { phase: NamespacePhase.Active };
  ns.spec ??= {};
  const finalizers = ns.spec.finalizers ?? [];
  if (!finalizers.includes(FinalizerKubernetes)) ns.spec.finalizers = [...finalizers, FinalizerKubernetes];
  setNameLabel(ns);
}

function prepareForUpdate(ns: Namespace, old: Namespace): void {
  // Spec finalizers change only through the /finalize subresource.
  ns.spec = { ...(ns.spec ?? {}) };
  if (old.spec?.finalizers) ns.spec.finalizers = [...old.spec.finalizers];
  else delete ns.spec.finalizers;
  ns.status = structuredClone(old.status ?? {});
  setNameLabel(ns);
}

function prepareForStatusUpdate(ns: Namespace, old: Namespace): void {
  ns.spec = structuredClone(old.spec ?? {});
}

/** validateFinalizerName accepts qualified names; an unqualified one must be a standard finalizer. */
export function validateFinalizerName(name: string, path: Path): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalidValue(path, name, m));
  if (!name.includes('/') && name !== FinalizerKubernetes) {
    errs.push(invalidValue(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
  // Kubernetes reports these without an index.
  for (const f of ns.spec?.finalizers ?? []) errs.push(...validateFinalizerName(f, new Path('spec').child('finalizers')));
  return errs;
}

function validateNamespaceStatusUpdate(ns: Namespace): FieldError[] {
  const phasePath = new Path('status').child('Phase');
  const phase = ns.status?.phase ?? '';
  if (!ns.metadata.deletionTimestamp) {
    if (phase !== NamespacePhase.Active) return [invalidValue(phasePath, phase, "may only be 'Active' if `deletionTimestamp` is empty")];
  } else if (phase !== NamespacePhase.Terminating) {
    return [invalidValue(phasePath, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
  }
  return [];
}

export const namespaces = defineResource<Namespace>({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: { status: true },
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (n) => n.metadata.name },
    { name: 'Status', type: 'string', description: 'The status of the namespace', cell: (n) => n.status?.phase ?? '' },
    { name: 'Age', type: 'string', cell: (n, now) => age(n.metadata.creationTimestamp, now) },
  ],
  fieldSelectors: {
    'status.phase': (n) => n.status?.phase ?? '',
    // Kubernetes has always accepted a bare `name` for namespaces; kept for compatibility.
    name: (n) => n.metadata.name ?? '',
  },
  defaults: defaultNamespace,
  prepareForCreate,
  prepareForUpdate,
  prepareForStatusUpdate,
  validate: validateNamespace,
  validateStatusUpdate: validateNamespaceStatusUpdate,
});
