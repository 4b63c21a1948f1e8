// One structured logger per process: fixed messages with key/value data, one JSON line each on
// stderr (`{"ts":…,"level":"info","component":"apiserver","msg":"Serving","port":6443}`).
// Verbosity levels (`-v 2`) gate detail logs as klog's V(n) does. Values under keys that look
// like secrets are redacted so no credential reaches a log.

import { stringifyJSON } from './machinery/json.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

// A bare "key" is a work-queue key (namespace/name) in controller logs, not a secret: only
// names that say what kind of key they are (privateKey, apiKey, signingKey) are redacted.
const secretKey = /token|password|secret|authorization|private|.key$/i;

function redact(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v instanceof Error) out[k] = v.message;
    else if (secretKey.test(k) && typeof v === 'string') out[k] = '[redacted]';
    else out[k] = v;
  }
  return out;
}

export class Logger {
  constructor(
    readonly component: string,
    private verbosity = 0,
    private readonly sink: (line: string) => void = (line) => process.stderr.write(line + '\n'),
    private readonly fields: Record<string, unknown> = {},
  ) {}

  setVerbosity(v: number): void {
    this.verbosity = v;
  }

  with(fields: Record<string, unknown>): Logger {
    return new Logger(this.component, this.verbosity, this.sink, { ...this.fields, ...fields });
  }

  /** enabled tells whether level-n detail is logged, so a hot path can skip building the record. */
  enabled(n: number): boolean {
    return n <= this.verbosity;
  }

  /** v returns a logger that logs only when the process runs at verbosity ≥ n. */
  v(n: number): Pick<Logger, 'info'> {
    if (n <= this.verbosity) return this;
    return { info: () => undefined };
  }

  private write(level: Level, msg: string, data?: Record<string, unknown>): void {
    const rec = { ts: new Date().toISOString(), level, component: this.component, msg, ...this.fields, ...(data ? redact(data) : {}) };
    let line: string;
    try {
      line = stringifyJSON(rec); // an int64 beyond 2^53 in the data is a BigInt, written as its digits
    } catch {
      line = JSON.stringify({ ts: rec.ts, level, component: this.component, msg });
    }
    this.sink(line);
  }

  debug(msg: string, data?: Record<string, unknown>): void {
    if (this.verbosity >= 4) this.write('debug', msg, data);
  }
  info(msg: string, data?: Record<string, unknown>): void {
    this.write('info', msg, data);
  }
  warn(msg: string, data?: Record<string, unknown>): void {
    this.write('warn', msg, data);
  }
  error(msg: string, data?: Record<string, unknown>): void {
    this.write('error', msg, data);
  }
}

export function newLogger(component: string, verbosity = Number(process.env.SKIFF_V ?? 0)): Logger {
  return new Logger(component, verbosity);
}
