// Writing answers: JSON bodies and metav1.Status errors, the only two shapes the apiserver sends
// outside watch streams, OpenAPI documents and health checks.

import type { ServerResponse } from 'node:http';
import { StatusError, type Status } from '../../lib/machinery/status.js';

/** writeJSON sends one JSON body with its length. */
export function writeJSON(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
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
