// Load generation for the benchmarks: a fixed number of operations run by a fixed number of
// concurrent workers (closed loop), each operation timed; and a raw HTTPS client for the API
// server that keeps its connections alive and authenticates with the admin client certificate.

import https from 'node:https';
import { performance } from 'node:perf_hooks';

/** LoadResult is what a closed-loop run measured. */
export interface LoadResult {
  /** ok counts operations that resolved; latencies (ms) has one entry per ok operation. */
  ok: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  latencies: number[];
}

/** RunOptions tune runConcurrent. */
export interface RunOptions {
  /** progress is called about every progressEveryMs with the count of finished operations. */
  progress?: (done: number, elapsedMs: number) => void;
  progressEveryMs?: number;
}

/**
 * runConcurrent runs op(0) … op(total-1) with `concurrency` workers, each starting its next
 * operation as soon as its previous one finished, and times every operation. A rejected
 * operation counts as an error (the run goes on), so one bad answer does not hide the figures.
 */
export async function runConcurrent(total: number, concurrency: number, op: (i: number) => Promise<void>, opts: RunOptions = {}): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const timer = opts.progress ? setInterval(() => opts.progress!(done, performance.now() - t0), opts.progressEveryMs ?? 2_000) : undefined;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const start = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - start);
      } catch (err) {
        errors++;
        firstError ??= (err as Error)?.message ?? String(err);
      }
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  } finally {
    if (timer) clearInterval(timer);
  }
  return { ok: latencies.length, errors, firstError, elapsedMs: performance.now() - t0, latencies };
}

/** TLSFiles are the PEM contents a client needs: the cluster CA and the admin client pair. */
export interface TLSFiles {
  ca: string;
  cert: string;
  key: string;
}

/** Reply is one HTTP answer. */
export interface Reply {
  status: number;
  body: string;
}

/** HTTPStatusError says the apiserver answered with an unexpected code. */
export class HTTPStatusError extends Error {
  override name = 'HTTPStatusError';
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/**
 * APIClient sends requests to the apiserver over a keep-alive agent (so a run measures requests,
 * not TLS handshakes) with the admin client certificate.
 */
export class APIClient {
  readonly agent: https.Agent;

  constructor(
    readonly server: string,
    private readonly tls: TLSFiles,
    maxSockets: number,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key });
  }

  /** request sends one request and collects the whole body as text. */
  request(method: string, path: string, body?: unknown): Promise<Reply> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (data !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(data);
    }
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(path, this.server), { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** expect sends a request and rejects unless the answer has one of the wanted codes. */
  async expect(what: string, codes: readonly number[], method: string, path: string, body?: unknown): Promise<Reply> {
    const r = await this.request(method, path, body);
    if (!codes.includes(r.status)) throw new HTTPStatusError(r.status, r.body, what);
    return r;
  }

  /** tlsFiles exposes the PEM material, for clients that need their own connections (watches). */
  get tlsFiles(): TLSFiles {
    return this.tls;
  }

  close(): void {
    this.agent.destroy();
  }
}
