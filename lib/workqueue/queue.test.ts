import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fakeclock.js';
import { RateLimitingQueue } from './queue.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from './ratelimiter.js';

function newQueue(clock = new FakeClock()) {
  return { clock, q: new RateLimitingQueue<string>({ name: 'test', clock }) };
}

describe('RateLimitingQueue', () => {
  it('holds a key once however often it is added, in first-added order', async () => {
    const { q } = newQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('never hands out a key being processed; one added meanwhile comes back after done', async () => {
    const { q } = newQueue();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.len(), 0, 'a re-add while processing must wait for done');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    assert.equal(second, undefined);
    q.done('a');
    await Promise.resolve();
    assert.equal(second, 'a');
    assert.equal(q.len(), 0);
  });

  it('a key not re-added is gone after done', async () => {
    const { q } = newQueue();
    q.add('a');
    await q.get();
    q.done('a');
    assert.equal(q.len(), 0);
    assert.equal(q.processingCount(), 0);
  });

  it('gives concurrent getters different keys', async () => {
    const { q } = newQueue();
    const got = [q.get(), q.get()];
    q.add('a');
    q.add('b');
    q.add('a');
    assert.deepEqual((await Promise.all(got)).sort(), ['a', 'b']);
    assert.equal(q.len(), 0);
  });

  it('addAfter adds once the delay passes; the earlier of two delays wins', async () => {
    const { q, clock } = newQueue();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    clock.step(49);
    assert.equal(q.len(), 0);
    clock.step(1);
    assert.equal(q.len(), 1);
    clock.step(500);
    assert.equal(q.len(), 1, 'superseded timers must not add again');
    assert.equal(clock.pending(), 0);
  });

  it('addAfter with a delay beyond a timer (2^31-1 ms) adds after that long, never at once', () => {
    const { q, clock } = newQueue();
    q.addAfter('a', 9223372036854775807 * 1000);
    clock.step(1000);
    assert.equal(q.len(), 0);
    clock.step(2 ** 31 - 1 - 1000);
    assert.equal(q.len(), 1);
  });

  it('addRateLimited backs off 5 ms, 10 ms, 20 ms per failure and forget resets it', async () => {
    const { q, clock } = newQueue();
    for (const expected of [5, 10, 20]) {
      q.addRateLimited('a');
      clock.step(expected - 1);
      assert.equal(q.len(), 0, `retry came before ${expected} ms`);
      clock.step(1);
      assert.equal(q.len(), 1, `retry not there at ${expected} ms`);
      assert.equal(await q.get(), 'a');
      q.done('a');
    }
    assert.equal(q.numRequeues('a'), 3);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
    q.addRateLimited('a');
    clock.step(5);
    assert.equal(q.len(), 1);
  });

  it('shutDown wakes waiting getters, ignores new adds, still drains queued keys', async () => {
    const { q, clock } = newQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    const q2 = newQueue(clock).q;
    q2.add('a');
    q2.addAfter('b', 10);
    q2.shutDown();
    q2.add('c');
    clock.step(100);
    assert.equal(await q2.get(), 'a');
    assert.equal(await q2.get(), undefined);
  });

  it('shutDownWithDrain resolves only when processing keys are done', async () => {
    const { q } = newQueue();
    q.add('a');
    await q.get();
    let drained = false;
    const p = q.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    assert.equal(drained, false);
    q.done('a');
    await p;
    assert.equal(drained, true);
  });

  it('reports depth, adds and retries to its metrics hooks', async () => {
    const clock = new FakeClock();
    const seen = { adds: 0, retries: 0, depth: [] as number[], latency: 0, work: 0 };
    const q = new RateLimitingQueue<string>({
      name: 'm',
      clock,
      metrics: {
        add: () => seen.adds++,
        retry: () => seen.retries++,
        depth: (_n, d) => seen.depth.push(d),
        queueLatency: (_n, s) => (seen.latency = s),
        workDuration: (_n, s) => (seen.work = s),
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    clock.step(2000);
    await q.get();
    clock.step(500);
    q.done('a');
    q.addRateLimited('a');
    assert.equal(seen.adds, 2);
    assert.equal(seen.retries, 1);
    assert.deepEqual(seen.depth, [1, 2, 1]);
    assert.equal(seen.latency, 2);
    assert.equal(seen.work, 0.5);
  });
});

describe('rate limiters', () => {
  it('ItemExponentialFailureRateLimiter doubles per item and caps at the max', () => {
    const rl = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    const delays = Array.from({ length: 20 }, () => rl.when('a'));
    assert.deepEqual(delays.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(delays[17], 5 * 2 ** 17);
    assert.equal(delays[18], 1_000_000, 'capped at 1000 s');
    assert.equal(rl.when('b'), 5, 'items back off independently');
    for (let i = 0; i < 2000; i++) rl.when('a');
    assert.equal(rl.when('a'), 1_000_000, 'huge exponents stay capped');
  });

  it('BucketRateLimiter allows a burst, then spaces items at 1/qps, and refills', () => {
    const clock = new FakeClock();
    const rl = new BucketRateLimiter<string>(10, 100, clock);
    for (let i = 0; i < 100; i++) assert.equal(rl.when(`k${i}`), 0);
    assert.ok(Math.abs(rl.when('x') - 100) < 1e-6);
    assert.ok(Math.abs(rl.when('y') - 200) < 1e-6);
    clock.step(10_300);
    assert.equal(rl.when('z'), 0, 'bucket refilled');
  });

  it('defaultControllerRateLimiter is the max of per-item backoff and the overall bucket', () => {
    const clock = new FakeClock();
    const rl = defaultControllerRateLimiter<string>(clock);
    assert.ok(rl instanceof MaxOfRateLimiter);
    assert.equal(rl.when('a'), 5);
    assert.equal(rl.when('a'), 10);
    assert.equal(rl.numRequeues('a'), 2);
    // 98 more tokens drain the burst; the next fresh item is bucket-limited, not 5 ms.
    for (let i = 0; i < 98; i++) rl.when(`k${i}`);
    assert.ok(Math.abs(rl.when('fresh') - 100) < 1e-6);
    rl.forget('a');
    assert.equal(rl.numRequeues('a'), 0);
  });
});

describe('promQueueMetrics', () => {
  it("publishes client-go's workqueue series labelled by queue name", async () => {
    const { Registry } = await import('prom-client');
    const { promQueueMetrics } = await import('./metrics.js');
    const registry = new Registry();
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ name: 'replicaset', clock, metrics: promQueueMetrics(registry) });
    assert.equal(promQueueMetrics(registry), promQueueMetrics(registry), 'one set of series per registry');
    q.add('a');
    q.add('b');
    await q.get();
    q.addRateLimited('a');
    const text = await registry.metrics();
    assert.match(text, /workqueue_adds_total\{name="replicaset"\} 2/);
    assert.match(text, /workqueue_depth\{name="replicaset"\} 1/);
    assert.match(text, /workqueue_retries_total\{name="replicaset"\} 1/);
    assert.match(text, /workqueue_queue_duration_seconds_count\{name="replicaset"\} 1/);
  });
});
