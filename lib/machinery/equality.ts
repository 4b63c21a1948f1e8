// Deep equality of JSON values as apiequality.Semantic sees stored objects: key order does not
// matter, and a missing value, null, an empty list and an empty object are all the same zero value.

/** emptyEqual compares a and b deeply, treating absent, null, [] and {} alike at every level. */
export function emptyEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => emptyEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!emptyEqual(ao[k], bo[k])) return false;
  return true;
}

/** isEmpty: undefined, null, an empty list or an object without keys. */
function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
}
