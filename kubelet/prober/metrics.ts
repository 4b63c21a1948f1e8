// The kubelet's probe metrics: prober_probe_total by result, prober_probe_duration_seconds of
// successful probes, with Kubernetes' names and labels.

import { Counter, Histogram, type Registry } from '../../lib/metrics.js';

/** ProberMetrics are the kubelet's probe metrics. */
export interface ProberMetrics {
  total: Counter<'probe_type' | 'result' | 'container' | 'pod' | 'namespace' | 'pod_uid'>;
  duration: Histogram<'probe_type' | 'container' | 'pod' | 'namespace'>;
}

/** proberMetrics registers the metrics once per registry (a second manager reuses them). */
export function proberMetrics(registry: Registry): ProberMetrics {
  const total =
    (registry.getSingleMetric('prober_probe_total') as ProberMetrics['total'] | undefined) ??
    new Counter({
      name: 'prober_probe_total',
      help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
      labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('prober_probe_duration_seconds') as ProberMetrics['duration'] | undefined) ??
    new Histogram({
      name: 'prober_probe_duration_seconds',
      help: 'Duration in seconds for a probe response.',
      labelNames: ['probe_type', 'container', 'pod', 'namespace'],
      registers: [registry],
    });
  return { total, duration };
}
