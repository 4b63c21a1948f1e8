// Clock is the time source every process reads through, so tests can drive time by hand instead
// of sleeping (k8s.io/utils/clock). Two real clocks share one timer implementation and differ
// only in what now() counts from: realClock is monotonic (durations, deadlines, rate limits:
// it never jumps when the wall clock is set), wallClock is epoch milliseconds (times written
// into objects: a Lease's renewTime, a pod's startedAt). The fake clock is test-only, in
// lib/testing/fakeclock.ts.

/** TimerHandle is whatever setTimeout returned; only the clock that made it may clear it. */
export type TimerHandle = unknown;

/** Clock is now() in milliseconds plus one-shot timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** unrefTimeout is setTimeout unref'd: a pending retry or renewal never keeps a process alive on its own. */
function unrefTimeout(fn: () => void, ms: number): TimerHandle {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}

function clearTimer(handle: TimerHandle): void {
  clearTimeout(handle as NodeJS.Timeout);
}

/** realClock is monotonic time (performance.now) and Node's timers: for measuring and waiting. */
export const realClock: Clock = { now: () => performance.now(), setTimeout: unrefTimeout, clearTimeout: clearTimer };

/** wallClock is Date.now() and Node's timers: for times that are written down and read by other processes. */
export const wallClock: Clock = { now: () => Date.now(), setTimeout: unrefTimeout, clearTimeout: clearTimer };
