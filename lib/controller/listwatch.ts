// ListWatch is skiff's list-then-watch cache, with the semantics of client-node's ListWatch
// (cache.js), which skiff's informers used before: list with listFn, then watch from the list's
// resourceVersion; ADDED and MODIFIED add or update (an update is reported only when the
// resourceVersion changed), DELETED removes, BOOKMARK only moves the resourceVersion. A watch
// that ends is reopened from the last resourceVersion, after a delay that doubles (1 s to 30 s)
// while watches end without delivering an event; one that timed out on our side (TimeoutError)
// is reopened at once. 410 Gone, as an ERROR event or as the watch's answer, clears the
// resourceVersion so the next round lists again, and objects the new list lacks are deleted
// with delete callbacks. Any other error is handed to the 'error' callbacks and the ListWatch
// stops: restarting it with backoff is SharedInformer's job (informer.ts).
//
// Three differences, all on paths client-node leaves to chance: a watch still running when
// start() is called again is dropped rather than left to run a second loop; stop() during a
// list or a reconnect delay is honoured (client-node would still open the watch); and a watch
// that cannot even be opened is an 'error' callback, not an unhandled rejection.

import type { Watcher, WatchQuery } from '../client/watch.js';

/** ObjectCache reads a cache by name and namespace (client-node's ObjectCache). */
export interface ObjectCache<T> {
  get(name: string, namespace?: string): T | undefined;
  /** list returns every object, or the namespace's when namespace is given. */
  list(namespace?: string): ReadonlyArray<T>;
}

/** CachedObject is what a ListWatch reads of an object: its name, namespace and resourceVersion. */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** ListResult is what a list function answers: the items and the resourceVersion to watch from. */
export interface ListResult<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

/** ObjectVerb names the object callbacks; 'change' is add, update and delete together. */
export type ObjectVerb = 'add' | 'update' | 'delete' | 'change';

/** ListWatchVerb is every callback a ListWatch has. */
export type ListWatchVerb = ObjectVerb | 'error' | 'connect';

/** ListWatchOptions narrow the watch and, for tests, replace the reconnect delay. */
export interface ListWatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** delay waits ms before a reconnect (default: a timer). */
  delay?: (ms: number) => Promise<void>;
}

/** Callback is a stored callback; its argument is an object, or an error for 'error' and 'connect'. */
type Callback = (arg: never) => void;

/** ListWatch keeps a cache of one resource path in step with the apiserver. */
export class ListWatch<T extends CachedObject> implements ObjectCache<T> {
  /** baseReconnectDelayMs and maxReconnectDelayMs bound the delay between watches that bring nothing (client-node's). */
  static readonly baseReconnectDelayMs = 1_000;
  static readonly maxReconnectDelayMs = 30_000;

  /** objects is keyed by namespace ('' for cluster-scoped), then name. */
  private objects = new Map<string, Map<string, T>>();
  private readonly callbacks: Record<Exclude<ListWatchVerb, 'change'>, Callback[]> = { add: [], update: [], delete: [], error: [], connect: [] };
  private resourceVersion = '';
  private stopped = false;
  private reconnectDelayMs = 0;
  private hasConnected = false;
  private request: AbortController | undefined;
  /** generation counts start() calls; a watch that ends after a newer start() is ignored. */
  private generation = 0;
  private readonly delay: (ms: number) => Promise<void>;

  constructor(
    readonly path: string,
    private readonly watcher: Watcher,
    private readonly listFn: () => Promise<ListResult<T>>,
    private readonly opts: ListWatchOptions = {},
  ) {
    this.delay = opts.delay ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** start lists (unless a resourceVersion is kept) and opens the watch; it resolves once the watch is open or an error was reported. */
  async start(): Promise<void> {
    this.stopped = false;
    this.reconnectDelayMs = 0;
    this.hasConnected = false;
    await this.cycle(null, ++this.generation);
  }

  /** stop closes the watch and keeps it closed; the cache stays as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abortRequest();
  }

  on(verb: ObjectVerb, cb: (obj: T) => void): void;
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  on(verb: ListWatchVerb, cb: Callback): void {
    for (const v of verb === 'change' ? (['add', 'update', 'delete'] as const) : [verb]) {
      if (!this.callbacks[v]) throw new Error(`Unknown verb: ${verb}`);
      this.callbacks[v].push(cb);
    }
  }

  off(verb: ObjectVerb, cb: (obj: T) => void): void;
  off(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  off(verb: ListWatchVerb, cb: Callback): void {
    for (const v of verb === 'change' ? (['add', 'update', 'delete'] as const) : [verb]) {
      const list = this.callbacks[v];
      if (!list) throw new Error(`Unknown verb: ${verb}`);
      const i = list.indexOf(cb);
      if (i >= 0) list.splice(i, 1);
    }
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace || '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace) return [...(this.objects.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const byName of this.objects.values()) all.push(...byName.values());
    return all;
  }

  /** latestResourceVersion is the resourceVersion the next watch starts from ('' means: list first). */
  latestResourceVersion(): string {
    return this.resourceVersion;
  }

  /**
   * cycle is one round, run at start and whenever a watch ends (err says why): decide from err
   * whether to relist, reconnect or stop, then list if needed and open the next watch.
   */
  private async cycle(err: unknown, generation: number): Promise<void> {
    if (generation !== this.generation) return;
    this.abortRequest();
    const e = err as { statusCode?: unknown; code?: unknown; name?: unknown } | null | undefined;
    if (e && (e.statusCode === 410 || e.code === 410)) {
      this.resourceVersion = '';
    } else if (e && e.name === 'TimeoutError') {
      // Our own idle timeout already waited 30 s: reconnect at once from where we were.
      this.reconnectDelayMs = 0;
    } else if (err) {
      this.emit('error', err);
      return;
    }
    if (this.stopped) return;
    this.emit('connect', undefined);
    if (!this.resourceVersion) {
      let list: ListResult<T>;
      try {
        list = await this.listFn();
      } catch (listErr) {
        this.emit('error', listErr);
        return;
      }
      if (this.stopped || generation !== this.generation) return;
      this.replaceAll(list.items ?? []);
      this.resourceVersion = list.metadata?.resourceVersion || '';
    }
    const query: WatchQuery = { resourceVersion: this.resourceVersion };
    if (this.opts.labelSelector !== undefined) query.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector !== undefined) query.fieldSelector = this.opts.fieldSelector;
    if (this.reconnectDelayMs > 0 && this.hasConnected) {
      await this.delay(this.reconnectDelayMs);
      if (this.stopped || generation !== this.generation) return;
    }
    if (this.hasConnected) {
      this.reconnectDelayMs = Math.min(this.reconnectDelayMs > 0 ? this.reconnectDelayMs * 2 : ListWatch.baseReconnectDelayMs, ListWatch.maxReconnectDelayMs);
    }
    this.hasConnected = true;
    let request: AbortController;
    try {
      request = await this.watcher.watch(this.path, query, (phase, obj) => this.onEvent(phase, obj as T), (doneErr) => void this.cycle(doneErr, generation));
    } catch (watchErr) {
      this.emit('error', watchErr);
      return;
    }
    // stop() or a new start() while the watch was opening: that watch is not wanted.
    if (this.stopped || generation !== this.generation) request.abort();
    else this.request = request;
  }

  /** onEvent applies one watch event to the cache. */
  private onEvent(phase: string, obj: T): void {
    switch (phase) {
      case 'ERROR':
        // The watch ends after an ERROR event; a 410 (Gone) makes the next round list again.
        if ((obj as { code?: unknown } | undefined)?.code === 410) this.resourceVersion = '';
        return;
      case 'ADDED':
      case 'MODIFIED':
        this.addOrUpdate(obj);
        break;
      case 'DELETED':
        this.remove(obj);
        break;
      case 'BOOKMARK':
        break; // only the resourceVersion moves
    }
    this.reconnectDelayMs = 0;
    this.resourceVersion = obj?.metadata?.resourceVersion || '';
  }

  /** replaceAll makes the cache the list's items: objects it lacks are deleted (delete callbacks), the rest added or updated. */
  private replaceAll(items: readonly T[]): void {
    const listed = new Set(items.map((o) => keyOf(o)));
    const deleteCallbacks = this.callbacks.delete.slice();
    for (const [namespace, byName] of this.objects) {
      for (const [name, old] of byName) {
        if (listed.has(`${namespace}/${name}`)) continue;
        byName.delete(name);
        for (const cb of deleteCallbacks) (cb as (obj: T) => void)(old);
      }
      if (byName.size === 0) this.objects.delete(namespace);
    }
    for (const obj of items) this.addOrUpdate(obj);
  }

  /** addOrUpdate stores obj: add callbacks when new, update callbacks when its resourceVersion differs from the cached one's. */
  private addOrUpdate(obj: T): void {
    const namespace = obj.metadata?.namespace || '';
    const name = obj.metadata?.name || '';
    let byName = this.objects.get(namespace);
    if (!byName) {
      byName = new Map();
      this.objects.set(namespace, byName);
    }
    const found = byName.get(name);
    if (found === undefined) {
      byName.set(name, obj);
      this.emit('add', obj);
      return;
    }
    const rv = found.metadata?.resourceVersion;
    if (rv !== undefined && rv !== null && rv === obj.metadata?.resourceVersion) return;
    byName.set(name, obj);
    this.emit('update', obj);
  }

  /** remove deletes obj's entry; delete callbacks get the event's object (the final state). */
  private remove(obj: T): void {
    const namespace = obj.metadata?.namespace || '';
    const byName = this.objects.get(namespace);
    if (!byName || !byName.delete(obj.metadata?.name || '')) return;
    this.emit('delete', obj);
    if (byName.size === 0) this.objects.delete(namespace);
  }

  /** emit calls verb's callbacks as registered now: one added by a callback waits for the next event. */
  private emit(verb: Exclude<ListWatchVerb, 'change'>, arg: unknown): void {
    for (const cb of this.callbacks[verb].slice()) (cb as (x: unknown) => void)(arg);
  }

  private abortRequest(): void {
    this.request?.abort();
    this.request = undefined;
  }
}

/** keyOf is `namespace/name` ('' namespace for cluster-scoped objects). */
function keyOf(obj: CachedObject): string {
  return `${obj.metadata?.namespace || ''}/${obj.metadata?.name || ''}`;
}
