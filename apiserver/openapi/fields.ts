// Known fields: the compiled tree of a model's JSON fields that the apiserver's strict decoding
// (?fieldValidation) and the strategic merge patch's metadata lookup walk, without building a
// schema.

import { parseType, servedAttributes, type TypeRef } from './models.js';

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
