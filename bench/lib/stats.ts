// Small pure helpers the benchmarks share: latency percentiles, rates and a plain-text table.
// Benchmarks only report figures; nothing here decides pass or fail.

/** LatencySummary describes a set of latencies in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * percentile is the nearest-rank percentile (p in 0..100) of ascending-sorted values: the
 * smallest value with at least p% of the values at or below it. NaN for no values.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** summarize sorts a copy of values (ms) and returns count, p50, p99, max and mean. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  let sum = 0;
  for (const v of arr) sum += v;
  return {
    count: arr.length,
    p50: percentile(arr, 50),
    p99: percentile(arr, 99),
    max: arr.length ? arr[arr.length - 1]! : NaN,
    mean: arr.length ? sum / arr.length : NaN,
  };
}

/** rate is operations per second for count operations over elapsedMs. */
export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : NaN;
}

/**
 * fmt prints a figure with about three significant digits and thousands separators: 1234.5 →
 * "1,235", 12.345 → "12.3", 0.4567 → "0.457"; integers (counts) print whole: 50 → "50".
 */
export function fmt(n: number, unit = ''): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  const digits = Number.isInteger(n) || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) + unit;
}

/** formatBytes prints a byte count in KiB/MiB/GiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${fmt(v)} ${units[i]}`;
}

/**
 * formatTable lays rows out in columns separated by two spaces, with a dashed line under the
 * header; columns whose every cell (header aside) looks numeric are right-aligned.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+~≥≤<>]?[\d,.]+( ?[a-zA-Z/%×]+)?$|^n\/a$/.test(r[c] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(width[c]!) : cell.padEnd(width[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
