import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NodeResourceMetrics, ResourceMetricsParseError, parseResourceMetrics, renderResourceMetrics } from './text.js';

const reading: NodeResourceMetrics = {
  node: { cpuSeconds: 1234.5, memoryBytes: 2_000_000_000, timestampMs: 1_700_000_000_000 },
  pods: [
    {
      namespace: 'prod',
      name: 'web-0',
      sample: { cpuSeconds: 3, memoryBytes: 30_000_000, timestampMs: 1_700_000_000_000 },
      containers: [
        { name: 'app', sample: { cpuSeconds: 2, memoryBytes: 20_000_000, timestampMs: 1_700_000_000_000 } },
        { name: 'side"car', sample: { cpuSeconds: 1, memoryBytes: 10_000_000, timestampMs: 1_699_999_999_000 } },
      ],
    },
  ],
  scrapeError: false,
};

describe('resource metrics text', () => {
  it('renders the kubelet\'s metric names, labels and timestamps', () => {
    const text = renderResourceMetrics(new Map([['', reading]]));
    assert.match(text, /^# TYPE node_cpu_usage_seconds_total counter$/m);
    assert.match(text, /^node_cpu_usage_seconds_total 1234\.5 1700000000000$/m);
    assert.match(text, /^container_cpu_usage_seconds_total\{container="app",namespace="prod",pod="web-0"\} 2 1700000000000$/m);
    assert.match(text, /^container_memory_working_set_bytes\{container="side\\"car",namespace="prod",pod="web-0"\} 10000000 1699999999000$/m);
    assert.match(text, /^pod_memory_working_set_bytes\{namespace="prod",pod="web-0"\} 30000000 1700000000000$/m);
    assert.match(text, /^resource_scrape_error 0$/m);
  });

  it('parses what it renders, for one node or many (node label)', () => {
    assert.deepEqual(parseResourceMetrics(renderResourceMetrics(new Map([['', reading]])), 0).get(''), reading);
    const many = parseResourceMetrics(renderResourceMetrics(new Map([['a', reading], ['b', { pods: [], scrapeError: true }]])), 0);
    assert.deepEqual([...many.keys()], ['a', 'b']);
    assert.deepEqual(many.get('a'), reading);
    assert.equal(many.get('b')!.scrapeError, true);
  });

  it('takes samples without a timestamp at the time given, skips other metrics, refuses garbage', () => {
    const m = parseResourceMetrics('# HELP x\nprocess_start_time_seconds 5\nnode_cpu_usage_seconds_total 7\nnode_memory_working_set_bytes 1e+06\n', 42);
    assert.deepEqual(m.get('')!.node, { cpuSeconds: 7, memoryBytes: 1_000_000, timestampMs: 42 });
    assert.throws(() => parseResourceMetrics('<html>', 0), ResourceMetricsParseError);
  });
});
