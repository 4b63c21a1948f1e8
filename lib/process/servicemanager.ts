// The service manager of a cluster home: the one process of skiff's own (`skiff supervise`, which
// `skiff up` starts detached) that is the parent of every component, and starts a component again
// when it exits, as systemd's Restart=always would: after a back-off that doubles from 1 s up to
// 60 s on each exit in a row, and starts again from 1 s once a run lasted 2 minutes. Only a stop
// asked of it (`skiff down` stops the manager first; `skiff sim` asks it to stop the simulator)
// does not bring a component back.
//
// It records each run in the component's state file (run/<name>.json), with the restart count,
// how the previous run ended and when it was restarted, which `skiff status` shows. A component
// that runs but is not its child (left by a manager that was killed) is adopted: watched by its
// pid, and started again when it goes, its exit status unknown.

import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';
import { loadConfig, contextFor, logFile, stateFile } from './cluster.js';
import type { ClusterConfig, Component } from './components.js';
import { isAlive, readState, removeState, spawnChild, stopProcess, writeState, type ExitRecord, type ProcessState } from './supervisor.js';

/** RestartPolicy is the back-off between a component's exit and its next start. */
export interface RestartPolicy {
  /** initialDelayMs is the wait before the first restart after a run that lasted. */
  initialDelayMs: number;
  /** maxDelayMs caps the doubling wait. */
  maxDelayMs: number;
  /** resetAfterMs: a run at least this long counts as a success, and the next exit waits initialDelayMs again. */
  resetAfterMs: number;
}

/** defaultRestartPolicy: 1 s, 2 s, 4 s … 60 s; reset after 2 minutes of running. */
export const defaultRestartPolicy: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 60_000, resetAfterMs: 120_000 };

/**
 * restartDelayMs is the wait before restarting a component that exited for the n-th time in a
 * row (n ≥ 1): initialDelayMs doubled n-1 times, capped at maxDelayMs.
 */
export function restartDelayMs(consecutiveExits: number, policy: RestartPolicy = defaultRestartPolicy): number {
  const n = Math.max(1, Math.floor(consecutiveExits));
  // 2^30 already passes any sane cap; stop doubling before the number grows without bound.
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(n - 1, 30));
}

/**
 * consecutiveExitsAfter counts exits in a row after one more: a run that lasted resetAfterMs
 * starts the count again.
 */
export function consecutiveExitsAfter(previous: number, ranForMs: number, policy: RestartPolicy = defaultRestartPolicy): number {
  return ranForMs >= policy.resetAfterMs ? 1 : previous + 1;
}

/** describeExit renders an exit for logs and `skiff status`: "code 1", "signal SIGKILL", "unknown". */
export function describeExit(e: ExitRecord | undefined): string {
  if (!e) return '-';
  if (e.signal) return `signal ${e.signal}`;
  if (e.code !== null) return `code ${e.code}`;
  return 'unknown';
}

/** Supervised is the manager's record of one component. */
interface Supervised {
  component: Component;
  state?: ProcessState;
  /** child is set when this manager spawned the running process; adopted ones are polled instead. */
  child?: ChildProcess;
  poll?: NodeJS.Timeout;
  /** restartTimer is set while the component waits out its back-off. */
  restartTimer?: NodeJS.Timeout;
  consecutiveExits: number;
  /** stopping: the exit under way was asked for; do not restart. */
  stopping: boolean;
}

/** UnknownComponentError says a request named no component of the cluster. */
export class UnknownComponentError extends Error {
  override name = 'UnknownComponentError';
}

/** ServiceManager starts, watches and restarts the components of one cluster home. */
export class ServiceManager {
  private readonly entries = new Map<string, Supervised>();
  private closed = false;

  constructor(
    private readonly home: string,
    private readonly components: readonly Component[],
    private readonly log: Logger,
    private readonly policy: RestartPolicy = defaultRestartPolicy,
    /** adoptPollMs is how often an adopted process is checked. */
    private readonly adoptPollMs = 1_000,
  ) {}

  /**
   * start makes sure the component runs under this manager and returns its process: the one it
   * already watches, one left running (adopted), or a new one. A component waiting out its
   * back-off starts at once. config, when given, is what this start uses (`skiff sim` saves its
   * new flags only once the simulator came up with them); restarts read the home's cluster.json.
   */
  start(name: string, config?: ClusterConfig): ProcessState {
    if (this.closed) throw new Error('the service manager is shutting down');
    const component = this.components.find((c) => c.name === name);
    if (!component) throw new UnknownComponentError(`unknown component "${name}"`);
    let entry = this.entries.get(name);
    if (entry?.state && isAlive(entry.state)) return entry.state;
    if (!entry) {
      entry = { component, consecutiveExits: 0, stopping: false };
      this.entries.set(name, entry);
    }
    clearTimeout(entry.restartTimer);
    entry.restartTimer = undefined;
    entry.stopping = false;
    const file = this.stateFileOf(name);
    const recorded = readState(file);
    if (recorded && isAlive(recorded)) {
      this.adopt(entry, recorded);
      return recorded;
    }
    return this.spawn(entry, recorded, config);
  }

  /** stop stops a component and forgets it, so its exit brings no restart; its state file goes. */
  async stop(name: string, graceMs?: number): Promise<'terminated' | 'killed' | 'not-running'> {
    const entry = this.entries.get(name);
    const state = entry?.state ?? readState(this.stateFileOf(name));
    if (entry) {
      entry.stopping = true;
      clearTimeout(entry.restartTimer);
      clearInterval(entry.poll);
    }
    const outcome = state ? await stopProcess(state, { graceMs: graceMs ?? entry?.component.stopGraceMs ?? 10_000 }) : 'not-running';
    removeState(this.stateFileOf(name));
    this.entries.delete(name);
    return outcome;
  }

  /** close stops watching: no restart from now on. The components keep running (`skiff down` stops them). */
  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) {
      clearTimeout(e.restartTimer);
      clearInterval(e.poll);
    }
  }

  /** supervised lists the names this manager watches or is about to restart. */
  supervised(): string[] {
    return [...this.entries.keys()];
  }

  private stateFileOf(name: string): string {
    const config = loadConfig(this.home);
    if (!config) throw new Error(`${this.home} has no cluster.json`);
    return stateFile(contextFor(config), name);
  }

  private spawn(entry: Supervised, previous: ProcessState | undefined, given?: ClusterConfig): ProcessState {
    // Read the config afresh: `skiff sim` and `skiff up` flags change it between runs.
    const config = given ?? loadConfig(this.home);
    if (!config) throw new Error(`${this.home} has no cluster.json`);
    const ctx = contextFor(config);
    const cmd = entry.component.command(ctx);
    const file = stateFile(ctx, entry.component.name);
    const { state, child } = spawnChild({
      name: entry.component.name,
      command: cmd.command,
      args: cmd.args,
      env: cmd.env ? { ...process.env, ...cmd.env } : process.env,
      logFile: logFile(ctx, entry.component.name),
    });
    // What the manager knows of earlier runs goes on in the new state file.
    const history = entry.state ?? previous;
    const full: ProcessState = {
      ...state,
      restarts: history?.restarts,
      lastExit: history?.lastExit,
      lastRestartAt: history?.lastRestartAt,
    };
    entry.state = full;
    entry.child = child;
    writeState(file, full);
    child.on('exit', (code, signal) => {
      if (entry.child !== child) return;
      entry.child = undefined;
      this.exited(entry, full, { code, signal, at: Date.now() });
    });
    this.log.info('Started component', { name: entry.component.name, pid: full.pid });
    return full;
  }

  private adopt(entry: Supervised, state: ProcessState): void {
    entry.state = state;
    entry.child = undefined;
    clearInterval(entry.poll);
    entry.poll = setInterval(() => {
      if (isAlive(state)) return;
      clearInterval(entry.poll);
      entry.poll = undefined;
      this.exited(entry, state, { code: null, signal: null, at: Date.now() });
    }, this.adoptPollMs);
    this.log.info('Watching component started before this supervisor', { name: entry.component.name, pid: state.pid });
  }

  private exited(entry: Supervised, run: ProcessState, exit: ExitRecord): void {
    if (this.closed || entry.stopping || entry.state !== run) return;
    const name = entry.component.name;
    entry.consecutiveExits = consecutiveExitsAfter(entry.consecutiveExits, exit.at - run.startedAt, this.policy);
    const delayMs = restartDelayMs(entry.consecutiveExits, this.policy);
    const waiting: ProcessState = { ...run, lastExit: exit, nextRestartAt: exit.at + delayMs };
    entry.state = waiting;
    try {
      writeState(this.stateFileOf(name), waiting);
    } catch (err) {
      this.log.error('Cannot record component exit', { name, err: err as Error });
    }
    this.log.warn('Component exited; restarting after back-off', {
      name,
      pid: run.pid,
      exit: describeExit(exit),
      ranForSeconds: Math.round((exit.at - run.startedAt) / 1000),
      backOffSeconds: delayMs / 1000,
      restarts: (run.restarts ?? 0) + 1,
    });
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = undefined;
      if (this.closed || entry.stopping) return;
      entry.state = { ...waiting, startedAt: Date.now(), restarts: (run.restarts ?? 0) + 1, lastRestartAt: Date.now(), nextRestartAt: undefined };
      try {
        this.spawn(entry, undefined);
      } catch (err) {
        // A start that fails at once (binary gone) counts as one more exit.
        this.log.error('Cannot restart component', { name, err: err as Error });
        const failed = entry.state;
        this.exited(entry, failed, { code: null, signal: null, at: Date.now() });
      }
    }, delayMs);
  }
}
