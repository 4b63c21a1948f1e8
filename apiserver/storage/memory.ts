// MemoryStorage implements Storage in the process's own memory, with etcd's MVCC semantics: one
// revision counter that every write bumps, a history of each key's versions back to the
// compaction point (so a paged list reads at an older revision and a watch resumes from one),
// and one change per revision in a log watches are served from. Everything is lost when the
// process ends: it is for tests and throwaway clusters, not for data anyone keeps.
//
// Objects are kept as JSON text, as etcd keeps them: every read parses a fresh copy, so no caller
// can change stored state by mutating what it was given, and resourceVersion is stamped on read.

import type { KubeObject } from '../../lib/api/meta.js';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  KeyNotFoundError,
  StorageUnavailableError,
  type ListOptions,
  type ListResult,
  type Preconditions,
  type Storage,
  type StorageWatch,
  type StoreEvent,
  type TryUpdate,
  type WatchSink,
} from './interface.js';
import { checkPreconditions, sameContent, stripResourceVersion } from './objects.js';
import { parseJSON, stringifyJSON } from '../../lib/machinery/json.js';

/** FutureRevisionError is a read or compaction at a revision the store has not reached (etcd's ErrFutureRev). */
export class FutureRevisionError extends Error {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`mvcc: required revision ${requested} is a future revision (current revision ${current})`);
    this.name = 'FutureRevisionError';
  }
}

/** KeyVersion is one state of a key: a value, or a tombstone (value undefined) left by a delete. */
interface KeyVersion {
  modRevision: number;
  createRevision: number;
  /** version counts the writes since the key was created (1 = just created), as etcd's does. */
  version: number;
  value?: string;
}

/** KeyEntry is one key and its versions, oldest first, back to the compaction point. */
interface KeyEntry {
  key: string;
  versions: KeyVersion[];
}

/** Change is the one write of one revision, kept in the log that watches read. */
interface Change {
  revision: number;
  key: string;
  /** value is the new state, or for a delete undefined. */
  value?: string;
  /** prev is the state the write replaced (absent for a create). */
  prev?: KeyVersion;
  version: number;
}

/**
 * compareKeys orders keys as etcd does, by their UTF-8 bytes, which is code point order (plain
 * `<` on JS strings compares UTF-16 units and puts U+E000..U+FFFF after astral characters).
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;
    if (surrogate(x) !== surrogate(y)) return surrogate(x) ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** liveAt is the entry's version at revision rev, undefined when the key did not exist then. */
function liveAt(e: KeyEntry, rev: number): KeyVersion | undefined {
  const vs = e.versions;
  for (let i = vs.length - 1; i >= 0; i--) {
    if (vs[i]!.modRevision <= rev) return vs[i]!.value === undefined ? undefined : vs[i];
  }
  return undefined;
}

function decode(key: string, v: KeyVersion, value = v.value): KubeObject {
  if (value === undefined) throw new Error(`no value for ${key} at revision ${v.modRevision}`);
  const obj = parseJSON(value) as KubeObject;
  obj.metadata = obj.metadata ?? {};
  obj.metadata.resourceVersion = String(v.modRevision);
  return obj;
}

function encode(obj: KubeObject): string {
  return stringifyJSON(stripResourceVersion(obj));
}

/** MemoryWatch is one watch over a MemoryStorage: next is the first revision it has not been given. */
class MemoryWatch implements StorageWatch {
  done = false;
  constructor(
    private readonly owner: MemoryStorage,
    readonly prefix: string,
    public next: number,
    readonly sink: WatchSink,
  ) {}

  async cancel(): Promise<void> {
    this.done = true;
    this.owner.forget(this);
  }
}

/** MemoryStorageOptions tune a MemoryStorage. */
export interface MemoryStorageOptions {
  /** maxEventsPerAnswer bounds the events one onEvents call carries, so a long backlog comes in parts (default 1000). */
  maxEventsPerAnswer?: number;
}

/** MemoryStorage is the Storage kept in this process's memory (see the top of this file); lost on exit. */
export class MemoryStorage implements Storage {
  lastWriteRevision = 0;
  /** revision is the store revision: that of the newest write (1 before any, as etcd starts). */
  private revision = 1;
  /** compactRevision is the oldest revision reads and watches may ask for. */
  private compactRevision = 0;
  /** entries holds every key that has history, by key. */
  private readonly entries = new Map<string, KeyEntry>();
  /** sorted holds the same entries in etcd's key order, for ranges. */
  private sorted: KeyEntry[] = [];
  /** log holds the change of every revision from logStart on (log[i].revision = logStart + i). */
  private log: Change[] = [];
  /** logStart is the revision of log[0]: the first write's (2) until a compaction moves it. */
  private logStart = 2;
  private readonly watches = new Set<MemoryWatch>();
  private flushScheduled = false;
  private closed = false;
  private readonly maxEventsPerAnswer: number;

  constructor(opts: MemoryStorageOptions = {}) {
    this.maxEventsPerAnswer = opts.maxEventsPerAnswer ?? 1000;
  }

  /** historySize is how many key versions and log entries the store holds (for tests of compaction). */
  get historySize(): { versions: number; log: number; keys: number } {
    let versions = 0;
    for (const e of this.sorted) versions += e.versions.length;
    return { versions, log: this.log.length, keys: this.sorted.length };
  }

  private open(): void {
    if (this.closed) throw new StorageUnavailableError('memory storage is closed', false);
  }

  private latest(key: string): KeyVersion | undefined {
    const e = this.entries.get(key);
    return e && liveAt(e, Infinity);
  }

  /** lowerBound is the index of the first sorted key not less than key. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sorted[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** write records one change at a new revision and schedules its delivery to watches. */
  private write(key: string, value: string | undefined, prev: KeyVersion | undefined): KeyVersion {
    const revision = ++this.revision;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, versions: [] };
      this.entries.set(key, entry);
      this.sorted.splice(this.lowerBound(key), 0, entry);
    }
    const version: KeyVersion =
      value === undefined
        ? { modRevision: revision, createRevision: 0, version: 0 }
        : { modRevision: revision, createRevision: prev ? prev.createRevision : revision, version: prev ? prev.version + 1 : 1, value };
    entry.versions.push(version);
    this.log.push({ revision, key, value, prev, version: version.version });
    this.lastWriteRevision = revision;
    this.scheduleFlush();
    return version;
  }

  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    this.open();
    if (this.latest(key)) throw new KeyExistsError(key);
    const v = this.write(key, encode(obj), undefined);
    // The caller's object is its own copy: hand it back with its new version, as etcd.ts does.
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(v.modRevision) } };
  }

  async get(key: string): Promise<KubeObject | undefined> {
    this.open();
    const v = this.latest(key);
    return v ? decode(key, v) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.open();
    const rev = opts.revision && opts.revision > 0 ? opts.revision : this.revision;
    if (rev < this.compactRevision) throw new CompactedError(rev, this.compactRevision);
    if (rev > this.revision) throw new FutureRevisionError(rev, this.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const start = opts.startKey !== undefined && compareKeys(opts.startKey, prefix) > 0 ? opts.startKey : prefix;
    const items: KubeObject[] = [];
    const keys: string[] = [];
    let nextKey: string | undefined;
    let remaining = 0;
    for (let i = this.lowerBound(start); i < this.sorted.length; i++) {
      const e = this.sorted[i]!;
      if (!e.key.startsWith(prefix)) break;
      const v = liveAt(e, rev);
      if (!v) continue;
      if (items.length < limit) {
        items.push(decode(e.key, v));
        keys.push(e.key);
      } else {
        nextKey ??= e.key;
        remaining++;
      }
    }
    return nextKey === undefined ? { items, keys, revision: rev } : { items, keys, revision: rev, nextKey, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.open();
    let n = 0;
    for (let i = this.lowerBound(prefix); i < this.sorted.length; i++) {
      const e = this.sorted[i]!;
      if (!e.key.startsWith(prefix)) break;
      if (liveAt(e, Infinity)) n++;
    }
    return n;
  }

  // A read here costs nothing, so a caller's cachedExisting state is not needed: every attempt reads.
  async guaranteedUpdate(key: string, tryUpdate: TryUpdate, preconditions?: Preconditions, _cachedExisting?: KubeObject): Promise<KubeObject> {
    for (;;) {
      this.open();
      const read = this.latest(key);
      if (!read) throw new KeyNotFoundError(key);
      const current = decode(key, read);
      checkPreconditions(key, current, preconditions);
      const next = await tryUpdate(current);
      if (next === null) return current;
      if (sameContent(next, current)) return current;
      this.open();
      // The compare-and-swap: the write lands only if nobody wrote the key since it was read.
      if (this.latest(key) !== read) {
        // With a resourceVersion precondition that is a conflict the client must see (the same
        // answer etcd.ts gives); otherwise recompute from the fresh state.
        if (preconditions?.resourceVersion) throw new ConflictError(key, 'resourceVersion', preconditions.resourceVersion, 'newer');
        continue;
      }
      const v = this.write(key, encode(next), read);
      return { ...next, metadata: { ...next.metadata, resourceVersion: String(v.modRevision) } };
    }
  }

  async delete(key: string, preconditions?: Preconditions, _cachedExisting?: KubeObject): Promise<KubeObject> {
    this.open();
    // Read, check and write happen in one turn of the event loop: nothing can come in between.
    const read = this.latest(key);
    if (!read) throw new KeyNotFoundError(key);
    const current = decode(key, read);
    checkPreconditions(key, current, preconditions);
    const v = this.write(key, undefined, read);
    current.metadata.resourceVersion = String(v.modRevision);
    return current;
  }

  async currentRevision(): Promise<number> {
    this.open();
    return this.revision;
  }

  async watch(prefix: string, fromRevision: number, sink: WatchSink): Promise<StorageWatch> {
    this.open();
    const from = fromRevision > 0 ? fromRevision : this.revision + 1;
    if (from < this.compactRevision) throw new CompactedError(from, this.compactRevision);
    // Revisions before the log's start that are not compacted had no change (revision 1).
    const w = new MemoryWatch(this, prefix, Math.max(from, this.logStart), sink);
    this.watches.add(w);
    // The backlog (and every later change) is delivered from a later task, never inside this call.
    this.scheduleFlush();
    return w;
  }

  /** forget drops a canceled watch. */
  forget(w: MemoryWatch): void {
    this.watches.delete(w);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.watches.size === 0) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * flush gives every watch the changes it has not seen, in revision order. A sink's own writes
   * schedule the next flush: no sink is called while another call to it is running. A watch with
   * nothing under its prefix hears a progress report, so a reader waiting for a revision is not
   * kept waiting by writes elsewhere.
   */
  private flush(): void {
    for (const w of [...this.watches]) {
      while (!w.done && w.next <= this.revision) {
        if (w.next < this.logStart) {
          this.end(w, new CompactedError(w.next, this.compactRevision));
          break;
        }
        const events: StoreEvent[] = [];
        let i = w.next - this.logStart;
        for (; i < this.log.length && events.length < this.maxEventsPerAnswer; i++) {
          const c = this.log[i]!;
          if (c.key.startsWith(w.prefix)) events.push(toStoreEvent(c));
        }
        const upTo = this.logStart + i - 1;
        w.next = upTo + 1;
        try {
          w.sink.onEvents(events, upTo);
        } catch (err) {
          this.end(w, err instanceof Error ? err : new Error(String(err)));
        }
      }
    }
  }

  private end(w: MemoryWatch, err: Error): void {
    if (w.done) return;
    w.done = true;
    this.watches.delete(w);
    w.sink.onError(err);
  }

  async compact(revision: number): Promise<void> {
    this.open();
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
    if (revision <= this.compactRevision) return;
    this.compactRevision = revision;
    if (revision > this.logStart) {
      this.log = this.log.slice(revision - this.logStart);
      this.logStart = revision;
    }
    // Each key keeps the newest version a read at the compaction revision sees, and what came
    // after; a key whose remaining history is one tombstone is gone.
    let dropped = false;
    for (const e of this.sorted) {
      const vs = e.versions;
      let seen = vs.length - 1;
      while (seen >= 0 && vs[seen]!.modRevision > revision) seen--;
      if (seen < 0) continue;
      const from = vs[seen]!.value === undefined ? seen + 1 : seen;
      if (from > 0) e.versions = vs.slice(from);
      if (e.versions.length === 0) {
        this.entries.delete(e.key);
        dropped = true;
      }
    }
    if (dropped) this.sorted = this.sorted.filter((e) => e.versions.length > 0);
    // Watches lagging behind the compaction end now, as etcd cancels them.
    this.scheduleFlush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watches = [...this.watches];
    this.watches.clear();
    for (const w of watches) w.done = true;
    // Ending them is told from a later task, as every delivery is.
    queueMicrotask(() => {
      for (const w of watches) w.sink.onError(new StorageUnavailableError('memory storage is closed', false));
    });
  }
}

/** toStoreEvent turns one logged change into a StoreEvent with fresh copies of its states. */
function toStoreEvent(c: Change): StoreEvent {
  const prevObject = c.prev ? decode(c.key, c.prev) : undefined;
  if (c.value !== undefined) {
    const object = decode(c.key, { modRevision: c.revision, createRevision: 0, version: c.version, value: c.value });
    return { type: c.version === 1 ? 'ADDED' : 'MODIFIED', key: c.key, object, prevObject, revision: c.revision };
  }
  // A delete carries the last state, at the revision of the delete.
  const object = decode(c.key, { modRevision: c.revision, createRevision: 0, version: 0 }, c.prev!.value);
  return { type: 'DELETED', key: c.key, object, prevObject, revision: c.revision };
}
