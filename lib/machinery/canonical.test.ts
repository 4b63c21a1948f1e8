import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJSON, jsonEqual } from './canonical.js';

test('jsonEqual agrees with comparing canonicalJSON strings', () => {
  const values: unknown[] = [
    null,
    0,
    -0,
    1,
    1n,
    2n ** 64n,
    '1',
    '',
    true,
    false,
    [],
    {},
    [1, 2],
    [2, 1],
    [1, undefined],
    [1, null],
    { a: 1, b: [1, { c: 'x' }] },
    { b: [1, { c: 'x' }], a: 1 },
    { b: [1, { c: 'y' }], a: 1 },
    { a: 1, b: [1, { c: 'x' }], d: undefined },
    { a: 1 },
    { a: '1' },
    { a: null },
    { a: [] },
    { a: {} },
  ];
  for (const a of values) {
    for (const b of values) assert.equal(jsonEqual(a, b), canonicalJSON(a) === canonicalJSON(b), `${canonicalJSON(a)} vs ${canonicalJSON(b)}`);
  }
});

test('jsonEqual leaves out one metadata member when asked', () => {
  const a = { kind: 'X', metadata: { name: 'a', resourceVersion: '1' }, spec: { n: 1 } };
  const b = { spec: { n: 1 }, metadata: { resourceVersion: '2', name: 'a' }, kind: 'X' };
  assert.equal(jsonEqual(a, b), false);
  assert.equal(jsonEqual(a, b, 'resourceVersion'), true);
  assert.equal(jsonEqual(a, { ...b, spec: { n: 2 } }, 'resourceVersion'), false);
  assert.equal(jsonEqual(a, { ...b, metadata: { name: 'b', resourceVersion: '1' } }, 'resourceVersion'), false);
  assert.equal(jsonEqual({ spec: { metadata: { resourceVersion: '1' } } }, { spec: { metadata: { resourceVersion: '2' } } }, 'resourceVersion'), false, 'only the top-level metadata');
});
