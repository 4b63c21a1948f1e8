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
