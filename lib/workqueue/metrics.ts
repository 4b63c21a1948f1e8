// promQueueMetrics exposes a queue's hooks as the Prometheus series client-go's workqueue
// publishes (k8s.io/component-base/metrics/prometheus/workqueue), labelled by queue name.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueMetrics } from './queue.js';

const registered = new WeakMap<Registry, QueueMetrics>();

/** promQueueMetrics returns QueueMetrics that record into registry; one set of series per registry. */
export function promQueueMetrics(registry: Registry): QueueMetrics {
  const existing = registered.get(registry);
  if (existing) return existing;
  const labelNames = ['name'] as const;
  const buckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10];
  const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers: [registry] });
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers: [registry] });
  const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested.',
    labelNames,
    buckets,
    registers: [registry],
  });
  const work = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames,
    buckets,
    registers: [registry],
  });
  const metrics: QueueMetrics = {
    depth: (name, n) => depth.set({ name }, n),
    add: (name) => adds.inc({ name }),
    retry: (name) => retries.inc({ name }),
    queueLatency: (name, s) => latency.observe({ name }, s),
    workDuration: (name, s) => work.observe({ name }, s),
  };
  registered.set(registry, metrics);
  return metrics;
}
