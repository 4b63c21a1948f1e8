import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultMemoryRequest } from '../../lib/pod/resources.js';
import { computePodNonZeroRequest, computePodResourceRequest } from './resource.js';
import { makePod } from './testing.js';

const Gi = 1024 ** 3;
const Mi = 1024 ** 2;

describe('computePodResourceRequest', () => {
  const cases: { name: string; pod: ReturnType<typeof makePod>; cpu: number; memory: number; gpu?: number }[] = [
    { name: 'one container', pod: makePod('a', { cpu: '500m', memory: '1Gi' }), cpu: 500, memory: Gi },
    {
      // kube's doc example: init containers run one at a time, regular ones together.
      name: 'max(sum of containers, largest init container)',
      pod: makePod('b', {
        initContainers: [
          { name: 'i1', resources: { requests: { cpu: '2', memory: '1G' } } },
          { name: 'i2', resources: { requests: { cpu: '2', memory: '3G' } } },
        ],
        containers: [
          { name: 'c1', resources: { requests: { cpu: '2', memory: '1G' } } },
          { name: 'c2', resources: { requests: { cpu: '1', memory: '1G' } } },
        ],
      }),
      cpu: 3000,
      memory: 3e9,
    },
    {
      name: 'sidecar counts with the containers and under later init containers',
      pod: makePod('c', {
        initContainers: [
          { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '1' } } },
          { name: 'init', resources: { requests: { cpu: '3' } } },
        ],
        containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
      }),
      // regular + sidecar = 2; init after sidecar needs 3 + 1 = 4.
      cpu: 4000,
      memory: 0,
    },
    {
      name: 'overhead is added',
      pod: makePod('d', { cpu: '100m', overhead: { cpu: '250m', memory: '120Mi' } }),
      cpu: 350,
      memory: 120 * Mi,
    },
    { name: 'extended resources are scalars', pod: makePod('e', { requests: { 'example.com/gpu': '2' } }), cpu: 0, memory: 0, gpu: 2 },
    { name: 'milli rounds up', pod: makePod('f', { cpu: '0.0001' }), cpu: 1, memory: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = computePodResourceRequest(c.pod);
      assert.equal(r.milliCPU, c.cpu);
      assert.equal(r.memory, c.memory);
      assert.equal(r.scalar['example.com/gpu'], c.gpu);
    });
  }

  it('non-zero requests default missing cpu/memory per container, keep explicit zeros', () => {
    const pod = makePod('g', {
      containers: [
        { name: 'none', resources: {} },
        { name: 'zero', resources: { requests: { cpu: '0', memory: '0' } } },
        { name: 'some', resources: { requests: { cpu: '250m' } } },
      ],
    });
    const r = computePodNonZeroRequest(pod);
    assert.equal(r.milliCPU, 100 + 0 + 250);
    assert.equal(r.memory, DefaultMemoryRequest * 2);
    assert.equal(computePodResourceRequest(pod).milliCPU, 250);
  });
});
