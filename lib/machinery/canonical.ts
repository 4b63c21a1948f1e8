// canonicalJSON serializes with sorted keys and without undefined members, so two objects that
// differ only in key order compare equal: a PUT that only reorders fields is not a change.

export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJSON(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`).join(',')}}`;
  }
  // A BigInt (an integer beyond 2^53, see json.ts) is its digits; JSON.stringify throws for one.
  if (typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/**
 * jsonEqual says whether canonicalJSON(a) === canonicalJSON(b), without building either string:
 * key order and undefined members do not count, an integer is equal to the BigInt of its digits.
 * skip names one member of the top-level metadata object left out of the comparison.
 */
export function jsonEqual(a: unknown, b: unknown, skipMetadataField?: string): boolean {
  return equalAt(a, b, skipMetadataField, 0);
}

function equalAt(a: unknown, b: unknown, skip: string | undefined, depth: number): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== 'object' || tb !== 'object' || a === null || b === null) {
    if ((ta === 'bigint' || ta === 'number') && (tb === 'bigint' || tb === 'number') && Number.isFinite(Number(a)) && Number.isFinite(Number(b))) {
      return String(a) === String(b);
    }
    return canonicalJSON(a) === canonicalJSON(b);
  }
  const arr = Array.isArray(a);
  if (arr !== Array.isArray(b)) return false;
  if (arr) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!equalAt(x[i] ?? null, y[i] ?? null, undefined, depth + 1)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let nx = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) continue;
    nx++;
    if (!Object.hasOwn(y, k) || y[k] === undefined) return false;
    const same = depth === 0 && k === 'metadata' && skip !== undefined ? metadataEqual(x[k], y[k], skip) : equalAt(x[k], y[k], undefined, depth + 1);
    if (!same) return false;
  }
  let ny = 0;
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) ny++;
  return nx === ny;
}

/** metadataEqual compares two metadata objects with one member left out. */
function metadataEqual(a: unknown, b: unknown, skip: string): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  const { [skip]: _a, ...ra } = a as Record<string, unknown>;
  const { [skip]: _b, ...rb } = b as Record<string, unknown>;
  return equalAt(ra, rb, undefined, 1);
}
