// apiextensions.k8s.io/v1 CustomResourceDefinition: the declaration the generic registry serves
// (strategy: apiextensions-apiserver pkg/registry/customresourcedefinition/strategy.go; defaults:
// pkg/apis/apiextensions/v1/defaults.go). Serving the resources a CRD defines is the apiserver's
// CRD controller's job (apiserver/crd/).

import { defineResource, type PrinterColumn } from '../resource.js';
import { storageVersion } from './helpers.js';
import type { CustomResourceDefinition } from './types.js';
import { validateCustomResourceDefinition, validateCustomResourceDefinitionStatusUpdate, validateCustomResourceDefinitionUpdate } from './validation.js';

/** defaultCustomResourceDefinition is SetDefaults_CustomResourceDefinition. */
export function defaultCustomResourceDefinition(crd: CustomResourceDefinition): void {
  const spec = crd.spec;
  if (!spec || typeof spec !== 'object') return;
  const names = spec.names;
  if (names && typeof names === 'object') {
    if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
    if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  }
  spec.conversion ??= { strategy: 'None' };
  if (crd.status && !crd.status.storedVersions?.length) {
    const v = storageVersion(crd);
    if (v) crd.status.storedVersions = [v];
  }
}

/** recordStorageVersion adds the storage version to status.storedVersions (objects may now be stored in it). */
function recordStorageVersion(crd: CustomResourceDefinition): void {
  const v = storageVersion(crd);
  if (!v) return;
  const status = (crd.status ??= {});
  const stored = (status.storedVersions ??= []);
  if (!stored.includes(v)) stored.push(v);
}

/** crdColumns are the default table convertor's: NAME and CREATED AT (an RFC3339 time, not an age). */
const crdColumns: PrinterColumn<CustomResourceDefinition>[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (c) => c.metadata.name },
  { name: 'Created At', type: 'date', description: 'CreationTimestamp is the time the object was created, in RFC 3339 form.', cell: (c) => c.metadata.creationTimestamp },
];

export const customResourceDefinitions = defineResource<CustomResourceDefinition>({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  subresources: { status: true },
  hasGeneration: true,
  allowUnconditionalUpdate: false,
  printerColumns: crdColumns,
  defaults: defaultCustomResourceDefinition,
  prepareForCreate(crd) {
    crd.status = {};
    recordStorageVersion(crd);
  },
  prepareForUpdate(crd) {
    recordStorageVersion(crd);
  },
  validate: validateCustomResourceDefinition,
  validateUpdate: validateCustomResourceDefinitionUpdate,
  validateStatusUpdate: validateCustomResourceDefinitionStatusUpdate,
});
