// `skiff join --control-plane` end to end. The cluster runs two control-plane members on this
// machine (`skiff up` with controlPlaneMembers 2, on this machine's address so that another
// machine reaches its etcd and its balancer); the second "machine" is a network namespace whose
// only link is a veth to this one. `skiff token create --control-plane` uploads the sealed CA keys
// and prints the join command with the certificate key. A wrong key fails and changes nothing;
// the real join adds a third etcd member and an apiserver, controller manager and scheduler in
// the namespace, and the balancer learns the new apiserver. Then, under a write loop through the
// balancer, the first member's etcd and apiserver get SIGKILL: kubectl through the new member
// answers, and every acknowledged write is there. `skiff join reset` takes the member out of etcd
// and stops its processes.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { ConfigMaps, RestClient } from '../lib/client/index.js';
import { nodeEntry } from '../lib/process/components.js';
import { freePorts } from '../lib/process/ports.js';
import { reserveSubnet } from '../lib/process/lab.js';
import { type ControlPlaneRecord, resetControlPlaneMember } from '../lib/process/joincontrolplane.js';
import { readState } from '../lib/process/supervisor.js';
import { kubectlBinary, reachableConfig, reserveNodeRanges, run, type CommandResult } from './harness.js';
import { wireSecondMachine } from './netns.js';
import { waitFor } from './node-fixture.js';
import { startWriteLoad } from './writeload.js';

const cli = nodeEntry('cli/main.js');
const scratch = mkdtempSync(join(tmpdir(), 'skiff-join-cp-test-'));
const home = join(scratch, 'cluster');
const nodeHome = join(scratch, 'machine2');
const lockHome = join(scratch, 'lock');
const suffix = randomBytes(2).toString('hex');
const netns = `skc-${suffix}`;
const veth = `skc${suffix}h`;
const memberName = `cp-${suffix}`;
const env = { ...process.env, SKIFF_HOME: home, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(scratch, 'kubecache') };
let ranges: ReturnType<typeof reserveNodeRanges> | undefined;
let subnet: string | undefined;
let advertise = '';
const skip = process.getuid?.() !== 0 ? 'needs root' : spawnSync('which', ['etcd', 'kubectl', 'nsenter']).status !== 0 ? 'needs etcd, kubectl and nsenter' : '';

function skiff(args: string[], timeoutMs = 300_000): Promise<CommandResult> {
  return run(process.execPath, ['--enable-source-maps', cli, ...args], { env, timeoutMs });
}

/** onMachine2 runs a command inside the second machine's namespace. */
function onMachine2(command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<CommandResult> {
  return run('nsenter', [`--net=/run/netns/${netns}`, command, ...args], { env: { ...process.env, SKIFF_HOME: nodeHome, ...extraEnv }, timeoutMs });
}

function joinOnMachine2(args: string[]): Promise<CommandResult> {
  return onMachine2(process.execPath, ['--enable-source-maps', cli, 'join', ...args, '--home', nodeHome]);
}

/** killMachine2 SIGKILLs every process whose command line names the second machine's home (only this test's). */
function killMachine2(): void {
  const r = spawnSync('pgrep', ['-f', nodeHome], { encoding: 'utf8' });
  for (const pid of r.stdout.split('\n').filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function teardownSync(): void {
  killMachine2();
  spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'del', veth], { stdio: 'ignore' });
  if (existsSync(join(home, 'cluster.json'))) spawnSync(process.execPath, [cli, 'down'], { env, stdio: 'ignore', timeout: 120_000 });
  if (subnet) rmSync(join(tmpdir(), 'skiff-lab-subnets', subnet.split('.')[2]!), { recursive: true, force: true });
  subnet = undefined;
  rmSync(scratch, { recursive: true, force: true });
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
after(async () => {
  const record = existsSync(join(nodeHome, 'join.json')) ? (JSON.parse(readFileSync(join(nodeHome, 'join.json'), 'utf8')) as ControlPlaneRecord) : undefined;
  if (record) await resetControlPlaneMember(nodeHome, record, () => undefined).catch(() => undefined);
  teardownSync();
});

/** etcdMembers lists the etcd cluster's member names through this machine's first member. */
async function etcdMembers(port: number): Promise<string[]> {
  const pki = join(home, 'pki', 'etcd');
  const c = new Etcd3({
    hosts: `https://127.0.0.1:${port}`,
    credentials: { rootCertificate: readFileSync(join(pki, 'ca.crt')), certChain: readFileSync(join(pki, 'apiserver-etcd-client.crt')), privateKey: readFileSync(join(pki, 'apiserver-etcd-client.key')) },
  });
  try {
    return (await c.cluster.memberList({})).members.map((m) => m.name || '(unstarted)').sort();
  } finally {
    c.close();
  }
}

function machine2Files(): string[] {
  return existsSync(nodeHome) ? readdirSync(nodeHome, { recursive: true }).map(String).filter((f) => !f.startsWith('logs')) : [];
}

test('skiff join --control-plane: a member on another machine, surviving the first member, and its reset', { skip: skip || false, timeout: 900_000 }, async (t) => {
  ranges = reserveNodeRanges(home);
  const config = await reachableConfig(home, ranges);
  advertise = config.advertiseAddress;
  assert.notEqual(advertise, '127.0.0.1', 'the machine needs a non-loopback address');
  const ports = await freePorts(12);
  config.controlPlaneMembers = 2;
  config.controlPlanePorts = [0, 1].map((i) => {
    const [etcdClientPort, etcdPeerPort, etcdMetricsPort, apiserverPort, controllerManagerPort, schedulerPort] = ports.slice(6 * i, 6 * i + 6) as number[];
    return { etcdClientPort: etcdClientPort!, etcdPeerPort: etcdPeerPort!, etcdMetricsPort: etcdMetricsPort!, apiserverPort: apiserverPort!, controllerManagerPort: controllerManagerPort!, schedulerPort: schedulerPort! };
  });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'cluster.json'), JSON.stringify(config, null, 2));
  const up = await skiff(['up']);
  assert.equal(up.code, 0, `skiff up: ${up.stdout}\n${up.stderr}`);
  const etcd1 = config.controlPlanePorts[0]!.etcdClientPort;
  assert.deepEqual(await etcdMembers(etcd1), ['etcd-1', 'etcd-2']);

  // The second machine: a namespace whose only link is a veth to this one.
  mkdirSync(lockHome, { recursive: true });
  writeFileSync(join(lockHome, 'lab.json'), '{}\n');
  subnet = await reserveSubnet(lockHome);
  // Only the apiserver's address is routed out of the namespace, and only to this machine.
  const { machineIP } = wireSecondMachine(netns, veth, subnet, advertise);

  const created = await skiff(['token', 'create', '--control-plane']);
  assert.equal(created.code, 0, created.stderr);
  const m = /^skiff join (https:\/\/\S+) --token (\S+) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) --control-plane --certificate-key ([0-9a-f]{64})\n$/.exec(created.stdout);
  assert.ok(m, created.stdout);
  const [, endpoint, token, hash, key] = m as unknown as string[];
  // The sealed keys are in kube-system, owned by a 2h token; kubeadm-config names the members.
  const secret = JSON.parse((await run(kubectlBinary(), ['get', 'secret', '-n', 'kube-system', 'kubeadm-certs', '-o', 'json'], { env })).stdout) as { data: Record<string, string>; metadata: { ownerReferences: { kind: string }[] } };
  assert.ok(secret.data['ca.key'] && !Buffer.from(secret.data['ca.key'], 'base64').toString('latin1').includes('PRIVATE KEY'), 'the CA key is sealed');
  assert.equal(secret.metadata.ownerReferences[0]?.kind, 'Secret');

  // A wrong certificate key: nothing is written and etcd keeps two members.
  const wrongKey = (key!.startsWith('0') ? '1' : '0') + key!.slice(1);
  const bad = await joinOnMachine2([endpoint!, '--token', token!, '--discovery-token-ca-cert-hash', hash!, '--control-plane', '--certificate-key', wrongKey, '--node-name', memberName]);
  assert.equal(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, /error decoding secret data with provided key: cipher: message authentication failed/);
  assert.deepEqual(machine2Files(), []);
  assert.deepEqual(await etcdMembers(etcd1), ['etcd-1', 'etcd-2']);

  // The join.
  const joined = await joinOnMachine2([endpoint!, '--token', token!, '--discovery-token-ca-cert-hash', hash!, '--control-plane', '--certificate-key', key!, '--node-name', memberName]);
  assert.equal(joined.code, 0, `join: ${joined.stdout}\n${joined.stderr}`);
  assert.match(joined.stdout, new RegExp(`\\[etcd\\] Added etcd member ${memberName} `));
  assert.match(joined.stdout, /This machine has joined the cluster as a control-plane member/);
  assert.deepEqual(await etcdMembers(etcd1), ['etcd-1', 'etcd-2', memberName].sort());
  // The balancer learns the new apiserver from kubeadm-config.
  const lbLog = () => (existsSync(join(home, 'logs', 'apiserver-lb.log')) ? readFileSync(join(home, 'logs', 'apiserver-lb.log'), 'utf8') : '');
  await waitFor('the balancer to add the new member', async () => /Added a backend that joined the control plane/.test(lbLog()) && lbLog().includes(`${machineIP}:6443`), 60_000);
  await waitFor('the new backend ready', async () => lbLog().split('\n').some((l) => l.includes('Backend is ready') && l.includes(`${machineIP}:6443`)), 60_000);

  // kubectl through the new member (its admin kubeconfig, inside its namespace).
  const member2kubectl = (args: string[]) => onMachine2(kubectlBinary(), ['--kubeconfig', join(nodeHome, 'admin.kubeconfig'), ...args], { KUBECACHEDIR: join(scratch, 'kubecache2') });
  const ns = (await member2kubectl(['get', 'namespace', 'kube-system', '-o', 'name']));
  assert.equal(ns.code, 0, ns.stderr);

  // Writes through the balancer while the first member's etcd and apiserver die.
  const kc = new KubeConfig();
  kc.loadFromFile(join(home, 'admin.kubeconfig'));
  const client = new RestClient(kc, { userAgent: 'join-cp-test', timeoutMs: 5_000 });
  const load = startWriteLoad((name, seq) => client.create(ConfigMaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { seq: String(seq) } }));
  const { acknowledged, failures } = load;
  try {
    await waitFor('writes before the kill', async () => acknowledged.length >= 20, 60_000);
    const before = acknowledged.length;
    for (const c of ['apiserver-1', 'etcd-1']) {
      const s = readState(join(home, 'run', `${c}.json`));
      assert.ok(s, `${c} runs`);
      process.kill(s.pid, 'SIGKILL');
    }
    const through2 = await member2kubectl(['get', 'configmaps', '-n', 'default', '-o', 'name']);
    assert.equal(through2.code, 0, `kubectl through the joined member after the kill: ${through2.stderr}`);
    const throughLB = await run(kubectlBinary(), ['get', 'configmaps', '-n', 'default', '-o', 'name'], { env });
    assert.equal(throughLB.code, 0, `kubectl through the balancer after the kill: ${throughLB.stderr}`);
    await waitFor('writes after the kill', async () => acknowledged.length >= before + 20, 90_000);
    t.diagnostic(`${acknowledged.length} writes acknowledged, ${failures.length} failed`);
  } finally {
    await load.stop();
  }
  const listed = await member2kubectl(['get', 'configmaps', '-n', 'default', '-o', 'name']);
  assert.equal(listed.code, 0, listed.stderr);
  const stored = new Set(listed.stdout.split('\n').map((l) => l.replace('configmap/', '')));
  assert.deepEqual(acknowledged.filter((n) => !stored.has(n)), [], `acknowledged but missing; failures: ${failures.slice(0, 5).join('; ')}`);

  // skiff join reset: the member leaves etcd and kubeadm-config, and nothing of it runs.
  await waitFor('etcd-1 back', async () => (await etcdMembers(etcd1).catch(() => [])).length === 3, 90_000);
  const reset = await onMachine2(process.execPath, [cli, 'join', 'reset', '--home', nodeHome]);
  assert.equal(reset.code, 0, `${reset.stdout}\n${reset.stderr}`);
  assert.match(reset.stdout, new RegExp(`Removed etcd member ${memberName}`));
  assert.deepEqual(await etcdMembers(etcd1), ['etcd-1', 'etcd-2']);
  assert.equal(spawnSync('pgrep', ['-f', nodeHome]).status, 1, 'no process of the second machine runs');
  await waitFor('the balancer to drop the member', async () => /Removed a backend that left the control plane/.test(lbLog()), 30_000);
  assert.deepEqual(machine2Files(), []);
});
