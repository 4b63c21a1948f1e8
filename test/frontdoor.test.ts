// End-to-end tests of the apiserver's front door with raw HTTPS requests: paths that do not
// decode, dot segments that must never reach a parent resource, answers that are always a
// metav1.Status, query parameters read as the parameter codec reads them, and the in-flight
// limits and request deadline that keep a slow or flooding client from holding the server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { RestClient } from '../lib/client/client.js';
import { ConfigMaps } from '../lib/client/resources.js';
import { ensureClientCert } from '../lib/pki.js';
import { startCluster, type Cluster } from './harness.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * raw sends one request with its path exactly as given: the harness's request() goes through
 * WHATWG URL parsing, which resolves `..` and `%2e%2e` on the client side before they are sent.
 */
function raw(cluster: Cluster, path: string, opts: { method?: string; body?: string; contentType?: string; cert?: { cert: string; key: string } } = {}): Promise<RawAnswer> {
  const url = new URL(cluster.server);
  const cred = opts.cert ?? { cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, path, method: opts.method ?? 'GET', headers, ca: readFileSync(cluster.caFile, 'utf8'), ...cred, agent: false },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** assertStatus checks that an answer is a JSON metav1.Status with the given code. */
function assertStatus(r: RawAnswer, code: number, what: string): Record<string, unknown> {
  assert.equal(r.status, code, `${what}: ${r.status} ${r.body.slice(0, 300)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/, `${what}: content type ${r.headers['content-type']}`);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  assert.equal(body.kind, 'Status', `${what}: ${r.body.slice(0, 300)}`);
  assert.equal(body.code, code, what);
  assert.doesNotMatch(r.body, /\bat .*\.js:\d+/, `${what}: a stack trace in the answer`);
  return body;
}

/** metricValue reads one sample of a metric by its request_kind label from Prometheus text. */
function metricValue(text: string, name: string, kind: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(`request_kind="${kind}"`)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const verbs = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

describe('front door', () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('answers a path that does not decode with a 400 Status on every verb, and stays up', async () => {
    const paths = [
      '/api/v1/namespaces/default/configmaps/%zz',
      '/api/v1/namespaces/default/configmaps/%c0%ae',
      '/api/v1/namespaces/default/configmaps/%u002e',
      '/api/v1/namespaces/%zz/configmaps',
      '/apis/%zz',
      '/apis/apps/%zz/deployments',
      '/version%zz',
      '/%zz',
    ];
    for (const path of paths) {
      for (const method of verbs) {
        const r = await raw(cluster, path, { method, body: method === 'GET' || method === 'DELETE' ? undefined : '{}', contentType: method === 'PATCH' ? 'application/merge-patch+json' : undefined });
        const status = assertStatus(r, 400, `${method} ${path}`);
        assert.equal(status.reason, 'BadRequest');
      }
    }
    const health = await cluster.request('/healthz');
    assert.equal(health.status, 200);
  });

  it('never lets a dot segment act on a parent: the namespace and its objects survive', async () => {
    const ns = 'frontdoor-dots';
    assert.equal((await cluster.request('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: ns } } })).status, 201);
    const cm = await cluster.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { metadata: { name: 'keep' }, data: { a: 'b' } } });
    assert.equal(cm.status, 201);
    const bad = [
      [`/api/v1/namespaces/${ns}/pods/..`, "may not be '..'"],
      [`/api/v1/namespaces/${ns}/pods/%2e%2e`, "may not be '..'"],
      [`/api/v1/namespaces/${ns}/pods/%2E%2E`, "may not be '..'"],
      [`/api/v1/namespaces/${ns}/configmaps/.`, "may not be '.'"],
      [`/api/v1/namespaces/${ns}/configmaps/%2e`, "may not be '.'"],
      [`/api/v1/namespaces/${ns}/configmaps/a%2fb`, "may not contain '/'"],
      [`/api/v1/namespaces/${ns}/configmaps/a%25b`, "may not contain '%'"],
      ['/api/v1/namespaces/..', "may not be '..'"],
      ['/api/v1/namespaces/%2e%2e/configmaps/keep', "may not be '..'"],
      [`/api/v1/namespaces/${ns}/configmaps/keep/..`, 'invalid path segment'],
      [`/api/v1/namespaces/${ns}/configmaps/keep/../..`, 'invalid path segment'],
      [`/api/v1/namespaces/${ns}/pods/x/../..`, 'invalid path segment'],
      [`/api/v1/namespaces/${ns}/finalize/..`, 'invalid path segment'],
      [`/api/v1/namespaces/${ns}/status/..`, 'invalid path segment'],
      [`/apis/apps/v1/namespaces/${ns}/deployments/x/scale/..`, 'invalid path segment'],
      [`/api/v1/namespaces/${ns}/pods/%2e%2e/status`, "may not be '..'"],
      [`/api/v1/namespaces/${ns}/pods/../eviction`, "may not be '..'"],
    ] as const;
    for (const [path, why] of bad) {
      for (const method of verbs) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify({ metadata: { name: ns } });
        const r = await raw(cluster, path, { method, body, contentType: method === 'PATCH' ? 'application/merge-patch+json' : undefined });
        const status = assertStatus(r, 400, `${method} ${path}`);
        assert.ok(String(status.message).includes(why), `${method} ${path}: ${status.message}`);
      }
    }
    const after = await cluster.request(`/api/v1/namespaces/${ns}`);
    assert.equal(after.status, 200);
    const nsObj = JSON.parse(after.body) as { metadata: { deletionTimestamp?: string }; status?: { phase?: string } };
    assert.equal(nsObj.metadata.deletionTimestamp, undefined, 'the namespace is being deleted');
    assert.equal(nsObj.status?.phase, 'Active');
    const kept = await cluster.request(`/api/v1/namespaces/${ns}/configmaps/keep`);
    assert.equal(kept.status, 200);
    assert.deepEqual((JSON.parse(kept.body) as { data: unknown }).data, { a: 'b' });
  });

  it('answers bodies nested too deep and YAML alias bombs with a 400 Status', async () => {
    const deep = `{"metadata":{"name":"deep"},"data":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: deep }), 400, 'deep JSON create');
    const cm = await cluster.request('/api/v1/namespaces/default/configmaps', { method: 'POST', body: { metadata: { name: 'deep-target' } } });
    assert.equal(cm.status, 201);
    for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const patch = `{"metadata":{"labels":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`;
      assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps/deep-target', { method: 'PATCH', body: patch, contentType: type }), 400, `deep ${type}`);
    }
    const laughs = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: lol}',
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'data: {x: *e}',
      '',
    ].join('\n');
    assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: laughs, contentType: 'application/yaml' }), 400, 'billion laughs create');
    assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: 'metadata: {name: x}\ndata: *nope\n', contentType: 'application/yaml' }), 400, 'unknown alias create');
    assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps/lol?fieldManager=t', { method: 'PATCH', body: laughs, contentType: 'application/apply-patch+yaml' }), 400, 'billion laughs apply');
    assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps/lol?fieldManager=t', { method: 'PATCH', body: 'metadata: {name: lol}\ndata: *nope\n', contentType: 'application/apply-patch+yaml' }), 400, 'unknown alias apply');
    assert.equal((await cluster.request('/healthz')).status, 200);
  });

  it('answers unknown paths and methods with a Status, never an HTML page', async () => {
    for (const method of verbs) {
      for (const path of ['/nope', '/apis/nope.example.com', '/apis/nope.example.com/v1', '/api/v2', '/openapi/v3/nope', '/metrics/x']) {
        const r = await raw(cluster, path, { method, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
        assertStatus(r, 404, `${method} ${path}`);
      }
    }
    // A request HTTP cannot parse gets a Status too, then the connection ends.
    const url = new URL(cluster.server);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: readFileSync(cluster.caFile, 'utf8'), servername: 'localhost' }, () => {
        socket.write('GET /api/v1 HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n');
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (data += d));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { kind: string; code: number };
    assert.equal(body.kind, 'Status');
    assert.equal(body.code, 400);
  });

  it('reads query parameters as the parameter codec does', async () => {
    // watch=True (the Python client's spelling) is a watch: a stream of events, not a list.
    const w = await raw(cluster, '/api/v1/namespaces?watch=True&timeoutSeconds=1');
    assert.equal(w.status, 200);
    assert.match(w.body.split('\n')[0]!, /^\{"type":"ADDED"/);
    const l = await raw(cluster, '/api/v1/namespaces?watch=False');
    assert.equal((JSON.parse(l.body) as { kind: string }).kind, 'NamespaceList');
    for (const q of ['limit=abc', 'limit=1.5', 'timeoutSeconds=x&watch=1', 'timeout=forever']) {
      assertStatus(await raw(cluster, `/api/v1/namespaces?${q}`), 400, q);
    }
    assertStatus(await raw(cluster, '/api/v1/namespaces/default/configmaps/x?gracePeriodSeconds=soon', { method: 'DELETE' }), 400, 'gracePeriodSeconds');
  });
});

describe('front door limits', () => {
  let cluster: Cluster;
  let flooder: { cert: string; key: string };

  before(async () => {
    cluster = await startCluster({
      components: ['etcd', 'apiserver'],
      // The limits bound each apiserver worker, as each kube-apiserver of an HA control plane has
      // its own: these tests fill one apiserver's slot and expect the next request to meet it, so
      // they run one worker whatever the suite's shape (SKIFF_APISERVER_WORKERS).
      apiserverWorkers: 1,
      extraArgs: { apiserver: ['--max-requests-inflight=1', '--max-mutating-requests-inflight=1', '--request-timeout=10s'] },
    });
    // A user outside system:masters: masters are served beyond the limits, as in kube.
    const files = await ensureClientCert(dirname(cluster.caFile), { name: 'flooder', commonName: 'flooder', organizations: ['flooders'] });
    flooder = { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
    // RBAC: the flooders may use ConfigMaps.
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    assert.equal((await cluster.request(`${rbac}/clusterroles`, { method: 'POST', body: { metadata: { name: 'configmaps' }, rules: [{ verbs: ['*'], apiGroups: [''], resources: ['configmaps'] }] } })).status, 201);
    const binding = { metadata: { name: 'flooders' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'configmaps' }, subjects: [{ kind: 'Group', name: 'flooders' }] };
    assert.equal((await cluster.request(`${rbac}/clusterrolebindings`, { method: 'POST', body: binding })).status, 201);
    while ((await raw(cluster, '/api/v1/namespaces/default/configmaps', { cert: flooder })).status !== 200) await new Promise((r) => setTimeout(r, 100));
  });
  after(async () => {
    await cluster?.stop();
  });

  /** slowClient sends a request's headers and part of its body, then nothing; it resolves with what the server sent when the connection ends. */
  function slowClient(path: string): { connected: Promise<void>; closed: Promise<string>; destroy(): void } {
    const url = new URL(cluster.server);
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: readFileSync(cluster.caFile, 'utf8'), ...flooder, servername: 'localhost' });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"metadata":`);
        // The server takes the request's in-flight slot once it has the headers.
        setTimeout(resolve, 500);
      });
      socket.once('error', reject);
    });
    const closed = new Promise<string>((resolve) => {
      socket.on('close', () => resolve(data));
      socket.on('error', () => undefined);
    });
    return { connected, closed, destroy: () => socket.destroy() };
  }

  it('refuses mutating requests beyond the limit with 429 and Retry-After, and cuts off a half-sent request with 504', async () => {
    const slow = slowClient('/api/v1/namespaces/default/configmaps');
    await slow.connected;
    assert.equal(metricValue((await cluster.request('/metrics')).body, 'apiserver_current_inflight_requests', 'mutating'), 1);

    const r = await raw(cluster, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: JSON.stringify({ metadata: { name: 'flood' } }), cert: flooder });
    const status = assertStatus(r, 429, 'flood beyond the limit');
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(status.reason, 'TooManyRequests');
    assert.equal(status.message, 'Too many requests, please try again later.');
    // Reads have their own limit, and system:masters are always served.
    assert.equal((await raw(cluster, '/api/v1/namespaces/default/configmaps', { cert: flooder })).status, 200);
    assert.equal((await cluster.request('/api/v1/namespaces/default/configmaps', { method: 'POST', body: { metadata: { name: 'admin' } } })).status, 201);
    assert.ok(metricValue((await cluster.request('/metrics')).body, 'apiserver_dropped_requests_total', 'mutating')! >= 1);

    // The half-sent request is answered with a Timeout and its connection closed.
    const sent = await slow.closed;
    assert.match(sent, /^HTTP\/1\.1 504 /);
    const body = JSON.parse(sent.slice(sent.indexOf('\r\n\r\n') + 4)) as { kind: string; reason: string; message: string };
    assert.equal(body.kind, 'Status');
    assert.equal(body.reason, 'Timeout');
    assert.equal(body.message, 'Timeout: request did not complete within requested timeout - context deadline exceeded');
    // Its slot is free again.
    const again = await raw(cluster, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: JSON.stringify({ metadata: { name: 'after' } }), cert: flooder });
    assert.equal(again.status, 201, again.body);
  });

  it("retries a 429 after its Retry-After in skiff's own client, as client-go does", async () => {
    const slow = slowClient('/api/v1/namespaces/default/configmaps');
    await slow.connected;
    const droppedBefore = metricValue((await cluster.request('/metrics')).body, 'apiserver_dropped_requests_total', 'mutating') ?? 0;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: cluster.server, caData: Buffer.from(readFileSync(cluster.caFile)).toString('base64') }],
      users: [{ name: 'flooder', certData: Buffer.from(flooder.cert).toString('base64'), keyData: Buffer.from(flooder.key).toString('base64') }],
      contexts: [{ name: 'c', cluster: 'c', user: 'flooder' }],
      currentContext: 'c',
    });
    const created = new RestClient(kc).create<{ metadata: { name: string } }>(ConfigMaps, 'default', { metadata: { name: 'retried' } });
    // While the slot is held the create is refused and retried; freeing the slot lets a retry through.
    await new Promise((r) => setTimeout(r, 2_500));
    const droppedDuring = metricValue((await cluster.request('/metrics')).body, 'apiserver_dropped_requests_total', 'mutating') ?? 0;
    assert.ok(droppedDuring >= droppedBefore + 2, `the create was refused and sent again (${droppedBefore} → ${droppedDuring} dropped)`);
    slow.destroy();
    const cm = await created;
    assert.equal(cm.metadata.name, 'retried');
  });

  it('does not count watches against the limits', async () => {
    // With one read-only slot, an open watch must leave it free for a list.
    const url = new URL(cluster.server);
    const watchReq = https.request({
      host: url.hostname,
      port: url.port,
      path: '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=30',
      ca: readFileSync(cluster.caFile, 'utf8'),
      ...flooder,
      agent: false,
    });
    try {
      const watchRes = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        watchReq.on('response', resolve);
        watchReq.on('error', reject);
        watchReq.end();
      });
      assert.equal(watchRes.statusCode, 200);
      const list = await raw(cluster, '/api/v1/namespaces/default/configmaps', { cert: flooder });
      assert.equal(list.status, 200, list.body);
    } finally {
      watchReq.destroy();
    }
  });
});
