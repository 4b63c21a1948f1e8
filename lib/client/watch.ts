// ExactWatch is skiff's watch client, a stand-in for client-node's Watch with one difference:
// each event line is parsed with lib/machinery/json.ts, so an int64 beyond 2^53 (a grace period
// of 2^63-1) reaches an informer's cache as a BigInt with every digit, where JSON.parse would
// round it and a controller copying the field would write back a value the apiserver refuses.
// It keeps the contract of client-node's Watch that skiff's ListWatch (lib/controller/
// listwatch.ts) relies on, as client-node's ListWatch did: watch() resolves with an
// AbortController once the response has started (or after done reported why it could not), done
// is called exactly once, a non-200 answer is an Error carrying statusCode (410 makes ListWatch
// relist), and an idle stream ends with an error named TimeoutError (ListWatch then reconnects
// from its resourceVersion at once).

import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { parseJSON } from '../machinery/json.js';
import type { ClusterAccess } from './kubeconfig.js';

/**
 * WatchCallback gets each event: its type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR), its object,
 * and the whole event. The object is `any`, as in client-node's Watch, so a caller can declare the
 * type it watches (`(type, pod: Pod) => …`).
 */
export type WatchCallback = (phase: string, apiObj: any, watchObj?: any) => void;

/** WatchQuery is a watch's query parameters; undefined ones are left out. */
export type WatchQuery = Record<string, string | number | boolean | undefined>;

/** Watcher is the watch a ListWatch drives; ExactWatch is the real one, a test hands in a fake. */
export interface Watcher {
  watch(path: string, queryParams: WatchQuery, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController>;
}

/** ExactWatch watches a path on the apiserver of a kubeconfig; its events keep integers beyond 2^53 exact. */
export class ExactWatch implements Watcher {
  /** idleTimeoutMs bounds the wait for the response, then the silence between two chunks (client-node's 30 s). */
  idleTimeoutMs = 30_000;

  constructor(readonly config: ClusterAccess) {}

  async watch(path: string, queryParams: WatchQuery, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    for (const [k, v] of Object.entries(queryParams)) if (v !== undefined) url.searchParams.set(k, String(v));

    const opts: https.RequestOptions = {};
    await this.config.applyToHTTPSOptions(opts);
    const controller = new AbortController();

    let finished = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      // An abort by the caller (ListWatch.stop) ends the watch without an error, as in client-node.
      if (controller.signal.aborted && !timedOut) err = null;
      controller.abort();
      done(err && timedOut ? timeoutError() : err);
    };
    const armTimer = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        req.destroy(timeoutError());
      }, this.idleTimeoutMs);
      timer.unref();
    };

    const send = url.protocol === 'http:' ? http.request : https.request;
    const headers = { ...(opts.headers as Record<string, string> | undefined), accept: 'application/json' };
    const req = send(url, { ...opts, method: 'GET', headers, signal: controller.signal });
    armTimer();
    await new Promise<void>((started) => {
      req.on('error', (err) => {
        finish(err);
        started();
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          const err = new Error(res.statusMessage || http.STATUS_CODES[res.statusCode ?? 500] || 'Internal Server Error') as Error & { statusCode?: number };
          err.statusCode = res.statusCode;
          finish(err);
          started();
          return;
        }
        armTimer(); // from here on the timeout measures silence on an open stream
        res.on('data', armTimer);
        res.on('error', finish);
        res.on('close', () => finish(timedOut ? timeoutError() : null));
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on('error', finish); // readline re-emits the stream's errors; unhandled they would throw
        lines.on('line', (line) => {
          if (finished) return;
          let event: { type?: string; object?: unknown };
          try {
            event = parseJSON(line) as typeof event;
          } catch {
            return; // a line that is not JSON is skipped, as client-node's Watch does
          }
          try {
            callback(event.type as string, event.object, event);
          } catch {
            // client-node's Watch drops a callback's throw the same way; the stream goes on.
          }
        });
        started();
      });
      req.end();
    });
    return controller;
  }
}

/** timeoutError is the error an idle watch ends with; ListWatch tells it by its name. */
function timeoutError(): Error {
  const err = new Error('The operation was aborted due to timeout');
  err.name = 'TimeoutError';
  return err;
}
