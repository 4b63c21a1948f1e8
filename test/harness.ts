// The end-to-end harness: real etcd and a real apiserver started as processes (the same commands
// and flags `skiff up` uses) on free ports in a temporary home, with kubectl pointed at them.
// Every process it starts is killed, and every home removed, when the test process exits for
// any reason — a failing test never leaves an etcd behind.

import { etcdMemberEndpoints, clusterComponents, componentNamed } from '../lib/process/controlplane.js';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { NodeLayout } from '../kubelet/lifecycle.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminIdentity,
  contextFor,
  defaultConfig,
  logFile,
  prepareCluster,
  readAdminToken,
  startComponents,
  stateFile,
  stopComponentProcess,
  stopComponents,
} from '../lib/process/cluster.js';
import { cleanupNode } from '../kubelet/lifecycle.js';
import { mountsUnder } from '../kubelet/containerd.js';
import {
  apiserver,
  apiserverURL,
  etcd,
  etcdClientFiles,
  etcdEndpoint,
  nodeLayout,
  type ClusterConfig,
  type ClusterPaths,
  type Component,
} from '../lib/process/components.js';
import { enabledControllers } from '../controllers/app.js';
import { freePorts } from '../lib/process/ports.js';
import type { EtcdTLS } from '../apiserver/storage/etcd.js';
import type { IOptions } from 'etcd3';
import { isAlive, killNow, readState, spawnDetached, stopProcess, waitForHealthy, type ProcessState } from '../lib/process/supervisor.js';

/** CommandResult is what a finished command printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** KubectlOptions are extras for one kubectl run. */
export interface KubectlOptions {
  /** input is written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** timeoutMs kills kubectl after this long (default 60s); code is then 124. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** RequestResult is one raw HTTP answer from the apiserver. */
export interface RequestResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** raw is the body's bytes as they came (e.g. gzip-compressed). */
  raw: Buffer;
}

/** RequestOptions shape one raw request; credentials default to the admin client certificate. */
export interface RequestOptions {
  method?: string;
  body?: string | object;
  headers?: Record<string, string>;
  /** auth: 'cert' (admin client certificate, default), 'token' (admin bearer token) or 'none'. */
  auth?: 'cert' | 'token' | 'none';
}

/** Cluster is a running test cluster. */
export interface Cluster {
  home: string;
  kubeconfig: string;
  /** server is the apiserver's URL, https://127.0.0.1:<port>. */
  server: string;
  caFile: string;
  adminCert: string;
  adminKey: string;
  /** token authenticates as skiff-admin (group system:masters) through --token-auth-file. */
  token: string;
  etcdEndpoint: string;
  /** etcdTLS is etcd's CA and a client certificate of its own CA: etcd serves no client without one. */
  etcdTLS: EtcdTLS;
  /** etcdClientOptions are the etcd3 client's options for reading etcd directly (`new Etcd3(cluster.etcdClientOptions)`). */
  etcdClientOptions: IOptions;
  config: ClusterConfig;
  /** env has KUBECONFIG and a fresh KUBECACHEDIR, for spawning kubectl or other clients. */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], opts?: KubectlOptions): Promise<CommandResult>;
  /** request sends one HTTPS request to the apiserver (path like /api/v1/namespaces). */
  request(path: string, opts?: RequestOptions): Promise<RequestResult>;
  /** logs returns a component's log so far (for assertion messages). */
  logs(component: string): string;
  /** restart stops one component (SIGTERM, then SIGKILL) and starts it again on the same data. */
  restart(component: string): Promise<void>;
  /** kill stops one component without starting it again (restart brings it back). */
  kill(component: string): Promise<void>;
  /** killHard is `kill -9`: SIGKILL, no grace, and waits until the process is gone (restart brings it back). */
  killHard(component: string): Promise<void>;
  /** pid is a running component's process id (for /proc readings), undefined when none runs. */
  pid(component: string): number | undefined;
  stop(): Promise<void>;
}

/** StartClusterOptions tune a test cluster. */
export interface StartClusterOptions {
  /** components to start, by name (default: all of them, in order). */
  components?: string[];
  /** verbosity is passed as -v (default: $SKIFF_TEST_V or 0). */
  verbosity?: number;
  /** extraArgs are more flags per component, e.g. { 'controller-manager': ['--node-monitor-grace-period=5s'] }. */
  extraArgs?: Record<string, string[]>;
  /** simulatedNodes is how many sim-N Nodes the node simulator creates (default 0). */
  simulatedNodes?: number;
  /** keepHome leaves the temporary home on disk after stop, for debugging (also $SKIFF_TEST_KEEP=1). */
  keepHome?: boolean;
  /**
   * realNode also starts a containerd and a kubelet in the home: one real Node, with a bridge,
   * sink device, CNI network name and pod cgroup root of this cluster's own (needs root). Its
   * pods, links, rules, mounts and cgroups are removed when the cluster stops or the test process
   * exits, however it ends.
   */
  realNode?: boolean;
  /**
   * proxy also starts skiff-proxy with a real node. It programs the host's own iptables tables
   * (KUBE-* chains are one set per network namespace), so only one test at a time may ask for it;
   * its chains are removed (`--cleanup`) when the cluster stops.
   */
  proxy?: boolean;
  /** clusterCIDR and serviceCIDR default to a random /20 of 10.240.0.0/14 and a random /24 of 10.112.0.0/14 for a real node. */
  clusterCIDR?: string;
  serviceCIDR?: string;
  /**
   * controlPlane runs that many control-plane members (etcd, apiserver, controller manager and
   * scheduler each, lib/process/controlplane.ts) on free ports, behind the load balancer that
   * Cluster.server then names. Components are named etcd-1, apiserver-1, … and apiserver-lb.
   */
  controlPlane?: number;
  /** apiserverWorkers is the apiserver's --apiserver-workers (default: testAPIServerWorkers). */
  apiserverWorkers?: number;
}

/**
 * testAPIServerWorkers is how many apiserver worker processes a test cluster runs unless the test
 * says: $SKIFF_APISERVER_WORKERS, else the number below (the one-line switch for the suite's shape).
 */
export const testAPIServerWorkers = Number(process.env.SKIFF_APISERVER_WORKERS || 1);

// Everything started here, for the exit handler. Entries leave as they are stopped.
const liveProcesses = new Set<ProcessState>();
const liveHomes = new Set<string>();
let cleanupInstalled = false;

/**
 * NodeRanges are a real test node's cluster CIDR (a /20 of 10.240.0.0/14) and service CIDR (a /24
 * of 10.112.0.0/14), held by a lock directory so two test processes never pick the same.
 */
export interface NodeRanges {
  clusterCIDR: string;
  serviceCIDR: string;
  release(): void;
}

const rangeLocks = join(tmpdir(), 'skiff-test-node-ranges');

/**
 * reserveNodeRanges takes the first free of the 64 slots, in random order: a slot is a directory
 * whose `owner` file names the holding process and home; a slot whose process is gone, or whose
 * home was removed, is taken over. The slot is released with the home (release, or the exit handler).
 */
export function reserveNodeRanges(home: string): NodeRanges {
  mkdirSync(rangeLocks, { recursive: true });
  const order = Array.from({ length: 64 }, (_, i) => i).sort(() => Math.random() - 0.5);
  for (const n of order) {
    const slot = join(rangeLocks, String(n));
    let taken = false;
    try {
      mkdirSync(slot);
      taken = true;
    } catch {
      try {
        const [pid, owner] = readFileSync(join(slot, 'owner'), 'utf8').split('\n');
        let alive = true;
        try {
          process.kill(Number(pid), 0);
        } catch {
          alive = false;
        }
        if (!alive || !owner || !existsSync(owner)) {
          rmSync(slot, { recursive: true, force: true });
          mkdirSync(slot);
          taken = true;
        }
      } catch {
        // another process is taking it over right now, or just made it: leave it
      }
    }
    if (!taken) continue;
    writeFileSync(join(slot, 'owner'), `${process.pid}\n${home}`);
    liveRangeSlots.add(slot);
    return {
      clusterCIDR: `10.${240 + (n >> 4)}.${(n & 15) * 16}.0/20`,
      serviceCIDR: `10.${112 + (n >> 4)}.${(n & 15) * 16}.0/24`,
      release: () => {
        rmSync(slot, { recursive: true, force: true });
        liveRangeSlots.delete(slot);
      },
    };
  }
  throw new Error(`no free test node range in ${rangeLocks}`);
}

const liveRangeSlots = new Set<string>();

/** hostProxyLock is held by the one test at a time that runs skiff-proxy in the host's network namespace. */
const hostProxyLock = join(tmpdir(), 'skiff-test-host-proxy');

/**
 * acquireHostProxy waits until no other test runs a proxy in the host's network namespace (the
 * KUBE-* chains are one set per namespace: two proxies would overwrite each other's rules), then
 * holds the lock for home until its cluster stops or the process exits. A lock whose process or
 * home is gone is taken over.
 */
export async function acquireHostProxy(home: string, timeoutMs = 15 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(hostProxyLock);
      writeFileSync(join(hostProxyLock, 'owner'), `${process.pid}\n${home}`);
      liveRangeSlots.add(hostProxyLock);
      return () => {
        rmSync(hostProxyLock, { recursive: true, force: true });
        liveRangeSlots.delete(hostProxyLock);
      };
    } catch {
      try {
        const [pid, owner] = readFileSync(join(hostProxyLock, 'owner'), 'utf8').split('\n');
        let alive = true;
        try {
          process.kill(Number(pid), 0);
        } catch {
          alive = false;
        }
        if (!alive || !owner || !existsSync(owner)) rmSync(hostProxyLock, { recursive: true, force: true });
      } catch {
        // being made or released right now
      }
    }
    if (Date.now() > deadline) throw new Error(`another test has held ${hostProxyLock} for ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** releaseRangesOf frees the range slots held for home. */
function releaseRangesOf(home: string): void {
  for (const slot of liveRangeSlots) {
    try {
      if (readFileSync(join(slot, 'owner'), 'utf8').split('\n')[1] !== home) continue;
    } catch {
      // gone already
    }
    rmSync(slot, { recursive: true, force: true });
    liveRangeSlots.delete(slot);
  }
}

// Real nodes started here, by home: what of them lives outside the home.
const liveNodes = new Map<string, NodeLayout>();

/** cleanupNodeSync runs kubelet/lifecycle.ts's cleanupNode in a child process, for the synchronous 'exit' event. */
function cleanupNodeSync(layout: NodeLayout): void {
  const mod = fileURLToPath(new URL('../kubelet/lifecycle.js', import.meta.url));
  spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); await m.cleanupNode(${JSON.stringify(layout)});`], {
    stdio: 'inherit',
    timeout: 60_000,
  });
}

/**
 * unmountUnder unmounts whatever is still mounted under home (lazily when busy): a real node's
 * kubelet leaves the tmpfs of secret, downwardAPI and projected volumes of pods it never tore
 * down (a finished pod, a test stopped midway), and the home cannot be removed over them.
 */
function unmountUnder(home: string): void {
  for (const m of mountsUnder(home)) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
}

/** cleanupNow kills whatever is still running and removes homes; synchronous, for 'exit'. */
function cleanupNow(): void {
  for (const p of liveProcesses) killNow(p);
  liveProcesses.clear();
  for (const layout of liveNodes.values()) cleanupNodeSync(layout);
  liveNodes.clear();
  for (const slot of liveRangeSlots) rmSync(slot, { recursive: true, force: true });
  liveRangeSlots.clear();
  for (const h of liveHomes) {
    unmountUnder(h);
    rmSync(h, { recursive: true, force: true });
  }
  liveHomes.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', cleanupNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupNow();
      // Re-raise so the exit status still says which signal ended us.
      process.kill(process.pid, sig);
    });
  }
}

function makeHome(): string {
  installCleanup();
  const home = mkdtempSync(join(tmpdir(), 'skiff-test-'));
  liveHomes.add(home);
  return home;
}

async function testConfig(home: string, verbosity?: number): Promise<ClusterConfig> {
  const [etcdClientPort, etcdPeerPort, apiserverPort, controllerManagerPort, schedulerPort, simPort, kubeletPort, kubeletHealthPort, streamPort, metricsPort, dnsPort, proxyPort] = await freePorts(12);
  const suffix = randomBytes(3).toString('hex');
  return {
    ...defaultConfig(home),
    etcdClientPort: etcdClientPort!,
    etcdPeerPort: etcdPeerPort!,
    apiserverPort: apiserverPort!,
    controllerManagerPort: controllerManagerPort!,
    schedulerPort: schedulerPort!,
    simPort: simPort!,
    // A real node only when a test asks; its devices, network and cgroups carry the cluster's own suffix.
    realNode: false,
    kubeletPort: kubeletPort!,
    kubeletHealthPort: kubeletHealthPort!,
    containerdStreamPort: streamPort!,
    containerdMetricsPort: metricsPort!,
    cniBridge: `sknb${suffix}`,
    sinkDevice: `skns${suffix}`,
    cniNetworkName: `skn-${suffix}`,
    cgroupRoot: `/skn-${suffix}`,
    // skiff-dns answers on a free port of its own choosing (it publishes it in kube-dns).
    dnsPort: dnsPort!,
    clusterDNSPort: 0,
    proxyPort: proxyPort!,
    // Tests serve on loopback only. The advertised address stays the host's own (the default):
    // the `kubernetes` Endpoints may not hold a loopback IP.
    bindAddress: '127.0.0.1',
    verbosity: verbosity ?? Number(process.env.SKIFF_TEST_V ?? 0),
    apiserverWorkers: testAPIServerWorkers,
  };
}

/**
 * reachableConfig is a control plane on free ports with no node of its own, serving on this
 * machine's own address rather than loopback, so that nodes in network namespaces (a lab's, a
 * joining machine's) reach the apiserver and skiff-dns through their veths; the pod and service
 * ranges are ranges'.
 */
export async function reachableConfig(home: string, ranges: NodeRanges): Promise<ClusterConfig> {
  const [etcdClientPort, etcdPeerPort, apiserverPort, controllerManagerPort, schedulerPort, simPort, dnsPort] = await freePorts(7);
  const base = defaultConfig(home);
  return {
    ...base,
    etcdClientPort: etcdClientPort!,
    etcdPeerPort: etcdPeerPort!,
    apiserverPort: apiserverPort!,
    controllerManagerPort: controllerManagerPort!,
    schedulerPort: schedulerPort!,
    simPort: simPort!,
    dnsPort: dnsPort!,
    clusterDNSPort: 0,
    realNode: false,
    bindAddress: base.advertiseAddress,
    dnsBindAddress: base.advertiseAddress,
    clusterCIDR: ranges.clusterCIDR,
    serviceCIDR: ranges.serviceCIDR,
  };
}

/** startProcesses starts components in order, registering each for cleanup, and stops them all on failure. */
async function startProcesses(config: ClusterConfig, selected: readonly Component[]): Promise<ProcessState[]> {
  const ctx = contextFor(config);
  const started: ProcessState[] = [];
  try {
    await startComponents(ctx, selected, {
      end: (r) => {
        liveProcesses.add(r.state);
        started.push(r.state);
      },
    });
  } catch (err) {
    // The one that failed wrote a state file but never reached `end`: the run folder knows it.
    await stopComponents(ctx);
    for (const p of started) liveProcesses.delete(p);
    throw err;
  }
  return started;
}

async function stopAll(started: ProcessState[], home: string, keepHome: boolean, config?: ClusterConfig): Promise<void> {
  for (const p of [...started].reverse()) {
    if (config) await stopComponentProcess(contextFor(config), componentNamed(p.name, config), p, 5_000);
    else await stopProcess(p, { graceMs: 5_000 });
    liveProcesses.delete(p);
  }
  // Anything else this home recorded (a component a test restarted by hand) goes too.
  if (config) await stopComponents(contextFor(config));
  if (config?.realNode) await cleanupNode(nodeLayout(contextFor(config)));
  liveNodes.delete(home);
  releaseRangesOf(home);
  if (config?.realNode) unmountUnder(home);
  if (!keepHome) rmSync(home, { recursive: true, force: true });
  liveHomes.delete(home);
}

/** EtcdInstance is an etcd started alone, for storage tests. */
export interface EtcdInstance {
  endpoint: string;
  /** tls is its CA and a client certificate it accepts (pass it to EtcdStorage's tls). */
  tls: EtcdTLS;
  home: string;
  process: ProcessState;
  stop(): Promise<void>;
}

/** startEtcd starts one etcd member on free loopback ports in a temporary data dir. */
export async function startEtcd(): Promise<EtcdInstance> {
  const home = makeHome();
  const config = await testConfig(home);
  try {
    const { paths } = contextFor(config);
    for (const dir of [paths.etcdDataDir, paths.logs, paths.run]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    await etcd.prepare?.(contextFor(config));
    const [proc] = await startProcesses(config, [etcd]);
    let stopped: Promise<void> | undefined;
    return {
      endpoint: etcdEndpoint(config),
      tls: readEtcdTLS(paths),
      home,
      process: proc!,
      stop: () => (stopped ??= stopAll([proc!], home, false)),
    };
  } catch (err) {
    rmSync(home, { recursive: true, force: true });
    liveHomes.delete(home);
    throw err;
  }
}

/**
 * startCluster starts etcd and the apiserver (or opts.components) with fresh PKI, and returns
 * handles to use it with kubectl or raw HTTPS. Call stop() in an `after` hook.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const keepHome = opts.keepHome ?? process.env.SKIFF_TEST_KEEP === '1';
  const home = makeHome();
  const base = await testConfig(home, opts.verbosity);
  const config: ClusterConfig = {
    ...base,
    simulatedNodes: opts.simulatedNodes ?? 0,
    extraArgs: opts.extraArgs,
    realNode: opts.realNode ?? false,
    // The memory backend keeps its store in one process: it runs one worker whatever the suite's shape.
    apiserverWorkers: opts.apiserverWorkers ?? (opts.extraArgs?.apiserver?.includes('--storage-backend=memory') ? 1 : base.apiserverWorkers),
  };
  if ((opts.controlPlane ?? 1) > 1) {
    const n = opts.controlPlane!;
    const ports = await freePorts(6 * n);
    config.controlPlaneMembers = n;
    config.controlPlanePorts = Array.from({ length: n }, (_, i) => {
      const [etcdClientPort, etcdPeerPort, etcdMetricsPort, apiserverPort, controllerManagerPort, schedulerPort] = ports.slice(6 * i, 6 * i + 6) as number[];
      return { etcdClientPort: etcdClientPort!, etcdPeerPort: etcdPeerPort!, etcdMetricsPort: etcdMetricsPort!, apiserverPort: apiserverPort!, controllerManagerPort: controllerManagerPort!, schedulerPort: schedulerPort! };
    });
  }
  if (config.realNode) {
    const ranges = reserveNodeRanges(home);
    config.clusterCIDR = opts.clusterCIDR ?? ranges.clusterCIDR;
    config.serviceCIDR = opts.serviceCIDR ?? ranges.serviceCIDR;
  }
  if (config.realNode && opts.proxy) {
    await acquireHostProxy(home);
    // Pods reach skiff-dns through the kube-dns Service, and the apiserver through the
    // `kubernetes` Service, so both answer on the address they publish as their endpoint (a
    // real cluster's apiserver listens on every interface).
    config.dnsBindAddress = config.advertiseAddress;
    config.bindAddress = config.advertiseAddress;
  }
  const all = clusterComponents(config);
  const selected = opts.components ? all.filter((c) => opts.components!.includes(c.name)) : all.filter((c) => c.name !== 'proxy' || opts.proxy);
  // Without the serviceaccount controller no `default` ServiceAccount is made, and the
  // ServiceAccount admission plugin would refuse every pod: such clusters run without it.
  const controllersFlag = [...(opts.extraArgs?.['controller-manager'] ?? [])].reverse().find((a) => a.startsWith('--controllers='))?.slice('--controllers='.length) ?? '*';
  const serviceAccounts = selected.some((c) => c.name === 'controller-manager') && enabledControllers(controllersFlag).includes('serviceaccount');
  if (!serviceAccounts) config.extraArgs = { ...config.extraArgs, apiserver: ['--disable-admission-plugins=ServiceAccount', ...(config.extraArgs?.apiserver ?? [])] };
  const ctx = contextFor(config);
  if (config.realNode) liveNodes.set(home, nodeLayout(ctx));
  let started: ProcessState[];
  try {
    await prepareCluster(ctx, selected);
    started = await startProcesses(config, selected);
  } catch (err) {
    if (config.realNode) await cleanupNode(nodeLayout(ctx)).catch(() => undefined);
    liveNodes.delete(home);
    releaseRangesOf(home);
    if (!keepHome) rmSync(home, { recursive: true, force: true });
    liveHomes.delete(home);
    throw err;
  }
  const pki = ctx.paths.pki;
  const caFile = join(pki, 'ca.crt');
  const adminCert = join(pki, `${adminIdentity.name}.crt`);
  const adminKey = join(pki, `${adminIdentity.name}.key`);
  const token = readAdminToken(ctx);
  const server = apiserverURL(config);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: ctx.paths.adminKubeconfig,
    KUBECACHEDIR: join(home, 'kubecache'),
  };
  const tls = { ca: readFileSync(caFile, 'utf8'), cert: readFileSync(adminCert, 'utf8'), key: readFileSync(adminKey, 'utf8') };
  const etcdTLS = readEtcdTLS(ctx.paths);
  // With ServiceAccount admission a pod needs its namespace's `default` ServiceAccount: wait (at
  // most a minute, best effort) until the serviceaccount controller has made the one in `default`,
  // so a test's first pod is not refused by a controller manager still starting.
  for (let end = Date.now() + 60_000; serviceAccounts && Date.now() < end; ) {
    const r = await request(server, '/api/v1/namespaces/default/serviceaccounts/default', tls, token, {}).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let stopped: Promise<void> | undefined;
  return {
    home,
    kubeconfig: ctx.paths.adminKubeconfig,
    server,
    caFile,
    adminCert,
    adminKey,
    token,
    etcdEndpoint: config.controlPlanePorts ? etcdEndpoint({ ...config, etcdClientPort: config.controlPlanePorts[0]!.etcdClientPort }) : etcdEndpoint(config),
    etcdTLS,
    etcdClientOptions: { hosts: config.controlPlanePorts ? etcdMemberEndpoints(config) : etcdEndpoint(config), credentials: { rootCertificate: etcdTLS.ca, certChain: etcdTLS.cert, privateKey: etcdTLS.key } },
    config,
    env,
    kubectl: (args, kopts = {}) => run(kubectlBinary(), args, { ...kopts, env: { ...env, ...kopts.env } }),
    request: (path, ropts = {}) => request(server, path, tls, token, ropts),
    logs: (component) => {
      try {
        return readFileSync(join(ctx.paths.logs, `${component}.log`), 'utf8');
      } catch {
        return '';
      }
    },
    kill: async (name) => {
      for (const p of started.filter((x) => x.name === name)) {
        await stopProcess(p, { graceMs: 5_000 });
        liveProcesses.delete(p);
        started.splice(started.indexOf(p), 1);
      }
    },
    killHard: async (name) => {
      for (const p of started.filter((x) => x.name === name)) {
        killNow(p);
        await waitGone(p);
        liveProcesses.delete(p);
        started.splice(started.indexOf(p), 1);
      }
    },
    pid: (name) => started.find((x) => x.name === name && isAlive(x))?.pid,
    restart: async (name) => {
      const component = componentNamed(name, config);
      if (!component) throw new Error(`no component ${name}`);
      for (const p of started.filter((x) => x.name === name)) {
        await stopProcess(p, { graceMs: 5_000 });
        liveProcesses.delete(p);
        started.splice(started.indexOf(p), 1);
      }
      await startComponents(ctx, [component], {
        end: (r) => {
          liveProcesses.add(r.state);
          started.push(r.state);
        },
      });
    },
    stop: () => (stopped ??= stopAll(started, home, keepHome, config)),
  };
}

/** readEtcdTLS reads etcd's CA and the apiserver's etcd client certificate from a home. */
function readEtcdTLS(paths: ClusterPaths): EtcdTLS {
  const files = etcdClientFiles(paths);
  return { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

/** waitGone waits (up to 10 s) until a SIGKILLed process has exited and been reaped. */
async function waitGone(p: ProcessState): Promise<void> {
  for (let i = 0; i < 200 && isAlive(p); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(p)) throw new Error(`${p.name} (pid ${p.pid}) still runs after SIGKILL`);
}

/** kubectlBinary is $SKIFF_KUBECTL or kubectl from PATH. */
export function kubectlBinary(): string {
  return process.env.SKIFF_KUBECTL ?? 'kubectl';
}

/** run executes a command to completion, collecting its output; it never rejects on a non-zero exit. */
export function run(command: string, args: string[], opts: KubectlOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

function request(
  server: string,
  path: string,
  tls: { ca: string; cert: string; key: string },
  token: string,
  opts: RequestOptions,
): Promise<RequestResult> {
  const auth = opts.auth ?? 'cert';
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  if (auth === 'token') headers.Authorization = `Bearer ${token}`;
  // Node sends a DELETE's body without chunking: only a Content-Length frames it.
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, server),
      {
        method: opts.method ?? 'GET',
        headers,
        ca: tls.ca,
        cert: auth === 'cert' ? tls.cert : undefined,
        key: auth === 'cert' ? tls.key : undefined,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** ExtraAPIServer is a second apiserver on a cluster's etcd (startExtraAPIServer). */
export interface ExtraAPIServer {
  server: string;
  process: ProcessState;
  request(path: string, opts?: RequestOptions): Promise<RequestResult>;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * startExtraAPIServer starts one more apiserver on the cluster's etcd, PKI and tokens, on a free
 * port (as a highly available control plane runs several). It is stopped with the cluster's
 * test process at the latest.
 */
export async function startExtraAPIServer(cluster: Cluster, name = 'apiserver-2'): Promise<ExtraAPIServer> {
  const [port] = await freePorts(1);
  const config = { ...cluster.config, apiserverPort: port! };
  const ctx = contextFor(config);
  const cmd = apiserver.command(ctx);
  const state = spawnDetached({ name, command: cmd.command, args: cmd.args, logFile: logFile(ctx, name), stateFile: stateFile(ctx, name), exitWithParent: true });
  liveProcesses.add(state);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await stopProcess(state, { graceMs: 5_000 });
      liveProcesses.delete(state);
    })());
  try {
    await waitForHealthy(apiserver.health(ctx), { timeoutMs: apiserver.startTimeoutMs, process: state });
  } catch (err) {
    await stop();
    throw err;
  }
  const server = apiserverURL(config);
  const tls = { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
  return {
    server,
    process: state,
    request: (path, ropts = {}) => request(server, path, tls, cluster.token, ropts),
    logs: () => {
      try {
        return readFileSync(logFile(ctx, name), 'utf8');
      } catch {
        return '';
      }
    },
    stop,
  };
}

/**
 * signalComponent sends a signal to a running component of the cluster, e.g. SIGSTOP and SIGCONT
 * to pause and resume it (a process the scheduler starves, or a VM that froze).
 */
export function signalComponent(cluster: Cluster, component: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const state = readState(stateFile(contextFor(cluster.config), component));
  if (!state) throw new Error(`${component} is not running`);
  process.kill(state.pid, signal);
}
