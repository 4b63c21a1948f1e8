// What one served version of a CustomResourceDefinition becomes: a ResourceDefinition the generic
// registry serves like any built-in kind (names from status.acceptedNames, the schema's pruning,
// defaulting and validation as strategy hooks, additionalPrinterColumns as printer columns, the
// status and scale subresources, the OpenAPI schema `kubectl explain` reads), and the VersionView
// that stores its objects in the CRD's storage version (apiextensions-apiserver's crdHandler
// serving info, customresource strategy and table convertor).

import type { KubeObject } from '../../lib/api/meta.js';
import type { PrinterColumn, ResourceDefinition, ScaleSubresource } from '../../lib/api/resource.js';
import { type FieldError, invalidValue } from '../../lib/machinery/field-errors.js';
import { StatusError } from '../../lib/machinery/status.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../lib/machinery/validation.js';
import { canonicalJSON } from '../../lib/machinery/canonical.js';
import { age } from '../../lib/machinery/duration.js';
import { modelDocs } from '../openapi/docs.js';
import { metadataUnknownFields } from './metadata.js';
import { setOwn } from '../../lib/machinery/ownprops.js';
import { columnsForVersion, deprecationWarning, finalizerWarnings, schemaForVersion, storageVersion, subresourcesForVersion, versionOf } from '../../lib/api/apiextensions/helpers.js';
import {
  applyDefaults,
  compileSchema,
  goFloat,
  prune,
  pruneNonNullableNullsWithoutDefaults,
  sortKeysDeep,
  validateListSetsAndMaps,
  validateValue,
  type Structural,
} from '../../lib/api/apiextensions/schema.js';
import type { CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionNames, JSONSchemaProps } from '../../lib/api/apiextensions/types.js';
import { findResults, parseJSONPath } from './jsonpath.js';
import type { VersionView } from './storage.js';
import { isInteger, stringifyJSON } from '../../lib/machinery/json.js';

/** ServingState is what may change about a served CRD without rebuilding its stores. */
export interface ServingState {
  /** terminating: the CRD is being deleted; creates are refused while its objects are removed. */
  terminating: boolean;
}

/** customResourceVerbs are the verbs of every custom resource, in Kubernetes' discovery order. */
export const customResourceVerbs = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'] as const;

/** customResourcePatchTypes are the patch types custom resources take (no strategic merge patch). */
export const customResourcePatchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

/** acceptedNames are the names the CRD is served under (the naming controller's accepted ones). */
export function acceptedNames(crd: CustomResourceDefinition): CustomResourceDefinitionNames {
  const a = crd.status?.acceptedNames;
  return a?.plural ? a : crd.spec.names;
}

function structuralFor(crd: CustomResourceDefinition, version: string): Structural | undefined {
  const s = schemaForVersion(crd, version);
  return s ? compileSchema(s) : undefined;
}

function splitPath(jsonPath: string): string[] {
  return jsonPath.replace(/^\./, '').split('.');
}

/** goTypeName is Go's %T of a decoded JSON value. */
function goTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** goValue is Go's %v of a decoded JSON value (enough for accessor errors). */
function goValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : goFloat(v);
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return stringifyJSON(v);
}

/** nested reads a field as unstructured.NestedFieldNoCopy does, returning its accessor error text on a non-object in the way. */
function nested(obj: unknown, fields: string[]): { value?: unknown; found: boolean; err?: string } {
  let cur: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (cur === null || cur === undefined) return { found: false };
    if (typeof cur !== 'object' || Array.isArray(cur)) {
      return { found: false, err: `.${fields.slice(0, i + 1).join('.')} accessor error: ${goValue(cur)} is of the type ${goTypeName(cur)}, expected map[string]interface{}` };
    }
    const m = cur as Record<string, unknown>;
    if (!Object.hasOwn(m, fields[i])) return { found: false };
    cur = m[fields[i]];
  }
  return { value: cur, found: true };
}

/** replicasErrors is ValidateScaleSpec/ValidateScaleStatus for one replicas path. */
function replicasErrors(obj: KubeObject, jsonPath: string): FieldError[] {
  const fields = splitPath(jsonPath);
  const r = nested(obj, fields);
  if (r.err) return [invalidValue(jsonPath, 0, r.err)];
  if (!r.found || r.value === null) return [];
  if (!isInteger(r.value)) {
    return [invalidValue(jsonPath, 0, `.${fields.join('.')} accessor error: ${goValue(r.value)} is of the type ${goTypeName(r.value)}, expected int64`)];
  }
  if (r.value < 0) return [invalidValue(jsonPath, r.value, 'should be a non-negative integer')];
  if (r.value > 2147483647) return [invalidValue(jsonPath, r.value, 'should be less than or equal to 2147483647')];
  return [];
}

function labelSelectorErrors(obj: KubeObject, jsonPath: string | undefined): FieldError[] {
  if (!jsonPath) return [];
  const fields = splitPath(jsonPath);
  const r = nested(obj, fields);
  if (r.err) return [invalidValue(jsonPath, '', r.err)];
  if (r.found && r.value !== null && typeof r.value !== 'string') {
    return [invalidValue(jsonPath, '', `.${fields.join('.')} accessor error: ${goValue(r.value)} is of the type ${goTypeName(r.value)}, expected string`)];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// Printer columns

const metaDocs = () => modelDocs('V1ObjectMeta').fields;

/** servedColumns are a version's printer columns, or when it declares none an Age column from the creation time. */
function servedColumns(crd: CustomResourceDefinition, version: string): CustomResourceColumnDefinition[] {
  const cols = columnsForVersion(crd, version);
  if (cols.length) return cols;
  return [{ name: 'Age', type: 'date', description: metaDocs().get('creationTimestamp') ?? '', jsonPath: '.metadata.creationTimestamp' }];
}

/** printText is client-go jsonpath's PrintResults of one value: objects and lists as JSON, the rest as Go prints them. */
function printText(v: unknown): string {
  if (v !== null && typeof v === 'object') return stringifyJSON(v);
  if (v === null) return '<nil>';
  return goValue(v);
}

/** cellForJSONValue converts a found value to the column's type as the CR table convertor does; anything else is empty. */
export function cellForJSONValue(type: string, value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      if (typeof value === 'bigint') return value;
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      if (typeof value === 'bigint') return Number(value);
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'string':
      return printText(value);
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === '') return '<unknown>';
      const t = Date.parse(value);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) return '<invalid>';
      return age(value, now);
    }
  }
  return null;
}

/** printerColumnsFor builds the table of a served version: NAME, then the declared (or default) columns. */
export function printerColumnsFor(crd: CustomResourceDefinition, version: string): PrinterColumn[] {
  const cols: PrinterColumn[] = [{ name: 'Name', type: 'string', format: 'name', description: metaDocs().get('name') ?? '', cell: (o) => o.metadata.name }];
  for (const c of servedColumns(crd, version)) {
    let steps: ReturnType<typeof parseJSONPath> | undefined;
    try {
      steps = parseJSONPath(c.jsonPath);
    } catch {
      steps = undefined;
    }
    cols.push({
      name: c.name,
      type: c.type as PrinterColumn['type'],
      format: c.format,
      description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
      cell: (o, now) => {
        if (!steps) return null;
        const found = findResults(steps, o);
        return found.length ? cellForJSONValue(c.type, found[0], now) : null;
      },
    });
  }
  return cols;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

const objectMetaRef = '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** openAPISchemaFor is the kind's schema as /openapi/v3 publishes it: the CRD's, with apiVersion, kind and metadata filled in. */
export function openAPISchemaFor(schema: JSONSchemaProps | undefined): Record<string, unknown> {
  const s = structuredClone(schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as Record<string, unknown>;
  const props = { ...((s.properties as Record<string, unknown>) ?? {}) };
  props.apiVersion = {
    description: 'APIVersion defines the versioned schema of this representation of an object: the group and version the server uses for it.',
    type: 'string',
  };
  props.kind = { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' };
  props.metadata = { allOf: [{ $ref: objectMetaRef }], description: "Standard object's metadata." };
  s.properties = props;
  s.type = 'object';
  return s;
}

// ---------------------------------------------------------------------------------------------
// The definition

function nonMetadata(obj: KubeObject): string {
  const { metadata: _m, ...rest } = obj;
  return canonicalJSON(rest);
}

/**
 * customResourceDefinitionFor builds the ResourceDefinition of one served version. state is read
 * by the hooks on each request (a terminating CRD refuses creates).
 */
export function customResourceDefinitionFor(crd: CustomResourceDefinition, version: string, state: ServingState): ResourceDefinition {
  const names = acceptedNames(crd);
  const group = crd.spec.group;
  const namespaced = crd.spec.scope === 'Namespaced';
  const schema = structuralFor(crd, version);
  const statusSchema = schema?.properties?.get('status');
  const sub = subresourcesForVersion(crd, version);
  const hasStatus = !!sub?.status;
  const scale = sub?.scale;
  const preserveUnknownFields = crd.spec.preserveUnknownFields === true;
  const scaleSub: ScaleSubresource | undefined = scale
    ? { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath, labelSelectorPath: scale.labelSelectorPath }
    : undefined;
  const fieldSelectors: Record<string, (obj: KubeObject) => string | undefined> = {};
  for (const f of versionOf(crd, version)?.selectableFields ?? []) {
    const fields = splitPath(f.jsonPath);
    setOwn(fieldSelectors, fields.join('.'), (obj: KubeObject) => {
      const r = nested(obj, fields);
      return r.found && r.value !== null && r.value !== undefined ? goValue(r.value) : undefined;
    });
  }

  const validateSchema = (obj: KubeObject): FieldError[] => [
    ...validateObjectMeta(obj.metadata, namespaced, nameIsDNSSubdomain),
    ...(schema ? validateValue(schema, obj) : []),
    ...(scale ? [...replicasErrors(obj, scale.specReplicasPath), ...replicasErrors(obj, scale.statusReplicasPath), ...labelSelectorErrors(obj, scale.labelSelectorPath)] : []),
    ...validateListSetsAndMaps(schema, obj),
  ];

  return {
    group,
    version,
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    shortNames: names.shortNames,
    categories: names.categories,
    namespaced,
    verbs: customResourceVerbs,
    storageVersion: { group, version: storageVersion(crd) ?? version, kind: crd.spec.names.kind },
    deprecationWarning: deprecationWarning(crd, version),
    subresources: { status: hasStatus, scale: scaleSub },
    // Generation is kept by the hooks below: it moves when anything but metadata changes.
    hasGeneration: false,
    printerColumns: printerColumnsFor(crd, version),
    fieldSelectors: Object.keys(fieldSelectors).length ? fieldSelectors : undefined,
    defaults(obj) {
      // Decoding a custom resource: unknown fields pruned, then defaults applied (schemaCoercingDecoder, unstructuredDefaulter).
      if (!preserveUnknownFields) {
        prune(obj, schema, true);
        pruneNonNullableNullsWithoutDefaults(obj, schema);
      }
      metadataUnknownFields(obj, true);
      applyDefaults(obj, schema);
    },
    prepareForCreate(obj) {
      if (state.terminating) {
        throw new StatusError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating', { group, kind: names.plural });
      }
      if (hasStatus) delete obj.status;
      obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old) {
      const gen = old.metadata.generation ?? 1;
      obj.metadata.generation = nonMetadata(obj) === nonMetadata(old) ? gen : gen + 1;
    },
    prepareForStatusUpdate(obj, old) {
      obj.metadata.generation = old.metadata.generation ?? 1;
    },
    validate: validateSchema,
    warningsOnCreate: (obj) => finalizerWarnings(obj),
    warningsOnUpdate: (obj, old) => finalizerWarnings(obj, old),
    validateStatusUpdate(obj, old) {
      const errs: FieldError[] = [];
      if (obj.status !== undefined && statusSchema) errs.push(...validateValue(statusSchema, obj.status, 'status'));
      if (scale) errs.push(...replicasErrors(obj, scale.statusReplicasPath), ...labelSelectorErrors(obj, scale.labelSelectorPath));
      // List uniqueness is only enforced when the old object kept it (ratcheting).
      const lists = validateListSetsAndMaps(schema, obj);
      if (lists.length && !validateListSetsAndMaps(schema, old).length) errs.push(...lists);
      return errs;
    },
    schema: openAPISchemaFor(schemaForVersion(crd, version)),
    patchTypes: customResourcePatchTypes,
    allowUnconditionalUpdate: false,
    unknownFields(obj) {
      if (preserveUnknownFields || obj === null || typeof obj !== 'object') return [];
      const copy = structuredClone(obj) as KubeObject;
      return [...prune(copy, schema, true), ...metadataUnknownFields(copy, false)];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Storage

/**
 * versionViewFor converts between the stored objects of a CRD and one served version, as
 * kube-apiserver's storage codec does. A stored object is pruned and defaulted with the schema of
 * the version it was stored in, given the served apiVersion (conversion None), and pruned again
 * with the served version's schema; a written object is given the storage apiVersion and pruned
 * with the storage version's schema. Both ways, keys are in Go's sorted map order, as
 * kube-apiserver serializes unstructured objects.
 */
export function versionViewFor(crd: CustomResourceDefinition, version: string): VersionView {
  const group = crd.spec.group;
  const storageName = storageVersion(crd) ?? version;
  const storageAPIVersion = `${group}/${storageName}`;
  const servedAPIVersion = `${group}/${version}`;
  const preserve = crd.spec.preserveUnknownFields === true;
  const schemaOf = (apiVersion: unknown): Structural | undefined => {
    if (typeof apiVersion !== 'string' || !apiVersion.startsWith(`${group}/`)) return undefined;
    return structuralFor(crd, apiVersion.slice(group.length + 1));
  };
  const servedSchema = structuralFor(crd, version);
  const storageSchema = structuralFor(crd, storageName);
  const coerce = (obj: KubeObject, schema: Structural | undefined) => {
    if (!schema || preserve) return;
    prune(obj, schema, true);
    pruneNonNullableNullsWithoutDefaults(obj, schema);
  };
  return {
    toStorage: (obj) => {
      const out = { ...obj, apiVersion: storageAPIVersion };
      if (storageName === version) return sortKeysDeep(out);
      const copy = structuredClone(out);
      coerce(copy, storageSchema);
      return sortKeysDeep(copy);
    },
    fromStorage: (stored) => {
      const obj = structuredClone(stored);
      const schema = schemaOf(stored.apiVersion);
      coerce(obj, schema);
      applyDefaults(obj, schema);
      if (obj.apiVersion !== servedAPIVersion) {
        obj.apiVersion = servedAPIVersion;
        coerce(obj, servedSchema);
      }
      return sortKeysDeep(obj);
    },
  };
}
