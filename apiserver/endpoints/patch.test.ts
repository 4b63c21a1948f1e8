import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyJSONPatch, applyMergePatch, applyStrategicMergePatch, schemaPatchMeta } from './patch.js';
import { StatusError } from '../../lib/machinery/status.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    replicas: 1,
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'app:1', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }] },
          { name: 'sidecar', image: 'side:1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});

describe('strategic merge patch', () => {
  const meta = schemaPatchMeta('V1Deployment');

  it('merges containers by name and env by name, keeping the rest', () => {
    const out = applyStrategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }] }] } } } }, meta) as any;
    const [app, side] = out.spec.template.spec.containers;
    assert.equal(app.image, 'app:2');
    assert.deepEqual(app.env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    assert.deepEqual(app.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.equal(side.image, 'side:1');
  });

  it('deletes list elements with $patch: delete and maps with null', () => {
    const out = applyStrategicMergePatch(deployment(), { metadata: { labels: null }, spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } }, meta) as any;
    assert.equal(out.metadata.labels, undefined);
    assert.deepEqual(out.spec.template.spec.containers.map((c: any) => c.name), ['app']);
  });

  it('orders by $setElementOrder and replaces volumes keys by $retainKeys', () => {
    const out = applyStrategicMergePatch(
      deployment(),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
              volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/d' } }],
            },
          },
        },
      },
      meta,
    ) as any;
    assert.deepEqual(out.spec.template.spec.containers.map((c: any) => c.name), ['sidecar', 'app']);
    assert.deepEqual(out.spec.template.spec.volumes, [{ name: 'data', hostPath: { path: '/d' } }]);
  });

  it('merges Service ports by port, not by containerPort', () => {
    const svc = { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }] } };
    const out = applyStrategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, schemaPatchMeta('V1Service')) as any;
    assert.deepEqual(out.spec.ports, [{ name: 'http', port: 80, targetPort: 9090 }, { name: 'https', port: 443 }]);
  });

  it('replaces lists without a merge key whole, and removes from primitive lists', () => {
    const out = applyStrategicMergePatch(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] }, spec: { template: { spec: { containers: [{ name: 'app', command: ['x'] }] } } } }, meta) as any;
    assert.deepEqual(out.metadata.finalizers, []);
    assert.deepEqual(out.spec.template.spec.containers[0].command, ['x']);
  });

  it('refuses an element without its merge key', () => {
    assert.throws(() => applyStrategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, meta), StatusError);
  });
});

describe('JSON and merge patches', () => {
  it('applies RFC 6902 operations and fails a false test', () => {
    const out = applyJSONPatch({ a: 1 }, [{ op: 'add', path: '/b', value: 2 }]) as any;
    assert.deepEqual(out, { a: 1, b: 2 });
    assert.throws(() => applyJSONPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e: StatusError) => e.code === 422);
    assert.throws(() => applyJSONPatch({ a: 1 }, { op: 'add' }), (e: StatusError) => e.code === 400);
  });

  it('merges objects, deletes nulls and replaces lists (RFC 7386)', () => {
    assert.deepEqual(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] }), { a: { c: 2, d: 3 }, l: [3] });
  });
});
