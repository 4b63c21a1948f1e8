// A custom resource's metadata is ObjectMeta, whatever the CRD's schema says: its unknown fields
// are found (for ?fieldValidation) and dropped (on decoding) by ObjectMeta's known fields.

import { fieldsOf, type FieldType } from '../openapi/fields.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function unknownIn(v: unknown, t: FieldType, path: string, out: string[], drop: boolean): void {
  if (t.kind === 'array') {
    if (Array.isArray(v)) v.forEach((item, i) => unknownIn(item, t.items, `${path}[${i}]`, out, drop));
    return;
  }
  if (!isPlainObject(v)) return;
  if (t.kind === 'map') {
    for (const k of Object.keys(v)) unknownIn(v[k], t.values, `${path}.${k}`, out, drop);
    return;
  }
  if (t.kind !== 'object') return;
  const known = fieldsOf(t.model).fields;
  for (const k of Object.keys(v)) {
    const ft = known.get(k);
    if (!ft) {
      out.push(`${path}.${k}`);
      if (drop) delete v[k];
    } else unknownIn(v[k], ft, `${path}.${k}`, out, drop);
  }
}

/**
 * metadataUnknownFields lists the fields of obj.metadata that ObjectMeta does not have
 * (`metadata.foo`), removing them when drop is set, as decoding a custom resource's metadata does.
 */
export function metadataUnknownFields(obj: unknown, drop: boolean): string[] {
  const out: string[] = [];
  if (isPlainObject(obj) && isPlainObject(obj.metadata)) unknownIn(obj.metadata, { kind: 'object', model: 'V1ObjectMeta' }, 'metadata', out, drop);
  return out;
}

