// Clock is the time source the work queue and its rate limiters read, so tests can drive time
// by hand instead of sleeping (client-go's k8s.io/utils/clock seam).

/** TimerHandle is whatever setTimeout returned; only the clock that made it may clear it. */
export type TimerHandle = unknown;

/** Clock is now() in milliseconds plus one-shot timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** realClock is wall time and Node's timers. Timers are unref'd: a pending retry never keeps a process alive. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** FakeClock is a Clock that moves only when step() is called. Test-only. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

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
