// Rate limiters decide how long a failed item waits before it is retried, as client-go's
// workqueue/default_rate_limiters.go: a per-item exponential backoff, an overall token bucket,
// and the max of several. DefaultControllerRateLimiter is the one every controller uses.

import { type Clock, realClock } from '../clock.js';
import { TokenBucket } from '../flowcontrol/tokenbucket.js';

/** RateLimiter decides the delay before an item is handed out again. */
export interface RateLimiter<T> {
  /** when records one more failure of item and returns how many milliseconds it should wait. */
  when(item: T): number;
  /** forget clears item's failure history (it succeeded, or was given up on). */
  forget(item: T): void;
  /** numRequeues is how many times item has failed since it was last forgotten. */
  numRequeues(item: T): number;
}

/**
 * ItemExponentialFailureRateLimiter waits baseDelay * 2^failures for an item, capped at maxDelay.
 * The first failure waits baseDelay.
 */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    readonly baseDelayMs: number,
    readonly maxDelayMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    // 2^exp overflows to Infinity long before it matters; the cap handles it.
    const backoff = this.baseDelayMs * 2 ** exp;
    return Math.min(backoff, this.maxDelayMs);
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * BucketRateLimiter is a token bucket over all items (golang.org/x/time/rate's Reserve().Delay()):
 * the bucket holds up to burst tokens and refills at qps; each when() takes one token, and when
 * the bucket is empty the caller waits until its token would have been refilled. It keeps no
 * per-item state, so forget and numRequeues do nothing.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private readonly bucket: TokenBucket;

  constructor(
    readonly qps: number,
    readonly burst: number,
    clock: Clock = realClock,
  ) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }

  when(_item: T): number {
    return this.bucket.reserve();
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** MaxOfRateLimiter waits as long as the slowest of its limiters says. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    // Every limiter must see the failure, so no short-circuit.
    return this.limiters.reduce((max, l) => Math.max(max, l.when(item)), 0);
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    return this.limiters.reduce((max, l) => Math.max(max, l.numRequeues(item)), 0);
  }
}

/**
 * defaultControllerRateLimiter is client-go's DefaultControllerRateLimiter: per-item exponential
 * backoff from 5 ms doubling to 1000 s, and an overall 10 qps bucket with a burst of 100 so a
 * storm of failures cannot hammer the apiserver.
 */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1_000_000), new BucketRateLimiter<T>(10, 100, clock));
}
