// RateLimitingQueue is client-go's workqueue (queue.go + delaying_queue.go +
// rate_limiting_queue.go) in one class. Its invariants, which controllers rely on:
//  - an item is in the queue at most once, however often it is added (the dirty set);
//  - an item is never handed to two workers at once (the processing set): one added while it
//    is being processed waits, and is queued again when done() is called for it;
//  - items come out in the order they were first added.
// Items are compared with SameValueZero (Map/Set semantics), so use strings such as
// `namespace/name` keys.

import { type Clock, type TimerHandle, realClock } from '../clock.js';
import { type RateLimiter, defaultControllerRateLimiter } from './ratelimiter.js';

/**
 * QueueMetrics are hooks the queue calls as it works (workqueue_depth, workqueue_adds_total,
 * workqueue_retries_total, workqueue_queue_duration_seconds, workqueue_work_duration_seconds).
 * Every hook is optional; see promQueueMetrics for a Prometheus implementation.
 */
export interface QueueMetrics {
  /** depth is called with the new number of queued (not processing) items whenever it changes. */
  depth?(name: string, depth: number): void;
  /** add is called for every add() that marked an item dirty (not a duplicate, not after shutdown). */
  add?(name: string): void;
  /** retry is called for every addRateLimited(). */
  retry?(name: string): void;
  /** queueLatency is how long an item waited in the queue before a worker got it, in seconds. */
  queueLatency?(name: string, seconds: number): void;
  /** workDuration is how long a worker held an item (get to done), in seconds. */
  workDuration?(name: string, seconds: number): void;
}

/** QueueOptions configure a RateLimitingQueue. */
export interface QueueOptions<T> {
  /** name labels metrics and logs. */
  name?: string;
  /** rateLimiter defaults to defaultControllerRateLimiter(). */
  rateLimiter?: RateLimiter<T>;
  clock?: Clock;
  metrics?: QueueMetrics;
}

/** maxTimerMs is the longest delay setTimeout keeps (a signed 32-bit count of ms). */
const maxTimerMs = 2 ** 31 - 1;

/** RateLimitingQueue is a work queue with delayed and rate-limited adds. */
export class RateLimitingQueue<T = string> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<T>;
  private readonly metrics: QueueMetrics;

  private readonly queue: T[] = [];
  /** dirty holds every item that needs processing: queued, or added again while processing. */
  private readonly dirty = new Set<T>();
  /** processing holds items a worker has taken and not yet marked done. */
  private readonly processing = new Set<T>();
  private readonly addedAt = new Map<T, number>();
  private readonly startedAt = new Map<T, number>();
  /** waiting holds delayed adds: the earliest time each item becomes ready, and its timer. */
  private readonly waiting = new Map<T, { readyAt: number; timer: TimerHandle }>();
  private readonly getters: Array<(item: T | undefined) => void> = [];
  private shutdown = false;
  private drained: Array<() => void> = [];

  constructor(opts: QueueOptions<T> = {}) {
    this.name = opts.name ?? '';
    this.clock = opts.clock ?? realClock;
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
    this.metrics = opts.metrics ?? {};
  }

  /** add marks item as needing processing. Ignored after shutDown. */
  add(item: T): void {
    if (this.shutdown) return;
    if (this.dirty.has(item)) return;
    this.metrics.add?.(this.name);
    this.dirty.add(item);
    if (!this.addedAt.has(item)) this.addedAt.set(item, this.clock.now());
    // Re-queued by done() once the worker holding it finishes.
    if (this.processing.has(item)) return;
    this.push(item);
  }

  /**
   * addAfter adds item once delayMs has passed. If item is already waiting, the earlier of the
   * two ready times wins. A delay beyond what a timer holds (2^31-1 ms, about 24.8 days; Node
   * fires a longer one after 1 ms) adds the item when that much has passed: a reconcile then
   * finds nothing due yet and asks again.
   */
  addAfter(item: T, delayMs: number): void {
    if (this.shutdown) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, Math.min(delayMs, maxTimerMs));
    this.waiting.set(item, { readyAt, timer });
  }

  /** addRateLimited adds item after the delay the rate limiter gives it (one more failure). */
  addRateLimited(item: T): void {
    if (this.shutdown) return;
    this.metrics.retry?.(this.name);
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** forget clears item's failure history; call it when item was processed successfully. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  /** numRequeues is how many rate-limited retries item has had since it was last forgotten. */
  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  /**
   * get waits for the next item and marks it processing; the caller must call done(item).
   * It resolves undefined once the queue is shut down and empty (items queued before shutDown
   * are still handed out, as in client-go).
   */
  get(): Promise<T | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.take());
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** done tells the queue a worker finished item; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    const started = this.startedAt.get(item);
    this.startedAt.delete(item);
    if (started !== undefined) this.metrics.workDuration?.(this.name, (this.clock.now() - started) / 1000);
    if (this.dirty.has(item)) this.push(item);
    if (this.processing.size === 0 && this.drained.length > 0) {
      for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  /** len is the number of queued items (not counting ones being processed or waiting on a delay). */
  len(): number {
    return this.queue.length;
  }

  /** processingCount is how many items workers hold right now. */
  processingCount(): number {
    return this.processing.size;
  }

  /** shuttingDown tells whether shutDown was called. */
  shuttingDown(): boolean {
    return this.shutdown;
  }

  /**
   * shutDown stops accepting adds, drops delayed adds and wakes every waiting get() with
   * undefined. Items already queued can still be taken.
   */
  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  /** shutDownWithDrain shuts down and resolves once every item being processed is done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private push(item: T): void {
    const getter = this.getters.shift();
    if (getter) {
      // A worker is already waiting: hand it over without touching the queue.
      this.queue.push(item);
      getter(this.take());
      return;
    }
    this.queue.push(item);
    this.metrics.depth?.(this.name, this.queue.length);
  }

  private take(): T {
    const item = this.queue.shift() as T;
    this.metrics.depth?.(this.name, this.queue.length);
    this.processing.add(item);
    this.dirty.delete(item);
    const now = this.clock.now();
    const added = this.addedAt.get(item);
    this.addedAt.delete(item);
    if (added !== undefined) this.metrics.queueLatency?.(this.name, (now - added) / 1000);
    this.startedAt.set(item, now);
    return item;
  }
}
