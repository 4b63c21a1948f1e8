// startCluster: a whole skiff control plane inside the calling process, for a controller's
// tests. The apiserver (on a store in memory by default, or on an etcd process it starts), the
// controller manager, the scheduler and the node simulator run as functions in this process,
// each with its own client certificate from a fresh CA, on a free loopback port. Everything is
// stopped and the temp dir removed by stop(), and on process exit whatever was not.

import { KubeConfig } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { startAPIServer, type RunningAPIServer } from '../apiserver/app.js';
import { controllerManager, controllerNames, enabledControllers } from '../controllers/app.js';
import { kubeconfigYAML } from '../lib/kubeconfig.js';
import { Logger } from '../lib/log.js';
import { Registry } from '../lib/metrics.js';
import { ensureCA, ensureClientCert, ensureServingCert, hostAddresses, kubernetesServiceHosts } from '../lib/pki.js';
import { contextFor, defaultConfig, startComponents } from '../lib/process/cluster.js';
import { startComponentInProcess, type ComponentSpec, type InProcessComponent } from '../lib/process/component.js';
import { etcd, etcdClientFiles, etcdEndpoint } from '../lib/process/components.js';
import { freePorts } from '../lib/process/ports.js';
import { killNow, stopProcess, type ProcessState } from '../lib/process/supervisor.js';
import { scheduler } from '../scheduler/app.js';
import { nodeSimulator } from '../sim/app.js';
import { ConfigError, parseSimConfig, simFlags } from '../sim/config.js';
import { FlagError, parseFlags } from '../lib/flags.js';
import { applyObjects, parseManifests, type ApplyInput, type KubernetesObject } from './apply.js';

/** LogMode says which log lines of the cluster's components reach stderr. */
export type LogMode = 'errors' | 'all' | 'none';

/** StartClusterOptions shape a test cluster; every field is optional. */
export interface StartClusterOptions {
  /** nodes is how many simulated Nodes (sim-0 …) run pods (default 1). */
  nodes?: number;
  /**
   * controllers turns built-in controllers off (or on) by kube-controller-manager's names, e.g.
   * `{ garbagecollector: false }`; unnamed ones run. `false` runs none. Unknown names throw.
   */
  controllers?: boolean | Record<string, boolean>;
  /** scheduler runs the scheduler (default true); without it pods stay Pending. */
  scheduler?: boolean;
  /** crds are files (YAML, one or more documents) applied, and Established, before the controllers start. */
  crds?: string[];
  /** storage: 'memory' (default: in this process, no etcd) or 'etcd' (an etcd process on free ports). */
  storage?: 'memory' | 'etcd';
  /** podStartDelay is how long a bound pod takes to be Running on a simulated Node (a duration, default '0s'). */
  podStartDelay?: string;
  /** simulatorArgs are more skiff-sim flags, e.g. ['--node-cpu=4']. */
  simulatorArgs?: string[];
  /** logs: 'errors' (default), 'all' or 'none'; $SKIFF_KIT_LOG overrides it. */
  logs?: LogMode;
  /** verbosity is the components' -v (default 0). */
  verbosity?: number;
  /** startTimeoutMs bounds the wait for every component to be ready (default 60 s). */
  startTimeoutMs?: number;
}

/** Cluster is a running test cluster; stop() it in an `after` hook. */
export interface Cluster {
  /** kubeConfig authenticates as an admin (CN=admin, O=system:masters) over TLS. */
  kubeConfig: KubeConfig;
  /** kubeconfigPath is the same as a file, for kubectl (KUBECONFIG=…). */
  kubeconfigPath: string;
  /** server is the apiserver's URL, https://127.0.0.1:<port>. */
  server: string;
  /** dir is the cluster's temp dir (PKI, kubeconfig, etcd data); removed by stop(). */
  dir: string;
  /**
   * apply server-side-applies objects (YAML text with any number of documents, one object or a
   * list) with field manager `skiff-testing` and force, in order; a CRD among them is waited on
   * until Established before the next object. It returns the objects as stored.
   */
  apply(input: ApplyInput): Promise<KubernetesObject[]>;
  /** logs returns the last lines the components logged (all levels), for failure messages. */
  logs(): string[];
  /** stop stops every component, then etcd if any, and removes dir. Safe to call more than once. */
  stop(): Promise<void>;
  /** Symbol.asyncDispose is stop(), for `await using cluster = await startCluster()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** ClusterStartError says the cluster did not become ready; its message lists what was not. */
export class ClusterStartError extends Error {
  override name = 'ClusterStartError';
}

// Everything still running or on disk, for the exit handler: a test that fails before stop()
// (or never calls it) leaves no etcd and no temp dir behind once its process ends.
const liveDirs = new Set<string>();
const liveProcesses = new Set<ProcessState>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  const cleanup = () => {
    for (const p of liveProcesses) killNow(p);
    liveProcesses.clear();
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
    liveDirs.clear();
  };
  process.on('exit', cleanup);
  // A signal ends the process without 'exit' (a test runner's timeout sends SIGTERM): clean up,
  // then die of the same signal so the exit status still says which. etcd dies with this process
  // even on SIGKILL (the kernel's parent-death signal); only the temp dir would stay then.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      process.kill(process.pid, sig);
    });
  }
}

/** optionNames are StartClusterOptions' keys: any other is refused, not ignored. */
const optionNames = ['nodes', 'controllers', 'scheduler', 'crds', 'storage', 'podStartDelay', 'simulatorArgs', 'logs', 'verbosity', 'startTimeoutMs'] as const satisfies readonly (keyof StartClusterOptions)[];

/** logLines is how many lines logs() keeps. */
const logLines = 500;

/**
 * startCluster starts a control plane in this process and resolves once the API serves, every
 * chosen controller's caches are synced, the scheduler runs and the simulated Nodes are
 * registered. On failure everything started is stopped before it rejects.
 */
export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const unknown = Object.keys(opts).filter((k) => !(optionNames as readonly string[]).includes(k));
  if (unknown.length) throw new TypeError(`startCluster: unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${optionNames.join(', ')})`);
  const nodes = opts.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 0) throw new TypeError(`startCluster: nodes must be a whole number ≥ 0, not ${opts.nodes}`);
  const storage = opts.storage ?? 'memory';
  if (storage !== 'memory' && storage !== 'etcd') throw new TypeError(`startCluster: storage must be 'memory' or 'etcd', not ${JSON.stringify(storage)}`);
  const controllersFlag = controllersFlagFor(opts.controllers);
  const simArgs = [`--nodes=${nodes}`, `--pod-start-delay=${opts.podStartDelay ?? '0s'}`, ...(opts.simulatorArgs ?? [])];
  // The simulator's process exits on a bad flag; here it throws before anything starts.
  try {
    parseSimConfig(parseFlags(simArgs, simFlags).values);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof FlagError) throw new TypeError(`startCluster: ${err.message}`, { cause: err });
    throw err;
  }
  const mode = logMode(opts.logs);

  installExitHandler();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kit-'));
  liveDirs.add(dir);
  const stop = new AbortController();
  const recent: string[] = [];
  const loggerFor = (component: string) =>
    new Logger(component, opts.verbosity ?? 0, (line) => {
      recent.push(line);
      if (recent.length > logLines) recent.shift();
      if (mode === 'all' || (mode === 'errors' && line.includes('"level":"error"'))) process.stderr.write(line + '\n');
    });
  let apiserver: RunningAPIServer | undefined;
  let etcdProcess: ProcessState | undefined;
  const running: { name: string; component: InProcessComponent }[] = [];

  let stopped: Promise<void> | undefined;
  const stopAll = () =>
    (stopped ??= (async () => {
      stop.abort();
      // Components first (their watches end), then the apiserver, then its store.
      // A component slow to wind down is not waited on for long: the apiserver closes its connections anyway.
      const settled = Promise.all(running.map((r) => r.component.done.catch(() => undefined)));
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await apiserver?.stop().catch(() => undefined);
      if (etcdProcess) {
        await stopProcess(etcdProcess, { graceMs: 5_000 });
        liveProcesses.delete(etcdProcess);
      }
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    })());

  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const mark = (phase: string, since: number) => (phases[phase] = Math.round(performance.now() - since));
  try {
    const pki = join(dir, 'pki');
    await ensureCA(pki);
    const [serving, admin, cm, sched, sim] = await Promise.all([
      ensureServingCert(pki, { name: 'apiserver', commonName: 'kube-apiserver', hosts: ['127.0.0.1', 'localhost', ...kubernetesServiceHosts] }),
      ensureClientCert(pki, { name: 'admin', commonName: 'admin', organizations: ['system:masters'] }),
      ensureClientCert(pki, { name: 'controller-manager', commonName: 'system:kube-controller-manager', organizations: [] }),
      ensureClientCert(pki, { name: 'scheduler', commonName: 'system:kube-scheduler', organizations: [] }),
      ensureClientCert(pki, { name: 'sim', commonName: 'system:node-simulator', organizations: ['system:nodes'] }),
    ]);
    const caFile = join(pki, 'ca.crt');
    mark('pkiMs', t0);
    const tStore = performance.now();

    let etcdServers: string[] = [];
    let etcdTLS: { ca: Buffer; cert: Buffer; key: Buffer } | undefined;
    if (storage === 'etcd') {
      const [etcdClientPort, etcdPeerPort] = await freePorts(2);
      const ctx = contextFor({ ...defaultConfig(dir), etcdClientPort: etcdClientPort!, etcdPeerPort: etcdPeerPort!, bindAddress: '127.0.0.1' });
      for (const d of [ctx.paths.etcdDataDir, ctx.paths.logs, ctx.paths.run]) mkdirSync(d, { recursive: true, mode: 0o700 });
      // etcd serves only clients with a certificate of its own CA: the apiserver gets one.
      await etcd.prepare?.(ctx);
      const [started] = await startComponents(ctx, [etcd], { end: (r) => liveProcesses.add(r.state) });
      etcdProcess = started!.state;
      etcdServers = [etcdEndpoint(ctx.config)];
      const files = etcdClientFiles(ctx.paths);
      etcdTLS = { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) };
    }

    if (storage === 'etcd') mark('etcdMs', tStore);
    const tAPI = performance.now();
    const [port] = await freePorts(1);
    apiserver = await startAPIServer(
      {
        storageBackend: storage === 'etcd' ? 'etcd3' : 'memory',
        etcdServers,
        etcdTLS,
        bindAddress: '127.0.0.1',
        port: port!,
        // The `kubernetes` Endpoints may not hold a loopback address: advertise the host's own, as the harness does.
        advertiseAddress: hostAddresses()[0] ?? '127.0.0.1',
        tls: { cert: readFileSync(serving.cert), key: readFileSync(serving.key), ca: readFileSync(caFile) },
        serviceClusterIPRange: '10.96.0.0/12',
        nodePortRange: { min: 30000, max: 32767 },
        compactionIntervalMs: 300_000,
        watchCacheSize: 50_000,
        limits: { maxRequestsInflight: 400, maxMutatingRequestsInflight: 200, requestTimeoutMs: 60_000 },
        log: loggerFor('apiserver'),
        // Without the serviceaccount controller no `default` ServiceAccount is made, and the
        // ServiceAccount admission plugin would refuse every pod.
        disabledAdmissionPlugins: controllersFlag !== undefined && enabledControllers(controllersFlag).includes('serviceaccount') ? [] : ['ServiceAccount'],
        // A bare registry: the process-wide default metrics would add observers for every cluster.
        metrics: new Registry(),
      },
      stop.signal,
    );
    mark('apiserverMs', tAPI);
    const server = `https://127.0.0.1:${apiserver.port}`;
    const kubeConfigFor = (user: string, cert: { cert: string; key: string }) => {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYAML({ server, caFile, clientCert: cert.cert, clientKey: cert.key, user }));
      return kc;
    };
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYAML({ server, caFile, clientCert: admin.cert, clientKey: admin.key, user: 'admin' }), { mode: 0o600 });
    const kubeConfig = kubeConfigFor('admin', admin);

    const tCRDs = performance.now();
    // CRDs first, so that the garbage collector and the namespace controller know their kinds from the start.
    for (const file of opts.crds ?? []) await applyObjects(kubeConfig, parseManifests(readFileSync(file, 'utf8')), stop.signal);

    mark('crdsMs', tCRDs);
    const tComponents = performance.now();
    const start = (spec: ComponentSpec, cert: { cert: string; key: string }, args: string[]) => {
      const log = loggerFor(spec.name.replace(/^skiff-/, ''));
      const component = startComponentInProcess(spec, { kubeConfig: kubeConfigFor(spec.userAgent, cert), args, log, signal: stop.signal });
      // A process would exit here; in a test the failure is logged (and startCluster rejects if not started yet).
      component.done.then(
        () => stop.signal.aborted || log.error('Work ended unexpectedly'),
        (err: unknown) => log.error('Work failed', { err: err instanceof Error ? err : String(err) }),
      );
      running.push({ name: spec.name, component });
    };
    if (controllersFlag !== undefined) start(controllerManager, cm, [`--controllers=${controllersFlag}`]);
    if (opts.scheduler ?? true) start(scheduler, sched, []);
    start(nodeSimulator, sim, simArgs);

    const readyAt = await waitReady(running, opts.startTimeoutMs ?? 60_000, () => recent);
    mark('componentsMs', tComponents);
    loggerFor('kit').info('Cluster ready', { server: `https://127.0.0.1:${apiserver.port}`, storage, nodes, totalMs: Math.round(performance.now() - t0), ...phases, readyAtMs: readyAt });
    const cluster: Cluster = {
      kubeConfig,
      kubeconfigPath,
      server,
      dir,
      apply: (input) => applyObjects(kubeConfig, typeof input === 'string' ? parseManifests(input) : Array.isArray(input) ? input : [input], stop.signal),
      logs: () => [...recent],
      stop: stopAll,
      [Symbol.asyncDispose]: stopAll,
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** controllersFlagFor turns the controllers option into --controllers, or undefined for no controller manager. */
function controllersFlagFor(controllers: StartClusterOptions['controllers']): string | undefined {
  if (controllers === false) return undefined;
  if (controllers === undefined || controllers === true) return '*';
  const unknown = Object.keys(controllers).filter((name) => !controllerNames.includes(name));
  if (unknown.length) throw new TypeError(`startCluster: unknown controller ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${controllerNames.join(', ')})`);
  const flag = ['*', ...Object.entries(controllers).map(([name, on]) => (on ? name : `-${name}`))].join(',');
  // Every controller off: no controller manager at all.
  return enabledControllers(flag).length === 0 ? undefined : flag;
}

function logMode(option: LogMode | undefined): LogMode {
  const env = process.env.SKIFF_KIT_LOG;
  if (env === 'errors' || env === 'all' || env === 'none') return env;
  return option ?? 'errors';
}

/** waitReady polls the components' readiness until all are ready (and returns when each was, in ms), one fails, or the time is up. */
async function waitReady(running: { name: string; component: InProcessComponent }[], timeoutMs: number, logs: () => string[]): Promise<Record<string, number>> {
  const t0 = performance.now();
  const readyAt: Record<string, number> = {};
  let failure: { name: string; err: unknown } | undefined;
  for (const r of running) r.component.done.catch((err: unknown) => (failure ??= { name: r.name, err }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failure) throw new ClusterStartError(`startCluster: ${failure.name} failed: ${(failure.err as Error)?.message ?? failure.err}`, { cause: failure.err });
    const waiting = running.flatMap((r) => {
      const why = r.component.notReady();
      if (why.length === 0) readyAt[r.name] ??= Math.round(performance.now() - t0);
      return why.map((w) => `${r.name} ${w}`);
    });
    if (waiting.length === 0) return readyAt;
    if (Date.now() > deadline) {
      throw new ClusterStartError(`startCluster: not ready after ${timeoutMs} ms: ${waiting.join('; ')}\nlast log lines:\n${logs().slice(-20).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
