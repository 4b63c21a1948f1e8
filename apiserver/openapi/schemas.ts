// OpenAPI v3 component schemas for the built-in kinds, built from client-node's models rather than
// written per kind: the definition names kube-apiserver publishes under /openapi/v3, the same
// `allOf: [$ref]` wrapping of nested structs, and the Kubernetes extensions clients act on — the
// patch strategy and merge key `kubectl apply` uses for strategic merge patches, list types and map
// keys for server-side apply, `x-kubernetes-group-version-kind` for `kubectl explain`.

import { modelAttributes, parseType, servedAttributes, type TypeRef } from './models.js';
import {
  FieldsV1Definition,
  IntOrStringDefinition,
  MicroTimeDefinition,
  PatchDefinition,
  QuantityDefinition,
  RawExtensionDefinition,
  TimeDefinition,
  definitionName,
  groupOfModel,
  kindOfModel,
} from './names.js';
import { atomicStructs, fieldMarkers, referencedDefinition, requiredFieldsOf, unions } from './gotags.js';
import { modelDocs } from './docs.js';

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

/** apimachinerySchema is a definition with no client-node model: scalars with custom JSON forms. */
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
