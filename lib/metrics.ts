// Prometheus metrics for every skiff process (prom-client): one registry per process with the
// default Node.js process metrics, served at /metrics.

import { Registry, collectDefaultMetrics, Counter, Histogram, Gauge } from 'prom-client';

export function newMetricsRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export { Counter, Histogram, Gauge, Registry };
