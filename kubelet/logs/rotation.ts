// ContainerLogManager rotates the log files of running containers, as the kubelet's container log
// manager does: every 10 s it lists the runtime's containers, and for each running one whose log
// file (ContainerStatus log_path) has reached containerLogMaxSize (10Mi) it renames the file to
// `<path>.<YYYYMMDD-hhmmss>` and asks the runtime to reopen its log (CRI ReopenContainerLog), so the
// container goes on writing into a fresh file. At most containerLogMaxFiles (5) files per container
// are kept, the live one included: the oldest rotated ones are deleted, and rotated files other
// than the newest are gzip-compressed (`.gz`), as on Kubernetes. An exited container's log is never
// touched: the runtime no longer writes it, and a fresh empty file would be useless.

import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { parseQuantity } from '../../lib/api/core/quantity.js';
import { type Clock, type TimerHandle, wallClock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { CriClient } from '../cri/client.js';

/** ContainerLogManagerOptions configure rotation (the kubelet's containerLog* settings). */
export interface ContainerLogManagerOptions {
  runtime: Pick<CriClient, 'listContainers' | 'containerStatus' | 'reopenContainerLog'>;
  log: Logger;
  /** maxSize is containerLogMaxSize: bytes, or a quantity such as `10Mi` (the default). */
  maxSize?: number | string;
  /** maxFiles is containerLogMaxFiles, the live file included (default 5, at least 2). */
  maxFiles?: number;
  /** intervalMs is containerLogMonitorInterval (default 10 s). */
  intervalMs?: number;
  /** clock times the passes and names rotated files (default: the wall clock, epoch ms). */
  clock?: Clock;
  /** compress gzips rotated files but the newest (default true). */
  compress?: boolean;
}

/** compressSuffix marks a compressed rotated log. */
const compressSuffix = '.gz';
/** tmpSuffix marks a file being compressed; one left behind by a crash is deleted. */
const tmpSuffix = '.tmp';

/** rotationTimestamp is Go's "20060102-150405" layout in local time, the suffix of a rotated log. */
export function rotationTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** parseMaxSize turns containerLogMaxSize into bytes; it throws for anything but a positive size. */
function parseMaxSize(v: number | string | undefined): number {
  if (v === undefined) return 10 * 1024 * 1024;
  if (typeof v === 'number') {
    if (!(v > 0)) throw new Error(`invalid containerLogMaxSize ${v}: must be a positive size`);
    return v;
  }
  const q = parseQuantity(v);
  if (!q || q.nanos <= 0n) throw new Error(`invalid containerLogMaxSize ${JSON.stringify(v)}: must be a positive quantity such as 10Mi`);
  return Number(q.nanos / 1_000_000_000n);
}

/** isInUse tells whether a rotated file still counts: temporaries do not, nor an uncompressed file
 * whose compressed copy exists (a compression interrupted before its last step). */
function isInUse(file: string, all: string[]): boolean {
  if (file.endsWith(tmpSuffix)) return false;
  if (file.endsWith(compressSuffix)) return true;
  return !all.includes(file + compressSuffix);
}

/** ContainerLogManager rotates the logs of the runtime's running containers on a timer. */
export class ContainerLogManager {
  readonly maxSize: number;
  readonly maxFiles: number;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly compress: boolean;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(readonly opts: ContainerLogManagerOptions) {
    this.maxSize = parseMaxSize(opts.maxSize);
    this.maxFiles = opts.maxFiles ?? 5;
    if (!Number.isInteger(this.maxFiles) || this.maxFiles < 2) throw new Error(`invalid containerLogMaxFiles ${this.maxFiles}: must be greater than 1`);
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.clock = opts.clock ?? wallClock;
    this.compress = opts.compress ?? true;
  }

  /** start runs a rotation pass now and then every interval until stop. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** stop ends the passes and waits for one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs = this.intervalMs): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.rotateLogs()
        .catch((err: unknown) => this.opts.log.error('Failed to rotate logs', { err: err instanceof Error ? err : String(err) }))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, delayMs);
  }

  /** rotateLogs makes one pass over the running containers; one container's trouble does not stop the others. */
  async rotateLogs(): Promise<void> {
    const containers = await this.opts.runtime.listContainers({ state: { state: 'CONTAINER_RUNNING' } });
    for (const c of containers) {
      // The filter is advice to the runtime; only a running container's log is being written.
      if (c.state !== 'CONTAINER_RUNNING') continue;
      try {
        await this.processContainer(c.id);
      } catch (err) {
        this.opts.log.error('Failed to rotate log for container', { containerID: c.id, err: err instanceof Error ? err : String(err) });
      }
    }
  }

  /** processContainer rotates one container's log when it has grown to maxSize. */
  private async processContainer(id: string): Promise<void> {
    const { status } = await this.opts.runtime.containerStatus(id);
    if (!status || status.state !== 'CONTAINER_RUNNING' || !status.log_path) return;
    const path = status.log_path;
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The file is gone (deleted by hand, or a rotation cut short): have the runtime make it again.
      await this.opts.runtime.reopenContainerLog(id);
      size = (await stat(path)).size;
    }
    if (size < this.maxSize) return;
    await this.rotateLog(id, path);
    this.opts.log.v(2).info('Rotated container log', { containerID: id, path, size });
  }

  /** rotateLog tidies the rotated files (drop leftovers and the oldest, compress the rest) and rotates the live one. */
  private async rotateLog(id: string, path: string): Promise<void> {
    const dir = dirname(path);
    const prefix = `${basename(path)}.`;
    let rotated = (await readdir(dir)).filter((f) => f.startsWith(prefix)).map((f) => join(dir, f));
    for (const f of rotated.filter((f) => !isInUse(f, rotated))) await unlink(f);
    rotated = rotated.filter((f) => isInUse(f, rotated)).sort();
    // The live file and the one being rotated now take two of maxFiles.
    const keep = Math.max(0, this.maxFiles - 2);
    while (rotated.length > keep) await unlink(rotated.shift()!);
    if (this.compress) {
      for (const f of rotated) if (!f.endsWith(compressSuffix)) await compressLog(f);
    }
    const target = `${path}.${rotationTimestamp(this.clock.now())}`;
    await rename(path, target);
    try {
      await this.opts.runtime.reopenContainerLog(id);
    } catch (err) {
      // Put the file back so that the next pass tries again, rather than lose the live log.
      await rename(target, path).catch((renameErr: unknown) =>
        this.opts.log.error('Failed to rename rotated log back', { containerID: id, path, err: renameErr instanceof Error ? renameErr : String(renameErr) }),
      );
      throw err;
    }
  }

  /** clean deletes a container's log and every rotated file of it (when the kubelet removes the container). */
  async clean(logPath: string): Promise<void> {
    const dir = dirname(logPath);
    const prefix = `${basename(logPath)}.`;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const f of names) if (f === basename(logPath) || f.startsWith(prefix)) await unlink(join(dir, f)).catch(() => undefined);
  }
}

/** compressLog gzips file into file.gz through a temporary file, then deletes file. */
async function compressLog(file: string): Promise<void> {
  const tmp = file + tmpSuffix;
  await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
  await rename(tmp, file + compressSuffix);
  await unlink(file);
}
