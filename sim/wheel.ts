// TimerWheel is the simulator's one clock loop: every timed action of every Node and pod (Lease
// renewals, heartbeats, pod starts, crash-loop restarts, deadlines, grace periods) is a key in a
// slot of a hashed timing wheel instead of a timer of its own, so 5,000 Nodes and 100,000 pods
// cost one timer. Scheduling, rescheduling and cancelling a key are O(1); a tick fires every key
// whose slot has come, at most `resolutionMs` late.

import type { Clock, TimerHandle } from '../lib/clock.js';

/** TimerWheel fires keys at (or just after) the times they were scheduled for. */
export class TimerWheel {
  /** slots maps a tick number to the keys due in it. */
  private readonly slots = new Map<number, Set<string>>();
  /** due maps a key to its tick, so a key is in one slot at most. */
  private readonly due = new Map<string, number>();
  /** doneTick is the last tick whose keys have fired. */
  private doneTick: number;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (key: string) => void,
    private readonly resolutionMs = 100,
  ) {
    this.doneTick = this.tickOf(clock.now()) - 1;
  }

  /** size is how many keys are scheduled. */
  get size(): number {
    return this.due.size;
  }

  private tickOf(t: number): number {
    return Math.floor(t / this.resolutionMs);
  }

  /** at is when key is scheduled (the start of its tick), if it is. */
  at(key: string): number | undefined {
    const tick = this.due.get(key);
    return tick === undefined ? undefined : tick * this.resolutionMs;
  }

  /**
   * schedule makes key fire at time t (clock milliseconds), replacing any earlier schedule of
   * it. A time in the past fires on the next tick.
   */
  schedule(key: string, t: number): void {
    if (this.stopped) return;
    // Round up, so a key never fires before its time.
    const tick = Math.max(Math.ceil(t / this.resolutionMs), this.doneTick + 1);
    const old = this.due.get(key);
    if (old === tick) return;
    if (old !== undefined) this.removeFromSlot(key, old);
    this.due.set(key, tick);
    let slot = this.slots.get(tick);
    if (!slot) this.slots.set(tick, (slot = new Set()));
    slot.add(key);
    this.arm();
  }

  /** scheduleEarlier schedules key at t unless it is already due sooner. */
  scheduleEarlier(key: string, t: number): void {
    const cur = this.at(key);
    if (cur === undefined || t < cur) this.schedule(key, t);
  }

  /** cancel unschedules key. */
  cancel(key: string): void {
    const tick = this.due.get(key);
    if (tick === undefined) return;
    this.due.delete(key);
    this.removeFromSlot(key, tick);
  }

  /** stop cancels everything and the loop. */
  stop(): void {
    this.stopped = true;
    this.slots.clear();
    this.due.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private removeFromSlot(key: string, tick: number): void {
    const slot = this.slots.get(tick);
    if (!slot) return;
    slot.delete(key);
    if (slot.size === 0) this.slots.delete(tick);
  }

  /** arm keeps one timer running while anything is scheduled. */
  private arm(): void {
    if (this.timer !== undefined || this.stopped || this.due.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, this.resolutionMs);
  }

  /** tick fires every key of every slot up to now, in time order. */
  private tick(): void {
    const nowTick = this.tickOf(this.clock.now());
    // After a long stall, skip empty ticks in bulk instead of visiting each one.
    if (nowTick - this.doneTick > this.slots.size * 4 + 64) {
      const ticks = [...this.slots.keys()].filter((t) => t <= nowTick).sort((a, b) => a - b);
      for (const t of ticks) this.fireSlot(t);
    } else {
      for (let t = this.doneTick + 1; t <= nowTick; t++) this.fireSlot(t);
    }
    this.doneTick = Math.max(this.doneTick, nowTick);
    this.arm();
  }

  private fireSlot(t: number): void {
    // Mark the tick done first: a key its handler reschedules into the past lands in the next
    // tick, not in this slot that is being emptied.
    this.doneTick = Math.max(this.doneTick, t);
    const slot = this.slots.get(t);
    if (!slot) return;
    this.slots.delete(t);
    for (const key of slot) {
      if (this.due.get(key) !== t) continue;
      this.due.delete(key);
      this.fire(key);
    }
  }
}
