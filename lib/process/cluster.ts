// Bringing a whole cluster up and down from its home directory: the steps `skiff up`, `skiff down`
// and `skiff status` take, and the test harness replays on a temporary home.

import { clusterComponents, componentNamed } from './controlplane.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { writeKubeconfig } from '../kubeconfig.js';
import { ensureCA, ensureClientCert, hostAddresses } from '../pki.js';
import {
  apiserverURL,
  clusterPaths,
  components as allComponents,
  type ClusterConfig,
  type Component,
  type ComponentContext,
} from './components.js';
import {
  isAlive,
  probe,
  readState,
  removeState,
  spawnDetached,
  stopProcess,
  waitForHealthy,
  type ExitRecord,
  type ProbeResult,
  type ProcessState,
} from './supervisor.js';

/** defaultConfig is a cluster on the standard ports, serving on every interface. */
export function defaultConfig(home: string): ClusterConfig {
  return {
    home,
    etcdClientPort: 2379,
    etcdPeerPort: 2380,
    apiserverPort: 6443,
    bindAddress: '0.0.0.0',
    advertiseAddress: hostAddresses()[0] ?? '127.0.0.1',
    verbosity: 0,
    extraSANs: [],
    controllerManagerPort: 10257,
    schedulerPort: 10259,
    simPort: 10260,
    simulatedNodes: 0,
    clusterCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    realNode: true,
    kubeletPort: 10250,
    kubeletHealthPort: 10248,
    containerdStreamPort: 10010,
    containerdMetricsPort: 1338,
    cniBridge: 'skiff0',
    sinkDevice: 'skiff-sink0',
    cniNetworkName: 'skiff',
    cgroupRoot: '/skiff',
  };
}

/** loadConfig reads the config `up` saved in home, if any. */
export function loadConfig(home: string): ClusterConfig | undefined {
  try {
    const saved = JSON.parse(readFileSync(clusterPaths(home).configFile, 'utf8')) as Partial<ClusterConfig>;
    return { ...defaultConfig(home), ...saved, home };
  } catch {
    return undefined;
  }
}

/** saveConfig records config in its home so `status`, `down` and the next `up` use the same ports. */
export function saveConfig(config: ClusterConfig): void {
  const path = clusterPaths(config.home).configFile;
  mkdirSync(config.home, { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(config, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** contextFor pairs a config with its home's paths. */
export function contextFor(config: ClusterConfig): ComponentContext {
  return { config, paths: clusterPaths(config.home) };
}

/** stateFile is where the supervisor records a component's process. */
export function stateFile(ctx: ComponentContext, name: string): string {
  return join(ctx.paths.run, `${name}.json`);
}

/** logFile is where a component's stdout and stderr go. */
export function logFile(ctx: ComponentContext, name: string): string {
  return join(ctx.paths.logs, `${name}.log`);
}

/** adminIdentity is the break-glass user of the admin kubeconfig (as kubeadm's kubernetes-admin). */
export const adminIdentity = { name: 'admin', commonName: 'admin', organizations: ['system:masters'] };

/**
 * prepareCluster makes the home's folders, the CA, the admin credentials and kubeconfig, the
 * token file, and whatever each component's prepare hook needs. Safe to repeat: existing files
 * that still fit are kept.
 */
export async function prepareCluster(ctx: ComponentContext, components: readonly Component[] = clusterComponents(ctx.config)): Promise<void> {
  const { paths } = ctx;
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  for (const dir of [paths.etcdDataDir, paths.pki]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const dir of [paths.logs, paths.run]) mkdirSync(dir, { recursive: true });
  saveConfig(ctx.config);
  await ensureCA(paths.pki);
  const admin = await ensureClientCert(paths.pki, adminIdentity);
  ensureTokenFile(paths.tokenFile);
  for (const c of components) await c.prepare?.(ctx);
  writeKubeconfig(paths.adminKubeconfig, {
    server: apiserverURL(ctx.config),
    caFile: join(paths.pki, 'ca.crt'),
    clientCert: admin.cert,
    clientKey: admin.key,
    user: 'admin',
    cluster: 'skiff',
    context: 'skiff',
  });
}

/** adminTokenUser is the user the token file's one token authenticates as. */
export const adminTokenUser = 'skiff-admin';

/**
 * ensureTokenFile writes the apiserver's static token file once: one random bearer token for
 * `skiff-admin` in system:masters, for clients that cannot present a certificate.
 */
function ensureTokenFile(path: string): void {
  if (existsSync(path)) return;
  const token = randomBytes(24).toString('hex');
  writeFileSync(path, `${token},${adminTokenUser},${adminTokenUser},"system:masters"\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** readAdminToken returns the token from the token file. */
export function readAdminToken(ctx: ComponentContext): string {
  return readFileSync(ctx.paths.tokenFile, 'utf8').split('\n')[0]!.split(',')[0]!;
}

/** PortInUseError says a component's port already serves a process this home did not start. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** StartResult reports how one component came to be running. */
export interface StartResult {
  name: string;
  outcome: 'started' | 'already-running';
  state: ProcessState;
  elapsedMs: number;
}

/** StartProgress receives a call before and after each component, for per-step output. */
export interface StartProgress {
  begin?: (index: number, total: number, name: string) => void;
  end?: (result: StartResult) => void;
  /** note gets the lines of a component's afterStart step (image imports). */
  note?: (name: string, line: string) => void;
}

/**
 * Launcher starts a component's process on behalf of ensureRunning. Without one the process is
 * spawned detached and nobody restarts it (the test harness); `skiff up` passes the cluster's
 * service manager, which becomes its parent and restarts it when it exits.
 */
export interface Launcher {
  /** start returns the component's running process, starting it if need be (or adopting the one given). */
  start(component: Component): Promise<ProcessState>;
}

/**
 * ensureRunning leaves a component alone when its recorded process still runs (waiting for it to
 * become healthy if it is still starting), and otherwise starts it and waits for its health URL.
 */
export async function ensureRunning(ctx: ComponentContext, component: Component, launcher?: Launcher): Promise<StartResult> {
  const t0 = Date.now();
  const file = stateFile(ctx, component.name);
  const existing = readState(file);
  if (existing && isAlive(existing)) {
    // The launcher watches it from now on (a process left by a killed service manager is adopted).
    await launcher?.start(component);
    await waitForHealthy(component.health(ctx), { timeoutMs: component.startTimeoutMs, process: existing });
    return { name: component.name, outcome: 'already-running', state: existing, elapsedMs: Date.now() - t0 };
  }
  // A dead process's file stays for the service manager, which keeps the restart history in it.
  if (existing && !launcher) removeState(file);
  // Something else answering on the health URL would make a failed start look healthy.
  const health = component.health(ctx);
  if ((await probe(health, 1_000)).ok) {
    throw new PortInUseError(
      `${component.name}: ${health.url} already answers, but not from a process started from ${ctx.paths.home}; ` +
        'is another cluster running on these ports?',
    );
  }
  let state: ProcessState;
  if (launcher) {
    state = await launcher.start(component);
  } else {
    const cmd = component.command(ctx);
    state = spawnDetached({
      name: component.name,
      command: cmd.command,
      args: cmd.args,
      env: cmd.env ? { ...process.env, ...cmd.env } : process.env,
      logFile: logFile(ctx, component.name),
      stateFile: file,
      // Only the test harness starts components with no launcher: they die with it.
      exitWithParent: true,
    });
  }
  await waitForHealthy(health, { timeoutMs: component.startTimeoutMs, process: state });
  return { name: component.name, outcome: 'started', state, elapsedMs: Date.now() - t0 };
}

/** startComponents ensures each component runs, in order; the first failure stops the sequence. */
export async function startComponents(
  ctx: ComponentContext,
  components: readonly Component[] = clusterComponents(ctx.config),
  progress: StartProgress = {},
  launcher?: Launcher,
): Promise<StartResult[]> {
  const results: StartResult[] = [];
  for (const [i, c] of components.entries()) {
    progress.begin?.(i + 1, components.length, c.name);
    const r = await ensureRunning(ctx, c, launcher);
    progress.end?.(r);
    results.push(r);
    await c.afterStart?.(ctx, (line) => progress.note?.(c.name, line));
  }
  return results;
}

/** StopResult reports what stopping one component did. */
export interface StopResult {
  name: string;
  pid?: number;
  outcome: 'terminated' | 'killed' | 'not-running';
}

/**
 * stopComponents stops every process recorded in the home's run/ folder, in reverse start order
 * (processes not in the component list first), and removes their state files.
 */
export async function stopComponents(
  ctx: ComponentContext,
  onStopped: (r: StopResult) => void = () => undefined,
): Promise<StopResult[]> {
  const results: StopResult[] = [];
  for (const name of recordedNames(ctx)) {
    const file = stateFile(ctx, name);
    const state = readState(file);
    if (!state) {
      removeState(file);
      continue;
    }
    const component = componentNamed(name, ctx.config);
    const outcome = await stopComponentProcess(ctx, component, state);
    removeState(file);
    const r = { name, pid: state.pid, outcome };
    onStopped(r);
    results.push(r);
  }
  // A process that died on its own left no state file, but maybe pods, links and rules: clean up regardless.
  for (const c of clusterComponents(ctx.config)) {
    if (c.afterStop && !results.some((r) => r.name === c.name)) await c.afterStop(ctx);
  }
  return results;
}

/**
 * stopComponentProcess stops one component's process with its hooks: beforeStop while it still
 * runs (a failing hook does not keep it running), then SIGTERM/SIGKILL, then afterStop.
 */
export async function stopComponentProcess(ctx: ComponentContext, component: Component | undefined, state: ProcessState, graceMs?: number): Promise<StopResult['outcome']> {
  if (component?.beforeStop && isAlive(state)) {
    await component.beforeStop(ctx).catch((err: unknown) => process.stderr.write(`warning: ${component.name}: before stop: ${(err as Error).message}\n`));
  }
  const outcome = await stopProcess(state, { graceMs: graceMs ?? component?.stopGraceMs ?? 10_000 });
  await component?.afterStop?.(ctx);
  return outcome;
}

/** recordedNames lists components with a state file, in stop order. */
function recordedNames(ctx: ComponentContext): string[] {
  let files: string[];
  try {
    files = readdirSync(ctx.paths.run);
  } catch {
    return [];
  }
  const recorded = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  // Start order: the config's own (control-plane members first), then the rest of the known ones.
  const known = [...new Set([...clusterComponents(ctx.config), ...allComponents].map((c) => c.name))];
  // The service manager (run/supervisor.json) sorts first: stopped later, it would restart what was stopped.
  const unknown = recorded.filter((n) => !known.includes(n)).sort((a, b) => Number(b === 'supervisor') - Number(a === 'supervisor') || a.localeCompare(b));
  return [...unknown, ...[...known].reverse().filter((n) => recorded.includes(n))];
}

/** ComponentStatus is one row of `skiff status`. */
export interface ComponentStatus {
  name: string;
  pid?: number;
  running: boolean;
  health?: ProbeResult;
  uptimeMs?: number;
  /** restarts, lastExit and lastRestartAt are the service manager's record (see ProcessState). */
  restarts: number;
  lastExit?: ExitRecord;
  lastRestartAt?: number;
  /** nextRestartAt is set while the service manager waits out the component's back-off. */
  nextRestartAt?: number;
}

/** clusterStatus checks every component: is its process alive, and what its health URL answers. */
export async function clusterStatus(ctx: ComponentContext, components: readonly Component[] = clusterComponents(ctx.config)): Promise<ComponentStatus[]> {
  return Promise.all(
    components.map(async (c): Promise<ComponentStatus> => {
      const state = readState(stateFile(ctx, c.name));
      const running = state !== undefined && isAlive(state);
      let health: ProbeResult | undefined;
      try {
        health = await probe(c.health(ctx));
      } catch (err) {
        health = { ok: false, status: 0, body: '', error: (err as Error).message };
      }
      return {
        name: c.name,
        pid: running ? state.pid : undefined,
        running,
        health,
        uptimeMs: running ? Date.now() - state.startedAt : undefined,
        restarts: state?.restarts ?? 0,
        lastExit: state?.lastExit,
        lastRestartAt: state?.lastRestartAt,
        nextRestartAt: !running ? state?.nextRestartAt : undefined,
      };
    }),
  );
}
