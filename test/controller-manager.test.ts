// The controller-manager process as a whole: its health and metrics endpoints, --help, and
// leader election between two replicas (only the Lease holder acts; when it dies the other takes
// over and catches up from the API server).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contextFor } from '../lib/process/cluster.js';
import { controllerManager, nodeEntry } from '../lib/process/components.js';
import { freePort } from '../lib/process/ports.js';
import { startCluster, run, type Cluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

// Short leases so a takeover happens within seconds.
const leaseFlags = ['--leader-elect-lease-duration=3', '--leader-elect-renew-deadline=2', '--leader-elect-retry-period=0.5'];

function get(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ...tls, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('controller manager', () => {
  let cluster: Cluster;
  let second: ChildProcess | undefined;
  const { ok } = kubectlHelpers(() => cluster);

  before(async () => {
    cluster = await startCluster({ components: ['etcd', 'apiserver', 'controller-manager'], extraArgs: { 'controller-manager': [...leaseFlags, '--controllers=replicaset'] } });
  });
  after(async () => {
    second?.kill('SIGKILL');
    await cluster?.stop();
  });

  const holder = async () => (await ok(['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
  const podCount = async (sel: string) => (await ok(['get', 'pods', '-l', sel, '-o', 'name'])).split('\n').filter(Boolean).length;

  it('prints its flags with --help', async () => {
    const r = await run(process.execPath, [nodeEntry('controllers/main.js'), '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--kubeconfig', '--controllers', '--cluster-cidr', '--leader-elect', '--node-monitor-grace-period', '--secure-port']) assert.match(r.stdout, new RegExp(flag));
  });

  it('serves /healthz and /readyz to anyone, /metrics only to a client certificate from the cluster CA', async () => {
    const base = `https://127.0.0.1:${cluster.config.controllerManagerPort}`;
    const ca = readFileSync(cluster.caFile, 'utf8');
    assert.equal((await get(`${base}/healthz`, { ca })).status, 200);
    await until(async () => (await get(`${base}/readyz`, { ca })).status === 200, 20_000, 'controller manager ready');
    assert.equal((await get(`${base}/metrics`, { ca })).status, 401);
    const admin = { ca, cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
    // One reconcile shows up in the work queue and reconcile series.
    await ok(['apply', '-f', '-'], rsManifest('metrics', 0));
    let body = '';
    await until(async () => {
      const m = await get(`${base}/metrics`, admin);
      assert.equal(m.status, 200);
      body = m.body;
      return /^controller_runtime_reconcile_total\{[^}]*controller="replicaset"[^}]*result="success"/m.test(body);
    }, 20_000, 'a replicaset reconcile in /metrics');
    assert.match(body, /^workqueue_adds_total\{[^}]*name="replicaset"/m);
    assert.match(body, /^process_cpu_seconds_total/m);
  });

  it('lets only the Lease holder act, and hands over to the other replica when the holder dies', async () => {
    const first = await holder();
    assert.ok(first, 'the first controller manager holds the Lease');
    // A second replica with the same identity and flags, on its own health port.
    const ctx = contextFor({ ...cluster.config, controllerManagerPort: await freePort() });
    const cmd = controllerManager.command(ctx);
    second = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let secondLog = '';
    second.stderr!.setEncoding('utf8').on('data', (d: string) => (secondLog += d));
    process.once('exit', () => second?.kill('SIGKILL'));
    await until(() => secondLog.includes('Attempting to acquire leader lease'), 20_000, 'second replica campaigning');

    // With two replicas running, a ReplicaSet gets exactly its replicas: only the leader acts.
    await ok(['apply', '-f', '-'], rsManifest('le', 3));
    await until(async () => (await podCount('app=le')) === 3, 30_000, '3 pods');
    assert.equal(await holder(), first);
    assert.doesNotMatch(secondLog, /Started leading/);

    await cluster.kill('controller-manager');
    await until(async () => (await holder()) !== first && (await holder()) !== '', 30_000, 'the second replica to take the Lease');
    await until(() => secondLog.includes('Started leading'), 10_000, 'second replica leading');
    // The new leader catches up: a scale made while nobody led is carried out once.
    await ok(['scale', 'rs', 'le', '--replicas=5']);
    await until(async () => (await podCount('app=le')) === 5, 30_000, '5 pods from the new leader');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await podCount('app=le'), 5, 'no extra pods');
  });
});

function rsManifest(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [{ name: c, image: busybox }] }
`;
}
