// WatchCache mirrors everything under /registry/ in memory from one storage watch and fans each
// event out to every client watch. It also serves lists: consistent ones after waiting until it
// has seen the store's current revision, and resourceVersion="0" ones at once.
//
// Why one watch over /registry/ rather than one per resource: every write the apiserver makes is
// under /registry/, so this single watch sees every store revision. The cache can then tell
// exactly when it is "as fresh as revision R", which a per-resource watch cannot without etcd's
// progress requests (not exposed by the etcd3 package). Per-resource state is still kept apart.
//
// The cache knows its store only through the Storage interface. It lists in pages, re-lists
// whenever its watch ends (compaction, a backlog too large to carry), and a watchdog re-lists
// when the cache stands still while the store moves on.

import type { KubeObject } from '../../lib/api/meta.js';
import type { Logger } from '../../lib/log.js';
import { Counter, Gauge, type Registry } from '../../lib/metrics.js';
import type { Storage, StorageWatch, StoreEvent, WatchEventType } from './interface.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

/** relistPageSize is how many keys one page of the cache's (re-)list reads (kube-apiserver's cacher pages too). */
const relistPageSize = 1000;

/** CachedEvent is a StoreEvent plus its object serialized once for every watcher. */
export interface CachedEvent extends StoreEvent {
  json?: string;
  /** lines holds the encoded watch line per event type, built once and shared by every watcher. */
  lines?: Partial<Record<WatchEventType, Buffer>>;
}

export function eventJSON(ev: CachedEvent): string {
  if (ev.json === undefined) ev.json = stringifyJSON(ev.object);
  return ev.json;
}

/** eventLine is the `{"type":…,"object":…}` line for ev as bytes, encoded once per type. */
export function eventLine(ev: CachedEvent, type: WatchEventType): Buffer {
  const lines = (ev.lines ??= {});
  return (lines[type] ??= Buffer.from(`{"type":"${type}","object":${eventJSON(ev)}}\n`));
}

/** resourcePrefixOf maps `/registry/apps/deployments/ns/name` to `/registry/apps/deployments/`. */
export function resourcePrefixOf(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i + 1);
  }
  return key;
}

/** CacheWatcher is one client watch: a key prefix, a predicate and a sink. */
export interface CacheWatcher {
  prefix: string;
  matches: (obj: KubeObject) => boolean;
  deliver: (type: WatchEventType, obj: KubeObject, ev: CachedEvent | undefined, matchedOld: boolean) => void;
  /** terminate is called when the cache must drop every watch (e.g. it re-listed after losing etcd history). */
  terminate: (reason: string) => void;
}

export class TooOldResourceVersionError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.name = 'TooOldResourceVersionError';
  }
}

export class TooLargeResourceVersionError extends Error {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`Too large resource version: ${requested}, current: ${current}`);
    this.name = 'TooLargeResourceVersionError';
  }
}

export interface WatchCacheOptions {
  /** capacity is how many events are kept for watches that resume from an older revision. */
  capacity?: number;
  /**
   * watchdogIntervalMs is how often the cache compares its revision with the store's (0 turns
   * the watchdog off). A cache that has not moved for a whole interval while it was behind the
   * store at the start of that interval is stuck, and re-lists.
   */
  watchdogIntervalMs?: number;
  /** metrics receives the cache's metrics (initializations by reason, lag behind the store). */
  metrics?: Registry;
}

/** WatchCacheMetrics are what the cache reports about its own health. */
interface WatchCacheMetrics {
  initializations: Counter<'reason'>;
  lag: Gauge;
  revision: Gauge;
}

function newWatchCacheMetrics(registry?: Registry): WatchCacheMetrics {
  const registers = registry ? [registry] : [];
  return {
    initializations: new Counter({
      name: 'apiserver_watch_cache_initializations_total',
      help: 'Lists of the store that (re)filled the watch cache, by reason: startup, watch-ended, stalled.',
      labelNames: ['reason'],
      registers,
    }),
    lag: new Gauge({ name: 'apiserver_watch_cache_lag_revisions', help: 'How many revisions the watch cache was behind the store at the last watchdog check.', registers }),
    revision: new Gauge({ name: 'apiserver_watch_cache_resource_version', help: 'The newest revision the watch cache has applied.', registers }),
  };
}

export class WatchCache {
  private readonly byResource = new Map<string, Map<string, KubeObject>>();
  private readonly capacity: number;
  private ring: CachedEvent[] = [];
  private ringStart = 0; // index of the oldest event in ring (ring used as a circular buffer)
  private ringLen = 0;
  /** oldestRV: a watch from revision r can be served iff r >= oldestRV. */
  private oldestRV = 0;
  private _revision = 0;
  private readonly watchers = new Set<CacheWatcher>();
  private waiters: { rv: number; resolve: () => void }[] = [];
  private storeWatch?: StorageWatch;
  /** generation changes with every watch started: a sink of an older watch is ignored. */
  private generation = 0;
  private _ready = false;
  private stopped = false;
  private restarting = false;
  private readonly watchdogIntervalMs: number;
  private watchdog?: NodeJS.Timeout;
  /** lastCheck is what the watchdog saw at its previous check. */
  private lastCheck?: { cacheRevision: number; storeRevision: number };
  private readonly metrics: WatchCacheMetrics;

  constructor(
    private readonly store: Storage,
    private readonly log: Logger,
    opts: WatchCacheOptions = {},
  ) {
    this.capacity = opts.capacity ?? 50_000;
    if (!(this.capacity >= 1)) throw new Error('the watch cache keeps at least one event');
    this.ring = new Array(this.capacity);
    this.watchdogIntervalMs = opts.watchdogIntervalMs ?? 5_000;
    this.metrics = newWatchCacheMetrics(opts.metrics);
  }

  get revision(): number {
    return this._revision;
  }
  get ready(): boolean {
    return this._ready;
  }
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** start lists /registry/ in pages and begins watching right after the listed revision. */
  async start(reason: 'startup' | 'watch-ended' | 'stalled' = 'startup'): Promise<void> {
    this.stopped = false;
    let revision = 0;
    let startKey: string | undefined;
    const byResource = new Map<string, Map<string, KubeObject>>();
    for (;;) {
      const page = await this.store.list('/registry/', { revision, limit: relistPageSize, startKey });
      revision = page.revision;
      page.items.forEach((obj, i) => put(byResource, page.keys[i]!, obj));
      if (!page.nextKey) break;
      startKey = page.nextKey;
    }
    this.byResource.clear();
    for (const [k, v] of byResource) this.byResource.set(k, v);
    this.ringStart = 0;
    this.ringLen = 0;
    this._revision = revision;
    this.oldestRV = revision;
    this.lastCheck = undefined;
    await this.watchFrom(revision + 1);
    this._ready = true;
    this.metrics.initializations.inc({ reason });
    this.metrics.revision.set(revision);
    this.log.info('Watch cache initialized', { revision, resources: this.byResource.size, reason });
    this.startWatchdog();
    this.wake();
  }

  /** watchFrom replaces the cache's storage watch by one from revision rev. */
  private async watchFrom(rev: number): Promise<void> {
    const prev = this.storeWatch;
    this.storeWatch = undefined;
    const generation = ++this.generation;
    if (prev) void prev.cancel().catch(() => undefined);
    this.storeWatch = await this.store.watch('/registry/', rev, {
      onEvents: (events, revision) => {
        if (this.generation !== generation) return;
        try {
          this.applyEvents(events, revision);
        } catch (err) {
          this.log.error('Applying a storage watch answer failed; re-listing', { err: err as Error });
          void this.restart('watch-ended');
        }
      },
      onError: (err) => {
        if (this.generation !== generation) return;
        // The watch is gone on both sides (its history was compacted, or its backlog does not
        // fit one answer): only a fresh list brings the cache back.
        this.log.error('Watch of the store ended; re-listing', { err, revision: this._revision });
        void this.restart('watch-ended');
      },
    });
  }

  private applyEvents(events: StoreEvent[], revision: number): void {
    for (const e of events) {
      // Several events may share one revision (a multi-key transaction): only older ones are replays.
      if (e.revision < this._revision || (e.revision === this._revision && this.appliedAt(e.key, e.revision))) continue;
      // The cache's own state of the key is the state before this event (events apply in order),
      // so the store's copy of it is not decoded for a change the cache already holds.
      const prevObject = e.type === 'DELETED' ? (e.prevObject ?? this.getByKey(e.key)) : (this.getByKey(e.key) ?? e.prevObject);
      if (e.type === 'DELETED') {
        if (!prevObject) {
          this._revision = Math.max(this._revision, e.revision);
          continue;
        }
        // A deleted object is delivered with the deletion's revision, as Kubernetes does.
        const object = e.prevObject ? e.object : { ...prevObject, metadata: { ...prevObject.metadata, resourceVersion: String(e.revision) } };
        this.apply({ type: 'DELETED', key: e.key, object, prevObject, revision: e.revision });
      } else {
        this.apply({ type: e.type === 'ADDED' || !prevObject ? 'ADDED' : 'MODIFIED', key: e.key, object: e.object, prevObject, revision: e.revision });
      }
    }
    if (revision > this._revision) this._revision = revision;
    this.metrics.revision.set(this._revision);
    this.wake();
  }

  /** appliedAt tells whether the newest event in the ring is this key at this revision (a replay). */
  private appliedAt(key: string, revision: number): boolean {
    for (let i = this.ringLen - 1; i >= 0; i--) {
      const ev = this.ring[(this.ringStart + i) % this.capacity];
      if (ev.revision !== revision) return false;
      if (ev.key === key) return true;
    }
    return false;
  }

  /** restart drops every client watch and re-lists (they resume from their revision, or get 410 and re-list). */
  private async restart(reason: 'watch-ended' | 'stalled'): Promise<void> {
    if (this.stopped || this.restarting) return;
    this.restarting = true;
    this._ready = false;
    this.stopWatchdog();
    const old = this.storeWatch;
    this.storeWatch = undefined;
    this.generation++;
    await old?.cancel().catch(() => undefined);
    for (const w of [...this.watchers]) w.terminate('watch cache re-initialized');
    this.watchers.clear();
    try {
      for (;;) {
        if (this.stopped) return;
        try {
          await this.start(reason);
          return;
        } catch (err) {
          this.log.warn('Re-listing for the watch cache failed; retrying', { err });
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  private startWatchdog(): void {
    this.stopWatchdog();
    if (!this.watchdogIntervalMs || this.stopped) return;
    this.watchdog = setInterval(() => void this.checkProgress(), this.watchdogIntervalMs);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.lastCheck = undefined;
  }

  /**
   * checkProgress is the watchdog: it re-lists when the cache applied nothing for a whole interval
   * although the store was already ahead of it when the interval began (a watch that is stuck
   * while reporting no error).
   */
  async checkProgress(): Promise<void> {
    if (!this._ready || this.restarting || this.stopped) return;
    let storeRevision: number;
    try {
      storeRevision = await this.store.currentRevision();
    } catch {
      return; // the store is unreachable: its watch reconnects by itself, nothing to repair here
    }
    if (!this._ready || this.restarting) return;
    const cacheRevision = this._revision;
    this.metrics.lag.set(Math.max(0, storeRevision - cacheRevision));
    const prev = this.lastCheck;
    this.lastCheck = { cacheRevision, storeRevision };
    if (prev && cacheRevision === prev.cacheRevision && cacheRevision < prev.storeRevision) {
      this.log.warn('Watch cache is stuck behind the store; re-listing', {
        cacheRevision,
        storeRevision,
        stuckForMs: this.watchdogIntervalMs,
      });
      await this.restart('stalled');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWatchdog();
    const w = this.storeWatch;
    this.storeWatch = undefined;
    this.generation++;
    await w?.cancel().catch(() => undefined);
    for (const w of [...this.watchers]) w.terminate('apiserver shutting down');
    this.watchers.clear();
  }

  private put(key: string, obj: KubeObject): void {
    put(this.byResource, key, obj);
  }

  private getByKey(key: string): KubeObject | undefined {
    return this.byResource.get(resourcePrefixOf(key))?.get(key);
  }

  private apply(ev: CachedEvent): void {
    if (ev.type === 'DELETED') this.byResource.get(resourcePrefixOf(ev.key))?.delete(ev.key);
    else this.put(ev.key, ev.object);
    this._revision = ev.revision;
    // Append to the ring, evicting the oldest event when full.
    if (this.ringLen === this.capacity) {
      const evicted = this.ring[this.ringStart];
      this.oldestRV = evicted.revision;
      this.ringStart = (this.ringStart + 1) % this.capacity;
      this.ringLen--;
    }
    this.ring[(this.ringStart + this.ringLen) % this.capacity] = ev;
    this.ringLen++;
    for (const w of this.watchers) {
      if (!ev.key.startsWith(w.prefix)) continue;
      dispatch(w, ev);
    }
  }

  private wake(): void {
    if (!this.waiters.length) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this._ready && this._revision >= w.rv) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** waitUntilFresh resolves once the cache has applied revision rv; false after timeoutMs. */
  waitUntilFresh(rv: number, timeoutMs: number): Promise<boolean> {
    if (this._ready && this._revision >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = { rv, resolve: () => (clearTimeout(timer), resolve(true)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== entry);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(entry);
    });
  }

  /** list returns the objects under keyPrefix, sorted by key (etcd's order). Never mutate them. */
  list(keyPrefix: string): KubeObject[] {
    const m = this.byResource.get(resourcePrefixOf(keyPrefix));
    if (!m) return [];
    const keys: string[] = [];
    for (const k of m.keys()) if (k.startsWith(keyPrefix)) keys.push(k);
    keys.sort();
    return keys.map((k) => m.get(k)!);
  }

  get(key: string): KubeObject | undefined {
    return this.getByKey(key);
  }

  /**
   * watch registers a watcher. With fromRV undefined the current state is delivered first as
   * ADDED events; otherwise every event after fromRV is replayed from the ring.
   */
  async watch(w: CacheWatcher, fromRV: number | undefined): Promise<() => void> {
    if (fromRV !== undefined && fromRV > this._revision) {
      const fresh = await this.waitUntilFresh(fromRV, 3_000);
      if (!fresh) throw new TooLargeResourceVersionError(fromRV, this._revision);
    }
    if (fromRV === undefined) {
      for (const obj of this.list(w.prefix)) if (w.matches(obj)) w.deliver('ADDED', obj, undefined, false);
    } else {
      if (fromRV < this.oldestRV) throw new TooOldResourceVersionError(fromRV, this.oldestRV);
      for (let i = this.firstIndexAfter(fromRV); i < this.ringLen; i++) {
        const ev = this.ring[(this.ringStart + i) % this.capacity];
        if (ev.key.startsWith(w.prefix)) dispatch(w, ev);
      }
    }
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  private firstIndexAfter(rv: number): number {
    let lo = 0;
    let hi = this.ringLen;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[(this.ringStart + mid) % this.capacity].revision <= rv) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function put(byResource: Map<string, Map<string, KubeObject>>, key: string, obj: KubeObject): void {
  const rp = resourcePrefixOf(key);
  let m = byResource.get(rp);
  if (!m) byResource.set(rp, (m = new Map()));
  m.set(key, obj);
}

/** dispatch turns a store event into what this watcher sees: objects leaving its selector are DELETED. */
function dispatch(w: CacheWatcher, ev: CachedEvent): void {
  const cur = ev.type !== 'DELETED' && w.matches(ev.object);
  const old = ev.prevObject !== undefined && w.matches(ev.prevObject);
  if (ev.type === 'DELETED') {
    if (old) w.deliver('DELETED', ev.object, ev, true);
    return;
  }
  if (cur && old) w.deliver('MODIFIED', ev.object, ev, true);
  else if (cur) w.deliver('ADDED', ev.object, ev, false);
  else if (old) {
    const gone = { ...ev.prevObject!, metadata: { ...ev.prevObject!.metadata, resourceVersion: String(ev.revision) } };
    w.deliver('DELETED', gone, undefined, true);
  }
}
