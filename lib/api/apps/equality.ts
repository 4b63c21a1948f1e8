// semanticEqual compares JSON values the way apiequality.Semantic.DeepEqual compares the Go
// structs they decode into, for the cases strategies care about: key order does not matter, and
// an absent value, null, [] and {} are all Go zero values (nil and empty maps and slices are
// equal). A top-level "" equals absent too (a string field's zero value), but "" inside an object
// does not, because in a map (labels, annotations) `a: ""` and no `a` differ. Numbers and booleans
// are compared as given, since pointers keep 0 and false apart from "unset".

import { stringifyJSON } from '../../machinery/json.js';

export function semanticEqual(a: unknown, b: unknown): boolean {
  return stringifyJSON(normalize(a === '' ? undefined : a)) === stringifyJSON(normalize(b === '' ? undefined : b));
}

function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    return v.map((x) => normalize(x) ?? null);
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}
