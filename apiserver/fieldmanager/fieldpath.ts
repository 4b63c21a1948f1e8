// Field paths and field sets, as structured-merge-diff (sigs.k8s.io/structured-merge-diff fieldpath)
// defines them: a path walks from the object's root through field names, associative-list keys,
// set values and (for atomic lists) indexes; a set is a trie of such paths. FieldsV1 is that trie
// serialized as JSON (`f:spec`, `k:{"name":"web"}`, `v:"finalizer"`, `i:0`, with `.` marking a
// node that is itself a member), the encoding of `metadata.managedFields[*].fieldsV1`.

import { goQuote } from '../../lib/machinery/goquote.js';
import { parseJSON as parseExactJSON } from '../../lib/machinery/json.js';

/** Json is a decoded JSON value. */
/** Json is a decoded JSON value; an integer beyond 2^53 is a BigInt (lib/machinery/json.ts). */
export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Values

/** goJSON encodes v as Go's encoding/json does: map keys sorted, <, > and & escaped. */
export function goJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => goJSON(x === undefined ? null : x)).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(compareStrings);
    return `{${keys.map((k) => `${goString(k)}:${goJSON(v[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'bigint') return String(v);
  return JSON.stringify(v ?? null);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** compareStrings orders strings by their UTF-8 bytes, as Go's strings.Compare does. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order except around surrogates and U+E000..U+FFFF.
  if (!highChars.test(a) && !highChars.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const highChars = /[\uD800-\uFFFF]/;

function typeRank(v: Json): number {
  if (typeof v === 'number' || typeof v === 'bigint') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isObject(v)) return 4;
  return 5; // null
}

/** compareValues is structured-merge-diff's total order over values (numbers, strings, bools, lists, maps, null). */
export function compareValues(a: Json, b: Json): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return a === b ? 0 : (a as number | bigint) < (b as number | bigint) ? -1 : 1;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as Json[];
      const lb = b as Json[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c) return c;
      }
      return la.length === lb.length ? 0 : la.length < lb.length ? -1 : 1;
    }
    case 4: {
      const ka = Object.keys(a as JsonObject).sort(compareStrings);
      const kb = Object.keys(b as JsonObject).sort(compareStrings);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c = compareStrings(ka[i], kb[i]) || compareValues((a as JsonObject)[ka[i]], (b as JsonObject)[kb[i]]);
        if (c) return c;
      }
      return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
    }
  }
  return 0;
}

/** equalValues is deep equality where map key order does not matter. */
export function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalValues(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!(k in b) || !equalValues(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** valueString is structured-merge-diff's value.ToString: strings quoted as Go's %q, the rest as Go's %v. */
export function valueString(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  return Object.entries(v)
    .map(([k, x]) => `${k}=${valueString(x)}`)
    .join('');
}


// ---------------------------------------------------------------------------------------------
// Path elements

/** PathElement selects a child: a field by name, an associative-list item by its keys, a set item by value, an atomic-list item by index. */
export type PathElement =
  | { readonly field: string }
  | { readonly key: ReadonlyArray<readonly [string, Json]> }
  | { readonly value: Json }
  | { readonly index: number };

export type Path = readonly PathElement[];

export function fieldPE(name: string): PathElement {
  return { field: name };
}

/** keyPE builds a key element; its fields are sorted by name, as Kubernetes keeps them. */
export function keyPE(fields: Record<string, Json> | ReadonlyArray<readonly [string, Json]>): PathElement {
  const list = Array.isArray(fields) ? [...(fields as ReadonlyArray<readonly [string, Json]>)] : Object.entries(fields);
  list.sort((a, b) => compareStrings(a[0], b[0]));
  return { key: list };
}

export function valuePE(value: Json): PathElement {
  return { value };
}

export function indexPE(index: number): PathElement {
  return { index };
}

function peRank(pe: PathElement): number {
  if ('field' in pe) return 0;
  if ('key' in pe) return 1;
  if ('value' in pe) return 2;
  return 3;
}

/** comparePE orders path elements: fields, then keys, then values, then indexes. */
export function comparePE(a: PathElement, b: PathElement): number {
  const ra = peRank(a);
  const rb = peRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if ('field' in a) return compareStrings(a.field, (b as { field: string }).field);
  if ('key' in a) {
    const ka = a.key;
    const kb = (b as { key: ReadonlyArray<readonly [string, Json]> }).key;
    for (let i = 0; ; i++) {
      if (i >= ka.length && i >= kb.length) return 0;
      if (i >= ka.length) return -1;
      if (i >= kb.length) return 1;
      const c = compareStrings(ka[i][0], kb[i][0]) || compareValues(ka[i][1], kb[i][1]);
      if (c) return c;
    }
  }
  if ('value' in a) return compareValues(a.value, (b as { value: Json }).value);
  const ia = (a as { index: number }).index;
  const ib = (b as { index: number }).index;
  return ia === ib ? 0 : ia < ib ? -1 : 1;
}

/** serializePE is an element's FieldsV1 key: `f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`. It is also its identity. */
export function serializePE(pe: PathElement): string {
  if ('field' in pe) return `f:${pe.field}`;
  if ('key' in pe) return `k:{${pe.key.map(([k, v]) => `${goString(k)}:${goJSON(v)}`).join(',')}}`;
  if ('value' in pe) return `v:${goJSON(pe.value)}`;
  return `i:${pe.index}`;
}

/** FieldsV1ParseError: a FieldsV1 key or value that cannot be read. */
export class FieldsV1ParseError extends Error {
  override readonly name = 'FieldsV1ParseError';
}

/** deserializePE reads a FieldsV1 key; undefined for element kinds it does not know (they are dropped, as Kubernetes does). */
export function deserializePE(s: string): PathElement | undefined {
  if (s.length < 2) throw new FieldsV1ParseError('key must be 2 characters long:');
  if (s[1] !== ':') throw new FieldsV1ParseError(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case 'f':
      return { field: rest };
    case 'v':
      return { value: parseJSON(rest) };
    case 'k': {
      const obj = parseJSON(rest);
      if (!isObject(obj)) throw new FieldsV1ParseError(`key is not an object: ${s}`);
      return keyPE(Object.entries(obj));
    }
    case 'i': {
      if (!/^[+-]?\d+$/.test(rest)) throw new FieldsV1ParseError(`strconv.Atoi: parsing ${JSON.stringify(rest)}: invalid syntax`);
      return { index: Number(rest) };
    }
  }
  return undefined;
}

function parseJSON(s: string): Json {
  try {
    return parseExactJSON(s) as Json;
  } catch (err) {
    throw new FieldsV1ParseError(`managedFields parsing: ${(err as Error).message}`);
  }
}

/** peString is the human form of an element in conflict messages: `.spec`, `[name="web"]`, `[="x"]`, `[0]`. */
export function peString(pe: PathElement): string {
  if ('field' in pe) return `.${pe.field}`;
  if ('key' in pe) return `[${pe.key.map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
  if ('value' in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

/** pathString is a path's human form: `.spec.template.spec.containers[name="web"].image`. */
export function pathString(p: Path): string {
  return p.map(peString).join('');
}

/** fieldPath builds a path of field names only: `fieldPath('spec', 'replicas')` is `.spec.replicas`. */
export function fieldPath(...names: string[]): Path {
  return names.map(fieldPE);
}

// ---------------------------------------------------------------------------------------------
// Sets

interface Child {
  pe: PathElement;
  set: FieldSet;
}

/**
 * FieldSet is a set of paths stored as a trie: `members` are the elements that end a path at this
 * level, `children` lead further. A node may be both (FieldsV1 writes that as `.`).
 */
export class FieldSet {
  readonly members = new Map<string, PathElement>();
  readonly children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(p: Path): void {
    if (p.length === 0) return;
    let s: FieldSet = this;
    for (let i = 0; i < p.length - 1; i++) s = s.descend(p[i]);
    s.members.set(serializePE(p[p.length - 1]), p[p.length - 1]);
  }

  /** descend returns the child set for pe, creating it. */
  descend(pe: PathElement): FieldSet {
    const id = serializePE(pe);
    let c = this.children.get(id);
    if (!c) {
      c = { pe, set: new FieldSet() };
      this.children.set(id, c);
    }
    return c.set;
  }

  has(p: Path): boolean {
    if (p.length === 0) return false;
    let s: FieldSet | undefined = this;
    for (let i = 0; i < p.length - 1; i++) {
      s = s.children.get(serializePE(p[i]))?.set;
      if (!s) return false;
    }
    return s.members.has(serializePE(p[p.length - 1]));
  }

  hasMember(pe: PathElement): boolean {
    return this.members.has(serializePE(pe));
  }

  /** withPrefix is the subset of paths under pe, without pe. */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializePE(pe))?.set ?? new FieldSet();
  }

  empty(): boolean {
    if (this.members.size) return false;
    for (const c of this.children.values()) if (!c.set.empty()) return false;
    return true;
  }

  size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.set.size();
    return n;
  }

  clone(): FieldSet {
    const s = new FieldSet();
    for (const [k, pe] of this.members) s.members.set(k, pe);
    for (const [k, c] of this.children) s.children.set(k, { pe: c.pe, set: c.set.clone() });
    return s;
  }

  union(o: FieldSet): FieldSet {
    const s = this.clone();
    for (const [k, pe] of o.members) s.members.set(k, pe);
    for (const [k, c] of o.children) {
      const mine = s.children.get(k);
      s.children.set(k, { pe: c.pe, set: mine ? mine.set.union(c.set) : c.set.clone() });
    }
    return s;
  }

  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const [k, pe] of this.members) if (o.members.has(k)) s.members.set(k, pe);
    for (const [k, c] of this.children) {
      const other = o.children.get(k);
      if (!other) continue;
      const r = c.set.intersection(other.set);
      if (!r.empty()) s.children.set(k, { pe: c.pe, set: r });
    }
    return s;
  }

  /** difference removes o's paths; a member of o does not remove this set's paths below it. */
  difference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) s.members.set(k, pe);
    for (const [k, c] of this.children) {
      const other = o.children.get(k);
      if (!other) {
        s.children.set(k, { pe: c.pe, set: c.set.clone() });
        continue;
      }
      const d = c.set.difference(other.set);
      if (!d.empty()) s.children.set(k, { pe: c.pe, set: d });
    }
    return s;
  }

  /** recursiveDifference removes o's paths and everything below a member of o. */
  recursiveDifference(o: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) s.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (o.members.has(k)) continue;
      const other = o.children.get(k);
      if (!other) {
        s.children.set(k, { pe: c.pe, set: c.set.clone() });
        continue;
      }
      const d = c.set.recursiveDifference(other.set);
      if (!d.empty()) s.children.set(k, { pe: c.pe, set: d });
    }
    return s;
  }

  /** only keeps the paths at and under prefix (a filter that keeps one subtree). */
  only(prefix: Path): FieldSet {
    if (prefix.length === 0) return this.clone();
    const s = new FieldSet();
    const id = serializePE(prefix[0]);
    if (prefix.length === 1) {
      const m = this.members.get(id);
      if (m) s.members.set(id, m);
      const c = this.children.get(id);
      if (c) s.children.set(id, { pe: c.pe, set: c.set.clone() });
      return s;
    }
    const c = this.children.get(id);
    if (!c) return s;
    const sub = c.set.only(prefix.slice(1));
    if (!sub.empty()) s.children.set(id, { pe: c.pe, set: sub });
    return s;
  }

  equals(o: FieldSet): boolean {
    return this.size() === o.size() && this.difference(o).empty() && o.difference(this).empty();
  }

  sortedMembers(): PathElement[] {
    return [...this.members.values()].sort(comparePE);
  }

  sortedChildren(): Child[] {
    return [...this.children.values()].sort((a, b) => comparePE(a.pe, b.pe));
  }

  /** paths lists every member path in Kubernetes' iteration order: a level's members, then its children, depth first. */
  paths(prefix: PathElement[] = []): Path[] {
    const out: Path[] = [];
    for (const pe of this.sortedMembers()) out.push([...prefix, pe]);
    for (const c of this.sortedChildren()) out.push(...c.set.paths([...prefix, c.pe]));
    return out;
  }

  toString(): string {
    return this.paths().map(pathString).join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// FieldsV1

/** toFieldsV1 encodes a set as FieldsV1 JSON, keys in Kubernetes' order. */
export function toFieldsV1(s: FieldSet): JsonObject {
  return emit(s, false);
}

function emit(s: FieldSet, includeSelf: boolean): JsonObject {
  const out: JsonObject = {};
  if (includeSelf && (s.members.size || s.children.size)) out['.'] = {};
  const members = s.sortedMembers();
  const children = s.sortedChildren();
  let mi = 0;
  let ci = 0;
  while (mi < members.length || ci < children.length) {
    const m = members[mi];
    const c = children[ci];
    const cmp = m && c ? comparePE(m, c.pe) : m ? -1 : 1;
    if (cmp < 0) {
      out[serializePE(m)] = {};
      mi++;
    } else if (cmp > 0) {
      out[serializePE(c.pe)] = emit(c.set, false);
      ci++;
    } else {
      out[serializePE(c.pe)] = emit(c.set, true);
      mi++;
      ci++;
    }
  }
  return out;
}

/** fromFieldsV1 decodes FieldsV1 JSON (an object, or its text). */
export function fromFieldsV1(raw: unknown): FieldSet {
  const obj = typeof raw === 'string' ? parseJSON(raw) : raw;
  if (!isObject(obj as Json)) throw new FieldsV1ParseError('FieldsV1 must be a JSON object');
  return read(obj as JsonObject).children ?? new FieldSet();
}

function read(obj: JsonObject): { children?: FieldSet; isMember: boolean } {
  let children: FieldSet | undefined;
  let isMember = false;
  for (const [k, v] of Object.entries(obj)) {
    if (k === '.') {
      isMember = true;
      continue;
    }
    const pe = deserializePE(k);
    if (!pe) continue;
    if (!isObject(v)) throw new FieldsV1ParseError(`expected an object for ${k}`);
    const r = read(v);
    children ??= new FieldSet();
    if (r.isMember) children.members.set(serializePE(pe), pe);
    if (r.children) {
      const id = serializePE(pe);
      const cur = children.children.get(id);
      children.children.set(id, { pe, set: cur ? cur.set.union(r.children) : r.children });
    }
  }
  if (!children) isMember = true;
  return { children, isMember };
}
