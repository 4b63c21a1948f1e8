// The components of a skiff cluster as data: how each is prepared (certificates, kubeconfigs),
// started and health-checked. `skiff up` starts them in this order, `skiff down` stops them in
// reverse, and the test harness starts the same processes with the same flags. A new process
// (kubelet, proxy) joins the cluster by adding an entry to `components` below (clientComponent
// for an API client); nothing else needs to know about it.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerdPaths, writeContainerdConfig } from '../../kubelet/containerd.js';
import { cleanupNode, importNodeImages, type NodeLayout, stopPodSandboxes } from '../../kubelet/lifecycle.js';
import { writeKubeconfig } from '../kubeconfig.js';
import { defaultNodeIP } from '../node/address.js';
import { ensureClientCert, ensureEtcdPKI, ensureServingCert, ensureServiceAccountKey, apiserverHosts } from '../pki.js';
import { ensureAuditPolicy, ensureEncryptionConfig } from './security.js';
import ipaddr from 'ipaddr.js';
import type { HealthCheck } from './supervisor.js';

/** ClusterConfig is what `skiff up` was asked for; it is saved in the home so later commands agree. */
export interface ClusterConfig {
  home: string;
  etcdClientPort: number;
  etcdPeerPort: number;
  apiserverPort: number;
  /** bindAddress is where the apiserver listens (0.0.0.0: every interface). */
  bindAddress: string;
  /** advertiseAddress is the IP the apiserver tells clients (and the `kubernetes` Endpoints) it has. */
  advertiseAddress: string;
  /** verbosity is passed to components as -v. */
  verbosity: number;
  /** extraSANs are hosts added to the apiserver's serving certificate. */
  extraSANs: string[];
  /** controllerManagerPort, schedulerPort and simPort serve those processes' /healthz and /metrics. */
  controllerManagerPort: number;
  schedulerPort: number;
  simPort: number;
  /** proxyPort serves skiff-proxy's /healthz and /metrics (kube-proxy's 10256). */
  proxyPort?: number;
  /** proxyMode is skiff-proxy's --proxy-mode (default iptables). */
  proxyMode?: 'iptables' | 'nftables';
  /** simulatedNodes is how many Nodes (sim-0 …) the node simulator creates and runs. */
  simulatedNodes: number;
  /** simArgs are more node simulator flags (`--node-cpu=16`, …) that `skiff sim` records. */
  simArgs?: string[];
  /** dnsPort serves skiff-dns's /healthz and /metrics (default 10270). */
  dnsPort?: number;
  /** dnsBindAddress is where skiff-dns answers (default: bindAddress, or advertiseAddress when that is every interface). */
  dnsBindAddress?: string;
  /** clusterDNSPort is where skiff-dns answers DNS (default 53; 0 picks a free port and publishes it). */
  clusterDNSPort?: number;
  /** clusterCIDR is the pod network every Node's /24 podCIDR is cut from. */
  clusterCIDR: string;
  /** serviceCIDR is the range ClusterIPs are allocated from (the apiserver's --service-cluster-ip-range). */
  serviceCIDR: string;
  /** realNode runs a containerd and a kubelet on this machine: one real Node (default true). */
  realNode: boolean;
  /** nodeName is the real Node's name (default: the hostname, lower-cased). */
  nodeName?: string;
  /** nodeIP is the real Node's InternalIP (default: the address of the default route's interface). */
  nodeIP?: string;
  /** kubeletPort serves the kubelet API; kubeletHealthPort its /healthz and /metrics. */
  kubeletPort: number;
  kubeletHealthPort: number;
  /** containerdStreamPort serves CRI streams (exec, attach, port-forward) on 127.0.0.1; containerdMetricsPort its /v1/metrics (health). */
  containerdStreamPort: number;
  containerdMetricsPort: number;
  /** cniBridge, sinkDevice and cniNetworkName name the node's network pieces (unique per cluster on one machine; 15 bytes at most for devices). */
  cniBridge: string;
  sinkDevice: string;
  cniNetworkName: string;
  /** cgroupRoot is the cgroup the node's pods live under, in every hierarchy. */
  cgroupRoot: string;
  /** extraArgs are more flags per component name (tests shorten timeouts with them). */
  extraArgs?: Record<string, string[]>;
  /** controlPlaneMembers is how many etcd/apiserver/controller manager/scheduler members run (default 1; see controlplane.ts). */
  controlPlaneMembers?: number;
  /** apiserverWorkers is the apiserver's --apiserver-workers (default: the apiserver's own, 2 from 4 cores, else 1). */
  apiserverWorkers?: number;
  /** controlPlanePorts are each member's ports when not the defaults controlplane.ts derives (the test harness picks free ones). */
  controlPlanePorts?: MemberPorts[];
  /** controlPlaneNetns are the members that run in a network namespace of their own (`skiff lab up --control-plane N`; see controlplane.ts). */
  controlPlaneNetns?: MemberNetns[];
}

/** MemberNetns places control-plane member `member` in network namespace netns at ip (its InternalIP on the lab bridge, whose host end is gateway). */
export interface MemberNetns {
  member: number;
  netns: string;
  ip: string;
  gateway: string;
}

/** ClusterPaths are the files and folders under a cluster's home. */
export interface ClusterPaths {
  home: string;
  /** containerd is the node's containerd's dir (config, root, state, socket, CNI config). */
  containerd: string;
  /** kubelet is the kubelet's --root-dir; podLogs where containers log. */
  kubelet: string;
  podLogs: string;
  etcdDataDir: string;
  pki: string;
  /** etcdPKI holds etcd's own CA and certificates (lib/pki.ts ensureEtcdPKI). */
  etcdPKI: string;
  /** encryptionConfig is the apiserver's --encryption-provider-config (0600: it holds the keys). */
  encryptionConfig: string;
  /** auditPolicy is the apiserver's --audit-policy-file; auditLog its --audit-log-path. */
  auditPolicy: string;
  auditLog: string;
  logs: string;
  run: string;
  adminKubeconfig: string;
  /** tokenFile is the apiserver's --token-auth-file (CSV token,user,uid,"groups"). */
  tokenFile: string;
  configFile: string;
}

/** clusterPaths lays out a home: etcd/, pki/, logs/, run/, admin.kubeconfig, cluster.json. */
export function clusterPaths(home: string): ClusterPaths {
  const pki = join(home, 'pki');
  return {
    home,
    containerd: join(home, 'containerd'),
    kubelet: join(home, 'kubelet'),
    podLogs: join(home, 'pod-logs'),
    etcdDataDir: join(home, 'etcd'),
    pki,
    etcdPKI: join(pki, 'etcd'),
    encryptionConfig: join(pki, 'encryption-config.yaml'),
    auditPolicy: join(home, 'audit-policy.yaml'),
    auditLog: join(home, 'logs', 'audit.log'),
    logs: join(home, 'logs'),
    run: join(home, 'run'),
    adminKubeconfig: join(home, 'admin.kubeconfig'),
    tokenFile: join(pki, 'tokens.csv'),
    configFile: join(home, 'cluster.json'),
  };
}

/** ComponentContext is what a component's hooks see. */
export interface ComponentContext {
  config: ClusterConfig;
  paths: ClusterPaths;
}

/** Command is a program and its arguments. */
export interface Command {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** Component declares one process of the cluster. */
export interface Component {
  name: string;
  /** prepare creates what the process needs before it starts (certificates, kubeconfigs); idempotent. */
  prepare?: (ctx: ComponentContext) => Promise<void>;
  command: (ctx: ComponentContext) => Command;
  /** health is the GET that answers 200 once the process serves. */
  health: (ctx: ComponentContext) => HealthCheck;
  /** startTimeoutMs bounds the wait for the first healthy answer. */
  startTimeoutMs: number;
  /** stopGraceMs is how long SIGTERM gets before SIGKILL. */
  stopGraceMs: number;
  /**
   * dependsOn names the components that must be healthy (and past their afterStart) before this
   * one starts; `skiff up` starts the others at the same time. Absent, or naming a component not
   * being started (a control plane with several members, --only), it waits for every component
   * before it in the list, as a plain sequence would.
   */
  dependsOn?: readonly string[];
  /** afterStart runs once the process is healthy (containerd: import the images), telling progress one line per step. */
  afterStart?: (ctx: ComponentContext, progress: (line: string) => void) => Promise<void>;
  /** beforeStop runs before SIGTERM (containerd: stop the pod sandboxes through CRI). */
  beforeStop?: (ctx: ComponentContext) => Promise<void>;
  /** afterStop runs once the process is gone (containerd: remove what the node left on the machine). */
  afterStop?: (ctx: ComponentContext) => Promise<void>;
}

/** etcdEndpoint is the client URL of the cluster's etcd: https, and only for a client certificate of etcd's own CA. */
export function etcdEndpoint(config: ClusterConfig): string {
  return `https://127.0.0.1:${config.etcdClientPort}`;
}

/** etcdClientFiles are the CA, certificate and key a client of the cluster's etcd presents (the apiserver's). */
export function etcdClientFiles(paths: ClusterPaths): { ca: string; cert: string; key: string } {
  return { ca: join(paths.etcdPKI, 'ca.crt'), cert: join(paths.etcdPKI, 'apiserver-etcd-client.crt'), key: join(paths.etcdPKI, 'apiserver-etcd-client.key') };
}

/** apiserverURL is the URL local clients reach the apiserver at. */
export function apiserverURL(config: ClusterConfig): string {
  return `https://${localAddress(config.bindAddress)}:${config.apiserverPort}`;
}

/** localAddress is how this machine reaches a listener bound to bindAddress. */
function localAddress(bindAddress: string): string {
  return bindAddress === '0.0.0.0' || bindAddress === '::' || bindAddress === '' ? '127.0.0.1' : bindAddress;
}

/**
 * nodeEntry is the path of a compiled entry point of this project (e.g. 'apiserver/main.js'),
 * found relative to this file so it works from any working directory.
 */
export function nodeEntry(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

/** nodeCommand runs one of this project's compiled entry points with the current Node (and V8 flags before it). */
function nodeCommand(entry: string, args: string[], v8Flags: readonly string[] = []): Command {
  return { command: process.execPath, args: [...v8Flags, '--enable-source-maps', nodeEntry(entry), ...args] };
}

/**
 * smallHeapFlags are the V8 flags of the supervisor, which only waits on its children:
 * `--optimize-for-size` grows the heap by smaller steps and collects sooner. The API clients
 * (controller manager, scheduler, simulator, skiff-dns, kubelet, proxy) ran with it too while
 * each loaded @kubernetes/client-node (committed heap at rest 93-97 MiB → 55-62 MiB per
 * process); since they stopped loading it, it no longer changes the cluster at rest (`npm run
 * bench -- footprint`: 411-425 MB with it, 421 MB without), and it cost the scheduler 2.4 times
 * its CPU per pod under load, a third of it in garbage collection (2.13 → 0.89 ms per pod, 319 →
 * 405 pods/s over 1,000 simulated nodes). They and the apiserver keep V8's defaults.
 */
export const smallHeapFlags: readonly string[] = ['--optimize-for-size'];

/**
 * etcd is the cluster's store: one member on loopback, TLS on both its client and peer URLs, and
 * only for clients with a certificate of its own CA (the apiserver's): no other local user reads
 * the cluster's Secrets out of it.
 */
export const etcd: Component = {
  name: 'etcd',
  prepare: async ({ paths }) => {
    await ensureEtcdPKI(paths.etcdPKI);
  },
  command: ({ config, paths }) => {
    const client = etcdEndpoint(config);
    const peer = `https://127.0.0.1:${config.etcdPeerPort}`;
    const pki = (name: string) => join(paths.etcdPKI, name);
    return {
      command: process.env.SKIFF_ETCD_BIN ?? 'etcd',
      args: [
        '--name', 'default',
        '--data-dir', paths.etcdDataDir,
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `default=${peer}`,
        '--client-cert-auth',
        '--trusted-ca-file', pki('ca.crt'),
        '--cert-file', pki('server.crt'),
        '--key-file', pki('server.key'),
        '--peer-client-cert-auth',
        '--peer-trusted-ca-file', pki('ca.crt'),
        '--peer-cert-file', pki('peer.crt'),
        '--peer-key-file', pki('peer.key'),
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ],
    };
  },
  dependsOn: [],
  health: ({ config, paths }) => ({
    url: `${etcdEndpoint(config)}/health`,
    ca: readFileSync(join(paths.etcdPKI, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(paths.etcdPKI, 'healthcheck-client.crt'), 'utf8'),
    key: readFileSync(join(paths.etcdPKI, 'healthcheck-client.key'), 'utf8'),
  }),
  startTimeoutMs: 30_000,
  stopGraceMs: 10_000,
};

/** apiserver serves the Kubernetes API over TLS from etcd. */
export const apiserver: Component = {
  name: 'apiserver',
  dependsOn: ['etcd'],
  prepare: async ({ config, paths }) => {
    await ensureServingCert(paths.pki, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      // The `kubernetes` Service's ClusterIP of this cluster's range (10.96.0.1 is in the list
      // already): in-cluster clients verify the certificate against it.
      hosts: apiserverHosts([config.advertiseAddress, kubernetesServiceIP(config), ...config.extraSANs]),
    });
    // The identity the apiserver shows kubelets for pods/log, pods/exec and nodes/proxy.
    await ensureClientCert(paths.pki, { name: 'apiserver-kubelet-client', commonName: 'kube-apiserver-kubelet-client', organizations: [] });
    // etcd may be elsewhere in this run (a test's own), but the apiserver's client certificate comes from its CA.
    await ensureEtcdPKI(paths.etcdPKI);
    ensureEncryptionConfig(paths.encryptionConfig);
    ensureAuditPolicy(paths.auditPolicy);
    // The key pair that signs and verifies service-account tokens (kubeadm's sa.key and sa.pub).
    ensureServiceAccountKey(paths.pki);
  },
  command: ({ config, paths }) =>
    nodeCommand('apiserver/main.js', [
      `--etcd-servers=${etcdEndpoint(config)}`,
      `--etcd-cafile=${etcdClientFiles(paths).ca}`,
      `--etcd-certfile=${etcdClientFiles(paths).cert}`,
      `--etcd-keyfile=${etcdClientFiles(paths).key}`,
      `--encryption-provider-config=${paths.encryptionConfig}`,
      `--audit-policy-file=${paths.auditPolicy}`,
      `--audit-log-path=${paths.auditLog}`,
      '--audit-log-maxsize=100',
      '--audit-log-maxbackup=10',
      `--bind-address=${config.bindAddress}`,
      `--secure-port=${config.apiserverPort}`,
      `--advertise-address=${config.advertiseAddress}`,
      `--tls-cert-file=${join(paths.pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(paths.pki, 'apiserver.key')}`,
      `--client-ca-file=${join(paths.pki, 'ca.crt')}`,
      `--kubelet-client-certificate=${join(paths.pki, 'apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${join(paths.pki, 'apiserver-kubelet-client.key')}`,
      `--kubelet-certificate-authority=${join(paths.pki, 'ca.crt')}`,
      `--token-auth-file=${paths.tokenFile}`,
      `--service-account-signing-key-file=${join(paths.pki, 'sa.key')}`,
      `--service-account-key-file=${join(paths.pki, 'sa.pub')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${config.serviceCIDR}`,
      '--service-node-port-range=30000-32767',
      ...(config.apiserverWorkers ? [`--apiserver-workers=${config.apiserverWorkers}`] : []),
      `-v=${config.verbosity}`,
      ...(config.extraArgs?.apiserver ?? []),
    ]),
  health: ({ config, paths }) => ({
    url: `${apiserverURL(config)}/readyz`,
    ca: readFileSync(join(paths.pki, 'ca.crt'), 'utf8'),
  }),
  startTimeoutMs: 60_000,
  stopGraceMs: 10_000,
};

/**
 * clientComponent declares a process that is an API client: prepare gives it a client
 * certificate for identity (CN = user, O = groups), a kubeconfig pointing at the apiserver, and
 * a serving certificate for its health port; it runs `<folder>/main.js` with the common flags
 * lib/process/component.ts parses plus its own.
 */
function clientComponent(opts: {
  name: string;
  entry: string;
  identity: { commonName: string; organizations: string[] } | ((config: ClusterConfig) => { commonName: string; organizations: string[] });
  port: (config: ClusterConfig) => number;
  args?: (ctx: ComponentContext) => string[];
  /** servingHosts are the SANs of its serving certificate (default 127.0.0.1 and localhost). */
  servingHosts?: (config: ClusterConfig) => string[];
  /** dependsOn is Component.dependsOn (default: the apiserver). */
  dependsOn?: readonly string[];
}): Component {
  const identityOf = (config: ClusterConfig) => (typeof opts.identity === 'function' ? opts.identity(config) : opts.identity);
  const kubeconfig = (paths: ClusterPaths) => join(paths.pki, `${opts.name}.kubeconfig`);
  return {
    name: opts.name,
    dependsOn: opts.dependsOn ?? ['apiserver'],
    prepare: async ({ config, paths }) => {
      const identity = identityOf(config);
      const cert = await ensureClientCert(paths.pki, { name: `${opts.name}-client`, ...identity });
      await ensureServingCert(paths.pki, { name: `${opts.name}-serving`, commonName: opts.name, hosts: opts.servingHosts?.(config) ?? ['127.0.0.1', 'localhost'] });
      writeKubeconfig(kubeconfig(paths), {
        server: apiserverURL(config),
        caFile: join(paths.pki, 'ca.crt'),
        clientCert: cert.cert,
        clientKey: cert.key,
        user: identity.commonName,
      });
    },
    command: (ctx) =>
      nodeCommand(opts.entry, [
        `--kubeconfig=${kubeconfig(ctx.paths)}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${opts.port(ctx.config)}`,
        `--tls-cert-file=${join(ctx.paths.pki, `${opts.name}-serving.crt`)}`,
        `--tls-private-key-file=${join(ctx.paths.pki, `${opts.name}-serving.key`)}`,
        `--client-ca-file=${join(ctx.paths.pki, 'ca.crt')}`,
        `-v=${ctx.config.verbosity}`,
        ...(opts.args?.(ctx) ?? []),
        ...(ctx.config.extraArgs?.[opts.name] ?? []),
      ]),
    health: ({ config, paths }) => ({
      url: `https://127.0.0.1:${opts.port(config)}/healthz`,
      ca: readFileSync(join(paths.pki, 'ca.crt'), 'utf8'),
    }),
    startTimeoutMs: 30_000,
    stopGraceMs: 10_000,
  };
}

/** controllerManager runs every controller (controllers/main.ts), one leader at a time. */
export const controllerManager: Component = clientComponent({
  name: 'controller-manager',
  entry: 'controllers/main.js',
  identity: { commonName: 'system:kube-controller-manager', organizations: [] },
  port: (c) => c.controllerManagerPort,
  args: ({ config, paths }) => [
    `--cluster-cidr=${config.clusterCIDR}`,
    `--cluster-signing-cert-file=${join(paths.pki, 'ca.crt')}`,
    `--cluster-signing-key-file=${join(paths.pki, 'ca.key')}`,
    `--service-account-private-key-file=${join(paths.pki, 'sa.key')}`,
    '--use-service-account-credentials', // each controller as its own ServiceAccount, as kubeadm runs kube-controller-manager
  ],
});

/** scheduler binds pods to nodes (scheduler/main.ts), one leader at a time. */
export const scheduler: Component = clientComponent({
  name: 'scheduler',
  entry: 'scheduler/main.js',
  identity: { commonName: 'system:kube-scheduler', organizations: [] },
  port: (c) => c.schedulerPort,
});

/**
 * sim plays the kubelet for every Node annotated skiff.dev/simulated=true (sim/main.ts); it
 * creates config.simulatedNodes of them. It acts as a node agent for many nodes, so it holds
 * the system:nodes group.
 */
export const sim: Component = clientComponent({
  name: 'sim',
  entry: 'sim/main.js',
  identity: { commonName: 'system:node-simulator', organizations: ['system:nodes'] },
  port: (c) => c.simPort,
  args: ({ config }) => [`--nodes=${config.simulatedNodes}`, ...(config.simArgs ?? [])],
});

/** serviceIPAt is the service CIDR's base + offset. */
function serviceIPAt(config: ClusterConfig, offset: number): string {
  const [base] = ipaddr.IPv4.parseCIDR(config.serviceCIDR);
  const bytes = base.toByteArray();
  const n = (((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]! + offset) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** clusterDNSIP is the kube-dns Service's address: the service CIDR's base + 10 (10.96.0.10), as kubeadm picks it. */
export function clusterDNSIP(config: ClusterConfig): string {
  return serviceIPAt(config, 10);
}

/** kubernetesServiceIP is the `kubernetes` Service's address: the service CIDR's first (10.96.0.1), as the apiserver allocates it. */
export function kubernetesServiceIP(config: ClusterConfig): string {
  return serviceIPAt(config, 1);
}

/**
 * dns is the cluster's DNS server (dns/main.ts), CoreDNS's role in kubeadm: the kube-dns Service
 * at the service CIDR's base + 10 (10.96.0.10, the kubelet's --cluster-dns), answering on every
 * interface (loopback in tests) and publishing the node's address as its endpoint.
 */
export const dns: Component = clientComponent({
  name: 'dns',
  entry: 'dns/main.js',
  identity: { commonName: 'system:skiff-dns', organizations: [] },
  port: (c) => c.dnsPort ?? 10270,
  args: ({ config }) => [
    // A UDP socket on 0.0.0.0 answers from the address the route picks (the pod bridge's, for a
    // pod), which the Service's conntrack entry does not expect: bind the address it publishes.
    `--dns-bind-address=${config.dnsBindAddress ?? (config.bindAddress === '0.0.0.0' || config.bindAddress === '::' ? config.advertiseAddress : config.bindAddress)}`,
    `--dns-port=${config.clusterDNSPort ?? 53}`,
    `--advertise-address=${config.advertiseAddress}`,
    `--cluster-dns-ip=${clusterDNSIP(config)}`,
  ],
});

/** nodeName is the real Node's name: config.nodeName, else the hostname lower-cased (as the kubelet's default). */
export function nodeName(config: ClusterConfig): string {
  return config.nodeName || hostname().toLowerCase();
}

/** nodeLayout is where the real node's containerd, network and pod cgroups are. */
export function nodeLayout(ctx: ComponentContext): NodeLayout {
  const { config, paths } = ctx;
  return {
    containerdDir: paths.containerd,
    cgroupRoot: config.cgroupRoot,
    kubeletDir: paths.kubelet,
    network: {
      name: config.cniNetworkName,
      bridge: config.cniBridge,
      sink: config.sinkDevice,
      clusterCIDR: config.clusterCIDR,
      serviceCIDR: config.serviceCIDR,
      ipamDataDir: join(paths.kubelet, 'cni', 'networks'),
    },
  };
}

/**
 * containerd is the real node's container runtime: an instance of skiff's own under the home
 * (kubelet/containerd.ts), healthy once its metrics endpoint answers. Once up it holds skiff's
 * images; before it stops, its pod sandboxes are stopped through CRI; after, whatever the node
 * left on the machine is removed.
 */
export const containerd: Component = {
  name: 'containerd',
  // Nothing of the cluster: it starts beside etcd.
  dependsOn: [],
  prepare: async ({ config, paths }) => {
    if (process.getuid?.() !== 0) throw new Error('containerd: a real node needs root (or run `skiff up --real-node=false`)');
    writeContainerdConfig({ dir: paths.containerd, streamPort: config.containerdStreamPort, metricsAddress: `127.0.0.1:${config.containerdMetricsPort}` });
  },
  command: ({ paths }) => ({ command: process.env.SKIFF_CONTAINERD_BIN ?? 'containerd', args: ['--config', containerdPaths(paths.containerd).config] }),
  health: ({ config }) => ({ url: `http://127.0.0.1:${config.containerdMetricsPort}/v1/metrics` }),
  afterStart: ({ paths }, progress) => importNodeImages(paths.containerd, progress),
  beforeStop: async ({ paths }) => {
    await stopPodSandboxes(paths.containerd);
  },
  afterStop: async (ctx) => {
    // The kubelet may outlive its containerd (a restart of containerd alone): its volumes stay.
    await cleanupNode({ ...nodeLayout(ctx), kubeletDir: undefined });
  },
  startTimeoutMs: 60_000,
  stopGraceMs: 10_000,
};

/** kubelet is the real node's agent (kubelet/main.ts): user system:node:<name> in group system:nodes. */
export const kubelet: Component = clientComponent({
  name: 'kubelet',
  entry: 'kubelet/main.js',
  identity: (config) => ({ commonName: `system:node:${nodeName(config)}`, organizations: ['system:nodes'] }),
  port: (c) => c.kubeletHealthPort,
  // Its runtime with skiff's images imported, and the apiserver to register with.
  dependsOn: ['apiserver', 'containerd'],
  servingHosts: (config) => ['127.0.0.1', 'localhost', kubeletNodeIP(config), nodeName(config), hostname().toLowerCase()],
  args: (ctx) => {
    const { config, paths } = ctx;
    const layout = nodeLayout(ctx);
    return [
      `--node-name=${nodeName(config)}`,
      `--node-ip=${kubeletNodeIP(config)}`,
      `--root-dir=${paths.kubelet}`,
      `--pod-logs-dir=${paths.podLogs}`,
      `--container-runtime-endpoint=unix://${containerdPaths(paths.containerd).socket}`,
      `--cni-conf-dir=${containerdPaths(paths.containerd).cniConfDir}`,
      `--cni-bridge=${layout.network.bridge}`,
      `--cni-network-name=${layout.network.name}`,
      `--sink-device=${layout.network.sink}`,
      `--cluster-cidr=${config.clusterCIDR}`,
      `--service-cidr=${config.serviceCIDR}`,
      `--cgroup-root=${config.cgroupRoot}`,
      `--port=${config.kubeletPort}`,
      `--cluster-dns=${clusterDNSIP(config)}`,
      '--cluster-domain=cluster.local',
    ];
  },
});

/** kubeletNodeIP is the real Node's InternalIP. */
export function kubeletNodeIP(config: ClusterConfig): string {
  return config.nodeIP || defaultNodeIP();
}

/**
 * proxy programs the node's iptables for Services (proxy/main.ts), as kube-proxy; it writes
 * nothing until the Node named after this host exists.
 */
export const proxy: Component = {
    ...clientComponent({
    name: 'proxy',
    entry: 'proxy/main.js',
    identity: { commonName: 'system:kube-proxy', organizations: [] },
    port: (c) => c.proxyPort ?? 10256,
    args: ({ config }) => [`--cluster-cidr=${config.clusterCIDR}`, `--service-cluster-ip-range=${config.serviceCIDR}`, `--hostname-override=${nodeName(config)}`, ...(config.proxyMode ? [`--proxy-mode=${config.proxyMode}`] : [])],
  }),
  // Its rules outlive it by design (traffic keeps flowing through a restart); a stopped cluster takes them out.
  afterStop: async () => {
    const r = spawnSync(process.execPath, [nodeEntry('proxy/main.js'), '--cleanup'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`skiff-proxy --cleanup failed: ${r.stderr}`);
  },
};

/** MemberPorts are the ports one control-plane member's processes listen on (all on loopback but the apiserver, on bindAddress). */
export interface MemberPorts {
  etcdClientPort: number;
  etcdPeerPort: number;
  /** etcdMetricsPort serves /metrics from the start (the client port answers only once a quorum runs): the member's health. */
  etcdMetricsPort: number;
  apiserverPort: number;
  controllerManagerPort: number;
  schedulerPort: number;
}

/** components is the cluster's processes in start order. */
export const components: readonly Component[] = [etcd, apiserver, controllerManager, scheduler, sim, dns, containerd, kubelet, proxy];

/**
 * startDependencies says, for each of list (in its order), which components of list it waits for
 * (Component.dependsOn). A name of dependsOn that list lacks, or no dependsOn, means every
 * component before it; so each waits only for components earlier in list, and the plain sequence
 * is always a valid order.
 */
export function startDependencies(list: readonly Component[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  list.forEach((c, i) => {
    const earlier = list.slice(0, i).map((e) => e.name);
    const declared = c.dependsOn;
    out.set(c.name, declared && declared.every((d) => earlier.includes(d)) ? [...declared] : earlier);
  });
  return out;
}

