// Test-only: encodeKubeProtobuf, the inverse of decode.ts's decodeKubeProtobuf, so tests can
// build protobuf bodies from the JSON objects they expect. The API server never encodes protobuf
// (it answers in JSON), so nothing outside tests imports this module.

import protobuf from 'protobufjs';
import { kubeProtobufEnvelope, kubeProtobufMessage, kubeProtobufPrefix } from './decode.js';

type Msg = Record<string, unknown>;


/** EncodeError reports a JSON object that does not fit the schema (a field it does not know). */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** parseTime reads RFC3339 (any fraction precision) into seconds and nanos. */
function parseTime(s: string, path: string): Msg {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new EncodeError(`${path}: invalid time ${JSON.stringify(s)}`);
  return { seconds: Math.floor(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

function wrapperFromJSON(type: protobuf.Type, v: unknown, path: string): { value: Msg } | undefined {
  switch (type.fullName) {
    case '.meta.v1.Time':
    case '.meta.v1.MicroTime':
      return { value: typeof v === 'string' ? parseTime(v, path) : {} };
    case '.resource.Quantity':
      return { value: { string: String(v) } };
    case '.intstr.IntOrString':
      return { value: typeof v === 'string' ? { type: 1, intVal: 0, strVal: v } : { type: 0, intVal: Number(v), strVal: '' } };
    case '.meta.v1.FieldsV1':
      return { value: { Raw: Buffer.from(JSON.stringify(v), 'utf8') } };
    case '.runtime.RawExtension':
      return { value: { raw: Buffer.from(JSON.stringify(v), 'utf8') } };
    case '.authentication.v1.ExtraValue':
      return { value: { items: [...(v as string[])] } };
    default:
      return undefined;
  }
}

function valueFromJSON(field: protobuf.Field, v: unknown, path: string): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    const w = wrapperFromJSON(t, v, path);
    return w ? w.value : messageFromJSON(t, v as Record<string, unknown>, path);
  }
  if (field.type === 'bytes') return Buffer.from(String(v), 'base64');
  return v;
}

const jsonNamesCache = new WeakMap<protobuf.Type, Set<string>>();

/** jsonNames lists the JSON keys a message accepts, inline members included. */
function jsonNames(type: protobuf.Type): Set<string> {
  let names = jsonNamesCache.get(type);
  if (!names) {
    names = new Set<string>();
    for (const field of type.fieldsArray) {
      const opts = field.options ?? {};
      if (opts['(inline)'] === true) for (const n of jsonNames(field.resolvedType as protobuf.Type)) names.add(n);
      else names.add(typeof opts['(json)'] === 'string' ? (opts['(json)'] as string) : field.name);
    }
    jsonNamesCache.set(type, names);
  }
  return names;
}

/** messageFromJSON builds the proto message for a JSON object; unknown keys are an error. */
function messageFromJSON(type: protobuf.Type, obj: Record<string, unknown>, path: string, skip: readonly string[] = []): Msg {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new EncodeError(`${path || '<root>'}: expected an object for ${type.name}`);
  }
  const known = jsonNames(type);
  for (const key of Object.keys(obj)) {
    if (!known.has(key) && !skip.includes(key)) throw new EncodeError(`${path ? `${path}.` : ''}${key}: not a field of ${type.name}`);
  }
  const m: Msg = {};
  for (const field of type.fieldsArray) {
    const opts = field.options ?? {};
    if (opts['(inline)'] === true) {
      // Go always writes an embedded struct, even an empty one.
      const sub = field.resolvedType as protobuf.Type;
      const names = jsonNames(sub);
      const part = Object.fromEntries(Object.entries(obj).filter(([k]) => names.has(k)));
      m[field.name] = messageFromJSON(sub, part, path);
      continue;
    }
    const name = typeof opts['(json)'] === 'string' ? (opts['(json)'] as string) : field.name;
    const v = obj[name];
    if (v === undefined || v === null) continue;
    const p = path ? `${path}.${name}` : name;
    if (field.map) {
      m[field.name] = Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, valueFromJSON(field, x, `${p}[${k}]`)]),
      );
    } else if (field.repeated) {
      m[field.name] = (v as unknown[]).map((x, i) => valueFromJSON(field, x, `${p}[${i}]`));
    } else {
      m[field.name] = valueFromJSON(field, v, p);
    }
  }
  return m;
}

/**
 * encodeKubeProtobuf is decodeKubeProtobuf's inverse: the object (with apiVersion and kind) as a
 * `k8s\0`-prefixed runtime.Unknown. A field the schema does not know throws EncodeError rather
 * than being dropped silently.
 */
export function encodeKubeProtobuf(obj: Record<string, unknown>): Buffer {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const type = kubeProtobufMessage(apiVersion, kind);
  if (!type) throw new EncodeError(`no protobuf message for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`);
  const raw = type.encode(messageFromJSON(type, obj, '', ['apiVersion', 'kind'])).finish();
  const envelope = kubeProtobufEnvelope()
    .encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })
    .finish();
  return Buffer.concat([kubeProtobufPrefix, envelope]);
}
