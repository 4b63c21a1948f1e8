import { test } from 'node:test';
import assert from 'node:assert/strict';
import { semanticEqual } from './equality.js';

test('semanticEqual ignores key order and treats nil and empty collections alike', () => {
  assert.ok(semanticEqual({ a: '1', b: '2' }, { b: '2', a: '1' }));
  assert.ok(semanticEqual(undefined, {}));
  assert.ok(semanticEqual({ matchLabels: { app: 'web' }, matchExpressions: [] }, { matchLabels: { app: 'web' } }));
  assert.ok(semanticEqual('', undefined));
});

test('semanticEqual sees real differences, including empty label values', () => {
  assert.ok(!semanticEqual({ a: '' }, {}));
  assert.ok(!semanticEqual({ a: '1' }, { a: '2' }));
  assert.ok(!semanticEqual({ ready: false }, {}));
  assert.ok(!semanticEqual(['a', 'b'], ['b', 'a']));
});
