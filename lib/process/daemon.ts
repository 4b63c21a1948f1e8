// The service manager as a daemon: `skiff supervise` runs one ServiceManager per cluster home,
// detached, with its pid in run/supervisor.json (and .pid), its log in logs/supervisor.log and a
// small HTTP API on the Unix socket run/supervisor.sock. `skiff up` finds it there or starts it,
// and asks it to start each component (so the manager is the component's parent and sees it
// exit); `skiff down` stops it before the components, so stopping them restarts nothing.

import { existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { logFile, stateFile, type Launcher } from './cluster.js';
import { nodeEntry, smallHeapFlags, type ClusterConfig, type Component, type ComponentContext } from './components.js';
import { ServiceManager, UnknownComponentError } from './servicemanager.js';
import { isAlive, readState, sleep, spawnDetached, stopProcess, type ProcessState } from './supervisor.js';

/** supervisorName names the manager's state and log files (run/supervisor.json, logs/supervisor.log). */
export const supervisorName = 'supervisor';

/** socketPath is where the manager of a home listens. */
export function socketPath(ctx: ComponentContext): string {
  return join(ctx.paths.run, `${supervisorName}.sock`);
}

/** SupervisorError is a failed request to the service manager, or a manager that does not answer. */
export class SupervisorError extends Error {
  override name = 'SupervisorError';
}

/** request sends one request to the manager over its socket and parses the JSON answer. */
function request(ctx: ComponentContext, method: string, path: string, timeoutMs = 60_000, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socketPath(ctx), method, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = body ? JSON.parse(body) : undefined;
        } catch {
          parsed = undefined;
        }
        if (res.statusCode === 200) resolve(parsed);
        else reject(new SupervisorError((parsed as { error?: string } | undefined)?.error ?? `supervisor answered HTTP ${res.statusCode}`));
      });
    });
    req.on('timeout', () => req.destroy(new SupervisorError(`supervisor did not answer ${method} ${path} in ${timeoutMs / 1000}s`)));
    req.on('error', (err) => reject(err instanceof SupervisorError ? err : new SupervisorError(`cannot reach the supervisor at ${socketPath(ctx)}: ${err.message}`, { cause: err })));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** supervisorState is the manager's recorded process when it runs, else undefined. */
export function supervisorState(ctx: ComponentContext): ProcessState | undefined {
  const state = readState(stateFile(ctx, supervisorName));
  return state && isAlive(state) ? state : undefined;
}

/** supervisorLauncher starts components through the running manager of ctx's home. */
export function supervisorLauncher(ctx: ComponentContext): Launcher & { stop(component: Component): Promise<string> } {
  return {
    // The request carries the config this start is for: it may not be saved yet (skiff sim).
    start: async (component) => (await request(ctx, 'POST', `/components/${encodeURIComponent(component.name)}/start`, 60_000, ctx.config)) as ProcessState,
    stop: async (component) => ((await request(ctx, 'POST', `/components/${encodeURIComponent(component.name)}/stop`)) as { outcome: string }).outcome,
  };
}

/**
 * ensureSupervisor returns the home's running manager, starting one (detached, so it outlives
 * `skiff up`) when none answers. started says which.
 */
export async function ensureSupervisor(ctx: ComponentContext, timeoutMs = 15_000): Promise<{ state: ProcessState; started: boolean }> {
  const running = supervisorState(ctx);
  if (running) {
    await waitForSocket(ctx, running, timeoutMs);
    return { state: running, started: false };
  }
  const state = spawnDetached({
    name: supervisorName,
    command: process.execPath,
    // Its own entry point: cli/main.js would load every command (see cli/supervise-main.ts).
    args: [...smallHeapFlags, '--enable-source-maps', nodeEntry('cli/supervise-main.js'), '--home', ctx.paths.home],
    logFile: logFile(ctx, supervisorName),
    stateFile: stateFile(ctx, supervisorName),
  });
  await waitForSocket(ctx, state, timeoutMs);
  return { state, started: true };
}

async function waitForSocket(ctx: ComponentContext, state: ProcessState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await request(ctx, 'GET', '/healthz', 2_000);
      return;
    } catch (err) {
      if (!isAlive(state)) throw new SupervisorError(`supervisor (pid ${state.pid}) exited at start; see ${logFile(ctx, supervisorName)}`);
      if (Date.now() >= deadline) throw new SupervisorError(`supervisor (pid ${state.pid}) does not answer: ${(err as Error).message}`);
    }
    await sleep(100);
  }
}

/** stopSupervisor stops the home's manager (no restarts from then on); undefined when none ran. */
export async function stopSupervisor(ctx: ComponentContext): Promise<{ pid: number; outcome: 'terminated' | 'killed' | 'not-running' } | undefined> {
  const file = stateFile(ctx, supervisorName);
  const state = readState(file);
  if (!state) return undefined;
  const outcome = await stopProcess(state, { graceMs: 5_000 });
  rmSync(file, { force: true });
  rmSync(file.replace(/\.json$/, '.pid'), { force: true });
  rmSync(socketPath(ctx), { force: true });
  return { pid: state.pid, outcome };
}

/** readBody reads a small request body as text. */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      text += d;
      if (text.length > 1 << 20) req.destroy(new Error('request body too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/**
 * serveSupervisor runs a ServiceManager for ctx's home on its socket until SIGTERM or SIGINT.
 * API: POST /components/NAME/start (body: the ClusterConfig to start it with, optional) and
 * POST /components/NAME/stop, JSON answers; GET /healthz.
 */
export async function serveSupervisor(ctx: ComponentContext, components: readonly Component[], log: Logger): Promise<void> {
  const manager = new ServiceManager(ctx.paths.home, components, log);
  const path = socketPath(ctx);
  // A socket file left by a manager that was killed would make listen fail with EADDRINUSE.
  if (existsSync(path)) rmSync(path, { force: true });
  const server = http.createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/components\/([^/]+)\/(start|stop)$/.exec(req.url ?? '');
    if (req.method === 'GET' && req.url === '/healthz') return send(200, { ok: true, supervised: manager.supervised() });
    if (req.method !== 'POST' || !m) return send(404, { error: `no such request: ${req.method} ${req.url}` });
    const name = decodeURIComponent(m[1]!);
    const answer = async () => {
      if (m[2] === 'stop') return { outcome: await manager.stop(name) };
      const text = await readBody(req);
      const config = text ? ({ ...(JSON.parse(text) as ClusterConfig), home: ctx.paths.home }) : undefined;
      return manager.start(name, config);
    };
    answer().then(
      (body) => send(200, body),
      (err: unknown) => send(err instanceof UnknownComponentError ? 404 : 500, { error: (err as Error).message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  log.info('Supervising components', { home: ctx.paths.home, socket: path, pid: process.pid });
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info('Shutting down; components keep running', { signal, supervised: manager.supervised() });
      manager.close();
      server.close();
      rmSync(path, { force: true });
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
