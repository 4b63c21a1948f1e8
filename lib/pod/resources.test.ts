import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../api/core/pod.js';
import type { Container, ResourceList } from '../api/core/types.js';
import { type PodRequestsOptions, podRequests } from './resources.js';

const Mi = 1024n * 1024n * 1_000_000_000n;
const m = 1_000_000n;

function c(name: string, requests?: ResourceList, restartPolicy?: string): Container {
  return { name, image: 'x', ...(requests ? { resources: { requests } } : {}), ...(restartPolicy ? { restartPolicy } : {}) } as Container;
}

function pod(containers: Container[], initContainers: Container[] = [], overhead?: ResourceList): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers, initContainers, ...(overhead ? { overhead } : {}) } } as Pod;
}

describe('podRequests', () => {
  const cases: { name: string; pod: Pod; opts?: PodRequestsOptions; cpu: bigint | undefined; memory: bigint | undefined }[] = [
    { name: 'containers add up', pod: pod([c('a', { cpu: '100m', memory: '10Mi' }), c('b', { cpu: '200m' })]), cpu: 300n * m, memory: 10n * Mi },
    { name: 'no requests: nothing', pod: pod([c('a')]), cpu: undefined, memory: undefined },
    {
      name: 'the largest init container wins over the containers, per resource',
      pod: pod([c('a', { cpu: '100m', memory: '100Mi' })], [c('i1', { cpu: '500m', memory: '1Mi' }), c('i2', { cpu: '50m', memory: '20Mi' })]),
      cpu: 500n * m,
      memory: 100n * Mi,
    },
    {
      name: 'a sidecar adds to the containers',
      pod: pod([c('a', { cpu: '100m' })], [c('proxy', { cpu: '50m' }, 'Always')]),
      cpu: 150n * m,
      memory: undefined,
    },
    {
      name: 'an init container after a sidecar runs beside it',
      pod: pod([c('a', { cpu: '100m' })], [c('proxy', { cpu: '50m' }, 'Always'), c('migrate', { cpu: '500m' })]),
      cpu: 550n * m,
      memory: undefined,
    },
    {
      name: 'an init container before a sidecar does not',
      pod: pod([c('a', { cpu: '100m' })], [c('migrate', { cpu: '500m' }), c('proxy', { cpu: '50m' }, 'Always')]),
      cpu: 500n * m,
      memory: undefined,
    },
    {
      name: 'overhead comes on top',
      pod: pod([c('a', { cpu: '100m' })], [c('i', { cpu: '300m' })], { cpu: '250m', memory: '120Mi' }),
      cpu: 550n * m,
      memory: 120n * Mi,
    },
    {
      name: 'excludeOverhead leaves it out',
      pod: pod([c('a', { cpu: '100m' })], [], { cpu: '250m' }),
      opts: { excludeOverhead: true },
      cpu: 100n * m,
      memory: undefined,
    },
    {
      name: 'nonMissing fills only resources a container does not name; an explicit zero stays',
      pod: pod([c('a', { cpu: '0' }), c('b')]),
      opts: { nonMissingContainerRequests: { cpu: '100m', memory: '200Mi' } },
      cpu: 100n * m,
      memory: 400n * Mi,
    },
  ];
  for (const t of cases) {
    test(t.name, () => {
      const r = podRequests(t.pod, t.opts);
      assert.equal(r.get('cpu'), t.cpu);
      assert.equal(r.get('memory'), t.memory);
    });
  }
});
