// The proxy's health servers on loopback: a Service health check port answers 200 with kube-proxy's
// JSON while the node has a ready local endpoint, 503 without one or when the proxy lags; ports
// open and close with the Services; the proxier's /healthz and /livez follow queued changes and
// the Node's eligibility.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { newLogger } from '../lib/log.js';
import { service, slice } from './fixtures.js';
import { ProxierHealth, ServiceHealthServer, goTimeString, healthCheckPorts, localReadyEndpoints, serviceHealthBody } from './healthcheck.js';

const log = newLogger('test');

function get(port: number, path = '/'): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
      })
      .on('error', reject);
  });
}

/** freePort finds a port nothing listens on right now. */
async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('service health checks', () => {
  let clock = 1_000_000;
  const health = new ProxierHealth(60_000, () => clock);
  const server = new ServiceHealthServer({ addresses: ['127.0.0.1'], health, log });
  after(() => server.close());

  it('needs a port only for LoadBalancer Services with externalTrafficPolicy Local', () => {
    const lb = service('default', 'lb', '10.96.0.20', [{ port: 80 }], { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31000 });
    const cluster = service('default', 'cl', '10.96.0.21', [{ port: 80 }], { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' });
    const local = service('default', 'np', '10.96.0.22', [{ port: 80 }], { type: 'NodePort', externalTrafficPolicy: 'Local' });
    assert.deepEqual([...healthCheckPorts([lb, cluster, local])], [['default/lb', 31000]]);
  });

  it('counts distinct ready endpoint addresses on this node only', () => {
    const s1 = slice('default', 'web', [{ name: 'http', port: 80 }], [
      { ip: '10.0.0.1', node: 'me' },
      { ip: '10.0.0.2', node: 'me', ready: false },
      { ip: '10.0.0.3', node: 'other' },
    ]);
    const s2 = slice('default', 'web', [{ name: 'https', port: 443 }], [{ ip: '10.0.0.1', node: 'me' }, { ip: '10.0.0.4', node: 'me' }], 'web-2');
    assert.deepEqual([...localReadyEndpoints([s1, s2], 'me')], [['default/web', 2]]);
    assert.deepEqual([...localReadyEndpoints([s1], 'nobody')], []);
  });

  it('answers 200 with local endpoints, 503 without, as kube-proxy', async () => {
    const port = await freePort();
    await server.syncServices(new Map([['default/web', port]]));
    let r = await get(port, '/healthz');
    assert.equal(r.status, 503);
    assert.equal(r.type, 'application/json');
    assert.equal(r.body, serviceHealthBody('default', 'web', 0, true));
    assert.deepEqual(JSON.parse(r.body), { service: { namespace: 'default', name: 'web' }, localEndpoints: 0, serviceProxyHealthy: true });

    server.syncEndpoints(new Map([['default/web', 2]]));
    r = await get(port, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { service: { namespace: 'default', name: 'web' }, localEndpoints: 2, serviceProxyHealthy: true });

    // A change that waits longer than the health timeout: the proxy is not healthy, nor the Service here.
    health.queuedUpdate();
    clock += 61_000;
    r = await get(port, '/healthz');
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).serviceProxyHealthy, false);
    health.updated();
    assert.equal((await get(port, '/healthz')).status, 200);

    // Endpoints gone from the map: none.
    server.syncEndpoints(new Map());
    assert.equal((await get(port, '/healthz')).status, 503);
  });

  it('closes ports no longer wanted and moves a changed one', async () => {
    const [a, b] = [await freePort(), await freePort()];
    await server.syncServices(new Map([['default/web', a]]));
    await server.syncServices(new Map([['default/web', b]]));
    assert.deepEqual([...server.ports()], [['default/web', b]]);
    // The old port is closed: refused, or (tests run side by side) someone else's by now, not ours.
    const old = await get(a).catch((err: Error) => err);
    assert.ok(old instanceof Error ? /ECONNREFUSED/.test(old.message) : !old.body.includes('default/web'), `port ${a} still answers for default/web`);
    assert.equal((await get(b)).status, 503);
    await server.syncServices(new Map());
    assert.deepEqual([...server.ports()], []);
    const gone = await get(b).catch((err: Error) => err);
    assert.ok(gone instanceof Error ? /ECONNREFUSED/.test(gone.message) : !gone.body.includes('default/web'), `port ${b} still answers for default/web`);
  });

  it('reports a port it cannot open and keeps the others', async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as AddressInfo).port;
    const free = await freePort();
    const failed: string[] = [];
    const s = new ServiceHealthServer({ addresses: ['127.0.0.1'], health, log, onListenError: (key, port) => failed.push(`${key}:${port}`) });
    try {
      await s.syncServices(new Map([['default/a', taken], ['default/b', free]]));
      assert.deepEqual(failed, [`default/a:${taken}`]);
      assert.deepEqual([...s.ports()], [['default/b', free]]);
    } finally {
      await s.close();
      await new Promise((r) => busy.close(r));
    }
  });
});

describe('proxier health', () => {
  it('is healthy at start, while a change waits less than the timeout, and after a sync', () => {
    let clock = 5_000;
    const h = new ProxierHealth(60_000, () => clock);
    assert.equal(h.response('/healthz').status, 200);
    h.queuedUpdate();
    clock += 30_000;
    h.queuedUpdate(); // only the oldest pending change counts
    clock += 31_000;
    const r = h.response('/livez');
    assert.equal(r.status, 503);
    assert.equal(r.body, `{"lastUpdated": "0001-01-01 00:00:00 +0000 UTC","currentTime": "${goTimeString(clock)}"}`);
    h.updated();
    const ok = JSON.parse(h.response('/healthz').body);
    assert.deepEqual(ok, { lastUpdated: goTimeString(clock), currentTime: goTimeString(clock), nodeEligible: true });
    assert.equal(goTimeString(Date.UTC(2026, 11, 6, 20, 7, 16, 100)), '2026-12-06 20:07:16.1 +0000 UTC');
    assert.equal(goTimeString(Date.UTC(2026, 11, 6, 20, 7, 16)), '2026-12-06 20:07:16 +0000 UTC');
  });

  it('/healthz fails, /livez does not, while the Node is being removed', () => {
    const h = new ProxierHealth(60_000);
    h.syncNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } });
    assert.equal(h.response('/healthz').status, 503);
    assert.equal(JSON.parse(h.response('/healthz').body).nodeEligible, false);
    assert.equal(h.response('/livez').status, 200);
    h.syncNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: {} });
    assert.equal(h.response('/healthz').status, 200);
  });

  it('serves /healthz and /livez over HTTP, 404 elsewhere', async () => {
    const h = new ProxierHealth(60_000);
    const s = await h.serve('127.0.0.1', 0);
    try {
      const port = (s.address() as AddressInfo).port;
      assert.equal((await get(port, '/healthz')).status, 200);
      assert.equal((await get(port, '/livez')).status, 200);
      assert.equal((await get(port, '/metrics')).status, 404);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
