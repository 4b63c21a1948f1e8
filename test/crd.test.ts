// End-to-end: CustomResourceDefinitions served at run time, driven by the real kubectl and by
// @kubernetes/client-node against a real apiserver and etcd. Uses the README's example
// (manifests/crontab-crd.yaml, manifests/crontab.yaml). The tests run in order and share the CRD.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, header, row, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok, fails } = kubectlHelpers(() => cluster);
let kc: k8s.KubeConfig;

const crdFile = fileURLToPath(new URL('../../manifests/crontab-crd.yaml', import.meta.url));
const crFile = fileURLToPath(new URL('../../manifests/crontab.yaml', import.meta.url));
const crdName = 'crontabs.stable.example.com';
const crontabs = '/apis/stable.example.com/v1/namespaces/default/crontabs';







function cronTab(name: string, spec: Record<string, unknown>, apiVersion = 'stable.example.com/v1'): string {
  return JSON.stringify({ apiVersion, kind: 'CronTab', metadata: { name, namespace: 'default' }, spec });
}

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
});
after(async () => {
  await cluster?.stop();
});

describe('CustomResourceDefinitions', () => {
  it('applies a CRD, waits for Established, and serves it in discovery', async () => {
    assert.match(await ok(['apply', '-f', crdFile]), /customresourcedefinition.apiextensions.k8s.io\/crontabs.stable.example.com created/);
    assert.match(await ok(['wait', '--for', 'condition=established', '--timeout=30s', `crd/${crdName}`]), /condition met/);
    const table = await ok(['get', 'crd']);
    assert.deepEqual(header(table), ['NAME', 'CREATED AT']);
    assert.match(row(table, crdName)[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const crd = JSON.parse(await ok(['get', 'crd', crdName, '-o', 'json']));
    assert.deepEqual(crd.status.acceptedNames, { kind: 'CronTab', listKind: 'CronTabList', plural: 'crontabs', shortNames: ['ct'], singular: 'crontab' });
    assert.deepEqual(crd.status.storedVersions, ['v1']);
    assert.deepEqual(
      crd.status.conditions.map((c: { type: string; status: string; reason: string }) => [c.type, c.status, c.reason]),
      [
        ['NamesAccepted', 'True', 'NoConflicts'],
        ['Established', 'True', 'InitialNamesAccepted'],
      ],
    );
    assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
    assert.deepEqual(row(await ok(['api-resources', '--api-group=stable.example.com']), 'crontabs'), ['crontabs', 'ct', 'stable.example.com/v1', 'true', 'CronTab']);
    const group = JSON.parse((await cluster.request('/apis/stable.example.com')).body);
    assert.deepEqual(group.preferredVersion, { groupVersion: 'stable.example.com/v1', version: 'v1' });
    assert.deepEqual(group.versions.map((v: { version: string }) => v.version), ['v1', 'v1beta1']);
    const resources = JSON.parse((await cluster.request('/apis/stable.example.com/v1')).body).resources;
    assert.deepEqual(resources.map((r: { name: string }) => r.name), ['crontabs', 'crontabs/scale', 'crontabs/status']);
  });

  it('creates custom resources with defaults and prints the printer columns', async () => {
    assert.match(await ok(['apply', '-f', crFile]), /crontab.stable.example.com\/nightly-report created/);
    const table = await ok(['get', 'crontabs']);
    assert.deepEqual(header(table), ['NAME', 'SCHEDULE', 'REPLICAS', 'LAST SCHEDULE', 'AGE']);
    assert.deepEqual(row(table, 'nightly-report').slice(0, 3), ['nightly-report', '0 3 * * *', '1']);
    assert.deepEqual(header(await ok(['get', 'ct', '-o', 'wide'])), ['NAME', 'SCHEDULE', 'REPLICAS', 'LAST SCHEDULE', 'AGE', 'IMAGE']);
    const obj = JSON.parse(await ok(['get', 'ct', 'nightly-report', '-o', 'json']));
    assert.deepEqual(obj.spec, { concurrencyPolicy: 'Allow', cronSpec: '0 3 * * *', image: 'busybox:1.36', replicas: 1 });
    assert.equal(obj.metadata.generation, 1);
    assert.equal(await ok(['get', 'crontab', 'nightly-report', '-o', 'jsonpath={.kind} {.apiVersion}']), 'CronTab stable.example.com/v1');
  });

  it('rejects an invalid custom resource with every failing field (422)', async () => {
    const bad = cronTab('bad', { cronSpec: 'every day', replicas: 'two', concurrencyPolicy: 'Sometimes' });
    const stderr = await fails(['create', '-f', '-'], bad);
    assert.match(stderr, /The CronTab "bad" is invalid:/);
    for (const line of [
      `spec.cronSpec: Invalid value: "every day": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.image: Required value',
    ]) {
      assert.ok(stderr.includes(line), `missing ${line} in:\n${stderr}`);
    }
    const r = await cluster.request(crontabs, { method: 'POST', body: bad });
    assert.equal(r.status, 422);
    const status = JSON.parse(r.body);
    assert.equal(status.reason, 'Invalid');
    // Properties are checked in the stored schema's (sorted) order, then required ones; the scale
    // subresource checks its replicas path as well.
    assert.deepEqual(status.details.causes.map((c: { field: string }) => c.field), ['spec.concurrencyPolicy', 'spec.cronSpec', 'spec.replicas', 'spec.image', '.spec.replicas']);
    assert.equal(status.details.causes[4].message, 'Invalid value: 0: .spec.replicas accessor error: two is of the type string, expected int64');
    const big = await fails(['create', '-f', '-'], cronTab('big', { cronSpec: '* * * * *', image: 'x', replicas: 11 }));
    assert.match(big, /spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10/);
  });

  it('prunes unknown fields, warns about them, or refuses them under Strict', async () => {
    const extra = cronTab('extra', { cronSpec: '* * * * *', image: 'x', foo: 1 });
    assert.match(await fails(['create', '-f', '-'], extra), /strict decoding error: unknown field "spec.foo"/);
    const warned = await k(['create', '-f', '-', '--validate=warn'], extra);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: unknown field "spec.foo"/);
    assert.equal((JSON.parse(await ok(['get', 'ct', 'extra', '-o', 'json'])).spec as Record<string, unknown>).foo, undefined);
    const strict = await cluster.request(`${crontabs}?fieldValidation=Strict`, {
      method: 'POST',
      body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'strict', bogus: 1 }, spec: { cronSpec: '* * * * *', image: 'x', b: 1, a: 2 } },
    });
    assert.equal(strict.status, 400);
    assert.equal(
      JSON.parse(strict.body).message,
      'CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.a", unknown field "spec.b", unknown field "metadata.bogus"',
    );
    const ignored = await cluster.request(`${crontabs}?fieldValidation=Ignore`, { method: 'POST', body: cronTab('ignored', { cronSpec: '* * * * *', image: 'x', foo: 1 }) });
    assert.equal(ignored.status, 201, ignored.body);
    assert.equal(JSON.parse(ignored.body).spec.foo, undefined);
  });

  it('serves the status and scale subresources', async () => {
    assert.match(
      await ok(['patch', 'ct', 'nightly-report', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":2,"labelSelector":"app=cron"}}']),
      /crontab.stable.example.com\/nightly-report patched/,
    );
    // The main resource never changes status.
    await ok(['patch', 'ct', 'nightly-report', '--type=merge', '-p', '{"status":{"replicas":9}}']);
    assert.equal(await ok(['get', 'ct', 'nightly-report', '-o', 'jsonpath={.status.replicas}']), '2');
    assert.match(await ok(['scale', 'crontab', 'nightly-report', '--replicas=3']), /crontab.stable.example.com\/nightly-report scaled/);
    const obj = JSON.parse(await ok(['get', 'ct', 'nightly-report', '-o', 'json']));
    assert.equal(obj.spec.replicas, 3);
    assert.equal(obj.metadata.generation, 2);
    const scale = JSON.parse((await cluster.request(`${crontabs}/nightly-report/scale`)).body);
    assert.equal(scale.kind, 'Scale');
    assert.deepEqual(scale.spec, { replicas: 3 });
    assert.deepEqual(scale.status, { replicas: 2, selector: 'app=cron' });
    assert.match(await fails(['scale', 'crontab', 'nightly-report', '--replicas=11']), /spec.replicas in body should be less than or equal to 10/);
  });

  it('takes JSON and merge patches and refuses strategic merge patches', async () => {
    assert.match(
      await fails(['patch', 'ct', 'nightly-report', '-p', '{"spec":{"image":"busybox:1.37"}}']),
      /application\/strategic-merge-patch\+json is not supported by stable.example.com\/v1, Kind=CronTab: the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/,
    );
    await ok(['patch', 'ct', 'nightly-report', '--type=json', '-p', '[{"op":"replace","path":"/spec/image","value":"busybox:1.37"}]']);
    await ok(['patch', 'ct', 'nightly-report', '--type=merge', '-p', '{"spec":{"concurrencyPolicy":"Forbid"}}']);
    const spec = JSON.parse(await ok(['get', 'ct', 'nightly-report', '-o', 'json'])).spec;
    assert.equal(spec.image, 'busybox:1.37');
    assert.equal(spec.concurrencyPolicy, 'Forbid');
  });

  it('updates a custom resource with client-side kubectl apply (merge patch, as its OpenAPI says)', async () => {
    const manifest = cronTab('applied', { cronSpec: '*/5 * * * *', image: 'busybox:1.36' });
    assert.match(await ok(['apply', '-f', '-'], manifest), /crontab.stable.example.com\/applied created/);
    assert.match(await ok(['apply', '-f', '-'], manifest), /crontab.stable.example.com\/applied unchanged/);
    assert.match(await ok(['apply', '-f', '-'], manifest.replace('busybox:1.36', 'busybox:1.37')), /crontab.stable.example.com\/applied configured/);
    assert.equal(await ok(['get', 'crontab', 'applied', '-o', 'jsonpath={.spec.image}']), 'busybox:1.37');
  });

  it('explains custom resources from their schema', async () => {
    const spec = await ok(['explain', 'crontab.spec']);
    assert.match(spec, /KIND:\s+CronTab/);
    assert.match(spec, /What to run and when\./);
    assert.match(spec, /cronSpec\s+<string> -required-/);
    assert.match(spec, /replicas\s+<integer>/);
    assert.match(await ok(['explain', 'crontab.spec.replicas']), /How many copies run at a time\./);
  });

  it('stores objects once, in the storage version, and serves them in both versions', async () => {
    const beta = cronTab('beta-made', { cronSpec: '*/5 * * * *', image: 'x' }, 'stable.example.com/v1beta1');
    assert.match(await ok(['create', '-f', '-'], beta), /crontab.stable.example.com\/beta-made created/);
    assert.equal(await ok(['get', 'crontabs.v1.stable.example.com', 'beta-made', '-o', 'jsonpath={.apiVersion}']), 'stable.example.com/v1');
    assert.equal(await ok(['get', 'crontabs.v1beta1.stable.example.com', 'nightly-report', '-o', 'jsonpath={.apiVersion}']), 'stable.example.com/v1beta1');
    // v1beta1 has no concurrencyPolicy: reading through it prunes what only v1 knows.
    const viaBeta = JSON.parse((await cluster.request('/apis/stable.example.com/v1beta1/namespaces/default/crontabs/nightly-report')).body);
    assert.equal(viaBeta.spec.concurrencyPolicy, undefined);
    const etcd = new Etcd3(cluster.etcdClientOptions);
    try {
      const stored = JSON.parse((await etcd.get('/registry/stable.example.com/crontabs/default/beta-made').string())!);
      assert.equal(stored.apiVersion, 'stable.example.com/v1');
    } finally {
      etcd.close();
    }
  });

  it('serves custom resources to client-node: create, get, list, patch, watch and delete', async () => {
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const ctl = await watch.watch(
      '/apis/stable.example.com/v1beta1/namespaces/default/crontabs',
      { resourceVersion: '0' },
      (type, obj) => events.push(`${type} ${obj.metadata.name} ${obj.apiVersion}`),
      () => undefined,
    );
    try {
      const made = await api.createNamespacedCustomObject({
        group: 'stable.example.com',
        version: 'v1',
        namespace: 'default',
        plural: 'crontabs',
        body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'from-node' }, spec: { cronSpec: '0 * * * *', image: 'x' } },
      });
      assert.equal(made.spec.replicas, 1);
      const got = await api.getNamespacedCustomObject({ group: 'stable.example.com', version: 'v1', namespace: 'default', plural: 'crontabs', name: 'from-node' });
      assert.equal(got.metadata.uid, made.metadata.uid);
      const list = await api.listNamespacedCustomObject({ group: 'stable.example.com', version: 'v1', namespace: 'default', plural: 'crontabs' });
      assert.equal(list.kind, 'CronTabList');
      assert.ok(list.items.some((i: { metadata: { name: string } }) => i.metadata.name === 'from-node'));
      await api.patchNamespacedCustomObject(
        { group: 'stable.example.com', version: 'v1', namespace: 'default', plural: 'crontabs', name: 'from-node', body: { spec: { replicas: 4 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await api.deleteNamespacedCustomObject({ group: 'stable.example.com', version: 'v1', namespace: 'default', plural: 'crontabs', name: 'from-node' });
      await until(() => events.includes('DELETED from-node stable.example.com/v1beta1'), 10_000, 'the DELETED event');
      assert.ok(events.includes('ADDED nightly-report stable.example.com/v1beta1'), events.join('\n'));
      assert.ok(events.includes('ADDED from-node stable.example.com/v1beta1'), events.join('\n'));
      assert.ok(events.includes('MODIFIED from-node stable.example.com/v1beta1'), events.join('\n'));
    } finally {
      ctl.abort();
    }
  });

  it('rejects a non-structural CRD and refuses names another CRD holds', async () => {
    const nonStructural = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.stable.example.com
spec:
  group: stable.example.com
  scope: Cluster
  names: {plural: gadgets, kind: Gadget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              properties:
                size: {type: integer}
`;
    const err = await fails(['apply', '-f', '-'], nonStructural);
    assert.match(err, /The CustomResourceDefinition "gadgets.stable.example.com" is invalid: spec.validation.openAPIV3Schema.properties\[spec\].type: Required value: must not be empty for specified object fields/);

    const clash = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crons.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crons, kind: CronTab, shortNames: [ct]}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
    await ok(['apply', '-f', '-'], clash);
    let cond: { status: string; reason: string; message: string } | undefined;
    await until(
      async () => {
        const c = JSON.parse(await ok(['get', 'crd', 'crons.stable.example.com', '-o', 'json']));
        cond = c.status?.conditions?.find((x: { type: string }) => x.type === 'NamesAccepted');
        return !!cond;
      },
      10_000,
      'NamesAccepted',
    );
    assert.equal(cond!.status, 'False');
    // Kind and listKind (defaulted to CronTabList) are both taken; the last conflict found is reported.
    assert.equal(cond!.reason, 'ListKindConflict');
    assert.equal(cond!.message, '"CronTabList" is already in use');
    assert.equal((await cluster.request('/apis/stable.example.com/v1/namespaces/default/crons')).status, 404);
    await ok(['delete', 'crd', 'crons.stable.example.com', '--timeout=30s']);
  });

  it('serves cluster-scoped custom resources', async () => {
    const widgets = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.stable.example.com
spec:
  group: stable.example.com
  scope: Cluster
  names: {plural: widgets, kind: Widget, categories: [gadgets]}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
    await ok(['apply', '-f', '-'], widgets);
    await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.stable.example.com']);
    assert.match(await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'stable.example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { any: { thing: 1 } } })), /widget.stable.example.com\/w1 created/);
    assert.deepEqual(header(await ok(['get', 'gadgets'])), ['NAME', 'AGE']);
    const w = JSON.parse((await cluster.request('/apis/stable.example.com/v1/widgets/w1')).body);
    assert.equal(w.metadata.namespace, undefined);
    assert.deepEqual(w.spec, { any: { thing: 1 } });
    assert.equal((await cluster.request('/apis/stable.example.com/v1/namespaces/default/widgets/w1')).status, 404);
    await ok(['delete', 'crd', 'widgets.stable.example.com', '--timeout=30s']);
  });

  it('deletes every custom resource with the CRD, then stops serving it', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] }, spec: { cronSpec: '* * * * *', image: 'x' } }));
    let watchEnded = false;
    const ctl = await new k8s.Watch(kc).watch(crontabs, {}, () => undefined, () => (watchEnded = true));
    await ok(['delete', 'crd', crdName, '--wait=false']);
    const terminating = JSON.parse(await ok(['get', 'crd', crdName, '-o', 'json']));
    assert.ok(terminating.metadata.deletionTimestamp);
    assert.deepEqual(terminating.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
    await until(() => k(['get', 'ct', 'nightly-report']).then((r) => r.code !== 0), 15_000, 'the other objects to go');
    const crd = JSON.parse(await ok(['get', 'crd', crdName, '-o', 'json']));
    const term = crd.status.conditions.find((c: { type: string }) => c.type === 'Terminating');
    assert.deepEqual([term.status, term.reason, term.message], ['True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress']);
    const refused = await cluster.request(crontabs, { method: 'POST', body: cronTab('late', { cronSpec: '* * * * *', image: 'x' }) });
    assert.equal(refused.status, 405);
    assert.equal(JSON.parse(refused.body).message, 'create not allowed while custom resource definition is terminating');
    // The object with a finalizer holds the CRD until its finalizer goes.
    assert.ok(JSON.parse(await ok(['get', 'ct', 'held', '-o', 'json'])).metadata.deletionTimestamp);
    await ok(['patch', 'ct', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await ok(['wait', '--for=delete', `crd/${crdName}`, '--timeout=30s']);
    assert.equal((await cluster.request(crontabs)).status, 404);
    // Open watches end with the resource.
    await until(() => watchEnded, 10_000, 'the watch to end');
    ctl.abort();
    assert.match(await fails(['get', 'crontabs.stable.example.com']), /the server doesn't have a resource type "crontabs"|NotFound/);
    // Created again, the CRD starts empty.
    await ok(['apply', '-f', crdFile]);
    await ok(['wait', '--for', 'condition=established', '--timeout=30s', `crd/${crdName}`]);
    assert.deepEqual(JSON.parse((await cluster.request(crontabs)).body).items, []);
  });

  it('serves custom resources again after an apiserver restart', async () => {
    await ok(['apply', '-f', crFile]);
    await cluster.restart('apiserver');
    assert.deepEqual(row(await ok(['get', 'ct']), 'nightly-report').slice(0, 3), ['nightly-report', '0 3 * * *', '1']);
    assert.match(await ok(['get', 'crd', crdName, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']), /^True$/);
  });
});
