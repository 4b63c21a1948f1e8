import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../lib/api/core/pod.js';
import { parseResourceMetrics } from '../lib/resourcemetrics/text.js';
import { SimResourceMetrics, simulatedUsage } from './usage.js';

const pod = (annotations: Record<string, string> | undefined, requests: ({ cpu?: string; memory?: string } | undefined)[]): Pod =>
  ({
    metadata: { name: 'p', namespace: 'ns', annotations, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { containers: requests.map((r, i) => ({ name: `c${i}`, image: 'x', resources: r ? { requests: r } : undefined })) },
    status: { phase: 'Running', startTime: '2026-01-01T00:00:00Z' },
  }) as Pod;

describe('simulated usage', () => {
  it('splits the annotated total over containers by their requests', () => {
    const u = simulatedUsage(pod({ 'skiff.dev/sim-cpu': '300m', 'skiff.dev/sim-memory': '64Mi' }, [{ cpu: '100m', memory: '16Mi' }, { cpu: '200m', memory: '48Mi' }]));
    assert.deepEqual(u.map((c) => [c.name, Math.round(c.cpuCores * 1000), c.memoryBytes]), [
      ['c0', 100, 16 * 1024 * 1024],
      ['c1', 200, 48 * 1024 * 1024],
    ]);
  });

  it('without annotations: a tenth of the CPU request and half the memory request, or a small floor', () => {
    const u = simulatedUsage(pod(undefined, [{ cpu: '500m', memory: '100Mi' }, undefined]));
    assert.deepEqual(u.map((c) => [Math.round(c.cpuCores * 1000), c.memoryBytes]), [
      [50, 50 * 1024 * 1024],
      [1, 8 * 1024 * 1024],
    ]);
  });

  it('serves counters whose rate between any two readings is the usage, per node', () => {
    const m = new SimResourceMetrics();
    const p = pod({ 'skiff.dev/sim-cpu': '250m' }, [{ cpu: '100m' }]);
    const t1 = Date.parse('2026-01-01T00:01:00Z');
    const a = parseResourceMetrics(m.render(new Map([['sim-0', [p]]]), t1), 0).get('sim-0')!;
    const b = parseResourceMetrics(m.render(new Map([['sim-0', [p]]]), t1 + 10_000), 0).get('sim-0')!;
    const c0 = (r: typeof a) => r.pods[0]!.containers[0]!.sample;
    assert.equal((c0(b).cpuSeconds - c0(a).cpuSeconds) / 10, 0.25);
    // The node: its base of 50m plus the pod's 250m.
    assert.ok(Math.abs((b.node!.cpuSeconds - a.node!.cpuSeconds) / 10 - 0.3) < 1e-9);
  });
});
