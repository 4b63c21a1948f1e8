// Walks over typed values, as structured-merge-diff's typed package does them: the field set a value
// sets (ToFieldSet), what changed between two values (Compare), the merge of an applied
// configuration into a live object (Merge), the removal of a set of fields (RemoveItems), and the
// strict check an applied configuration must pass.
//
// Two rules shape every walk. Atomic lists and maps, and scalars, are leaves: owned, compared and
// replaced whole. Associative lists are addressed by item (`k:{…}` or `v:…`), never by index.

import {
  FieldSet,
  equalValues,
  fieldPE,
  indexPE,
  isObject,
  keyPE,
  peString,
  serializePE,
  valuePE,
  type Json,
  type JsonObject,
  type PathElement,
} from './fieldpath.js';
import { ownValue, setOwn } from '../../lib/machinery/ownprops.js';
import { deducedRef, type Atom, type ListType, type MapType, type TypeRef, type TypeSchema } from './types.js';

/** Comparison is what changed from lhs to rhs; no field is in more than one set. */
export interface Comparison {
  removed: FieldSet;
  modified: FieldSet;
  added: FieldSet;
}

type Resolved = { kind: 'map'; map: MapType } | { kind: 'list'; list: ListType } | { kind: 'scalar' };

/** TypedError is a value that does not fit its schema (message as structured-merge-diff words it). */
export class TypedError extends Error {
  override readonly name = 'TypedError';
}

function isScalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** Typed walks values of one kind's schema. */
export class Typed {
  constructor(readonly schema: TypeSchema) {}

  get root(): TypeRef {
    return this.schema.root;
  }

  /** kindOf picks the part of an atom a value uses (a map value uses the map, …); a mismatch is treated as a leaf. */
  private kindOf(atom: Atom, v: Json | undefined): Resolved {
    if (v === undefined || v === null) {
      if (atom.map) return { kind: 'map', map: atom.map };
      if (atom.scalar) return { kind: 'scalar' };
      if (atom.list) return { kind: 'list', list: atom.list };
      return { kind: 'scalar' };
    }
    if (Array.isArray(v)) return atom.list ? { kind: 'list', list: atom.list } : { kind: 'scalar' };
    if (isObject(v)) return atom.map ? { kind: 'map', map: atom.map } : { kind: 'scalar' };
    return { kind: 'scalar' };
  }

  private fieldType(map: MapType, name: string): TypeRef | undefined {
    return map.fields.get(name)?.type ?? map.elem;
  }

  // ---- list items ----

  /** listItemPE addresses a list item by its keys (with schema defaults for missing ones) or, in a set, by its value. */
  listItemPE(list: ListType, item: Json): PathElement {
    if (list.keys.length) {
      if (item === null) throw new TypedError('associative list with keys may not have a null element');
      if (!isObject(item)) throw new TypedError('associative list with keys may not have non-map elements');
      const elem = this.schema.resolve(list.elem).map;
      const fields: [string, Json][] = [];
      for (const k of list.keys) {
        if (item[k] !== undefined) fields.push([k, item[k]]);
        else {
          const def = elem?.fields.get(k)?.default;
          if (def !== undefined) fields.push([k, def]);
        }
      }
      if (!fields.length) {
        throw new TypedError(
          `associative list with keys has an element that omits all key fields [${list.keys.map((k) => JSON.stringify(k)).join(' ')}] (and doesn't have default values for any key fields)`,
        );
      }
      return keyPE(fields);
    }
    if (isObject(item)) throw new TypedError("associative list without keys has an element that's a map type");
    if (Array.isArray(item)) throw new TypedError('not supported: associative list with lists as elements');
    if (item === null) throw new TypedError("associative list without keys has an element that's an explicit null");
    return valuePE(item);
  }

  // ---- ToFieldSet ----

  /** toFieldSet is the set of fields a value sets: every leaf, every list item, every map entry that is not a named field. */
  toFieldSet(v: Json, ref: TypeRef = this.root): FieldSet {
    const set = new FieldSet();
    this.tfs(v, ref, [], set);
    return set;
  }

  private tfs(v: Json, ref: TypeRef, path: PathElement[], set: FieldSet): void {
    const r = this.kindOf(this.schema.resolve(ref), v);
    if (r.kind === 'scalar') {
      set.insert(path);
      return;
    }
    if (r.kind === 'list') {
      if (r.list.atomic) {
        set.insert(path);
        return;
      }
      if (!Array.isArray(v)) return;
      const pes: (PathElement | undefined)[] = v.map((item) => {
        try {
          return this.listItemPE(r.list, item);
        } catch {
          return undefined;
        }
      });
      const seen = new Set<string>();
      const dups = new Set<string>();
      for (const pe of pes) {
        if (!pe) continue;
        const id = serializePE(pe);
        if (seen.has(id) && !dups.has(id)) {
          dups.add(id);
          set.insert([...path, pe]);
        }
        seen.add(id);
      }
      v.forEach((item, i) => {
        const pe = pes[i];
        if (!pe || dups.has(serializePE(pe))) return;
        const child = [...path, pe];
        this.tfs(item, r.list.elem, child, set);
        set.insert(child);
      });
      return;
    }
    if (r.map.atomic) {
      set.insert(path);
      return;
    }
    if (!isObject(v)) return;
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) continue;
      const named = r.map.fields.has(k);
      const child = [...path, fieldPE(k)];
      this.tfs(val, this.fieldType(r.map, k) ?? deducedRef, child, set);
      if (val === null || (isObject(val) && Object.keys(val).length === 0) || !named) set.insert(child);
    }
  }

  // ---- Compare ----

  /** compare lists the fields rhs removed, modified and added relative to lhs. */
  compare(lhs: Json | undefined, rhs: Json | undefined, ref: TypeRef = this.root): Comparison {
    const c: Comparison = { removed: new FieldSet(), modified: new FieldSet(), added: new FieldSet() };
    if (lhs !== undefined || rhs !== undefined) this.cmp(lhs, rhs, ref, [], c);
    return c;
  }

  private cmp(l: Json | undefined, r: Json | undefined, ref: TypeRef, path: PathElement[], c: Comparison): void {
    const atom = this.schema.resolve(ref);
    const rl = this.kindOf(atom, l);
    const rr = this.kindOf(atom, r);
    let inLeaf = false;
    const leaf = () => {
      inLeaf = true;
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
      else if (!equalValues(l, r)) c.modified.insert(path);
    };
    const res = r === undefined ? rl : rr;
    if (l !== undefined && r !== undefined && l !== null && r !== null && rl.kind !== rr.kind) leaf();
    else if (res.kind === 'scalar') leaf();
    else if (res.kind === 'list') {
      const la = Array.isArray(l) ? l : undefined;
      const ra = Array.isArray(r) ? r : undefined;
      if (res.list.atomic || (!la?.length && !ra?.length)) leaf();
      else this.cmpList(res.list, la ?? [], ra ?? [], path, c);
    } else {
      const lm = isObject(l) ? l : undefined;
      const rm = isObject(r) ? r : undefined;
      const lEmpty = !lm || Object.keys(lm).length === 0;
      const rEmpty = !rm || Object.keys(rm).length === 0;
      if (res.map.atomic || (lEmpty && rEmpty)) leaf();
      else {
        const keys = new Set([...Object.keys(lm ?? {}), ...Object.keys(rm ?? {})]);
        for (const k of keys) {
          const lv = lm && (ownValue(lm, k) as Json | undefined);
          const rv = rm && (ownValue(rm, k) as Json | undefined);
          if (lv === undefined && rv === undefined) continue;
          this.cmp(lv, rv, this.fieldType(res.map, k) ?? deducedRef, [...path, fieldPE(k)], c);
        }
      }
    }
    if (!inLeaf) {
      if (l === undefined) c.added.insert(path);
      else if (r === undefined) c.removed.insert(path);
    }
  }

  private index(list: ListType, items: Json[]): Map<string, { pe: PathElement; items: Json[] }> {
    const out = new Map<string, { pe: PathElement; items: Json[] }>();
    for (const item of items) {
      let pe: PathElement;
      try {
        pe = this.listItemPE(list, item);
      } catch {
        continue;
      }
      const id = serializePE(pe);
      const cur = out.get(id);
      if (cur) cur.items.push(item);
      else out.set(id, { pe, items: [item] });
    }
    return out;
  }

  private cmpList(list: ListType, l: Json[], r: Json[], path: PathElement[], c: Comparison): void {
    const li = this.index(list, l);
    const ri = this.index(list, r);
    const all = new Map<string, PathElement>();
    for (const [id, x] of li) all.set(id, x.pe);
    for (const [id, x] of ri) if (!all.has(id)) all.set(id, x.pe);
    for (const [id, pe] of all) {
      const ll = li.get(id)?.items ?? [];
      const rr = ri.get(id)?.items ?? [];
      const child = [...path, pe];
      if (ll.length <= 1 && rr.length <= 1) this.cmp(ll[0], rr[0], list.elem, child, c);
      else if (ll.length >= 2 && rr.length >= 2) {
        if (!equalValues(ll, rr)) c.modified.insert(child);
      } else if (ll.length >= 2) {
        if (rr.length) this.cmp(undefined, rr[0], list.elem, child, c);
        c.removed.insert(child);
      } else {
        if (ll.length) this.cmp(ll[0], undefined, list.elem, child, c);
        c.added.insert(child);
      }
    }
  }

  // ---- Merge ----

  /** merge merges rhs (an applied configuration) into lhs (the live object): rhs wins at every leaf. */
  merge(lhs: Json | undefined, rhs: Json | undefined, ref: TypeRef = this.root): Json | undefined {
    return this.mrg(lhs, rhs, ref);
  }

  private mrg(l: Json | undefined, r: Json | undefined, ref: TypeRef): Json | undefined {
    const atom = this.schema.resolve(ref);
    const rl = this.kindOf(atom, l);
    const rr = this.kindOf(atom, r);
    const leaf = () => (r !== undefined ? r : l);
    const res = r === undefined ? rl : rr;
    if (l !== undefined && r !== undefined && l !== null && r !== null && rl.kind !== rr.kind) return leaf();
    if (res.kind === 'scalar') return leaf();
    if (res.kind === 'list') {
      const la = Array.isArray(l) ? l : undefined;
      const ra = Array.isArray(r) ? r : undefined;
      if (res.list.atomic || (!la?.length && !ra?.length)) return leaf();
      return this.mergeList(res.list, la ?? [], ra ?? []);
    }
    const lm = isObject(l) ? l : undefined;
    const rm = isObject(r) ? r : undefined;
    const lEmpty = !lm || Object.keys(lm).length === 0;
    const rEmpty = !rm || Object.keys(rm).length === 0;
    if (res.map.atomic || (lEmpty && rEmpty)) return leaf();
    const out: JsonObject = {};
    for (const k of new Set([...Object.keys(lm ?? {}), ...Object.keys(rm ?? {})])) {
      const lv = lm && (ownValue(lm, k) as Json | undefined);
      const rv = rm && (ownValue(rm, k) as Json | undefined);
      if (lv === undefined && rv === undefined) continue;
      const v = this.mrg(lv, rv, this.fieldType(res.map, k) ?? deducedRef);
      if (v !== undefined) setOwn(out, k, v);
    }
    return Object.keys(out).length ? out : undefined;
  }

  /**
   * mergeList merges associative lists item by item. The order is structured-merge-diff's: live
   * items keep their places, items the configuration shares with the live list follow the
   * configuration's order, and new items come where the configuration puts them.
   */
  private mergeList(list: ListType, l: Json[], r: Json[]): Json[] | undefined {
    const rhsPEs: PathElement[] = [];
    const observedR = new Map<string, Json>();
    r.forEach((item, i) => {
      let pe: PathElement;
      try {
        pe = this.listItemPE(list, item);
      } catch (err) {
        throw new TypedError(`element ${i}: ${(err as Error).message}`);
      }
      const id = serializePE(pe);
      if (observedR.has(id)) throw new TypedError(`duplicate entries for key ${peString(pe)}`);
      observedR.set(id, item);
      rhsPEs.push(pe);
    });
    const lhsPEs: PathElement[] = [];
    const observedL = new Map<string, Json>();
    const lItems: Json[] = [];
    l.forEach((item) => {
      let pe: PathElement;
      try {
        pe = this.listItemPE(list, item);
      } catch {
        return;
      }
      const id = serializePE(pe);
      // Duplicated live items are not merged with the configuration: they count as null.
      observedL.set(id, observedL.has(id) ? null : item);
      lhsPEs.push(pe);
      lItems.push(item);
    });
    const ids = (pes: PathElement[]) => pes.map(serializePE);
    const lIds = ids(lhsPEs);
    const rIds = ids(rhsPEs);
    const shared = rIds.filter((id) => observedL.has(id));
    let next: string | undefined = shared.shift();
    const merged = new Set<string>();
    const out: Json[] = [];
    const push = (v: Json | undefined) => {
      if (v !== undefined) out.push(v);
    };
    for (let lI = 0, rI = 0; lI < lIds.length || rI < rIds.length; ) {
      if (lI < lIds.length && rI < rIds.length) {
        const id = lIds[lI];
        if (id === rIds[rI]) {
          merged.add(id);
          push(this.mrg(observedL.get(id), observedR.get(id), list.elem));
          lI++;
          rI++;
          next = shared.shift();
          continue;
        }
        if (observedR.has(id) && next !== undefined && next !== id) {
          lI++;
          continue;
        }
      }
      if (lI < lIds.length) {
        const id = lIds[lI];
        if (!observedR.has(id)) {
          push(this.mrg(lItems[lI], undefined, list.elem));
          lI++;
          continue;
        } else if (merged.has(id)) {
          lI++;
        }
      }
      if (rI < rIds.length) {
        const id = rIds[rI];
        merged.add(id);
        push(this.mrg(observedL.get(id), observedR.get(id), list.elem));
        rI++;
        if (next !== undefined && next === id) next = shared.shift();
      }
    }
    return out.length ? out : undefined;
  }

  // ---- RemoveItems ----

  /** removeItems removes the fields and items of set from v; what is left empty disappears. */
  removeItems(v: Json, set: FieldSet, ref: TypeRef = this.root): Json | undefined {
    const r = this.kindOf(this.schema.resolve(ref), v);
    if (r.kind === 'scalar') return v;
    if (r.kind === 'list') {
      if (!Array.isArray(v)) return v;
      if (!v.length || r.list.atomic) return undefined;
      const out: Json[] = [];
      for (const item of v) {
        let pe: PathElement;
        try {
          pe = this.listItemPE(r.list, item);
        } catch {
          out.push(item);
          continue;
        }
        if (set.hasMember(pe)) continue;
        const sub = set.withPrefix(pe);
        if (!sub.empty()) {
          const x = this.removeItems(item, sub, r.list.elem);
          if (x !== undefined) out.push(x);
        } else out.push(item);
      }
      return out.length ? out : undefined;
    }
    if (!isObject(v)) return v;
    if (!Object.keys(v).length || r.map.atomic) return undefined;
    const out: JsonObject = {};
    for (const [k, val] of Object.entries(v)) {
      const pe = fieldPE(k);
      if (set.hasMember(pe)) continue;
      const sub = set.withPrefix(pe);
      if (!sub.empty()) {
        const x = this.removeItems(val, sub, this.fieldType(r.map, k) ?? deducedRef);
        if (x !== undefined) setOwn(out, k, x);
      } else setOwn(out, k, val);
    }
    return Object.keys(out).length ? out : undefined;
  }

  // ---- Sets and schemas ----

  /** ensureNamedFieldsAreMembers adds the struct fields that lead to members as members too, so removing a set removes emptied structs. */
  ensureNamedFieldsAreMembers(set: FieldSet, ref: TypeRef | undefined = this.root): FieldSet {
    const atom: Atom = ref ? this.schema.resolve(ref) : {};
    const out = new FieldSet();
    for (const [id, pe] of set.members) out.members.set(id, pe);
    for (const [id, c] of set.children) {
      let childRef: TypeRef | undefined;
      if ('field' in c.pe && atom.map) {
        if (atom.map.fields.has(c.pe.field)) out.members.set(id, c.pe);
        childRef = this.fieldType(atom.map, c.pe.field);
      } else if ('key' in c.pe && atom.list) childRef = atom.list.elem;
      out.children.set(id, { pe: c.pe, set: this.ensureNamedFieldsAreMembers(c.set, childRef) });
    }
    return out;
  }

  // ---- Validation ----

  /** validate checks a value against the schema as strictly as an applied configuration is checked; it returns the errors. */
  validate(v: Json, ref: TypeRef = this.root): string[] {
    const errs: string[] = [];
    this.val(v, ref, '', errs);
    return errs;
  }

  private val(v: Json, ref: TypeRef, prefix: string, errs: string[]): void {
    const atom = this.schema.resolve(ref);
    if (v === null) return;
    if (isObject(v)) {
      if (!atom.map) {
        errs.push(`${prefix}: ${scalarMismatch(atom, v)}`);
        return;
      }
      for (const k of Object.keys(v).sort()) {
        const tr = this.fieldType(atom.map, k);
        if (!tr) {
          errs.push(`${prefix}.${k}: field not declared in schema`);
          return;
        }
        this.val(v[k], tr, `${prefix}.${k}`, errs);
      }
      return;
    }
    if (Array.isArray(v)) {
      if (!atom.list) {
        errs.push(`${prefix}: ${scalarMismatch(atom, v)}`);
        return;
      }
      const seen = new Set<string>();
      for (let i = 0; i < v.length; i++) {
        let pe: PathElement;
        if (atom.list.atomic) pe = indexPE(i);
        else {
          try {
            pe = this.listItemPE(atom.list, v[i]);
          } catch (err) {
            errs.push(`${prefix}: element ${i}: ${(err as Error).message}`);
            return;
          }
          const id = serializePE(pe);
          if (seen.has(id)) errs.push(`${prefix}: duplicate entries for key ${peString(pe)}`);
          seen.add(id);
        }
        this.val(v[i], atom.list.elem, `${prefix}${peString(pe)}`, errs);
      }
      return;
    }
    if (!atom.scalar) {
      errs.push(`${prefix}: expected ${atom.map ? 'map' : 'list'}, got ${goValue(v)}`);
      return;
    }
    const bad = scalarError(atom.scalar, v);
    if (bad) errs.push(`${prefix}: ${bad}`);
  }

  // ---- Go zero values ----

  /**
   * withGoZeroFields returns a copy of v with the empty fields a built-in Go type serializes anyway
   * (`{}` for struct fields, `null` for required lists and maps), so that comparisons see what
   * kube-apiserver's typed objects hold. Custom resources come back unchanged.
   */
  withGoZeroFields(v: Json | undefined, ref: TypeRef = this.root): Json | undefined {
    if (!this.schema.goTyped || v === undefined) return v;
    return this.fill(v, ref);
  }

  private fill(v: Json, ref: TypeRef): Json {
    const atom = this.schema.resolve(ref);
    if (isObject(v) && atom.map) {
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        const tr = this.fieldType(atom.map, k);
        setOwn(out, k, tr ? this.fill(x, tr) : x);
      }
      const zero = this.schema.zeroFields(ref);
      if (zero) {
        for (const f of zero.structs) {
          if (out[f] !== undefined) continue;
          const tr = atom.map.fields.get(f)?.type;
          out[f] = tr ? this.fill({}, tr) : {};
        }
        for (const f of zero.nulls) if (out[f] === undefined) out[f] = null;
      }
      return out;
    }
    if (Array.isArray(v) && atom.list) {
      const elem = atom.list.elem;
      return v.map((x) => this.fill(x, elem));
    }
    return v;
  }

  /** dropNulls removes null-valued named fields, as decoding into a typed object (or pruning a non-nullable CRD field) does. */
  dropNulls(v: Json, ref: TypeRef = this.root): Json {
    const atom = this.schema.resolve(ref);
    if (isObject(v) && atom.map) {
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        const named = atom.map.fields.get(k);
        if (x === null && named) continue;
        const tr = named?.type ?? atom.map.elem;
        setOwn(out, k, tr && x !== null ? this.dropNulls(x, tr) : x);
      }
      return out;
    }
    if (Array.isArray(v) && atom.list) {
      const elem = atom.list.elem;
      return v.map((x) => (x === null ? x : this.dropNulls(x, elem)));
    }
    return v;
  }
}

/** goValue prints a value roughly as Go's %v prints decoded JSON. */
function goValue(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return String(v);
}

function goTypeName(v: Json): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

function scalarError(kind: NonNullable<Atom['scalar']>, v: Json): string | undefined {
  switch (kind) {
    case 'numeric':
      return typeof v === 'number' || typeof v === 'bigint' ? undefined : `expected numeric (int or float), got ${goTypeName(v)}`;
    case 'string':
      return typeof v === 'string' ? undefined : `expected string, got &value.valueUnstructured{Value:${goValue(v)}}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected boolean, got &{${goValue(v)}}`;
    default:
      return isScalar(v) ? undefined : `expected any scalar, got &{${goValue(v)}}`;
  }
}

function scalarMismatch(atom: Atom, v: Json): string {
  if (atom.scalar) return scalarError(atom.scalar, v) ?? `expected scalar, got ${goValue(v)}`;
  return `expected ${atom.map ? 'map' : 'list'}, got ${goValue(v)}`;
}
