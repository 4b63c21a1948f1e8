// Writing answers: JSON bodies and metav1.Status errors, the only two shapes the apiserver sends
// outside watch streams, OpenAPI documents and health checks. A body over 128 KiB goes out
// gzip-compressed to a client that accepts it, as kube-apiserver's response writer does
// (APIResponseCompression); watches stream through their own writer and never are.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { StatusError, type Status } from '../../lib/machinery/status.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

/** prettyResponses are the responses whose request asked for indented JSON (markPretty). */
const prettyResponses = new WeakSet<ServerResponse>();

/**
 * isPrettyPrint is kube-apiserver's: `?pretty=` read by strconv.ParseBool (`1`, `t`, `true`,
 * `True`, …; anything else is false), and without it the user agents of browsers, curl and
 * wget. It is not the parameter codec's boolean: `pretty=yes` is false.
 */
export function isPrettyPrint(req: Pick<IncomingMessage, 'url' | 'headers'>): boolean {
  const query = (req.url ?? '').split('?')[1] ?? '';
  if (query.includes('pretty')) {
    const pp = new URLSearchParams(query).get('pretty');
    if (pp) return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(pp);
  }
  const ua = req.headers['user-agent'] ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}

/** markPretty makes every JSON answer on res indented when its request asks for it (isPrettyPrint). */
export function markPretty(req: IncomingMessage, res: ServerResponse): void {
  if (isPrettyPrint(req)) prettyResponses.add(res);
}

/** gzipThresholdBytes is kube-apiserver's defaultGzipThresholdBytes: only larger bodies are compressed. */
export const gzipThresholdBytes = 128 * 1024;

/**
 * acceptsGzip reads Accept-Encoding as kube-apiserver does: some comma-separated token, trimmed,
 * is exactly `gzip` (parameters such as `gzip;q=1` are not looked into).
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return !!acceptEncoding && acceptEncoding.split(',').some((t) => t.trim() === 'gzip');
}

/** writeJSON sends one JSON body: with its length, or gzip-compressed when large and accepted. */
export function writeJSON(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const data = Buffer.from(stringifyJSON(body, prettyResponses.has(res) ? 2 : undefined));
  if (data.length > gzipThresholdBytes && acceptsGzip(res.req?.headers['accept-encoding'])) {
    const vary = headers.Vary === undefined ? [] : [headers.Vary].flat();
    res.writeHead(code, { 'Content-Type': 'application/json', ...headers, 'Content-Encoding': 'gzip', Vary: [...vary, 'Accept-Encoding'] });
    const gzip = createGzip();
    // A client that goes away mid-body ends both streams; there is nobody left to tell.
    pipeline(gzip, res, () => {});
    gzip.end(data);
    return;
  }
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers });
  res.end(data);
}

/** writeStatus sends a Status (with Retry-After when it asks the client to come back). */
export function writeStatus(res: ServerResponse, err: StatusError | Status, headers: Record<string, string> = {}): void {
  const status = err instanceof StatusError ? err.status : err;
  const h: Record<string, string> = { ...headers };
  if (status.details?.retryAfterSeconds) h['Retry-After'] = String(status.details.retryAfterSeconds);
  writeJSON(res, status.code, status, h);
}
