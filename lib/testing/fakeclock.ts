// Test-only: nothing outside *.test.ts and test helpers may import this module.

import type { Clock, TimerHandle } from '../clock.js';

/** FakeClock is a Clock that moves only when step() is called. Test-only. */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  /** constructor starts the clock at start milliseconds (0 unless a test needs wall-like times). */
  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** pending is how many timers have not fired yet. */
  pending(): number {
    return this.timers.size;
  }

  /** step advances time by ms, firing due timers in deadline order (timers they set fire too, if due). */
  step(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = end;
  }
}
