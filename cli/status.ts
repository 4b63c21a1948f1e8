// `skiff status`: one row per component with its pid, what its health URL answers, and uptime.
// Exits 0 only when every component runs and is healthy, so scripts can wait on it.

import { humanDuration } from '../lib/machinery/duration.js';
import { contextFor, clusterStatus, defaultConfig, loadConfig, type ComponentStatus } from '../lib/process/cluster.js';
import { homeFlag, parseFlags, resolveHome, type CommandSpec } from './options.js';

const usage = `Show the state of each component of the skiff cluster.

Usage:
  skiff status [flags]

Flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
  -h, --help       show this help

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

/** statusTable renders rows as kubectl renders tables: upper-case headers, columns padded by 3. */
export function statusTable(rows: ComponentStatus[]): string {
  const cells = [
    ['NAME', 'PID', 'STATUS', 'HEALTH', 'UPTIME'],
    ...rows.map((s) => [
      s.name,
      s.pid !== undefined ? String(s.pid) : '-',
      s.running ? 'Running' : 'Stopped',
      healthCell(s),
      s.uptimeMs !== undefined ? humanDuration(s.uptimeMs) : '-',
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
  const rows = await clusterStatus(contextFor(loadConfig(home) ?? defaultConfig(home)));
  process.stdout.write(statusTable(rows));
  return rows.every((r) => r.running && r.health?.ok) ? 0 : 1;
}

/** statusCommand is `skiff status`. */
export const statusCommand: CommandSpec = { name: 'status', summary: "Show each component's pid, health and uptime", usage, run: status };
