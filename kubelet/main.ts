#!/usr/bin/env node
// skiff-kubelet: the agent of one real node. It registers its Node with the machine's real
// capacity and nodeInfo, renews its Lease, sets the pod network up from the Node's spec.podCIDR
// (kubelet/network.ts), serves the kubelet API on --port (kubelet/server), and hands the pods
// bound to it to the pod workers (kubelet/pods), which run them through CRI on its containerd.
// It stops without touching what runs: a restarted kubelet adopts its containers.

import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { ClusterAccess } from '../lib/client/kubeconfig.js';
import type { Pod } from '../lib/api/core/pod.js';
import { type Client, resourcePath } from '../lib/client/client.js';
import { EventRecorder } from '../lib/client/events.js';
import { Pods } from '../lib/client/resources.js';
import { wallClock } from '../lib/clock.js';
import { type ApiObject, newSharedInformer, type SharedInformer } from '../lib/controller/informer.js';
import { type FlagSpec, pickFlags } from '../lib/flags.js';
import { Gauge } from '../lib/metrics.js';
import { defaultNodeIP } from '../lib/node/address.js';
import { parseIPv4Cidr } from '../lib/net/ip.js';
import { NodeFlagError, parseLabelsFlag, parseTaintsFlag } from '../lib/node/flags.js';
import { runComponent } from '../lib/process/component.js';
import { CriClient } from './cri/client.js';
import { DefaultMaxPods, readMachineFacts } from './machine.js';
import type { NodeNetwork } from './network.js';
import { setUpNodeNetwork } from './network.js';
import { NodeAgent } from './node.js';
import { PodManager } from './pods/manager.js';
import { startKubeletServer } from './server/server.js';
import { CachingObjectSources } from './sources.js';

const summary = `skiff-kubelet is the agent of one real node: it registers the Node (real capacity, addresses and
nodeInfo), renews its Lease in kube-node-lease every 10 s, writes the CNI network configuration for the Node's
spec.podCIDR into its containerd's CNI config dir (the Node is NotReady until the runtime's network is ready),
routes the cluster and service CIDRs to a local sink device, serves the kubelet API on --port, and runs the pods
bound to the Node through CRI on --container-runtime-endpoint.`;

const flags: FlagSpec[] = [
  { name: 'node-name', description: 'Name of the Node this kubelet registers (default: the hostname, lower-cased).' },
  { name: 'node-ip', description: 'The Node\'s InternalIP (default: the address of the interface the default route uses).' },
  { name: 'root-dir', description: 'Directory for the kubelet\'s files (pods/<uid>/volumes …).', default: '/var/lib/kubelet' },
  { name: 'pod-logs-dir', description: 'Directory containers log to (<namespace>_<pod>_<uid>/<container>/<restart>.log).', default: '/var/log/pods' },
  { name: 'container-runtime-endpoint', description: 'The CRI runtime\'s socket (unix:///path or a path).', default: 'unix:///run/containerd/containerd.sock' },
  { name: 'cni-conf-dir', description: 'The runtime\'s CNI configuration directory, where the conflist for spec.podCIDR is written.', default: '/etc/cni/net.d' },
  { name: 'cni-bridge', description: 'Name of the pods\' Linux bridge.', default: 'cni0' },
  { name: 'cni-network-name', description: 'Name of the CNI network (CNI\'s iptables rules carry it).', default: 'skiff' },
  { name: 'sink-device', description: 'Device the cluster and service CIDRs are routed to, so unused cluster addresses are dropped locally.', default: 'skiff-sink0' },
  { name: 'cluster-cidr', description: 'The cluster\'s pod network (routed to the sink; pod-to-pod traffic in it is not masqueraded).', default: '10.244.0.0/16' },
  { name: 'service-cidr', description: 'The cluster\'s Service network (routed to the sink).', default: '10.96.0.0/12' },
  { name: 'cgroup-root', description: 'Cgroup under which pod cgroups are made, in every hierarchy.', default: '/kubepods' },
  { name: 'cluster-dns', description: 'Comma-separated DNS server IPs for pods with dnsPolicy ClusterFirst.', default: '' },
  { name: 'cluster-domain', description: 'The cluster\'s DNS domain, searched by pods.', default: 'cluster.local' },
  { name: 'max-pods', description: 'Pods this node runs at most (status.capacity.pods).', default: String(DefaultMaxPods) },
  { name: 'address', description: 'Address the kubelet API listens on.', default: '0.0.0.0' },
  { name: 'port', description: 'HTTPS port of the kubelet API (logs, exec, attach, port-forward).', default: '10250' },
  { name: 'node-labels', description: 'Labels to add to the Node, key=value,…', default: '' },
  { name: 'register-with-taints', description: 'Taints the Node registers with, key=value:Effect or key:Effect,…', default: '' },
  { name: 'node-status-update-frequency', description: 'Seconds between node status computations (written when changed, or every 5 minutes).', default: '10' },
];

/** flagProblems says what is wrong with the kubelet's address, CIDR, port and count flags, or undefined. */
function flagProblems(f: Record<string, string>): string | undefined {
  for (const name of ['cluster-cidr', 'service-cidr']) {
    try {
      parseIPv4Cidr(f[name]!);
    } catch {
      return `invalid value ${JSON.stringify(f[name])} for --${name}: want an IPv4 CIDR`;
    }
  }
  if (f['node-ip'] && isIP(f['node-ip']) !== 4) return `invalid value ${JSON.stringify(f['node-ip'])} for --node-ip: want an IPv4 address`;
  for (const ip of f['cluster-dns']!.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (isIP(ip) === 0) return `invalid value ${JSON.stringify(ip)} in --cluster-dns: want IP addresses`;
  }
  const ints: [string, number, number][] = [['port', 1, 65535], ['max-pods', 1, 10_000], ['node-status-update-frequency', 1, 3600]];
  for (const [name, min, max] of ints) {
    const n = Number(f[name]);
    if (!Number.isInteger(n) || n < min || n > max) return `invalid value ${JSON.stringify(f[name])} for --${name}: want an integer in [${min}, ${max}]`;
  }
  for (const name of ['cni-bridge', 'sink-device']) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(f[name]!)) return `invalid value ${JSON.stringify(f[name])} for --${name}: want a network device name of 1 to 15 characters`;
  }
  return undefined;
}

/** newPodInformer watches the pods bound to nodeName (fieldSelector spec.nodeName=<node>). */
function newPodInformer(kc: ClusterAccess, client: Client, nodeName: string): SharedInformer<Pod & ApiObject> {
  const fieldSelector = `spec.nodeName=${nodeName}`;
  return newSharedInformer<Pod & ApiObject>(kc, resourcePath(Pods), () => client.list<Pod & ApiObject>(Pods, undefined, { fieldSelector }), { name: 'pods', fieldSelector });
}

// Bad values stop the process before it reads its kubeconfig or touches the network.
if (!process.argv.includes('--help') && !process.argv.includes('-h')) {
  const own = pickFlags(process.argv.slice(2), flags, { withDefaults: true });
  let problem = flagProblems(own);
  try {
    parseLabelsFlag(own['node-labels']!, 'node-labels');
    parseTaintsFlag(own['register-with-taints']!, 'register-with-taints');
  } catch (err) {
    if (!(err instanceof NodeFlagError)) throw err;
    problem ??= err.message;
  }
  if (problem) {
    process.stderr.write(`skiff-kubelet: ${problem}\n`);
    process.exit(2);
  }
}

runComponent({
  name: 'skiff-kubelet',
  summary,
  defaultPort: 10248,
  userAgent: 'skiff-kubelet',
  flags,
  run: async ({ flags: f, log, metrics, kubeConfig, client, signal, addReadyCheck }) => {
    let labels: Record<string, string>;
    let taints;
    try {
      labels = parseLabelsFlag(f['node-labels']!, 'node-labels');
      taints = parseTaintsFlag(f['register-with-taints']!, 'register-with-taints');
    } catch (err) {
      if (!(err instanceof NodeFlagError)) throw err;
      log.error('Invalid flag', { err: err.message });
      process.exit(2);
    }

    for (const name of ['tls-cert-file', 'tls-private-key-file', 'client-ca-file']) {
      if (!f[name]) {
        log.error('The kubelet API needs a serving certificate and the CA of the apiserver\'s client certificate', { missingFlag: name });
        process.exit(2);
      }
    }
    const hostname = osHostname().toLowerCase();
    const nodeName = f['node-name'] || hostname;
    const nodeIP = f['node-ip'] || defaultNodeIP();
    const rootDir = f['root-dir']!;
    for (const dir of [rootDir, f['pod-logs-dir']!]) mkdirSync(dir, { recursive: true, mode: 0o750 });
    const facts = readMachineFacts(rootDir);
    const endpoint = f['container-runtime-endpoint']!.replace(/^unix:\/\//, '');
    const runtime = new CriClient(endpoint);
    const clock = wallClock;

    // The runtime may still be starting (a restarted containerd): wait for its answer.
    let version;
    for (let attempt = 0; ; attempt++) {
      try {
        version = await runtime.version();
        break;
      } catch (err) {
        if (signal.aborted) return;
        if (attempt % 10 === 0) log.warn('Container runtime not answering yet', { endpoint, err: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    log.info('Container runtime', { name: version.runtime_name, version: version.runtime_version, apiVersion: version.runtime_api_version });

    const network: NodeNetwork = {
      name: f['cni-network-name']!,
      bridge: f['cni-bridge']!,
      sink: f['sink-device']!,
      clusterCIDR: f['cluster-cidr']!,
      serviceCIDR: f['service-cidr']!,
      ipamDataDir: join(rootDir, 'cni', 'networks'),
    };
    const kubeletPort = Number(f.port);
    const recorder = new EventRecorder(client, { component: 'kubelet', host: nodeName, log });
    const agent = new NodeAgent({
      client,
      recorder,
      log,
      clock,
      input: { nodeName, nodeIP, hostname, facts, runtimeVersion: version, maxPods: Number(f['max-pods']), kubeletPort, labels, taints, localPathDir: join(rootDir, 'local-path') },
      runtimeConditions: async () => (await runtime.status()).status?.conditions ?? [],
      onPodCIDR: (podCIDR) => setUpNodeNetwork(f['cni-conf-dir']!, network, podCIDR),
      statusUpdateFrequencyMs: Number(f['node-status-update-frequency']) * 1000,
    });
    addReadyCheck('node-ready', () => (agent.ready ? undefined : 'the Node is not Ready yet'));
    new Gauge({ name: 'kubelet_node_name', help: 'The node\'s name; the value is always 1.', labelNames: ['node'], registers: [metrics], collect() { this.set({ node: nodeName }, 1); } });
    // As the kubelet does, keep trying to register while the apiserver is away, with back-off.
    for (let delay = 500; ; delay = Math.min(delay * 2, 7_000)) {
      try {
        await agent.start();
        break;
      } catch (err) {
        if (signal.aborted) return;
        log.warn('Unable to register node with API server', { node: nodeName, err: (err as Error).message, retryMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }

    // The API server lists the pods the informer (made below) holds.
    let boundPods: () => Pod[] = () => [];
    const server = await startKubeletServer({
      address: f.address!,
      port: kubeletPort,
      tls: { cert: readFileSync(f['tls-cert-file']!, 'utf8'), key: readFileSync(f['tls-private-key-file']!, 'utf8'), clientCA: readFileSync(f['client-ca-file']!, 'utf8') },
      runtime,
      log,
      metrics,
      pods: () => boundPods(),
    });

    const pods = new PodManager({
      nodeName,
      client,
      runtime,
      recorder,
      log,
      metrics,
      clock,
      sources: new CachingObjectSources(client, clock),
      rootDir,
      podLogsDir: f['pod-logs-dir']!,
      cgroupParent: f['cgroup-root']!,
      clusterDNS: f['cluster-dns']!.split(',').map((s) => s.trim()).filter(Boolean),
      clusterDomain: f['cluster-domain']!,
      hostIP: nodeIP,
      nodeAllocatable: () => Object.fromEntries(Object.entries(agent.allocatable()).map(([k, v]) => [k, String(v)])),
    });
    new Gauge({ name: 'kubelet_running_pods', help: 'Pods that have a sandbox on this node.', registers: [metrics], collect() { this.set(pods.runningPods); } });
    await pods.start();
    const informer = newPodInformer(kubeConfig, client, nodeName);
    const podLister = informer.lister();
    boundPods = () => podLister.list();
    informer.on('add', (p) => pods.onPod(p));
    informer.on('update', (p) => pods.onPod(p));
    informer.on('delete', (p) => pods.onPodDelete(p));
    informer.start();
    log.info('Kubelet started', { node: nodeName, nodeIP, port: kubeletPort, runtime: endpoint });

    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    agent.stop();
    await informer.stop();
    await pods.stop();
    await server.close();
    runtime.close();
  },
});
