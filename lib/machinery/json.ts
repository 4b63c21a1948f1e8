// JSON that keeps every digit of a 64-bit integer. Kubernetes' int64 fields (a custom resource's
// integers, `terminationGracePeriodSeconds`, `metadata.generation`) hold values up to 2^63-1, and
// Go's encoding/json returns them digit for digit; JSON.parse turns 9223372036854775807 into the
// nearest double, 9223372036854775808. So an integer beyond Number.MAX_SAFE_INTEGER becomes a
// BigInt here, and a BigInt is written back as its bare digits. Every other number stays a plain
// number, so code that never meets such an integer never sees a BigInt.
//
// Both directions keep JSON.parse and JSON.stringify on the hot path: an unsafe integer has at
// least 16 digits, so a text without a run of 16 digits is parsed by JSON.parse, and a value is
// written by JSON.stringify unless that throws for a BigInt.

import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

/** unsafeDigits finds a run of 16 digits: every integer beyond 2^53 has one (2^53 itself has 16). */
const unsafeDigits = /\d{16}/;

/** mayHoldUnsafeInteger says whether text could hold an integer JSON.parse would round. */
export function mayHoldUnsafeInteger(text: string): boolean {
  return unsafeDigits.test(text);
}

const integerText = /^-?\d+$/;

/** parseNumber is the number of a JSON number's text: a BigInt for an integer a double cannot hold exactly. */
function parseNumber(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !integerText.test(text)) return n;
  return BigInt(text);
}

/**
 * parseJSON is JSON.parse that keeps integers beyond 2^53 as BigInts. A text JSON.parse refuses
 * is refused with JSON.parse's own SyntaxError; a key given twice keeps its last value, as with
 * JSON.parse. The exact parser recurses, so a value nested deeper than exactDepthLimit (which the
 * apiserver refuses anyway) is returned as JSON.parse reads it.
 */
export function parseJSON(text: string): unknown {
  const fast = JSON.parse(text) as unknown;
  if (!mayHoldUnsafeInteger(text) || !holdsUnsafeNumber(fast)) return fast;
  return losslessParse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/** exactDepthLimit is the deepest nesting parseJSON hands to the (recursive) exact parser. */
const exactDepthLimit = 2000;

/** holdsUnsafeNumber says whether a value JSON.parse returned holds an integer it may have rounded (and is shallow enough to parse again). */
function holdsUnsafeNumber(v: unknown): boolean {
  let found = false;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, depth] = stack.pop()!;
    if (typeof x === 'number') {
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) found = true;
    } else if (x !== null && typeof x === 'object') {
      if (depth >= exactDepthLimit) return false;
      for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push([c, depth + 1]);
    }
  }
  return found;
}

/** holdsBigInt says whether a value holds a BigInt anywhere (iteratively: no stack depth limit). */
export function holdsBigInt(v: unknown): boolean {
  const stack = [v];
  const seen = new Set<object>(); // a circular value must end the walk (JSON.stringify's own TypeError follows)
  while (stack.length) {
    const x = stack.pop();
    if (typeof x === 'bigint') return true;
    if (x !== null && typeof x === 'object') {
      if (seen.has(x)) continue;
      seen.add(x);
      const j = (x as { toJSON?: unknown }).toJSON;
      if (typeof j === 'function') continue;
      for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push(c);
    }
  }
  return false;
}

/**
 * stringifyJSON is JSON.stringify that writes a BigInt as its bare digits (JSON.stringify throws
 * for one). Only a value that holds a BigInt takes the slower writer.
 */
export function stringifyJSON(value: unknown, space?: number | string): string {
  try {
    return JSON.stringify(value, null, space);
  } catch (err) {
    if (!(err instanceof TypeError) || !holdsBigInt(value)) throw err;
    return losslessStringify(value, null, space) as string;
  }
}

/** int64Min and int64Max bound Go's int64. */
export const int64Min = -(2n ** 63n);
export const int64Max = 2n ** 63n - 1n;

/** isInt64 says whether v is an integer (number or BigInt) that fits a Go int64. */
export function isInt64(v: unknown): v is number | bigint {
  if (typeof v === 'bigint') return v >= int64Min && v <= int64Max;
  // A double's integers beyond 2^53 are spaced apart, and 2^63 itself is out of range.
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63;
}

/** isInteger says whether v is an integral JSON number: a number with no fraction, or a BigInt. */
export function isInteger(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** isNumeric says whether v is a JSON number: a number or a BigInt. */
export function isNumeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/**
 * safeIntegersToNumbers turns every BigInt in v that a number holds exactly back into a number,
 * in place, and returns v: YAML's intAsBigInt makes every integer a BigInt, and only the unsafe
 * ones should stay one.
 */
export function safeIntegersToNumbers<T>(v: T): T {
  if (typeof v === 'bigint') return (isSafeBigInt(v) ? Number(v) : v) as T;
  const stack: unknown[] = [v];
  while (stack.length) {
    const x = stack.pop();
    if (x === null || typeof x !== 'object') continue;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const c: unknown = x[i];
        if (typeof c === 'bigint') {
          if (isSafeBigInt(c)) x[i] = Number(c);
        } else if (c !== null && typeof c === 'object') stack.push(c);
      }
    } else {
      const o = x as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const c = o[k];
        if (typeof c === 'bigint') {
          if (isSafeBigInt(c)) o[k] = Number(c);
        } else if (c !== null && typeof c === 'object') stack.push(c);
      }
    }
  }
  return v;
}

function isSafeBigInt(v: bigint): boolean {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
}

/**
 * cloneJSON deep-copies a JSON value (plain objects, arrays, strings, numbers, BigInts, booleans,
 * null) by walking it, which for the small objects of an API request is several times faster than
 * structuredClone; any other object inside is copied by structuredClone.
 */
export function cloneJSON<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneJSON(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    const c = cloneJSON((v as Record<string, unknown>)[k]);
    // A "__proto__" key (a valid ConfigMap key, a label value's map…) must stay an own property:
    // assigning it would set the copy's prototype instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out as T;
}
