import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneJSON, holdsBigInt, isInt64, parseJSON, safeIntegersToNumbers, stringifyJSON } from './json.js';

const max = '9223372036854775807';
const min = '-9223372036854775808';

test('parseJSON keeps every digit of integers beyond 2^53 and nothing else changes', () => {
  const text = `{"a":${max},"b":[${min},9007199254740993,9007199254740991],"c":1.5,"d":"${max}","e":1e21,"f":-0}`;
  const v = parseJSON(text) as Record<string, unknown>;
  assert.equal(v.a, 2n ** 63n - 1n);
  assert.deepEqual(v.b, [-(2n ** 63n), 9007199254740993n, 9007199254740991]);
  assert.equal(v.c, 1.5);
  assert.equal(v.d, max, 'a string of digits stays a string');
  assert.equal(v.e, 1e21, 'a number with an exponent is a float64, as Go reads it');
  assert.ok(Object.is(v.f, -0));
  // The round trip gives the text back, digit for digit.
  assert.equal(stringifyJSON(v), text.replace('1e21', '1e+21').replace('-0}', '0}'));
});

test('parseJSON returns what JSON.parse returns when no integer needs more than 53 bits', () => {
  const text = `{"name":"x","n":9007199254740991,"uid":"1234567890123456789","f":0.1234567890123456789}`;
  assert.deepEqual(parseJSON(text), JSON.parse(text));
  assert.equal(holdsBigInt(parseJSON(text)), false);
});

test('parseJSON keeps JSON.parse semantics: last duplicate wins, __proto__ is an own key, errors are SyntaxErrors', () => {
  const v = parseJSON(`{"a":${max},"a":${min},"__proto__":{"x":${max}}}`) as Record<string, unknown>;
  assert.equal(v.a, -(2n ** 63n));
  assert.ok(Object.hasOwn(v, '__proto__'));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.throws(() => parseJSON(`{"a":${max},}`), SyntaxError);
  assert.throws(() => parseJSON(`{"a":${max}`), SyntaxError);
});

test('stringifyJSON writes BigInts as bare digits, with and without indentation', () => {
  const v = { spec: { n: 2n ** 63n - 1n, list: [1, -(2n ** 63n)], s: 'x' }, skip: undefined };
  assert.equal(stringifyJSON(v), `{"spec":{"n":${max},"list":[1,${min}],"s":"x"}}`);
  assert.equal(stringifyJSON(v, 2), JSON.stringify({ spec: { n: 0, list: [1, 0], s: 'x' } }, null, 2).replace('"n": 0', `"n": ${max}`).replace('0\n', `${min}\n`));
  assert.equal(stringifyJSON({ a: 1 }), '{"a":1}');
  // A circular value is still JSON.stringify's TypeError, not a stack overflow.
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  assert.throws(() => stringifyJSON(loop), TypeError);
});

test('isInt64 holds integers to Go int64 range exactly', () => {
  assert.equal(isInt64(2n ** 63n - 1n), true);
  assert.equal(isInt64(2n ** 63n), false);
  assert.equal(isInt64(-(2n ** 63n)), true);
  assert.equal(isInt64(-(2n ** 63n) - 1n), false);
  assert.equal(isInt64(2 ** 63), false, 'the double 2^63 is one past int64');
  assert.equal(isInt64(1.5), false);
  assert.equal(isInt64(42), true);
});

test('safeIntegersToNumbers keeps BigInts only where a number would round', () => {
  const v = safeIntegersToNumbers({ a: 5n, b: [2n ** 63n - 1n, -3n], c: { d: 9007199254740991n } });
  assert.deepEqual(v, { a: 5, b: [2n ** 63n - 1n, -3], c: { d: 9007199254740991 } });
});

test('cloneJSON copies deeply: nothing of the copy is shared, BigInts and nulls kept', () => {
  const src = { a: [1, { b: 'x' }, null], big: 2n ** 64n, nested: { deeper: { n: 1 } }, none: undefined, when: new Date(0) };
  const copy = cloneJSON(src);
  assert.deepEqual(copy, src);
  assert.notEqual(copy.a, src.a);
  assert.notEqual(copy.a[1], src.a[1]);
  assert.notEqual(copy.nested.deeper, src.nested.deeper);
  assert.notEqual(copy.when, src.when);
  (copy.nested.deeper as { n: number }).n = 2;
  assert.equal(src.nested.deeper.n, 1);
});

test('cloneJSON keeps a "__proto__" key as data, as a ConfigMap may hold one', () => {
  const src = JSON.parse('{"data":{"__proto__":"v","a":"b"}}') as { data: Record<string, string> };
  const copy = cloneJSON(src);
  assert.deepEqual(Object.keys(copy.data), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(copy.data), Object.prototype);
  assert.equal(JSON.stringify(copy), '{"data":{"__proto__":"v","a":"b"}}');
});
