// The nftables mode's rules applied for real: a "node" network namespace with a bridge, backend
// namespaces running TCP/UDP servers, a pod namespace on the bridge and a client namespace
// outside the pod network (test/netns.ts); the proxy's nft transactions (a full sync, then
// partial ones) are applied in the node namespace and traffic is checked from the pod, the node
// and the outside client. Then `skiff-proxy --cleanup` removes the table, and the real process
// runs with --proxy-mode=nftables against a test apiserver. Only these namespaces are touched;
// everything is removed even when a test fails.

import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { service, slice, type EndpointSpec } from '../proxy/fixtures.js';
import { Nftables } from '../proxy/nftables-run.js';
import { type RuleEngine, nftablesEngine } from '../proxy/proxier.js';
import type { NodeState } from '../proxy/rules.js';
import { writeKubeconfig } from '../lib/kubeconfig.js';
import { type Cluster, startCluster } from './harness.js';
import { Lab, inNs, bridgeLoopbackPort } from './netns.js';

const nodeIP = '10.245.0.1';
const node: NodeState = { nodeName: 'node-a', nodeIPs: [nodeIP], clusterCIDR: '10.245.0.0/24', masqueradeMark: 0x4000, nodePortAddresses: [], serviceCIDRs: ['10.116.0.0/16'] };
const backends = [
  { name: 'b1', ip: '10.245.0.11', node: 'node-a' },
  { name: 'b2', ip: '10.245.0.12', node: 'node-a' },
  { name: 'b3', ip: '10.245.0.13', node: 'node-b' },
];
const podIP = '10.245.0.20';
const outsideIP = '10.245.9.2';
const ports = (nodePort?: number) => [
  { name: 'http', port: 80, targetPort: 'web' as const, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) },
  { name: 'dns', port: 53, targetPort: 8053, protocol: 'UDP' },
];
const eps = (names: string[]): EndpointSpec[] => backends.filter((b) => names.includes(b.name)).map((b) => ({ ip: b.ip, node: b.node }));
const sliceOf = (svc: string, e: EndpointSpec[]) => slice('default', svc, [{ name: 'http', port: 8080 }, { name: 'dns', port: 8053, protocol: 'UDP' }], e);
const names = (answers: string[]) => new Set(answers.map((a) => a.split(' ')[0]));

// Network namespaces and nft need root (CI runs as root).
const skip = process.getuid?.() !== 0 ? 'needs root for network namespaces' : spawnSync('nft', ['--version']).status !== 0 ? 'nft is not installed' : false;

describe('nftables-mode proxy rules in a network namespace', { skip }, () => {
  let lab: Lab;
  let nft: Nftables;
  let engine: RuleEngine;
  let synced = false;

  /** apply programs services and slices with one nft transaction: a full sync first, partial ones after (changed: every Service given). */
  async function apply(services: Service[], slices: EndpointSlice[]): Promise<void> {
    const changed = synced ? new Set(services.map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`)) : undefined;
    const rules = engine.build(services, slices, node, changed);
    await nft.apply(rules.text);
    rules.commit();
    synced = true;
  }

  before(async () => {
    lab = new Lab();
    lab.setupNode(nodeIP, '10.116.0.0/16');
    for (const b of backends) {
      lab.addPod(`${lab.node}-${b.name}`, b.ip, nodeIP);
      await lab.serve(`${lab.node}-${b.name}`, b.name, 8080);
      await lab.serve(`${lab.node}-${b.name}`, b.name, 8053);
    }
    lab.addPod(`${lab.node}-pod`, podIP, nodeIP);
    lab.addRouted(`${lab.node}-out`, '10.245.9.1', outsideIP);
    nft = new Nftables(['nsenter', `--net=/var/run/netns/${lab.node}`]);
    engine = nftablesEngine();
  });
  after(() => lab?.cleanup());

  it('a ClusterIP reaches every backend over TCP and UDP, from a pod and from the node itself', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports())], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    assert.match(inNs(lab.node, 'nft', ['list', 'tables']), /table ip kube-proxy/);
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

  it('a partial sync moves traffic off a removed endpoint', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports())], [sliceOf('web', eps(['b1', 'b3']))]);
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 30)), new Set(['b1', 'b3']));
  });

  it('a NodePort answers on the node address, from a pod and from outside (masqueraded)', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports(30080), { type: 'NodePort' })], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, nodeIP, 30080, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
    const outside = lab.connect(`${lab.node}-out`, nodeIP, 30080, 'tcp', 20);
    assert.deepEqual(names(outside), new Set(['b1', 'b2', 'b3']));
    assert.ok(outside.every((a) => !a.endsWith(` ${outsideIP}`)), JSON.stringify(outside));
  });

  it('externalTrafficPolicy Local sends outside clients only to local endpoints and keeps their address', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports(30080), { type: 'NodePort', externalTrafficPolicy: 'Local' })], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    const outside = lab.connect(`${lab.node}-out`, nodeIP, 30080, 'tcp', 30);
    assert.deepEqual(names(outside), new Set(['b1', 'b2']), 'b3 is on node-b');
    assert.ok(outside.every((a) => a.endsWith(` ${outsideIP}`)), JSON.stringify(outside));
    assert.deepEqual(names(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 30)), new Set(['b1', 'b2', 'b3']));
  });

  it('ClientIP session affinity keeps a client on one backend', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports(), { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [sliceOf('web', eps(['b1', 'b2', 'b3']))]);
    const answers = lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 20);
    assert.equal(names(answers).size, 1, JSON.stringify(answers));
  });

  it('a Service with no endpoints refuses connections at once, on its ClusterIP and its NodePort', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports(30080), { type: 'NodePort' })], [sliceOf('web', [])]);
    assert.deepEqual(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 2), ['ECONNREFUSED', 'ECONNREFUSED']);
    assert.deepEqual(lab.connect(`${lab.node}-out`, nodeIP, 30080, 'tcp', 1), ['ECONNREFUSED']);
  });

  it('loadBalancerSourceRanges let only their clients reach the load-balancer ingress', async () => {
    const edge = (ranges: string[]) =>
      service('default', 'edge', '10.116.0.20', [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], { type: 'LoadBalancer', loadBalancerSourceRanges: ranges }, { loadBalancer: { ingress: [{ ip: nodeIP, ipMode: 'VIP' }] } });
    const edgeSlice = slice('default', 'edge', [{ port: 8080 }], [{ ip: '10.245.0.11', node: 'node-a' }]);
    const out = `${lab.node}-out`;
    await apply([edge(['10.245.9.0/24'])], [edgeSlice]);
    assert.deepEqual(lab.connect(out, nodeIP, 80, 'tcp', 2).map((a) => a.split(' ')[0]), ['b1', 'b1']);
    // The client is outside the ranges now: dropped (no answer), while the NodePort still answers.
    await apply([edge(['203.0.113.0/24', '10.245.8.0/24'])], [edgeSlice]);
    assert.deepEqual(lab.connect(out, nodeIP, 80, 'tcp', 1), ['TIMEOUT']);
    assert.deepEqual(lab.connect(out, nodeIP, 30080, 'tcp', 1).map((a) => a.split(' ')[0]), ['b1']);
    // No ranges: everyone, and the firewall chain is gone.
    await apply([edge([])], [edgeSlice]);
    assert.deepEqual(lab.connect(out, nodeIP, 80, 'tcp', 1).map((a) => a.split(' ')[0]), ['b1']);
    assert.doesNotMatch(inNs(lab.node, 'nft', ['list', 'table', 'ip', 'kube-proxy']), /chain firewall-\S+\//);
  });

  it('traffic to an unallocated ClusterIP is dropped on the node instead of being sent on', async () => {
    await apply([service('default', 'web', '10.116.0.10', ports())], [sliceOf('web', eps(['b1']))]);
    assert.deepEqual(lab.connect(`${lab.node}-pod`, '10.116.0.99', 80, 'tcp', 1), ['TIMEOUT']);
    // Without the drop the node would have forwarded it onto the bridge and asked who has 10.116.0.99.
    assert.equal(inNs(lab.node, 'ip', ['neigh', 'show', '10.116.0.99']).trim(), '');
    // An allocated ClusterIP on a port it does not serve is refused at once.
    assert.deepEqual(lab.connect(`${lab.node}-pod`, '10.116.0.10', 81, 'tcp', 1), ['ECONNREFUSED']);
  });

  it('skiff-proxy --cleanup deletes the table and leaves other tables alone', async () => {
    inNs(lab.node, 'nft', ['add', 'table', 'ip', 'skx-other']);
    const main = fileURLToPath(new URL('../proxy/main.js', import.meta.url));
    const r = spawnSync('nsenter', [`--net=/var/run/netns/${lab.node}`, process.execPath, main, '--cleanup'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const tables = inNs(lab.node, 'nft', ['list', 'tables']);
    assert.doesNotMatch(tables, /kube-proxy/);
    assert.match(tables, /table ip skx-other/);
    assert.equal(lab.connect(`${lab.node}-pod`, '10.116.0.10', 80, 'tcp', 1)[0], 'TIMEOUT');
  });
});

describe('skiff-proxy --proxy-mode=nftables in a network namespace', { skip }, () => {
  let cluster: Cluster;
  let lab: Lab;
  let forward: Server | undefined;
  let proxy: ChildProcess | undefined;
  const logs: string[] = [];
  const main = fileURLToPath(new URL('../proxy/main.js', import.meta.url));

  before(async () => {
    cluster = await startCluster({ components: ['etcd', 'apiserver'], extraArgs: { apiserver: ['--service-cluster-ip-range=10.116.0.0/16'] } });
    lab = new Lab();
    lab.setupNode(nodeIP, '10.116.0.0/16');
    lab.addPod(`${lab.node}-b1`, backends[0]!.ip, nodeIP);
    await lab.serve(`${lab.node}-b1`, 'b1', 8080);
    lab.addPod(`${lab.node}-pod`, podIP, nodeIP);
  });
  after(async () => {
    proxy?.kill('SIGKILL');
    forward?.close();
    lab?.cleanup();
    await cluster?.stop();
  });

  /** bridgeApiserver makes the host's apiserver reachable at the same address inside the node namespace. */
  async function bridgeApiserver(): Promise<void> {
    forward = await bridgeLoopbackPort(lab, Number(new URL(cluster.server).port));
  }

  function startProxy(): void {
    const kubeconfig = join(lab.dir, 'proxy.kubeconfig');
    writeKubeconfig(kubeconfig, { server: cluster.server, caFile: cluster.caFile, clientCert: cluster.adminCert, clientKey: cluster.adminKey, user: 'admin' });
    proxy = lab.spawnIn(lab.node, process.execPath, [main, `--kubeconfig=${kubeconfig}`, '--proxy-mode=nftables', '--hostname-override=node-a', '--cluster-cidr=10.245.0.0/24', '--secure-port=0', '--min-sync-period=100ms', '--sync-period=10s', '-v=2']);
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

  const send = async (path: string, method: string, body?: object): Promise<unknown> => {
    const r = await cluster.request(path, { method, body });
    assert.ok(r.status < 300, `${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as unknown;
  };

  it('programs a Service from the apiserver, follows its endpoints, survives a restart and is cleaned up', async () => {
    await bridgeApiserver();
    await send('/api/v1/nodes', 'POST', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: nodeIP }] } });
    const svc = (await send('/api/v1/namespaces/default/services', 'POST', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } })) as Service;
    await send('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', 'POST', sliceOf('web', eps(['b1'])));
    startProxy();
    const first = () => lab.connect(`${lab.node}-pod`, svc.spec.clusterIP!, 80, 'tcp', 1)[0]!;
    await until('the ClusterIP reaching b1', () => first().startsWith('b1 '));
    assert.ok(lab.connect(`${lab.node}-pod`, nodeIP, svc.spec.ports![0]!.nodePort!, 'tcp', 1)[0]!.startsWith('b1 '), 'NodePort');
    assert.match(inNs(lab.node, 'nft', ['list', 'tables']), /table ip kube-proxy/);
    assert.doesNotMatch(inNs(lab.node, 'iptables-nft-save', []) + inNs(lab.node, 'iptables-legacy-save', []), /KUBE-SERVICES/, 'nothing in iptables');

    // Killed hard and restarted: traffic keeps flowing, the new proxy takes the table over.
    proxy!.kill('SIGKILL');
    await new Promise((r) => proxy!.once('exit', r));
    logs.length = 0;
    startProxy();
    for (let i = 0; i < 5; i++) assert.ok(first().startsWith('b1 '), `traffic while the proxy restarts (${i})`);
    await until('the restarted proxy syncing', () => /Synced proxy rules/.test(logs.join('')));

    // The endpoint goes (a partial sync): connections are refused at once.
    const got = (await send('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abcde', 'GET')) as EndpointSlice;
    await send('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abcde', 'PUT', { ...got, endpoints: [] });
    await until('the ClusterIP refusing connections', () => first() === 'ECONNREFUSED');
    proxy!.kill('SIGTERM');
    await new Promise((r) => proxy!.once('exit', r));

    const r = spawnSync('nsenter', [`--net=/var/run/netns/${lab.node}`, process.execPath, main, '--cleanup'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(inNs(lab.node, 'nft', ['list', 'tables']), /kube-proxy/);
  });
});
