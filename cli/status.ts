// `skiff status`: one row per component with its pid, what its health URL answers, its uptime,
// and what the service manager did (restarts, how the last run ended), then whether the service
// manager runs. Exits 0 only when every component runs and is healthy, so scripts can wait on it.

import { humanDuration } from '../lib/machinery/duration.js';
import { contextFor, clusterStatus, defaultConfig, loadConfig, type ComponentStatus } from '../lib/process/cluster.js';
import { supervisorState } from '../lib/process/daemon.js';
import { labStatus, loadLab, membersNote } from '../lib/process/lab.js';
import { describeExit } from '../lib/process/servicemanager.js';
import { homeFlag, parseFlags, resolveHome, type CommandSpec } from './options.js';

const usage = `Show the state of each component of the skiff cluster.

Usage:
  skiff status [flags]

Flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
  -h, --help       show this help

Columns: STATUS is Running, BackOff (exited; the supervisor starts it again after the
back-off shown) or Stopped. RESTARTS counts the supervisor's restarts since skiff up, with
the time of the last one; LAST EXIT is how the run before the current one ended (exit code
or signal).

Exit status is 0 when every component runs and is healthy, 1 otherwise.
`;

/** healthCell says what the health probe answered, in a few words. */
function healthCell(s: ComponentStatus): string {
  const h = s.health;
  if (!h) return 'unknown';
  if (h.ok) return 'healthy';
  if (h.status === 0) return `unreachable (${h.error ?? 'no answer'})`;
  return `unhealthy (HTTP ${h.status})`;
}

/** stateCell is Running, BackOff (with the time left) or Stopped. */
function stateCell(s: ComponentStatus, now: number): string {
  if (s.running) return 'Running';
  if (s.nextRestartAt !== undefined) return `BackOff (${humanDuration(Math.max(0, s.nextRestartAt - now))})`;
  return 'Stopped';
}

/** restartsCell is the count and, as kubectl shows a pod's restarts, how long ago the last was. */
function restartsCell(s: ComponentStatus, now: number): string {
  if (!s.restarts || s.lastRestartAt === undefined) return String(s.restarts ?? 0);
  return `${s.restarts} (${humanDuration(Math.max(0, now - s.lastRestartAt))} ago)`;
}

/** statusTable renders rows as kubectl renders tables: upper-case headers, columns padded by 3. */
export function statusTable(rows: ComponentStatus[], now = Date.now()): string {
  const cells = [
    ['NAME', 'PID', 'STATUS', 'HEALTH', 'UPTIME', 'RESTARTS', 'LAST EXIT'],
    ...rows.map((s) => [
      s.name,
      s.pid !== undefined ? String(s.pid) : '-',
      stateCell(s, now),
      healthCell(s),
      s.uptimeMs !== undefined ? humanDuration(s.uptimeMs) : '-',
      restartsCell(s, now),
      describeExit(s.lastExit),
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

async function status(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, homeFlag);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const home = resolveHome(values.home);
  const ctx = contextFor(loadConfig(home) ?? defaultConfig(home));
  // A lab's worker nodes follow, one row per process, named <node>/<component>.
  const rows = [...(await clusterStatus(ctx)), ...(await labStatus(ctx))];
  process.stdout.write(statusTable(rows));
  process.stdout.write(membersNote(loadLab(home)));
  const manager = supervisorState(ctx);
  process.stdout.write(
    manager
      ? `\nSupervisor: running (pid ${manager.pid}); components that exit are started again with back-off.\n`
      : '\nSupervisor: not running; components that exit stay down until skiff up.\n',
  );
  return rows.every((r) => r.running && r.health?.ok) ? 0 : 1;
}

/** statusCommand is `skiff status`. */
export const statusCommand: CommandSpec = { name: 'status', summary: "Show each component's pid, health, uptime and restarts", usage, run: status };
