import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketsOf, histogramQuantile, parseMetrics, subtractBuckets, sumOf } from './prom.js';

const text = `# HELP scheduler_schedule_attempts_total Number of attempts
# TYPE scheduler_schedule_attempts_total counter
scheduler_schedule_attempts_total{result="scheduled",profile="default-scheduler"} 90
scheduler_schedule_attempts_total{result="error",profile="default-scheduler"} 2
scheduler_schedule_attempts_total{result="scheduled",profile="other"} 8
d_bucket{le="0.1",result="scheduled"} 10
d_bucket{le="0.2",result="scheduled"} 30
d_bucket{le="+Inf",result="scheduled"} 40
d_bucket{le="0.1",result="error"} 5
d_bucket{le="0.2",result="error"} 5
d_bucket{le="+Inf",result="error"} 5
up 1
`;

test('parseMetrics reads names, labels and values; sumOf adds the series a label filter keeps', () => {
  const s = parseMetrics(text);
  assert.equal(s.length, 10);
  assert.deepEqual(s[0], { name: 'scheduler_schedule_attempts_total', labels: { result: 'scheduled', profile: 'default-scheduler' }, value: 90 });
  assert.equal(sumOf(s, 'scheduler_schedule_attempts_total', { result: 'scheduled' }), 98);
  assert.equal(sumOf(s, 'scheduler_schedule_attempts_total'), 100);
  assert.equal(sumOf(s, 'up'), 1);
});

test('histogramQuantile interpolates inside the bucket the rank falls in, as PromQL does', () => {
  const b = bucketsOf(parseMetrics(text), 'd', { result: 'scheduled' });
  assert.deepEqual([...b.entries()], [[0.1, 10], [0.2, 30], [Infinity, 40]]);
  assert.equal(histogramQuantile(0.25, b), 0.1);
  assert.ok(Math.abs(histogramQuantile(0.5, b) - 0.15) < 1e-9);
  // Ranks in the +Inf bucket answer the highest finite bound.
  assert.equal(histogramQuantile(0.99, b), 0.2);
  assert.ok(Number.isNaN(histogramQuantile(0.5, new Map())));
});

test('subtractBuckets keeps only what was observed between two scrapes', () => {
  const all = parseMetrics(text);
  const after = bucketsOf(all, 'd');
  const before = bucketsOf(all, 'd', { result: 'error' });
  assert.deepEqual([...subtractBuckets(after, before).entries()], [[0.1, 10], [0.2, 30], [Infinity, 40]]);
});
