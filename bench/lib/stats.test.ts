import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, formatTable, percentile, rate, summarize } from './stats.js';
import { parseCPUSeconds, parseVmRSS } from './proc.js';

test('percentile is nearest-rank: p99 of 100 values is the 99th, of 50 values the largest', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 100), 100);
  const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
  assert.equal(percentile(fifty, 99), 50);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('summarize sorts numerically, not as strings', () => {
  const s = summarize([100, 9, 20, 3]);
  assert.deepEqual({ p50: s.p50, p99: s.p99, max: s.max, count: s.count }, { p50: 9, p99: 100, max: 100, count: 4 });
  assert.equal(s.mean, 33);
});

test('rate is per second', () => {
  assert.equal(rate(500, 250), 2000);
});

test('fmt keeps about three significant digits and prints counts whole', () => {
  assert.equal(fmt(1234.5), '1,235');
  assert.equal(fmt(12.345), '12.3');
  assert.equal(fmt(0.4567), '0.457');
  assert.equal(fmt(1000), '1,000');
  assert.equal(fmt(NaN), 'n/a');
});

test('formatTable aligns columns and right-aligns numeric ones', () => {
  const out = formatTable(['what', 'value'], [['creates/s', '856/s'], ['ratio', '0.33']]);
  assert.equal(out, ['what       value', '---------  -----', 'creates/s  856/s', 'ratio       0.33'].join('\n'));
});

test('parseVmRSS and parseCPUSeconds read /proc text, even with spaces in the command name', () => {
  assert.equal(parseVmRSS('Name:\tnode\nVmRSS:\t  204800 kB\nThreads:\t11\n'), 204800 * 1024);
  const stat = '1234 (node (main) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 999 0 0';
  assert.equal(parseCPUSeconds(stat), 3);
});
