// Writing answers: JSON bodies and metav1.Status errors, the only two shapes the apiserver sends
// outside watch streams, OpenAPI documents and health checks.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, type Status } from '../../lib/machinery/status.js';

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

/** writeJSON sends one JSON body with its length. */
export function writeJSON(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = prettyResponses.has(res) ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** writeStatus sends a Status (with Retry-After when it asks the client to come back). */
export function writeStatus(res: ServerResponse, err: StatusError | Status, headers: Record<string, string> = {}): void {
  const status = err instanceof StatusError ? err.status : err;
  const h: Record<string, string> = { ...headers };
  if (status.details?.retryAfterSeconds) h['Retry-After'] = String(status.details.retryAfterSeconds);
  writeJSON(res, status.code, status, h);
}
