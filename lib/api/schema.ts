// OpenAPI v3 schemas for the built-in kinds, derived from @kubernetes/client-node's generated models
// rather than written per kind. Every model class there carries `attributeTypeMap` (JSON name, TS
// type, format); this file turns that into the component schemas kube-apiserver publishes under
// /openapi/v3: the same definition names (`io.k8s.api.apps.v1.Deployment`), the same `allOf: [$ref]`
// wrapping of nested structs, and the Kubernetes extensions clients act on — the patch strategy
// and merge key `kubectl apply` uses for strategic merge patches, list types and map keys for
// server-side apply, `x-kubernetes-group-version-kind` for `kubectl explain`.
//
// The models do not say which Go package a type lives in, which fields are Quantities or raw JSON,
// or what the Go struct tags say about lists; those facts are carried below as tables keyed by
// model and field, taken from kubernetes/api v0.32 (struct tags `patchStrategy`/`patchMergeKey`,
// markers `+listType`, `+listMapKey`, `+mapType`, `+structType`, `+optional`).
//
// The same walk compiles a "known fields" tree (fieldsOf) that the apiserver's strict decoding uses
// to find unknown fields without building a schema.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Only the generated models, not the whole client: a third of the load time.
import * as clientNode from '@kubernetes/client-node/dist/gen/models/all.js';

/** Attribute is one entry of a client-node model's `attributeTypeMap`. */
export interface Attribute {
  /** name is the TypeScript property name. */
  name: string;
  /** baseName is the JSON field name. */
  baseName: string;
  type: string;
  format: string;
}

const modelClasses = clientNode as unknown as Record<string, unknown>;

/** modelAttributes returns a client-node model's attributes, or undefined when there is no such model. */
export function modelAttributes(model: string): readonly Attribute[] | undefined {
  const cls = modelClasses[model];
  if (typeof cls !== 'function') return undefined;
  const attrs = (cls as { attributeTypeMap?: unknown }).attributeTypeMap;
  return Array.isArray(attrs) ? (attrs as Attribute[]) : undefined;
}

/**
 * servedAttributes is modelAttributes without the fields client-node's models (generated from
 * Kubernetes 1.36) have but Kubernetes v1.32 does not serve: v1.32 rejects them as unknown fields
 * and does not publish them, so neither does skiff.
 */
export function servedAttributes(model: string): readonly Attribute[] {
  const attrs = modelAttributes(model) ?? [];
  const newer = fieldsAfterV132[model];
  if (!newer) return attrs;
  const drop = new Set(newer.split(' '));
  return attrs.filter((a) => !drop.has(a.baseName));
}

// ---------------------------------------------------------------------------------------------
// Model types

/** TypeRef is a parsed attribute type. */
export type TypeRef =
  | { kind: 'model'; model: string }
  | { kind: 'array'; items: TypeRef }
  | { kind: 'map'; values: TypeRef }
  | { kind: 'string' | 'number' | 'boolean' | 'time' | 'microTime' | 'intOrString'; format: string }
  | { kind: 'any' };

/** parseType reads client-node's type strings: `Array<V1Container>`, `{ [key: string]: string; }`, … */
export function parseType(type: string, format = ''): TypeRef {
  const t = type.trim();
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { kind: 'array', items: parseType(arr[1], format) };
  const map = /^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/.exec(t);
  if (map) return { kind: 'map', values: parseType(map[1], format) };
  switch (t) {
    case 'string':
      return { kind: 'string', format };
    case 'number':
      return { kind: 'number', format };
    case 'boolean':
      return { kind: 'boolean', format };
    case 'Date':
      return { kind: 'time', format };
    case 'V1MicroTime':
      return { kind: 'microTime', format };
    case 'IntOrString':
      return { kind: 'intOrString', format };
    case 'any':
    case 'object':
      return { kind: 'any' };
  }
  return modelAttributes(t) ? { kind: 'model', model: t } : { kind: 'any' };
}

// ---------------------------------------------------------------------------------------------
// Definition names

/** GroupVersionKind names a kind the way `x-kubernetes-group-version-kind` does. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/**
 * groupPackages maps an API group to the package prefix of its OpenAPI definition names. Groups
 * not listed follow Kubernetes' rule for in-tree groups: `io.k8s.api.<first label of the group>`.
 */
const groupPackages: Record<string, string> = {
  '': 'io.k8s.api.core',
  'internal.apiserver.k8s.io': 'io.k8s.api.apiserverinternal',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
};

const metaPackage = 'io.k8s.apimachinery.pkg.apis.meta';
/** Definition names of the apimachinery types that have no client-node model of their own. */
export const QuantityDefinition = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const IntOrStringDefinition = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const TimeDefinition = `${metaPackage}.v1.Time`;
export const MicroTimeDefinition = `${metaPackage}.v1.MicroTime`;
export const RawExtensionDefinition = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
export const FieldsV1Definition = `${metaPackage}.v1.FieldsV1`;
export const PatchDefinition = `${metaPackage}.v1.Patch`;

/** groupPackage returns the definition-name package of a group, e.g. `io.k8s.api.apps`. */
export function groupPackage(group: string): string {
  return groupPackages[group] ?? `io.k8s.api.${group.split('.')[0]}`;
}

/**
 * groupPrefixes: client-node prefixes a model with its group when two groups define the same type
 * name (`CoreV1Event`, `EventsV1Event`). The prefix is the capitalised first label of the group.
 */
const groupPrefixes: Record<string, string> = {
  Core: '',
  Apps: 'apps',
  Batch: 'batch',
  Discovery: 'discovery.k8s.io',
  Events: 'events.k8s.io',
  Rbac: 'rbac.authorization.k8s.io',
  Flowcontrol: 'flowcontrol.apiserver.k8s.io',
  Admissionregistration: 'admissionregistration.k8s.io',
  Apiextensions: 'apiextensions.k8s.io',
  Apiregistration: 'apiregistration.k8s.io',
  Authentication: 'authentication.k8s.io',
  Storage: 'storage.k8s.io',
  Resource: 'resource.k8s.io',
  Storagemigration: 'storagemigration.k8s.io',
  Networking: 'networking.k8s.io',
  Policy: 'policy',
};

/** metaTypes are the k8s.io/apimachinery meta/v1 types every group shares. */
const metaTypes = new Set(
  (
    'ObjectMeta ListMeta OwnerReference ManagedFieldsEntry LabelSelector LabelSelectorRequirement ' +
    'FieldSelectorRequirement Condition Status StatusDetails StatusCause DeleteOptions Preconditions ' +
    'WatchEvent APIResource APIResourceList APIGroup APIGroupList APIVersions GroupVersionForDiscovery ' +
    'ServerAddressByClientCIDR ShardInfo'
  ).split(' '),
);

/**
 * coreTypesUsedElsewhere are the core/v1 types other groups' types embed (a Deployment's pod
 * template, a StatefulSet's claim templates, a Job's ObjectReferences, …). Every other nested type
 * lives in the package of the type that holds it.
 */
const coreTypesUsedElsewhere = new Set(
  'PodTemplateSpec PersistentVolumeClaim PersistentVolumeSpec ObjectReference EventSource Toleration TopologySelectorTerm TypedLocalObjectReference'.split(' '),
);

const kindGroup = new Map<string, string>();
for (const [group, kinds] of Object.entries(kindsByGroup())) for (const k of kinds.split(' ')) kindGroup.set(k, group);

/** ModelName is a client-node model name split into its parts: `EventsV1Event` → events.k8s.io, v1, Event. */
export interface ModelName {
  prefixGroup?: string;
  version: string;
  type: string;
}

const modelNameRE = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;

/** splitModelName parses a client-node model name, or returns undefined for names that are not `V1Foo`-shaped. */
export function splitModelName(model: string): ModelName | undefined {
  const m = modelNameRE.exec(model);
  if (!m) return undefined;
  const [, prefix, ver, type] = m;
  const version = ver.toLowerCase();
  if (prefix === undefined) return { version, type };
  const group = groupPrefixes[prefix];
  // Names like `V1Foo` whose type happens to start with a word are not prefixed.
  if (group === undefined) return { version, type: prefix + type };
  return { prefixGroup: group, version, type };
}

/**
 * groupOfModel says which API group's package defines a model: its client-node prefix, the meta
 * package, the group of a known kind, core for the few core types other groups embed, or else the
 * group of the type that refers to it. Without a referrer, the group is the one whose kinds reach
 * the model.
 */
export function groupOfModel(model: string, referrerGroup?: string): string | 'meta' {
  const n = splitModelName(model);
  if (!n) return referrerGroup ?? '';
  if (n.prefixGroup !== undefined) return n.prefixGroup;
  if (metaTypes.has(n.type)) return 'meta';
  const kg = kindGroup.get(n.type) ?? (n.type.endsWith('List') ? kindGroup.get(n.type.slice(0, -4)) : undefined);
  if (kg !== undefined) return kg;
  if (coreTypesUsedElsewhere.has(n.type)) return '';
  if (referrerGroup !== undefined) return referrerGroup;
  return homeGroups().get(model) ?? '';
}

let homeGroupCache: Map<string, string> | undefined;

/** homeGroups maps every model reachable from a known kind to that kind's group (computed once). */
function homeGroups(): Map<string, string> {
  if (homeGroupCache) return homeGroupCache;
  const home = new Map<string, string>();
  const visit = (model: string, group: string): void => {
    if (home.has(model)) return;
    const g = groupOfModel(model, group);
    if (g === 'meta') return;
    home.set(model, g);
    for (const a of servedAttributes(model)) for (const m of modelsIn(parseType(a.type))) visit(m, g);
  };
  const kinds: [string, string][] = [];
  for (const m of Object.keys(modelClasses)) {
    const gvk = modelAttributes(m) ? kindOfModel(m) : undefined;
    if (gvk && !metaKinds.has(gvk.kind)) kinds.push([m, gvk.group]);
  }
  // Core first, so a type both core and another group reach is filed under core.
  kinds.sort(([, a], [, b]) => Number(a !== '') - Number(b !== ''));
  for (const [k, g] of kinds) visit(k, g);
  homeGroupCache = home;
  return home;
}

function modelsIn(t: TypeRef): string[] {
  switch (t.kind) {
    case 'model':
      return [t.model];
    case 'array':
      return modelsIn(t.items);
    case 'map':
      return modelsIn(t.values);
    default:
      return [];
  }
}

/** definitionName is the OpenAPI definition name of a model: `io.k8s.api.apps.v1.Deployment`. */
export function definitionName(model: string, referrerGroup?: string): string {
  const n = splitModelName(model);
  if (!n) return model;
  const group = groupOfModel(model, referrerGroup);
  const pkg = group === 'meta' ? metaPackage : groupPackage(group);
  return `${pkg}.${n.version}.${n.type}`;
}

/** metaKinds are the meta/v1 types that are kinds of their own (served by every group). */
const metaKinds = new Set('Status DeleteOptions WatchEvent APIResourceList APIGroup APIGroupList APIVersions'.split(' '));

/** kindOfModel returns the GVK of a model that is a top-level kind (or its list), else undefined. */
export function kindOfModel(model: string): GroupVersionKind | undefined {
  const n = splitModelName(model);
  if (!n) return undefined;
  if (metaTypes.has(n.type)) return metaKinds.has(n.type) ? { group: '', version: 'v1', kind: n.type } : undefined;
  const isKind = n.prefixGroup !== undefined ? modelAttributes(model)?.some((a) => a.baseName === 'kind') && modelAttributes(model)?.some((a) => a.baseName === 'metadata') : kindGroup.has(n.type.replace(/List$/, '')) || kindGroup.has(n.type);
  if (!isKind) return undefined;
  const group = groupOfModel(model);
  return { group: group === 'meta' ? '' : group, version: n.version, kind: n.type };
}

/**
 * modelNameFor names the client-node model of a kind: `V1Deployment`, or the group-prefixed form
 * client-node uses when two groups share a kind name (`CoreV1Event`, `EventsV1Event`).
 */
export function modelNameFor(group: string, version: string, kind: string): string | undefined {
  const ver = version[0].toUpperCase() + version.slice(1);
  const prefix = Object.entries(groupPrefixes).find(([, g]) => g === group)?.[0];
  const prefixed = prefix !== undefined ? `${prefix}${ver}${kind}` : undefined;
  if (prefixed && modelAttributes(prefixed)) return prefixed;
  const plain = `${ver}${kind}`;
  if (modelAttributes(plain) && groupOfModel(plain) === group) return plain;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Field facts

/** FieldMarkers are the list/patch extensions of one field, as the OpenAPI document spells them. */
export interface FieldMarkers {
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

let markerCache: Map<string, Map<string, FieldMarkers>> | undefined;

/** parseMarkers reads the compact notation of listAndPatchMarkers: `merge:name retainKeys map:name`. */
function parseMarkers(text: string): FieldMarkers {
  const m: FieldMarkers = {};
  const strategies: string[] = [];
  for (const tok of text.split(' ')) {
    const [word, arg] = tok.split(':');
    switch (word) {
      case 'merge':
        strategies.push('merge');
        if (arg) m['x-kubernetes-patch-merge-key'] = arg;
        break;
      case 'retainKeys':
        strategies.push('retainKeys');
        break;
      case 'map':
        m['x-kubernetes-list-type'] = 'map';
        m['x-kubernetes-list-map-keys'] = arg.split(',');
        break;
      case 'atomic':
      case 'set':
        m['x-kubernetes-list-type'] = word;
        break;
      case 'mapType':
        m['x-kubernetes-map-type'] = arg as 'atomic' | 'granular';
        break;
    }
  }
  if (strategies.length) m['x-kubernetes-patch-strategy'] = strategies.join(',');
  return m;
}

/** fieldMarkers returns the list/patch extensions Kubernetes sets on a model's field, if any. */
export function fieldMarkers(model: string, field: string): FieldMarkers | undefined {
  if (!markerCache) {
    markerCache = new Map();
    for (const [m, fields] of Object.entries(listAndPatchMarkers)) {
      markerCache.set(m, new Map(Object.entries(fields).map(([f, text]) => [f, parseMarkers(text)])));
    }
  }
  return markerCache.get(model)?.get(field);
}

/** requiredFieldsOf lists the JSON fields Kubernetes marks required on a model. */
export function requiredFieldsOf(model: string): string[] {
  const r = requiredFields[model];
  return r ? r.split(' ') : [];
}

/** isQuantityField says whether a model's field holds Quantities (a Quantity, or a map or list of them). */
export function isQuantityField(model: string, field: string): boolean {
  return referencedFields[model]?.[field] === 'Quantity';
}

/** referencedDefinition returns the definition a Quantity or raw-JSON field refers to, if it is one. */
function referencedDefinition(model: string, field: string): string | undefined {
  switch (referencedFields[model]?.[field]) {
    case 'Quantity':
      return QuantityDefinition;
    case 'RawExtension':
      return RawExtensionDefinition;
    case 'FieldsV1':
      return FieldsV1Definition;
  }
  // client-node types a few raw-JSON fields as `any` that the table does not list (newer fields).
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Descriptions

let modelsDir: string | undefined | null;

/** docsDir locates client-node's generated model declarations, whose doc comments hold the field descriptions. */
function docsDir(): string | undefined {
  if (modelsDir === undefined) {
    try {
      modelsDir = fileURLToPath(new URL('./', import.meta.resolve('@kubernetes/client-node/dist/gen/models/all.js')));
    } catch {
      modelsDir = null;
    }
  }
  return modelsDir ?? undefined;
}

/** ModelDocs are the descriptions of a model and its fields (by TypeScript property name). */
export interface ModelDocs {
  description?: string;
  fields: Map<string, string>;
}

const docsCache = new Map<string, ModelDocs>();

function unescapeDoc(lines: string[]): string {
  return lines
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .join('\n')
    .trim()
    .replace(/\\(['"\\])/g, '$1');
}

/**
 * modelDocs reads the descriptions client-node keeps as doc comments in its `.d.ts` files (the
 * OpenAPI text Kubernetes generated them from), so `kubectl explain` has something to print.
 * Missing files give empty docs: descriptions are a courtesy, never required.
 */
export function modelDocs(model: string): ModelDocs {
  const cached = docsCache.get(model);
  if (cached) return cached;
  const docs: ModelDocs = { fields: new Map() };
  docsCache.set(model, docs);
  const dir = docsDir();
  if (!dir || !/^\w+$/.test(model)) return docs;
  let text: string;
  try {
    text = readFileSync(`${dir}${model}.d.ts`, 'utf8');
  } catch {
    return docs;
  }
  const lines = text.split('\n');
  let comment: string[] | undefined;
  let inComment = false;
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('/**')) {
      inComment = true;
      comment = [];
      const rest = t.slice(3).replace(/\*\/$/, '');
      if (rest.trim()) comment.push(rest);
      if (t.endsWith('*/') && t.length > 3) inComment = false;
      continue;
    }
    if (inComment) {
      if (t.endsWith('*/')) {
        inComment = false;
        const rest = t.replace(/\*\/$/, '');
        if (rest.trim() && rest.trim() !== '*') comment!.push(rest);
      } else comment!.push(t);
      continue;
    }
    if (t.startsWith('export declare class')) {
      if (comment?.length) docs.description = unescapeDoc(comment);
      comment = undefined;
      continue;
    }
    const prop = /^'([^']+)'\??:/.exec(t);
    if (prop && /^ {4}'/.test(line)) {
      if (comment?.length) docs.fields.set(prop[1], unescapeDoc(comment));
      comment = undefined;
      continue;
    }
    if (t) comment = undefined;
  }
  return docs;
}

// ---------------------------------------------------------------------------------------------
// Schemas

/** Schema is an OpenAPI v3 schema object (plain JSON). */
export type Schema = Record<string, unknown>;

/** SchemaOptions tune openAPISchemaFor. */
export interface SchemaOptions {
  /** descriptions copies client-node's doc comments into the schemas (default true). */
  descriptions?: boolean;
  /** group of the kind the walk starts from, when the model name alone does not say it. */
  group?: string;
}

const ref = (definition: string) => `#/components/schemas/${definition}`;

/** apimachinerySchemas are the definitions with no client-node model: scalars with custom JSON forms. */
function apimachinerySchema(definition: string): Schema {
  switch (definition) {
    case QuantityDefinition:
      return {
        description: 'Quantity is a fixed-point representation of a number, serialized as a string such as "100m", "1Gi" or "2".',
        oneOf: [{ type: 'string' }, { type: 'number' }],
      };
    case IntOrStringDefinition:
      return {
        description: 'IntOrString is a type that can hold an int32 or a string.',
        format: 'int-or-string',
        oneOf: [{ type: 'integer' }, { type: 'string' }],
      };
    case TimeDefinition:
      return { description: 'Time is a timestamp serialized in RFC 3339 form with second precision.', format: 'date-time', type: 'string' };
    case MicroTimeDefinition:
      return { description: 'MicroTime is a timestamp serialized in RFC 3339 form with microsecond precision.', format: 'date-time', type: 'string' };
    case RawExtensionDefinition:
      return { description: 'RawExtension holds an embedded object whose schema is not known here.', type: 'object' };
    case FieldsV1Definition:
      return { description: 'FieldsV1 stores a set of fields in a trie-like structure, in JSON format.', type: 'object' };
    case PatchDefinition:
      return { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' };
  }
  return { type: 'object' };
}

interface Walk {
  schemas: Record<string, Schema>;
  descriptions: boolean;
}

function wrapRef(definition: string, extra: Schema = {}): Schema {
  return { allOf: [{ $ref: ref(definition) }], ...extra };
}

function addApimachinery(w: Walk, definition: string): void {
  if (!w.schemas[definition]) w.schemas[definition] = apimachinerySchema(definition);
}

/**
 * valueSchema is the schema of a value of type t found in a field of `model`, as an array item or
 * map value (`nested`) or as the field itself. Struct values in lists and maps carry `default: {}`
 * and strings `default: ""`, as Kubernetes' generator emits for non-pointer Go element types.
 */
function valueSchema(w: Walk, t: TypeRef, model: string, field: string, group: string, nested: boolean): Schema {
  const refDef = referencedDefinition(model, field);
  switch (t.kind) {
    case 'array':
      return { type: 'array', items: valueSchema(w, t.items, model, field, group, true) };
    case 'map':
      return { type: 'object', additionalProperties: valueSchema(w, t.values, model, field, group, true) };
    case 'model': {
      const def = addModel(w, t.model, group);
      return nested ? wrapRef(def, { default: {} }) : wrapRef(def);
    }
    case 'string':
      if (refDef === QuantityDefinition) {
        addApimachinery(w, QuantityDefinition);
        return nested ? { $ref: ref(QuantityDefinition) } : wrapRef(QuantityDefinition);
      }
      return { ...(nested ? { default: '' } : {}), ...(t.format ? { format: t.format } : {}), type: 'string' };
    case 'number':
      if (t.format === 'int32' || t.format === 'int64') return { ...(nested ? { default: 0 } : {}), format: t.format, type: 'integer' };
      return { ...(nested ? { default: 0 } : {}), ...(t.format ? { format: t.format } : {}), type: 'number' };
    case 'boolean':
      return { ...(nested ? { default: false } : {}), type: 'boolean' };
    case 'time':
      addApimachinery(w, TimeDefinition);
      return wrapRef(TimeDefinition);
    case 'microTime':
      addApimachinery(w, MicroTimeDefinition);
      return wrapRef(MicroTimeDefinition);
    case 'intOrString':
      addApimachinery(w, IntOrStringDefinition);
      return wrapRef(IntOrStringDefinition);
    case 'any':
      if (refDef) {
        addApimachinery(w, refDef);
        return wrapRef(refDef);
      }
      return { 'x-kubernetes-preserve-unknown-fields': true };
  }
}

/** addModel adds a model's schema (and everything it reaches) to the walk; returns its definition name. */
function addModel(w: Walk, model: string, referrerGroup: string | undefined): string {
  const def = definitionName(model, referrerGroup);
  if (w.schemas[def]) return def;
  const group = groupOfModel(model, referrerGroup);
  const ownGroup = group === 'meta' ? (referrerGroup ?? '') : group;
  const schema: Schema = { type: 'object' };
  w.schemas[def] = schema; // placed before the walk so recursive types (JSONSchemaProps) terminate
  const docs = w.descriptions ? modelDocs(model) : undefined;
  if (docs?.description) schema.description = docs.description;
  const properties: Record<string, Schema> = {};
  for (const a of [...servedAttributes(model)].sort((x, y) => (x.baseName < y.baseName ? -1 : x.baseName > y.baseName ? 1 : 0))) {
    const p = valueSchema(w, parseType(a.type, a.format), model, a.baseName, ownGroup, false);
    const text = docs?.fields.get(a.name);
    if (text) p.description = text;
    const markers = fieldMarkers(model, a.baseName);
    // A list marker on a non-list field (meta/v1 Status.details has one) says nothing about it.
    if (markers) for (const [k, v] of Object.entries(markers)) if (p.type === 'array' || !k.startsWith('x-kubernetes-list')) p[k] = v;
    properties[a.baseName] = p;
  }
  if (Object.keys(properties).length) schema.properties = properties;
  const req = requiredFieldsOf(model).filter((f) => f in properties);
  if (req.length) schema.required = req;
  if (atomicStructs.has(model)) schema['x-kubernetes-map-type'] = 'atomic';
  const union = unions[model];
  if (union) schema['x-kubernetes-unions'] = [{ discriminator: union.discriminator, 'fields-to-discriminateBy': union.fields }];
  const gvk = kindOfModel(model);
  if (gvk) schema['x-kubernetes-group-version-kind'] = [gvk];
  return def;
}

/**
 * openAPISchemaFor builds the OpenAPI v3 component schemas of a client-node model and of every
 * type it reaches, under Kubernetes' definition names.
 */
export function openAPISchemaFor(modelName: string, opts: SchemaOptions = {}): { root: string; schemas: Record<string, Schema> } {
  if (!modelAttributes(modelName)) throw new Error(`openAPISchemaFor: no client-node model named ${modelName}`);
  const w: Walk = { schemas: {}, descriptions: opts.descriptions ?? true };
  const root = addModel(w, modelName, opts.group);
  return { root, schemas: w.schemas };
}

/** addSchemasFor adds a model's schemas into an existing set (shared walk for a whole group/version). */
export function addSchemasFor(schemas: Record<string, Schema>, modelName: string, opts: SchemaOptions = {}): string {
  return addModel({ schemas, descriptions: opts.descriptions ?? true }, modelName, opts.group);
}

/** apimachinerySchemaFor returns the schema of an apimachinery definition that has no model (Patch, Quantity, …). */
export function apimachinerySchemaFor(definition: string): Schema {
  return apimachinerySchema(definition);
}

// ---------------------------------------------------------------------------------------------
// Known fields

/** FieldType is what strict decoding needs to know about a field: where to look further, if at all. */
export type FieldType =
  | { kind: 'object'; model: string }
  | { kind: 'array'; items: FieldType }
  | { kind: 'map'; values: FieldType }
  /** scalar: strings, numbers, booleans, times, IntOrString, Quantity — nothing inside to check. */
  | { kind: 'scalar' }
  /** raw: RawExtension, FieldsV1, JSON — kept verbatim, so any content is accepted. */
  | { kind: 'raw' };

/** ModelFields are the known JSON fields of one model. */
export interface ModelFields {
  readonly model: string;
  readonly fields: ReadonlyMap<string, FieldType>;
}

const fieldsCache = new Map<string, ModelFields>();

function fieldType(t: TypeRef): FieldType {
  switch (t.kind) {
    case 'model':
      return { kind: 'object', model: t.model };
    case 'array':
      return { kind: 'array', items: fieldType(t.items) };
    case 'map':
      return { kind: 'map', values: fieldType(t.values) };
    case 'any':
      return { kind: 'raw' };
    default:
      return { kind: 'scalar' };
  }
}

/**
 * fieldsOf compiles (once, then cached) the known JSON fields of a model. Nested models are
 * referenced by name and compiled when first looked at, so recursive types cost nothing up front.
 */
export function fieldsOf(modelName: string): ModelFields {
  let mf = fieldsCache.get(modelName);
  if (!mf) {
    const fields = new Map<string, FieldType>();
    for (const a of servedAttributes(modelName)) fields.set(a.baseName, fieldType(parseType(a.type, a.format)));
    mf = { model: modelName, fields };
    fieldsCache.set(modelName, mf);
  }
  return mf;
}

// ---------------------------------------------------------------------------------------------
// Tables (kubernetes/api v0.32). Keys are client-node model names.

/** kindsByGroup lists the top-level kinds of the stable built-in groups (List kinds are implied). */
function kindsByGroup(): Record<string, string> {
  return {
    '': 'PersistentVolume PersistentVolumeClaim Pod PodTemplate ReplicationController Service ServiceAccount Endpoints Node Namespace Binding Event LimitRange ResourceQuota Secret ConfigMap ComponentStatus',
    apps: 'StatefulSet Deployment DaemonSet ReplicaSet ControllerRevision',
    batch: 'Job CronJob',
    autoscaling: 'HorizontalPodAutoscaler Scale',
    policy: 'PodDisruptionBudget Eviction',
    'networking.k8s.io': 'NetworkPolicy Ingress IngressClass',
    'rbac.authorization.k8s.io': 'Role RoleBinding ClusterRole ClusterRoleBinding',
    'coordination.k8s.io': 'Lease',
    'discovery.k8s.io': 'EndpointSlice',
    'events.k8s.io': 'Event',
    'storage.k8s.io': 'StorageClass VolumeAttachment CSIDriver CSINode CSIStorageCapacity',
    'scheduling.k8s.io': 'PriorityClass',
    'node.k8s.io': 'RuntimeClass',
    'certificates.k8s.io': 'CertificateSigningRequest',
    'authentication.k8s.io': 'TokenReview TokenRequest SelfSubjectReview',
    'authorization.k8s.io': 'SubjectAccessReview SelfSubjectAccessReview LocalSubjectAccessReview SelfSubjectRulesReview',
    'admissionregistration.k8s.io':
      'ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding ValidatingWebhookConfiguration MutatingWebhookConfiguration',
    'flowcontrol.apiserver.k8s.io': 'FlowSchema PriorityLevelConfiguration',
    'apiextensions.k8s.io': 'CustomResourceDefinition',
    'apiregistration.k8s.io': 'APIService',
  };
}

/** unions: structs marked `+union`, with their `+unionDiscriminator` and the member fields it names. */
const unions: Record<string, { discriminator: string; fields: Record<string, string> }> = {
  V1SeccompProfile: { discriminator: 'type', fields: { localhostProfile: 'LocalhostProfile' } },
  V1AppArmorProfile: { discriminator: 'type', fields: { localhostProfile: 'LocalhostProfile' } },
};

/** fieldsAfterV132: fields of client-node's models added to Kubernetes after v1.32. */
const fieldsAfterV132: Record<string, string> = {
  V1CSIDriverSpec: 'nodeAllocatableUpdatePeriodSeconds preventPodSchedulingIfMissing serviceAccountTokenInSecrets',
  V1Container: 'restartPolicyRules',
  V1ContainerStatus: 'stopSignal',
  V1DeploymentStatus: 'terminatingReplicas',
  V1EndpointHints: 'forNodes',
  V1EnvVarSource: 'fileKeyRef',
  V1EphemeralContainer: 'restartPolicyRules',
  V1Lifecycle: 'stopSignal',
  V1ListMeta: 'shardInfo',
  V1NodeStatus: 'declaredFeatures',
  V1NodeSystemInfo: 'swap',
  V1PodCondition: 'observedGeneration',
  V1PodSpec: 'hostnameOverride schedulingGroup',
  V1PodStatus: 'allocatedResources extendedResourceClaimStatus nodeAllocatableResourceClaimStatuses observedGeneration resources',
  V1ReplicaSetStatus: 'terminatingReplicas',
  V1ResourceHealth: 'message',
  V1VolumeError: 'errorCode',
  V1VolumeMountStatus: 'volumeStatus',
  V1VolumeProjection: 'podCertificate',
  V2HPAScalingRules: 'tolerance',
};

/**
 * listAndPatchMarkers: per model and JSON field, the list and patch metadata of the Go field, in a
 * compact notation — `merge[:key]` (patchStrategy merge, patchMergeKey), `retainKeys`,
 * `map:k1,k2` (+listType=map with +listMapKey), `atomic` / `set` (+listType), `mapType:…`.
 */
const listAndPatchMarkers: Record<string, Record<string, string>> = {
  V1APIGroup: { versions: 'atomic', serverAddressByClientCIDRs: 'atomic' },
  V1APIGroupList: { groups: 'atomic' },
  V1APIResource: { shortNames: 'atomic', categories: 'atomic' },
  V1APIResourceList: { resources: 'atomic' },
  V1APIVersions: { versions: 'atomic', serverAddressByClientCIDRs: 'atomic' },
  V1AggregationRule: { clusterRoleSelectors: 'atomic' },
  V1CSIDriverSpec: { volumeLifecycleModes: 'set', tokenRequests: 'atomic' },
  V1CSINodeDriver: { topologyKeys: 'atomic' },
  V1CSINodeSpec: { drivers: 'merge:name map:name' },
  V1Capabilities: { add: 'atomic', drop: 'atomic' },
  V1CephFSPersistentVolumeSource: { monitors: 'atomic' },
  V1CephFSVolumeSource: { monitors: 'atomic' },
  V1CertificateSigningRequestSpec: { request: 'atomic', usages: 'atomic', groups: 'atomic' },
  V1CertificateSigningRequestStatus: { conditions: 'map:type', certificate: 'atomic' },
  V1ClusterRole: { rules: 'atomic' },
  V1ClusterRoleBinding: { subjects: 'atomic' },
  V1ComponentStatus: { conditions: 'merge:type map:type' },
  V1ConfigMapProjection: { items: 'atomic' },
  V1ConfigMapVolumeSource: { items: 'atomic' },
  V1Container: {
    command: 'atomic',
    args: 'atomic',
    ports: 'merge:containerPort map:containerPort,protocol',
    envFrom: 'atomic',
    env: 'merge:name map:name',
    resizePolicy: 'atomic',
    volumeMounts: 'merge:mountPath map:mountPath',
    volumeDevices: 'merge:devicePath map:devicePath',
  },
  V1ContainerImage: { names: 'atomic' },
  V1ContainerStatus: { volumeMounts: 'merge:mountPath map:mountPath', allocatedResourcesStatus: 'merge:name map:name' },
  V1CronJobStatus: { active: 'atomic' },
  V1DaemonSetStatus: { conditions: 'merge:type map:type' },
  V1DeleteOptions: { dryRun: 'atomic' },
  V1DeploymentSpec: { strategy: 'retainKeys' },
  V1DeploymentStatus: { conditions: 'merge:type map:type' },
  V1DownwardAPIProjection: { items: 'atomic' },
  V1DownwardAPIVolumeSource: { items: 'atomic' },
  V1Endpoint: { addresses: 'set' },
  V1EndpointHints: { forZones: 'atomic' },
  V1EndpointSlice: { endpoints: 'atomic', ports: 'atomic' },
  V1EndpointSubset: { addresses: 'atomic', notReadyAddresses: 'atomic', ports: 'atomic' },
  V1Endpoints: { subsets: 'atomic' },
  V1EphemeralContainer: {
    command: 'atomic',
    args: 'atomic',
    ports: 'merge:containerPort map:containerPort,protocol',
    envFrom: 'atomic',
    env: 'merge:name map:name',
    resizePolicy: 'atomic',
    volumeMounts: 'merge:mountPath map:mountPath',
    volumeDevices: 'merge:devicePath map:devicePath',
  },
  V1ExecAction: { command: 'atomic' },
  V1FCVolumeSource: { targetWWNs: 'atomic', wwids: 'atomic' },
  V1FieldSelectorAttributes: { requirements: 'atomic' },
  V1FieldSelectorRequirement: { values: 'atomic' },
  V1FlowSchemaSpec: { rules: 'atomic' },
  V1FlowSchemaStatus: { conditions: 'merge:type map:type' },
  V1HTTPGetAction: { httpHeaders: 'atomic' },
  V1HTTPIngressRuleValue: { paths: 'atomic' },
  V1HostAlias: { hostnames: 'atomic' },
  V1IPBlock: { except: 'atomic' },
  V1ISCSIPersistentVolumeSource: { portals: 'atomic' },
  V1ISCSIVolumeSource: { portals: 'atomic' },
  V1IngressLoadBalancerIngress: { ports: 'atomic' },
  V1IngressLoadBalancerStatus: { ingress: 'atomic' },
  V1IngressSpec: { tls: 'atomic', rules: 'atomic' },
  V1IngressTLS: { hosts: 'atomic' },
  V1JobStatus: { conditions: 'merge:type atomic' },
  V1LabelSelector: { matchExpressions: 'atomic' },
  V1LabelSelectorAttributes: { requirements: 'atomic' },
  V1LabelSelectorRequirement: { values: 'atomic' },
  V1LimitRangeSpec: { limits: 'atomic' },
  V1LinuxContainerUser: { supplementalGroups: 'atomic' },
  V1LoadBalancerIngress: { ports: 'atomic' },
  V1LoadBalancerStatus: { ingress: 'atomic' },
  V1MatchResources: { resourceRules: 'atomic', excludeResourceRules: 'atomic' },
  V1MutatingWebhook: { rules: 'atomic', admissionReviewVersions: 'atomic', matchConditions: 'merge:name map:name' },
  V1MutatingWebhookConfiguration: { webhooks: 'merge:name map:name' },
  V1NamedRuleWithOperations: {
    apiGroups: 'atomic',
    apiVersions: 'atomic',
    resources: 'atomic',
    operations: 'atomic',
    resourceNames: 'atomic',
  },
  V1NamespaceSpec: { finalizers: 'atomic' },
  V1NamespaceStatus: { conditions: 'merge:type map:type' },
  V1NetworkPolicyEgressRule: { ports: 'atomic', to: 'atomic' },
  V1NetworkPolicyIngressRule: { ports: 'atomic', from: 'atomic' },
  V1NetworkPolicySpec: { ingress: 'atomic', egress: 'atomic', policyTypes: 'atomic' },
  V1NodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: 'atomic' },
  V1NodeSelector: { nodeSelectorTerms: 'atomic' },
  V1NodeSelectorRequirement: { values: 'atomic' },
  V1NodeSelectorTerm: { matchExpressions: 'atomic', matchFields: 'atomic' },
  V1NodeSpec: { podCIDRs: 'merge set', taints: 'atomic' },
  V1NodeStatus: {
    conditions: 'merge:type map:type',
    addresses: 'merge:type map:type',
    images: 'atomic',
    volumesInUse: 'atomic',
    volumesAttached: 'atomic',
    runtimeHandlers: 'atomic',
  },
  V1NonResourcePolicyRule: { verbs: 'set', nonResourceURLs: 'set' },
  V1NonResourceRule: { verbs: 'atomic', nonResourceURLs: 'atomic' },
  V1ObjectMeta: { ownerReferences: 'merge:uid map:uid', finalizers: 'merge set', managedFields: 'atomic' },
  V1PersistentVolumeClaimSpec: { accessModes: 'atomic' },
  V1PersistentVolumeClaimStatus: {
    accessModes: 'atomic',
    conditions: 'merge:type map:type',
    allocatedResourceStatuses: 'mapType:granular',
  },
  V1PersistentVolumeSpec: { accessModes: 'atomic', claimRef: 'mapType:granular', mountOptions: 'atomic' },
  V1PodAffinity: { requiredDuringSchedulingIgnoredDuringExecution: 'atomic', preferredDuringSchedulingIgnoredDuringExecution: 'atomic' },
  V1PodAffinityTerm: { namespaces: 'atomic', matchLabelKeys: 'atomic', mismatchLabelKeys: 'atomic' },
  V1PodAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: 'atomic',
    preferredDuringSchedulingIgnoredDuringExecution: 'atomic',
  },
  V1PodDNSConfig: { nameservers: 'atomic', searches: 'atomic', options: 'atomic' },
  V1PodDisruptionBudgetSpec: { selector: '' },
  V1PodDisruptionBudgetStatus: { conditions: 'merge:type map:type' },
  V1PodFailurePolicy: { rules: 'atomic' },
  V1PodFailurePolicyOnExitCodesRequirement: { values: 'set' },
  V1PodFailurePolicyRule: { onPodConditions: 'atomic' },
  V1PodSecurityContext: { supplementalGroups: 'atomic', sysctls: 'atomic' },
  V1PodSpec: {
    volumes: 'merge:name retainKeys map:name',
    initContainers: 'merge:name map:name',
    containers: 'merge:name map:name',
    ephemeralContainers: 'merge:name map:name',
    nodeSelector: 'mapType:atomic',
    imagePullSecrets: 'merge:name map:name',
    tolerations: 'atomic',
    hostAliases: 'merge:ip map:ip',
    readinessGates: 'atomic',
    topologySpreadConstraints: 'merge:topologyKey map:topologyKey,whenUnsatisfiable',
    schedulingGates: 'merge:name map:name',
    resourceClaims: 'merge:name retainKeys map:name',
  },
  V1PodStatus: {
    conditions: 'merge:type map:type',
    hostIPs: 'merge:ip atomic',
    podIPs: 'merge:ip map:ip',
    initContainerStatuses: 'atomic',
    containerStatuses: 'atomic',
    ephemeralContainerStatuses: 'atomic',
    resourceClaimStatuses: 'merge:name retainKeys map:name',
  },
  V1PolicyRule: { verbs: 'atomic', apiGroups: 'atomic', resources: 'atomic', resourceNames: 'atomic', nonResourceURLs: 'atomic' },
  V1PolicyRulesWithSubjects: { subjects: 'atomic', resourceRules: 'atomic', nonResourceRules: 'atomic' },
  V1PriorityLevelConfigurationStatus: { conditions: 'merge:type map:type' },
  V1ProjectedVolumeSource: { sources: 'atomic' },
  V1RBDPersistentVolumeSource: { monitors: 'atomic' },
  V1RBDVolumeSource: { monitors: 'atomic' },
  V1ReplicaSetStatus: { conditions: 'merge:type map:type' },
  V1ReplicationControllerSpec: { selector: 'mapType:atomic' },
  V1ReplicationControllerStatus: { conditions: 'merge:type map:type' },
  V1ResourcePolicyRule: { verbs: 'set', apiGroups: 'set', resources: 'set', namespaces: 'set' },
  V1ResourceQuotaSpec: { scopes: 'atomic' },
  V1ResourceRequirements: { claims: 'map:name' },
  V1ResourceRule: { verbs: 'atomic', apiGroups: 'atomic', resources: 'atomic', resourceNames: 'atomic' },
  V1ResourceStatus: { resources: 'map:resourceID' },
  V1Role: { rules: 'atomic' },
  V1RoleBinding: { subjects: 'atomic' },
  V1RuleWithOperations: { apiGroups: 'atomic', apiVersions: 'atomic', resources: 'atomic', operations: 'atomic' },
  V1Scheduling: { nodeSelector: 'mapType:atomic', tolerations: 'atomic' },
  V1ScopeSelector: { matchExpressions: 'atomic' },
  V1ScopedResourceSelectorRequirement: { values: 'atomic' },
  V1SecretProjection: { items: 'atomic' },
  V1SecretVolumeSource: { items: 'atomic' },
  V1ServiceAccount: { secrets: 'merge:name map:name', imagePullSecrets: 'atomic' },
  V1ServiceSpec: {
    ports: 'merge:port map:port,protocol',
    selector: 'mapType:atomic',
    clusterIPs: 'atomic',
    externalIPs: 'atomic',
    loadBalancerSourceRanges: 'atomic',
    ipFamilies: 'atomic',
  },
  V1ServiceStatus: { conditions: 'merge:type map:type' },
  V1StatefulSetSpec: { volumeClaimTemplates: 'atomic' },
  V1StatefulSetStatus: { conditions: 'merge:type map:type' },
  V1Status: { details: 'atomic' },
  V1StatusDetails: { causes: 'atomic' },
  V1StorageClass: { mountOptions: 'atomic', allowedTopologies: 'atomic' },
  V1SubjectAccessReviewSpec: { groups: 'atomic' },
  V1SubjectRulesReviewStatus: { resourceRules: 'atomic', nonResourceRules: 'atomic' },
  V1SuccessPolicy: { rules: 'atomic' },
  V1TokenRequestSpec: { audiences: 'atomic' },
  V1TokenReviewSpec: { audiences: 'atomic' },
  V1TokenReviewStatus: { audiences: 'atomic' },
  V1TopologySelectorLabelRequirement: { values: 'atomic' },
  V1TopologySelectorTerm: { matchLabelExpressions: 'atomic' },
  V1TopologySpreadConstraint: { matchLabelKeys: 'atomic' },
  V1TypeChecking: { expressionWarnings: 'atomic' },
  V1UncountedTerminatedPods: { succeeded: 'set', failed: 'set' },
  V1UserInfo: { groups: 'atomic' },
  V1ValidatingAdmissionPolicyBindingSpec: { validationActions: 'set' },
  V1ValidatingAdmissionPolicySpec: {
    validations: 'atomic',
    auditAnnotations: 'atomic',
    matchConditions: 'merge:name map:name',
    variables: 'merge:name map:name',
  },
  V1ValidatingAdmissionPolicyStatus: { conditions: 'map:type' },
  V1ValidatingWebhook: { rules: 'atomic', admissionReviewVersions: 'atomic', matchConditions: 'merge:name map:name' },
  V1ValidatingWebhookConfiguration: { webhooks: 'merge:name map:name' },
  V2HPAScalingRules: { policies: 'atomic' },
  V2HorizontalPodAutoscalerSpec: { metrics: 'atomic' },
  V2HorizontalPodAutoscalerStatus: { currentMetrics: 'atomic', conditions: 'merge:type map:type' },
};

/** requiredFields: per model, the JSON fields without `omitempty` or `+optional` (space separated). */
const requiredFields: Record<string, string> = {
  V1WatchEvent: 'type object',
  AdmissionregistrationV1ServiceReference: 'namespace name',
  AuthenticationV1TokenRequest: 'spec',
  CoreV1EndpointPort: 'port',
  CoreV1Event: 'metadata involvedObject',
  CoreV1EventList: 'items',
  CoreV1ResourceClaim: 'name',
  EventsV1Event: 'eventTime',
  EventsV1EventList: 'items',
  EventsV1EventSeries: 'count lastObservedTime',
  FlowcontrolV1Subject: 'kind',
  RbacV1Subject: 'kind name',
  StorageV1TokenRequest: 'audience',
  V1APIGroup: 'name versions',
  V1APIGroupList: 'groups',
  V1APIResource: 'name singularName namespaced kind verbs',
  V1APIResourceList: 'groupVersion resources',
  V1APIVersions: 'versions serverAddressByClientCIDRs',
  V1AWSElasticBlockStoreVolumeSource: 'volumeID',
  V1AppArmorProfile: 'type',
  V1AttachedVolume: 'name devicePath',
  V1AuditAnnotation: 'key valueExpression',
  V1AzureDiskVolumeSource: 'diskName diskURI',
  V1AzureFilePersistentVolumeSource: 'secretName shareName',
  V1AzureFileVolumeSource: 'secretName shareName',
  V1Binding: 'target',
  V1CSIDriver: 'spec',
  V1CSIDriverList: 'items',
  V1CSINode: 'spec',
  V1CSINodeDriver: 'name nodeID',
  V1CSINodeList: 'items',
  V1CSINodeSpec: 'drivers',
  V1CSIPersistentVolumeSource: 'driver volumeHandle',
  V1CSIStorageCapacity: 'storageClassName',
  V1CSIStorageCapacityList: 'items',
  V1CSIVolumeSource: 'driver',
  V1CephFSPersistentVolumeSource: 'monitors',
  V1CephFSVolumeSource: 'monitors',
  V1CertificateSigningRequest: 'spec',
  V1CertificateSigningRequestCondition: 'type status',
  V1CertificateSigningRequestList: 'items',
  V1CertificateSigningRequestSpec: 'request signerName',
  V1CinderPersistentVolumeSource: 'volumeID',
  V1CinderVolumeSource: 'volumeID',
  V1ClusterRoleBinding: 'roleRef',
  V1ClusterRoleBindingList: 'items',
  V1ClusterRoleList: 'items',
  V1ClusterTrustBundleProjection: 'path',
  V1ComponentCondition: 'type status',
  V1ComponentStatusList: 'items',
  V1Condition: 'type status lastTransitionTime reason message',
  V1ConfigMapKeySelector: 'key',
  V1ConfigMapList: 'items',
  V1ConfigMapNodeConfigSource: 'namespace name kubeletConfigKey',
  V1Container: 'name',
  V1ContainerPort: 'containerPort',
  V1ContainerResizePolicy: 'resourceName restartPolicy',
  V1ContainerStateTerminated: 'exitCode',
  V1ContainerStatus: 'name ready restartCount image imageID',
  V1ControllerRevision: 'revision',
  V1ControllerRevisionList: 'items',
  V1CronJobList: 'items',
  V1CronJobSpec: 'schedule jobTemplate',
  V1CrossVersionObjectReference: 'kind name',
  V1DaemonEndpoint: 'Port',
  V1DaemonSetCondition: 'type status',
  V1DaemonSetList: 'items',
  V1DaemonSetSpec: 'selector template',
  V1DaemonSetStatus: 'currentNumberScheduled numberMisscheduled desiredNumberScheduled numberReady',
  V1DeploymentCondition: 'type status',
  V1DeploymentList: 'items',
  V1DeploymentSpec: 'selector template',
  V1DownwardAPIVolumeFile: 'path',
  V1Endpoint: 'addresses',
  V1EndpointAddress: 'ip',
  V1EndpointSlice: 'addressType endpoints',
  V1EndpointSliceList: 'items',
  V1EndpointsList: 'items',
  V1EnvVar: 'name',
  V1EphemeralContainer: 'name',
  V1ExpressionWarning: 'fieldRef warning',
  V1FieldSelectorRequirement: 'key operator',
  V1FlexPersistentVolumeSource: 'driver',
  V1FlexVolumeSource: 'driver',
  V1FlowDistinguisherMethod: 'type',
  V1FlowSchemaList: 'items',
  V1FlowSchemaSpec: 'priorityLevelConfiguration',
  V1ForZone: 'name',
  V1GCEPersistentDiskVolumeSource: 'pdName',
  V1GRPCAction: 'port',
  V1GitRepoVolumeSource: 'repository',
  V1GlusterfsPersistentVolumeSource: 'endpoints path',
  V1GlusterfsVolumeSource: 'endpoints path',
  V1GroupSubject: 'name',
  V1GroupVersionForDiscovery: 'groupVersion version',
  V1HTTPGetAction: 'port',
  V1HTTPHeader: 'name value',
  V1HTTPIngressPath: 'pathType backend',
  V1HTTPIngressRuleValue: 'paths',
  V1HorizontalPodAutoscalerList: 'items',
  V1HorizontalPodAutoscalerSpec: 'scaleTargetRef maxReplicas',
  V1HorizontalPodAutoscalerStatus: 'currentReplicas desiredReplicas',
  V1HostAlias: 'ip',
  V1HostIP: 'ip',
  V1HostPathVolumeSource: 'path',
  V1IPBlock: 'cidr',
  V1ISCSIPersistentVolumeSource: 'targetPortal iqn lun',
  V1ISCSIVolumeSource: 'targetPortal iqn lun',
  V1IngressClassList: 'items',
  V1IngressClassParametersReference: 'kind name',
  V1IngressList: 'items',
  V1IngressPortStatus: 'port protocol',
  V1IngressServiceBackend: 'name',
  V1JobCondition: 'type status',
  V1JobList: 'items',
  V1JobSpec: 'template',
  V1KeyToPath: 'key path',
  V1LabelSelectorRequirement: 'key operator',
  V1LeaseList: 'items',
  V1LimitRangeItem: 'type',
  V1LimitRangeList: 'items',
  V1LimitRangeSpec: 'limits',
  V1LimitResponse: 'type',
  V1LinuxContainerUser: 'uid gid',
  V1LocalSubjectAccessReview: 'spec',
  V1LocalVolumeSource: 'path',
  V1MatchCondition: 'name expression',
  V1ModifyVolumeStatus: 'status',
  V1MutatingWebhook: 'name clientConfig sideEffects admissionReviewVersions',
  V1MutatingWebhookConfigurationList: 'items',
  V1NFSVolumeSource: 'server path',
  V1NamespaceCondition: 'type status',
  V1NamespaceList: 'items',
  V1NetworkPolicyList: 'items',
  V1NetworkPolicySpec: 'podSelector',
  V1NodeAddress: 'type address',
  V1NodeCondition: 'type status',
  V1NodeList: 'items',
  V1NodeSelector: 'nodeSelectorTerms',
  V1NodeSelectorRequirement: 'key operator',
  V1NodeSystemInfo: 'machineID systemUUID bootID kernelVersion osImage containerRuntimeVersion kubeletVersion kubeProxyVersion operatingSystem architecture',
  V1NonResourcePolicyRule: 'verbs nonResourceURLs',
  V1NonResourceRule: 'verbs',
  V1ObjectFieldSelector: 'fieldPath',
  V1OwnerReference: 'apiVersion kind name uid',
  V1PersistentVolumeClaimCondition: 'type status',
  V1PersistentVolumeClaimList: 'items',
  V1PersistentVolumeClaimTemplate: 'spec',
  V1PersistentVolumeClaimVolumeSource: 'claimName',
  V1PersistentVolumeList: 'items',
  V1PhotonPersistentDiskVolumeSource: 'pdID',
  V1PodAffinityTerm: 'topologyKey',
  V1PodCondition: 'type status',
  V1PodDisruptionBudgetList: 'items',
  V1PodDisruptionBudgetStatus: 'disruptionsAllowed currentHealthy desiredHealthy expectedPods',
  V1PodFailurePolicy: 'rules',
  V1PodFailurePolicyOnExitCodesRequirement: 'operator values',
  V1PodFailurePolicyOnPodConditionsPattern: 'type status',
  V1PodFailurePolicyRule: 'action',
  V1PodIP: 'ip',
  V1PodList: 'items',
  V1PodOS: 'name',
  V1PodReadinessGate: 'conditionType',
  V1PodResourceClaim: 'name',
  V1PodResourceClaimStatus: 'name',
  V1PodSchedulingGate: 'name',
  V1PodSpec: 'containers',
  V1PodTemplateList: 'items',
  V1PolicyRule: 'verbs',
  V1PolicyRulesWithSubjects: 'subjects',
  V1PortStatus: 'port protocol',
  V1PortworxVolumeSource: 'volumeID',
  V1PreferredSchedulingTerm: 'weight preference',
  V1PriorityClass: 'value',
  V1PriorityClassList: 'items',
  V1PriorityLevelConfigurationList: 'items',
  V1PriorityLevelConfigurationReference: 'name',
  V1PriorityLevelConfigurationSpec: 'type',
  V1QuobyteVolumeSource: 'registry volume',
  V1RBDPersistentVolumeSource: 'monitors image',
  V1RBDVolumeSource: 'monitors image',
  V1ReplicaSetCondition: 'type status',
  V1ReplicaSetList: 'items',
  V1ReplicaSetSpec: 'selector',
  V1ReplicaSetStatus: 'replicas',
  V1ReplicationControllerCondition: 'type status',
  V1ReplicationControllerList: 'items',
  V1ReplicationControllerStatus: 'replicas',
  V1ResourceFieldSelector: 'resource',
  V1ResourceHealth: 'resourceID',
  V1ResourcePolicyRule: 'verbs apiGroups resources',
  V1ResourceQuotaList: 'items',
  V1ResourceRule: 'verbs',
  V1ResourceStatus: 'name',
  V1RoleBinding: 'roleRef',
  V1RoleBindingList: 'items',
  V1RoleList: 'items',
  V1RoleRef: 'apiGroup kind name',
  V1RuntimeClass: 'handler',
  V1RuntimeClassList: 'items',
  V1ScaleIOPersistentVolumeSource: 'gateway system secretRef',
  V1ScaleIOVolumeSource: 'gateway system secretRef',
  V1ScaleStatus: 'replicas',
  V1ScopedResourceSelectorRequirement: 'scopeName operator',
  V1SeccompProfile: 'type',
  V1SecretKeySelector: 'key',
  V1SecretList: 'items',
  V1SelfSubjectAccessReview: 'spec',
  V1SelfSubjectRulesReview: 'spec',
  V1ServerAddressByClientCIDR: 'clientCIDR serverAddress',
  V1ServiceAccountList: 'items',
  V1ServiceAccountSubject: 'namespace name',
  V1ServiceAccountTokenProjection: 'path',
  V1ServiceList: 'items',
  V1ServicePort: 'port',
  V1SleepAction: 'seconds',
  V1StatefulSetCondition: 'type status',
  V1StatefulSetList: 'items',
  V1StatefulSetSpec: 'selector template serviceName',
  V1StatefulSetStatus: 'replicas',
  V1StorageClass: 'provisioner',
  V1StorageClassList: 'items',
  V1SubjectAccessReview: 'spec',
  V1SubjectAccessReviewStatus: 'allowed',
  V1SubjectRulesReviewStatus: 'resourceRules nonResourceRules incomplete',
  V1SuccessPolicy: 'rules',
  V1Sysctl: 'name value',
  V1TCPSocketAction: 'port',
  V1Taint: 'key effect',
  V1TokenRequestSpec: 'audiences',
  V1TokenRequestStatus: 'token expirationTimestamp',
  V1TokenReview: 'spec',
  V1TopologySelectorLabelRequirement: 'key values',
  V1TopologySpreadConstraint: 'maxSkew topologyKey whenUnsatisfiable',
  V1TypedLocalObjectReference: 'kind name',
  V1TypedObjectReference: 'kind name',
  V1UserSubject: 'name',
  V1ValidatingAdmissionPolicyBindingList: 'items',
  V1ValidatingAdmissionPolicyList: 'items',
  V1ValidatingWebhook: 'name clientConfig sideEffects admissionReviewVersions',
  V1ValidatingWebhookConfigurationList: 'items',
  V1Validation: 'expression',
  V1Variable: 'name expression',
  V1Volume: 'name',
  V1VolumeAttachment: 'spec',
  V1VolumeAttachmentList: 'items',
  V1VolumeAttachmentSpec: 'attacher source nodeName',
  V1VolumeAttachmentStatus: 'attached',
  V1VolumeDevice: 'name devicePath',
  V1VolumeMount: 'name mountPath',
  V1VolumeMountStatus: 'name mountPath',
  V1VsphereVirtualDiskVolumeSource: 'volumePath',
  V1WeightedPodAffinityTerm: 'weight podAffinityTerm',
  V2ContainerResourceMetricSource: 'name target container',
  V2ContainerResourceMetricStatus: 'name current container',
  V2CrossVersionObjectReference: 'kind name',
  V2ExternalMetricSource: 'metric target',
  V2ExternalMetricStatus: 'metric current',
  V2HPAScalingPolicy: 'type value periodSeconds',
  V2HorizontalPodAutoscalerCondition: 'type status',
  V2HorizontalPodAutoscalerList: 'items',
  V2HorizontalPodAutoscalerSpec: 'scaleTargetRef maxReplicas',
  V2HorizontalPodAutoscalerStatus: 'desiredReplicas',
  V2MetricIdentifier: 'name',
  V2MetricSpec: 'type',
  V2MetricStatus: 'type',
  V2MetricTarget: 'type',
  V2ObjectMetricSource: 'describedObject target metric',
  V2ObjectMetricStatus: 'metric current describedObject',
  V2PodsMetricSource: 'metric target',
  V2PodsMetricStatus: 'metric current',
  V2ResourceMetricSource: 'name target',
  V2ResourceMetricStatus: 'name current',
};

/** referencedFields: fields whose Go type is a Quantity (or a map of them) or raw JSON. */
const referencedFields: Record<string, Record<string, string>> = {
  V1WatchEvent: { object: 'RawExtension' },
  V1CSIStorageCapacity: { capacity: 'Quantity', maximumVolumeSize: 'Quantity' },
  V1ContainerStatus: { allocatedResources: 'Quantity' },
  V1ControllerRevision: { data: 'RawExtension' },
  V1EmptyDirVolumeSource: { sizeLimit: 'Quantity' },
  V1LimitRangeItem: { max: 'Quantity', min: 'Quantity', default: 'Quantity', defaultRequest: 'Quantity', maxLimitRequestRatio: 'Quantity' },
  V1ManagedFieldsEntry: { fieldsV1: 'FieldsV1' },
  V1NodeStatus: { capacity: 'Quantity', allocatable: 'Quantity' },
  V1Overhead: { podFixed: 'Quantity' },
  V1PersistentVolumeClaimStatus: { capacity: 'Quantity', allocatedResources: 'Quantity' },
  V1PersistentVolumeSpec: { capacity: 'Quantity' },
  V1PodSpec: { overhead: 'Quantity' },
  V1ResourceFieldSelector: { divisor: 'Quantity' },
  V1ResourceQuotaSpec: { hard: 'Quantity' },
  V1ResourceQuotaStatus: { hard: 'Quantity', used: 'Quantity' },
  V1ResourceRequirements: { limits: 'Quantity', requests: 'Quantity' },
  V1VolumeResourceRequirements: { limits: 'Quantity', requests: 'Quantity' },
  V2MetricTarget: { value: 'Quantity', averageValue: 'Quantity' },
  V2MetricValueStatus: { value: 'Quantity', averageValue: 'Quantity' },
};

/** atomicStructs: structs marked `+structType=atomic` (or `+mapType=atomic`): replaced whole by apply. */
const atomicStructs = new Set(
  [
    'CoreV1EndpointPort', 'DiscoveryV1EndpointPort', 'RbacV1Subject', 'V1ConfigMapKeySelector',
    'V1CrossVersionObjectReference', 'V1EndpointAddress', 'V1LabelSelector', 'V1LocalObjectReference',
    'V1MatchResources', 'V1NamedRuleWithOperations', 'V1NodeSelector', 'V1NodeSelectorTerm', 'V1ObjectFieldSelector',
    'V1ObjectReference', 'V1OwnerReference', 'V1ParamKind', 'V1ParamRef', 'V1ResourceFieldSelector', 'V1RoleRef',
    'V1ScopeSelector', 'V1SecretKeySelector', 'V1SecretReference', 'V1ServiceBackendPort', 'V1TopologySelectorTerm',
    'V1TypedLocalObjectReference', 'V1Variable',
  ],
);
