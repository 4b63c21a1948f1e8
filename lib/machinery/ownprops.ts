// Own-property access for objects whose keys come from a client. A JSON body may carry any key,
// `__proto__`, `constructor` and `prototype` included: JSON.parse makes each an ordinary own
// property, and Kubernetes treats them as ordinary (unknown) fields. Plain `o[k]` does not: reading
// `o['__proto__']` yields Object.prototype (which a merge would then write into, polluting every
// object of the process), and assigning `o['__proto__'] = v` replaces o's prototype instead of
// setting a field. Code that copies or merges client keys reads and writes through these.

/** ownValue returns o's own property k, or undefined when o has none (never an inherited one). */
export function ownValue(o: object, k: string): unknown {
  return Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined;
}

/** setOwn sets o's own data property k to v, also when k is `__proto__`. */
export function setOwn(o: object, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else (o as Record<string, unknown>)[k] = v;
}
