// End-to-end: whole-object writes as kubectl makes them from files (replace, create --raw):
// resourceVersion "0" in a file, admission on update, and the texts of body decode errors.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
let scratch: string;
const { ok, fails } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  scratch = mkdtempSync(join(tmpdir(), 'skiff-replace-'));
});
after(async () => {
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
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
    // So is a patch that sets it.
    await ok(['patch', 'node', 'rv-zero', '--type=merge', '-p', '{"metadata":{"resourceVersion":"0","labels":{"step":"patched"}}}']);
    assert.equal(await ok(['get', 'node', 'rv-zero', '-o', 'jsonpath={.metadata.labels.step}']), 'patched');
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

describe('decode errors of request bodies', () => {
  const post = (path: string, body: string) => cluster.request(path, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });

  it('names the expected kind when the body is not JSON (kubectl create --raw with a YAML file)', async () => {
    const file = join(scratch, 'pod.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: raw\nspec:\n  containers: [{name: c, image: busybox}]\n');
    const err = await fails(['create', '--raw', '/api/v1/namespaces', '-f', file]);
    assert.match(err, /the object provided is unrecognized \(must be of type Namespace\): couldn't get version\/kind; json parse error: invalid character 'a' looking for beginning of value /);
    // The first 30 bytes, in hex as the body is no JSON object.
    assert.match(err, /\(61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 \.\.\.\)/);
  });

  it('answers a body of another kind as kube-apiserver does', async () => {
    let r = await post('/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }));
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, 'Pod in version "v1" cannot be handled as a Namespace: converting (v1.Pod) to (core.Namespace): unknown conversion');
    r = await post('/apis/apps/v1/namespaces/default/deployments', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Bogus', metadata: { name: 'd' } }));
    assert.equal(r.status, 400, r.body);
    assert.equal(
      JSON.parse(r.body).message,
      'Bogus in version "v1" cannot be handled as a Deployment: no kind "Bogus" is registered for version "apps/v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    );
    r = await post('/api/v1/namespaces', '["a"]');
    assert.equal(r.status, 400, r.body);
    assert.match(JSON.parse(r.body).message, /^the object provided is unrecognized \(must be of type Namespace\): couldn't get version\/kind; json parse error: json: cannot unmarshal array into Go value of type struct \{ APIVersion string .* \(5b2261225d\)$/);
  });
});
