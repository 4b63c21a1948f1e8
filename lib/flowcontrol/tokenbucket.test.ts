import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../testing/fakeclock.js';
import { TokenBucket } from './tokenbucket.js';

describe('TokenBucket', () => {
  test('allows the burst at once, then rate per second', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(10, 3, clock);
    let taken = 0;
    while (b.tryAccept()) taken++;
    assert.equal(taken, 3);
    assert.equal(b.msUntilToken(), 100);
    clock.step(1000);
    taken = 0;
    while (b.tryAccept()) taken++;
    assert.equal(taken, 3, 'never more than the burst, however long the pause');
    clock.step(250);
    assert.equal(b.tryAccept(), true);
    assert.equal(b.tryAccept(), true);
    assert.equal(b.tryAccept(), false);
  });

  test('lets one node through per 10 s at 0.1 qps with burst 1, and none at 0 (the node lifecycle eviction limiter)', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(0.1, 1, clock);
    assert.equal(b.tryAccept(), true);
    clock.step(5000);
    assert.equal(b.tryAccept(), false);
    clock.step(5000);
    assert.equal(b.tryAccept(), true);
    const never = new TokenBucket(0, 1, clock);
    clock.step(1e9);
    assert.equal(never.tryAccept(), false);
    assert.equal(never.msUntilToken(), Infinity);
  });

  test('starts empty when asked to', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(1, 1, clock, { tokens: 0 });
    assert.equal(b.tryAccept(), false);
    assert.equal(b.msUntilToken(), 1000);
  });

  test('reserve goes into debt and says how long to wait (the work queue overall limiter)', () => {
    const clock = new FakeClock();
    const b = new TokenBucket(10, 2, clock);
    assert.deepEqual([b.reserve(), b.reserve(), b.reserve(), b.reserve()], [0, 0, 100, 200]);
    clock.step(300);
    assert.equal(b.reserve(), 0, 'three tokens refilled pay back the debt of two and leave one');
    assert.equal(b.reserve(), 100);
  });
});
