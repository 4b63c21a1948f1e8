// Container log rotation, as the kubelet's ContainerLogManager does it for CRI runtimes: every
// 10 s each running container's log is checked; one over containerLogMaxSize (10Mi) is renamed
// to <log>.<YYYYMMDD-hhmmss> and the runtime is told to reopen the file (ReopenContainerLog).
// Older rotated files are gzipped (all but the newest) and the oldest removed, so that a
// container keeps at most containerLogMaxFiles (5) files, the live one included.

import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { CriClient } from '../cri/client.js';

/** DefaultContainerLogMaxSize is the kubelet's containerLogMaxSize (10Mi). */
export const DefaultContainerLogMaxSize = 10 * 1024 * 1024;
/** DefaultContainerLogMaxFiles is the kubelet's containerLogMaxFiles. */
export const DefaultContainerLogMaxFiles = 5;
/** LogMonitorPeriodMs is how often logs are checked (the kubelet's containerLogMonitorInterval). */
export const LogMonitorPeriodMs = 10_000;

/** rotationTimestamp is Go's "20060102-150405" of a wall time (UTC). */
export function rotationTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** rotatedLogs lists the rotated files of a log (<log>.*, temporary files dropped), oldest first. */
function rotatedLogs(log: string): string[] {
  const dir = dirname(log);
  const prefix = `${basename(log)}.`;
  const out: string[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dir, name);
    if (name.endsWith('.tmp')) {
      rmSync(path, { force: true });
      continue;
    }
    // A plain file whose .gz exists was compressed but not yet removed.
    if (!name.endsWith('.gz') && existsSync(`${path}.gz`)) {
      rmSync(path, { force: true });
      continue;
    }
    out.push(path);
  }
  // The timestamp sorts in time order; .gz does not change the order of equal stamps' base.
  return out.sort();
}

/**
 * rotateLog rotates one container's log if it is over maxSize: trims the rotated files to
 * maxFiles - 2 (the live file and the one about to be made make maxFiles), renames the live file,
 * asks the runtime to reopen it (renaming it back when that fails), and compresses every rotated
 * file but the newest. Returns whether it rotated.
 */
export async function rotateLog(log: string, containerId: string, opts: { maxSize: number; maxFiles: number; now: number; reopen: (id: string) => Promise<void> }): Promise<boolean> {
  let size: number;
  try {
    size = statSync(log).size;
  } catch {
    return false;
  }
  if (size <= opts.maxSize) return false;
  const rotated = rotatedLogs(log);
  const keep = Math.max(0, opts.maxFiles - 2);
  while (rotated.length > keep) rmSync(rotated.shift()!, { force: true });
  const target = `${log}.${rotationTimestamp(opts.now)}`;
  if (existsSync(target) || existsSync(`${target}.gz`)) return false; // rotated this second already
  renameSync(log, target);
  try {
    await opts.reopen(containerId);
  } catch (err) {
    // The runtime still writes to the renamed file: give it its name back.
    renameSync(target, log);
    throw err;
  }
  // Compress every rotated file but the newest (`kubectl logs` may still read it).
  for (const f of rotatedLogs(log).slice(0, -1)) {
    if (f.endsWith('.gz')) continue;
    writeFileSync(`${f}.gz.tmp`, gzipSync(readFileSync(f)));
    renameSync(`${f}.gz.tmp`, `${f}.gz`);
    rmSync(f, { force: true });
  }
  return true;
}

/** ContainerLogManager checks the running containers' logs periodically and rotates them. */
export class ContainerLogManager {
  private timer?: TimerHandle;
  private stopped = true;

  constructor(
    private readonly opts: {
      runtime: Pick<CriClient, 'listContainers' | 'containerStatus' | 'reopenContainerLog'>;
      clock: Clock;
      log: Logger;
      maxSize?: number;
      maxFiles?: number;
      periodMs?: number;
      /** now is wall time in epoch ms, for the rotated files' names (default: the clock's). */
      now?: () => number;
    },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => void this.rotateAll().finally(() => this.schedule()), this.opts.periodMs ?? LogMonitorPeriodMs);
  }

  /** rotateAll looks at every running container's log once. */
  async rotateAll(): Promise<void> {
    let containers;
    try {
      containers = await this.opts.runtime.listContainers({ state: { state: 'CONTAINER_RUNNING' } });
    } catch {
      return;
    }
    for (const c of containers) {
      if (this.stopped) return;
      try {
        const { status } = await this.opts.runtime.containerStatus(c.id);
        if (!status.log_path || status.state !== 'CONTAINER_RUNNING') continue;
        const rotated = await rotateLog(status.log_path, c.id, {
          maxSize: this.opts.maxSize ?? DefaultContainerLogMaxSize,
          maxFiles: this.opts.maxFiles ?? DefaultContainerLogMaxFiles,
          now: this.opts.now?.() ?? this.opts.clock.now(),
          reopen: (id) => this.opts.runtime.reopenContainerLog(id),
        });
        if (rotated) this.opts.log.v(2).info('Rotated a container log', { container: c.id, log: status.log_path });
      } catch (err) {
        this.opts.log.warn('Container log rotation failed', { container: c.id, err: String(err) });
      }
    }
  }
}
