// `skiff join` end to end: the second "machine" is a network namespace that reaches the first only
// through a veth (a /24 of 172.31.0.0/16 taken with the lab's subnet lock). The control plane runs
// on the host (`skiff up`, no node of its own); `skiff token create` prints the join command, which
// runs inside the namespace (nsenter --net) with a home of its own. A wrong token secret, a wrong
// CA hash and a Node name that is taken fail with their messages and leave no CSR, Node or file
// behind; the real join gets the kubelet's certificate through a CSR that the controller manager
// approves and signs, its serving certificate and the proxy's through CSRs the test approves as
// the admin (`kubectl certificate approve`), starts
// containerd, the kubelet and the proxy there, and the Node becomes Ready and runs a pod.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { defaultConfig } from '../lib/process/cluster.js';
import { nodeEntry } from '../lib/process/components.js';
import { reserveSubnet } from '../lib/process/lab.js';
import { resetJoinedNode } from '../lib/process/joinnode.js';
import { kubectlBinary, reachableConfig, reserveNodeRanges, run, type CommandResult } from './harness.js';
import { wireSecondMachine } from './netns.js';
import { missingNodeTools, waitFor } from './node-fixture.js';

const cli = nodeEntry('cli/main.js');
const advertise = defaultConfig('/nonexistent').advertiseAddress;
const skip = (process.getuid?.() !== 0 ? 'needs root' : '') || missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'kubectl', 'nsenter']) || (advertise === '127.0.0.1' ? 'no non-loopback address' : '');

const scratch = mkdtempSync(join(tmpdir(), 'skiff-join-test-'));
const home = join(scratch, 'cluster');
const nodeHome = join(scratch, 'machine2');
/** lockHome owns the lab subnet lock; its lab.json keeps the lock from looking stale to a lab. */
const lockHome = join(scratch, 'lock');
const suffix = randomBytes(2).toString('hex');
const netns = `skj-${suffix}`;
const veth = `skj${suffix}h`;
const nodeName = `joined-${suffix}`;
const env = { ...process.env, SKIFF_HOME: home, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(scratch, 'kubecache') };
let ranges: ReturnType<typeof reserveNodeRanges> | undefined;
let subnet: string | undefined;

function skiff(args: string[], timeoutMs = 300_000): Promise<CommandResult> {
  return run(process.execPath, ['--enable-source-maps', cli, ...args], { env, timeoutMs });
}

/** joinOnMachine2 runs `skiff join` inside the second machine's namespace with its own home. */
function joinOnMachine2(args: string[], timeoutMs = 300_000): Promise<CommandResult> {
  return run('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '--enable-source-maps', cli, 'join', ...args, '--home', nodeHome], { env: { ...process.env, SKIFF_HOME: nodeHome }, timeoutMs });
}

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run(kubectlBinary(), args, { env, input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** teardownSync removes the namespace, the veth, the control plane, the homes and the locks. */
function teardownSync(): void {
  spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'del', veth], { stdio: 'ignore' });
  if (existsSync(home)) spawnSync(process.execPath, [cli, 'down'], { env, stdio: 'ignore', timeout: 120_000 });
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
  if (existsSync(nodeHome)) await resetJoinedNode(nodeHome, nodeName).catch(() => undefined);
  teardownSync();
});

/** machine2Files lists what the second machine's home holds (it must stay empty after a failed join). */
function machine2Files(): string[] {
  return existsSync(nodeHome) ? readdirSync(nodeHome, { recursive: true }).map(String) : [];
}

test('skiff join: TLS bootstrap through a CSR, the node Ready and running a pod; bad tokens change nothing', { skip: skip || false, timeout: 900_000 }, async () => {
  ranges = reserveNodeRanges(home);
  // The second machine reaches the apiserver at this machine's own address, through its veth.
  const config = await reachableConfig(home, ranges);
  mkdirSync(home, { recursive: true });
  mkdirSync(lockHome, { recursive: true });
  writeFileSync(join(home, 'cluster.json'), JSON.stringify(config, null, 2));
  const up = await skiff(['up']);
  assert.equal(up.code, 0, `skiff up: ${up.stdout}\n${up.stderr}`);

  // The second machine: a namespace whose only link is a veth to this one.
  writeFileSync(join(lockHome, 'lab.json'), '{}\n');
  subnet = await reserveSubnet(lockHome);
  // Only the apiserver's address is routed out of the namespace, and only to this machine.
  const { machineIP } = wireSecondMachine(netns, veth, subnet, advertise);

  const created = await skiff(['token', 'create']);
  assert.equal(created.code, 0, created.stderr);
  const m = /^skiff join (https:\/\/\S+) --token (([a-z0-9]{6})\.([a-z0-9]{16})) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(created.stdout);
  assert.ok(m, created.stdout);
  const [, endpoint, token, id, secret, hash] = m as unknown as string[];
  const ranges_ = ['--cluster-cidr', config.clusterCIDR, '--service-cidr', config.serviceCIDR];

  // Bad input changes nothing: no CSR, no Node, no file on the second machine.
  const wrongSecret = `${id}.${secret!.startsWith('a') ? 'b' : 'a'}${secret!.slice(1)}`;
  const badToken = await joinOnMachine2([endpoint!, '--token', wrongSecret, '--discovery-token-ca-cert-hash', hash!, '--node-name', nodeName, ...ranges_]);
  assert.equal(badToken.code, 1, badToken.stdout);
  assert.match(badToken.stderr, /failed to verify JWS signature of received cluster info object/);
  const badHash = await joinOnMachine2([endpoint!, '--token', token!, '--discovery-token-ca-cert-hash', `sha256:${'0'.repeat(64)}`, '--node-name', nodeName, ...ranges_]);
  assert.equal(badHash.code, 1, badHash.stdout);
  assert.match(badHash.stderr, /cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/);
  const unknownID = await joinOnMachine2([endpoint!, '--token', `zzzzzz.${secret}`, '--discovery-token-ca-cert-hash', hash!, '--node-name', nodeName, ...ranges_]);
  assert.equal(unknownID.code, 1);
  assert.match(unknownID.stderr, /token id "zzzzzz" is invalid for this cluster or it has expired/);
  await kubectl(['create', '-f', '-'], `apiVersion: v1\nkind: Node\nmetadata: {name: taken-${suffix}}\n`);
  const taken = await joinOnMachine2([endpoint!, '--token', token!, '--discovery-token-ca-cert-hash', hash!, '--node-name', `taken-${suffix}`, ...ranges_]);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, new RegExp(`a Node with name "taken-${suffix}" already exists in the cluster`));
  await kubectl(['delete', 'node', `taken-${suffix}`]);
  assert.equal((await kubectl(['get', 'csr', '-o', 'name'])).trim(), '');
  assert.equal((await kubectl(['get', 'nodes', '-o', 'name'])).trim(), '');
  assert.deepEqual(machine2Files(), []);

  // No admin approves the serving and proxy CSRs: the join gives up, stops containerd and
  // removes its files.
  const unapproved = await joinOnMachine2([endpoint!, '--token', token!, '--discovery-token-ca-cert-hash', hash!, '--node-name', nodeName, ...ranges_, '--approval-timeout', '3']);
  assert.equal(unapproved.code, 1, unapproved.stdout);
  assert.match(unapproved.stderr, /was not approved and signed within 3s; stopped what this join started and removed its files/);
  assert.equal(spawnSync('pgrep', ['-f', nodeHome]).status, 1, 'no process of the second machine runs');
  assert.deepEqual(machine2Files().filter((f) => !f.startsWith('logs')), []);
  await kubectl(['delete', 'csr', '--all']);

  // The join itself; the admin approves the kubelet's serving CSR and the proxy's CSR when they
  // show up (kube approves neither by itself).
  const approvedNames = new Set<string>();
  let joining = true;
  const approver = (async () => {
    while (joining) {
      const names = (await run(kubectlBinary(), ['get', 'csr', '-o', 'name'], { env })).stdout.split('\n').map((n) => n.replace(/^.*\//, '')).filter((n) => /^(proxy-csr|csr)-/.test(n));
      for (const n of names.filter((x) => !approvedNames.has(x))) {
        const r = await run(kubectlBinary(), ['certificate', 'approve', n], { env });
        if (r.code === 0) approvedNames.add(n);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  // No range flags: the join reads them from kube-system/kubeadm-config with the token.
  const joined = await joinOnMachine2([endpoint!, '--token', token!, '--discovery-token-ca-cert-hash', hash!, '--node-name', nodeName, '--approval-timeout', '300']);
  joining = false;
  await approver;
  assert.equal(approvedNames.size, 2, `the admin approved: ${[...approvedNames].join(', ')}`);
  assert.equal(joined.code, 0, `join: ${joined.stdout}\n${joined.stderr}`);
  assert.match(joined.stdout, /\[kubelet-start\] Created CertificateSigningRequest node-csr-[0-9a-f]+ for system:node:/);
  assert.match(joined.stdout, /\[proxy\] Created CertificateSigningRequest proxy-csr-[0-9a-f]+ for system:kube-proxy; an admin approves it with: kubectl certificate approve proxy-csr-/);
  assert.match(joined.stdout, /Run 'kubectl get nodes' on the control plane to see this node join the cluster\./);
  assert.ok(joined.stdout.includes(`[preflight] The cluster's ranges from kube-system/kubeadm-config: pods ${config.clusterCIDR}, Services ${config.serviceCIDR}`), joined.stdout);
  assert.equal(statSync(join(nodeHome, 'pki', 'kubelet-client.key')).mode & 0o777, 0o600);
  assert.equal(existsSync(join(nodeHome, 'bootstrap-kubelet.conf')), false);

  // The kubelet's CSR came from the token, was auto-approved and issued.
  const csrs = JSON.parse(await kubectl(['get', 'csr', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { username: string; signerName: string }; status: { conditions?: { type: string; reason?: string }[]; certificate?: string } }[] };
  const kubeletCSR = csrs.items.find((x) => x.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.ok(kubeletCSR);
  assert.equal(kubeletCSR.spec.username, `system:bootstrap:${id}`);
  assert.equal(kubeletCSR.status.conditions?.[0]?.reason, 'AutoApproved');
  assert.ok(kubeletCSR.status.certificate);
  // The serving CSR came from the node itself, the proxy's from the token.
  const servingCSR = csrs.items.find((x) => x.spec.signerName === 'kubernetes.io/kubelet-serving');
  assert.equal(servingCSR?.spec.username, `system:node:${nodeName}`);
  assert.ok(servingCSR?.status.certificate);
  const proxyCSR = csrs.items.find((x) => x.spec.signerName === 'kubernetes.io/kube-apiserver-client');
  assert.equal(proxyCSR?.spec.username, `system:bootstrap:${id}`);
  assert.ok(proxyCSR?.status.certificate);

  const node = await waitFor('the joined Node to be Ready', async () => {
    const n = JSON.parse(await kubectl(['get', 'node', nodeName, '-o', 'json']).catch(() => '{}')) as Node;
    return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' ? n : undefined;
  }, 180_000);
  assert.equal(node.status?.addresses?.find((x) => x.type === 'InternalIP')?.address, machineIP);

  await kubectl(['create', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: on-joined}
spec:
  nodeSelector: {kubernetes.io/hostname: ${nodeName}}
  terminationGracePeriodSeconds: 1
  containers:
    - {name: c, image: busybox:1.36, command: [sh, -c, 'echo hello from the joined node; sleep 3600']}
`);
  const pod = await waitFor('the pod to run on the joined node', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'on-joined', '-o', 'json'])) as Pod;
    return p.status?.phase === 'Running' ? p : undefined;
  }, 180_000);
  assert.equal(pod.spec?.nodeName, nodeName);
  // The apiserver reaches the joined kubelet and trusts its serving certificate.
  await waitFor('the pod log through the joined kubelet', async () => (await run(kubectlBinary(), ['logs', 'on-joined'], { env })).stdout.includes('hello from the joined node'), 60_000);
  await kubectl(['delete', 'pod', 'on-joined', '--wait=true']);

  // skiff join reset stops the node and removes what the join wrote.
  const reset = await run('nsenter', [`--net=/run/netns/${netns}`, process.execPath, cli, 'join', 'reset', '--home', nodeHome], { env: { ...process.env, SKIFF_HOME: nodeHome } });
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, new RegExp(`The Node object stays in the cluster: run 'kubectl delete node ${nodeName}' there`));
  assert.equal(spawnSync('pgrep', ['-f', nodeHome]).status, 1, 'no process of the second machine runs');
  assert.equal(existsSync(join(nodeHome, 'kubelet.conf')), false);
});
