// Node authorization end to end: a kubelet's identity (a client certificate for
// system:node:<name> in system:nodes, minted from the cluster CA) reads only the secrets of pods
// bound to its node and changes only its own Node, while the node simulator keeps running its
// simulated nodes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureClientCert } from '../lib/pki.js';
import { type Cluster, startCluster } from './harness.js';

let cluster: Cluster;
let asNode: (path: string, opts?: { method?: string; body?: object; contentType?: string }) => Promise<{ status: number; body: any }>;

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver', 'sim'], simulatedNodes: 2 });
  const files = await ensureClientCert(dirname(cluster.caFile), { name: 'test-node-sim-0', commonName: 'system:node:sim-0', organizations: ['system:nodes'] });
  const tls = { ca: readFileSync(cluster.caFile), cert: readFileSync(files.cert), key: readFileSync(files.key) };
  asNode = (path, opts = {}) =>
    new Promise((resolve, reject) => {
      const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const req = https.request(new URL(path, cluster.server), { method: opts.method ?? 'GET', ...tls, agent: false, headers: { Accept: 'application/json', ...(body ? { 'Content-Type': opts.contentType ?? 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end(body);
    });
});

after(async () => {
  await cluster?.stop();
});

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pod(name: string, nodeName: string, secret: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] }] },
  };
}

test('a kubelet reads the secret of a pod bound to it, not one of a pod on another node', async () => {
  await waitFor('the simulated nodes', async () => {
    const r = await cluster.request('/api/v1/nodes');
    return JSON.parse(r.body).items?.length === 2;
  });
  for (const [name, secret, node] of [['on-0', 'secret-0', 'sim-0'], ['on-1', 'secret-1', 'sim-1']]) {
    const s = await cluster.request('/api/v1/namespaces/default/secrets', { method: 'POST', body: { metadata: { name: secret }, stringData: { k: 'v' } } });
    assert.equal(s.status, 201, s.body);
    const p = await cluster.request('/api/v1/namespaces/default/pods', { method: 'POST', body: pod(name, node, secret) });
    assert.equal(p.status, 201, p.body);
  }
  // The graph follows the watch cache: the first read may come just before the pod reaches it.
  await waitFor('secret-0 readable by sim-0', async () => (await asNode('/api/v1/namespaces/default/secrets/secret-0')).status === 200);
  const mine = await asNode('/api/v1/namespaces/default/secrets/secret-0');
  assert.equal(Buffer.from(mine.body.data.k, 'base64').toString(), 'v');

  const theirs = await asNode('/api/v1/namespaces/default/secrets/secret-1');
  assert.equal(theirs.status, 403);
  assert.equal(theirs.body.reason, 'Forbidden');
  assert.equal(
    theirs.body.message,
    `secrets "secret-1" is forbidden: User "system:node:sim-0" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'sim-0' and this object`,
  );
  // Listing every secret is no read of one object the node reaches.
  assert.equal((await asNode('/api/v1/namespaces/default/secrets')).status, 403);
  // Pods: its own by field selector, not everyone's.
  const listed = await asNode('/api/v1/pods?fieldSelector=spec.nodeName%3Dsim-0');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items.map((p: any) => p.metadata.name), ['on-0']);
  assert.equal((await asNode('/api/v1/pods')).status, 403);

  // Once the pod is gone, so is the node's access to its secret.
  const del = await cluster.request('/api/v1/namespaces/default/pods/on-0?gracePeriodSeconds=0', { method: 'DELETE' });
  assert.equal(del.status, 200, del.body);
  await waitFor('secret-0 refused after its pod left', async () => (await asNode('/api/v1/namespaces/default/secrets/secret-0')).status === 403);
});

test('a kubelet patches its own Node but not another, and cannot change its taints', async () => {
  const own = await asNode('/api/v1/nodes/sim-0', { method: 'PATCH', body: { metadata: { labels: { 'example.com/team': 'a' } } }, contentType: 'application/merge-patch+json' });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal(own.body.metadata.labels['example.com/team'], 'a');

  const other = await asNode('/api/v1/nodes/sim-1', { method: 'PATCH', body: { metadata: { labels: { 'example.com/team': 'a' } } }, contentType: 'application/merge-patch+json' });
  assert.equal(other.status, 403);
  assert.equal(other.body.message, 'nodes "sim-1" is forbidden: node "sim-0" is not allowed to modify node "sim-1"');
  const otherStatus = await asNode('/api/v1/nodes/sim-1/status', { method: 'PATCH', body: { status: { phase: 'Running' } }, contentType: 'application/merge-patch+json' });
  assert.equal(otherStatus.status, 403);

  const taint = await asNode('/api/v1/nodes/sim-0', { method: 'PATCH', body: { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }, contentType: 'application/merge-patch+json' });
  assert.equal(taint.status, 403);
  assert.equal(taint.body.message, 'nodes "sim-0" is forbidden: node "sim-0" is not allowed to modify taints');
  const label = await asNode('/api/v1/nodes/sim-0', { method: 'PATCH', body: { metadata: { labels: { 'node-restriction.kubernetes.io/x': 'y' } } }, contentType: 'application/merge-patch+json' });
  assert.equal(label.status, 403);
  assert.equal(label.body.message, 'nodes "sim-0" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/x');

  // Reading another Node is refused too, its own is not.
  assert.equal((await asNode('/api/v1/nodes/sim-0')).status, 200);
  assert.equal((await asNode('/api/v1/nodes/sim-1')).status, 403);
});

test('the node simulator still runs pods on its nodes', async () => {
  const p = await cluster.request('/api/v1/namespaces/default/pods', { method: 'POST', body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'simmed' }, spec: { nodeName: 'sim-1', containers: [{ name: 'c', image: 'busybox' }] } } });
  assert.equal(p.status, 201, p.body);
  await waitFor('the simulated pod Running', async () => JSON.parse((await cluster.request('/api/v1/namespaces/default/pods/simmed')).body).status?.phase === 'Running');
});
