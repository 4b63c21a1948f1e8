import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Path } from '../../machinery/field-errors.js';
import { podSpecWarnings } from './podwarnings.js';
import type { PodSpec } from './types.js';

test('podSpecWarnings: kube-apiserver texts for the common pod spec warnings', () => {
  const spec = {
    nodeSelector: { 'failure-domain.beta.kubernetes.io/zone': 'a', 'kubernetes.io/os': 'linux' },
    imagePullSecrets: [{ name: 'r' }, { name: 'r' }, { name: '' }],
    terminationGracePeriodSeconds: -1,
    containers: [
      {
        name: 'a',
        image: 'x',
        env: [{ name: 'X', value: '1' }, { name: 'X', value: '$(X)2' }, { name: 'X', value: '3' }],
        ports: [{ containerPort: 80 }],
        resources: { limits: { memory: '1Gi', 'ephemeral-storage': '0.5' } },
      },
      { name: 'b', image: 'x', ports: [{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }] },
    ],
  } as unknown as PodSpec;
  assert.deepEqual(podSpecWarnings(spec, { annotations: { 'scheduler.alpha.kubernetes.io/critical-pod': '' } }), [
    'spec.nodeSelector[failure-domain.beta.kubernetes.io/zone]: deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
    'metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead',
    'spec.imagePullSecrets[1].name: duplicate name "r"',
    'spec.imagePullSecrets[2].name: invalid empty name ""',
    'spec.containers[0].resources.limits[ephemeral-storage]: fractional byte value "500m" is invalid, must be an integer',
    'spec.containers[0].env[2]: hides previous definition of "X", which may be dropped when using apply',
    'spec.containers[1].ports[0]: duplicate port definition with spec.containers[0].ports[0]',
    'spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1',
  ]);
  assert.deepEqual(podSpecWarnings({ containers: [] } as unknown as PodSpec, undefined, Path.root('spec').child('template')), []);
});
