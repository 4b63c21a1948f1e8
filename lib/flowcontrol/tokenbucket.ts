// TokenBucket is the one token-bucket rate limiter (client-go flowcontrol's token bucket over
// golang.org/x/time/rate): it holds up to burst tokens and refills at qps per second. The node
// lifecycle controller's per-zone eviction limiter, the simulator's write pacer and the work
// queue's overall limiter all use it.

import type { Clock } from '../clock.js';

/** TokenBucketOptions tune a TokenBucket. */
export interface TokenBucketOptions {
  /** tokens is how many tokens the bucket starts with (default: full, burst). */
  tokens?: number;
}

/** TokenBucket allows qps events per second on average and up to burst at once; qps <= 0 allows nothing (NewFakeNeverRateLimiter). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Pick<Clock, 'now'>,
    opts: TokenBucketOptions = {},
  ) {
    this.tokens = opts.tokens ?? burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
      this.last = now;
    }
  }

  /** tryAccept takes one token if there is one (TryAccept). */
  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** msUntilToken is how long until a token is available (0: now; Infinity at qps <= 0). */
  msUntilToken(): number {
    if (this.qps <= 0) return Infinity;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.qps);
  }

  /**
   * reserve takes a token now even when the bucket is empty and returns how long the caller must
   * wait before using it (rate.Limiter's Reserve().Delay()): a negative balance is a reservation
   * of future tokens, paid back as the bucket refills.
   */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}
