import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IndexAllocator } from './ipam.js';

describe('IndexAllocator', () => {
  test('gives the preferred index when free, else the lowest free one', () => {
    const ix = new IndexAllocator(10);
    assert.equal(ix.allocate(3), 3);
    assert.equal(ix.allocate(3), 0, '3 is taken: lowest free');
    assert.equal(ix.allocate(), 1);
    assert.ok(ix.claim(7));
    assert.ok(!ix.claim(7));
    assert.ok(!ix.claim(10), 'out of range');
    ix.release(0);
    assert.equal(ix.allocate(), 0);
    // Taken now: 0, 1, 3, 7; six are left.
    for (let i = 0; i < 6; i++) assert.notEqual(ix.allocate(), undefined);
    assert.equal(ix.allocate(), undefined, 'all ten taken');
  });
});
