// End-to-end: /openapi/v2, the Swagger 2.0 document, read by the real kubectl (which asks for it
// as gnostic protobuf for client-side validation) and by plain JSON clients, built from the same
// schemas as /openapi/v3 and following CustomResourceDefinitions as they come.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';
import { decodeOpenAPIV2, openAPIV2ProtobufType } from '../apiserver/openapi/v2proto.js';

let cluster: Cluster;
const { ok, fails } = kubectlHelpers(() => cluster);

const crdFile = fileURLToPath(new URL('../../manifests/crontab-crd.yaml', import.meta.url));

type JSONObject = Record<string, any>;

/** get fetches a path with the admin certificate and returns the raw bytes (request() reads text). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const url = new URL(path, cluster.server);
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      { headers, ca: readFileSync(cluster.caFile), cert: readFileSync(cluster.adminCert), key: readFileSync(cluster.adminKey) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

describe('/openapi/v2', () => {
  it('kubectl get --raw /openapi/v2 is a Swagger 2.0 document with the served kinds', async () => {
    const doc = JSON.parse(await ok(['get', '--raw', '/openapi/v2'])) as JSONObject;
    assert.equal(doc.swagger, '2.0');
    assert.deepEqual(doc.info, { title: 'Kubernetes', version: JSON.parse(await ok(['version', '-o', 'json'])).serverVersion.gitVersion });
    assert.deepEqual(doc.securityDefinitions.BearerToken, { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' });
    const pod = doc.definitions['io.k8s.api.core.v1.Pod'];
    assert.ok(pod, 'no Pod definition');
    assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.equal(pod.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(pod.properties.spec.$ref, '#/definitions/io.k8s.api.core.v1.PodSpec');
    assert.ok(doc.definitions['io.k8s.api.apps.v1.Deployment'], 'no Deployment definition');
    // Every reference resolves: kubectl's model parser refuses the whole document otherwise.
    const refs = JSON.stringify(doc).match(/"#\/definitions\/[^"]+"/g) ?? [];
    for (const r of new Set(refs)) assert.ok(doc.definitions[JSON.parse(r).slice('#/definitions/'.length)], `dangling ${r}`);
    assert.ok(!JSON.stringify(doc).includes('#/components/'), 'a v3 reference is left');

    const item = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    assert.equal(item.patch['x-kubernetes-action'], 'patch');
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
    assert.ok(item.patch.consumes.includes('application/strategic-merge-patch+json'));
    assert.ok(item.patch.parameters.some((p: JSONObject) => p.name === 'fieldValidation' && p.in === 'query' && p.type === 'string'));
    const body = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].post.parameters.find((p: JSONObject) => p.in === 'body');
    assert.deepEqual(body, { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.apps.v1.Deployment' } });
    assert.equal(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].get.responses['200'].schema.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentList');
  });

  it('kubectl client-side validation reports the unknown kind of a multi-document file as kube does', async () => {
    // How kubectl 1.32 gets here: --validate=true (Strict) first asks whether the server validates
    // fields for the kind. Its v3 verifier finds no /openapi/v3/apis/example.com/v1 and falls back
    // to the v2 verifier, which downloads /openapi/v2 as protobuf: Bogus has no PATCH operation
    // there, Namespace's lists fieldValidation, and Bogus is no CRD, so server-side validation is
    // unavailable and kubectl validates on the client against the v2 models (an unknown kind is
    // skipped). Only then does mapping the kind fail. With /openapi/v2 a 404, the download error
    // ends the command instead.
    const file = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before-bogus\n  namespace: default\ndata:\n  a: "1"\n',
      'apiVersion: example.com/v1\nkind: Bogus\nmetadata:\n  name: b\n  namespace: default\n',
    ].join('---\n');
    for (const args of [
      ['apply', '--validate=true', '-f', '-'],
      ['create', '--dry-run=client', '--validate=true', '-f', '-'],
    ]) {
      const err = await fails(args, file);
      assert.match(err, /no matches for kind "Bogus" in version "example\.com\/v1"/, `kubectl ${args.join(' ')}`);
      assert.doesNotMatch(err, /could not find the requested resource/);
    }
  });

  it('kubectl validates a List against the v2 definitions on the client', async () => {
    // kubectl never asks the server to validate a v1 List, so its items are checked against the
    // v2 document's models: an unknown field is caught before anything is sent.
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'listed', namespace: 'default' }, bogusField: 1 }],
    });
    const err = await fails(['apply', '--validate=true', '-f', '-'], list);
    assert.match(err, /unknown field "bogusField" in io\.k8s\.api\.core\.v1\.ConfigMap/);
    await fails(['get', 'configmap', 'listed', '-n', 'default']);
    await ok(['apply', '--validate=true', '-f', '-'], list.replace(',"bogusField":1', ''));
  });

  it('kubectl passes, on the client, a List of what the server itself returned', async () => {
    // No false rejections: every field the server writes (status, managedFields, quantities,
    // int-or-string ports, probes, affinity) is in the v2 models kubectl checks a List against.
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 2
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: 5}]
      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, values: [b]}]}]}}}
      containers:
      - name: c
        image: nginx
        ports: [{containerPort: 80, name: http}]
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 1, memory: 1Gi}}
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5}
        env: [{name: A, value: "1"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        volumeMounts: [{name: v, mountPath: /v}]
      volumes: [{name: v, emptyDir: {sizeLimit: 1Gi}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}], type: NodePort}
`;
    await ok(['apply', '-f', '-'], manifest);
    const list = await ok(['get', 'deployments,services,configmaps,serviceaccounts,namespaces,priorityclasses', '-A', '-o', 'yaml']);
    assert.match(list, /kind: List/);
    await ok(['create', '--dry-run=client', '--validate=true', '-f', '-'], list);
  });

  it('answers protobuf as kubectl asks for it, decoding to the same document, with ETags', async () => {
    const json = await get('/openapi/v2', { Accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.equal(json.headers['content-type'], 'application/json');
    const pb = await get('/openapi/v2', { Accept: openAPIV2ProtobufType });
    assert.equal(pb.status, 200);
    assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.deepEqual(decodeOpenAPIV2(pb.body), JSON.parse(json.body.toString('utf8')));

    const etag = String(json.headers.etag);
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    assert.notEqual(String(pb.headers.etag), etag, 'each encoding has its own ETag');
    const again = await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal((await get('/openapi/v2', { Accept: 'text/html' })).status, 406);
  });

  it('shows a CustomResourceDefinition added later, in JSON and protobuf', async () => {
    const before = await get('/openapi/v2', { Accept: 'application/json' });
    await ok(['apply', '-f', crdFile]);
    await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/crontabs.stable.example.com']);
    let doc: JSONObject = {};
    await until(
      async () => {
        doc = JSON.parse((await get('/openapi/v2', { Accept: 'application/json' })).body.toString('utf8'));
        return !!doc.definitions['com.example.stable.v1.CronTab'];
      },
      10_000,
      'the CronTab definition in /openapi/v2',
    );
    const cronTab = doc.definitions['com.example.stable.v1.CronTab'];
    assert.deepEqual(cronTab['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    assert.ok(cronTab.properties.spec, 'the CRD schema is carried');
    const collection = doc.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs'];
    assert.deepEqual(collection.post['x-kubernetes-group-version-kind'], { group: 'stable.example.com', kind: 'CronTab', version: 'v1' });
    // A stale ETag gets the new document, not a 304.
    assert.equal((await get('/openapi/v2', { Accept: 'application/json', 'If-None-Match': String(before.headers.etag) })).status, 200);
    const pb = decodeOpenAPIV2((await get('/openapi/v2', { Accept: openAPIV2ProtobufType })).body);
    assert.deepEqual(pb.definitions && (pb.definitions as JSONObject)['com.example.stable.v1.CronTab'], cronTab);

    // kubectl's client-side validation now knows the kind: a List of CronTabs is checked against its schema.
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c1', namespace: 'default' }, spec: { cronSpec: '* * * * */5', image: 'x' }, bogus: true }],
    });
    assert.match(await fails(['apply', '--validate=true', '-f', '-'], list), /unknown field "bogus" in com\.example\.stable\.v1\.CronTab/);
  });
});
