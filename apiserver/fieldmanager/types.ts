// The type information server-side apply walks objects with, converted from OpenAPI v3 schemas the
// way kube-openapi's schemaconv builds structured-merge-diff schemas: objects become maps with
// named fields (granular unless `x-kubernetes-map-type: atomic`), arrays become lists whose merge
// behaviour comes from `x-kubernetes-list-type` (`map` with `x-kubernetes-list-map-keys`, `set`,
// `atomic`) or, failing that, from the strategic-merge `x-kubernetes-patch-strategy` and merge key;
// anything untyped is "deduced": maps granular, lists atomic.
//
// Built-in kinds get their schema from the client-node models (apiserver/openapi/, the same
// documents /openapi/v3 serves); custom resources from their declared schema, with `metadata`
// typed as ObjectMeta as kube-apiserver types it; kinds with neither are deduced throughout.

import type { ResourceDefinition } from '../../lib/api/resource.js';
import { modelAttributes } from '../openapi/models.js';
import { modelNameFor } from '../openapi/names.js';
import { openAPISchemaFor, type Schema } from '../openapi/schemas.js';
import type { Json } from './fieldpath.js';
import { zeroFieldsOf, type ZeroFields } from './gozero.js';

/** ScalarKind is what a scalar must hold; untyped accepts any scalar. */
export type ScalarKind = 'numeric' | 'string' | 'boolean' | 'untyped';

/** Atom is what a value of a type may be: a scalar, a list, a map, or (untyped) any of them. */
export interface Atom {
  readonly scalar?: ScalarKind;
  readonly list?: ListType;
  readonly map?: MapType;
}

/** ListType: atomic lists are replaced whole; associative ones merge items by their keys (a set when there are none). */
export interface ListType {
  readonly atomic: boolean;
  readonly keys: readonly string[];
  readonly elem: TypeRef;
}

/** MapType: a struct (named fields) and/or a map (elem for any other key); atomic maps are replaced whole. */
export interface MapType {
  readonly atomic: boolean;
  readonly fields: ReadonlyMap<string, StructField>;
  /** elem types keys that are not named fields; undefined means such keys are not declared in the schema. */
  readonly elem?: TypeRef;
}

export interface StructField {
  readonly type: TypeRef;
  readonly default?: Json;
}

/** TypeRef names a definition (resolved lazily, so recursive types cost nothing) or carries its atom inline. */
export interface TypeRef {
  readonly name?: string;
  readonly inline?: Atom;
  /** mapType overrides the referenced type's map relationship (`x-kubernetes-map-type` beside a $ref). */
  readonly mapType?: 'atomic' | 'granular';
}

const untypedName = '__untyped_atomic_';
const deducedName = '__untyped_deduced_';
const untypedRef: TypeRef = { name: untypedName };
export const deducedRef: TypeRef = { name: deducedName };

const untypedAtom: Atom = {
  scalar: 'untyped',
  list: { atomic: true, keys: [], elem: untypedRef },
  map: { atomic: true, fields: new Map(), elem: untypedRef },
};
const deducedAtom: Atom = {
  scalar: 'untyped',
  list: { atomic: true, keys: [], elem: untypedRef },
  map: { atomic: false, fields: new Map(), elem: deducedRef },
};

const scalarAtom: Atom = { scalar: 'untyped' };

/** scalarDefinitions are the definitions kube-openapi special-cases rather than converting their schema. */
const scalarDefinitions = new Set([
  'io.k8s.apimachinery.pkg.api.resource.Quantity',
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
]);
const rawExtensionDefinition = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

/**
 * builtinKeyDefaults: `+default` values of list-map key fields the served OpenAPI documents do not
 * carry. A port applied without `protocol` is the item `k:{"containerPort":80,"protocol":"TCP"}`.
 */
const builtinKeyDefaults: Record<string, Record<string, Json>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

const refPrefix = '#/components/schemas/';

function refName(s: Schema): string | undefined {
  const ref = (s.$ref as string | undefined) ?? (Array.isArray(s.allOf) && s.allOf.length === 1 ? ((s.allOf[0] as Schema).$ref as string | undefined) : undefined);
  if (!ref) return undefined;
  return ref.startsWith(refPrefix) ? ref.slice(refPrefix.length) : ref.slice(ref.lastIndexOf('/') + 1);
}

function mapTypeOf(s: Schema): 'atomic' | 'granular' | undefined {
  const v = s['x-kubernetes-map-type'];
  return v === 'atomic' || v === 'granular' ? v : undefined;
}

/** listRelationship reads a list's merge behaviour as schemaconv does: list-type first, then the patch strategy, else atomic. */
function listRelationship(s: Schema): { atomic: boolean; keys: string[] } {
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'atomic') return { atomic: true, keys: [] };
  if (lt === 'set') return { atomic: false, keys: [] };
  if (lt === 'map') return { atomic: false, keys: Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : [] };
  const ps = s['x-kubernetes-patch-strategy'];
  if (ps === 'merge' || ps === 'merge,retainKeys') {
    const key = s['x-kubernetes-patch-merge-key'];
    return { atomic: false, keys: typeof key === 'string' ? [key] : [] };
  }
  return { atomic: true, keys: [] };
}

/** TypeSchema resolves the type references of one kind's schema. */
export class TypeSchema {
  private readonly atoms = new Map<string, Atom>();

  constructor(
    private readonly defs: Record<string, Schema>,
    readonly root: TypeRef,
    private readonly keyDefaults: Record<string, Record<string, Json>> = builtinKeyDefaults,
    /** goTyped: the kind is a built-in Go type, whose zero values serialize some empty fields. */
    readonly goTyped = false,
  ) {}

  resolve(ref: TypeRef): Atom {
    let atom = ref.inline ?? (ref.name ? this.named(ref.name) : undefined) ?? deducedAtom;
    if (ref.mapType && atom.map && atom.map.atomic !== (ref.mapType === 'atomic')) {
      atom = { ...atom, map: { ...atom.map, atomic: ref.mapType === 'atomic' } };
    }
    return atom;
  }

  /** zeroFields are the fields a Go zero value of the referenced type serializes anyway (built-ins only). */
  zeroFields(ref: TypeRef): ZeroFields | undefined {
    return this.goTyped && ref.name ? zeroFieldsOf(ref.name) : undefined;
  }

  private named(name: string): Atom | undefined {
    if (name === untypedName) return untypedAtom;
    if (name === deducedName) return deducedAtom;
    let atom = this.atoms.get(name);
    if (!atom) {
      if (scalarDefinitions.has(name)) atom = scalarAtom;
      else if (name === rawExtensionDefinition) atom = untypedAtom;
      else {
        const s = this.defs[name];
        if (!s) return undefined;
        atom = parseSchema(s, false, this.keyDefaults[name]);
      }
      this.atoms.set(name, atom);
    }
    return atom;
  }
}

/** parseSchema converts one schema to an atom; preserveUnknown is inherited from `x-kubernetes-preserve-unknown-fields` above. */
export function parseSchema(s: Schema, preserveUnknown: boolean, keyDefaults?: Record<string, Json>): Atom {
  if (s['x-kubernetes-preserve-unknown-fields'] === true) preserveUnknown = true;
  const type = typeof s.type === 'string' ? s.type : Array.isArray(s.type) ? (s.type[0] as string | undefined) : undefined;
  switch (type ?? '') {
    case '':
      if (s['x-kubernetes-int-or-string'] === true) return scalarAtom;
      return { scalar: 'untyped', list: parseList(s, preserveUnknown), map: parseObject(s, preserveUnknown, keyDefaults) };
    case 'object':
      return { map: parseObject(s, preserveUnknown, keyDefaults) };
    case 'array':
      return { list: parseList(s, preserveUnknown) };
    case 'integer':
    case 'number':
      return { scalar: 'numeric' };
    case 'boolean':
      return { scalar: 'boolean' };
    case 'string':
      return { scalar: !s.format || s.format === 'byte' ? 'string' : 'untyped' };
    default:
      return scalarAtom;
  }
}

function makeRef(s: Schema, preserveUnknown: boolean): TypeRef {
  const name = refName(s);
  if (name) {
    const mapType = mapTypeOf(s);
    return mapType ? { name, mapType } : { name };
  }
  return { inline: parseSchema(s, preserveUnknown) };
}

function parseObject(s: Schema, preserveUnknown: boolean, keyDefaults?: Record<string, Json>): MapType {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const fields = new Map<string, StructField>();
  for (const [name, member] of Object.entries(props)) {
    const def = (member.default as Json | undefined) ?? keyDefaults?.[name];
    fields.set(name, def === undefined ? { type: makeRef(member, preserveUnknown) } : { type: makeRef(member, preserveUnknown), default: def });
  }
  let elem: TypeRef | undefined;
  const ap = s.additionalProperties as Schema | boolean | undefined;
  if (ap === undefined) {
    // An object without properties is free-form; with properties, unknown keys are not declared.
    if (preserveUnknown || fields.size === 0) elem = deducedRef;
  } else if (ap === true) elem = deducedRef;
  else if (ap && typeof ap === 'object') elem = makeRef(ap, preserveUnknown);
  return { atomic: mapTypeOf(s) === 'atomic', fields, elem };
}

function parseList(s: Schema, preserveUnknown: boolean): ListType {
  const rel = listRelationship(s);
  const items = s.items as Schema | undefined;
  const elem = items && typeof items === 'object' && !Array.isArray(items) ? makeRef(items, preserveUnknown) : untypedRef;
  return { atomic: rel.atomic, keys: rel.keys, elem };
}

// ---------------------------------------------------------------------------------------------
// Per kind

const objectMetaDefinition = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const schemaCache = new WeakMap<object, TypeSchema>();
let objectMetaSchemas: Record<string, Schema> | undefined;

function metaSchemas(): Record<string, Schema> {
  objectMetaSchemas ??= openAPISchemaFor('V1ObjectMeta', { descriptions: false }).schemas;
  return objectMetaSchemas;
}

/** modelOfDefinition is a built-in kind's client-node model, if it has one. */
function modelOfDefinition(def: ResourceDefinition): string | undefined {
  const own = (def as { model?: string }).model;
  if (own && modelAttributes(own)) return own;
  return modelNameFor(def.group, def.version, def.kind);
}

/** typeSchemaFor returns (and caches) the type schema of a kind: its model's, its declared schema's, or a deduced one. */
export function typeSchemaFor(def: ResourceDefinition<any>): TypeSchema {
  let ts = schemaCache.get(def);
  if (ts) return ts;
  const model = modelOfDefinition(def as ResourceDefinition);
  if (model) {
    const { root, schemas } = openAPISchemaFor(model, { group: def.group, descriptions: false });
    ts = new TypeSchema(schemas, { name: root }, builtinKeyDefaults, true);
  } else {
    ts = customTypeSchema(def.schema as Schema | undefined);
  }
  schemaCache.set(def, ts);
  return ts;
}

/**
 * customTypeSchema types a custom resource from its OpenAPI v3 schema: apiVersion and kind are
 * strings and metadata is ObjectMeta whatever the schema says, as kube-apiserver does for CRDs.
 */
export function customTypeSchema(schema: Schema | undefined): TypeSchema {
  const defs = { ...metaSchemas() };
  const base: Schema = schema && typeof schema === 'object' ? schema : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const props = { ...((base.properties ?? {}) as Record<string, Schema>) };
  props.apiVersion = { type: 'string' };
  props.kind = { type: 'string' };
  props.metadata = { $ref: `${refPrefix}${objectMetaDefinition}` };
  const rootSchema: Schema = { ...base, type: 'object', properties: props };
  const name = '__custom_resource_';
  defs[name] = rootSchema;
  return new TypeSchema(defs, { name }, {}, false);
}
