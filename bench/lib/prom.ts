// Reading a component's /metrics (Prometheus text format) for the benchmarks: fetch it with a
// client certificate, parse the samples, and estimate quantiles from a histogram's buckets the
// way PromQL's histogram_quantile does.

import https from 'node:https';
import type { TLSFiles } from './load.js';

/** Sample is one line of the text format: a series name, its labels and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** parseMetrics reads every sample of a Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let l; (l = re.exec(m[2] ?? '')); ) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** sumOf adds the values of every sample of name whose labels include match. */
export function sumOf(samples: readonly Sample[], name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}

/** Buckets is a cumulative histogram: upper bound (le) → count of observations at or below it. */
export type Buckets = Map<number, number>;

/** bucketsOf adds up histogram name's buckets across the series whose labels include match. */
export function bucketsOf(samples: readonly Sample[], name: string, match: Record<string, string> = {}): Buckets {
  const out: Buckets = new Map();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/** subtractBuckets is after − before, bucket by bucket: the observations made between two scrapes. */
export function subtractBuckets(after: Buckets, before: Buckets): Buckets {
  const out: Buckets = new Map();
  for (const [le, n] of after) out.set(le, n - (before.get(le) ?? 0));
  return out;
}

/**
 * histogramQuantile estimates the q-quantile (0..1) of a cumulative histogram as PromQL does:
 * find the bucket the rank falls in and interpolate linearly inside it (from 0 for the first
 * bucket). A rank in the +Inf bucket answers the highest finite bound. NaN for no observations.
 */
export function histogramQuantile(q: number, buckets: Buckets): number {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1]![1] : 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** scrapeMetrics GETs https://127.0.0.1:<port>/metrics with the given client certificate. */
export function scrapeMetrics(port: number, tls: TLSFiles): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const req = https.get(`https://127.0.0.1:${port}/metrics`, { ca: tls.ca, cert: tls.cert, key: tls.key, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(parseMetrics(body)) : reject(new Error(`GET :${port}/metrics: HTTP ${res.statusCode}: ${body.slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET :${port}/metrics: timed out`)));
    req.on('error', reject);
  });
}
