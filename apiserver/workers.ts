// Several apiserver processes behind one port (--apiserver-workers N). Node 20 has no SO_REUSEPORT
// for net servers, so the cluster module does it: the primary process holds the listening socket
// and hands each accepted connection to one worker in turn; every worker is a whole apiserver
// with its own etcd client and watch cache (the shape of several kube-apiservers on one etcd).
//
// What must stay one per apiserver lives with the primary or with worker 0:
// - the primary owns the audit log file (workers send it their lines), so one writer appends and
//   rotates it;
// - the primary answers /metrics requests (a worker asks it) by summing every worker's registry
//   (prom-client's AggregatorRegistry);
// - the primary makes the in-memory service-account signing key when no key file is given, so
//   a token issued by one worker verifies on another;
// - worker 0 (the leader) runs bootstrap (system namespaces, PriorityClasses, the `kubernetes`
//   Service and its Endpoints reconciler) and etcd compaction; the others wait to listen until
//   it has, so no request sees a cluster without its default namespace.
// A worker that exits is started again (logged); SIGTERM to the primary stops every worker, then
// the primary. A worker whose primary is gone (its IPC channel closes) stops by itself.

import cluster, { type Worker } from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '../lib/log.js';
import { AuditLogWriter, type AuditLogOptions } from './audit/writer.js';

/** workerHeader is the response header naming the worker that answered (multi-worker shape only). */
export const workerHeader = 'X-Skiff-Apiserver-Worker';

/** workerIndexEnv carries a worker's index (0 is the leader) from the primary to the worker. */
const workerIndexEnv = 'SKIFF_APISERVER_WORKER';

/**
 * defaultWorkerCount is --apiserver-workers' default: one apiserver process on a machine of up to
 * three cores, two from four. Measured on this project's 2-core machine (README, Benchmarks), a
 * second worker roughly doubled the apiserver's CPU per create (every worker's watch cache
 * decodes every write) and took its memory at rest from 131 to 324 MiB, while etcd, the other
 * components and the clients already share the two cores: it pays only where cores are free.
 */
export function defaultWorkerCount(): number {
  return availableParallelism() >= 4 ? 2 : 1;
}

/**
 * ephemeralSigningKeyPEM is a fresh RSA key (PKCS#8 PEM) for signing service-account tokens, made
 * by the primary when no --service-account-signing-key-file is given, so every worker has the same.
 */
export function ephemeralSigningKeyPEM(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** ToPrimary are the messages a worker sends its primary; `skiff` tells them from prom-client's own. */
type ToPrimary =
  | { skiff: 'hello' }
  | { skiff: 'ready-to-listen' }
  | { skiff: 'audit'; lines: string[] }
  | { skiff: 'metrics'; id: number };
type ToWorker =
  | { skiff: 'init'; serviceAccountKeyPEM?: string }
  | { skiff: 'bootstrapped' }
  | { skiff: 'metrics'; id: number; text?: string; error?: string };

/** isWorker tells whether this process is an apiserver worker forked by a primary. */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[workerIndexEnv] !== undefined;
}

/** PrimaryOptions configure runPrimary. */
export interface PrimaryOptions {
  workers: number;
  log: Logger;
  /** audit is the --audit-log-* settings; the primary is the log's one writer. */
  audit?: Omit<AuditLogOptions, 'log'>;
  /** serviceAccountKeyPEM is an in-memory signing key (PKCS#8 PEM) shared by every worker, when no key file is given. */
  serviceAccountKeyPEM?: string;
}

/** HistogramJSON is the part of prom-client's aggregated histogram that runPrimary rewrites. */
interface HistogramJSON {
  type: string;
  values: { labels: Record<string, string | number>; sharedLabels?: Record<string, string | number> }[];
}

/** restartDelayMs is how long the primary waits before starting a worker again: longer while it keeps failing fast. */
function restartDelayMs(failuresInARow: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, failuresInARow - 1));
}

/**
 * runPrimary forks the workers and supervises them until SIGTERM or SIGINT, then stops them and
 * exits. It resolves never; a start-up failure of a worker before any served exits with its code.
 */
export function runPrimary(opts: PrimaryOptions): void {
  const { log } = opts;
  const aggregator = new AggregatorRegistry();
  // Workers send their metrics without the process's default label; the sum gets it back, so
  // /metrics reads as one apiserver's would (same labels, same order).
  const aggregate = AggregatorRegistry.aggregate.bind(AggregatorRegistry);
  AggregatorRegistry.aggregate = ((metrics: object[]) => {
    const registry = aggregate(metrics);
    registry.setDefaultLabels({ component: 'apiserver' });
    // A histogram writes its own labels after the default ones (prom-client's sharedLabels, lost
    // in the JSON the workers send): put them back so the lines read as one process's.
    for (const m of registry.getMetricsAsArray() as unknown as { get(): HistogramJSON }[]) {
      const metric = m.get();
      if (metric.type !== 'histogram') continue;
      for (const v of metric.values) {
        const { le, ...rest } = v.labels;
        v.sharedLabels = rest;
        v.labels = le === undefined ? {} : { le };
      }
    }
    return registry;
  }) as typeof AggregatorRegistry.aggregate;
  const audit = opts.audit ? new AuditLogWriter({ ...opts.audit, log }) : undefined;
  const slots = new Map<number, { worker: Worker; startedAt: number; failures: number }>();
  let stopping = false;
  let bootstrapped = false;
  let everListened = false;
  const waitingToListen = new Set<Worker>();

  const send = (w: Worker, msg: ToWorker) => {
    if (w.isConnected()) w.send(msg);
  };

  const fork = (index: number, failures: number) => {
    const worker = cluster.fork({ [workerIndexEnv]: String(index) });
    slots.set(index, { worker, startedAt: Date.now(), failures });
    worker.on('message', (msg: ToPrimary) => {
      switch (msg?.skiff) {
        case 'hello':
          send(worker, { skiff: 'init', serviceAccountKeyPEM: opts.serviceAccountKeyPEM });
          return;
        case 'ready-to-listen':
          if (bootstrapped || index === 0) send(worker, { skiff: 'bootstrapped' });
          else waitingToListen.add(worker);
          return;
        case 'audit':
          for (const line of msg.lines) audit?.write(line);
          return;
        case 'metrics':
          aggregator.clusterMetrics().then(
            (text) => send(worker, { skiff: 'metrics', id: msg.id, text }),
            (err: Error) => send(worker, { skiff: 'metrics', id: msg.id, error: err.message }),
          );
          return;
      }
    });
    worker.on('listening', () => {
      everListened = true;
      log.info('Apiserver worker serving', { worker: index, pid: worker.process.pid });
      const slot = slots.get(index);
      if (slot?.worker === worker) slot.failures = 0;
      if (index === 0 && !bootstrapped) {
        bootstrapped = true;
        for (const w of waitingToListen) send(w, { skiff: 'bootstrapped' });
        waitingToListen.clear();
      }
    });
    worker.on('exit', (code, signal) => {
      waitingToListen.delete(worker);
      const slot = slots.get(index);
      if (slot?.worker !== worker) return;
      if (stopping) {
        slots.delete(index);
        if (slots.size === 0) finish();
        return;
      }
      if (!everListened && code !== 0) {
        // As the single-process apiserver does: a start-up failure (etcd unreachable, a bad
        // certificate) ends the apiserver with the worker's code, so a supervisor sees it.
        log.error('Apiserver worker failed before serving; stopping', { worker: index, pid: worker.process.pid, code, signal });
        void shutdown('worker start-up failure', typeof code === 'number' && code > 0 ? code : 1);
        return;
      }
      const quick = Date.now() - slot.startedAt < 10_000;
      const failures = quick ? slot.failures + 1 : 1;
      const delay = restartDelayMs(failures);
      log.error('Apiserver worker exited; starting another', { worker: index, pid: worker.process.pid, code, signal, restartInMs: delay });
      setTimeout(() => {
        if (!stopping) fork(index, failures);
      }, delay);
    });
  };

  let exitCode = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    audit?.stop();
    log.info('Apiserver workers stopped', {});
    process.exit(exitCode);
  };
  const shutdown = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info('Shutting down', { signal: why, workers: slots.size });
    if (slots.size === 0) return finish();
    for (const { worker } of slots.values()) worker.process.kill('SIGTERM');
    // A worker that does not stop in time is killed; its exit still completes the shutdown.
    setTimeout(() => {
      for (const { worker } of slots.values()) worker.process.kill('SIGKILL');
    }, 10_000).unref();
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Workers inherit these; only the primary sets them.
  cluster.setupPrimary({ silent: false });
  log.info('Starting apiserver workers', { workers: opts.workers });
  for (let i = 0; i < opts.workers; i++) fork(i, 0);
}

/** WorkerRole is what a worker process needs from its primary. */
export interface WorkerRole {
  /** index is this worker's number; 0 is the leader that bootstraps and compacts. */
  index: number;
  leader: boolean;
  /** serviceAccountKeyPEM is the primary's in-memory signing key, when it made one. */
  serviceAccountKeyPEM?: string;
  /** auditSink sends audit lines to the primary's writer. */
  auditSink: { write(line: string): void; stop(): void };
  /** beforeListen resolves once the leader has bootstrapped (at once for the leader). */
  beforeListen(): Promise<void>;
  /** metricsText is every worker's metrics summed, in Prometheus text, from the primary. */
  metricsText(): Promise<string>;
  /** flush resolves once every audit line sent so far has left this process. */
  flush(): Promise<void>;
}

/** auditBatchMs is how long audit lines gather in a worker before one message carries them. */
const auditBatchMs = 20;

/**
 * joinPrimary greets the primary and returns this worker's role. registry is the worker's
 * metrics registry, which the primary's aggregator reads; onPrimaryGone runs when the primary's
 * channel closes (the primary died or is stopping).
 */
export async function joinPrimary(registry: Registry, onPrimaryGone: () => void): Promise<WorkerRole> {
  const index = Number(process.env[workerIndexEnv]);
  registry.setDefaultLabels({}); // the primary's sum adds them (runPrimary)
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs prom-client's listener that answers the primary's requests
  const pendingMetrics = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  let nextMetricsID = 0;
  let bootstrapped: () => void = () => undefined;
  const bootstrappedP = new Promise<void>((resolve) => (bootstrapped = resolve));
  let initialized: (msg: Extract<ToWorker, { skiff: 'init' }>) => void = () => undefined;
  const init = new Promise<Extract<ToWorker, { skiff: 'init' }>>((resolve) => (initialized = resolve));
  process.on('message', (msg: ToWorker) => {
    switch (msg?.skiff) {
      case 'init':
        initialized(msg);
        return;
      case 'bootstrapped':
        bootstrapped();
        return;
      case 'metrics': {
        const p = pendingMetrics.get(msg.id);
        pendingMetrics.delete(msg.id);
        if (msg.error !== undefined) p?.reject(new Error(msg.error));
        else p?.resolve(msg.text ?? '');
        return;
      }
    }
  });
  process.on('disconnect', onPrimaryGone);
  const send = (msg: ToPrimary): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected) return resolve();
      process.send!(msg, undefined, {}, () => resolve());
    });
  void send({ skiff: 'hello' });
  const { serviceAccountKeyPEM } = await init;

  let lines: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastSend: Promise<void> = Promise.resolve();
  const flushAudit = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return lastSend;
    const batch = lines;
    lines = [];
    lastSend = send({ skiff: 'audit', lines: batch });
    return lastSend;
  };
  return {
    index,
    leader: index === 0,
    serviceAccountKeyPEM,
    auditSink: {
      write(line) {
        lines.push(line);
        timer ??= setTimeout(flushAudit, auditBatchMs);
      },
      stop() {
        void flushAudit();
      },
    },
    flush: () => flushAudit(),
    beforeListen: async () => {
      await send({ skiff: 'ready-to-listen' });
      await bootstrappedP;
    },
    metricsText: () =>
      new Promise((resolve, reject) => {
        const id = nextMetricsID++;
        pendingMetrics.set(id, { resolve, reject });
        void send({ skiff: 'metrics', id });
      }),
  };
}
