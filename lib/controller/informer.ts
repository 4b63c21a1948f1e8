// SharedInformer wraps a list-and-watch cache (ListWatch, listwatch.ts) with what a controller
// needs and the ListWatch leaves to its caller: knowing when the cache has synced, and
// restarting the list-and-watch with backoff after an error (ListWatch, like client-node's it
// replaced, stops and only reports it). One SharedInformer may feed several controllers;
// start() is idempotent. It owns the source's lifecycle: do not also restart the source from
// your own 'error' handler.

import { ExactWatch } from '../client/watch.js';
import type { ClusterAccess } from '../client/kubeconfig.js';
import type { Logger } from '../log.js';
import { type Clock, type TimerHandle, realClock } from '../clock.js';
import { Lister, type ListerOptions } from './lister.js';
import { type ListResult, ListWatch, type ObjectCache, type ObjectVerb } from './listwatch.js';

/**
 * ApiObject is any object an informer holds. Objects arrive as plain JSON (timestamps are
 * strings), so skiff's own lib/api types fit as well as client-node's.
 */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

/**
 * InformerSource is a started and stopped cache with callbacks: a ListWatch, or a test's fake.
 * client-node's informers (makeInformer) fit it too.
 */
export interface InformerSource<T> extends ObjectCache<T> {
  on(verb: ObjectVerb, cb: (obj: T) => void): void;
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  off(verb: ObjectVerb, cb: (obj: T) => void): void;
  /** start resolves once the cache is listed and the watch open, or right after an 'error' callback. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** CacheSyncer is what runController waits on before starting workers. */
export interface CacheSyncer {
  readonly name: string;
  start(): void;
  hasSynced(): boolean;
  /** waitForSync resolves true once synced, false if signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

/**
 * ResourceEventHandler is client-go's ResourceEventHandlerFuncs: onUpdate gets the object as
 * the informer last delivered it and the new one, so a handler can tell what changed without
 * keeping copies of its own. Handlers should only enqueue keys, and never modify either object
 * (both are the cache's).
 */
export interface ResourceEventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

function objectKey(obj: ApiObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : obj.metadata?.name ?? '';
}

/** SharedInformerOptions tune a SharedInformer. */
export interface SharedInformerOptions {
  /** name is for logs (e.g. the resource). */
  name?: string;
  log?: Logger;
  clock?: Clock;
  /** Backoff between restarts after an error: from minBackoffMs doubling to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** SharedInformer is a started-once informer with a sync signal and automatic restarts. */
export class SharedInformer<T extends ApiObject> implements CacheSyncer {
  readonly name: string;
  private started = false;
  private stopped = false;
  private synced = false;
  private failures = 0;
  private restartTimer: TimerHandle | undefined;
  private attemptFailed = false;
  private readonly syncWaiters = new Set<() => void>();
  private readonly clock: Clock;
  private readonly handlers: ResourceEventHandler<T>[] = [];
  /**
   * delivered is the version of each object the handlers last got, so onUpdate can hand over
   * the old one: the ListWatch's cache has already replaced it when it calls back. It holds the
   * cache's own objects (references, not copies) and exists once a handler is added.
   */
  private delivered: Map<string, T> | undefined;

  constructor(
    readonly source: InformerSource<T>,
    private readonly opts: SharedInformerOptions = {},
  ) {
    this.name = opts.name ?? 'informer';
    this.clock = opts.clock ?? realClock;
    source.on('error', (err) => this.onError(err));
  }

  /**
   * addEventHandler registers add, update (with the old object) and delete handlers. An update
   * of an object the handlers never saw (added before the first handler) arrives as onAdd.
   */
  addEventHandler(h: ResourceEventHandler<T>): void {
    if (!this.delivered) {
      const delivered = new Map<string, T>();
      this.delivered = delivered;
      for (const obj of this.source.list()) delivered.set(objectKey(obj), obj);
      this.source.on('add', (obj) => {
        delivered.set(objectKey(obj), obj);
        for (const x of this.handlers) x.onAdd?.(obj);
      });
      this.source.on('update', (obj) => {
        const key = objectKey(obj);
        const old = delivered.get(key);
        delivered.set(key, obj);
        for (const x of this.handlers) {
          if (old === undefined) x.onAdd?.(obj);
          else x.onUpdate?.(old, obj);
        }
      });
      this.source.on('delete', (obj) => {
        delivered.delete(objectKey(obj));
        for (const x of this.handlers) x.onDelete?.(obj);
      });
    }
    this.handlers.push(h);
  }

  /**
   * on registers a handler for one verb, given only the new object; handlers should only enqueue
   * keys. An add or change handler registered once the shared informer has listed (another
   * controller started it) is first called for every object already cached, as client-go's
   * AddEventHandler does: those objects' add events went by before it was there.
   */
  on(verb: 'add' | 'update' | 'delete' | 'change', cb: (obj: T) => void): void {
    this.source.on(verb, cb);
    if (verb === 'add' || verb === 'change') for (const obj of this.source.list()) cb(obj);
  }

  off(verb: 'add' | 'update' | 'delete' | 'change', cb: (obj: T) => void): void {
    this.source.off(verb, cb);
  }

  /** lister reads this informer's cache; see Lister for the no-mutation rule. */
  lister(opts?: ListerOptions): Lister<T> {
    return new Lister(this.source, opts);
  }

  /** start lists and watches (once; later calls do nothing). Sync is reported through hasSynced. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.attempt();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        this.syncWaiters.delete(done);
        signal?.removeEventListener('abort', aborted);
        resolve(true);
      };
      const aborted = (): void => {
        this.syncWaiters.delete(done);
        resolve(false);
      };
      this.syncWaiters.add(done);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** stop ends the watch and any pending restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.source.stop();
  }

  private async attempt(): Promise<void> {
    this.attemptFailed = false;
    try {
      // start() resolves once the list is in the cache and the watch is open, or right after
      // it reported an error through the 'error' callback.
      await this.source.start();
    } catch (err) {
      this.onError(err);
      return;
    }
    if (this.attemptFailed || this.stopped) return;
    this.failures = 0;
    if (!this.synced) {
      this.synced = true;
      this.opts.log?.v(2).info('Informer synced', { informer: this.name });
      for (const waiter of [...this.syncWaiters]) waiter();
    }
  }

  private onError(err: unknown): void {
    this.attemptFailed = true;
    if (this.stopped || this.restartTimer !== undefined) return;
    const min = this.opts.minBackoffMs ?? 1_000;
    const max = this.opts.maxBackoffMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.failures);
    this.failures++;
    this.opts.log?.warn('Informer failed; restarting', { informer: this.name, err: err instanceof Error ? err.message : String(err), delayMs: delay });
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.attempt();
    }, delay);
  }
}

/**
 * newSharedInformer makes a ListWatch over an ExactWatch for path (e.g. `/api/v1/pods`), listed
 * with listFn, wrapped as a SharedInformer.
 */
export function newSharedInformer<T extends ApiObject>(
  kc: ClusterAccess,
  path: string,
  listFn: () => Promise<ListResult<T>>,
  opts: SharedInformerOptions & { labelSelector?: string; fieldSelector?: string } = {},
): SharedInformer<T> {
  // The watch keeps int64s beyond 2^53 exact; listFn should too (RestClient.list does), and
  // should list with the same selectors the watch is given.
  const source = new ListWatch<T>(path, new ExactWatch(kc), listFn, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
  return new SharedInformer<T>(source, { name: path, ...opts });
}
