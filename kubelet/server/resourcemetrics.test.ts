import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStats } from '../cri/types.js';
import { nodeCPUSeconds, nodeWorkingSetBytes, podsFromStats } from './resourcemetrics.js';

const stats = (pod: string, container: string, attempt: number, cpuNs: string, mem: string, tsNs: string): ContainerStats => ({
  attributes: { id: `${pod}-${container}-${attempt}`, metadata: { name: container, attempt }, labels: { 'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.namespace': 'ns', 'io.kubernetes.container.name': container }, annotations: {} },
  cpu: { timestamp: tsNs, usage_core_nano_seconds: { value: cpuNs } },
  memory: { timestamp: tsNs, working_set_bytes: { value: mem } },
});

describe('kubelet resource metrics', () => {
  it('reads the node from /proc: busy CPU seconds and memory in use', () => {
    assert.equal(nodeCPUSeconds('cpu  100 20 30 1000 50 5 5 0 0 0\ncpu0 1 2 3 4\n'), 1.6);
    assert.equal(nodeWorkingSetBytes('MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\n'), 600 * 1024);
  });

  it('groups container stats into pods, the newest attempt of a container counting, and flags stats without values', () => {
    const { pods, incomplete } = podsFromStats([
      stats('web', 'app', 0, '1000000000', '1000', '5000000000'),
      stats('web', 'app', 1, '500000000', '2000', '6000000000'),
      stats('web', 'side', 0, '250000000', '3000', '6000000000'),
      { ...stats('db', 'pg', 0, '1', '1', '1'), cpu: undefined },
    ]);
    assert.equal(incomplete, true);
    assert.deepEqual(pods, [
      {
        namespace: 'ns',
        name: 'web',
        containers: [
          { name: 'app', sample: { cpuSeconds: 0.5, memoryBytes: 2000, timestampMs: 6000 } },
          { name: 'side', sample: { cpuSeconds: 0.25, memoryBytes: 3000, timestampMs: 6000 } },
        ],
        sample: { cpuSeconds: 0.75, memoryBytes: 5000, timestampMs: 6000 },
      },
    ]);
  });
});
