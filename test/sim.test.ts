// The node simulator end to end: a real etcd, apiserver, controller manager and simulator with
// three simulated Nodes, driven with kubectl. No scheduler: pods are bound by creating them with
// spec.nodeName, as a user (or a DaemonSet) can.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, startCluster, type Cluster } from './harness.js';
import { kubectlHelpers, row, until } from './kubectl-helpers.js';
import { nodeEntry } from '../lib/process/components.js';

let cluster: Cluster;
const { ok, k } = kubectlHelpers(() => cluster);
const ns = 'sim-e2e';

before(async () => {
  cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'sim'],
    simulatedNodes: 3,
    // Quicker than the defaults, so each behaviour shows within a few seconds.
    extraArgs: { sim: ['--lease-renew-interval=2s', '--pod-cidr-wait=3s', '--max-termination-grace=2s'] },
  });
  await ok(['create', 'namespace', ns]);
});
after(async () => {
  await cluster?.stop();
});

const jsonpath = (args: string[], path: string) => ok([...args, '-o', `jsonpath=${path}`]);

/** runOn creates a pod bound to node (no scheduler needed). */
async function runOn(name: string, node: string, extra: string[] = []): Promise<void> {
  await ok(['run', name, '-n', ns, '--image=nginx', `--overrides={"spec":{"nodeName":"${node}"}}`, ...extra]);
}

function ipv4(s: string): number {
  return s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipv4(base!) - (ipv4(base!) % size);
  return ipv4(ip) >= start && ipv4(ip) < start + size;
}

async function readyNodes(): Promise<string[]> {
  const out = await ok(['get', 'nodes', '--no-headers']);
  return out
    .split('\n')
    .filter((l) => /\sReady\s/.test(l))
    .map((l) => l.split(/\s+/)[0]!);
}

describe('simulated nodes', () => {
  test('kubectl get nodes shows sim-0, sim-1 and sim-2 Ready, with kubelet labels, zones and addresses', async () => {
    await until(async () => (await readyNodes()).filter((n) => n.startsWith('sim-')).length === 3, 30_000, 'three Ready sim nodes');
    const wide = await ok(['get', 'nodes', '-o', 'wide', '-L', 'topology.kubernetes.io/zone,node.kubernetes.io/instance-type']);
    for (const [i, zone] of ['zone-a', 'zone-b', 'zone-c'].entries()) {
      const r = row(wide, `sim-${i}`);
      assert.equal(r[1], 'Ready');
      assert.equal(r[4], 'v1.32.0-skiff-sim');
      assert.match(r[5]!, /^172\.30\.\d+\.\d+$/);
      assert.equal(r[9], 'skiff-sim://1');
      assert.deepEqual(r.slice(-2), [zone, 'skiff-sim']);
    }
    const labels = JSON.parse(await jsonpath(['get', 'node', 'sim-0'], '{.metadata.labels}')) as Record<string, string>;
    assert.equal(labels['kubernetes.io/hostname'], 'sim-0');
    assert.equal(labels['kubernetes.io/os'], 'linux');
    assert.equal(labels['kubernetes.io/arch'], 'amd64');
    assert.equal(await jsonpath(['get', 'node', 'sim-0'], '{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods}'), '8 32Gi 110');
  });

  test('each Node renews its Lease in kube-node-lease', async () => {
    const leases = await ok(['get', 'leases', '-n', 'kube-node-lease']);
    for (const n of ['sim-0', 'sim-1', 'sim-2']) assert.equal(row(leases, n)[1], n, 'held by the node');
    const first = await jsonpath(['get', 'lease', '-n', 'kube-node-lease', 'sim-2'], '{.spec.renewTime}');
    await until(async () => (await jsonpath(['get', 'lease', '-n', 'kube-node-lease', 'sim-2'], '{.spec.renewTime}')) !== first, 20_000, 'a renewal of the sim-2 Lease');
    assert.equal(await jsonpath(['get', 'lease', '-n', 'kube-node-lease', 'sim-2'], '{.spec.leaseDurationSeconds}'), '40');
  });

  test('a Node a user applies with the annotation becomes Ready, with its capacity annotations and its own labels and taints', async () => {
    const manifest = `apiVersion: v1
kind: Node
metadata:
  name: big-1
  labels: {gpu: "true"}
  annotations:
    skiff.dev/simulated: "true"
    skiff.dev/capacity-cpu: "64"
    skiff.dev/capacity-memory: 256Gi
spec:
  taints: [{key: gpu, value: "true", effect: NoSchedule}]
`;
    // A Node without the annotation is not the simulator's; it is created first, so by the time
    // big-1 is Ready the simulator has seen it too.
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Node\nmetadata:\n  name: real-1\n');
    await ok(['apply', '-f', '-'], manifest);
    await until(async () => (await readyNodes()).includes('big-1'), 20_000, 'big-1 Ready');
    assert.equal(await jsonpath(['get', 'node', 'big-1'], '{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods}'), '64 256Gi 110');
    assert.equal(await jsonpath(['get', 'node', 'big-1'], '{.metadata.labels}'), '{"gpu":"true"}');
    assert.equal(await jsonpath(['get', 'node', 'big-1'], '{.spec.taints[0].key}'), 'gpu');
    assert.equal(await jsonpath(['get', 'node', 'real-1'], '{.status.capacity}'), '');
    assert.notEqual((await k(['get', 'lease', '-n', 'kube-node-lease', 'real-1'])).code, 0, 'no Lease for a Node that is not simulated');
    await ok(['delete', 'node', 'big-1', 'real-1']);
  });
});

describe('pods on simulated nodes', () => {
  test('a pod bound to a simulated Node becomes Running and Ready with an address in the Node\'s podCIDR', async () => {
    await runOn('web', 'sim-1');
    await ok(['wait', '-n', ns, '--for=condition=Ready', 'pod/web', '--timeout=30s']);
    const wide = await ok(['get', 'pod', 'web', '-n', ns, '-o', 'wide']);
    const [, ready, status, restarts, , ip, node] = row(wide, 'web');
    assert.deepEqual([ready, status, restarts, node], ['1/1', 'Running', '0', 'sim-1']);
    // The controller manager's node IPAM gives each Node a podCIDR; without it the simulator
    // uses the Node's block of the fallback range (100.64.0.0/10).
    const podCIDR = await jsonpath(['get', 'node', 'sim-1'], '{.spec.podCIDR}');
    assert.ok(inCidr(ip!, podCIDR || '100.64.0.0/10'), `${ip} in ${podCIDR || 'the fallback range'}`);
    assert.equal(await jsonpath(['get', 'pod', 'web', '-n', ns], '{.status.hostIP}'), await jsonpath(['get', 'node', 'sim-1'], '{.status.addresses[0].address}'));

    await runOn('web2', 'sim-1');
    await ok(['wait', '-n', ns, '--for=condition=Ready', 'pod/web2', '--timeout=30s']);
    assert.notEqual(await jsonpath(['get', 'pod', 'web2', '-n', ns], '{.status.podIP}'), ip, 'addresses are unique per node');
  });

  test('kubectl delete pod of a running pod completes: the grace period ends and the pod is gone', async () => {
    await ok(['delete', 'pod', 'web2', '-n', ns, '--timeout=30s']);
    const r = await k(['get', 'pod', 'web2', '-n', ns]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pods "web2" not found/);
  });

  test('skiff.dev/sim=fail gives a Failed pod; crashloop gives CrashLoopBackOff with restarts', async () => {
    await runOn('bad', 'sim-0', ['--restart=Never', '--labels=skiff.dev/sim=fail']);
    await runOn('flaky', 'sim-2', ['--labels=skiff.dev/sim=crashloop']);
    await until(async () => (await k(['get', 'pod', 'bad', '-n', ns, '-o', 'jsonpath={.status.phase}'])).stdout === 'Failed', 30_000, 'bad Failed');
    await until(async () => row(await ok(['get', 'pods', '-n', ns]), 'flaky')[2] === 'CrashLoopBackOff', 30_000, 'flaky in CrashLoopBackOff');
    const table = await ok(['get', 'pods', '-n', ns]);
    assert.deepEqual(row(table, 'bad').slice(1, 4), ['0/1', 'Error', '0']);
    const flaky = row(table, 'flaky');
    assert.equal(flaky[1], '0/1');
    assert.match(flaky[3]!, /^1 \(\d+s ago\)$/);
    assert.equal(await jsonpath(['get', 'pod', 'bad', '-n', ns], '{.status.containerStatuses[0].state.terminated.exitCode}'), '1');
  });

  test('restarting the simulator keeps the Nodes Ready and leaves running pods untouched', async () => {
    const rvBefore = await jsonpath(['get', 'pod', 'web', '-n', ns], '{.metadata.resourceVersion}');
    const readySince = await jsonpath(['get', 'node', 'sim-1'], '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}');
    const renewed = await jsonpath(['get', 'lease', '-n', 'kube-node-lease', 'sim-1'], '{.spec.renewTime}');
    await cluster.restart('sim');
    // The new process is at work once it renews a Lease.
    await until(async () => (await jsonpath(['get', 'lease', '-n', 'kube-node-lease', 'sim-1'], '{.spec.renewTime}')) !== renewed, 30_000, 'a renewal by the new simulator');
    assert.equal(await jsonpath(['get', 'pod', 'web', '-n', ns], '{.metadata.resourceVersion}'), rvBefore, 'the running pod was not rewritten');
    assert.equal(await jsonpath(['get', 'node', 'sim-1'], '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}'), readySince);
    assert.deepEqual((await readyNodes()).filter((n) => n.startsWith('sim-')).sort(), ['sim-0', 'sim-1', 'sim-2']);
  });
});

describe('skiff sim', () => {
  test('--nodes 4 records the count, restarts the simulator and waits for sim-3 to be Ready', async () => {
    const r = await run(process.execPath, [nodeEntry('cli/main.js'), 'sim', '--home', cluster.home, '--nodes', '4', '--node-cpu', '16'], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Stopping sim \(pid \d+\) … stopped/);
    assert.match(r.stdout, /Starting sim with 4 nodes … ready/);
    assert.match(r.stdout, /4\/4 Ready/);
    assert.ok((await readyNodes()).includes('sim-3'));
    assert.equal(await jsonpath(['get', 'node', 'sim-3'], '{.status.capacity.cpu}'), '16');
    await until(async () => (await jsonpath(['get', 'node', 'sim-0'], '{.status.capacity.cpu}')) === '16', 10_000, 'sim-0 reporting the new capacity');
    const saved = JSON.parse(readFileSync(join(cluster.home, 'cluster.json'), 'utf8')) as { simulatedNodes: number; simArgs: string[] };
    assert.equal(saved.simulatedNodes, 4);
    assert.deepEqual(saved.simArgs, ['--node-cpu=16']);

    const bad = await run(process.execPath, [nodeEntry('cli/main.js'), 'sim', '--home', cluster.home, '--node-taints', 'x:Sometimes'], { timeoutMs: 90_000 });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /effect must be one of NoSchedule, PreferNoSchedule, NoExecute/);
    assert.match(bad.stdout, /Restarting sim with the previous settings/);
    assert.deepEqual((JSON.parse(readFileSync(join(cluster.home, 'cluster.json'), 'utf8')) as { simArgs: string[] }).simArgs, ['--node-cpu=16'], 'a failed change is not recorded');
  });
});
