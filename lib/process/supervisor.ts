// The process supervisor the `skiff` CLI and the test harness share: start a component detached
// with its output appended to a log file, remember it in a state file, wait for its health URL,
// tell whether it still runs, and stop it (SIGTERM, then SIGKILL after a grace period).

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';

/** ProcessState is what a state file records about a started process. */
export interface ProcessState {
  name: string;
  pid: number;
  /** startTicks is field 22 of /proc/<pid>/stat: with pid it tells this process from a later one reusing the pid. */
  startTicks: number;
  /** startedAt is when it was spawned (ms since the epoch). */
  startedAt: number;
  command: string;
  args: string[];
  logFile: string;
  /** logOffset is the log file's size at spawn: where this run's output starts. */
  logOffset: number;
  /** restarts counts the times the cluster's service manager started this component again after it exited. */
  restarts?: number;
  /** lastExit is how the run before this one ended, when the service manager restarted it. */
  lastExit?: ExitRecord;
  /** lastRestartAt is when the service manager last restarted it (ms since the epoch). */
  lastRestartAt?: number;
  /** nextRestartAt is set while the process is down and the service manager waits out its back-off (ms since the epoch). */
  nextRestartAt?: number;
}

/** ExitRecord is how a supervised process ended. */
export interface ExitRecord {
  /** code is the exit status, null when a signal ended it or the status is unknown. */
  code: number | null;
  /** signal is the signal that ended it (SIGKILL, …), or null. */
  signal: string | null;
  /** at is when the exit was seen (ms since the epoch). */
  at: number;
}

/** SpawnOptions describes one component process to start. */
export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** stateFile receives the ProcessState as JSON; a `.pid` file with the bare pid is written beside it. */
  stateFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * exitWithParent has the kernel kill the process when the process that spawned it dies, even
   * by SIGKILL (PR_SET_PDEATHSIG through util-linux's setpriv): for processes a test starts,
   * which must never outlive it. Processes of `skiff up` outlive their starter and never set it.
   */
  exitWithParent?: boolean;
}

/** HealthCheck is an HTTP(S) GET that answers 200 when the component is healthy. */
export interface HealthCheck {
  url: string;
  /** ca, cert and key are PEM text for https URLs (cert/key only if the endpoint wants a client cert). */
  ca?: string;
  cert?: string;
  key?: string;
}

/** ProcessExitedError says a process died while we waited for it to become healthy. */
export class ProcessExitedError extends Error {
  override name = 'ProcessExitedError';
}

/** HealthTimeoutError says a process ran but did not become healthy in time. */
export class HealthTimeoutError extends Error {
  override name = 'HealthTimeoutError';
}

/**
 * spawnDetached starts a process in its own session (so it outlives the CLI and a terminal's
 * hangup), stdin closed and stdout/stderr appended to logFile. The child is unref'd: the caller's
 * event loop does not wait for it, and no pipe ties it to the caller's stdio.
 */
export function spawnDetached(opts: SpawnOptions): ProcessState {
  const { state, child } = spawnChild(opts);
  child.unref();
  return state;
}

/**
 * spawnChild starts a process as spawnDetached does (own session, output appended to logFile) but
 * keeps the ChildProcess, so its parent sees it exit and learns its exit status.
 */
export function spawnChild(opts: SpawnOptions): { state: ProcessState; child: ChildProcess } {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  let logOffset: number;
  try {
    logOffset = fstatSync(fd).size;
    // setpriv sets the parent-death signal and then execs the command: the pid is the command's.
    const [command, args] = opts.exitWithParent ? ['setpriv', ['--pdeathsig', 'KILL', '--', opts.command, ...opts.args]] : [opts.command, opts.args];
    child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
  } finally {
    closeSync(fd);
  }
  // A missing binary surfaces as an 'error' event (emitted later) and no pid: swallow the event
  // and throw now, so callers see the failure where they spawned.
  child.on('error', () => undefined);
  if (child.pid === undefined) {
    throw new ProcessExitedError(`${opts.name}: cannot start ${opts.command}: not found or not executable`);
  }
  const state: ProcessState = {
    name: opts.name,
    pid: child.pid,
    startTicks: startTicks(child.pid) ?? 0,
    startedAt: Date.now(),
    command: opts.command,
    args: opts.args,
    logFile: opts.logFile,
    logOffset,
  };
  if (opts.stateFile) writeState(opts.stateFile, state);
  return { state, child };
}

/** writeState records state at path (JSON) and the bare pid at path with `.pid` in place of `.json`. */
export function writeState(path: string, state: ProcessState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, path);
  writeFileSync(pidFileFor(path), `${state.pid}\n`);
}

/** readState reads a state file; undefined when it is missing or unreadable. */
export function readState(path: string): ProcessState | undefined {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as ProcessState;
    return typeof s.pid === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** removeState deletes a state file and its pid file. */
export function removeState(path: string): void {
  rmSync(path, { force: true });
  rmSync(pidFileFor(path), { force: true });
}

function pidFileFor(stateFile: string): string {
  return stateFile.replace(/\.json$/, '') + '.pid';
}

/**
 * procStat returns the state letter and start time of a pid from /proc, or undefined when there
 * is no such process. The command name is in parentheses and may hold spaces, so fields are
 * counted from the last ')'.
 */
function procStat(pid: number): { state: string; startTicks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  return { state: rest[0] ?? '?', startTicks: Number(rest[19]) };
}

function startTicks(pid: number): number | undefined {
  return procStat(pid)?.startTicks;
}

/**
 * isAlive tells whether pid runs and is not a zombie; given a state, also that it is the same
 * process that was started (not a later one that got the pid).
 */
export function isAlive(pidOrState: number | ProcessState): boolean {
  const pid = typeof pidOrState === 'number' ? pidOrState : pidOrState.pid;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const st = procStat(pid);
  if (st) {
    if (st.state === 'Z' || st.state === 'X') return false;
    if (typeof pidOrState !== 'number' && pidOrState.startTicks && st.startTicks !== pidOrState.startTicks) return false;
    return true;
  }
  // No /proc (not Linux): fall back to signal 0.
  if (existsSync('/proc/self/stat')) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * stopProcess sends SIGTERM, waits up to graceMs for the process to go, then SIGKILLs it and waits
 * for it to be gone. Resolves to how it ended: 'terminated', 'killed' or 'not-running'.
 */
export async function stopProcess(
  pidOrState: number | ProcessState,
  opts: { graceMs?: number } = {},
): Promise<'terminated' | 'killed' | 'not-running'> {
  const pid = typeof pidOrState === 'number' ? pidOrState : pidOrState.pid;
  if (!isAlive(pidOrState)) return 'not-running';
  if (!signal(pid, 'SIGTERM')) return 'not-running';
  if (await waitUntil(() => !isAlive(pidOrState), opts.graceMs ?? 10_000)) return 'terminated';
  signal(pid, 'SIGKILL');
  await waitUntil(() => !isAlive(pidOrState), 5_000);
  return 'killed';
}

/** killNow SIGKILLs a process at once; safe to call from an 'exit' handler (synchronous). */
export function killNow(pidOrState: number | ProcessState): void {
  if (isAlive(pidOrState)) signal(typeof pidOrState === 'number' ? pidOrState : pidOrState.pid, 'SIGKILL');
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** sleep resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** ProbeResult is one health probe's answer (status 0 when the request itself failed). */
export interface ProbeResult {
  ok: boolean;
  status: number;
  body: string;
  error?: string;
}

/** probe GETs a health URL once; ok only on HTTP 200. Never throws. */
export function probe(check: HealthCheck, timeoutMs = 2_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const url = new URL(check.url);
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { ca: check.ca, cert: check.cert, key: check.key, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ ok: false, status: res.statusCode ?? 0, body, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs}ms`)));
    req.on('error', (err) => resolve({ ok: false, status: 0, body: '', error: err.message }));
  });
}

/**
 * waitForHealthy polls check until it answers 200. It fails early with ProcessExitedError when the
 * process (if given) dies, and with HealthTimeoutError after timeoutMs; both carry the last lines
 * of the process's log from this run, which is where the reason usually is.
 */
export async function waitForHealthy(
  check: HealthCheck,
  opts: { timeoutMs?: number; intervalMs?: number; process?: ProcessState } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: ProbeResult | undefined;
  for (;;) {
    last = await probe(check);
    if (last.ok) return;
    if (opts.process && !isAlive(opts.process)) {
      // One more probe would not help; give the log a moment to receive the dying words.
      await sleep(100);
      throw new ProcessExitedError(
        `${opts.process.name} (pid ${opts.process.pid}) exited before it became healthy` + logExcerpt(opts.process),
      );
    }
    if (Date.now() >= deadline) {
      const why = last.error ?? `HTTP ${last.status} ${last.body.trim().slice(0, 300)}`;
      const name = opts.process?.name ?? check.url;
      throw new HealthTimeoutError(
        `${name} not healthy after ${(timeoutMs / 1000).toFixed(0)}s (${check.url}: ${why})` +
          (opts.process ? logExcerpt(opts.process) : ''),
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

function logExcerpt(state: ProcessState, lines = 20): string {
  const tail = tailLines(state.logFile, lines, state.logOffset);
  return tail.length > 0 ? `\n--- last lines of ${state.logFile} ---\n${tail.join('\n')}` : `\n(${state.logFile} is empty)`;
}

/** tailLines returns up to n last lines of a file, reading at most the last 64 KiB after fromOffset. */
export function tailLines(path: string, n: number, fromOffset = 0): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(fromOffset, size - 64 * 1024);
    if (size <= start) return [];
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}
