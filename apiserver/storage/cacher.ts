// WatchCache mirrors everything under /registry/ in memory from one etcd watch and fans each
// event out to every client watch. It also serves lists: consistent ones after waiting until it
// has seen the store's current revision, and resourceVersion="0" ones at once.
//
// Why one etcd watch over /registry/ rather than one per resource: every write the apiserver makes
// is under /registry/, so this single watch sees every store revision. The cache can then tell
// exactly when it is "as fresh as revision R", which a per-resource watch cannot without etcd's
// progress requests (not exposed by the etcd3 package). Per-resource state is still kept apart.

import type { Watcher } from 'etcd3';
import type { KubeObject } from '../../lib/api/meta.js';
import type { Logger } from '../../lib/log.js';
import { decodeKV, type EtcdStorage } from './etcd.js';
import type { StoreEvent, WatchEventType } from './interface.js';

/** CachedEvent is a StoreEvent plus its object serialized once for every watcher. */
export interface CachedEvent extends StoreEvent {
  json?: string;
}

export function eventJSON(ev: CachedEvent): string {
  if (ev.json === undefined) ev.json = JSON.stringify(ev.object);
  return ev.json;
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

  constructor(
    private readonly store: EtcdStorage,
    private readonly log: Logger,
    opts: WatchCacheOptions = {},
  ) {
    this.capacity = opts.capacity ?? 50_000;
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
    const w = await this.store.client.watch().prefix('/registry/').withPreviousKV().startRevision(String(rev)).create();
    this.etcdWatcher = w;
    w.on('data', (res) => {
      for (const e of res.events) {
        const key = e.kv.key.toString('utf8');
        const revision = Number(e.kv.mod_revision);
        if (revision <= this._revision) continue; // replay after a reconnect
        if (e.type === 'Put') {
          const object = decodeKV(e.kv);
          const prevObject = e.prev_kv ? decodeKV(e.prev_kv) : this.getByKey(key);
          this.apply({ type: Number(e.kv.version) === 1 || !prevObject ? 'ADDED' : 'MODIFIED', key, object, prevObject, revision });
        } else {
          const prev = e.prev_kv ? decodeKV(e.prev_kv) : this.getByKey(key);
          if (!prev) {
            this._revision = revision;
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
    });
    w.on('error', (err) => {
      this.log.error('Watch of etcd failed; re-listing', { err });
      void this.restart();
    });
    w.on('disconnected', () => this.log.warn('Watch of etcd disconnected; reconnecting'));
    w.on('connected', () => this.log.info('Watch of etcd connected'));
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    this._ready = false;
    try {
      await this.etcdWatcher?.cancel();
    } catch {
      /* already gone */
    }
    for (const w of [...this.watchers]) w.terminate('watch cache re-initialized');
    this.watchers.clear();
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
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.etcdWatcher?.cancel().catch(() => undefined);
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
