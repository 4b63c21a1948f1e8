// End-to-end at the HTTP level and through @kubernetes/client-node: authentication, error Status
// bodies for bad input, the watch protocol, Table output, discovery, and etcd outages.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let kc: k8s.KubeConfig;

before(async () => {
  // A small watch cache makes "too old resourceVersion" reachable in a test; frequent bookmarks make them observable.
  process.env.SKIFF_WATCH_CACHE_SIZE = '200';
  process.env.SKIFF_BOOKMARK_INTERVAL_MS = '300';
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  delete process.env.SKIFF_WATCH_CACHE_SIZE;
  delete process.env.SKIFF_BOOKMARK_INTERVAL_MS;
  kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
});
after(async () => {
  await cluster?.stop();
});

/** stream opens a watch and collects its JSON lines until stopped or the server closes it. */
function stream(path: string, headers: Record<string, string> = {}) {
  const u = new URL(cluster.server + path);
  const events: { type: string; object: any }[] = [];
  let ended = false;
  let statusCode = 0;
  let responseHeaders: Record<string, unknown> = {};
  const req = https.request({
    host: u.hostname,
    port: u.port,
    path: u.pathname + u.search,
    method: 'GET',
    ca: readFileSync(cluster.caFile),
    cert: readFileSync(cluster.adminCert),
    key: readFileSync(cluster.adminKey),
    headers,
  });
  const opened = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      statusCode = res.statusCode ?? 0;
      responseHeaders = res.headers;
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
      });
      res.on('end', () => (ended = true));
      res.on('close', () => (ended = true));
      resolve();
    });
    req.on('error', (e) => (ended ? resolve() : reject(e)));
  });
  req.end();
  return {
    events,
    opened,
    get ended() {
      return ended;
    },
    get statusCode() {
      return statusCode;
    },
    get headers() {
      return responseHeaders;
    },
    stop: () => req.destroy(),
  };
}

async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('authentication', () => {
  it('answers an anonymous request with a 401 Status and serves health without credentials', async () => {
    const r = await cluster.request('/api/v1/namespaces', { auth: 'none' });
    assert.equal(r.status, 401);
    const body = JSON.parse(r.body);
    assert.equal(body.kind, 'Status');
    assert.equal(body.reason, 'Unauthorized');
    assert.equal((await cluster.request('/readyz', { auth: 'none' })).status, 200);
    assert.equal((await cluster.request('/livez', { auth: 'none' })).body, 'ok');
  });

  it('accepts a bearer token from the token file and rejects a wrong one', async () => {
    assert.equal((await cluster.request('/api/v1/namespaces/default', { auth: 'token' })).status, 200);
    const bad = await cluster.request('/api/v1/namespaces/default', { auth: 'none', headers: { Authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
  });
});

describe('metrics', () => {
  it('serves Prometheus metrics with request counts by verb, resource and code', async () => {
    await cluster.request('/api/v1/namespaces/default/configmaps');
    const r = await cluster.request('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.match(r.body, /^apiserver_request_total\{verb="LIST",resource="configmaps",code="200",component="apiserver"\} \d+$/m);
    assert.match(r.body, /^apiserver_request_duration_seconds_bucket\{/m);
    assert.match(r.body, /^etcd_request_duration_seconds_count\{component="apiserver",operation="list"\} \d+$/m);
    assert.equal((await cluster.request('/metrics', { auth: 'none' })).status, 401);
  });
});

describe('bad input', () => {
  const cms = '/api/v1/namespaces/default/configmaps';
  async function expectStatus(path: string, opts: Parameters<Cluster['request']>[1], code: number, reason: string, message?: RegExp) {
    const r = await cluster.request(path, opts);
    assert.equal(r.status, code, r.body);
    const s = JSON.parse(r.body);
    assert.equal(s.kind, 'Status');
    assert.equal(s.code, code);
    assert.equal(s.reason, reason);
    if (message) assert.match(s.message, message);
  }

  it('rejects malformed JSON and YAML with 400', async () => {
    await expectStatus(cms, { method: 'POST', body: '{"metadata": ', headers: { 'Content-Type': 'application/json' } }, 400, 'BadRequest', /json parse error/);
    await expectStatus(cms, { method: 'POST', body: 'metadata: [unclosed', headers: { 'Content-Type': 'application/yaml' } }, 400, 'BadRequest', /YAML/);
  });

  it('rejects a wrong kind, apiVersion, name or namespace in the body', async () => {
    await expectStatus(cms, { method: 'POST', body: { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } } }, 400, 'BadRequest', /the API version in the data \(apps\/v1\) does not match the expected API version \(v1\)/);
    await expectStatus(cms, { method: 'POST', body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } } }, 400, 'BadRequest');
    await expectStatus(cms, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'kube-system' } } }, 400, 'BadRequest', /does not match the namespace/);
    await cluster.request(cms, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'named' } } });
    await expectStatus(`${cms}/named`, { method: 'PUT', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } } }, 400, 'BadRequest', /does not match the name on the URL/);
  });

  it('refuses bodies over 3 MiB with 413 and stores nothing', async () => {
    const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } };
    await expectStatus(cms, { method: 'POST', body: big }, 413, 'RequestEntityTooLarge');
    assert.equal((await cluster.request(`${cms}/huge`)).status, 404);
  });

  it('answers unknown resources with 404 and unsupported verbs with 405', async () => {
    await expectStatus('/api/v1/namespaces/default/widgets', {}, 404, 'NotFound');
    await expectStatus('/apis/nope.example.com/v1/things', {}, 404, 'NotFound');
    await expectStatus(cms, { method: 'PUT', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } }, 405, 'MethodNotAllowed');
  });

  it('rejects invalid selectors, limits and resource versions', async () => {
    await expectStatus(`${cms}?labelSelector=${encodeURIComponent('a in (b')}`, {}, 400, 'BadRequest', /unable to parse requirement/);
    await expectStatus(`${cms}?fieldSelector=${encodeURIComponent('a')}`, {}, 400, 'BadRequest', /invalid selector/);
    await expectStatus(`${cms}?limit=99999999999999999999999`, {}, 400, 'BadRequest');
    await expectStatus(`${cms}?resourceVersion=abc`, {}, 400, 'BadRequest');
    await expectStatus(`${cms}?continue=garbage&limit=1`, {}, 400, 'BadRequest', /continue key is not valid/);
  });

  it('refuses malformed patches of every type, and patches that break validation, changing nothing', async () => {
    const deploys = '/apis/apps/v1/namespaces/default/deployments';
    const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'patched' }, spec: { replicas: 1, selector: { matchLabels: { app: 'p' } }, template: { metadata: { labels: { app: 'p' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
    const before = JSON.parse((await cluster.request(deploys, { method: 'POST', body })).body);
    const patch = (type: string, text: string) => cluster.request(`${deploys}/patched`, { method: 'PATCH', body: text, headers: { 'Content-Type': type } });
    for (const type of ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const r = await patch(type, '{"spec": ');
      assert.equal(r.status, 400, `${type}: ${r.body}`);
      assert.equal(JSON.parse(r.body).kind, 'Status');
    }
    assert.equal((await patch('application/json-patch+json', '[{"op":"move","from":"/nope","path":"/spec/x"}]')).status, 422);
    assert.equal((await patch('application/json-patch+json', '{"op":"add"}')).status, 400);
    const invalid = await patch('application/merge-patch+json', '{"spec":{"replicas":-3}}');
    assert.equal(invalid.status, 422);
    assert.match(JSON.parse(invalid.body).message, /spec.replicas: Invalid value: -3: must be greater than or equal to 0/);
    const selector = await patch('application/strategic-merge-patch+json', '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}');
    assert.equal(selector.status, 422);
    assert.equal((await patch('application/x-unknown', '{}')).status, 415);
    const after = JSON.parse((await cluster.request(`${deploys}/patched`)).body);
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'nothing was written');
  });

  it('keeps serving after all of that', async () => {
    assert.equal((await cluster.request('/api/v1/namespaces/default')).status, 200);
  });
});

describe('discovery and tables', () => {
  it('serves aggregated discovery with the exact content type kubectl recognises', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const r = await cluster.request('/apis', { headers: { Accept: accept } });
    assert.equal(r.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const list = JSON.parse(r.body);
    const apps = list.items.find((g: any) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((x: any) => x.resource === 'deployments');
    assert.deepEqual(deploy.subresources.map((s: any) => s.subresource), ['scale', 'status']);
    assert.deepEqual(deploy.subresources[0].responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });

  it('lists a main resource before its subresources in the resource list', async () => {
    const list = JSON.parse((await cluster.request('/api/v1')).body);
    const names = list.resources.map((r: any) => r.name);
    assert.ok(names.indexOf('pods') < names.indexOf('pods/status'));
    assert.ok(names.includes('pods/binding'));
    // Subresources served by code of their own are listed as kube-apiserver lists them.
    const entry = (name: string) => {
      const { kind, group, version, verbs } = list.resources.find((r: any) => r.name === name);
      return { kind, group, version, verbs };
    };
    assert.deepEqual(entry('pods/binding'), { kind: 'Binding', group: undefined, version: undefined, verbs: ['create'] });
    assert.deepEqual(entry('pods/eviction'), { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] });
    assert.deepEqual(entry('namespaces/finalize'), { kind: 'Namespace', group: undefined, version: undefined, verbs: ['update'] });
  });

  it('renders Tables with the declared columns and metadata rows', async () => {
    const r = await cluster.request('/api/v1/namespaces', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const table = JSON.parse(r.body);
    assert.equal(table.kind, 'Table');
    assert.deepEqual(table.columnDefinitions.map((c: any) => c.name), ['Name', 'Status', 'Age']);
    const row = table.rows.find((x: any) => x.cells[0] === 'default');
    assert.equal(row.cells[1], 'Active');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
  });
});

describe('watch', () => {
  const base = '/api/v1/namespaces/default/configmaps';

  it('streams ADDED, MODIFIED and DELETED from a resourceVersion, with headers sent at once', async () => {
    const list = JSON.parse((await cluster.request(base)).body);
    const w = stream(`${base}?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    await w.opened;
    assert.equal(w.statusCode, 200);
    assert.equal(w.headers['transfer-encoding'], 'chunked');
    await cluster.request(base, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1' } } });
    await cluster.request(`${base}/w1`, { method: 'PATCH', body: { data: { a: 'b' } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    await cluster.request(`${base}/w1`, { method: 'DELETE' });
    await until(() => w.events.length >= 3, 10_000, 'three events');
    w.stop();
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    assert.deepEqual(w.events[1].object.data, { a: 'b' });
    assert.ok(!w.events.some((e) => e.type === 'BOOKMARK'), 'no bookmarks unless asked for');
  });

  it('starts with the current state when no resourceVersion is given, and honours timeoutSeconds', async () => {
    await cluster.request(base, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'present' } } });
    const w = stream(`${base}?watch=1&timeoutSeconds=1`);
    await until(() => w.ended, 10_000, 'the watch to end after its timeout');
    assert.ok(w.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'present'));
  });

  it('sends bookmarks only when asked', async () => {
    const w = stream(`${base}?watch=1&allowWatchBookmarks=true&resourceVersion=0`);
    await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 10_000, 'a bookmark');
    w.stop();
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bm.object.kind, 'ConfigMap');
    assert.match(bm.object.metadata.resourceVersion, /^\d+$/);
  });

  it('delivers an object leaving the label selector as DELETED', async () => {
    await cluster.request(base, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sel', labels: { team: 'a' } } } });
    const w = stream(`${base}?watch=1&labelSelector=team%3Da`);
    await until(() => w.events.length === 1, 10_000, 'the initial ADDED');
    await cluster.request(`${base}/sel`, { method: 'PATCH', body: { metadata: { labels: { team: 'b' } } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    await until(() => w.events.length === 2, 10_000, 'the DELETED');
    w.stop();
    assert.equal(w.events[1].type, 'DELETED');
  });

  it('answers a watch from a revision older than the cache with an ERROR 410 Expired event, then closes', async () => {
    const first = JSON.parse((await cluster.request(base)).body).metadata.resourceVersion;
    for (let i = 0; i < 220; i++) {
      await cluster.request(base, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `churn-${i}` } } });
    }
    const w = stream(`${base}?watch=1&resourceVersion=${first}`);
    await until(() => w.ended, 10_000, 'the watch to close');
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, 'ERROR');
    assert.equal(w.events[0].object.code, 410);
    assert.equal(w.events[0].object.reason, 'Expired');
  });

  it('streams Table rows for kubectl get -w', async () => {
    const w = stream(`${base}?watch=1&resourceVersion=0`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    await until(() => w.events.length > 0, 10_000, 'a table event');
    w.stop();
    assert.equal(w.events[0].object.kind, 'Table');
    assert.deepEqual(w.events[0].object.columnDefinitions.map((c: any) => c.name), ['Name', 'Data', 'Age']);
    assert.equal(w.events[0].object.rows.length, 1);
  });
});

describe('@kubernetes/client-node', () => {
  it('creates, reads, updates and lists through the typed APIs', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: 'typed' } } });
    const cm = await core.createNamespacedConfigMap({ namespace: 'typed', body: { metadata: { name: 'settings' }, data: { a: '1' } } });
    assert.equal(cm.metadata?.namespace, 'typed');
    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'typed' });
    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'typed', body: read });
    assert.equal(replaced.data?.a, '2');
    const list = await core.listNamespacedConfigMap({ namespace: 'typed' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ['settings']);
    const d = await apps.createNamespacedDeployment({
      namespace: 'typed',
      body: { metadata: { name: 'api' }, spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'busybox' }] } } } },
    });
    assert.equal(d.spec?.replicas, 1);
    await assert.rejects(core.readNamespacedConfigMap({ name: 'missing', namespace: 'typed' }), (err: any) => err.code === 404);
  });

  it('watches and runs an informer that sees add, update and delete', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'informed' } } });
    const seen: string[] = [];
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/informed/configmaps', () => core.listNamespacedConfigMap({ namespace: 'informed' }));
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    const watched: string[] = [];
    const watch = new k8s.Watch(kc);
    const ctl = await watch.watch('/api/v1/namespaces/informed/configmaps', {}, (type, obj) => watched.push(`${type} ${obj.metadata.name}`), () => undefined);
    try {
      await core.createNamespacedConfigMap({ namespace: 'informed', body: { metadata: { name: 'x' } } });
      await until(() => seen.includes('add x') && watched.includes('ADDED x'), 10_000, 'add');
      await core.patchNamespacedConfigMap({ name: 'x', namespace: 'informed', body: { data: { k: 'v' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await until(() => seen.includes('update x'), 10_000, 'update');
      await core.deleteNamespacedConfigMap({ name: 'x', namespace: 'informed' });
      await until(() => seen.includes('delete x') && watched.includes('DELETED x'), 10_000, 'delete');
      assert.equal(informer.list('informed').length, 0);
    } finally {
      await informer.stop();
      ctl.abort();
    }
  });
});

describe('deletion and allocation', () => {
  const pods = '/api/v1/namespaces/default/pods';
  const pod = (name: string, nodeName?: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } });

  it('deletes a bound pod gracefully and an unbound one at once', async () => {
    await cluster.request(pods, { method: 'POST', body: pod('bound', 'node-a') });
    const del = await cluster.request(`${pods}/bound`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    const terminating = JSON.parse((await cluster.request(`${pods}/bound`)).body);
    assert.ok(terminating.metadata.deletionTimestamp, 'still there, with a deletionTimestamp');
    assert.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
    const shown = await cluster.kubectl(['get', 'pod', 'bound', '-n', 'default']);
    assert.match(shown.stdout, /bound\s+0\/1\s+Terminating/);
    await cluster.request(`${pods}/bound?gracePeriodSeconds=0`, { method: 'DELETE' });
    assert.equal((await cluster.request(`${pods}/bound`)).status, 404);
    await cluster.request(pods, { method: 'POST', body: pod('loose') });
    assert.equal((await cluster.request(`${pods}/loose`, { method: 'DELETE' })).status, 200);
    assert.equal((await cluster.request(`${pods}/loose`)).status, 404);
  });

  it('never hands out a ClusterIP twice, even across an apiserver restart', async () => {
    const svcs = '/api/v1/namespaces/default/services';
    const first = JSON.parse((await cluster.request(svcs, { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'first' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } } })).body);
    const ip = first.spec.clusterIP;
    assert.match(ip, /^10\./);
    await cluster.restart('apiserver');
    const clash = await cluster.request(svcs, { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'second' }, spec: { clusterIP: ip, selector: { a: 'b' }, ports: [{ port: 80 }] } } });
    assert.equal(clash.status, 422, clash.body);
    assert.match(JSON.parse(clash.body).message, /provided IP is already allocated/);
    // Deleting the first Service releases its address.
    await cluster.request(`${svcs}/first`, { method: 'DELETE' });
    const reuse = await cluster.request(svcs, { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'second' }, spec: { clusterIP: ip, selector: { a: 'b' }, ports: [{ port: 80 }] } } });
    assert.equal(reuse.status, 201, reuse.body);
  });

  it('binds a pod in one write and refuses a second binding', async () => {
    await cluster.request(pods, { method: 'POST', body: pod('to-bind') });
    const list = JSON.parse((await cluster.request(pods)).body);
    const w = stream(`${pods}?watch=1&resourceVersion=${list.metadata.resourceVersion}&fieldSelector=metadata.name%3Dto-bind`);
    const bind = await cluster.request(`${pods}/to-bind/binding`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind' }, target: { kind: 'Node', name: 'node-1' } } });
    assert.equal(bind.status, 201, bind.body);
    await until(() => w.events.length >= 1, 10_000, 'the bind event');
    await new Promise((r) => setTimeout(r, 200));
    w.stop();
    assert.equal(w.events.length, 1, 'node and PodScheduled arrive in one event');
    assert.equal(w.events[0].object.spec.nodeName, 'node-1');
    assert.deepEqual(w.events[0].object.status.conditions.map((c: any) => `${c.type}=${c.status}`), ['PodScheduled=True']);
    const again = await cluster.request(`${pods}/to-bind/binding`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind' }, target: { kind: 'Node', name: 'node-2' } } });
    assert.equal(again.status, 409);
    assert.match(JSON.parse(again.body).message, /pod to-bind is already assigned to node "node-1"/);
  });

  it('keeps a terminating pod through status updates until its grace period is over', async () => {
    await cluster.request(pods, { method: 'POST', body: pod('graceful', 'node-a') });
    await cluster.request(`${pods}/graceful`, { method: 'DELETE' });
    const patched = await cluster.request(`${pods}/graceful/status`, { method: 'PATCH', body: { status: { phase: 'Running' } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.status, 200, patched.body);
    assert.equal((await cluster.request(`${pods}/graceful`)).status, 200);
    await cluster.request(`${pods}/graceful?gracePeriodSeconds=0`, { method: 'DELETE' });
  });

  it('removes a Terminating namespace only when finalize empties its finalizers', async () => {
    await cluster.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'finalizing' } } });
    await cluster.request('/api/v1/namespaces/finalizing', { method: 'DELETE' });
    const labelled = await cluster.request('/api/v1/namespaces/finalizing', { method: 'PATCH', body: { metadata: { labels: { a: 'b' } } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(labelled.status, 200);
    assert.equal(JSON.parse((await cluster.request('/api/v1/namespaces/finalizing')).body).status.phase, 'Terminating');
    const ns = JSON.parse((await cluster.request('/api/v1/namespaces/finalizing')).body);
    const fin = await cluster.request('/api/v1/namespaces/finalizing/finalize', { method: 'PUT', body: { ...ns, spec: { finalizers: [] } } });
    assert.equal(fin.status, 200, fin.body);
    assert.equal((await cluster.request('/api/v1/namespaces/finalizing')).status, 404);
  });

  it('does not write or bump generation for a PUT that only reorders fields', async () => {
    const deploys = '/apis/apps/v1/namespaces/default/deployments';
    const d = JSON.parse((await cluster.request(deploys, { method: 'POST', body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'order' }, spec: { selector: { matchLabels: { app: 'o' } }, template: { metadata: { labels: { app: 'o' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } })).body);
    const reordered = { spec: { ...d.spec, template: { spec: d.spec.template.spec, metadata: d.spec.template.metadata } }, metadata: d.metadata, kind: d.kind, apiVersion: d.apiVersion };
    const put = JSON.parse((await cluster.request(`${deploys}/order`, { method: 'PUT', body: reordered })).body);
    assert.equal(put.metadata.generation, 1);
    assert.equal(put.metadata.resourceVersion, d.metadata.resourceVersion);
  });

  it('serves deletecollection only within a namespace, and answers a bad watch resourceVersion with 400', async () => {
    assert.equal((await cluster.request('/api/v1/configmaps', { method: 'DELETE' })).status, 405);
    assert.equal((await cluster.request('/api/v1/namespaces/default/configmaps/kube-root?watch=1&resourceVersion=abc')).status, 400);
  });

  it('deletes without conflicts while the object is being changed concurrently', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    const results: number[] = [];
    for (let i = 0; i < 10; i++) {
      await cluster.request(cms, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `race-${i}` } } });
      const patches = Array.from({ length: 5 }, (_, j) => cluster.request(`${cms}/race-${i}`, { method: 'PATCH', body: { data: { j: String(j) } }, headers: { 'Content-Type': 'application/merge-patch+json' } }));
      const del = cluster.request(`${cms}/race-${i}`, { method: 'DELETE' });
      await Promise.all(patches);
      results.push((await del).status);
    }
    assert.deepEqual(results, Array(10).fill(200));
  });

  it('marks every response uncacheable, /version included', async () => {
    const r = await cluster.request('/version');
    assert.equal(r.headers['cache-control'], 'no-cache, private');
  });
});

describe('etcd outage', () => {
  it('fails readiness and answers 503/504 while etcd is down, then recovers with no acknowledged write lost', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'durable' }, data: { v: 'kept' } } });
    await cluster.kill('etcd');
    try {
      await until(() => false, 500).catch(() => undefined);
      const ready = await cluster.request('/readyz?verbose');
      assert.equal(ready.status, 500);
      assert.match(ready.body, /\[-\]etcd failed/);
      const r = await cluster.request('/api/v1/namespaces/default/configmaps/durable');
      assert.ok([503, 504].includes(r.status), `status ${r.status}: ${r.body}`);
      assert.equal(JSON.parse(r.body).kind, 'Status');
    } finally {
      await cluster.restart('etcd');
    }
    await until(() => false, 100).catch(() => undefined);
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = (await cluster.request('/readyz')).status === 200;
      if (!ok) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(ok, 'apiserver became ready again');
    // With several apiserver workers /readyz speaks for the one that answered: the others'
    // etcd clients may need a moment longer.
    for (let i = 0; i < 50 && (await cluster.request('/api/v1/namespaces/default/configmaps/durable')).status !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    const back = await core.readNamespacedConfigMap({ name: 'durable', namespace: 'default' });
    assert.equal(back.data?.v, 'kept');
  });
});
