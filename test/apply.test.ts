// End-to-end: server-side apply and managedFields with the real kubectl and @kubernetes/client-node.
// Each assertion is on what a user sees: kubectl's printed output and errors, and the objects and
// Status bodies the API returns.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok, fails } = kubectlHelpers(() => cluster);
let kc: k8s.KubeConfig;

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
});
after(async () => {
  await cluster?.stop();
});




async function getJSON(kind: string, name: string, ns: string): Promise<any> {
  return JSON.parse(await ok(['get', kind, name, '-n', ns, '-o', 'json', '--show-managed-fields']));
}

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, any>;
  subresource?: string;
}

function managers(obj: any): string[] {
  return (obj.metadata.managedFields as Entry[]).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);
}

function entry(obj: any, manager: string, operation?: string): Entry {
  const e = (obj.metadata.managedFields as Entry[] | undefined)?.find((x) => x.manager === manager && (!operation || x.operation === operation));
  assert.ok(e, `no ${manager} entry in ${JSON.stringify(obj.metadata.managedFields, null, 1)}`);
  return e;
}

function deployment(ns: string, name: string, replicas: number, opts: { image?: string; env?: boolean; extraLabel?: boolean } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
    app: ${name}${opts.extraLabel ? '\n    tier: front' : ''}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${opts.image ?? 'nginx:1.25'}
        ports:
        - containerPort: 80${opts.env ? '\n        env:\n        - name: MODE\n          value: fast' : ''}
`;
}

describe('managedFields on ordinary writes', () => {
  before(async () => {
    await ok(['create', 'namespace', 'mf']);
  });

  it('records creates and edits per manager, with Kubernetes\' FieldsV1 encoding', async () => {
    await ok(['create', 'configmap', 'settings', '-n', 'mf', '--from-literal=color=blue', '--from-literal=size=m']);
    await ok(['label', 'configmap', 'settings', '-n', 'mf', 'team=a']);
    await ok(['patch', 'configmap', 'settings', '-n', 'mf', '--type=merge', '-p', '{"data":{"color":"red"}}']);
    const cm = await getJSON('configmap', 'settings', 'mf');
    assert.deepEqual(managers(cm), ['kubectl-create/Update', 'kubectl-label/Update', 'kubectl-patch/Update']);
    const create = entry(cm, 'kubectl-create');
    assert.equal(create.apiVersion, 'v1');
    assert.equal(create.fieldsType, 'FieldsV1');
    assert.match(create.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // color moved to the patcher; the creator keeps the map itself and size.
    assert.deepEqual(create.fieldsV1, { 'f:data': { '.': {}, 'f:size': {} } });
    assert.deepEqual(entry(cm, 'kubectl-label').fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } } });
    assert.deepEqual(entry(cm, 'kubectl-patch').fieldsV1, { 'f:data': { 'f:color': {} } });
  });

  it('hides managedFields from get -o yaml unless --show-managed-fields', async () => {
    assert.doesNotMatch(await ok(['get', 'configmap', 'settings', '-n', 'mf', '-o', 'yaml']), /managedFields/);
    const shown = await ok(['get', 'configmap', 'settings', '-n', 'mf', '-o', 'yaml', '--show-managed-fields']);
    assert.match(shown, /managedFields:\n  - apiVersion: v1\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:data:\n        \.: \{\}\n        f:size: \{\}\n    manager: kubectl-create\n    operation: Update\n/);
  });

  it('records client-side apply of a Deployment as kube-apiserver does', async () => {
    await ok(['apply', '-f', '-'], deployment('mf', 'csa', 2));
    const d = await getJSON('deployment', 'csa', 'mf');
    assert.deepEqual(managers(d), ['kubectl-client-side-apply/Update']);
    const f = entry(d, 'kubectl-client-side-apply').fieldsV1;
    assert.deepEqual(f['f:metadata'], { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {} } });
    assert.deepEqual(f['f:spec']['f:strategy'], { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} });
    assert.deepEqual(f['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:ports'], {
      '.': {},
      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
    });
  });
});

describe('kubectl apply --server-side', () => {
  before(async () => {
    await ok(['create', 'namespace', 'ssa']);
  });

  it('creates, then updates, owning exactly the applied fields', async () => {
    assert.match(await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 2)), /deployment.apps\/web serverside-applied/);
    let d = await getJSON('deployment', 'web', 'ssa');
    assert.deepEqual(managers(d), ['kubectl/Apply']);
    assert.deepEqual(entry(d, 'kubectl').fieldsV1, {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } },
            },
          },
        },
      },
    });
    // Defaults are there, owned by nobody.
    assert.equal(d.spec.template.spec.containers[0].terminationMessagePath, '/dev/termination-log');

    await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 3, { image: 'nginx:1.26', env: true }));
    d = await getJSON('deployment', 'web', 'ssa');
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'fast' }]);
    assert.equal(d.metadata.generation, 2);
    assert.deepEqual(entry(d, 'kubectl').fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:env'], {
      'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} },
    });
  });

  it('does not write an unchanged configuration again', async () => {
    const before = await getJSON('deployment', 'web', 'ssa');
    await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 3, { image: 'nginx:1.26', env: true }));
    const after = await getJSON('deployment', 'web', 'ssa');
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it('reports a conflict with the manager that changed a field, and --force-conflicts takes it', async () => {
    assert.match(await ok(['scale', 'deployment', 'web', '-n', 'ssa', '--replicas=5']), /scaled/);
    let d = await getJSON('deployment', 'web', 'ssa');
    assert.deepEqual(entry(d, 'kubectl', 'Update').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.equal(entry(d, 'kubectl', 'Update').subresource, 'scale');

    const err = await fails(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 4, { image: 'nginx:1.26', env: true }));
    assert.match(err, /^error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas\nPlease review the fields above--they currently have other managers/);
    assert.equal((await getJSON('deployment', 'web', 'ssa')).spec.replicas, 5);

    await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], deployment('ssa', 'web', 4, { image: 'nginx:1.26', env: true }));
    d = await getJSON('deployment', 'web', 'ssa');
    assert.equal(d.spec.replicas, 4);
    assert.deepEqual(managers(d), ['kubectl/Apply']);
  });

  it('names another applier\'s conflict by its field manager', async () => {
    const err = await fails(['apply', '--server-side', '--field-manager=rollout-bot', '-f', '-'], deployment('ssa', 'web', 1, { image: 'nginx:1.27', env: true }));
    assert.match(err, /^error: Apply failed with 2 conflicts: conflicts with "kubectl":\n- \.spec\.replicas\n- \.spec\.template\.spec\.containers\[name="web"\]\.image\n/);
  });

  it('removes a field no longer applied, and keeps one another manager also owns', async () => {
    await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 4, { image: 'nginx:1.26', env: true, extraLabel: true }));
    assert.equal((await getJSON('deployment', 'web', 'ssa')).metadata.labels.tier, 'front');
    // env and the tier label are gone from the configuration, so they go from the object.
    await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 4, { image: 'nginx:1.26' }));
    let d = await getJSON('deployment', 'web', 'ssa');
    assert.equal(d.spec.template.spec.containers[0].env, undefined);
    assert.deepEqual(d.metadata.labels, { app: 'web' });

    // A label both this applier and another manager applied stays when this applier drops it.
    await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 4, { image: 'nginx:1.26', extraLabel: true }));
    await ok(['apply', '--server-side', '--field-manager=labeler', '-f', '-'], 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ssa\n  labels: {tier: front}\n');
    await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'web', 4, { image: 'nginx:1.26' }));
    d = await getJSON('deployment', 'web', 'ssa');
    assert.equal(d.metadata.labels.tier, 'front');
    assert.deepEqual(entry(d, 'labeler').fieldsV1, { 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    assert.deepEqual(entry(d, 'kubectl').fieldsV1['f:metadata'], { 'f:labels': { 'f:app': {} } });
  });

  it('dry-runs on the server without storing anything', async () => {
    const before = await getJSON('deployment', 'web', 'ssa');
    const out = await ok(['apply', '--server-side', '--dry-run=server', '-f', '-', '-o', 'json'], deployment('ssa', 'web', 9, { image: 'nginx:1.26' }));
    assert.equal(JSON.parse(out).spec.replicas, 9);
    const after = await getJSON('deployment', 'web', 'ssa');
    assert.equal(after.spec.replicas, 4);
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
    // A dry-run create stores nothing either.
    await ok(['apply', '--server-side', '--dry-run=server', '-f', '-'], deployment('ssa', 'ghost', 1));
    assert.match(await fails(['get', 'deployment', 'ghost', '-n', 'ssa']), /NotFound/);
  });

  it('upgrades an object created with client-side apply without conflicts, as kubectl migrates it', async () => {
    await ok(['apply', '-f', '-'], deployment('ssa', 'legacy', 2));
    // Even with a changed replica count: kubectl's own last-applied configuration set the old value.
    assert.match(await ok(['apply', '--server-side', '-f', '-'], deployment('ssa', 'legacy', 3)), /serverside-applied/);
    const d = await getJSON('deployment', 'legacy', 'ssa');
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(managers(d), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
    // The client-side manager's fields were merged into kubectl's and then trimmed to the configuration.
    assert.deepEqual(entry(d, 'kubectl').fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}'], {
      '.': {},
      'f:image': {},
      'f:name': {},
      'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
    });
    // The last-applied annotation follows the server-side configuration.
    const last = JSON.parse(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    assert.equal(last.spec.replicas, 3);
    // And the next client-side apply still works from it.
    await ok(['apply', '-f', '-'], deployment('ssa', 'legacy', 4));
    assert.equal((await getJSON('deployment', 'legacy', 'ssa')).spec.replicas, 4);
  });

  it('reports a conflict with the client-side applier to another field manager', async () => {
    await ok(['apply', '-f', '-'], deployment('ssa', 'csa-owned', 2));
    const err = await fails(['apply', '--server-side', '--field-manager=other', '-f', '-'], deployment('ssa', 'csa-owned', 3));
    assert.match(err, /^error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps\/v1: \.spec\.replicas\n/);
  });
});

describe('server-side apply of custom resources', () => {
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.apply.example.com
spec:
  group: apply.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              hosts:
                type: array
                items: {type: string}
`;
  const widget = (spec: string) => `apiVersion: apply.example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\nspec:\n${spec}`;

  before(async () => {
    await ok(['apply', '--server-side', '-f', '-'], crd);
    await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.apply.example.com']);
  });

  it('merges list-map items by key and replaces untyped lists whole, as the CRD schema says', async () => {
    await ok(['apply', '--server-side', '--field-manager=a', '-f', '-'], widget('  ports: [{name: http, port: 80}]\n  hosts: [a.example]\n'));
    await ok(['apply', '--server-side', '--field-manager=b', '-f', '-'], widget('  ports: [{name: metrics, port: 9090}]\n'));
    const w = await getJSON('widget', 'w', 'default');
    assert.deepEqual(w.spec.ports, [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }]);
    assert.deepEqual(entry(w, 'a').fieldsV1, { 'f:spec': { 'f:hosts': {}, 'f:ports': { 'k:{"name":"http"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    assert.deepEqual(entry(w, 'b').fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"name":"metrics"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    // hosts has no list type: atomic, so another value is a conflict on the whole list.
    const err = await fails(['apply', '--server-side', '--field-manager=b', '-f', '-'], widget('  hosts: [b.example]\n'));
    assert.match(err, /^error: Apply failed with 1 conflict: conflict with "a": \.spec\.hosts\n/);
  });
});

describe('server-side apply through the API', () => {
  it('serves PATCH application/apply-patch+yaml from client-node, with create, 409 and force', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'default' }, data: { a: '1' } };
    const created = await core.patchNamespacedConfigMap({ name: 'applied', namespace: 'default', body, fieldManager: 'node-client' }, apply);
    assert.deepEqual(created.data, { a: '1' });
    assert.equal(created.metadata?.managedFields?.[0].manager, 'node-client');
    assert.equal(created.metadata?.managedFields?.[0].operation, 'Apply');

    await assert.rejects(
      core.patchNamespacedConfigMap({ name: 'applied', namespace: 'default', body: { ...body, data: { a: '2' } }, fieldManager: 'someone-else' }, apply),
      (err: any) => {
        assert.equal(err.code, 409);
        const status = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
        assert.equal(status.reason, 'Conflict');
        assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "node-client": .data.a');
        assert.deepEqual(status.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "node-client"', field: '.data.a' }]);
        return true;
      },
    );
    const forced = await core.patchNamespacedConfigMap({ name: 'applied', namespace: 'default', body: { ...body, data: { a: '2' } }, fieldManager: 'someone-else', force: true }, apply);
    assert.deepEqual(forced.data, { a: '2' });
    assert.deepEqual(forced.metadata?.managedFields?.map((e) => e.manager), ['someone-else']);
  });

  it('answers as kube-apiserver to apply requests it must refuse', async () => {
    const yamlBody = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: refused\n';
    const noManager = await cluster.request('/api/v1/namespaces/default/configmaps/refused', { method: 'PATCH', body: yamlBody, headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(noManager.status, 422);
    assert.equal(JSON.parse(noManager.body).message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');

    const created = await cluster.request('/api/v1/namespaces/default/configmaps/refused?fieldManager=raw', { method: 'PATCH', body: yamlBody, headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(created.status, 201);

    const unknown = await cluster.request('/api/v1/namespaces/default/configmaps/refused?fieldManager=raw', {
      method: 'PATCH',
      body: `${yamlBody}spec: {}\n`,
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
    });
    assert.equal(unknown.status, 400);
    assert.equal(JSON.parse(unknown.body).message, 'failed to create typed patch object (/refused; /v1, Kind=ConfigMap): .spec: field not declared in schema');

    const forceOnMerge = await cluster.request('/api/v1/namespaces/default/configmaps/refused?force=true', { method: 'PATCH', body: '{}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(forceOnMerge.status, 422);
    assert.equal(JSON.parse(forceOnMerge.body).message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');

    const wrongName = await cluster.request('/api/v1/namespaces/default/configmaps/other?fieldManager=raw', { method: 'PATCH', body: yamlBody, headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(wrongName.status, 400);
    assert.equal(JSON.parse(wrongName.body).message, 'the name of the object (refused) does not match the name on the URL (other)');
  });

  it('applies to /status as its own subresource manager', async () => {
    await ok(['apply', '--server-side', '-f', '-'], deployment('default', 'statusful', 1));
    const r = await cluster.request('/apis/apps/v1/namespaces/default/deployments/statusful/status?fieldManager=ctrl', {
      method: 'PATCH',
      body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'statusful', namespace: 'default' }, spec: { replicas: 7 }, status: { observedGeneration: 1, replicas: 1 } }),
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
    });
    assert.equal(r.status, 200, r.body);
    const d = JSON.parse(r.body);
    assert.equal(d.spec.replicas, 1, 'a status apply changes status only');
    assert.equal(d.status.replicas, 1);
    const e = entry(d, 'ctrl');
    assert.equal(e.subresource, 'status');
    assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:observedGeneration': {}, 'f:replicas': {} } });
  });
});
