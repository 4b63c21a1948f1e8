import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metadataUnknownFields } from './metadata.js';

test('metadata keeps only ObjectMeta fields', () => {
  const obj = { metadata: { name: 'x', labels: { a: 'b' }, bogus: 1, ownerReferences: [{ name: 'o', nope: 2 }] } };
  assert.deepEqual(metadataUnknownFields(obj, false), ['metadata.bogus', 'metadata.ownerReferences[0].nope']);
  metadataUnknownFields(obj, true);
  assert.deepEqual(obj.metadata, { name: 'x', labels: { a: 'b' }, ownerReferences: [{ name: 'o' }] });
});
