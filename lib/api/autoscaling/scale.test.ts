import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalid, StatusError } from '../../machinery/status.js';
import { deployments } from '../apps/deployment.js';
import type { Deployment } from '../apps/types.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { applyScale, scaleFromObject, scaleGroupKind } from './scale.js';

function deployment(): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '42', creationTimestamp: '2024-05-01T10:00:00Z', labels: { a: 'b' } },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } },
    status: { replicas: 2 },
  };
}

// A custom resource whose scale subresource points at nested fields, as a CRD may declare.
const widgets = defineResource<KubeObject>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  singular: 'widget',
  namespaced: false,
  subresources: { scale: { specReplicasPath: '.spec.size.count', statusReplicasPath: '.status.count', labelSelectorPath: '.status.selector' } },
});

test('GET /scale of a Deployment', () => {
  assert.deepEqual(scaleFromObject(deployments, deployment()), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '42', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: { replicas: 3 },
    status: { replicas: 2, selector: 'app=web' },
  });
});

test('a Scale of 0 replicas sends an empty spec, as omitempty does', () => {
  const d = deployment();
  d.spec.replicas = 0;
  delete d.status;
  const scale = scaleFromObject(deployments, d);
  assert.deepEqual(scale.spec, {});
  assert.deepEqual(scale.status, { replicas: 0, selector: 'app=web' });
});

test('a custom resource scale reads its paths and its selector string; absent counts are 0', () => {
  const w: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', creationTimestamp: '2024-05-01T10:00:00Z' }, status: { selector: 'app=w' } };
  assert.deepEqual(scaleFromObject(widgets, w), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'w1', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: {},
    status: { replicas: 0, selector: 'app=w' },
  });
});

test('applying a Scale sets the replicas at the spec path', () => {
  const d = deployment();
  assert.equal(applyScale(deployments, d, { metadata: { name: 'web' }, spec: { replicas: 5 } }), undefined);
  assert.equal(d.spec.replicas, 5);
  // PATCH {"spec":{}} means 0 replicas, like the omitempty field it is.
  applyScale(deployments, d, { spec: {} });
  assert.equal(d.spec.replicas, 0);
  const w: KubeObject = { metadata: { name: 'w1' } };
  applyScale(widgets, w, { spec: { replicas: 2 } });
  assert.deepEqual(w.spec, { size: { count: 2 } });
});

test('negative replicas are invalid for Scale.autoscaling and leave the object alone', () => {
  const d = deployment();
  const errs = applyScale(deployments, d, { metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: -1 } });
  assert.ok(errs);
  assert.equal(
    invalid(scaleGroupKind, 'web', errs).message,
    'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  assert.equal(d.spec.replicas, 3);
});

test('a Scale for another name is a bad request', () => {
  assert.throws(
    () => applyScale(deployments, deployment(), { metadata: { name: 'api' }, spec: { replicas: 1 } }),
    (err: unknown) =>
      err instanceof StatusError && err.code === 400 && err.message === 'the name of the object (api) does not match the name on the URL (web)',
  );
});

test('non-integer replicas fail to decode', () => {
  assert.throws(
    () => applyScale(deployments, deployment(), { spec: { replicas: 'three' as never } }),
    (err: unknown) =>
      err instanceof StatusError &&
      err.code === 400 &&
      err.message === 'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32',
  );
});

test('a kind without a scale subresource has no Scale', () => {
  const plain = defineResource<KubeObject>({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true });
  assert.throws(() => scaleFromObject(plain, deployment()), /no scale subresource/);
});
