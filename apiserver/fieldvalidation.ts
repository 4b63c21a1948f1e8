// Server-side field validation (?fieldValidation=Strict|Warn|Ignore): finding unknown and
// duplicate fields in a request body, and reporting them with kube-apiserver's exact texts.
//
// kube-apiserver decodes a JSON body with sigs.k8s.io/json's strict mode, which reports, in
// document order, `unknown field "spec.foo"` for a key no Go struct field matches (case-sensitive)
// and `duplicate field "metadata.name"` for a key seen twice in one object. Paths join keys with
// `.` and array positions as `[0]`. Values with their own JSON form (Quantity, IntOrString, Time)
// and raw JSON (RawExtension, FieldsV1) are not looked into. A YAML body is first checked by
// go-yaml's strict mode, which names duplicates by line (`line 3: key "a" already set in map`),
// and then its JSON form (with keys sorted, as the YAML→JSON conversion leaves them) is checked for
// unknown fields. Strict fails the request with all problems in one message; Warn sends one
// `Warning: 299 - "…"` header per problem.

import { goQuote } from '../lib/machinery/goquote.js';
import { isInt64 } from '../lib/machinery/json.js';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YAMLNode } from 'yaml';
import { fieldsOf, type FieldType } from './openapi/fields.js';
import { invalidValue, notSupported } from '../lib/machinery/field-errors.js';
import { StatusError, badRequest, invalid } from '../lib/machinery/status.js';
import { WarningRecorder } from './endpoints/warning.js';

/** FieldValidation is the ?fieldValidation directive. */
export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

/** fieldValidationDirective returns the directive a request asks for; Warn when it asks nothing, as kube-apiserver defaults. */
export function fieldValidationDirective(query: URLSearchParams): string {
  return query.get('fieldValidation') || 'Warn';
}

/**
 * validateFieldValidation checks the ?fieldValidation value as metav1 validation does, returning
 * the 422 kube-apiserver answers for an unsupported one (`CreateOptions.meta.k8s.io "" is invalid:
 * fieldValidation: Unsupported value: "x": supported values: "", "Ignore", "Strict", "Warn"`).
 */
export function validateFieldValidation(
  value: string,
  optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
): StatusError | undefined {
  if (value === '' || value === 'Ignore' || value === 'Warn' || value === 'Strict') return undefined;
  return invalid({ group: 'meta.k8s.io', kind: optionsKind }, '', [notSupported('fieldValidation', value, ['', 'Ignore', 'Strict', 'Warn'])]);
}

// ---------------------------------------------------------------------------------------------
// Problem texts

export { goQuote };


/** unknownField renders one unknown-field problem: `unknown field "spec.foo"`. */
export function unknownField(path: string): string {
  return `unknown field ${goQuote(path)}`;
}

/** duplicateField renders one duplicate-field problem: `duplicate field "metadata.name"`. */
export function duplicateField(path: string): string {
  return `duplicate field ${goQuote(path)}`;
}

/** maxStrictErrors: sigs.k8s.io/json stops collecting after this many problems. */
const maxStrictErrors = 100;

// ---------------------------------------------------------------------------------------------
// JSON

/** Context says how a JSON value is decoded: into a known type, as untyped JSON, or not at all. */
type Context = FieldType | { kind: 'interface' } | { kind: 'skip' };

class StrictScanner {
  private pos = 0;
  private readonly stack: string[] = [];
  readonly problems: string[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly text: string,
    private readonly checkUnknown: boolean,
  ) {}

  /** scan walks the whole document; it throws on malformed JSON. */
  scan(ctx: Context): void {
    this.ws();
    this.value(ctx);
    this.ws();
    if (this.pos !== this.text.length) throw new SyntaxError(`unexpected data at offset ${this.pos}`);
  }

  private report(text: string): void {
    if (this.problems.length >= maxStrictErrors || this.seen.has(text)) return;
    this.seen.add(text);
    this.problems.push(text);
  }

  /** fieldPath is the path of a key under the current position, as newFieldError builds it. */
  private fieldPath(key: string): string {
    return this.stack.length ? `${this.stack.join('')}.${key}` : key;
  }

  private pushKey(key: string): void {
    this.stack.push(this.stack.length ? `.${key}` : key);
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private value(ctx: Context): void {
    const c = this.text[this.pos];
    if (c === '{') return this.object(ctx);
    if (c === '[') return this.array(ctx);
    if (c === '"') {
      this.string();
      return;
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m || m[0] === '') throw new SyntaxError(`invalid character at offset ${this.pos}`);
    this.pos += m[0].length;
  }

  private string(): string {
    const t = this.text;
    let i = this.pos + 1;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= t.length) throw new SyntaxError('unterminated string');
      const c = t[i];
      if (c === '"') break;
      if (c === '\\') {
        out += t.slice(start, i);
        const e = t[i + 1];
        if (e === 'u') {
          out += String.fromCharCode(parseInt(t.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          out += ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
          i += 2;
        }
        start = i;
        continue;
      }
      i++;
    }
    out += t.slice(start, i);
    this.pos = i + 1;
    return out;
  }

  private object(ctx: Context): void {
    this.pos++; // {
    const struct = ctx.kind === 'object' ? fieldsOf(ctx.model) : undefined;
    const checksKeys = ctx.kind === 'object' || ctx.kind === 'map' || ctx.kind === 'interface';
    const keys = new Set<string>();
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') throw new SyntaxError(`expected object key at offset ${this.pos}`);
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') throw new SyntaxError(`expected ':' at offset ${this.pos}`);
      this.pos++;
      this.ws();
      let child: Context = { kind: 'skip' };
      if (checksKeys) {
        const known = struct ? struct.fields.get(key) : undefined;
        if (struct && !known) {
          if (this.checkUnknown) this.report(unknownField(this.fieldPath(key)));
        } else {
          if (keys.has(key)) this.report(duplicateField(this.fieldPath(key)));
          keys.add(key);
          child = known ?? (ctx.kind === 'map' ? ctx.values : { kind: 'interface' });
        }
      }
      if (child.kind === 'skip') this.value(child);
      else {
        this.pushKey(key);
        this.value(child);
        this.stack.pop();
      }
      this.ws();
      const sep = this.text[this.pos++];
      if (sep === '}') return;
      if (sep !== ',') throw new SyntaxError(`expected ',' or '}' at offset ${this.pos - 1}`);
    }
  }

  private array(ctx: Context): void {
    this.pos++; // [
    const item: Context = ctx.kind === 'array' ? ctx.items : ctx.kind === 'interface' ? ctx : { kind: 'skip' };
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.ws();
      this.stack.push(`[${i}]`);
      this.value(item);
      this.stack.pop();
      this.ws();
      const sep = this.text[this.pos++];
      if (sep === ']') return;
      if (sep !== ',') throw new SyntaxError(`expected ',' or ']' at offset ${this.pos - 1}`);
    }
  }
}

function rootContext(modelName: string | undefined): Context {
  return modelName ? { kind: 'object', model: modelName } : { kind: 'interface' };
}

/**
 * strictJSONProblems decodes JSON text the way kube-apiserver's strict decoder does and returns
 * its problems in order (`unknown field "…"`, `duplicate field "…"`). Without a model the text is
 * decoded as untyped JSON, which finds duplicates only. Malformed JSON yields no problems: the
 * ordinary decoder reports that.
 */
export function strictJSONProblems(jsonText: string, modelName?: string): string[] {
  const s = new StrictScanner(jsonText, true);
  try {
    s.scan(rootContext(modelName));
  } catch {
    return [];
  }
  return s.problems;
}

/**
 * findDuplicateFields lists the paths of keys that appear twice in one JSON object (JSON.parse
 * silently keeps the last). With a model, raw fields and unknown fields are not looked into, as in
 * kube-apiserver.
 */
export function findDuplicateFields(jsonText: string, modelName?: string): string[] {
  const s = new StrictScanner(jsonText, false);
  try {
    s.scan(rootContext(modelName));
  } catch {
    return [];
  }
  return s.problems.map((p) => JSON.parse(p.slice('duplicate field '.length)) as string);
}

/** UnknownFieldOptions tune findUnknownFields. */
export interface UnknownFieldOptions {
  /** sortedKeys walks object keys in sorted order, as a YAML body's JSON form presents them. */
  sortedKeys?: boolean;
}

/**
 * findUnknownFields lists the paths (`spec.template.spec.containers[0].imagePullPolcy`) of fields
 * of a decoded object that the model does not declare. Maps (labels, annotations, data) take any
 * key; raw fields (RawExtension, FieldsV1) are not looked into.
 */
export function findUnknownFields(obj: unknown, modelName: string, opts: UnknownFieldOptions = {}): string[] {
  const out: string[] = [];
  const walk = (v: unknown, t: FieldType, path: string): void => {
    if (out.length >= maxStrictErrors || v === null || typeof v !== 'object') return;
    if (t.kind === 'array') {
      if (Array.isArray(v)) v.forEach((item, i) => walk(item, t.items, `${path}[${i}]`));
      return;
    }
    if (Array.isArray(v) || (t.kind !== 'object' && t.kind !== 'map')) return;
    let keys = Object.keys(v);
    if (opts.sortedKeys) keys = keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const struct = t.kind === 'object' ? fieldsOf(t.model) : undefined;
    for (const key of keys) {
      const child = path ? `${path}.${key}` : key;
      const ft = struct ? struct.fields.get(key) : (t as { values: FieldType }).values;
      if (!ft) {
        out.push(child);
        continue;
      }
      walk((v as Record<string, unknown>)[key], ft, child);
    }
  };
  walk(obj, { kind: 'object', model: modelName }, '');
  return out.slice(0, maxStrictErrors);
}

// ---------------------------------------------------------------------------------------------
// YAML

const yamlShortPrefix = 'yaml: unmarshal errors:\n';
const yamlLongPrefix = 'error converting YAML to JSON: yaml: unmarshal errors:\n';

function goYAMLKey(v: unknown): string {
  if (typeof v === 'string') return goQuote(v);
  if (v === null || v === undefined) return '<nil>';
  return String(v);
}

/**
 * findDuplicateYAMLKeys reports keys repeated in one YAML mapping as go-yaml's strict mode does:
 * `line 3: key "a" already set in map`, numbered by the line where the repeated key's value
 * starts, inner mappings before the mapping that holds them.
 */
export function findDuplicateYAMLKeys(yamlText: string): string[] {
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(yamlText, { uniqueKeys: false, lineCounter, keepSourceTokens: false });
  } catch {
    return [];
  }
  if (doc.errors.length) return [];
  const out: string[] = [];
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const visit = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        visit(pair.value);
        const id = `${typeof key}:${String(key)}`;
        if (seen.has(id)) {
          const value = pair.value as YAMLNode | null;
          const at = value?.range?.[0] ?? (pair.key as YAMLNode | null)?.range?.[0] ?? 0;
          out.push(`line ${lineOf(at)}: key ${goYAMLKey(key)} already set in map`);
        }
        seen.add(id);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents);
  return out;
}

/** yamlStrictError joins go-yaml duplicate-key lines into the one error go-yaml returns. */
export function yamlStrictError(lines: string[]): string {
  return yamlShortPrefix + lines.map((l) => `  ${l}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Whole bodies

/**
 * strictProblems checks a create/update body as kube-apiserver's strict decoder does, by media
 * type: JSON text in one pass; YAML by go-yaml's duplicate check, then the decoded object's
 * unknown fields in sorted-key order. Other media types (protobuf) have no such problems. Without
 * a model (a custom resource) only duplicates are found; unknown fields there are the schema's.
 */
export function strictProblems(raw: string | Buffer, mediaType: string, modelName: string | undefined, decoded?: unknown): string[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return strictJSONProblems(text, modelName);
  if (mediaType === 'application/yaml' || mediaType.endsWith('+yaml')) {
    const problems: string[] = [];
    const dups = findDuplicateYAMLKeys(text);
    if (dups.length) problems.push(yamlStrictError(dups));
    if (!modelName) return problems;
    let obj = decoded;
    if (obj === undefined) {
      try {
        obj = parseDocument(text, { uniqueKeys: false }).toJS();
      } catch {
        obj = undefined;
      }
    }
    for (const p of findUnknownFields(obj, modelName, { sortedKeys: true })) problems.push(unknownField(p));
    return problems;
  }
  return [];
}

/** strictDecodingMessage is runtime.NewStrictDecodingError(...).Error(). */
export function strictDecodingMessage(problems: string[]): string {
  return `strict decoding error: ${problems.join(', ')}`;
}

/** DecodeTarget names the body's kind and the kind it was decoded into, for the create/update message. */
export interface DecodeTarget {
  /** kind and version the body declared (or the defaults filled in). */
  kind: string;
  version: string;
  /** intoKind is the resource's kind; defaults to kind. */
  intoKind?: string;
}

/**
 * strictDecodingError is the 400 a create or update with fieldValidation=Strict answers:
 * `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown
 * field "spec.foo", duplicate field "metadata.name"`. Without a target only the strict part is the
 * message (what kube-apiserver says when the body names no kind).
 */
export function strictDecodingError(problems: string[], target?: DecodeTarget): StatusError {
  const msg = strictDecodingMessage(problems);
  if (!target) return badRequest(msg);
  return badRequest(`${target.kind} in version ${goQuote(target.version)} cannot be handled as a ${target.intoKind ?? target.kind}: ${msg}`);
}

/**
 * strictPatchError is the 422 a JSON, merge or strategic merge patch with fieldValidation=Strict
 * answers: Invalid with no kind or name and one `patch` cause whose value is the patched object
 * (JSON and merge patches) or the patch map (strategic merge patches, see goValueString), which
 * kubectl prints as `The request is invalid: patch: Invalid value: "…": strict decoding error: …`.
 */
export function strictPatchError(problems: string[], patchValue: string): StatusError {
  return invalid({ group: '', kind: '' }, '', [invalidValue('patch', patchValue, strictDecodingMessage(problems))]);
}

/**
 * applyStrictError is the 400 an apply patch (application/apply-patch+yaml) with duplicate keys
 * answers under Strict; the YAML error carries sigs.k8s.io/yaml's conversion prefix there.
 */
export function applyStrictError(duplicateLines: string[]): StatusError {
  return badRequest(`error strict decoding YAML: error converting YAML to JSON: ${yamlStrictError(duplicateLines)}`);
}

/** applyStrictProblems are the problems an apply patch's duplicate keys give under Warn (see warningsFor). */
export function applyStrictProblems(duplicateLines: string[]): string[] {
  return duplicateLines.length ? [`error converting YAML to JSON: ${yamlStrictError(duplicateLines)}`] : [];
}

/**
 * warningTexts splits problems into warning texts as kube-apiserver's parseYAMLWarnings does: a
 * go-yaml error becomes one warning per line, anything else stays whole.
 */
export function warningTexts(problems: string[]): string[] {
  const out: string[] = [];
  for (const p of problems) {
    const rest = p.startsWith(yamlShortPrefix) ? p.slice(yamlShortPrefix.length) : p.startsWith(yamlLongPrefix) ? p.slice(yamlLongPrefix.length) : undefined;
    if (rest === undefined) out.push(p);
    else for (const line of rest.split('\n')) out.push(line.trim());
  }
  return out;
}

export { warningHeaderValue } from './endpoints/warning.js';

/** warningHeaders is the `Warning` header values the apiserver's warning recorder makes of these texts. */
export function warningHeaders(texts: string[]): string[] {
  const recorder = new WarningRecorder();
  for (const t of texts) recorder.add(t);
  return recorder.headers();
}

/** warningsFor is the Warning header values for strict problems under fieldValidation=Warn. */
export function warningsFor(problems: string[]): string[] {
  return warningHeaders(warningTexts(problems));
}

// ---------------------------------------------------------------------------------------------
// Go formatting of patch maps

function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  // %v of a float64 is %g with the shortest digits, which switches to exponent form below 1e-4
  // and from 1e6 (strconv's "precision 6" rule for the shortest form).
  if (exp < -4 || exp >= 6) {
    const [mant, e] = n.toExponential().split('e');
    const ev = Number(e);
    return `${mant}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return String(n);
}

/**
 * goValueString prints a decoded JSON value as Go's fmt `%+v` prints the map[string]interface{}
 * kube-apiserver decoded a strategic merge patch into (`map[spec:map[replicas:3]]`): map keys
 * sorted, strings bare, whole numbers as integers.
 */
export function goValueString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? String(v) : goFloat(v);
  // An integer beyond int64 is a float64 in the unstructured map.
  if (typeof v === 'bigint') return isInt64(v) ? String(v) : goFloat(Number(v));
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValueString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${goValueString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}
