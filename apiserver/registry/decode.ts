// Decoding checks: every object a write would store is first held against its kind's Go types, as
// kube-apiserver decodes a body (encoding/json into the typed struct) or a strategic-merge-patched
// map (runtime.DefaultUnstructuredConverter) before defaulting and validation. A value of the wrong
// JSON type is refused with the decoder's own text (`json: cannot unmarshal string into Go struct
// field ObjectMeta.metadata.labels of type map[string]string`, `cannot restore map from string`);
// what decoding would drop is dropped here too: fields the type does not have (`__proto__`
// included) and null values of fields, so that what is stored always decodes.
//
// The types come from the same client-node models the OpenAPI documents are built from, compiled
// once per model into small nodes, so the walk on the write path is one pass over the object.

import { badRequest, type StatusError } from '../../lib/machinery/status.js';
import { modelAttributes, parseType, servedAttributes, type TypeRef } from '../openapi/models.js';
import { modelNameFor, splitModelName } from '../openapi/names.js';
import { isQuantityField } from '../openapi/gotags.js';
import { isInt64, isInteger, isNumeric } from '../../lib/machinery/json.js';

/** Flavor says which Go decoder's texts a check speaks: encoding/json (bodies, JSON and merge patches) or the unstructured converter (strategic merge patches). */
export type Flavor = 'json' | 'unstructured';

type Scalar = 'string' | 'bool' | 'int32' | 'int64' | 'float64' | 'bytes' | 'quantity' | 'intOrString' | 'time' | 'raw';

/** Node is the compiled Go type of one value. */
type Node =
  | { k: 'struct'; model: string; go: string }
  | { k: 'slice'; elem: Node; go: string }
  | { k: 'map'; elem: Node; go: string }
  | { k: Scalar; go: string };

/** StructInfo is a compiled model: its Go name (for error texts) and its JSON fields. */
interface StructInfo {
  name: string;
  fields: Map<string, Node>;
}

const structs = new Map<string, StructInfo>();

function goStructName(model: string): string {
  const n = splitModelName(model);
  return n ? n.type : model;
}

function goTypeName(model: string): string {
  const n = splitModelName(model);
  return n ? `${n.version}.${n.type}` : model;
}

function nodeOf(t: TypeRef, quantity: boolean): Node {
  switch (t.kind) {
    case 'model':
      return { k: 'struct', model: t.model, go: goTypeName(t.model) };
    case 'array': {
      const elem = nodeOf(t.items, quantity);
      return { k: 'slice', elem, go: `[]${elem.go}` };
    }
    case 'map': {
      const elem = nodeOf(t.values, quantity);
      return { k: 'map', elem, go: quantity ? 'v1.ResourceList' : `map[string]${elem.go}` };
    }
    case 'string':
      if (quantity) return { k: 'quantity', go: 'resource.Quantity' };
      if (t.format === 'byte') return { k: 'bytes', go: '[]uint8' };
      return { k: 'string', go: 'string' };
    case 'number':
      if (t.format === 'int32') return { k: 'int32', go: 'int32' };
      if (t.format === 'int64') return { k: 'int64', go: 'int64' };
      return { k: 'float64', go: 'float64' };
    case 'boolean':
      return { k: 'bool', go: 'bool' };
    case 'time':
    case 'microTime':
      return { k: 'time', go: t.kind === 'time' ? 'v1.Time' : 'v1.MicroTime' };
    case 'intOrString':
      return { k: 'intOrString', go: 'intstr.IntOrString' };
    case 'any':
      return { k: 'raw', go: 'runtime.RawExtension' };
  }
}

function structOf(model: string): StructInfo {
  let s = structs.get(model);
  if (!s) {
    const fields = new Map<string, Node>();
    for (const a of servedAttributes(model)) fields.set(a.baseName, nodeOf(parseType(a.type, a.format), isQuantityField(model, a.baseName)));
    s = { name: goStructName(model), fields };
    structs.set(model, s);
  }
  return s;
}

/** hasModel says whether model names a client-node model that decodeError can check against. */
export function hasModel(model: string | undefined): model is string {
  return !!model && !!modelAttributes(model);
}

// ---------------------------------------------------------------------------------------------
// The walk

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** jsonKind is how encoding/json names a JSON value in an UnmarshalTypeError. */
function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** reflectKind is the reflect.Kind of a decoded unstructured value (`cannot restore map from string`). */
function reflectKind(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  // The unstructured decoder keeps an integer as int64 when it fits, else as float64.
  if (typeof v === 'bigint') return isInt64(v) ? 'int64' : 'float64';
  if (Array.isArray(v)) return 'slice';
  if (isObject(v)) return 'map';
  return jsonKind(v);
}

/** reflectType is the Go type of a decoded unstructured value (`cannot convert string to int32`). */
function reflectType(v: unknown): string {
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  return reflectKind(v);
}

const quantityRE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const quantityError = `quantities must match the regular expression '${quantityRE.source}'`;
const int32Range = 2 ** 31;

/** base64Error is Go's base64.CorruptInputError text for a string StdEncoding cannot decode, if any. */
function base64Error(s: string): string | undefined {
  const text = s.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9+/=]/.exec(text);
  if (bad) return `illegal base64 data at input byte ${bad.index}`;
  const pad = text.indexOf('=');
  if (pad >= 0 && (!/^={1,2}$/.test(text.slice(pad)) || text.length % 4 !== 0)) return `illegal base64 data at input byte ${pad}`;
  if (text.length % 4 !== 0) return `illegal base64 data at input byte ${text.length - (text.length % 4)}`;
  return undefined;
}

const rfc3339 = '2006-01-02T15:04:05Z07:00';

/** goTimeQuote quotes as Go's time package does in a ParseError. */
function goTimeQuote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * rfc3339Error is the error Go's time.Parse(time.RFC3339, s) gives (metav1.Time's decoding), or
 * undefined: element by element, `cannot parse "<rest>" as "<layout element>"`, then the range
 * checks (`month out of range`) and trailing text.
 */
function rfc3339Error(s: string): string | undefined {
  const cannot = (rest: string, elem: string) => `parsing time ${goTimeQuote(s)} as ${goTimeQuote(rfc3339)}: cannot parse ${goTimeQuote(rest)} as ${goTimeQuote(elem)}`;
  const range = (what: string) => `parsing time ${goTimeQuote(s)}: ${what} out of range`;
  const digits2 = (x: string) => /^[0-9]{2}/.test(x);
  let rest = s;
  if (!/^[+-]?[0-9]{4}/.test(rest.slice(0, 4)) || !/^[0-9+-][0-9]{3}$/.test(rest.slice(0, 4))) return cannot(rest, '2006');
  const year = Number(rest.slice(0, 4));
  rest = rest.slice(4);
  const fields: [string, string, number, number, string][] = [
    ['-', '01', 1, 12, 'month'],
    ['-', '02', 1, 31, 'day'],
    ['T', '15', 0, 23, 'hour'],
    [':', '04', 0, 59, 'minute'],
    [':', '05', 0, 59, 'second'],
  ];
  const got: number[] = [];
  for (const [sep, elem, min, max, what] of fields) {
    if (!rest.startsWith(sep)) return cannot(rest, sep);
    rest = rest.slice(1);
    // The hour may have one digit; every other element has two.
    const m = elem === '15' ? /^[0-9]{1,2}/.exec(rest) : digits2(rest) ? [rest.slice(0, 2)] : null;
    if (!m) return cannot(rest, elem);
    const num = Number(m[0]);
    rest = rest.slice(m[0].length);
    if (what !== 'day' && (num < min || num > max)) return range(what);
    got.push(num);
  }
  const frac = /^[.,][0-9]+/.exec(rest);
  if (frac) rest = rest.slice(frac[0].length);
  if (rest.startsWith('Z')) rest = rest.slice(1);
  else if (rest.length >= 6 && rest[3] === ':' && (rest[0] === '+' || rest[0] === '-') && digits2(rest.slice(1)) && digits2(rest.slice(4))) rest = rest.slice(6);
  else return cannot(rest, 'Z07:00');
  if (rest) return `parsing time ${goTimeQuote(s)}: extra text: ${goTimeQuote(rest)}`;
  const [month, day] = got;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > days) return range('day');
  return undefined;
}

/** isInt says whether a decoded JSON number fits a Go int32 or int64 (an integer beyond 2^53 is a BigInt, exact). */
function isInt(v: number | bigint, bits: 32 | 64): boolean {
  if (bits === 64) return isInt64(v);
  return isInteger(v) && v >= -int32Range && v < int32Range;
}

/** zeroOf is the JSON form of a Go zero value, for a null where Go stores the element type's zero. */
function zeroOf(n: Node): unknown {
  switch (n.k) {
    case 'struct':
      return {};
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
    case 'float64':
      return 0;
    default:
      return null;
  }
}

class Walk {
  /** struct and path are encoding/json's error context: the innermost struct and the field names leading to the value. */
  private struct = '';
  private readonly path: string[] = [];

  /** trim drops what decoding drops (unknown fields, nulls); without it the walk only reports. */
  constructor(
    private readonly flavor: Flavor,
    private readonly trim: boolean,
  ) {}

  private mismatch(v: unknown, n: Node, numberText = false): string {
    if (this.flavor === 'unstructured') {
      if (n.k === 'struct') return `cannot restore struct from: ${reflectKind(v)}`;
      if (n.k === 'map') return `cannot restore map from ${reflectKind(v)}`;
      if (n.k === 'slice') return `cannot restore slice from ${reflectKind(v)}`;
      return `cannot convert ${reflectType(v)} to ${n.go}`;
    }
    const what = numberText ? `number ${String(v)}` : jsonKind(v);
    return `json: cannot unmarshal ${what} into Go struct field ${this.struct}.${this.path.join('.')} of type ${n.go}`;
  }

  /** value checks v against n and returns the first decoding error; it drops what decoding drops. */
  value(v: unknown, n: Node): string | undefined {
    // A YAML body may carry .inf or .nan, which JSON cannot: the YAML-to-JSON step refuses them.
    if (typeof v === 'number' && !Number.isFinite(v)) return `json: unsupported value: ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'}`;
    switch (n.k) {
      case 'raw':
        return undefined;
      case 'struct':
        if (!isObject(v)) return this.mismatch(v, n);
        return this.fields(v, n.model);
      case 'map': {
        if (!isObject(v)) return this.mismatch(v, n);
        for (const k of Object.keys(v)) {
          if (v[k] === null) {
            if (this.trim) v[k] = zeroOf(n.elem);
            continue;
          }
          const err = this.value(v[k], n.elem);
          if (err) return err;
        }
        return undefined;
      }
      case 'slice': {
        if (!Array.isArray(v)) return this.mismatch(v, n);
        for (let i = 0; i < v.length; i++) {
          if (v[i] === null) {
            if (this.trim) v[i] = zeroOf(n.elem);
            continue;
          }
          const err = this.value(v[i], n.elem);
          if (err) return err;
        }
        return undefined;
      }
      case 'string':
        return typeof v === 'string' ? undefined : this.mismatch(v, n);
      case 'bool':
        return typeof v === 'boolean' ? undefined : this.mismatch(v, n);
      case 'float64':
        return isNumeric(v) ? undefined : this.mismatch(v, n);
      case 'int32':
      case 'int64':
        if (!isNumeric(v)) return this.mismatch(v, n);
        if (isInt(v, n.k === 'int32' ? 32 : 64)) return undefined;
        if (this.flavor === 'unstructured') {
          if (typeof v === 'bigint' ? isInt64(v) : Number.isInteger(v)) return `cannot convert int64 to ${n.go}`;
          // Beyond int64 the unstructured map holds a float64, which does not convert to an integer field.
          if (typeof v === 'bigint') return `cannot convert float64 to ${n.go}`;
        }
        return this.mismatch(v, n, true);
      case 'bytes':
        if (typeof v !== 'string') return this.flavor === 'unstructured' ? `cannot restore slice from ${reflectKind(v)}` : this.mismatch(v, n);
        return base64Error(v);
      // The types with their own UnmarshalJSON answer with their own texts, in both flavors (the
      // unstructured converter goes through JSON for them).
      case 'quantity':
        if (isNumeric(v)) return undefined;
        if (typeof v === 'string' && quantityRE.test(v.trim())) return undefined;
        return quantityError;
      case 'intOrString':
        if (typeof v === 'string') return undefined;
        if (isNumeric(v)) return isInt(v, 32) ? undefined : `json: cannot unmarshal number ${String(v)} into Go value of type int32`;
        return `json: cannot unmarshal ${jsonKind(v)} into Go value of type int32`;
      case 'time':
        if (typeof v !== 'string') return `json: cannot unmarshal ${jsonKind(v)} into Go value of type string`;
        // MicroTime's fixed six fraction digits are not held to: skiff's own writers send fewer.
        return n.go === 'v1.Time' && v !== '' ? rfc3339Error(v) : undefined;
    }
  }

  /** fields checks a struct's fields, dropping unknown fields and null values as decoding does. */
  fields(v: Record<string, unknown>, model: string): string | undefined {
    const s = structOf(model);
    const outer = this.struct;
    for (const k of Object.keys(v)) {
      const n = s.fields.get(k);
      const x = v[k];
      if (!n || x === null) {
        if (this.trim) delete v[k];
        continue;
      }
      this.struct = s.name;
      this.path.push(k);
      const err = this.value(x, n);
      this.path.pop();
      this.struct = outer;
      if (err) return err;
    }
    return undefined;
  }

  /** at places the walk inside a struct (for checking a part of an object, such as a custom resource's metadata). */
  at(struct: string, path: string[]): this {
    this.struct = struct;
    this.path.push(...path);
    return this;
  }
}

/** DecodeOptions tune decodeError. */
export interface DecodeOptions {
  flavor: Flavor;
  /** trim drops unknown fields and null values in place, as decoding does (default: report only). */
  trim?: boolean;
}

/**
 * decodeError checks obj against a model's Go type as kube-apiserver's decoder would: it returns
 * the decoder's error text for the first value of the wrong type, or undefined. obj must be an
 * object.
 */
export function decodeError(model: string, obj: Record<string, unknown>, opts: DecodeOptions): string | undefined {
  return new Walk(opts.flavor, !!opts.trim).fields(obj, model);
}

/**
 * metadataDecodeError checks a custom resource's metadata as ObjectMeta: a custom resource's other
 * fields are its schema's (pruned and validated by apiserver/crd), its metadata is Go's.
 */
export function metadataDecodeError(obj: Record<string, unknown>, opts: DecodeOptions): string | undefined {
  const meta = obj.metadata;
  if (meta === undefined || meta === null) return undefined;
  const w = new Walk(opts.flavor, !!opts.trim).at('ObjectMeta', ['metadata']);
  return w.value(meta, { k: 'struct', model: 'V1ObjectMeta', go: 'v1.ObjectMeta' });
}

/** ResourceTypes is what objectDecodeError needs of a resource: its kind and, for a built-in kind, its model. */
export interface ResourceTypes {
  group: string;
  version: string;
  kind: string;
  model?: string;
}

const modelCache = new WeakMap<object, string | null>();

function modelFor(def: ResourceTypes): string | undefined {
  let m = modelCache.get(def);
  if (m === undefined) {
    m = hasModel(def.model) ? def.model : (modelNameFor(def.group, def.version, def.kind) ?? null);
    modelCache.set(def, m);
  }
  return m ?? undefined;
}

/**
 * objectDecodeError checks an object a write would store: a built-in kind against its model, any
 * other kind (a custom resource) by its metadata.
 */
export function objectDecodeError(def: ResourceTypes, obj: Record<string, unknown>, opts: DecodeOptions): string | undefined {
  const model = modelFor(def);
  return model ? decodeError(model, obj, opts) : metadataDecodeError(obj, opts);
}

/**
 * bodyDecodeError is the 400 kube-apiserver answers for a create or update body that does not
 * decode into the kind: `Secret in version "v1" cannot be handled as a Secret: <decoder's text>`,
 * naming the kind and version the body declares (or the resource's). With trim, what decoding
 * drops is dropped from body.
 */
export function bodyDecodeError(def: ResourceTypes, body: Record<string, unknown>, trim = false): StatusError | undefined {
  const msg = objectDecodeError(def, body, { flavor: 'json', trim });
  if (msg === undefined) return undefined;
  const kind = typeof body.kind === 'string' && body.kind ? body.kind : def.kind;
  const version = typeof body.apiVersion === 'string' && body.apiVersion ? body.apiVersion.split('/').pop()! : def.version;
  return badRequest(`${kind} in version "${version}" cannot be handled as a ${def.kind}: ${msg}`);
}
