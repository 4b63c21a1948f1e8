// Reflection over @kubernetes/client-node's generated models: every model class carries an
// `attributeTypeMap` (JSON name, TypeScript type, format), which is all the OpenAPI documents, the
// strict field checks and the decoding checks need to know about a type's fields.

// Only the generated models, not the whole client: a third of the load time.
import * as clientNode from '@kubernetes/client-node/dist/gen/models/all.js';
import { fieldsAfterV132 } from './gotags.js';

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

/** modelClassNames lists the names of every client-node model class. */
export function modelClassNames(): string[] {
  return Object.keys(modelClasses);
}
