// Patch application for PATCH requests: JSON patch (RFC 6902, fast-json-patch), JSON merge patch
// (RFC 7386) and strategic merge patch. The strategic form merges lists by their patch merge key
// (containers by name, ports by containerPort, …) and honours the `$patch`, `$setElementOrder`,
// `$retainKeys` and `$deleteFromPrimitiveList` directives kubectl sends.

import fjp from 'fast-json-patch';
import { badRequest, invalid, StatusError, StatusReason } from '../../lib/machinery/status.js';
import { invalidValue } from '../../lib/machinery/field-errors.js';
import { goValueString } from '../fieldvalidation.js';
import { objectDecodeError, type ResourceTypes } from '../registry/decode.js';
import { fieldsOf, type FieldType } from '../openapi/fields.js';
import { fieldMarkers } from '../openapi/gotags.js';
import { ownValue, setOwn } from '../../lib/machinery/ownprops.js';
import { holdsBigInt, stringifyJSON } from '../../lib/machinery/json.js';

const { applyPatch, JsonPatchError } = fjp;

export const PatchType = {
  JSON: 'application/json-patch+json',
  Merge: 'application/merge-patch+json',
  Strategic: 'application/strategic-merge-patch+json',
  Apply: 'application/apply-patch+yaml',
  ApplyCBOR: 'application/apply-patch+cbor',
} as const;

type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * bigIntMark starts the string a BigInt stands in as while fast-json-patch works: it clones values
 * and words its errors through JSON.stringify, which throws for a BigInt. Equal digits give equal
 * strings, so `test` compares them exactly.
 */
const bigIntMark = '\u0000skiff-int64:';

/** markBigInts returns v with every BigInt replaced by its marked digits (v itself when it holds none). */
function markBigInts(v: unknown): unknown {
  if (typeof v === 'bigint') return `${bigIntMark}${v}`;
  if (Array.isArray(v)) return v.map(markBigInts);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, markBigInts(x));
  return out;
}

/** unmarkBigInts turns marked digits back into BigInts, in place. */
function unmarkBigInts(v: unknown): unknown {
  if (typeof v === 'string' && v.startsWith(bigIntMark)) return BigInt(v.slice(bigIntMark.length));
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = unmarkBigInts(v[i]);
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = unmarkBigInts(o[k]);
  }
  return v;
}

/** applyJSONPatch applies an RFC 6902 patch; failing `test` ops and bad paths are client errors. */
export function applyJSONPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (holdsBigInt(doc) || holdsBigInt(patch)) return unmarkBigInts(applyJSONPatch(markBigInts(doc), markBigInts(patch)));
  try {
    const ops = patch as fjp.Operation[];
    let out = structuredClone(doc) as object;
    ops.forEach((op, i) => {
      if (op !== null && typeof op === 'object') checkOwnPointers(out, op, i);
      // banPrototypeModifications (the last argument) refuses `__proto__` and `constructor/prototype`.
      out = applyPatch(out, [op], true, true, true).newDocument;
    });
    return out;
  } catch (err) {
    if (err instanceof JsonPatchError) {
      if (err.name === 'TEST_OPERATION_FAILED') {
        throw new StatusError(422, StatusReason.Invalid, `the server rejected our request due to an error in our request`, { causes: [{ message: 'testing value failed' }] });
      }
      throw new StatusError(422, StatusReason.Invalid, `the server rejected our request due to an error in our request`, {
        causes: [{ message: `${err.message.split('\n')[0]}` }],
      });
    }
    throw badRequest(String((err as Error).message));
  }
}

/**
 * checkOwnPointers refuses an operation whose path (or `from`) goes through a property the document
 * does not own: fast-json-patch walks pointers with plain property reads, so `/metadata/constructor`
 * would reach the Object function instead of a missing field, and a copy from it would put a
 * function into the object. For Kubernetes such a field simply does not exist.
 */
function checkOwnPointers(doc: unknown, op: fjp.Operation, index: number): void {
  const pointers: [string, boolean][] = [];
  const { op: kind, path } = op as { op: string; path: unknown };
  const from = (op as { from?: unknown }).from;
  // The last segment of an add's (or copy's, move's) path is created, so need not exist.
  if (typeof path === 'string') pointers.push([path, !(kind === 'add' || kind === 'copy' || kind === 'move')]);
  if ((kind === 'copy' || kind === 'move') && typeof from === 'string') pointers.push([from, true]);
  for (const [pointer, whole] of pointers) {
    const segs = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const n = whole ? segs.length : segs.length - 1;
    let cur = doc;
    for (let i = 0; i < n; i++) {
      if (Array.isArray(cur)) cur = /^(0|[1-9]\d*)$/.test(segs[i]) ? cur[Number(segs[i])] : undefined;
      else if (isObject(cur) && Object.hasOwn(cur, segs[i])) cur = cur[segs[i]];
      else cur = undefined;
      if (cur === undefined) {
        throw new JsonPatchError('Cannot perform the operation at a path that does not exist', pointer === from ? 'OPERATION_FROM_UNRESOLVABLE' : 'OPERATION_PATH_UNRESOLVABLE', index, op, doc);
      }
    }
  }
}

/** applyMergePatch is RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(doc) ? (structuredClone(doc) as JsonObject) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, applyMergePatch(ownValue(out, k), v));
  }
  return out;
}

/**
 * PatchMeta tells the strategic merge how a list merges: by which key, with which strategy. It
 * comes from the kind's schema (the patchStrategy/patchMergeKey tags of the Go types), never from
 * field names alone: Service ports and container ports merge by different keys.
 */
export interface PatchMeta {
  mergeKey?: string;
  strategy?: string; // 'merge', 'retainKeys', 'merge,retainKeys'; absent or 'replace' replaces
}

/** PatchMetaLookup answers for a path of field names (list elements share their list's path). */
export type PatchMetaLookup = (path: string[]) => PatchMeta | undefined;

/** schemaPatchMeta walks the model types from a kind's root model to find each list's patch metadata. */
export function schemaPatchMeta(rootModel: string): PatchMetaLookup {
  return (path) => {
    let model = rootModel;
    for (let i = 0; i < path.length - 1; i++) {
      let ft: FieldType | undefined = fieldsOf(model).fields.get(path[i]);
      while (ft && (ft.kind === 'array' || ft.kind === 'map')) {
        // The segment after a map field is a map key, not a field name.
        if (ft.kind === 'map') i++;
        ft = ft.kind === 'array' ? ft.items : ft.values;
      }
      if (!ft || ft.kind !== 'object' || i >= path.length - 1) return undefined;
      model = ft.model;
    }
    const m = fieldMarkers(model, path[path.length - 1]);
    if (!m) return undefined;
    return { mergeKey: m['x-kubernetes-patch-merge-key'], strategy: m['x-kubernetes-patch-strategy'] };
  };
}

/** noPatchMeta: every list replaces (the behaviour for types without merge tags). */
export const noPatchMeta: PatchMetaLookup = () => undefined;

const directivePrefix = {
  setElementOrder: '$setElementOrder/',
  deleteFromPrimitiveList: '$deleteFromPrimitiveList/',
};

function invalidPatch(msg: string): StatusError {
  return badRequest(msg);
}

/** applyStrategicMergePatch applies a strategic merge patch to doc. */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, meta: PatchMetaLookup): unknown {
  if (!isObject(patch)) throw invalidPatch('unable to find api field in struct for the patch: the patch must be a JSON object');
  return mergeMap(isObject(doc) ? (structuredClone(doc) as JsonObject) : {}, patch, [], meta);
}

function mergeMap(orig: JsonObject, patch: JsonObject, path: string[], meta: PatchMetaLookup): JsonObject {
  const directive = ownValue(patch, '$patch');
  if (directive === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (directive === 'delete') return {};
  if (directive !== undefined && directive !== 'merge') throw invalidPatch(`Unrecognized $patch directive: ${stringifyJSON(directive)}`);

  const retainKeys = ownValue(patch, '$retainKeys');
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys)) throw invalidPatch('invalid patch format of retainKeys');
    for (const k of Object.keys(orig)) if (!retainKeys.includes(k)) delete orig[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith(directivePrefix.setElementOrder)) {
      // An order for a list the patch does not otherwise touch still reorders it.
      if (!Array.isArray(v)) throw invalidPatch('invalid patch format of setElementOrder list');
      const field = k.slice(directivePrefix.setElementOrder.length);
      const cur = ownValue(orig, field);
      if (!Object.hasOwn(patch, field) && Array.isArray(cur)) setOwn(orig, field, applyOrder(cur, v, meta([...path, field])?.mergeKey));
      continue;
    }
    if (k.startsWith(directivePrefix.deleteFromPrimitiveList)) {
      const field = k.slice(directivePrefix.deleteFromPrimitiveList.length);
      if (!Array.isArray(v)) throw invalidPatch('invalid patch format of primitive list');
      const cur = ownValue(orig, field);
      if (Array.isArray(cur)) setOwn(orig, field, cur.filter((x) => !v.some((d) => stringifyJSON(d) === stringifyJSON(x))));
      continue;
    }
    if (v === null) {
      delete orig[k];
      continue;
    }
    const childPath = [...path, k];
    const cur = ownValue(orig, k);
    if (Array.isArray(v)) {
      setOwn(orig, k, mergeList(Array.isArray(cur) ? (cur as Json[]) : [], v, childPath, meta, ownValue(patch, directivePrefix.setElementOrder + k) as Json | undefined));
    } else if (isObject(v)) {
      setOwn(orig, k, mergeMap(isObject(cur) ? cur : {}, v, childPath, meta));
    } else {
      setOwn(orig, k, v);
    }
  }
  return orig;
}

function mergeList(orig: Json[], patch: Json[], path: string[], meta: PatchMetaLookup, order: Json | undefined): Json[] {
  const pm = meta(path);
  // A `$patch: replace` element replaces the whole list with the other elements.
  if (patch.some((e) => isObject(e) && e['$patch'] === 'replace')) {
    return patch.filter((e) => !(isObject(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  if (!pm || !pm.strategy || !pm.strategy.includes('merge')) return patch.map(stripDirectives);
  if (!pm.mergeKey) {
    // A merged list of primitives: union, keeping the original order first.
    const out = [...orig];
    for (const e of patch) if (!out.some((x) => stringifyJSON(x) === stringifyJSON(e))) out.push(e);
    return applyOrder(out, order, undefined);
  }
  const key = pm.mergeKey;
  const out = orig.map((e) => structuredClone(e));
  for (const e of patch) {
    if (!isObject(e)) throw invalidPatch(`unable to merge list ${path.join('.')}: element is not an object`);
    const kv = e[key];
    if (kv === undefined) throw invalidPatch(`map: ${stringifyJSON(e)} does not contain declared merge key: ${key}`);
    const idx = out.findIndex((x) => isObject(x) && stringifyJSON(x[key]) === stringifyJSON(kv));
    if (e['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = mergeMap(out[idx] as JsonObject, e, path, meta);
    else out.push(stripDirectives(mergeMap({}, e, path, meta)));
  }
  return applyOrder(out, order, key);
}

function applyOrder(list: Json[], order: Json | undefined, key: string | undefined): Json[] {
  if (!Array.isArray(order)) return list;
  const id = (x: Json) => stringifyJSON(key && isObject(x) ? (x as JsonObject)[key] : x);
  const pos = new Map(order.map((o, i) => [stringifyJSON(key && isObject(o) ? (o as JsonObject)[key] : o), i]));
  const listed = list.filter((x) => pos.has(id(x))).sort((a, b) => pos.get(id(a))! - pos.get(id(b))!);
  const rest = list.filter((x) => !pos.has(id(x)));
  return [...listed, ...rest];
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/')) continue;
    setOwn(out, k, stripDirectives(x));
  }
  return out;
}

/**
 * checkPatchedObject holds the object a JSON, merge or strategic merge patch produced against the
 * kind's types before anything else looks at it, and refuses it as kube-apiserver does: 422 with
 * one `patch` cause whose value is the patched JSON (JSON and merge patches, decoded by
 * encoding/json) or the patch map (strategic merge patches, converted from unstructured), e.g.
 * `patch: Invalid value: "map[metadata:map[labels:invalid]]": cannot restore map from string`.
 */
export function checkPatchedObject(def: ResourceTypes, next: Record<string, unknown>, patchType: string, patch: unknown): void {
  const strategic = patchType === PatchType.Strategic;
  const msg = objectDecodeError(def, next, { flavor: strategic ? 'unstructured' : 'json' });
  if (msg === undefined) return;
  const value = strategic ? goValueString(patch) : stringifyJSON(next);
  throw invalid({ group: '', kind: '' }, '', [invalidValue('patch', value, msg)]);
}
