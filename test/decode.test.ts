// End-to-end: what a client sends is decoded as kube-apiserver decodes it. Keys that name a
// prototype (`__proto__`, `constructor`, `prototype`) are ordinary unknown fields in every body,
// patch type and apply, and values of the wrong type are refused with the decoder's text before
// anything is stored (issue 9, defects 2 and 6, and the apply part of 7).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster, type RequestResult } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok, fails } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

const ns = '/api/v1/namespaces/default';

function status(r: RequestResult): { code: number; reason: string; message: string; details?: { causes?: { field?: string; message?: string }[] } } {
  const s = JSON.parse(r.body);
  assert.equal(s.kind, 'Status', r.body);
  return s;
}

async function patch(path: string, type: string, body: unknown, query = ''): Promise<RequestResult> {
  return cluster.request(`${path}${query}`, { method: 'PATCH', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': type } });
}

/** alive proves the apiserver still serves reads and writes normally after an attack. */
async function alive(): Promise<void> {
  const name = `alive-${Math.random().toString(36).slice(2, 8)}`;
  const created = await cluster.request(`${ns}/configmaps`, { method: 'POST', body: { metadata: { name }, data: { a: 'b' } } });
  assert.equal(created.status, 201, created.body);
  const cm = JSON.parse(created.body);
  assert.equal(cm.polluted, undefined);
  assert.deepEqual(Object.keys(cm.metadata).includes('polluted'), false);
  const list = await cluster.request(`${ns}/configmaps`);
  assert.equal(list.status, 200, list.body);
  assert.equal((await cluster.request(`${ns}/configmaps/${name}`, { method: 'DELETE' })).status, 200);
}

describe('keys that name a prototype', () => {
  it('kubectl patch with metadata.__proto__ (strategic merge) leaves the apiserver and the object intact', async () => {
    // (No controller manager runs here to create `default`.)
    await ok(['create', 'sa', 'victim']);
    // The key is an unknown field, as in Kubernetes: reported (as a warning or, under Strict, an
    // error), and never stored.
    const r = await k(['patch', 'sa', 'victim', '-p', '{"metadata":{"__proto__":{"polluted":"yes"}}}']);
    assert.match(r.stderr, /unknown field "metadata.__proto__"/);
    const strict = await patch(`${ns}/serviceaccounts/victim`, 'application/strategic-merge-patch+json', '{"metadata":{"__proto__":{"polluted":"yes"}}}', '?fieldValidation=Strict');
    assert.equal(strict.status, 422, strict.body);
    assert.match(status(strict).message, /strict decoding error: unknown field "metadata.__proto__"/);
    await alive();
    await alive();
    // The patch applies, and the unknown field is dropped.
    await ok(['patch', 'sa', 'victim', '-p', '{"metadata":{"__proto__":{"polluted":"yes"},"labels":{"a":"b"}}}']);
    assert.equal(await ok(['get', 'sa', 'victim', '-o', 'jsonpath={.metadata}']).then((m) => Object.keys(JSON.parse(m)).includes('__proto__')), false);
    assert.equal(await ok(['get', 'sa', 'victim', '-o', 'jsonpath={.metadata.labels}']), '{"a":"b"}');
    await alive();
  });

  const attacks: [string, string, unknown][] = [
    ['strategic merge', 'application/strategic-merge-patch+json', '{"metadata":{"__proto__":{"polluted":"yes"},"labels":{"a":"b"}}}'],
    ['strategic merge at the root', 'application/strategic-merge-patch+json', '{"__proto__":{"polluted":"yes"},"metadata":{"labels":{"a":"b"}}}'],
    ['merge', 'application/merge-patch+json', '{"metadata":{"__proto__":{"polluted":"yes"},"labels":{"a":"b"}}}'],
    ['merge with constructor.prototype', 'application/merge-patch+json', '{"metadata":{"constructor":{"prototype":{"polluted":"yes"}},"labels":{"a":"b"}}}'],
    ['JSON patch', 'application/json-patch+json', [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }, { op: 'add', path: '/metadata/__proto__', value: { polluted: 'yes' } }]],
    ['JSON patch through constructor', 'application/json-patch+json', [{ op: 'copy', from: '/metadata/constructor', path: '/metadata/labels' }]],
    ['apply', 'application/apply-patch+yaml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: proto\n  labels: {a: b}\n  __proto__: {polluted: "yes"}\n'],
  ];
  for (const [what, type, body] of attacks) {
    it(`${what}: no 5xx, the process lives, the stored object is clean`, async () => {
      const created = await cluster.request(`${ns}/serviceaccounts`, { method: 'POST', body: { metadata: { name: 'proto' } } });
      assert.equal(created.status, 201, created.body);
      try {
        const r = await patch(`${ns}/serviceaccounts/proto`, type, body, '?fieldValidation=Ignore&fieldManager=t');
        assert.ok(r.status < 500, `${r.status} ${r.body}`);
        if (r.status >= 400) status(r);
        const got = await cluster.request(`${ns}/serviceaccounts/proto`);
        assert.equal(got.status, 200, got.body);
        const sa = JSON.parse(got.body);
        assert.equal(Object.hasOwn(sa.metadata, '__proto__'), false, got.body);
        assert.equal(Object.hasOwn(sa.metadata, 'constructor'), false, got.body);
        if (r.status === 200) assert.deepEqual(sa.metadata.labels, { a: 'b' });
        await alive();
      } finally {
        await cluster.request(`${ns}/serviceaccounts/proto`, { method: 'DELETE' });
      }
    });
  }

  it('a created body with __proto__ keys is stored without them; a ConfigMap key named __proto__ is an ordinary key', async () => {
    const r = await cluster.request(`${ns}/configmaps?fieldValidation=Ignore`, {
      method: 'POST',
      body: '{"metadata":{"name":"proto-cm","__proto__":{"polluted":"yes"}},"data":{"__proto__":"x","constructor":"y"},"__proto__":{"polluted":"yes"}}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 201, r.body);
    const got = JSON.parse((await cluster.request(`${ns}/configmaps/proto-cm`)).body);
    assert.equal(Object.hasOwn(got, '__proto__'), false);
    assert.equal(Object.hasOwn(got.metadata, '__proto__'), false);
    assert.equal(JSON.stringify(got.data), '{"__proto__":"x","constructor":"y"}');
    await alive();
  });
});

describe('values of the wrong type', () => {
  for (const data of [-1, 1.5, true, '"abc"']) {
    it(`POST of a Secret with data: ${String(data)} answers 400 with the decoder's text`, async () => {
      const r = await cluster.request(`${ns}/secrets`, {
        method: 'POST',
        body: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"bad"},"data":${String(data)}}`,
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 400, r.body);
      const s = status(r);
      assert.equal(s.reason, 'BadRequest');
      const kind = typeof data === 'number' ? 'number' : typeof data === 'boolean' ? 'bool' : 'string';
      assert.equal(s.message, `Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal ${kind} into Go struct field Secret.data of type map[string][]uint8`);
    });
  }

  it('a string for an int field, a fraction for an int32, an object for a string are refused', async () => {
    const dep = (replicas: string) =>
      `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":${replicas},"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`;
    const post = (body: string) => cluster.request('/apis/apps/v1/namespaces/default/deployments', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    let r = await post(dep('"3"'));
    assert.equal(r.status, 400, r.body);
    assert.equal(status(r).message, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    // The decoder's error comes before strict field validation's, as in kube-apiserver.
    r = await cluster.request('/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', { method: 'POST', body: dep('"3"').replace('"spec":{', '"spec":{"bogus":1,'), headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32$/);
    r = await post(dep('1.5'));
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32$/);
    r = await post(dep('3').replace('"name":"c"', '"name":{"x":1}'));
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /json: cannot unmarshal object into Go struct field Container.spec.template.spec.containers.name of type string$/);
    r = await post(dep('3').replace('"containers":[{"name":"c","image":"i"}]', '"containers":{"name":"c"}'));
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type \[\]v1.Container$/);
    r = await post(dep('3').replace('"matchLabels":{"a":"b"}', '"matchLabels":{"a":1}'));
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /json: cannot unmarshal number into Go struct field LabelSelector.spec.selector.matchLabels of type string$/);
    // null is no value, as in Go: the field is simply absent.
    r = await post(dep('null'));
    assert.equal(r.status, 201, r.body);
    assert.equal(JSON.parse(r.body).spec.replicas, 1);
    assert.equal((await cluster.request('/apis/apps/v1/namespaces/default/deployments/d', { method: 'DELETE' })).status, 200);
  });

  it('kubectl patch of labels with a string is refused, for every patch type, and nothing is stored', async () => {
    await ok(['run', 'p', '--image=nginx', '--labels=app=p']);
    const err = await fails(['patch', 'pod', 'p', '-p', '{"metadata":{"labels":"invalid"}}']);
    assert.match(err, /cannot restore map from string/);
    const merge = await patch(`${ns}/pods/p`, 'application/merge-patch+json', { metadata: { labels: 'invalid' } });
    assert.equal(merge.status, 422, merge.body);
    assert.match(status(merge).message, /json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map\[string\]string/);
    const json = await patch(`${ns}/pods/p`, 'application/json-patch+json', [{ op: 'replace', path: '/metadata/labels', value: 7 }]);
    assert.equal(json.status, 422, json.body);
    assert.match(status(json).message, /json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type map\[string\]string/);
    const smp = await patch(`${ns}/pods/p`, 'application/strategic-merge-patch+json', { spec: { activeDeadlineSeconds: 'x' } });
    assert.equal(smp.status, 422, smp.body);
    assert.match(status(smp).message, /patch: Invalid value: "map\[spec:map\[activeDeadlineSeconds:x\]\]": cannot convert string to int64/);
    assert.equal(await ok(['get', 'pod', 'p', '-o', 'jsonpath={.metadata.labels}']), '{"app":"p"}');
  });

  it('DeleteOptions of the wrong shape are refused, and nothing of them reaches the object', async () => {
    assert.equal((await cluster.request(`${ns}/configmaps`, { method: 'POST', body: { metadata: { name: 'del', finalizers: ['x/y'] } } })).status, 201);
    const r = await cluster.request(`${ns}/configmaps/del`, { method: 'DELETE', body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 'x' } });
    assert.equal(r.status, 400, r.body);
    assert.equal(status(r).message, 'DeleteOptions in version "v1" cannot be handled as a DeleteOptions: json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64');
    const got = JSON.parse((await cluster.request(`${ns}/configmaps/del`)).body);
    assert.equal(got.metadata.deletionTimestamp, undefined);
    await patch(`${ns}/configmaps/del`, 'application/merge-patch+json', { metadata: { finalizers: null } });
    assert.equal((await cluster.request(`${ns}/configmaps/del`, { method: 'DELETE' })).status, 200);
  });

  it('server-side apply of a wrong type answers 400, not 500', async () => {
    const r = await patch(`${ns}/configmaps/applied`, 'application/apply-patch+yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata: 5\n', '?fieldManager=t');
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /^failed to create typed patch object \(\/applied; \/v1, Kind=ConfigMap\): \.data: /);
  });

  it('every stored object still decodes: client-node lists pods, secrets and service accounts', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.listNamespacedPod({ namespace: 'default' });
    await core.listNamespacedSecret({ namespace: 'default' });
    const sas = await core.listNamespacedServiceAccount({ namespace: 'default' });
    assert.ok(sas.items.some((s) => s.metadata?.name === 'victim'));
  });
});

describe('custom resources', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.decode.example.com' },
    spec: {
      group: 'decode.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: { size: { type: 'integer', default: 1 }, free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              },
            },
          },
        },
      ],
    },
  };
  const widgets = '/apis/decode.example.com/v1/namespaces/default/widgets';

  it('prunes prototype keys from a custom resource in every write, and refuses metadata of the wrong type', async () => {
    assert.equal((await cluster.request('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: crd })).status, 201);
    await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.decode.example.com']);
    const body = '{"apiVersion":"decode.example.com/v1","kind":"Widget","metadata":{"name":"w","__proto__":{"polluted":"yes"}},"spec":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"free":{"__proto__":"kept"}}}';
    let r = await cluster.request(`${widgets}?fieldValidation=Ignore`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 201, r.body);
    r = await patch(`${widgets}/w`, 'application/merge-patch+json', '{"spec":{"__proto__":{"size":5},"size":2}}', '?fieldValidation=Ignore');
    assert.equal(r.status, 200, r.body);
    r = await patch(`${widgets}/w`, 'application/apply-patch+yaml', 'apiVersion: decode.example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  __proto__: {size: 7}\n  size: 3\n', '?fieldManager=t&force=true');
    // Apply types the configuration before merging: the key is not in the schema.
    assert.equal(r.status, 400, r.body);
    assert.match(status(r).message, /\.spec\.__proto__: field not declared in schema/);
    const w = JSON.parse((await cluster.request(`${widgets}/w`)).body);
    assert.equal(JSON.stringify(w.spec), '{"free":{"__proto__":"kept"},"size":2}');
    assert.equal(Object.hasOwn(w.metadata, '__proto__'), false);
    r = await patch(`${widgets}/w`, 'application/merge-patch+json', '{"metadata":{"labels":"invalid"}}');
    assert.equal(r.status, 422, r.body);
    assert.match(status(r).message, /cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map\[string\]string/);
    await alive();
  });
});

describe('every field with every wrong type', () => {
  // A small fuzz: each field of a valid object (at every depth) replaced by a value of each JSON
  // type. The apiserver may accept or refuse, never fail; what it accepts must read back through
  // client-node's typed lists.
  const samples: [string, Record<string, unknown>][] = [
    [`${ns}/pods`, { metadata: { name: 'f', labels: { a: 'b' }, annotations: { c: 'd' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '1m' } }, env: [{ name: 'A', value: 'B' }] }], nodeSelector: { n: 'm' }, terminationGracePeriodSeconds: 0 } }],
    [`${ns}/secrets`, { metadata: { name: 'f' }, type: 'Opaque', data: { a: 'YWJj' }, stringData: { b: 'c' } }],
    [`${ns}/services`, { metadata: { name: 'f' }, spec: { selector: { a: 'b' }, ports: [{ port: 80, targetPort: 8080 }] } }],
    ['/apis/apps/v1/namespaces/default/deployments', { metadata: { name: 'f' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
  ];
  const wrong: unknown[] = ['s', -1, 1.5, true, { x: 1 }, ['x'], null];

  function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    const out: (string | number)[][] = [];
    if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!(prefix.length === 1 && k === 'name')) out.push([...prefix, k], ...paths(x, [...prefix, k]));
    return out;
  }
  function withValue(obj: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
    const copy = structuredClone(obj);
    let cur: any = copy;
    for (const p of path.slice(0, -1)) cur = cur[p];
    cur[path[path.length - 1]] = value;
    return copy;
  }

  for (const [collection, sample] of samples) {
    it(`${collection}: no 5xx, and what is stored decodes`, async () => {
      for (const path of paths(sample)) {
        for (const value of wrong) {
          const body = withValue(sample, path, value);
          const r = await cluster.request(`${collection}?fieldValidation=Ignore`, { method: 'POST', body });
          assert.ok(r.status === 201 || r.status === 400 || r.status === 422, `${path.join('.')}=${JSON.stringify(value)}: ${r.status} ${r.body}`);
          if (r.status !== 201) {
            assert.equal(JSON.parse(r.body).kind, 'Status');
            continue;
          }
          const p = await cluster.request(`${collection}/f`, { method: 'PATCH', body: JSON.stringify({ metadata: { labels: { z: 'y' } } }), headers: { 'Content-Type': 'application/strategic-merge-patch+json' } });
          assert.ok(p.status < 500, `patch after ${path.join('.')}=${JSON.stringify(value)}: ${p.status} ${p.body}`);
          const d = await cluster.request(`${collection}/f?gracePeriodSeconds=0`, { method: 'DELETE' });
          assert.ok(d.status < 300, d.body);
        }
      }
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cluster.kubeconfig);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.listNamespacedPod({ namespace: 'default' });
      await core.listNamespacedSecret({ namespace: 'default' });
      await core.listNamespacedService({ namespace: 'default' });
      await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: 'default' });
    });
  }
});
