// Storage faults end to end (issue 9, defects 4 and 5): a state past gRPC's 4 MiB default across an
// apiserver restart, lists of a thousand 8 KB objects, and an apiserver paused (SIGSTOP) while a
// second apiserver on the same etcd writes megabytes, whose watch cache must catch up.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { EtcdStorage } from '../apiserver/storage/etcd.js';
import { objectKey } from '../apiserver/registry/keys.js';
import { signalComponent, startCluster, startExtraAPIServer, type Cluster, type ExtraAPIServer } from './harness.js';

interface WatchLine {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number };
}

/** openWatch streams a watch from the cluster's apiserver, collecting its events. */
function openWatch(cluster: Cluster, path: string) {
  const u = new URL(cluster.server + path);
  const events: WatchLine[] = [];
  let ended = false;
  const req = https.request({
    host: u.hostname,
    port: u.port,
    path: u.pathname + u.search,
    ca: readFileSync(cluster.caFile),
    cert: readFileSync(cluster.adminCert),
    key: readFileSync(cluster.adminKey),
    agent: false,
  });
  const opened = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let i; (i = buf.indexOf('\n')) >= 0; ) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchLine);
        }
      });
      res.on('close', () => (ended = true));
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (e) => (ended ? undefined : reject(e)));
  });
  req.end();
  return {
    events,
    opened,
    get ended() {
      return ended;
    },
    close: () => req.destroy(),
  };
}

/** createMany POSTs count ConfigMaps of size bytes into ns through send, a few at a time; it returns the highest resourceVersion. */
async function createMany(
  send: Cluster['request'],
  ns: string,
  count: number,
  size: number,
  prefix = 'cm',
): Promise<number> {
  const filler = 'x'.repeat(size);
  let next = 0;
  let highest = 0;
  const worker = async () => {
    for (let i; (i = next++) < count; ) {
      const name = `${prefix}-${String(i).padStart(4, '0')}`;
      const res = await send(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { metadata: { name }, data: { filler } } });
      assert.equal(res.status, 201, `create ${ns}/${name}: ${res.status} ${res.body.slice(0, 300)}`);
      highest = Math.max(highest, Number(JSON.parse(res.body).metadata.resourceVersion));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return highest;
}

/**
 * seedConfigMaps writes count ConfigMaps of size bytes into ns straight into etcd, as the
 * apiserver stores them: the state a list is tested against, made in a second, not a minute.
 */
async function seedConfigMaps(cluster: Cluster, ns: string, count: number, size: number): Promise<void> {
  const storage = new EtcdStorage({ endpoints: [cluster.etcdEndpoint], tls: cluster.etcdTLS });
  const filler = 'x'.repeat(size);
  const creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  let next = 0;
  const worker = async () => {
    for (let i; (i = next++) < count; ) {
      const name = `cm-${String(i).padStart(4, '0')}`;
      const key = objectKey({ group: '', plural: 'configmaps', namespaced: true }, ns, name);
      await storage.create(key, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, uid: randomUUID(), creationTimestamp }, data: { filler } });
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    await storage.close();
  }
}

async function createNamespace(cluster: Cluster, name: string): Promise<void> {
  const res = await cluster.request('/api/v1/namespaces', { method: 'POST', body: { metadata: { name } } });
  assert.equal(res.status, 201, res.body);
}

function names(body: string): string[] {
  return (JSON.parse(body) as { items: { metadata: { name: string } }[] }).items.map((o) => o.metadata.name);
}

describe('storage faults', { timeout: 240_000 }, () => {
  let cluster: Cluster;
  let second: ExtraAPIServer | undefined;
  before(async () => {
    cluster = await startCluster({ components: ['etcd', 'apiserver'] });
    await createNamespace(cluster, 'big');
    await createNamespace(cluster, 'bulk');
  });
  after(async () => {
    await second?.stop();
    await cluster?.stop();
  });

  test('a thousand 8 KB ConfigMaps list whole and in pages, by kubectl and by resourceVersion', async () => {
    await seedConfigMaps(cluster, 'big', 1000, 8192);
    const got = await cluster.kubectl(['get', 'configmaps', '-n', 'big', '-o', 'name']);
    assert.equal(got.code, 0, got.stderr + cluster.logs('apiserver').slice(-2000));
    assert.equal(got.stdout.trim().split('\n').filter((l) => l.startsWith('configmap/cm-')).length, 1000);

    const whole = await cluster.request('/api/v1/namespaces/big/configmaps?limit=1000');
    assert.equal(whole.status, 200, whole.body.slice(0, 500));
    assert.equal(names(whole.body).length, 1000);
    const rv = JSON.parse(whole.body).metadata.resourceVersion as string;
    // An exact read at one revision goes to etcd without a limit from the client.
    const exact = await cluster.request(`/api/v1/namespaces/big/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 200, exact.body.slice(0, 500));
    assert.equal(names(exact.body).length, 1000);

    // Pages at one revision add up to the whole list, in key order, without repeats.
    const seen: string[] = [];
    let cont = '';
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10, 'too many pages');
      const page = await cluster.request(`/api/v1/namespaces/big/configmaps?limit=300${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      const body = JSON.parse(page.body);
      seen.push(...names(page.body));
      if (!body.metadata.continue) break;
      cont = body.metadata.continue;
    }
    assert.deepEqual(seen, [...seen].sort());
    assert.equal(new Set(seen).size, 1000);
  });

  test('the apiserver restarts on more than 10 MiB of state and serves all of it', async () => {
    await createMany(cluster.request, 'bulk', 10, 256 * 1024);
    await cluster.restart('apiserver');
    const big = await cluster.request('/api/v1/namespaces/big/configmaps');
    assert.equal(big.status, 200, big.body.slice(0, 500));
    assert.equal(names(big.body).length, 1000);
    const bulk = await cluster.request('/api/v1/namespaces/bulk/configmaps');
    assert.equal(bulk.status, 200, bulk.body.slice(0, 500));
    assert.equal(names(bulk.body).length, 10);
  });

  test('an apiserver paused while another writes 12 MB catches up, and its watcher sees every event in order or a 410', async () => {
    second = await startExtraAPIServer(cluster);
    await createNamespace(cluster, 'flood');
    const start = await cluster.request('/api/v1/namespaces/flood/configmaps');
    assert.equal(start.status, 200, start.body);
    const from = JSON.parse(start.body).metadata.resourceVersion as string;
    const watch = openWatch(cluster, `/api/v1/namespaces/flood/configmaps?watch=1&resourceVersion=${from}`);
    assert.equal(await watch.opened, 200);
    const count = 400;
    let last = 0;
    signalComponent(cluster, 'apiserver', 'SIGSTOP');
    try {
      last = await createMany(second.request, 'flood', count, 30 * 1024, 'f');
    } finally {
      signalComponent(cluster, 'apiserver', 'SIGCONT');
    }
    try {
      // A list not older than the last write is served by the paused apiserver's cache once it caught up.
      let listed: string[] = [];
      for (const deadline = Date.now() + 30_000; listed.length !== count && Date.now() < deadline; ) {
        const res = await cluster.request(`/api/v1/namespaces/flood/configmaps?resourceVersion=${last}`);
        if (res.status === 200) listed = names(res.body);
        else if (res.status !== 504) assert.fail(`list answered ${res.status}: ${res.body.slice(0, 300)}`);
        if (listed.length !== count) await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(listed.length, count, `the cache did not catch up:\n${cluster.logs('apiserver').slice(-3000)}`);

      for (let i = 0; i < 100 && !watch.ended && watch.events.length < count; i++) await new Promise((r) => setTimeout(r, 100));
      const error = watch.events.findIndex((e) => e.type === 'ERROR');
      const before = error < 0 ? watch.events : watch.events.slice(0, error);
      const rvs = before.map((e) => Number(e.object.metadata?.resourceVersion));
      assert.ok(before.every((e) => e.type === 'ADDED'), `unexpected events: ${before.map((e) => e.type).join(',')}`);
      assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b), 'events out of order');
      assert.equal(new Set(rvs).size, rvs.length, 'an event came twice');
      if (error < 0) {
        assert.equal(before.length, count, 'the watcher missed events and got no error');
      } else {
        // The watcher was told to start over (410 Gone) and nothing followed the error.
        assert.equal(watch.events[error]!.object.code, 410);
        assert.equal(watch.events.length, error + 1);
      }
      // The writer's view and the paused one's agree.
      const there = await second.request(`/api/v1/namespaces/flood/configmaps?resourceVersion=${last}`);
      assert.deepEqual(names(there.body), listed);
    } finally {
      watch.close();
    }
  });
});
