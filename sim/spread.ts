// Spreading periodic writes: each Node renews its Lease (and sends its heartbeat) at its own
// phase within the period, taken from a hash of its name, so N Nodes make N/period writes every
// second instead of N writes at once. When the write budget cannot carry N renewals per period,
// the period is stretched to what it can carry, up to a cap below the Lease's 40s grace.

/**
 * hash32 hashes a string to an unsigned 32-bit number: FNV-1a, then MurmurHash3's finalizer,
 * without which names that differ in one trailing digit (sim-1, sim-2, …) land in clumps.
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** phaseOf is name's offset within a period of periodMs, in [0, periodMs). */
export function phaseOf(name: string, periodMs: number): number {
  return Math.floor((hash32(name) / 2 ** 32) * periodMs);
}

/** nextPhaseTime is the first time t ≥ notBefore with t ≡ phaseOf(name) (mod periodMs). */
export function nextPhaseTime(name: string, periodMs: number, notBefore: number): number {
  const phase = phaseOf(name, periodMs);
  const k = Math.ceil((notBefore - phase) / periodMs);
  return phase + k * periodMs;
}

/**
 * nextAfterWrite is when a Node's next periodic write is due after one done at now: its next
 * phase time at least a tenth of a period away. A write that ran a little late is followed by
 * the next on-phase one (no drift), and no two writes are more than 1.1 periods apart, which
 * keeps a Lease renewed every period well inside its 40s.
 */
export function nextAfterWrite(name: string, periodMs: number, now: number): number {
  return nextPhaseTime(name, periodMs, now + periodMs / 10);
}

/** StretchResult is the period to use and whether it had to be stretched or cannot keep up. */
export interface StretchResult {
  periodMs: number;
  stretched: boolean;
  /** overBudget: even the capped period needs more writes than the budget's share. */
  overBudget: boolean;
}

/**
 * stretchPeriod is the period at which `count` periodic writes fit in `share` of a budget of
 * ratePerSecond: the configured period, or longer, but never longer than capMs.
 */
export function stretchPeriod(count: number, periodMs: number, ratePerSecond: number, share: number, capMs = Infinity): StretchResult {
  const needed = count > 0 ? Math.ceil((count * 1000) / (ratePerSecond * share)) : 0;
  if (needed <= periodMs) return { periodMs, stretched: false, overBudget: false };
  const cap = Math.max(periodMs, capMs);
  return { periodMs: Math.min(needed, cap), stretched: true, overBudget: needed > cap };
}
