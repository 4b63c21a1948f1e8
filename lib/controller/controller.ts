// The reconcile harness every skiff controller runs on (sample-controller's Run/runWorker/
// processNextWorkItem, controller-runtime's reconcile result handling):
//  - event handlers only enqueue keys (enqueue/enqueueOwner/enqueueKey);
//  - no worker starts before every informer's cache has synced;
//  - the work queue hands a key to one worker at a time;
//  - reconcile(key) returning normally forgets the key's failures, and { requeueAfter } checks
//    it again later; throwing retries it with the rate limiter's backoff; throwing a
//    TerminalError gives up on it until the next event.

import type { Logger } from '../log.js';
import type { Clock } from '../clock.js';
import { type QueueMetrics, RateLimitingQueue } from '../workqueue/queue.js';
import type { RateLimiter } from '../workqueue/ratelimiter.js';
import type { CacheSyncer } from './informer.js';
import { InvalidKeyError, type ObjectRef, keyOf, ownerKeyFor } from './keys.js';

/** TerminalError tells the harness not to retry a key: waiting will not fix it, a new event might. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** ReconcileResult is what reconcile may return: requeueAfter (ms) schedules another check. */
export interface ReconcileResult {
  requeueAfter?: number;
}

/** Reconciler brings the world in line with the desired state of the object named by key. */
export type Reconciler = (key: string, signal: AbortSignal) => void | ReconcileResult | Promise<void | ReconcileResult>;

/** ReconcileOutcome labels one reconcile for metrics (controller-runtime's result label). */
export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal_error';

/** ControllerMetrics are the queue's hooks plus one per reconcile. */
export interface ControllerMetrics extends QueueMetrics {
  reconcile?(controller: string, outcome: ReconcileOutcome, seconds: number): void;
}

/** ControllerOptions configure runController. */
export interface ControllerOptions {
  name: string;
  /** informers whose caches must sync before any worker runs; they are started (idempotently) too. */
  informers: readonly CacheSyncer[];
  /** workers is how many keys may be reconciled at once (default 1). */
  workers?: number;
  reconcile: Reconciler;
  log?: Logger;
  metrics?: ControllerMetrics;
  /** setup registers event handlers before the informers start, so no initial event is missed. */
  setup?(controller: Controller): void;
  /** signal stops the controller when aborted (same as stop()). */
  signal?: AbortSignal;
  rateLimiter?: RateLimiter<string>;
  clock?: Clock;
}

/** Controller is a running controller: its queue, enqueue helpers, and lifecycle. */
export class Controller {
  readonly name: string;
  readonly queue: RateLimitingQueue<string>;
  /** synced resolves true once every cache synced and workers started, false if stopped first. */
  readonly synced: Promise<boolean>;
  /** done resolves once the controller has stopped and no reconcile is running. */
  readonly done: Promise<void>;
  private readonly abort = new AbortController();
  private readonly opts: ControllerOptions;
  private readonly log: Logger | undefined;

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.log = opts.log?.with({ controller: opts.name });
    this.queue = new RateLimitingQueue<string>({ name: opts.name, rateLimiter: opts.rateLimiter, clock: opts.clock, metrics: opts.metrics });
    if (opts.signal) {
      if (opts.signal.aborted) this.abort.abort();
      else opts.signal.addEventListener('abort', () => void this.stop(), { once: true });
    }
    let resolveSynced!: (v: boolean) => void;
    this.synced = new Promise((r) => (resolveSynced = r));
    opts.setup?.(this);
    this.done = this.run(resolveSynced);
  }

  /** enqueue adds obj's key. */
  enqueue(obj: ObjectRef): void {
    this.queue.add(keyOf(obj));
  }

  /** enqueueKey adds a key as is. */
  enqueueKey(key: string): void {
    this.queue.add(key);
  }

  /** enqueueAfter adds obj's (or a key's) key once delayMs has passed. */
  enqueueAfter(objOrKey: ObjectRef | string, delayMs: number): void {
    this.queue.addAfter(typeof objOrKey === 'string' ? objOrKey : keyOf(objOrKey), delayMs);
  }

  /** enqueueOwner adds the key of obj's controller owner when it is of kind; see ownerKeyFor. */
  enqueueOwner(obj: ObjectRef, kind: string, apiVersion?: string): void {
    const key = ownerKeyFor(obj, kind, apiVersion);
    if (key !== undefined) this.queue.add(key);
  }

  /** stop stops taking keys and resolves once every running reconcile has returned. */
  stop(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort();
    this.queue.shutDown();
    return this.done;
  }

  private async run(resolveSynced: (v: boolean) => void): Promise<void> {
    const signal = this.abort.signal;
    for (const informer of this.opts.informers) informer.start();
    this.log?.info('Waiting for caches to sync', { informers: this.opts.informers.map((i) => i.name) });
    const results = await Promise.all(this.opts.informers.map((i) => i.waitForSync(signal)));
    if (signal.aborted || results.includes(false)) {
      this.queue.shutDown();
      resolveSynced(false);
      this.log?.info('Stopped before caches synced');
      return;
    }
    const workers = Math.max(1, this.opts.workers ?? 1);
    this.log?.info('Starting workers', { count: workers });
    resolveSynced(true);
    await Promise.all(Array.from({ length: workers }, () => this.worker(signal)));
    this.log?.info('Stopped workers');
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (signal.aborted) {
        // Stopping: leave the backlog; the next leader's initial list covers it.
        this.queue.done(key);
        return;
      }
      await this.processKey(key, signal);
    }
  }

  private async processKey(key: string, signal: AbortSignal): Promise<void> {
    const start = performance.now();
    let outcome: ReconcileOutcome;
    try {
      const result = await this.opts.reconcile(key, signal);
      this.queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) {
        this.queue.addAfter(key, after);
        outcome = 'requeue_after';
      } else {
        outcome = 'success';
      }
    } catch (err) {
      // A malformed key (splitKey's InvalidKeyError) can never succeed either.
      if (err instanceof TerminalError || err instanceof InvalidKeyError) {
        this.queue.forget(key);
        outcome = 'terminal_error';
        this.log?.error('Reconcile failed permanently', { key, err });
      } else {
        outcome = 'error';
        this.log?.warn('Reconcile failed; retrying', { key, err: err instanceof Error ? err : String(err), retries: this.queue.numRequeues(key) });
        this.queue.addRateLimited(key);
      }
    } finally {
      this.queue.done(key);
    }
    this.opts.metrics?.reconcile?.(this.name, outcome, (performance.now() - start) / 1000);
  }
}

/**
 * runController starts a controller: opts.setup registers its event handlers, the informers
 * start, and once all caches have synced `workers` workers reconcile keys until stop() (or
 * opts.signal). It returns at once; await `synced` or `done` as needed.
 */
export function runController(opts: ControllerOptions): Controller {
  return new Controller(opts);
}
