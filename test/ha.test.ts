// A control plane of three members (lib/process/controlplane.ts) losing one under write load: a
// loop creates ConfigMaps through the load balancer and records every one the apiserver
// acknowledged; one member's etcd, apiserver, controller manager and scheduler get SIGKILL
// together; kubectl keeps answering through the balancer, every acknowledged ConfigMap is still
// there, another member's controller manager and scheduler take the Leases, and the killed
// member, started again on its data, rejoins the etcd cluster.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { startCluster, type Cluster } from './harness.js';
import { startWriteLoad } from './writeload.js';

/** etcdHealth reads a member's /health with etcd's client certificate (etcd serves no client without one). */
function etcdHealth(port: number, tls: Cluster['etcdTLS']): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/health', ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const members = 3;
// Short Leases keep the test quick (their ratios are the defaults' 15 s / 10 s / 2 s).
const leaseFlags = ['--leader-elect-lease-duration=4', '--leader-elect-renew-deadline=3', '--leader-elect-retry-period=1'];

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({
    controlPlane: members,
    extraArgs: { 'controller-manager': leaseFlags, scheduler: leaseFlags },
  });
});
after(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** leaseHolder is the holderIdentity of a kube-system Lease, or undefined while it has none. */
async function leaseHolder(name: string): Promise<string | undefined> {
  const r = await cluster.request(`/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`);
  if (r.status !== 200) return undefined;
  return (JSON.parse(r.body) as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
}

/** waitFor polls until fn returns a value, or fails with what it last saw. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** memberLeading is the member whose component logged that it leads with identity. */
function memberLeading(component: string, identity: string): number | undefined {
  for (let n = 1; n <= members; n++) {
    const log = cluster.logs(`${component}-${n}`);
    if (log.includes('Started leading') && log.includes(identity)) return n;
  }
  return undefined;
}

describe('a control plane of three members', () => {
  it('serves through the load balancer, with one leader per Lease', async () => {
    const r = await cluster.kubectl(['get', 'namespaces', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/kube-system/);
    for (const lease of ['kube-controller-manager', 'kube-scheduler']) {
      const holder = await waitFor(`a ${lease} leader`, () => leaseHolder(lease));
      const component = lease === 'kube-controller-manager' ? 'controller-manager' : 'scheduler';
      assert.ok(await waitFor(`the leading ${component}`, async () => memberLeading(component, holder)), `no member logged leading as ${holder}`);
    }
  });

  it('loses no acknowledged write when a member is killed, and a new leader takes over', async (t) => {
    const ns = 'ha-load';
    assert.equal((await cluster.kubectl(['create', 'namespace', ns])).code, 0);
    const cmHolder = await waitFor('a controller manager leader', () => leaseHolder('kube-controller-manager'));
    const victim = await waitFor('the leading controller manager', async () => memberLeading('controller-manager', cmHolder));

    // The write loop: every 201 is an acknowledged write that must survive.
    const load = startWriteLoad(async (name, seq) => {
      const r = await cluster.request(`/api/v1/namespaces/${ns}/configmaps`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { seq: String(seq) } } });
      if (r.status !== 201) throw new Error(String(r.status));
    });
    const { acknowledged, failures } = load;
    try {
      await waitFor('writes before the kill', async () => (acknowledged.length >= 20 ? true : undefined), 60_000);
      const before = acknowledged.length;
      // SIGKILL the whole member at once: its etcd, apiserver, controller manager and scheduler.
      const killedAt = Date.now();
      const failedBefore = failures.length;
      await Promise.all(['etcd', 'apiserver', 'controller-manager', 'scheduler'].map((c) => cluster.killHard(`${c}-${victim}`)));

      const r = await cluster.kubectl(['get', 'configmaps', '-n', ns, '-o', 'name']);
      assert.equal(r.code, 0, `kubectl through the load balancer after the kill: ${r.stderr}`);
      await waitFor('writes after the kill', async () => (acknowledged.length >= before + 20 ? true : undefined), 60_000);

      // The Lease passes to a controller manager of another member.
      const newHolder = await waitFor('a new controller manager leader', async () => {
        const h = await leaseHolder('kube-controller-manager');
        return h && h !== cmHolder ? h : undefined;
      });
      // Numbers for the record, not pass/fail: how long the Lease took to move, and what the kill cost the writer.
      t.diagnostic(`member ${victim} killed: new controller-manager leader after ${Date.now() - killedAt} ms (lease 4 s); ${failures.length - failedBefore} writes failed, ${acknowledged.length - before} acknowledged since`);
      const leader = await waitFor('the new leader member', async () => memberLeading('controller-manager', newHolder));
      assert.notEqual(leader, victim);
      // The scheduler's Lease may still name the killed member's scheduler until it expires: the
      // holder is read again on every poll.
      const schedLeader = await waitFor('the scheduler leader member', async () => {
        const holder = await leaseHolder('kube-scheduler');
        const m = holder === undefined ? undefined : memberLeading('scheduler', holder);
        return m !== undefined && m !== victim ? m : undefined;
      });
      assert.notEqual(schedLeader, victim);
    } finally {
      await load.stop();
    }

    // Every acknowledged ConfigMap is there.
    const list = await cluster.request(`/api/v1/namespaces/${ns}/configmaps`);
    assert.equal(list.status, 200, list.body);
    const stored = new Set((JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name));
    const lost = acknowledged.filter((n) => !stored.has(n));
    assert.deepEqual(lost, [], `acknowledged but missing (of ${acknowledged.length}; ${failures.length} writes failed: ${failures.slice(0, 5).join('; ')})`);

    // The killed member comes back on its data and rejoins.
    for (const c of ['etcd', 'apiserver', 'controller-manager', 'scheduler']) await cluster.restart(`${c}-${victim}`);
    const port = cluster.config.controlPlanePorts![victim - 1]!.etcdClientPort;
    await waitFor(`etcd-${victim} healthy in the cluster`, async () => {
      const body = (await etcdHealth(port, cluster.etcdTLS).catch(() => ({}))) as { health?: string };
      return body.health === 'true' ? true : undefined;
    });
    const r = await cluster.kubectl(['get', 'configmaps', '-n', ns, '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(acknowledged.every((n) => r.stdout.includes(`configmap/${n}\n`)), 'kubectl lists every acknowledged ConfigMap after the member rejoined');
  });
});
