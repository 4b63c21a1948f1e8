import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseNodeTaints, parseSimConfig } from './config.js';

test('defaults: 0 nodes, 8 CPUs, 32Gi, 110 pods, 100Gi, 3 zones, 10s leases, 60s heartbeats, 300 writes/s', () => {
  const c = parseSimConfig({});
  assert.equal(c.nodes, 0);
  assert.deepEqual(c.capacity, { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' });
  assert.equal(c.zones, 3);
  assert.equal(c.namePrefix, 'sim-');
  assert.equal(c.leaseRenewIntervalMs, 10_000);
  assert.equal(c.nodeStatusUpdateFrequencyMs, 60_000);
  assert.equal(c.maxWritesPerSecond, 300);
  assert.equal(c.podStartDelayMs, 1000);
  assert.equal(c.maxTerminationGraceMs, 30_000);
});

test('taints take key=value:Effect and key:Effect', () => {
  assert.deepEqual(parseNodeTaints('a=b:NoExecute, c:NoSchedule'), [
    { key: 'a', value: 'b', effect: 'NoExecute' },
    { key: 'c', effect: 'NoSchedule' },
  ]);
});

test('bad values are rejected with the flag named', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ nodes: '-1' }, /--nodes/],
    [{ nodes: 'many' }, /--nodes/],
    [{ 'node-cpu': 'eight' }, /--node-cpu/],
    [{ 'node-labels': 'novalue' }, /--node-labels.*key=value/],
    [{ 'node-labels': 'a=b c' }, /--node-labels/],
    [{ 'node-taints': 'a=b:Sometimes' }, /effect must be one of NoSchedule, PreferNoSchedule, NoExecute/],
    [{ 'node-taints': 'a:NoSchedule,a:NoSchedule' }, /duplicate/],
    [{ 'lease-renew-interval': '45s' }, /Leases last 40s/],
    [{ 'pod-start-delay': 'soon' }, /--pod-start-delay/],
    [{ 'fail-selector': 'a in (' }, /--fail-selector/],
    [{ 'fallback-pod-cidr': '100.64.0.0/26' }, /\/24 or larger/],
    [{ 'node-name-prefix': 'Sim_' }, /--node-name-prefix/],
  ];
  for (const [flags, msg] of cases) assert.throws(() => parseSimConfig(flags), (err: unknown) => err instanceof ConfigError && msg.test(err.message), JSON.stringify(flags));
});
