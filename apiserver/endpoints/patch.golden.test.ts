// Golden strategic merge patch cases: each patch below is what kubectl 1.32 sent for a
// `kubectl apply` of a changed Deployment manifest (recorded with -v=8; the
// last-applied-configuration annotation it also sends is left out), applied to the object the
// first apply created. The expected results are what Kubernetes' strategic merge produces.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch, schemaPatchMeta } from './patch.js';

const live = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' }, finalizers: ['example.com/a', 'example.com/b'] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [
              { containerPort: 80, protocol: 'TCP' },
              { containerPort: 443, protocol: 'TCP' },
            ],
            imagePullPolicy: 'IfNotPresent',
          },
          { name: 'side', image: 'side:1', imagePullPolicy: 'IfNotPresent' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
        restartPolicy: 'Always',
      },
    },
  },
});

type Deployment = ReturnType<typeof live>;
const apply = (patch: unknown) => applyStrategicMergePatch(live(), patch, schemaPatchMeta('V1Deployment')) as Deployment;
const pod = (d: Deployment) => d.spec.template.spec;

describe('strategic merge patches recorded from kubectl apply', () => {
  it('removes one env var of a container ($setElementOrder + $patch: delete)', () => {
    const out = apply({
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }], containers: [{ '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }], name: 'app' }] } } },
    });
    assert.deepEqual(pod(out).containers[0].env!, [{ name: 'A', value: '1' }]);
    assert.deepEqual(pod(out).containers.map((c) => c.name), ['app', 'side']);
    assert.equal(pod(out).containers[0].ports!.length, 2, 'untouched siblings stay');
  });

  it('removes a whole container', () => {
    const out = apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ $patch: 'delete', name: 'side' }] } } } });
    assert.deepEqual(pod(out).containers.map((c) => c.name), ['app']);
    assert.equal(pod(out).containers[0].image, 'app:1');
  });

  it('switches a volume source, dropping the old one through $retainKeys', () => {
    const out = apply({
      spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'data' }], volumes: [{ $retainKeys: ['hostPath', 'name'], emptyDir: null, hostPath: { path: '/d' }, name: 'data' }] } } },
    });
    assert.deepEqual(pod(out).volumes, [{ name: 'data', hostPath: { path: '/d' } }]);
  });

  it('removes a label with null', () => {
    const out = apply({ metadata: { labels: { tier: null } } });
    assert.deepEqual(out.metadata.labels, { app: 'web' });
  });

  it('removes a finalizer with $deleteFromPrimitiveList', () => {
    const out = apply({ metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/b'], '$setElementOrder/finalizers': ['example.com/a'] } });
    assert.deepEqual(out.metadata.finalizers, ['example.com/a']);
  });

  it('reorders containers with $setElementOrder alone', () => {
    const out = apply({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } } } });
    assert.deepEqual(pod(out).containers.map((c) => c.name), ['side', 'app']);
    assert.equal(pod(out).containers[1].env!.length, 2);
  });

  it('replaces container ports by containerPort and changes the image', () => {
    const out = apply({
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }],
            containers: [
              {
                '$setElementOrder/ports': [{ containerPort: 8080 }],
                image: 'app:2',
                name: 'app',
                ports: [{ containerPort: 8080 }, { $patch: 'delete', containerPort: 443 }, { $patch: 'delete', containerPort: 80 }],
              },
            ],
          },
        },
      },
    });
    assert.equal(pod(out).containers[0].image, 'app:2');
    assert.deepEqual(pod(out).containers[0].ports, [{ containerPort: 8080 }]);
    assert.deepEqual(pod(out).containers[0].env!.map((e) => e.name), ['A', 'B']);
  });
});
