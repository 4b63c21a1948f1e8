// The proxy's rules applied for real: a "node" network namespace with a bridge, three backend
// namespaces running TCP/UDP servers, a pod namespace on the bridge and a client namespace
// outside the pod network; the proxy's iptables-restore text is loaded into the node namespace
// and traffic checked from the node itself, the pod and the outside client. Then the real
// skiff-proxy process runs in that namespace against a test apiserver. Only these namespaces
// are touched; everything is removed even when a test fails.

import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { writeKubeconfig } from '../lib/kubeconfig.js';
import { service, slice, type EndpointSpec } from '../proxy/fixtures.js';
import { Iptables, detectBackend } from '../proxy/iptables.js';
import { buildRules, type NodeState } from '../proxy/rules.js';
import { type Cluster, startCluster } from './harness.js';
import { Lab, inNs, bridgeLoopbackPort } from './netns.js';

const nodeIP = '10.245.0.1';
const node: NodeState = { nodeName: 'node-a', nodeIPs: [nodeIP], clusterCIDR: '10.245.0.0/24', masqueradeMark: 0x4000, nodePortAddresses: [] };
const backends = [
  { name: 'b1', ip: '10.245.0.11', node: 'node-a' },
  { name: 'b2', ip: '10.245.0.12', node: 'node-a' },
  { name: 'b3', ip: '10.245.0.13', node: 'node-b' },
];
const podIP = '10.245.0.20';
const outsideIP = '10.245.9.2';
const tcpUdp = (nodePort?: number) => [
  { name: 'http', port: 80, targetPort: 'web' as const, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) },
  { name: 'dns', port: 53, targetPort: 8053, protocol: 'UDP' },
];
const eps = (names: string[], extra: Partial<EndpointSpec> = {}): EndpointSpec[] => backends.filter((b) => names.includes(b.name)).map((b) => ({ ip: b.ip, node: b.node, ...extra }));
const sliceOf = (svc: string, e: EndpointSpec[]) => slice('default', svc, [{ name: 'http', port: 8080 }, { name: 'dns', port: 8053, protocol: 'UDP' }], e);

/** names keeps the backend names of a list of answers. */
const names = (answers: string[]) => new Set(answers.map((a) => a.split(' ')[0]));

let lab: Lab;
let ipt: Iptables;
let chains = new Set<string>();

/** apply programs services and slices into the node namespace as one restore (partial after the first). */
async function apply(services: Service[], slices: EndpointSlice[]): Promise<void> {
  const rules = buildRules(services, slices, node, { previousChains: chains });
  await ipt.restore(rules.text);
  await ipt.ensureJumps();
  chains = rules.chains;
}

// Network namespaces and iptables need root (CI runs as root).
const skip = process.getuid?.() !== 0 ? 'needs root for network namespaces' : false;

describe('proxy rules in a network namespace', { skip }, () => {
  before(async () => {
    lab = new Lab();
    lab.setupNode(nodeIP, '10.116.0.0/16');
    inNs(lab.node, 'sysctl', ['-qw', 'net.ipv4.conf.all.route_localnet=1']);
    for (const b of backends) {
      lab.addPod(`${lab.node}-${b.name}`, b.ip, nodeIP);
      await lab.serve(`${lab.node}-${b.name}`, b.name, 8080);
      // The same server answers UDP on 8053 too: start a second one there.
      await lab.serve(`${lab.node}-${b.name}`, b.name, 8053);
    }
    lab.addPod(`${lab.node}-pod`, podIP, nodeIP);
    lab.addRouted(`${lab.node}-out`, '10.245.9.1', outsideIP);
    ipt = new Iptables(await detectBackend(), ['nsenter', `--net=/var/run/netns/${lab.node}`]);
  });
  after(() => lab?.cleanup());

  it('a ClusterIP reaches every backend over TCP and UDP, from a pod and from the node itself', async () => {
    await apply([service('default', 'web', '10.116.0.10', tcpUdp())], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
    assert.deepEqual(names(lab.connect(lab.node, '10.116.0.10', 80, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, '10.116.0.10', 53, 'udp', 30)), new Set(['b1', 'b2', 'b3']));
    // From a pod, inside the cluster CIDR: not masqueraded, the backend sees the pod.
    assert.ok(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 5).every((a) => a.endsWith(` ${podIP}`)));
  });

  it('a backend reaching itself through its Service works (hairpin)', async () => {
    const answers = lab.connect(`${lab.node}-b1`, '10.116.0.10', 80, 'tcp', 20);
    assert.deepEqual(names(answers), new Set(['b1', 'b2', 'b3']), JSON.stringify(answers));
  });

  it('traffic moves off a removed endpoint', async () => {
    await apply([service('default', 'web', '10.116.0.10', tcpUdp())], [sliceOf('web', eps(['b1', 'b3']))]);
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 30)), new Set(['b1', 'b3']));
  });

  it('a NodePort answers on the node address and on 127.0.0.1', async () => {
    await apply([service('default', 'web', '10.116.0.10', tcpUdp(30080), { type: 'NodePort' })], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, nodeIP, 30080, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
    assert.deepEqual(names(lab.connect(lab.node, '127.0.0.1', 30080, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
    // externalTrafficPolicy Cluster: the outside client is masqueraded to the node.
    const outside = lab.connect(`${lab.node}-out`, nodeIP, 30080, 'tcp', 10);
    assert.ok(outside.every((a) => !a.endsWith(` ${outsideIP}`)), JSON.stringify(outside));
  });

  it('externalTrafficPolicy Local sends outside clients only to local endpoints and keeps their address', async () => {
    await apply([service('default', 'web', '10.116.0.10', tcpUdp(30080), { type: 'NodePort', externalTrafficPolicy: 'Local' })], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    const outside = lab.connect(`${lab.node}-out`, nodeIP, 30080, 'tcp', 30);
    assert.deepEqual(names(outside), new Set(['b1', 'b2']), 'b3 is on node-b');
    assert.ok(outside.every((a) => a.endsWith(` ${outsideIP}`)), JSON.stringify(outside));
    // Pods still reach every endpoint through the ClusterIP.
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
  });

  it('ClientIP session affinity keeps a client on one backend', async () => {
    await apply([service('default', 'web', '10.116.0.10', tcpUdp(), { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    const answers = lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 20);
    assert.equal(names(answers).size, 1, JSON.stringify(answers));
  });

  it('a Service with no endpoints refuses connections at once instead of hanging', async () => {
    await apply([service('default', 'web', '10.116.0.10', tcpUdp(30080), { type: 'NodePort' })], [sliceOf('web', [])]);
    assert.deepEqual(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 2), ['ECONNREFUSED', 'ECONNREFUSED']);
    assert.deepEqual(lab.connect(`${lab.node}-out`, nodeIP, 30080, 'tcp', 1), ['ECONNREFUSED']);
  });

  it('--cleanup removes every chain and jump of the proxy and leaves other chains alone', async () => {
    // Another program's chain and jump (as CNI's would be).
    inNs(lab.node, ipt.backend.restore, ['-w', '--noflush'], '*nat\n:CNI-SKX-TEST - [0:0]\n-A POSTROUTING -j CNI-SKX-TEST\nCOMMIT\n');
    await apply([service('default', 'web', '10.116.0.10', tcpUdp(30080), { type: 'NodePort' })], [sliceOf('web', eps(['b1']))]);
    const removed = await ipt.cleanup();
    assert.ok(removed > 5);
    const left = inNs(lab.node, ipt.backend.save, []);
    assert.doesNotMatch(left, /KUBE-/);
    assert.match(left, /:CNI-SKX-TEST/);
    assert.match(left, /-A POSTROUTING -j CNI-SKX-TEST/);
    chains = new Set();
  });
});

describe('the skiff-proxy process in a network namespace', { skip }, () => {
  let cluster: Cluster;
  let lab2: Lab;
  let forward: Server | undefined;
  let proxy: ChildProcess | undefined;
  const logs: string[] = [];
  const main = fileURLToPath(new URL('../proxy/main.js', import.meta.url));

  before(async () => {
    cluster = await startCluster({ components: ['etcd', 'apiserver'], extraArgs: { apiserver: ['--service-cluster-ip-range=10.116.0.0/16'] } });
    lab2 = new Lab();
    lab2.setupNode(nodeIP, '10.116.0.0/16');
    lab2.addPod(`${lab2.node}-b1`, backends[0]!.ip, nodeIP);
    await lab2.serve(`${lab2.node}-b1`, 'b1', 8080);
    lab2.addPod(`${lab2.node}-pod`, podIP, nodeIP);
  });
  after(async () => {
    proxy?.kill('SIGKILL');
    forward?.close();
    lab2?.cleanup();
    await cluster?.stop();
  });

  /** bridgeApiserver makes the host's apiserver reachable at the same address inside the node namespace. */
  async function bridgeApiserver(): Promise<void> {
    forward = await bridgeLoopbackPort(lab2, Number(new URL(cluster.server).port));
  }

  function startProxy(): void {
    const kubeconfig = join(lab2.dir, 'proxy.kubeconfig');
    writeKubeconfig(kubeconfig, { server: cluster.server, caFile: cluster.caFile, clientCert: cluster.adminCert, clientKey: cluster.adminKey, user: 'admin' });
    proxy = lab2.spawnIn(lab2.node, process.execPath, [main, `--kubeconfig=${kubeconfig}`, '--hostname-override=node-a', '--cluster-cidr=10.245.0.0/24', '--secure-port=0', '--min-sync-period=100ms', '--sync-period=10s', '-v=2']);
    proxy.stdout!.on('data', (d) => logs.push(String(d)));
    proxy.stderr!.on('data', (d) => logs.push(String(d)));
  }

  async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) assert.fail(`${what} did not happen in ${ms} ms; proxy log:\n${logs.join('').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const post = async (path: string, body: object): Promise<unknown> => {
    const r = await cluster.request(path, { method: 'POST', body });
    assert.ok(r.status < 300, `${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as unknown;
  };

  it('programs a Service from the apiserver, keeps traffic flowing when killed, and a restarted proxy takes over', async () => {
    await bridgeApiserver();
    await post('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: nodeIP }] } });
    const svc = await post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    const spec = (svc as Service).spec;
    await post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', sliceOf('web', eps(['b1'])));
    startProxy();
    const reach = () => lab2.connect(`${lab2.node}-pod`, spec.clusterIP!, 80, 'tcp', 1)[0]!.startsWith('b1 ');
    await until('the ClusterIP reaching b1', reach);
    const np = spec.ports![0]!.nodePort!;
    assert.ok(lab2.connect(`${lab2.node}-pod`, nodeIP, np, 'tcp', 1)[0]!.startsWith('b1 '), 'NodePort');
    // The LoadBalancer Service gets the node's address as its ingress, through services/status.
    let ingress: (string | undefined)[] | undefined;
    for (let i = 0; i < 50 && !ingress?.length; i++) {
      const got = await cluster.request('/api/v1/namespaces/default/services/web');
      ingress = (JSON.parse(got.body) as Service).status?.loadBalancer?.ingress?.map((x) => x.ip);
      if (!ingress?.length) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(ingress, [nodeIP]);

    // Killed hard: the rules stay, traffic keeps flowing.
    proxy!.kill('SIGKILL');
    await new Promise((r) => proxy!.once('exit', r));
    assert.ok(reach(), 'traffic after the proxy died');
    // Restarted: it takes the rules over and keeps them working while it syncs.
    logs.length = 0;
    startProxy();
    for (let i = 0; i < 10; i++) {
      assert.ok(reach(), `traffic while the proxy restarts (${i})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await until('the restarted proxy syncing', () => /Synced proxy rules/.test(logs.join('')));
    assert.ok(reach());
    proxy!.kill('SIGTERM');
    await new Promise((r) => proxy!.once('exit', r));

    // --cleanup takes everything out.
    const kubeconfigless = lab2.spawnIn(lab2.node, process.execPath, [main, '--cleanup']);
    const code = await new Promise((r) => kubeconfigless.once('exit', r));
    assert.equal(code, 0);
    assert.doesNotMatch(inNs(lab2.node, 'iptables-nft-save', []) + inNs(lab2.node, 'iptables-legacy-save', []), /KUBE-/);
    assert.equal(lab2.connect(`${lab2.node}-pod`, spec.clusterIP!, 80, 'tcp', 1)[0], 'TIMEOUT');
  });
});
