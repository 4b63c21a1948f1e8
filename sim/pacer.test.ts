import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeClock } from '../lib/testing/fakeclock.js';
import { PacedWriter, WritePriority } from './pacer.js';

/** flush lets settled task promises run their continuations. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('PacedWriter', () => {
  test('starts no more writes than rate × time + burst', async () => {
    const clock = new FakeClock();
    const w = new PacedWriter({ ratePerSecond: 50, burst: 5, maxInFlight: 100, clock });
    let started = 0;
    for (let i = 0; i < 500; i++) w.enqueue(`k${i}`, WritePriority.Pod, async () => void started++);
    assert.equal(started, 5, 'only the burst at once');
    for (let ms = 0; ms < 2000; ms += 10) {
      clock.step(10);
      await flush();
      assert.ok(started <= 5 + Math.floor(((ms + 10) * 50) / 1000), `${started} writes after ${ms + 10}ms`);
    }
    assert.ok(started >= 100, `the budget is used: ${started} writes in 2s`);
    assert.equal(w.depth, 500 - started);
  });

  test('runs Lease renewals before node status, pod status and heartbeats, whatever the order queued', async () => {
    const clock = new FakeClock();
    const w = new PacedWriter({ ratePerSecond: 1, burst: 1, maxInFlight: 10, clock });
    const order: string[] = [];
    w.enqueue('first', WritePriority.Pod, async () => void order.push('first'));
    for (const [key, p] of [
      ['hb', WritePriority.Heartbeat],
      ['pod', WritePriority.Pod],
      ['node', WritePriority.Node],
      ['lease', WritePriority.Lease],
    ] as const) {
      w.enqueue(key, p, async () => void order.push(key));
    }
    for (let i = 0; i < 5; i++) {
      clock.step(1000);
      await flush();
    }
    assert.deepEqual(order, ['first', 'lease', 'node', 'pod', 'hb']);
  });

  test('a key queued twice runs once with the newer task; a more urgent priority moves it up', async () => {
    const clock = new FakeClock();
    const w = new PacedWriter({ ratePerSecond: 1, burst: 1, maxInFlight: 10, clock });
    const order: string[] = [];
    w.enqueue('block', WritePriority.Lease, async () => void order.push('block'));
    w.enqueue('a', WritePriority.Pod, async () => void order.push('a'));
    w.enqueue('node/x', WritePriority.Heartbeat, async () => void order.push('heartbeat'));
    w.enqueue('node/x', WritePriority.Node, async () => void order.push('status'));
    w.enqueue('a', WritePriority.Heartbeat, async () => void order.push('a2'));
    assert.equal(w.depth, 2);
    for (let i = 0; i < 4; i++) {
      clock.step(1000);
      await flush();
    }
    assert.deepEqual(order, ['block', 'status', 'a2']);
    assert.equal(w.depth, 0);
  });

  test('never has more than maxInFlight writes outstanding', async () => {
    const clock = new FakeClock();
    const w = new PacedWriter({ ratePerSecond: 1000, burst: 1000, maxInFlight: 4, clock });
    const pending: (() => void)[] = [];
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      w.enqueue(`k${i}`, WritePriority.Pod, () => {
        peak = Math.max(peak, w.active);
        return new Promise<void>((r) => pending.push(r));
      });
    }
    assert.equal(w.active, 4);
    let finished = 0;
    while (pending.length) {
      pending.shift()!();
      finished++;
      await flush();
    }
    assert.equal(finished, 20);
    assert.equal(peak, 4);
    await w.idle();
  });

  test('a failing task is reported and does not stop the others', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const w = new PacedWriter({ ratePerSecond: 100, burst: 10, maxInFlight: 2, clock, onError: (key) => errors.push(key) });
    let ok = 0;
    w.enqueue('bad', WritePriority.Pod, async () => {
      throw new Error('boom');
    });
    for (let i = 0; i < 3; i++) w.enqueue(`k${i}`, WritePriority.Pod, async () => void ok++);
    await w.idle();
    assert.deepEqual(errors, ['bad']);
    assert.equal(ok, 3);
  });
});
