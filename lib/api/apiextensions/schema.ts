// Structural schemas at work on custom resources: validation with kube-openapi's semantics and
// apiextensions-apiserver's conversion of its results into field errors, pruning of unknown
// fields, defaulting, dropping of nulls, and x-kubernetes-list-type uniqueness. Every message and
// field path reads as kube-apiserver's do (`spec.replicas: Invalid value: "string":
// spec.replicas in body must be of type integer: "string"`).
//
// A schema is compiled once per CRD version (compileSchema) and then walked; the walks mirror
// Kubernetes' algorithms, with one difference: where Go iterates a map in random order, these walk
// properties in the order the CRD declares them.

import { setOwn } from '../../machinery/ownprops.js';
import { FieldErrorType, type FieldError, invalidValue, notSupported, required, tooLong, tooMany } from '../../machinery/field-errors.js';
import { goQuote } from '../../machinery/goquote.js';
import { checkFormat, isSupportedFormat } from './formats.js';
import type { JSONSchemaProps } from './types.js';
import { isInt64, isInteger, stringifyJSON } from '../../machinery/json.js';

/** Structural is one compiled schema node. */
export interface Structural {
  /** type is the declared type ('' when unset). */
  type: string;
  /** validationTypes are the types a value may have: x-kubernetes-int-or-string allows integer and string. */
  validationTypes: string[];
  /** format is kept only when Kubernetes checks it (unsupported formats are stripped). */
  format: string;
  nullable: boolean;
  properties?: Map<string, Structural>;
  additionalProperties?: { allows: boolean; schema?: Structural };
  items?: Structural;
  allOf: Structural[];
  anyOf: Structural[];
  oneOf: Structural[];
  not?: Structural;
  hasDefault: boolean;
  default?: unknown;
  preserveUnknownFields: boolean;
  embeddedResource: boolean;
  listType?: string;
  listMapKeys: string[];
  maximum?: number;
  exclusiveMaximum: boolean;
  minimum?: number;
  exclusiveMinimum: boolean;
  multipleOf?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  maxItems?: number;
  minItems?: number;
  uniqueItems: boolean;
  enum?: unknown[];
  required: string[];
  maxProperties?: number;
  minProperties?: number;
}

const compiled = new WeakMap<JSONSchemaProps, Structural>();

/** compileSchema turns a CRD's openAPIV3Schema into the form the walks below use (cached per schema object). */
export function compileSchema(props: JSONSchemaProps): Structural {
  const hit = compiled.get(props);
  if (hit) return hit;
  const s = compileNode(props);
  compiled.set(props, s);
  return s;
}

function compileNode(p: JSONSchemaProps): Structural {
  const type = typeof p.type === 'string' ? p.type : '';
  const intOrString = p['x-kubernetes-int-or-string'] === true;
  const s: Structural = {
    type,
    validationTypes: intOrString ? ['integer', 'string'] : type ? [type] : [],
    format: typeof p.format === 'string' && isSupportedFormat(p.format) ? p.format : '',
    nullable: p.nullable === true,
    allOf: (p.allOf ?? []).map(compileNode),
    anyOf: (p.anyOf ?? []).map(compileNode),
    oneOf: (p.oneOf ?? []).map(compileNode),
    not: p.not ? compileNode(p.not) : undefined,
    hasDefault: p.default !== undefined && p.default !== null,
    default: p.default ?? undefined,
    preserveUnknownFields: p['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: p['x-kubernetes-embedded-resource'] === true,
    listType: p['x-kubernetes-list-type'],
    listMapKeys: p['x-kubernetes-list-map-keys'] ?? [],
    maximum: num(p.maximum),
    exclusiveMaximum: p.exclusiveMaximum === true,
    minimum: num(p.minimum),
    exclusiveMinimum: p.exclusiveMinimum === true,
    multipleOf: num(p.multipleOf),
    maxLength: num(p.maxLength),
    minLength: num(p.minLength),
    pattern: typeof p.pattern === 'string' && p.pattern ? p.pattern : undefined,
    maxItems: num(p.maxItems),
    minItems: num(p.minItems),
    uniqueItems: p.uniqueItems === true,
    enum: Array.isArray(p.enum) && p.enum.length ? p.enum : undefined,
    required: Array.isArray(p.required) ? p.required : [],
    maxProperties: num(p.maxProperties),
    minProperties: num(p.minProperties),
  };
  if (p.properties && typeof p.properties === 'object') {
    s.properties = new Map(Object.entries(p.properties).map(([k, v]) => [k, compileNode(v)]));
  }
  if (p.additionalProperties !== undefined && p.additionalProperties !== null) {
    const ap = p.additionalProperties;
    s.additionalProperties = typeof ap === 'boolean' ? { allows: ap } : { allows: true, schema: compileNode(ap) };
  }
  if (p.items && !Array.isArray(p.items)) s.items = compileNode(p.items);
  return s;
}

function num(v: unknown): number | undefined {
  // A bound is a float64 in Go: an integer beyond 2^53 is read as the nearest one.
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' ? v : undefined;
}

// ---------------------------------------------------------------------------------------------
// Go formatting

/** goFloat prints a float64 as Go's %v does (strconv 'g', shortest, exponent from 1e21 or below 1e-4). */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mant, e] = n.toExponential().split('e');
    const ev = Number(e);
    return `${mant}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return String(n);
}

/** jsonKind is the JSON type of a decoded value, with integers told apart from other numbers. */
function jsonKind(v: unknown): 'null' | 'string' | 'boolean' | 'integer' | 'number' | 'array' | 'object' {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  // An integer beyond int64 decodes into a float64, as the unstructured JSON decoder does.
  if (typeof v === 'bigint') return isInt64(v) ? 'integer' : 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** deepEqualJSON compares decoded JSON values (numbers by value). */
export function deepEqualJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqualJSON(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqualJSON(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Validation (kube-openapi validate.SchemaValidator with In = "body")

type ErrorCode = 'invalidType' | 'required' | 'enum' | 'tooLong' | 'maxItems' | 'tooManyProperties' | 'other';

/** SchemaError is one kube-openapi result error: a *errors.Validation, or a composite (anyOf/oneOf/allOf/not) error. */
interface SchemaError {
  composite?: boolean;
  code: ErrorCode;
  /** name is the validator's path: `spec.replicas`, `spec.items[0]`, `.spec` for required at the root. */
  name: string;
  message: string;
  value?: unknown;
  valid?: number;
  values?: unknown[];
}

const inBody = 'body';

function typeError(name: string, typeName: string, value: string): SchemaError {
  return { code: 'invalidType', name, value, message: `${name} in ${inBody} must be of type ${typeName}: ${goQuote(value)}` };
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const regexCache = new Map<string, RegExp | Error>();

/** compileRegexp turns an RE2 pattern into a JavaScript RegExp (a leading `(?i)` becomes the i flag). */
function compileRegexp(pattern: string): RegExp | Error {
  let re = regexCache.get(pattern);
  if (re) return re;
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    re = new RegExp(source, `${flags}u`);
  } catch {
    try {
      re = new RegExp(source, flags);
    } catch (err) {
      re = err as Error;
    }
  }
  regexCache.set(pattern, re);
  return re;
}

/** patternError is why pattern does not compile, undefined when it does (for CRD validation). */
export function patternError(pattern: string): string | undefined {
  const re = compileRegexp(pattern);
  return re instanceof Error ? re.message : undefined;
}

function validateNode(s: Structural, data: unknown, path: string, out: SchemaError[]): void {
  if (data === null || data === undefined) {
    if (s.validationTypes.length && !s.validationTypes.includes('null') && !s.nullable) out.push(typeError(path, s.validationTypes.join(','), 'null'));
    validateEnum(s, data, path, out);
    return;
  }
  const kind = jsonKind(data);
  if (s.validationTypes.length || s.format) {
    const err = checkType(s, kind, path);
    if (err) out.push(err);
  }
  validateJunctors(s, data, path, out);
  if (kind === 'string') {
    validateString(s, data as string, path, out);
    if (s.format && !checkFormat(s.format, data as string)) out.push(typeError(path, s.format, data as string));
  }
  if (kind === 'integer' || kind === 'number') validateNumber(s, data as number | bigint, path, out);
  if (kind === 'array') validateSlice(s, data as unknown[], path, out);
  validateEnum(s, data, path, out);
  if (kind === 'object') validateObject(s, data as Record<string, unknown>, path, out);
}

/** checkType is kube-openapi's typeValidator for a non-null value. */
function checkType(s: Structural, kind: string, path: string): SchemaError | undefined {
  const types = s.validationTypes;
  // The value's own format, as go-openapi infers it from the decoded Go type.
  const valueFormat = kind === 'integer' ? 'int64' : kind === 'number' ? 'float64' : '';
  const isIntFloat = kind === 'integer' && types.includes('number');
  if (kind !== 'string' && kind !== 'array' && s.format && !(types.includes(kind) || valueFormat === s.format || isIntFloat)) {
    return typeError(path, s.format, valueFormat);
  }
  if (!(types.includes('number') || types.includes('integer')) && s.format && (kind === 'string' || kind === 'array')) return undefined;
  if (!(types.includes(kind) || isIntFloat)) return typeError(path, types.join(','), kind);
  return undefined;
}

function validateJunctors(s: Structural, data: unknown, path: string, out: SchemaError[]): void {
  const run = (sub: Structural): SchemaError[] => {
    const errs: SchemaError[] = [];
    validateNode(sub, data, path, errs);
    return errs;
  };
  const composite = (message: string): SchemaError => ({ composite: true, code: 'other', name: path, message });
  if (s.anyOf.length) {
    let best: SchemaError[] | undefined;
    let ok = false;
    for (const sub of s.anyOf) {
      const errs = run(sub);
      if (!errs.length) {
        ok = true;
        best = undefined;
        break;
      }
      if (!best || errs.length < best.length) best = errs;
    }
    if (!ok) out.push(composite(`${goQuote(path)} must validate at least one schema (anyOf)`));
    if (best) out.push(...best);
  }
  if (s.oneOf.length) {
    let valid = 0;
    let best: SchemaError[] | undefined;
    for (const sub of s.oneOf) {
      const errs = run(sub);
      if (!errs.length) {
        valid++;
        best = undefined;
        continue;
      }
      if (valid === 0 && (!best || errs.length < best.length)) best = errs;
    }
    if (valid !== 1) {
      out.push(composite(`${goQuote(path)} must validate one and only one schema (oneOf). ${valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`}`));
      if (best) out.push(...best);
    }
  }
  if (s.allOf.length) {
    let valid = 0;
    for (const sub of s.allOf) {
      const errs = run(sub);
      if (!errs.length) valid++;
      out.push(...errs);
    }
    if (valid !== s.allOf.length) out.push(composite(`${goQuote(path)} must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`));
  }
  if (s.not && !run(s.not).length) out.push(composite(`${goQuote(path)} must not validate the schema (not)`));
}

function validateString(s: Structural, data: string, path: string, out: SchemaError[]): void {
  const runes = [...data].length;
  if (s.maxLength !== undefined && runes > s.maxLength) {
    out.push({ code: 'tooLong', name: path, value: data, valid: s.maxLength, message: `${path} in ${inBody} should be at most ${s.maxLength} chars long` });
    return;
  }
  if (s.minLength !== undefined && runes < s.minLength) {
    out.push({ code: 'other', name: path, value: data, valid: s.minLength, message: `${path} in ${inBody} should be at least ${s.minLength} chars long` });
    return;
  }
  if (s.pattern !== undefined) {
    const re = compileRegexp(s.pattern);
    if (re instanceof Error) {
      out.push({ code: 'other', name: path, value: data, message: `${path} in ${inBody} should match '${s.pattern}, but pattern is invalid: ${re.message}'` });
    } else if (!re.test(data)) {
      out.push({ code: 'other', name: path, value: data, message: `${path} in ${inBody} should match '${s.pattern}'` });
    }
  }
}

function validateNumber(s: Structural, exact: number | bigint, path: string, out: SchemaError[]): void {
  // An integer beyond int64 is a float64 to the validator.
  const data = typeof exact === 'bigint' && !isInt64(exact) ? Number(exact) : exact;
  // Integers are checked as int64 against truncated bounds, other numbers as float64 (MaximumNativeType).
  const isInt = isInteger(data);
  const bound = (b: number) => (isInt ? String(Math.trunc(b)) : goFloat(b));
  if (s.multipleOf !== undefined) {
    const factor = isInt ? Math.trunc(s.multipleOf) : s.multipleOf;
    if (factor <= 0) {
      out.push({ code: 'other', name: path, value: factor, message: `factor MultipleOf declared for ${path} must be positive: ${bound(factor)}` });
    } else {
      const mult =
        typeof data === 'bigint' ? data % BigInt(factor) === 0n : isInt ? data % factor === 0 : Number.isInteger(factor < 1 ? (1 / factor) * data : data / factor);
      if (!mult) out.push({ code: 'other', name: path, value: data, message: `${path} in ${inBody} should be a multiple of ${bound(factor)}` });
    }
  }
  if (s.minimum !== undefined) {
    const min = isInt ? Math.trunc(s.minimum) : s.minimum;
    if (s.exclusiveMinimum ? data <= min : data < min) {
      out.push({ code: 'other', name: path, value: data, message: `${path} in ${inBody} should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${bound(min)}` });
    }
  }
  if (s.maximum !== undefined) {
    const max = isInt ? Math.trunc(s.maximum) : s.maximum;
    if (s.exclusiveMaximum ? data >= max : data > max) {
      out.push({ code: 'other', name: path, value: data, message: `${path} in ${inBody} should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${bound(max)}` });
    }
  }
}

function validateSlice(s: Structural, data: unknown[], path: string, out: SchemaError[]): void {
  if (s.items) data.forEach((item, i) => validateNode(s.items!, item, `${path}[${i}]`, out));
  if (s.minItems !== undefined && data.length < s.minItems) {
    out.push({ code: 'other', name: path, value: data.length, valid: s.minItems, message: `${path} in ${inBody} should have at least ${s.minItems} items` });
  }
  if (s.maxItems !== undefined && data.length > s.maxItems) {
    out.push({ code: 'maxItems', name: path, value: data.length, valid: s.maxItems, message: `${path} in ${inBody} should have at most ${s.maxItems} items` });
  }
  if (s.uniqueItems && data.some((x, i) => data.slice(0, i).some((y) => deepEqualJSON(x, y)))) {
    out.push({ code: 'other', name: path, message: `${path} in ${inBody} shouldn't contain duplicates` });
  }
}

function validateEnum(s: Structural, data: unknown, path: string, out: SchemaError[]): void {
  if (!s.enum) return;
  // A null never matches, not even a null in the enum (kube-openapi compares Go types first).
  if (data !== null && data !== undefined && s.enum.some((e) => e !== null && deepEqualJSON(data, e))) return;
  out.push({ code: 'enum', name: path, value: data ?? null, values: s.enum, message: `${path} in ${inBody} should be one of ${stringifyJSON(s.enum)}` });
}

function validateObject(s: Structural, data: Record<string, unknown>, path: string, out: SchemaError[]): void {
  const keys = Object.keys(data);
  if (s.minProperties !== undefined && keys.length < s.minProperties) {
    out.push({ code: 'other', name: path, value: keys.length, valid: s.minProperties, message: `${path} in ${inBody} should have at least ${s.minProperties} properties` });
  }
  if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
    out.push({ code: 'tooManyProperties', name: path, value: keys.length, valid: s.maxProperties, message: `${path} in ${inBody} should have at most ${s.maxProperties} properties` });
  }
  const ap = s.additionalProperties;
  if (ap && !ap.allows) {
    for (const k of keys) {
      if (!s.properties?.has(k)) out.push({ code: 'other', name: path, value: k, message: `${path}.${k} in ${inBody} is a forbidden property` });
    }
  } else if (ap?.schema) {
    for (const k of keys) if (!s.properties?.has(k)) validateNode(ap.schema, data[k], `${path}.${k}`, out);
  }
  if (s.properties) {
    for (const [k, sub] of s.properties) if (Object.hasOwn(data, k)) validateNode(sub, data[k], childPath(path, k), out);
  }
  for (const k of s.required) {
    if (!Object.hasOwn(data, k)) out.push({ code: 'required', name: `${path}.${k}`, message: `${path}.${k} in ${inBody} is required` });
  }
}

/**
 * validateValue validates a decoded JSON value against a schema and returns Kubernetes' field
 * errors (kubeOpenAPIResultToFieldErrors). fieldPath prefixes every error's path (`status` for a
 * status update); without it, paths start at the value's root.
 */
export function validateValue(schema: Structural, value: unknown, fieldPath?: string): FieldError[] {
  const errs: SchemaError[] = [];
  validateNode(schema, value, '', errs);
  return errs.map((e) => toFieldError(e, fieldPath));
}

function toFieldError(e: SchemaError, prefix: string | undefined): FieldError {
  // A nil field path prints as <nil>, as field.Path does.
  if (e.composite) return invalidValue(prefix ?? '<nil>', '', e.message);
  const name = e.name.replace(/^\./, '');
  const field = e.name && e.name !== '.' ? (prefix ? `${prefix}.${name}` : name) : (prefix ?? '<nil>');
  const value = e.value === undefined ? '' : e.value;
  switch (e.code) {
    case 'required':
      return required(field, '');
    case 'enum':
      return notSupported(field, e.value, (e.values ?? []).map((v) => (typeof v === 'string' ? v : stringifyJSON(v))));
    case 'tooLong':
      return tooLong(field, '', e.valid ?? -1);
    case 'maxItems':
    case 'tooManyProperties':
      return tooMany(field, (e.value as number) ?? -1, e.valid ?? -1);
    case 'invalidType':
      return { type: FieldErrorType.TypeInvalid, field, value, detail: e.message };
    default:
      return invalidValue(field, value, e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Pruning (structural pruning: unknown fields are dropped)

const metaFields = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * prune removes, in place, every field of obj the schema does not specify, and returns their paths
 * sorted (`spec.foo`, `spec.items[0].bar`). At a resource root (and inside
 * x-kubernetes-embedded-resource) apiVersion, kind and metadata are kept; under
 * x-kubernetes-preserve-unknown-fields nothing is pruned except inside specified properties.
 */
export function prune(obj: unknown, schema: Structural | undefined, isResourceRoot: boolean): string[] {
  const unknown: string[] = [];
  const root = isResourceRoot ? { ...(schema ?? emptyStructural()), embeddedResource: true } : schema;
  pruneNode(obj, root, '', unknown);
  return unknown.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function emptyStructural(): Structural {
  return compileNode({});
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function pruneNode(x: unknown, s: Structural | undefined, path: string, unknown: string[]): void {
  if (s?.preserveUnknownFields) return skipPrune(x, s, path, unknown);
  if (Array.isArray(x)) {
    x.forEach((v, i) => pruneNode(v, s?.items, `${path}[${i}]`, unknown));
    return;
  }
  if (!isPlainObject(x)) return;
  for (const k of Object.keys(x)) {
    if (s?.embeddedResource && metaFields.has(k)) continue;
    const prop = s?.properties?.get(k);
    if (prop) pruneNode(x[k], prop, join(path, k), unknown);
    else if (s?.additionalProperties) pruneNode(x[k], s.additionalProperties.schema, join(path, k), unknown);
    else {
      // A bare apiVersion/kind/metadata at the root is not reported (it is not a user's field there).
      if (!metaFields.has(k) || path !== '') unknown.push(join(path, k));
      delete x[k];
    }
  }
}

function skipPrune(x: unknown, s: Structural, path: string, unknown: string[]): void {
  if (Array.isArray(x)) {
    if (s.items) x.forEach((v, i) => skipPrune(v, s.items!, `${path}[${i}]`, unknown));
    return;
  }
  if (!isPlainObject(x)) return;
  for (const k of Object.keys(x)) {
    if (s.embeddedResource && metaFields.has(k)) continue;
    const prop = s.properties?.get(k);
    if (prop) pruneNode(x[k], prop, join(path, k), unknown);
    else if (s.additionalProperties) pruneNode(x[k], s.additionalProperties.schema, join(path, k), unknown);
  }
}

/** pruneNonNullableNullsWithoutDefaults drops `null` values of fields that are neither nullable nor defaulted. */
export function pruneNonNullableNullsWithoutDefaults(x: unknown, s: Structural | undefined): void {
  if (Array.isArray(x)) {
    for (const v of x) pruneNonNullableNullsWithoutDefaults(v, s?.items);
    return;
  }
  if (!isPlainObject(x)) return;
  for (const k of Object.keys(x)) {
    const sub = s?.properties?.get(k) ?? s?.additionalProperties?.schema;
    if (x[k] === null && sub && !sub.nullable && !sub.hasDefault) delete x[k];
    else pruneNonNullableNullsWithoutDefaults(x[k], sub);
  }
}

// ---------------------------------------------------------------------------------------------
// Defaulting

function isNonNullableNull(v: unknown, s: Structural | undefined): boolean {
  return v === null && !!s && !s.nullable;
}

/** applyDefaults fills, in place, missing (and non-nullable null) fields that have a schema default. */
export function applyDefaults(x: unknown, s: Structural | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (isNonNullableNull(x[i], s.items) && s.items?.hasDefault) x[i] = structuredClone(s.items.default);
      applyDefaults(x[i], s.items);
    }
    return;
  }
  if (!isPlainObject(x)) return;
  if (s.properties) {
    for (const [k, prop] of s.properties) {
      if (!prop.hasDefault) continue;
      if (!Object.hasOwn(x, k) || isNonNullableNull(x[k], prop)) setOwn(x, k, structuredClone(prop.default));
    }
  }
  for (const k of Object.keys(x)) {
    const prop = s.properties?.get(k);
    if (prop) applyDefaults(x[k], prop);
    else if (s.additionalProperties?.schema) {
      const ap = s.additionalProperties.schema;
      if (isNonNullableNull(x[k], ap) && ap.hasDefault) setOwn(x, k, structuredClone(ap.default));
      applyDefaults(x[k], ap);
    }
  }
}

/** hasDefaults tells whether any node of the schema declares a default (reads then need defaulting). */
export function hasDefaults(s: Structural | undefined): boolean {
  if (!s) return false;
  if (s.hasDefault) return true;
  if (s.items && hasDefaults(s.items)) return true;
  if (s.additionalProperties?.schema && hasDefaults(s.additionalProperties.schema)) return true;
  for (const p of s.properties?.values() ?? []) if (hasDefaults(p)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// List types (x-kubernetes-list-type set and map must hold unique items)

/** validateListSetsAndMaps reports duplicates in set lists and duplicate keys in map lists. */
export function validateListSetsAndMaps(s: Structural | undefined, obj: unknown, path = ''): FieldError[] {
  if (!s || !isPlainObject(obj)) return [];
  const errs: FieldError[] = [];
  for (const k of Object.keys(obj)) {
    const sub = s.properties?.get(k);
    if (sub) errs.push(...listsIn(sub, obj[k], join(path, k)));
    else if (s.additionalProperties?.schema) errs.push(...listsIn(s.additionalProperties.schema, obj[k], `${path}[${k}]`));
  }
  return errs;
}

function listsIn(s: Structural, v: unknown, path: string): FieldError[] {
  if (Array.isArray(v)) return validateListArray(s, v, path);
  if (isPlainObject(v)) return validateListSetsAndMaps(s, v, path);
  return [];
}

/** duplicateIndices lists, for each value seen more than once, the index of its second occurrence. */
function duplicateIndices(values: unknown[]): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  values.forEach((v, i) => {
    const key = v === unspecified ? '\u0000unspecified' : stringifyJSON(sortKeysDeep(v));
    const times = seen.get(key) ?? 0;
    if (times === 1) out.push(i);
    seen.set(key, times + 1);
  });
  return out;
}

const unspecified = Symbol('unspecified');

function validateListArray(s: Structural, arr: unknown[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (s.listType === 'set') {
    for (const i of duplicateIndices(arr)) errs.push({ type: FieldErrorType.Duplicate, field: `${path}[${i}]`, value: arr[i] });
  } else if (s.listType === 'map') {
    const bad = arr.findIndex((x) => x !== null && !isPlainObject(x));
    if (bad >= 0) errs.push(invalidValue(`${path}[${bad}]`, arr[bad], 'must be an object for an array of list-type map'));
    else if (arr.length > 1) {
      const keys = arr.map((x) => {
        const item = (x ?? {}) as Record<string, unknown>;
        if (s.listMapKeys.length === 1) return Object.hasOwn(item, s.listMapKeys[0]) ? item[s.listMapKeys[0]] : unspecified;
        const key: Record<string, unknown> = {};
        for (const k of s.listMapKeys) if (Object.hasOwn(item, k)) key[k] = item[k];
        return key;
      });
      for (const i of duplicateIndices(keys)) {
        const k = keys[i];
        const value = s.listMapKeys.length === 1 ? (k === unspecified ? {} : { [s.listMapKeys[0]]: k }) : k;
        errs.push({ type: FieldErrorType.Duplicate, field: `${path}[${i}]`, value });
      }
    }
  }
  if (s.items) arr.forEach((item, i) => errs.push(...listsIn(s.items!, item, `${path}[${i}]`)));
  return errs;
}

/** sortKeysDeep returns a copy of a JSON value with every object's keys in Go's map order (sorted). */
export function sortKeysDeep<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortKeysDeep) as T;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) setOwn(out, k, sortKeysDeep(v[k]));
  return out as T;
}

