// A bare HTTPS watch for the benchmarks: one chunked GET with ?watch=1, one JSON event per line,
// handed to a callback as it arrives. No informer, no cache, no relist: a benchmark wants to
// know when the apiserver delivered each event, at the lowest cost to the shared CPU.

import https from 'node:https';
import type { TLSFiles } from './load.js';

/** WatchEvent is one line of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** WatchHandle is an open watch. */
export interface WatchHandle {
  /** stop closes the watch; closed then resolves with undefined. */
  stop(): void;
  /** closed resolves when the stream ends: undefined after stop(), an Error if it ended by itself. */
  closed: Promise<Error | undefined>;
}

/**
 * openWatch starts a watch on path (a collection path such as /api/v1/namespaces/x/pods; the
 * query may carry resourceVersion or selectors) and resolves once the apiserver answered 200.
 * onEvent runs for every event, in order, synchronously with the arrival of its line.
 */
export function openWatch<T>(server: string, tls: TLSFiles, path: string, onEvent: (ev: WatchEvent<T>) => void): Promise<WatchHandle> {
  const url = new URL(path, server);
  url.searchParams.set('watch', '1');
  return new Promise((resolve, reject) => {
    let stopped = false;
    let settle: (err: Error | undefined) => void = () => undefined;
    const closed = new Promise<Error | undefined>((r) => (settle = r));
    const req = https.get(url, { ca: tls.ca, cert: tls.cert, key: tls.key, agent: false, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => reject(new Error(`watch ${path}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`)));
        return;
      }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        // One chunk may hold thousands of events (the initial ADDED burst): walk it with an
        // index and cut the remainder once, instead of re-copying the tail after every line.
        let from = 0;
        let nl: number;
        while ((nl = pending.indexOf('\n', from)) >= 0) {
          const line = pending.slice(from, nl);
          from = nl + 1;
          if (line.trim()) onEvent(JSON.parse(line) as WatchEvent<T>);
        }
        pending = pending.slice(from);
      });
      res.on('end', () => settle(stopped ? undefined : new Error(`watch ${path}: the apiserver ended the stream`)));
      res.on('error', (err) => settle(stopped ? undefined : err));
      resolve({
        stop: () => {
          stopped = true;
          req.destroy();
          settle(undefined);
        },
        closed,
      });
    });
    req.on('error', (err) => {
      settle(stopped ? undefined : err);
      reject(err);
    });
  });
}
