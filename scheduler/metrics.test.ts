import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { newSchedulerMetrics } from './metrics.js';

test('scheduler metrics: attempts by result and profile, durations, pending pods per queue', async () => {
  const registry = new Registry();
  const m = newSchedulerMetrics(registry);
  assert.equal(newSchedulerMetrics(registry), m, 'one set of series per registry');
  m.attempt('scheduled', 'default-scheduler', 0.002);
  m.attempt('unschedulable', 'default-scheduler', 0.001);
  m.attempt('scheduled', 'default-scheduler', 0.003);
  m.podScheduled('default-scheduler', 2, 1.5);
  m.setPendingSource(() => ({ active: 3, backoff: 2, unschedulable: 1, gated: 0 }));
  const text = await registry.metrics();
  assert.match(text, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 2/);
  assert.match(text, /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} 1/);
  assert.match(text, /scheduler_scheduling_attempt_duration_seconds_count\{result="scheduled",profile="default-scheduler"\} 2/);
  assert.match(text, /scheduler_pod_scheduling_duration_seconds_count\{attempts="2"\} 1/);
  assert.match(text, /scheduler_pending_pods\{queue="active"\} 3/);
  assert.match(text, /scheduler_pending_pods\{queue="backoff"\} 2/);
  assert.match(text, /scheduler_pending_pods\{queue="unschedulable"\} 1/);
});
