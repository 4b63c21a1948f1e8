// Backoff is client-go's flowcontrol.Backoff: a per-key delay that starts at `initial`, doubles
// on every Next up to `max`, and is forgotten when a key stays quiet for twice the maximum. The
// DaemonSet controller keys it by DaemonSet, generation and node so that a kubelet rejecting a
// daemon pod over and over is not answered with a hot loop of deletes and creates.

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

/** Backoff tracks exponential per-key delays; its clock is injectable for tests. */
export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** get is key's current delay in ms (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** next starts key at the initial delay, or doubles it (up to the maximum), as of now. */
  next(key: string, now = this.now()): void {
    const e = this.entries.get(key);
    if (!e || this.hasExpired(e, now)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdate: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.maxMs);
    e.lastUpdate = now;
  }

  /** isInBackOffSinceUpdate: less than key's delay has passed since its last next. */
  isInBackOffSinceUpdate(key: string, now = this.now()): boolean {
    const e = this.entries.get(key);
    if (!e || this.hasExpired(e, now)) return false;
    return now - e.lastUpdate < e.delayMs;
  }

  /** gc forgets keys quiet for longer than twice the maximum delay. */
  gc(now = this.now()): void {
    for (const [k, e] of this.entries) if (this.hasExpired(e, now)) this.entries.delete(k);
  }

  private hasExpired(e: Entry, now: number): boolean {
    return now - e.lastUpdate > 2 * this.maxMs;
  }
}
