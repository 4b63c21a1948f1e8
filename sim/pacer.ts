// PacedWriter is the one door every API write of the simulator goes through: a token bucket
// (writes per second, with a small burst), a bound on writes in flight, and strict priorities
// (Lease renewals first: a late renewal makes a Node NotReady; then Node registration and
// status; then pod status and deletions; heartbeats last). Work is queued by key, so a key
// queued twice runs once, and re-queuing at a higher priority moves it up. The task itself
// reads the latest state when it runs, so coalescing loses nothing.

import type { Clock, TimerHandle } from '../lib/clock.js';
import { TokenBucket } from '../lib/flowcontrol/tokenbucket.js';

/** WritePriority orders the queues, most urgent first. */
export const WritePriority = { Lease: 0, Node: 1, Pod: 2, Heartbeat: 3 } as const;
export type WritePriority = (typeof WritePriority)[keyof typeof WritePriority];

const priorityCount = 4;

/** FifoQueue is an array-backed queue with O(1) amortized push and shift. */
class FifoQueue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    this.items.push(v);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const v = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}

interface Entry {
  priority: WritePriority;
  seq: number;
  task: () => Promise<void>;
}

/** PacedWriterOptions tune a PacedWriter. */
export interface PacedWriterOptions {
  ratePerSecond: number;
  /** burst is how many writes may start at once after a quiet spell (default: a tenth of a second's worth, at least 1). */
  burst?: number;
  maxInFlight: number;
  clock: Clock;
  /** onError sees a task's rejection (tasks should handle their own errors; this is the last resort). */
  onError?: (key: string, err: unknown) => void;
}

/** PacedWriter runs keyed write tasks by priority within a rate and concurrency budget. */
export class PacedWriter {
  private readonly bucket: TokenBucket;
  private readonly queues: FifoQueue<{ key: string; seq: number }>[] = [];
  private readonly entries = new Map<string, Entry>();
  private inFlight = 0;
  private seq = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: PacedWriterOptions) {
    this.bucket = new TokenBucket(opts.ratePerSecond, opts.burst ?? Math.max(1, Math.floor(opts.ratePerSecond / 10)), opts.clock);
    for (let i = 0; i < priorityCount; i++) this.queues.push(new FifoQueue());
  }

  /** depth is how many tasks wait (not counting those in flight). */
  get depth(): number {
    return this.entries.size;
  }

  /** active is how many tasks are in flight. */
  get active(): number {
    return this.inFlight;
  }

  /** queued tells whether key waits to run. */
  queued(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * enqueue queues task under key. A key already waiting keeps its place (and its task is
   * replaced by the newer one), unless priority is more urgent, which moves it up.
   */
  enqueue(key: string, priority: WritePriority, task: () => Promise<void>): void {
    if (this.stopped) return;
    const existing = this.entries.get(key);
    if (existing && existing.priority <= priority) {
      existing.task = task;
      return;
    }
    const seq = ++this.seq;
    this.entries.set(key, { priority, seq, task });
    this.queues[priority]!.push({ key, seq });
    this.pump();
  }

  /** cancel drops key if it is waiting. */
  cancel(key: string): void {
    this.entries.delete(key);
  }

  /** stop drops everything waiting; tasks in flight finish. */
  stop(): void {
    this.stopped = true;
    this.entries.clear();
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** idle resolves once nothing waits or runs (for tests). */
  idle(): Promise<void> {
    if (this.entries.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): { key: string; entry: Entry } | undefined {
    for (const q of this.queues) {
      for (let item = q.shift(); item; item = q.shift()) {
        const entry = this.entries.get(item.key);
        // A stale slot: the key was cancelled, ran, or moved to a more urgent queue.
        if (!entry || entry.seq !== item.seq) continue;
        this.entries.delete(item.key);
        return { key: item.key, entry };
      }
    }
    return undefined;
  }

  private pump(): void {
    while (!this.stopped && this.entries.size > 0 && this.inFlight < this.opts.maxInFlight) {
      const wait = this.bucket.msUntilToken();
      if (wait > 0) {
        if (this.timer === undefined) {
          this.timer = this.opts.clock.setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, wait);
        }
        return;
      }
      const item = this.next();
      if (!item) break;
      this.bucket.tryAccept();
      this.inFlight++;
      let p: Promise<void>;
      try {
        p = item.entry.task();
      } catch (err) {
        p = Promise.reject(err);
      }
      void p
        .catch((err: unknown) => this.opts.onError?.(item.key, err))
        .finally(() => {
          this.inFlight--;
          this.pump();
          this.notifyIdle();
        });
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.entries.size === 0 && this.inFlight === 0 && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
