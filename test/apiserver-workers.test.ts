// The multi-worker apiserver (--apiserver-workers 2): two processes behind one port, each with
// its own watch cache. A write acknowledged by one worker is seen by a consistent get and list
// through the other at once; a worker killed with SIGKILL is replaced by the primary; the audit
// log, written by the primary for both, holds whole lines; /metrics sums both workers; SIGTERM
// to the primary leaves no process behind.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../lib/process/supervisor.js';
import { startCluster, type Cluster } from './harness.js';

const header = 'x-skiff-apiserver-worker';

/** Conn is one keep-alive connection to the apiserver: every request on it reaches the same worker. */
interface Conn {
  agent: https.Agent;
  worker: string;
}

let cluster: Cluster;
let tls: { ca: string; cert: string; key: string };

function send(agent: https.Agent, method: string, path: string, body?: object): Promise<{ status: number; worker: string; body: string }> {
  const url = new URL(path, cluster.server);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, agent, headers: { 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, worker: String(res.headers[header] ?? ''), body: text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** connect opens a new connection and reads which worker it landed on. */
async function connect(): Promise<Conn> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tls });
  const r = await send(agent, 'GET', '/version');
  assert.equal(r.status, 200);
  assert.match(r.worker, /^\d+$/, 'every response names its worker');
  return { agent, worker: r.worker };
}

/** connectionsOnTwoWorkers returns two connections answered by different workers. */
async function connectionsOnTwoWorkers(): Promise<[Conn, Conn]> {
  const a = await connect();
  for (let i = 0; i < 20; i++) {
    const b = await connect();
    if (b.worker !== a.worker) return [a, b];
    b.agent.destroy();
  }
  a.agent.destroy();
  throw new Error('20 connections all landed on one worker');
}

/** workerPids are the primary's children (the workers), from /proc. */
function workerPids(primary: number): number[] {
  return readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'], apiserverWorkers: 2 });
  tls = { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
});

after(async () => {
  await cluster?.stop();
});

describe('apiserver with two workers', () => {
  it('a write acknowledged by one worker is seen by a consistent get and list through the other', async () => {
    const [a, b] = await connectionsOnTwoWorkers();
    try {
      assert.equal((await send(a.agent, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'workers' } })).status, 201);
      for (let i = 0; i < 30; i++) {
        const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
        const created = await send(writer.agent, 'POST', '/api/v1/namespaces/workers/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } });
        assert.equal(created.status, 201, created.body);
        assert.equal(created.worker, writer.worker);
        const rv = Number(JSON.parse(created.body).metadata.resourceVersion);

        const got = await send(reader.agent, 'GET', `/api/v1/namespaces/workers/configmaps/cm-${i}`);
        assert.equal(got.worker, reader.worker);
        assert.equal(got.status, 200, `get of cm-${i} through worker ${reader.worker} after its create through worker ${writer.worker}: ${got.body}`);

        const listed = await send(reader.agent, 'GET', '/api/v1/namespaces/workers/configmaps');
        assert.equal(listed.worker, reader.worker);
        const list = JSON.parse(listed.body) as { metadata: { resourceVersion: string }; items: { metadata: { name: string } }[] };
        assert.ok(Number(list.metadata.resourceVersion) >= rv, `list resourceVersion ${list.metadata.resourceVersion} is older than the create's ${rv}`);
        assert.deepEqual(list.items.map((o) => o.metadata.name).sort(), Array.from({ length: i + 1 }, (_, k) => `cm-${k}`).sort());

        // An update through one worker, then a consistent list through the other shows the new data.
        const updated = await send(writer.agent, 'PUT', `/api/v1/namespaces/workers/configmaps/cm-${i}`, { ...JSON.parse(created.body), data: { i: `${i}-updated` } });
        assert.equal(updated.status, 200, updated.body);
        const after = JSON.parse((await send(reader.agent, 'GET', '/api/v1/namespaces/workers/configmaps')).body) as { items: { metadata: { name: string }; data: Record<string, string> }[] };
        assert.equal(after.items.find((o) => o.metadata.name === `cm-${i}`)?.data.i, `${i}-updated`);
      }
    } finally {
      a.agent.destroy();
      b.agent.destroy();
    }
  });

  it('/metrics sums both workers', async () => {
    const [a, b] = await connectionsOnTwoWorkers();
    try {
      const count = async (conn: Conn) => {
        const text = (await send(conn.agent, 'GET', '/metrics')).body;
        const m = /^apiserver_request_total\{verb="CREATE",resource="configmaps",code="201"[^}]*\} (\d+)/m.exec(text);
        return Number(m?.[1] ?? 0);
      };
      // The first test created 30 ConfigMaps, half through each worker: both workers answer 30.
      assert.equal(await count(a), 30);
      assert.equal(await count(b), 30);
    } finally {
      a.agent.destroy();
      b.agent.destroy();
    }
  });

  it('the audit log holds one whole JSON event per line from both workers', async () => {
    // Workers send their lines to the primary in batches; the file may lag by a batch.
    let events: { verb: string; objectRef?: { resource?: string; namespace?: string } }[] = [];
    const creates = () => events.filter((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps' && e.objectRef.namespace === 'workers').length;
    for (let i = 0; i < 50; i++) {
      const lines = readFileSync(cluster.config.home + '/logs/audit.log', 'utf8').split('\n').filter(Boolean);
      events = lines.map((l, n) => {
        try {
          return JSON.parse(l);
        } catch {
          assert.fail(`audit.log line ${n + 1} is not one JSON event: ${l.slice(0, 200)}`);
        }
      });
      if (creates() >= 30) break;
      await sleep(100);
    }
    // Each of the 30 creates (15 through each worker) is in the log once.
    assert.equal(creates(), 30);
  });

  it('a worker killed with SIGKILL is replaced', async () => {
    const primary = cluster.pid('apiserver')!;
    const before = workerPids(primary);
    assert.equal(before.length, 2, `the primary runs two workers: ${before.join(' ')}`);
    process.kill(before[0]!, 'SIGKILL');
    let now: number[] = [];
    for (let i = 0; i < 200; i++) {
      now = workerPids(primary);
      if (now.length === 2 && !now.includes(before[0]!)) break;
      await sleep(100);
    }
    assert.equal(now.length, 2, `after the kill: ${now.join(' ')}`);
    assert.ok(!now.includes(before[0]!), 'the killed worker is gone');
    // Both workers answer again (the new one once it listens).
    const seen = new Set<string>();
    for (let i = 0; i < 300 && seen.size < 2; i++) {
      const c = await connect().catch(() => undefined);
      if (c) {
        seen.add(c.worker);
        c.agent.destroy();
      }
      await sleep(100);
    }
    assert.deepEqual([...seen].sort(), ['0', '1']);
    assert.match(cluster.logs('apiserver'), /Apiserver worker exited; starting another/);
  });

  it('SIGTERM to the primary stops every worker and leaves no process', async () => {
    const primary = cluster.pid('apiserver')!;
    const workers = workerPids(primary);
    assert.equal(workers.length, 2);
    await cluster.kill('apiserver'); // SIGTERM, then waits for the primary to go
    for (let i = 0; i < 50 && workers.some((p) => isAlive(p)); i++) await sleep(100);
    assert.deepEqual(workers.filter((p) => isAlive(p)), [], 'no worker outlives the primary');
    assert.ok(!isAlive(primary));
    assert.match(cluster.logs('apiserver'), /Apiserver workers stopped/);
  });
});
