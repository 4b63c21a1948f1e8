// The components of a skiff cluster as data: how each is prepared (certificates, kubeconfigs),
// started and health-checked. `skiff up` starts them in this order, `skiff down` stops them in
// reverse, and the test harness starts the same processes with the same flags. A new process
// (kubelet, proxy) joins the cluster by adding an entry to `components` below (clientComponent
// for an API client); nothing else needs to know about it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeKubeconfig } from '../kubeconfig.js';
import { ensureClientCert, ensureServingCert, apiserverHosts } from '../pki.js';
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
  /** simulatedNodes is how many Nodes (sim-0 …) the node simulator creates and runs. */
  simulatedNodes: number;
  /** simArgs are more node simulator flags (`--node-cpu=16`, …) that `skiff sim` records. */
  simArgs?: string[];
  /** clusterCIDR is the pod network every Node's /24 podCIDR is cut from. */
  clusterCIDR: string;
  /** extraArgs are more flags per component name (tests shorten timeouts with them). */
  extraArgs?: Record<string, string[]>;
}

/** ClusterPaths are the files and folders under a cluster's home. */
export interface ClusterPaths {
  home: string;
  etcdDataDir: string;
  pki: string;
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
    etcdDataDir: join(home, 'etcd'),
    pki,
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
}

/** etcdEndpoint is the client URL of the cluster's etcd. */
export function etcdEndpoint(config: ClusterConfig): string {
  return `http://127.0.0.1:${config.etcdClientPort}`;
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

/** nodeCommand runs one of this project's compiled entry points with the current Node. */
function nodeCommand(entry: string, args: string[]): Command {
  return { command: process.execPath, args: ['--enable-source-maps', nodeEntry(entry), ...args] };
}

/** etcd is the cluster's store: one member on loopback, plain HTTP (only the apiserver talks to it). */
export const etcd: Component = {
  name: 'etcd',
  command: ({ config, paths }) => {
    const client = etcdEndpoint(config);
    const peer = `http://127.0.0.1:${config.etcdPeerPort}`;
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
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ],
    };
  },
  health: ({ config }) => ({ url: `${etcdEndpoint(config)}/health` }),
  startTimeoutMs: 30_000,
  stopGraceMs: 10_000,
};

/** apiserver serves the Kubernetes API over TLS from etcd. */
export const apiserver: Component = {
  name: 'apiserver',
  prepare: async ({ config, paths }) => {
    await ensureServingCert(paths.pki, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      hosts: apiserverHosts([config.advertiseAddress, ...config.extraSANs]),
    });
  },
  command: ({ config, paths }) =>
    nodeCommand('apiserver/main.js', [
      `--etcd-servers=${etcdEndpoint(config)}`,
      `--bind-address=${config.bindAddress}`,
      `--secure-port=${config.apiserverPort}`,
      `--advertise-address=${config.advertiseAddress}`,
      `--tls-cert-file=${join(paths.pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(paths.pki, 'apiserver.key')}`,
      `--client-ca-file=${join(paths.pki, 'ca.crt')}`,
      `--token-auth-file=${paths.tokenFile}`,
      '--service-cluster-ip-range=10.96.0.0/12',
      '--service-node-port-range=30000-32767',
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
  identity: { commonName: string; organizations: string[] };
  port: (config: ClusterConfig) => number;
  args?: (ctx: ComponentContext) => string[];
}): Component {
  const kubeconfig = (paths: ClusterPaths) => join(paths.pki, `${opts.name}.kubeconfig`);
  return {
    name: opts.name,
    prepare: async ({ config, paths }) => {
      const cert = await ensureClientCert(paths.pki, { name: `${opts.name}-client`, ...opts.identity });
      await ensureServingCert(paths.pki, { name: `${opts.name}-serving`, commonName: opts.name, hosts: ['127.0.0.1', 'localhost'] });
      writeKubeconfig(kubeconfig(paths), {
        server: apiserverURL(config),
        caFile: join(paths.pki, 'ca.crt'),
        clientCert: cert.cert,
        clientKey: cert.key,
        user: opts.identity.commonName,
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
  args: ({ config }) => [`--cluster-cidr=${config.clusterCIDR}`],
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

/**
 * proxy programs the node's iptables for Services (proxy/main.ts), as kube-proxy; it writes
 * nothing until the Node named after this host exists.
 */
export const proxy: Component = clientComponent({
  name: 'proxy',
  entry: 'proxy/main.js',
  identity: { commonName: 'system:kube-proxy', organizations: [] },
  port: (c) => c.proxyPort ?? 10256,
  args: ({ config }) => [`--cluster-cidr=${config.clusterCIDR}`],
});

/** components is the cluster's processes in start order. */
export const components: readonly Component[] = [etcd, apiserver, controllerManager, scheduler, sim, proxy];

/** componentNamed finds a component by name. */
export function componentNamed(name: string): Component | undefined {
  return components.find((c) => c.name === name);
}
