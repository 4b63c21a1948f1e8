// serveWatch streams watch events as kube-apiserver does: a chunked 200 response whose headers go
// out at once, then one `{"type":…,"object":…}` JSON line per event. A too-old resourceVersion is an
// ERROR event carrying a 410 Expired Status, then the stream closes.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../lib/api/meta.js';
import { StatusError } from '../../lib/machinery/status.js';
import type { Logger } from '../../lib/log.js';
import type { WatchEventType } from '../storage/interface.js';
import { eventLine, type CachedEvent } from '../storage/cacher.js';
import type { GenericStore } from '../registry/store.js';
import { negotiate } from './request.js';
import { toTable } from './table.js';
import { watchStart, type RequestOptions } from './options.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

/** WatchDeps are what a watch needs of the server: a logger and the open-watch gauge. */
export interface WatchDeps {
  log: Logger;
  watchMetrics?: { inc(resource: string): void; dec(resource: string): void };
}

/** bookmarkIntervalMs: how often a watch that allows bookmarks gets one (kube-apiserver: about a minute). */
const bookmarkIntervalMs = Number(process.env.SKIFF_BOOKMARK_INTERVAL_MS ?? 60_000);
/** maxBufferedBytes: a client that lets this much pile up unread is dropped, as slow watchers are upstream. */
const maxBufferedBytes = 8 * 1024 * 1024;
const minRequestTimeoutSeconds = 1800;

/** serveWatch streams the events of `store` that match `predicate`, from where `opts` asks to start. */
export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  store: GenericStore,
  ns: string | undefined,
  opts: RequestOptions,
  predicate: (o: KubeObject) => boolean,
  deps: WatchDeps,
): Promise<void> {
  // Without a timeout a watch lasts between 30 and 60 minutes, spreading reconnects out.
  const timeoutSeconds = opts.timeoutSeconds ?? Math.floor(minRequestTimeoutSeconds * (1 + Math.random()));
  const allowBookmarks = opts.allowWatchBookmarks;
  const sendInitialEvents = opts.sendInitialEvents;
  const start = watchStart(opts, () => store.currentCacheRevision());
  const neg = negotiate(req.headers.accept);
  const table = neg.as === 'Table';
  const includeObject = opts.includeObject;
  const def = store.def;
  const kindHeader = { kind: def.kind, apiVersion: store.apiVersion };

  let closed = false;
  let headersSent = false;
  // Lines wait in `pending` (as bytes) until the headers are out and then until the event loop's
  // check phase, and leave in one write: every event that reached this watch in one loop turn
  // costs one TLS write, not one each. With many watchers that per-socket write is the fan-out's
  // cost; when the apiserver falls behind, more events share each write, so it catches up
  // instead of queueing without bound.
  let pending: Buffer[] = [];
  let flushScheduled = false;
  let unregister: (() => void) | undefined;
  let lastRV = 0;
  let sentColumns = false;
  const timers: NodeJS.Timeout[] = [];
  const resource = def.plural;
  const takePending = (): Buffer | undefined => {
    if (pending.length === 0) return undefined;
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    return data;
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t), clearInterval(t);
    unregister?.();
    if (!headersSent) return;
    deps.watchMetrics?.dec(resource);
    // What was already queued (e.g. the bookmark sent just before a timeout) still goes out.
    const rest = takePending();
    if (rest && !res.destroyed) res.write(rest);
    res.end();
  };
  req.on('close', close);
  res.on('error', close);

  const flush = () => {
    flushScheduled = false;
    if (closed || !headersSent) return;
    const data = takePending();
    if (!data) return;
    res.write(data);
    if (res.writableLength > maxBufferedBytes) {
      deps.log.warn('Dropping a watch whose client does not keep up', { resource, buffered: res.writableLength });
      close();
    }
  };
  const write = (line: string | Buffer) => {
    if (closed) return;
    pending.push(typeof line === 'string' ? Buffer.from(line) : line);
    // Events delivered while the watch registers wait until sendHeaders.
    if (headersSent && !flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  const sendHeaders = () => {
    headersSent = true;
    deps.watchMetrics?.inc(resource);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    flush();
  };

  const deliver = (type: WatchEventType, obj: KubeObject, ev: CachedEvent | undefined) => {
    const r = Number(obj.metadata.resourceVersion);
    if (r > lastRV) lastRV = r;
    if (table) {
      // Column definitions go with the first event only, as kube-apiserver sends them.
      const t = toTable(def, [obj], { tableVersion: neg.tableVersion!, includeObject, now: new Date(), listMeta: { resourceVersion: obj.metadata.resourceVersion }, noHeaders: sentColumns });
      sentColumns = true;
      write(`{"type":"${type}","object":${stringifyJSON(t)}}\n`);
    } else if (ev && ev.object === obj) {
      write(eventLine(ev, type));
    } else {
      write(`{"type":"${type}","object":${stringifyJSON(obj)}}\n`);
    }
  };

  const bookmark = (annotations?: Record<string, string>) => {
    const rvNow = Math.max(lastRV, store.currentCacheRevision());
    const meta: Record<string, unknown> = { resourceVersion: String(rvNow) };
    if (annotations) meta.annotations = annotations;
    write(`{"type":"BOOKMARK","object":${JSON.stringify({ ...kindHeader, metadata: meta })}}\n`);
  };

  try {
    unregister = await store.watch(ns, start, {
      matches: predicate,
      deliver,
      terminate: () => close(),
    });
  } catch (err) {
    // Past authentication and parsing, an expired resourceVersion is an ERROR event on a 200
    // stream (the cacher's errWatcher); anything else is an ordinary error response.
    if (err instanceof StatusError && err.code === 410 && !closed) {
      sendHeaders();
      write(`{"type":"ERROR","object":${JSON.stringify(err.status)}}\n`);
      close();
      return;
    }
    closed = true;
    throw err;
  }
  if (closed) {
    unregister();
    return;
  }
  sendHeaders();
  if (sendInitialEvents === true) bookmark({ 'k8s.io/initial-events-end': 'true' });
  if (allowBookmarks) timers.push(setInterval(() => bookmark(), bookmarkIntervalMs));
  timers.push(
    setTimeout(() => {
      if (allowBookmarks) bookmark();
      close();
    }, timeoutSeconds * 1000),
  );
}
