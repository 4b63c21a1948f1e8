// `skiff lab up --control-plane 3` end to end, driven through the CLI on a temporary home: member
// 1 on this machine, members 2 and 3 each in a lab namespace of their own (no worker nodes, to keep
// it cheap). etcd has three members whose peer URLs are the namespaces' addresses over TLS;
// kubectl works through the balancer; `skiff status` lists every member's processes healthy. Under
// a ConfigMap write loop through the balancer, the member whose controller manager leads is
// stopped with `skiff lab node stop` (SIGKILL of its four processes, its veth cut): kubectl keeps
// answering, every acknowledged write is there, both Leases move to other members, and the member
// stays down. `lab node start` brings it back and its etcd serves a linearizable read again. `lab
// down --purge` leaves no namespace, link or process of the lab. Short Leases (4 s) keep it quick.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { ConfigMaps, RestClient } from '../lib/client/index.js';
import { defaultConfig } from '../lib/process/cluster.js';
import { nodeEntry, type ClusterConfig } from '../lib/process/components.js';
import { leftovers, loadLab, netnsName, type LabLayout } from '../lib/process/lab.js';
import { freePorts } from '../lib/process/ports.js';
import { isAlive, readState } from '../lib/process/supervisor.js';
import { kubectlBinary, reachableConfig, reserveNodeRanges, run, type CommandResult } from './harness.js';
import { waitFor } from './node-fixture.js';
import { startWriteLoad } from './writeload.js';

const cli = nodeEntry('cli/main.js');
const advertise = defaultConfig('/nonexistent').advertiseAddress;
const skip =
  process.getuid?.() !== 0 ? 'needs root' : spawnSync('which', ['etcd', 'kubectl', 'nsenter']).status !== 0 ? 'needs etcd, kubectl and nsenter' : advertise === '127.0.0.1' ? 'no non-loopback address' : '';

const home = mkdtempSync(join(tmpdir(), 'skiff-labcp-test-'));
const prefix = `c${randomBytes(2).toString('hex')}`;
const env = { ...process.env, SKIFF_HOME: home, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(home, 'kubecache') };
let ranges: ReturnType<typeof reserveNodeRanges> | undefined;
let lab: LabLayout | undefined;
// Short Leases keep the test quick (their ratios are the defaults' 15 s / 10 s / 2 s).
const leaseFlags = ['--leader-elect-lease-duration=4', '--leader-elect-renew-deadline=3', '--leader-elect-retry-period=1'];

function skiff(args: string[], timeoutMs = 300_000): Promise<CommandResult> {
  return run(process.execPath, ['--enable-source-maps', cli, ...args], { env, timeoutMs });
}

/** teardownSync takes the lab down and deletes the home; anything of this home still running (by its path) gets SIGKILL, its namespaces go. */
function teardownSync(): void {
  if (existsSync(home)) {
    // SKIFF_KEEP_TEST_LOGS=DIR keeps the components' logs for a look after a failure.
    if (process.env.SKIFF_KEEP_TEST_LOGS) spawnSync('cp', ['-r', join(home, 'logs'), process.env.SKIFF_KEEP_TEST_LOGS], { stdio: 'ignore' });
    spawnSync(process.execPath, [cli, 'lab', 'down', '--purge'], { env, stdio: 'ignore', timeout: 120_000 });
    const r = spawnSync('pgrep', ['-f', home], { encoding: 'utf8' });
    for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const m of lab?.controlPlane ?? []) if (m.ip) spawnSync('ip', ['netns', 'del', netnsName(m)], { stdio: 'ignore' });
    if (lab) spawnSync('ip', ['link', 'del', lab.bridge], { stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  }
  ranges?.release();
  ranges = undefined;
}
process.on('exit', teardownSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    teardownSync();
    process.kill(process.pid, sig);
  });
}
after(teardownSync);

async function kubectl(args: string[]): Promise<string> {
  const r = await run(kubectlBinary(), args, { env });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** leaseHolder is the holderIdentity of a kube-system Lease, or undefined while it has none. */
async function leaseHolder(name: string): Promise<string | undefined> {
  const r = await run(kubectlBinary(), ['get', 'lease', '-n', 'kube-system', name, '-o', 'jsonpath={.spec.holderIdentity}'], { env });
  return r.code === 0 && r.stdout ? r.stdout : undefined;
}

/** memberLeading is the member whose component logged that it leads with identity. */
function memberLeading(component: string, identity: string): number | undefined {
  for (let n = 1; n <= 3; n++) {
    const file = join(home, 'logs', `${component}-${n}.log`);
    const log = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (log.split('\n').some((l) => l.includes('Started leading') && l.includes(identity))) return n;
  }
  return undefined;
}

/** etcdClient talks to one etcd member with the apiserver's client certificate. */
function etcdClient(url: string): Etcd3 {
  const pki = join(home, 'pki', 'etcd');
  return new Etcd3({
    hosts: url,
    dialTimeout: 3_000,
    credentials: { rootCertificate: readFileSync(join(pki, 'ca.crt')), certChain: readFileSync(join(pki, 'apiserver-etcd-client.crt')), privateKey: readFileSync(join(pki, 'apiserver-etcd-client.key')) },
  });
}

test('skiff lab up --control-plane 3: members in namespaces, one lost under writes, back again, nothing left', { skip: skip || false, timeout: 600_000 }, async (t) => {
  ranges = reserveNodeRanges(home);
  const config: ClusterConfig = {
    ...(await reachableConfig(home, ranges)),
    cgroupRoot: `/skl-${prefix}`,
    cniBridge: `sklb${prefix}`,
    sinkDevice: `skls${prefix}`,
    cniNetworkName: `skl-${prefix}`,
    simulatedNodes: 0,
    extraArgs: { 'controller-manager': leaseFlags, scheduler: leaseFlags },
  };
  // Member 1 is on this machine: free ports of its own (members 2 and 3 have their namespaces' standard ones).
  const [etcdClientPort, etcdPeerPort, etcdMetricsPort, apiserverPort, controllerManagerPort, schedulerPort] = (await freePorts(6)) as [number, number, number, number, number, number];
  config.controlPlanePorts = [{ etcdClientPort, etcdPeerPort, etcdMetricsPort, apiserverPort, controllerManagerPort, schedulerPort }];
  writeFileSync(join(home, 'cluster.json'), JSON.stringify(config, null, 2));

  const t0 = Date.now();
  const phase = (what: string) => t.diagnostic(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const up = await skiff(['lab', 'up', '--control-plane', '3', '--nodes', '0', '--node-prefix', prefix]);
  phase('lab up done');
  t.diagnostic(up.stdout);
  lab = loadLab(home);
  assert.equal(up.code, 0, `lab up: ${up.stdout}\n${up.stderr}`);
  assert.match(up.stdout, /The lab is up: 0 nodes Ready and 3 control-plane members \(2 in namespaces\)/);
  assert.ok(lab?.controlPlane);
  const members = lab.controlPlane;
  assert.deepEqual(members.map((m) => m.name), [1, 2, 3].map((n) => `${prefix}-cp-${n}`));
  assert.equal(members[0]!.ip, undefined);
  t.diagnostic(`lab ${lab.bridge} ${lab.subnet}: ${members.map((m) => `${m.name} ${m.ip ?? 'host'}`).join(', ')}`);

  // etcd: three members, 2 and 3 peering over TLS on their namespaces' addresses.
  const etcd1 = etcdClient(`https://127.0.0.1:${etcdClientPort}`);
  try {
    const list = (await etcd1.cluster.memberList({})).members.map((m) => ({ name: m.name, peer: m.peerURLs.join(','), client: m.clientURLs.join(',') }));
    list.sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(list, [
      { name: 'etcd-1', peer: `https://${advertise}:${etcdPeerPort}`, client: `https://${advertise}:${etcdClientPort}` },
      { name: 'etcd-2', peer: `https://${members[1]!.ip}:2380`, client: `https://${members[1]!.ip}:2379` },
      { name: 'etcd-3', peer: `https://${members[2]!.ip}:2380`, client: `https://${members[2]!.ip}:2379` },
    ]);
  } finally {
    etcd1.close();
  }
  // Each namespaced member's processes run in its namespace (the host has no listener on its address).
  for (const m of members.slice(1)) {
    const inside = spawnSync('ip', ['netns', 'pids', netnsName(m)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    for (const c of ['etcd', 'apiserver', 'controller-manager', 'scheduler']) {
      const s = readState(join(home, 'run', `${c}-${m.member}.json`));
      assert.ok(s && inside.includes(s.pid), `${c}-${m.member} runs in ${netnsName(m)}`);
    }
  }
  // kubectl through the balancer, which balances all three apiservers.
  await kubectl(['get', 'namespace', 'kube-system', '-o', 'name']);
  const lbLog = readFileSync(join(home, 'logs', 'apiserver-lb.log'), 'utf8');
  for (const m of members.slice(1)) assert.ok(lbLog.includes(`${m.ip}:6443`), `the balancer forwards to ${m.ip}:6443`);
  // skiff status: every member's four processes, running and healthy.
  const status = await skiff(['status']);
  assert.equal(status.code, 0, status.stdout);
  for (const n of [1, 2, 3]) for (const c of ['etcd', 'apiserver', 'controller-manager', 'scheduler']) assert.match(status.stdout, new RegExp(`^${c}-${n} .* Running .* healthy`, 'm'));

  for (let round = 1; round <= 2; round++) {
    // The member whose controller manager leads is stopped under a write loop through the balancer.
    // A leader on this machine (member 1) is followed by a second round, so that a member in a
    // namespace (its veth cut) is always among those stopped.
    const cmHolder = await waitFor('a controller manager leader', () => leaseHolder('kube-controller-manager'), 60_000);
    const victim = await waitFor('the leading controller manager', async () => memberLeading('controller-manager', cmHolder), 30_000);
    const victimName = members[victim - 1]!.name;
    phase('checks done');
    const kc = new KubeConfig();
    kc.loadFromFile(join(home, 'admin.kubeconfig'));
    const client = new RestClient(kc, { userAgent: 'lab-controlplane-test', timeoutMs: 5_000 });
    const load = startWriteLoad((name, seq) => client.create(ConfigMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { seq: String(seq) } }), `cm-${round}-`);
    const { acknowledged, failures } = load;
    try {
      await waitFor('writes before the stop', async () => acknowledged.length >= 20, 60_000);
      const before = acknowledged.length;
      const stoppedAt = Date.now();
      const stop = await skiff(['lab', 'node', 'stop', victimName]);
      assert.equal(stop.code, 0, `${stop.stdout}\n${stop.stderr}`);
      phase('stopped');
      const m = members[victim - 1]!;
      if (m.ip) assert.doesNotMatch(spawnSync('ip', ['-o', 'link', 'show', 'dev', `${lab.bridge}c${victim}`], { encoding: 'utf8' }).stdout, /[<,]UP[,>]/, 'its veth is cut');
      // kubectl answers through the balancer. An etcd leader election (the stopped member may have
      // led etcd) can fail requests for a moment: the apiserver's etcd client opens its per-host
      // circuit breakers after three failures in a row, for 5 s, so an answer is waited for.
      let refused = 0;
      await waitFor('kubectl answering after the stop', async () => {
        const r = await run(kubectlBinary(), ['get', 'namespace', 'kube-system', '-o', 'name'], { env });
        if (r.code !== 0) refused++;
        return r.code === 0;
      }, 30_000);
      phase(`kubectl answered (${refused} failed tries before)`);
      await waitFor('writes after the stop', async () => acknowledged.length >= before + 20, 90_000);
      // Both Leases go to another member's controller manager and scheduler.
      await waitFor('a new controller manager leader', async () => {
        const h = await leaseHolder('kube-controller-manager');
        const n = h && h !== cmHolder ? memberLeading('controller-manager', h) : undefined;
        return n !== undefined && n !== victim;
      }, 60_000);
      const movedMs = Date.now() - stoppedAt;
      phase('lease moved');
      await waitFor('a scheduler leader on another member', async () => {
        const h = await leaseHolder('kube-scheduler');
        const n = h ? memberLeading('scheduler', h) : undefined;
        return n !== undefined && n !== victim;
      }, 60_000);
      t.diagnostic(`${victimName} (member ${victim}) stopped: controller-manager Lease moved after ${movedMs} ms (lease 4 s); ${acknowledged.length} writes acknowledged, ${failures.length} failed`);
    } finally {
      await load.stop();
    }
    const stored = new Set((await kubectl(['get', 'configmaps', '-n', 'default', '-o', 'name'])).split('\n').map((l) => l.replace('configmap/', '')));
    assert.deepEqual(acknowledged.filter((n) => !stored.has(n)), [], `acknowledged but missing; failures: ${failures.slice(0, 5).join('; ')}`);
    // The stopped member stays down (the supervisor forgot it).
    for (const c of ['etcd', 'apiserver', 'controller-manager', 'scheduler']) {
      const s = readState(join(home, 'run', `${c}-${victim}.json`));
      assert.ok(!s || !isAlive(s), `${c}-${victim} stays down`);
    }

    // lab node start: the member comes back on its data; each etcd member serves a linearizable read.
    phase('writes checked');
    const start = await skiff(['lab', 'node', 'start', victimName]);
    phase('started');
    assert.equal(start.code, 0, `${start.stdout}\n${start.stderr}`);
    const urls = members.map((m) => (m.ip ? `https://${m.ip}:2379` : `https://127.0.0.1:${etcdClientPort}`));
    for (const url of urls) {
      await waitFor(`etcd at ${url} serving`, async () => {
        const c = etcdClient(url);
        try {
          await c.get('skiff-test-probe').string();
          return true;
        } catch {
          return false;
        } finally {
          c.close();
        }
      }, 60_000);
    }
    assert.equal((await skiff(['status'])).code, 0, 'every component runs and is healthy again');
    phase(`round ${round} done`);
    if (members[victim - 1]!.ip) break;
  }

  phase('rejoined');
  // lab down --purge: nothing of the lab is left.
  const down = await skiff(['lab', 'down', '--purge'], 180_000);
  assert.equal(down.code, 0, `${down.stdout}\n${down.stderr}`);
  phase('down');
  assert.deepEqual(await leftovers(lab), []);
  assert.equal(spawnSync('pgrep', ['-f', home]).status, 1, 'no process of the lab runs');
  assert.ok(!existsSync(home));
});
