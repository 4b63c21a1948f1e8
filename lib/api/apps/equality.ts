// semanticEqual compares JSON values the way apiequality.Semantic.DeepEqual compares the Go
// structs they decode into, for the cases strategies care about: key order does not matter, and
// an absent value, null, "", [] and {} are all Go zero values (nil and empty maps, slices and
// strings are equal). Numbers and booleans are compared as given, since pointers keep 0 and false
// apart from "unset".

export function semanticEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return undefined;
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
