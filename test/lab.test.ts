// `skiff lab` end to end, driven through the CLI on a temporary home: a three-node lab (every node
// in a network namespace of its own; the host runs the control plane only, so the test holds no
// host-proxy lock) with zones, a Deployment spread over the nodes, pod-to-pod traffic across
// nodes without NAT, a ClusterIP reaching pods on the other nodes, a NodePort of one node reaching
// a pod on another, cluster DNS from a pod, a stopped node going NotReady and its pod recreated
// elsewhere, the same lab back after down and up, and nothing of the lab left on the machine
// after down. The pod and service ranges come from the harness's lock slots; the lab's /24 of
// 172.31.0.0/16 from lib/process/lab.ts's own lock.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import type { Service } from '../lib/api/core/service.js';
import { defaultConfig } from '../lib/process/cluster.js';
import { nodeEntry, type ClusterConfig } from '../lib/process/components.js';
import { leftovers, loadLab, type LabLayout } from '../lib/process/lab.js';
import { kubectlBinary, reachableConfig, reserveNodeRanges, run, type CommandResult } from './harness.js';
import { missingNodeTools, routeOf, waitFor } from './node-fixture.js';

const cli = nodeEntry('cli/main.js');
const rootNeeded = process.getuid?.() !== 0 ? 'needs root' : '';
const advertise = defaultConfig('/nonexistent').advertiseAddress;
const skip = rootNeeded || missingNodeTools(['containerd', 'ctr', 'runc', 'gcc', 'iptables', 'iptables-restore', 'kubectl', 'nsenter']) || (advertise === '127.0.0.1' ? 'no non-loopback address' : '');

const home = mkdtempSync(join(tmpdir(), 'skiff-lab-test-'));
const prefix = `t${randomBytes(2).toString('hex')}`;
const env = { ...process.env, SKIFF_HOME: home, KUBECONFIG: join(home, 'admin.kubeconfig'), KUBECACHEDIR: join(home, 'kubecache') };
let ranges: ReturnType<typeof reserveNodeRanges> | undefined;

/** skiff runs the CLI on the test's home. */
function skiff(args: string[], timeoutMs = 600_000): Promise<CommandResult> {
  return run(process.execPath, ['--enable-source-maps', cli, ...args], { env, timeoutMs });
}

/** teardownSync stops the lab and the control plane and deletes the home: in after(), and at exit if the test process dies first. */
function teardownSync(): void {
  if (existsSync(home)) {
    spawnSync(process.execPath, [cli, 'lab', 'down', '--purge'], { env, stdio: 'ignore', timeout: 120_000 });
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
after(async () => {
  if (existsSync(home)) {
    const r = await skiff(['lab', 'down', '--purge'], 120_000);
    assert.equal(r.code, 0, r.stderr);
  }
  teardownSync();
});

/** kubectl runs kubectl against the lab and fails the test on a non-zero exit. */
async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run(kubectlBinary(), args, { env, input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
const isReady = (n: Node | Pod) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/** manifest is the echo Deployment and its NodePort Service; echo answers GET /cgi-bin/who with the caller's address and the pod's name: "REMOTE_ADDR HOSTNAME". */
const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 3
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: echo}}}
      tolerations:
        - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
        - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
        - name: echo
          image: busybox:1.36
          command: ["sh", "-c", "mkdir -p /www/cgi-bin && echo ok > /www/index.html && printf '#!/bin/sh\\\\necho Content-Type: text/plain\\\\necho\\\\necho $REMOTE_ADDR $(hostname)\\\\n' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 8080 -h /www"]
          readinessProbe:
            httpGet: {path: /, port: 8080}
            periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  type: NodePort
  selector: {app: echo}
  ports:
    - {port: 80, targetPort: 8080}
`;

test('skiff lab: three nodes in namespaces, traffic across them, a stopped node, down and up, nothing left', { skip: skip || false, timeout: 1_200_000 }, async (t) => {
  ranges = reserveNodeRanges(home);
  const config: ClusterConfig = {
    // The host runs no node of its own: every node is in a namespace, none programs the host's
    // tables; lab nodes reach the apiserver and skiff-dns at this machine's own address.
    ...(await reachableConfig(home, ranges)),
    cgroupRoot: `/skl-${prefix}`,
    cniBridge: `sklb${prefix}`,
    sinkDevice: `skls${prefix}`,
    cniNetworkName: `skl-${prefix}`,
    // Above the kubelet's 10 s Lease renewal (or Ready flaps), below the default 40 s.
    extraArgs: { 'controller-manager': ['--node-monitor-grace-period=20s'] },
  };
  writeFileSync(join(home, 'cluster.json'), JSON.stringify(config, null, 2));

  // Bad input: nothing is made.
  for (const [args, want] of [
    [['lab', 'up', '--nodes', '0'], /--nodes/],
    [['lab', 'up', '--zones', ','], /--zones needs at least one zone/],
    [['lab', 'node', 'stop', 'nosuch'], /has no lab/],
  ] as const) {
    const r = await skiff([...args]);
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    assert.match(r.stderr, want);
  }
  assert.equal(loadLab(home), undefined);

  const up = await skiff(['lab', 'up', '--nodes', '3', '--zones', 'a,b,c', '--node-prefix', prefix]);
  assert.equal(up.code, 0, `lab up: ${up.stdout}\n${up.stderr}`);
  assert.match(up.stdout, /The lab is up: 3 nodes Ready/);
  const lab = loadLab(home)!;
  const names = lab.nodes.map((n) => n.name);
  assert.deepEqual(names, [`${prefix}-1`, `${prefix}-2`, `${prefix}-3`]);
  t.diagnostic(`lab ${lab.bridge} ${lab.subnet}: ${lab.nodes.map((n) => `${n.name} ${n.ip} ${n.podCIDR}`).join(', ')}`);

  // Zones round-robin, every node Ready with its InternalIP on the lab bridge.
  const nodes = (await json<{ items: Node[] }>(['get', 'nodes'])).items;
  assert.deepEqual(nodes.map((n) => [n.metadata!.name, n.metadata!.labels?.['topology.kubernetes.io/zone'], isReady(n)]).sort(), [
    [`${prefix}-1`, 'a', true],
    [`${prefix}-2`, 'b', true],
    [`${prefix}-3`, 'c', true],
  ]);
  for (const n of lab.nodes) {
    const node = nodes.find((x) => x.metadata!.name === n.name)!;
    assert.equal(node.status!.addresses!.find((a) => a.type === 'InternalIP')?.address, n.ip);
    assert.equal(node.spec!.podCIDR, n.podCIDR);
  }

  // `skiff status` shows every node's processes.
  const status = await skiff(['status']);
  for (const n of names) for (const c of ['containerd', 'kubelet', 'proxy']) assert.match(status.stdout, new RegExp(`^${n}/${c} +\\d+ +Running +healthy`, 'm'));

  // Adding a node under a name that is taken is refused.
  const taken = await skiff(['lab', 'node', 'add', names[0]!]);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /already exists/);

  await kubectl(['apply', '-f', '-'], manifest);
  const pods = await waitFor('three echo pods Ready on three nodes', async () => {
    const items = (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=echo'])).items.filter((p) => !p.metadata!.deletionTimestamp);
    return items.length === 3 && items.every(isReady) && new Set(items.map((p) => p.spec!.nodeName)).size === 3 && items;
  }, 180_000);
  // A DaemonSet puts one pod on every node of the lab.
  const daemon = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'agent', image: 'busybox:1.36', command: ['sleep', '3600'] }] } } } };
  await kubectl(['apply', '-f', '-'], JSON.stringify(daemon));
  await waitFor('one agent pod Ready on each of the three nodes', async () => {
    const items = (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=agent'])).items.filter((p) => !p.metadata!.deletionTimestamp);
    return items.length === 3 && items.every(isReady) && new Set(items.map((p) => p.spec!.nodeName)).size === 3;
  }, 180_000);
  assert.match(await kubectl(['rollout', 'status', 'ds/agent', '--timeout=60s']), /daemon set "agent" successfully rolled out/);
  await kubectl(['delete', 'ds', 'agent', '--wait=true']);
  const onNode = (i: number) => pods.find((p) => p.spec!.nodeName === names[i])!;
  const [a, b, c] = [onNode(0), onNode(1), onNode(2)];
  const exec = (pod: Pod, url: string) => kubectl(['exec', pod.metadata!.name!, '--', 'timeout', '5', 'wget', '-qO-', url]);

  // Pod to pod across nodes, by IP, without NAT: B sees A's own address.
  const seen = await waitFor('A reaching B by pod IP', () => exec(a, `http://${b.status!.podIP}:8080/cgi-bin/who`));
  // busybox httpd writes an IPv4 peer as [::ffff:a.b.c.d].
  assert.equal(seen.trim().replace(/^\[::ffff:(.*)\]/, '$1'), `${a.status!.podIP} ${b.metadata!.name}`);

  // The ClusterIP from A's pod reaches pods on the other nodes.
  const svc = await json<Service>(['get', 'service', 'echo']);
  const reached = new Set<string>();
  await waitFor('the ClusterIP reaching the pods on B and C', async () => {
    reached.add((await exec(a, `http://${svc.spec!.clusterIP}/cgi-bin/who`)).trim().split(' ')[1]!);
    return reached.has(b.metadata!.name!) && reached.has(c.metadata!.name!);
  }, 120_000);

  // The NodePort of node B, from the host, reaches the pod on node C.
  const nodeB = lab.nodes[1]!;
  assert.match(routeOf(nodeB.ip), new RegExp(`dev ${lab.bridge} `), `${nodeB.ip} must be on the lab bridge`);
  await waitFor('node B\'s NodePort reaching the pod on node C', async () => (await cgiGet(`http://${nodeB.ip}:${svc.spec!.ports![0]!.nodePort}/cgi-bin/who`)).includes(c.metadata!.name!), 120_000);

  // Cluster DNS from a pod on node C.
  assert.match(await exec(c, 'http://echo.default.svc.cluster.local/cgi-bin/who'), /^\S+ echo-/);

  // A stopped node goes NotReady, its pod is evicted after its 2 s toleration and made again elsewhere.
  const stop = await skiff(['lab', 'node', 'stop', names[2]!]);
  assert.equal(stop.code, 0, stop.stderr);
  await waitFor('node C NotReady with the unreachable taint', async () => {
    const n = await json<Node>(['get', 'node', names[2]!]);
    return !isReady(n) && n.spec?.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute');
  }, 120_000);
  await waitFor('a replacement echo pod Ready on another node', async () => {
    const items = (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=echo'])).items.filter((p) => !p.metadata!.deletionTimestamp);
    return items.length === 3 && items.every((p) => isReady(p) && p.spec!.nodeName !== names[2]) && items;
  }, 180_000);
  const start = await skiff(['lab', 'node', 'start', names[2]!]);
  assert.equal(start.code, 0, start.stderr);
  await waitFor('node C Ready again', async () => isReady(await json<Node>(['get', 'node', names[2]!])), 120_000);

  // A node added gets the next address and zone and becomes Ready; removed, its Node and namespace are gone.
  const extra = `${prefix}-x`;
  const add = await skiff(['lab', 'node', 'add', extra]);
  assert.equal(add.code, 0, `${add.stdout}\n${add.stderr}`);
  const added = await json<Node>(['get', 'node', extra]);
  assert.ok(isReady(added));
  assert.equal(added.metadata!.labels?.['topology.kubernetes.io/zone'], 'a');
  assert.equal(added.status!.addresses!.find((x) => x.type === 'InternalIP')?.address, lab.subnet.replace(/0\/24$/, '14'));
  assert.ok(existsSync(`/run/netns/skiff-${extra}`));
  const remove = await skiff(['lab', 'node', 'remove', extra]);
  assert.equal(remove.code, 0, remove.stderr);
  assert.equal((await run(kubectlBinary(), ['get', 'node', extra], { env })).code, 1);
  assert.equal(existsSync(`/run/netns/skiff-${extra}`), false);
  assert.deepEqual(loadLab(home)!.nodes.map((n) => n.name), names);

  // Down, then up: the same nodes, addresses and podCIDRs; nothing of the lab stays on the machine while down.
  const before = JSON.stringify(loadLab(home)!.nodes);
  const down = await skiff(['lab', 'down']);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await leftovers(lab), []);
  assert.deepEqual(cgroupsOf(config.cgroupRoot), []);
  const again = await skiff(['lab', 'up']);
  assert.equal(again.code, 0, `lab up again: ${again.stdout}\n${again.stderr}`);
  assert.equal(JSON.stringify(loadLab(home)!.nodes), before);
  const after = (await json<{ items: Node[] }>(['get', 'nodes'])).items;
  assert.ok(after.every(isReady));

  const purge = await skiff(['lab', 'down', '--purge'], 120_000);
  assert.equal(purge.code, 0, purge.stderr);
  assert.deepEqual(await leftovers(lab), []);
  assert.deepEqual(cgroupsOf(config.cgroupRoot), []);
  assert.equal(existsSync(home), false);
  assert.equal(iptablesMentions(lab), '');
});

/** cgiGet fetches url within 5 s; busybox httpd ends a CGI's headers with bare newlines, which Node's strict parser refuses. */
function cgiGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000, insecureHTTPParser: true }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** cgroupsOf lists the lab nodes' cgroup folders (<root>-<node>) left in any hierarchy. */
function cgroupsOf(root: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const d of readdirSync(join('/sys/fs/cgroup', h))) if (d.startsWith(`${root.slice(1)}-`)) out.push(`${h}/${d}`);
    } catch {
      // not a folder
    }
  }
  return out;
}

/** iptablesMentions is the host's rules that name the lab's bridge or subnet (none: every rule of a node is in its namespace). */
function iptablesMentions(lab: LabLayout): string {
  const save = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
  return save.split('\n').filter((l) => l.includes(lab.bridge) || l.includes(lab.subnet)).join('\n');
}

