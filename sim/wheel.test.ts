import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../lib/testing/fakeclock.js';
import { TimerWheel } from './wheel.js';

function setup() {
  const clock = new FakeClock();
  clock.step(1_000_000);
  const fired: Array<[string, number]> = [];
  const wheel = new TimerWheel(clock, (key) => fired.push([key, clock.now()]));
  return { clock, fired, wheel };
}

test('fires each key once, never before its time and at most one tick after', () => {
  const { clock, fired, wheel } = setup();
  const t = clock.now();
  wheel.schedule('a', t + 250);
  wheel.schedule('b', t + 1000);
  wheel.schedule('c', t + 1000);
  wheel.schedule('past', t - 5000);
  clock.step(2000);
  const at = new Map(fired);
  assert.equal(fired.length, 4);
  assert.ok(at.get('past')! <= t + 100);
  for (const [key, due] of [['a', t + 250], ['b', t + 1000], ['c', t + 1000]] as const) {
    assert.ok(at.get(key)! >= due && at.get(key)! <= due + 100, `${key} fired at +${at.get(key)! - t}ms`);
  }
  assert.equal(wheel.size, 0);
  assert.equal(clock.pending(), 0, 'no timer is left when nothing is scheduled');
});

test('rescheduling moves a key, cancelling removes it, and many keys share one timer', () => {
  const { clock, fired, wheel } = setup();
  const t = clock.now();
  for (let i = 0; i < 10_000; i++) wheel.schedule(`node-${i}`, t + 1000 + (i % 500));
  assert.equal(clock.pending(), 1, 'one timer for 10,000 keys');
  wheel.schedule('node-1', t + 5000);
  wheel.cancel('node-2');
  assert.equal(wheel.at('node-1'), t + 5000);
  clock.step(2000);
  assert.equal(fired.length, 9998);
  assert.ok(!fired.some(([k]) => k === 'node-1' || k === 'node-2'));
  clock.step(3000);
  assert.equal(fired.at(-1)![0], 'node-1');
});

test('a key its own handler reschedules into the past fires on a later tick, not never', () => {
  const clock = new FakeClock();
  clock.step(1_000_000);
  let count = 0;
  const wheel: TimerWheel = new TimerWheel(clock, (key) => {
    count++;
    if (count < 3) wheel.schedule(key, clock.now() - 1000);
  });
  wheel.schedule('again', clock.now() + 100);
  clock.step(1000);
  assert.equal(count, 3);
});

test('scheduleEarlier keeps the sooner time', () => {
  const { clock, wheel } = setup();
  const t = clock.now();
  wheel.schedule('k', t + 1000);
  wheel.scheduleEarlier('k', t + 5000);
  assert.equal(wheel.at('k'), t + 1000);
  wheel.scheduleEarlier('k', t + 200);
  assert.equal(wheel.at('k'), t + 200);
});
