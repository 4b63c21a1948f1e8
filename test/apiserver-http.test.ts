// End-to-end at the HTTP level, with raw requests and the real kubectl: what kube-apiserver's
// handler chain does around every answer — output negotiation (406 for a Table of a kind that has
// none), Warning headers, gzip compression of large responses, and the storageVersionHash of
// every resource in discovery.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startCluster, type Cluster } from './harness.js';
import { kubectlHelpers } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok } = kubectlHelpers(() => cluster);

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
});
after(async () => {
  await cluster?.stop();
});

const tableOnly = 'application/json;as=Table;v=v1;g=meta.k8s.io';

describe('output negotiation', () => {
  const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } } };

  it('answers 406 NotAcceptable when a review is asked for as a Table only', async () => {
    const r = await cluster.request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body: review, headers: { Accept: tableOnly } });
    assert.equal(r.status, 406, r.body);
    const status = JSON.parse(r.body);
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'NotAcceptable');
    assert.equal(status.message, 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  });

  it('answers the review itself when JSON is accepted besides the Table', async () => {
    const r = await cluster.request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body: review, headers: { Accept: `${tableOnly},application/json` } });
    assert.equal(r.status, 201, r.body);
    assert.equal(JSON.parse(r.body).status.allowed, true);
  });

  it('answers 406 for a Table of a subresource served by code of its own', async () => {
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'nobody' }, target: { kind: 'Node', name: 'n1' } };
    const r = await cluster.request('/api/v1/namespaces/default/pods/nobody/binding', { method: 'POST', body: binding, headers: { Accept: tableOnly } });
    assert.equal(r.status, 406, r.body);
    assert.equal(JSON.parse(r.body).reason, 'NotAcceptable');
  });

  it('keeps Tables for kinds that have them', async () => {
    const r = await cluster.request('/api/v1/namespaces/default', { headers: { Accept: tableOnly } });
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).kind, 'Table');
    assert.match(await ok(['get', 'namespace', 'default']), /^NAME\s+STATUS\s+AGE\ndefault\s+Active/);
  });
});

describe('discovery', () => {
  it('gives every stored resource its storageVersionHash, and none to reviews or subresources', async () => {
    const core = JSON.parse(await ok(['get', '--raw', '/api/v1']));
    const byName = new Map(core.resources.map((r: { name: string }) => [r.name, r]));
    // Values as a real kube-apiserver answers them: base64 of the first 8 bytes of sha256("/v1/Pod").
    assert.equal((byName.get('pods') as any).storageVersionHash, 'xPOwRZ+Yhw8=');
    assert.equal((byName.get('namespaces') as any).storageVersionHash, 'Q3oi5N2YM8M=');
    assert.equal((byName.get('pods/status') as any).storageVersionHash, undefined);
    const apps = JSON.parse(await ok(['get', '--raw', '/apis/apps/v1']));
    assert.equal(apps.resources.find((r: { name: string }) => r.name === 'deployments').storageVersionHash, '8aSe+NMegvE=');
    // events.k8s.io Events are stored as core Events, and say so.
    const events = JSON.parse(await ok(['get', '--raw', '/apis/events.k8s.io/v1']));
    assert.equal(events.resources.find((r: { name: string }) => r.name === 'events').storageVersionHash, 'r2yiGXH7wu8=');
    const authz = JSON.parse(await ok(['get', '--raw', '/apis/authorization.k8s.io/v1']));
    assert.equal(authz.resources.find((r: { name: string }) => r.name === 'selfsubjectaccessreviews').storageVersionHash, undefined);
  });
});

describe('a custom resource with a deprecated version', () => {
  const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } };
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'deprecatedkinds.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'deprecatedkinds', singular: 'deprecatedkind', kind: 'DeprecatedKind', listKind: 'DeprecatedKindList' },
      versions: [
        { name: 'v1', served: true, storage: true, schema },
        { name: 'v1beta1', served: true, storage: false, deprecated: true, schema },
        { name: 'v1alpha1', served: true, storage: false, deprecated: true, deprecationWarning: 'example.com/v1alpha1 is going away; move to v1', schema },
      ],
    },
  };

  before(async () => {
    await ok(['apply', '-f', '-'], JSON.stringify(crd));
    await ok(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/deprecatedkinds.example.com']);
  });

  it('has the storage version hash in every served version', async () => {
    // sha256("example.com/v1/DeprecatedKind"): the storage version's, whichever version is asked.
    for (const v of ['v1', 'v1beta1']) {
      const list = JSON.parse(await ok(['get', '--raw', `/apis/example.com/${v}`]));
      assert.equal(list.resources.find((r: { name: string }) => r.name === 'deprecatedkinds').storageVersionHash, 'YZZZ/aYcm5E=', v);
    }
  });

  it('warns on every request to a deprecated version, so --warnings-as-errors fails', async () => {
    const cr = (v: string, name: string) => JSON.stringify({ apiVersion: `example.com/${v}`, kind: 'DeprecatedKind', metadata: { name, namespace: 'default' }, spec: { size: 1 } });
    const created = await k(['create', '-f', '-'], cr('v1beta1', 'one'));
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /^Warning: example\.com\/v1beta1 DeprecatedKind is deprecated; use example\.com\/v1 DeprecatedKind$/m);
    const strict = await k(['get', 'deprecatedkinds.v1beta1.example.com', '--warnings-as-errors']);
    assert.notEqual(strict.code, 0, 'kubectl --warnings-as-errors passed');
    assert.match(strict.stderr, /example\.com\/v1beta1 DeprecatedKind is deprecated/);
    // The stored version does not warn.
    const v1 = await k(['get', 'deprecatedkinds.v1.example.com', 'one', '--warnings-as-errors']);
    assert.equal(v1.code, 0, v1.stderr);
    assert.doesNotMatch(v1.stderr, /Warning/);
    // A version's own deprecationWarning replaces the default text; errors carry it too.
    const r = await cluster.request('/apis/example.com/v1alpha1/namespaces/default/deprecatedkinds/missing');
    assert.equal(r.status, 404);
    assert.equal(r.headers.warning, '299 - "example.com/v1alpha1 is going away; move to v1"');
  });

  it('warns about a finalizer name without a domain', async () => {
    const cr = { apiVersion: 'example.com/v1', kind: 'DeprecatedKind', metadata: { name: 'fin', namespace: 'default', finalizers: ['cleanup'] } };
    const r = await k(['create', '-f', '-'], JSON.stringify(cr));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Warning: metadata\.finalizers: "cleanup": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers$/m);
    await ok(['patch', 'deprecatedkinds.v1.example.com', 'fin', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  });
});

describe('warnings', () => {
  it('sends each unknown field under fieldValidation=Warn as a well-formed Warning header', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'warn-cm', namespace: 'default' }, data: { a: 'b' }, bogus: 1 };
    const r = await cluster.request('/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { method: 'POST', body: cm });
    assert.equal(r.status, 201, r.body);
    assert.equal(r.headers.warning, '299 - "unknown field \\"bogus\\""');
    // An apply patch's duplicate keys become warnings in the same form.
    const apply = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: warn-cm2\ndata:\n  a: b\n  a: c\n';
    const a = await cluster.request('/api/v1/namespaces/default/configmaps/warn-cm2?fieldManager=t&fieldValidation=Warn', { method: 'PATCH', body: apply, headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(a.status, 201, a.body);
    assert.match(String(a.headers.warning), /^299 - "error strict decoding patch: .*"$/);
  });
});

describe('response compression', () => {
  const ns = 'gzip-test';
  before(async () => {
    await ok(['create', 'namespace', ns]);
    // 30 ConfigMaps of 8 KiB: a list of about 250 KB, past the 128 KiB threshold.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        cluster.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { metadata: { name: `cm-${i}` }, data: { blob: 'x'.repeat(8192) } } }),
      ),
    );
  });

  it('gzips a large list for a client that accepts gzip, and says Vary: Accept-Encoding', async () => {
    const r = await cluster.request(`/api/v1/namespaces/${ns}/configmaps`, { headers: { 'Accept-Encoding': 'deflate, gzip' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.match(String(r.headers.vary), /Accept-Encoding/);
    assert.ok(r.raw.length < 128 * 1024, `compressed body is ${r.raw.length} bytes`);
    const list = JSON.parse(gunzipSync(r.raw).toString('utf8'));
    assert.equal(list.items.length, 30);
    // kubectl asks for gzip and reads it.
    assert.equal(JSON.parse(await ok(['get', 'configmaps', '-n', ns, '-o', 'json'])).items.length, 30);
  });

  it('leaves small answers, clients without gzip and watches uncompressed', async () => {
    const plain = await cluster.request(`/api/v1/namespaces/${ns}/configmaps`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(JSON.parse(plain.body).items.length, 30);
    const small = await cluster.request(`/api/v1/namespaces/${ns}/configmaps/cm-0`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(JSON.parse(small.body).metadata.name, 'cm-0');
    const watch = await cluster.request(`/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(watch.headers['content-encoding'], undefined);
    assert.equal(watch.body.trim().split('\n').length, 30);
  });
});

describe('pod warnings', () => {
  it('warns about deprecated node labels, hidden env vars and fractional bytes in pods and templates', async () => {
    const container = {
      name: 'app',
      image: 'busybox',
      env: [
        { name: 'A', value: 'one' },
        { name: 'A', value: 'two' },
      ],
      resources: { requests: { memory: '1.5' } },
    };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'warned', namespace: 'default' }, spec: { nodeSelector: { 'beta.kubernetes.io/arch': 'amd64' }, containers: [container] } };
    const created = await k(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /^Warning: spec\.nodeSelector\[beta\.kubernetes\.io\/arch\]: deprecated since v1\.14; use "kubernetes\.io\/arch" instead$/m);
    assert.match(created.stderr, /^Warning: spec\.containers\[0\]\.resources\.requests\[memory\]: fractional byte value "1500m" is invalid, must be an integer$/m);
    assert.match(created.stderr, /^Warning: spec\.containers\[0\]\.env\[1\]: hides previous definition of "A", which may be dropped when using apply$/m);

    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'warned', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' } }, spec: { containers: [container] } } },
    };
    const d = await k(['create', '-f', '-'], JSON.stringify(deploy));
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /^Warning: spec\.template\.spec\.containers\[0\]\.env\[1\]: hides previous definition of "A"/m);
    // An update that leaves the spec alone does not warn again.
    const labeled = await k(['label', 'deployment', 'warned', 'x=y']);
    assert.equal(labeled.code, 0, labeled.stderr);
    assert.doesNotMatch(labeled.stderr, /Warning/);
  });
});

describe('service warnings', () => {
  it('warns about the deprecated topology-aware-hints annotation', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hinted', namespace: 'default', annotations: { 'service.kubernetes.io/topology-aware-hints': 'auto' } },
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
    };
    const r = await k(['create', '--dry-run=server', '-f', '-'], JSON.stringify(svc));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Warning: annotation service\.kubernetes\.io\/topology-aware-hints is deprecated, please use service\.kubernetes\.io\/topology-mode instead$/m);
  });
});
