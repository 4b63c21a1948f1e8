// WatchCache mirrors everything under /registry/ in memory from one etcd watch and fans each
// event out to every client watch. It also serves lists: consistent ones after waiting until it
// has seen the store's current revision, and resourceVersion="0" ones at once.
//
// Why one etcd watch over /registry/ rather than one per resource: every write the apiserver makes
// is under /registry/, so this single watch sees every store revision. The cache can then tell
// exactly when it is "as fresh as revision R", which a per-resource watch cannot without etcd's
// progress requests (not exposed by the etcd3 package). Per-resource state is still kept apart.

import type { IKeyValue, Watcher } from 'etcd3';
import type { KubeObject } from '../../lib/api/meta.js';
import type { Logger } from '../../lib/log.js';
import { decodeKV, type EtcdStorage } from './etcd.js';
import type { StoreEvent, WatchEventType } from './interface.js';

/** CachedEvent is a StoreEvent plus its object serialized once for every watcher. */
export interface CachedEvent extends StoreEvent {
  json?: string;
  /** lines holds the encoded watch line per event type, built once and shared by every watcher. */
  lines?: Partial<Record<WatchEventType, Buffer>>;
}

export function eventJSON(ev: CachedEvent): string {
  if (ev.json === undefined) ev.json = JSON.stringify(ev.object);
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
  private etcdWatcher?: Watcher;
  private _ready = false;
  private stopped = false;
  private restarting = false;

  constructor(
    private readonly store: EtcdStorage,
    private readonly log: Logger,
    opts: WatchCacheOptions = {},
  ) {
    this.capacity = opts.capacity ?? 50_000;
    if (!(this.capacity >= 1)) throw new Error('the watch cache keeps at least one event');
    this.ring = new Array(this.capacity);
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

  /** start lists /registry/ and begins watching right after the listed revision. */
  async start(): Promise<void> {
    this.stopped = false;
    this.byResource.clear();
    this.ringStart = 0;
    this.ringLen = 0;
    let revision = 0;
    let startKey: string | undefined;
    for (;;) {
      const page = await this.store.list('/registry/', { revision, limit: 2000, startKey });
      revision = page.revision;
      page.items.forEach((obj, i) => this.put(page.keys[i], obj));
      if (!page.nextKey) break;
      startKey = page.nextKey;
    }
    this._revision = revision;
    this.oldestRV = revision;
    await this.watchFrom(revision + 1);
    this._ready = true;
    this.log.info('Watch cache initialized', { revision, resources: this.byResource.size });
    this.wake();
  }

  private async watchFrom(rev: number): Promise<void> {
    // Listeners go on before the watcher can connect (watcher(), not create()), so no response can
    // arrive unheard. On every disconnect the resume point is set from what the cache applied:
    // etcd3 would otherwise resume from the last response header, which can skip events still in
    // flight when a second disconnect hits during catch-up.
    // A live watcher being replaced is canceled; one that failed was already dropped by restart().
    const prev = this.etcdWatcher;
    if (prev) {
      prev.removeAllListeners();
      prev.on('error', () => undefined);
      void prev.cancel().catch(() => undefined);
    }
    const w = this.store.client.watch().prefix('/registry/').withPreviousKV().startRevision(String(rev)).watcher();
    this.etcdWatcher = w;
    const request = w.request as { start_revision?: string | number };
    w.on('data', (res) => {
      if (this.etcdWatcher !== w) return;
      try {
        this.applyResponse(res);
      } catch (err) {
        this.log.error('Applying an etcd watch response failed; re-listing', { err: err as Error });
        void this.restart(true);
      }
    });
    w.on('error', (err) => {
      // Before the first connect, the error rejects start() below and its caller retries.
      if (this.etcdWatcher !== w || !this._ready) return;
      // etcd canceled this watch (e.g. its revision was compacted): it is already gone on both
      // sides, so it is dropped, not canceled.
      this.log.error('Watch of etcd failed; re-listing', { err });
      w.removeAllListeners();
      void this.restart(false);
    });
    w.on('disconnected', () => {
      if (this.etcdWatcher !== w) return;
      request.start_revision = String(this._revision + 1);
      this.log.warn('Watch of etcd disconnected; reconnecting', { resumeRevision: this._revision + 1 });
    });
    w.on('connected', () => {
      if (this.etcdWatcher !== w) return;
      request.start_revision = String(this._revision + 1);
    });
    await new Promise<void>((resolve, reject) => {
      const onConnected = () => (w.off('error', onError), resolve());
      const onError = (err: Error) => (w.off('connected', onConnected), reject(err));
      w.once('connected', onConnected);
      w.once('error', onError);
    });
  }

  private applyResponse(res: { events: { type: string; kv: IKeyValue; prev_kv?: IKeyValue }[]; header: { revision: string } }): void {
    for (const e of res.events) {
      const key = e.kv.key.toString('utf8');
      const revision = Number(e.kv.mod_revision);
      // Several events may share one revision (a multi-key transaction): only older ones are replays.
      if (revision < this._revision || (revision === this._revision && this.appliedAt(key, revision))) continue;
      if (e.type === 'Put') {
        const object = decodeKV(e.kv);
        const prevObject = e.prev_kv ? decodeKV(e.prev_kv) : this.getByKey(key);
        this.apply({ type: Number(e.kv.version) === 1 || !prevObject ? 'ADDED' : 'MODIFIED', key, object, prevObject, revision });
      } else {
        const prev = e.prev_kv ? decodeKV(e.prev_kv) : this.getByKey(key);
        if (!prev) {
          this._revision = Math.max(this._revision, revision);
          continue;
        }
        // A deleted object is delivered with the deletion's revision, as Kubernetes does.
        const object = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(revision) } };
        this.apply({ type: 'DELETED', key, object, prevObject: prev, revision });
      }
    }
    const headerRev = Number(res.header.revision);
    if (res.events.length === 0 && headerRev > this._revision) this._revision = headerRev;
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

  private async restart(cancelWatcher: boolean): Promise<void> {
    if (this.stopped || this.restarting) return;
    this.restarting = true;
    this._ready = false;
    const old = this.etcdWatcher;
    this.etcdWatcher = undefined;
    if (old && cancelWatcher) {
      old.removeAllListeners();
      old.on('error', () => undefined);
      await old.cancel().catch(() => undefined);
    }
    for (const w of [...this.watchers]) w.terminate('watch cache re-initialized');
    this.watchers.clear();
    try {
      for (;;) {
        if (this.stopped) return;
        try {
          await this.start();
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

  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.etcdWatcher;
    this.etcdWatcher = undefined;
    w?.removeAllListeners();
    w?.on('error', () => undefined);
    await w?.cancel().catch(() => undefined);
    for (const w of [...this.watchers]) w.terminate('apiserver shutting down');
    this.watchers.clear();
  }

  private put(key: string, obj: KubeObject): void {
    const rp = resourcePrefixOf(key);
    let m = this.byResource.get(rp);
    if (!m) this.byResource.set(rp, (m = new Map()));
    m.set(key, obj);
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
