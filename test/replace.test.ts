// End-to-end: whole-object writes as kubectl makes them from files (replace, create --raw):
// resourceVersion "0" in a file, admission on update, and the texts of body decode errors.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { ok, fails } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

const node = (labels: string) => `apiVersion: v1
kind: Node
metadata:
  name: rv-zero
  resourceVersion: "0"
  labels: {${labels}}
`;

describe('kubectl replace of a pod from its own file', () => {
  it('succeeds: DefaultTolerationSeconds adds its tolerations on update too', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: same-file, namespace: default, labels: {v: "1"}}
spec:
  containers: [{name: c, image: busybox:1.36}]
`;
    await ok(['create', '--save-config', '-f', '-'], pod);
    assert.match(await ok(['replace', '--save-config', '-f', '-'], pod.replace('v: "1"', 'v: "2"')), /pod\/same-file replaced/);
    assert.equal(await ok(['get', 'pod', 'same-file', '-o', 'jsonpath={.metadata.labels.v}']), '2');
    assert.equal(
      await ok(['get', 'pod', 'same-file', '-o', 'jsonpath={range .spec.tolerations[*]}{.key}={.tolerationSeconds} {end}']),
      'node.kubernetes.io/not-ready=300 node.kubernetes.io/unreachable=300 ',
    );
  });
});

describe('resourceVersion "0" in a body', () => {
  it('creates, and replaces unconditionally, with and without --dry-run=server', async () => {
    // "0" is the versioner's "no version": a create takes it, an update is unconditional.
    assert.match(await ok(['create', '-f', '-'], node('step: one')), /node\/rv-zero created/);
    assert.match(await ok(['replace', '--dry-run=server', '-f', '-'], node('step: two')), /node\/rv-zero replaced \(server dry run\)/);
    assert.equal(await ok(['get', 'node', 'rv-zero', '-o', 'jsonpath={.metadata.labels.step}']), 'one');
    assert.match(await ok(['replace', '-f', '-'], node('step: three')), /node\/rv-zero replaced/);
    assert.equal(await ok(['get', 'node', 'rv-zero', '-o', 'jsonpath={.metadata.labels.step}']), 'three');
    // A stale version is still a conflict.
    const stale = node('step: four').replace('resourceVersion: "0"', 'resourceVersion: "1"');
    assert.match(await fails(['replace', '-f', '-'], stale), /Operation cannot be fulfilled on nodes "rv-zero": the object has been modified/);
  });

  it('is refused for custom resources, whose strategy allows no unconditional update', async () => {
    await ok(['apply', '-f', '-'], `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`);
    await ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
    await ok(['create', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nsize: 1\n');
    for (const rv of [undefined, '0']) {
      const r = await cluster.request('/apis/example.com/v1/namespaces/default/widgets/w', {
        method: 'PUT',
        body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', resourceVersion: rv }, size: 2 },
      });
      assert.equal(r.status, 422, r.body);
      assert.equal(JSON.parse(r.body).message, 'widgets.example.com "w" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update');
    }
    assert.equal(await ok(['get', 'widget', 'w', '-o', 'jsonpath={.size}']), '1');
  });
});
