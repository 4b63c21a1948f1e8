// AuditLogWriter appends audit events, one JSON line each, to the audit log without costing a
// disk write per request: lines are gathered in memory and written in one append per batch (every
// flushIntervalMs, or at once past flushBytes), and by stop(). The file rotates by size as
// kube-apiserver's (lumberjack) does: past --audit-log-maxsize megabytes it is renamed to
// <name>-<timestamp><ext> and a new one started; only the newest --audit-log-maxbackup are kept.

import { closeSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { write } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Logger } from '../../lib/log.js';

/** AuditLogOptions are kube-apiserver's --audit-log-* flags. */
export interface AuditLogOptions {
  /** path is the log file; '-' writes to standard output. */
  path: string;
  /** maxSizeMB rotates the file once it would pass this size (0: never). */
  maxSizeMB: number;
  /** maxBackups is how many rotated files are kept (0: all). */
  maxBackups: number;
  /** flushIntervalMs bounds how long a line waits in memory (default 50 ms). */
  flushIntervalMs?: number;
  log?: Logger;
}

/** flushBytes: a batch this large is written at once rather than waiting for the timer. */
const flushBytes = 1 << 20;

export class AuditLogWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer?: NodeJS.Timeout;
  private writing = false;
  private fd: number;
  private size = 0;
  private stopped = false;
  private readonly maxBytes: number;

  constructor(private readonly opts: AuditLogOptions) {
    this.maxBytes = opts.maxSizeMB * 1024 * 1024;
    if (opts.path === '-') {
      this.fd = 1;
    } else {
      mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      this.fd = openSync(opts.path, 'a', 0o600);
      this.size = statSync(opts.path).size;
    }
  }

  /** write queues one line (without its newline). */
  write(line: string): void {
    if (this.stopped) return;
    this.pending.push(line + '\n');
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= flushBytes) this.flushSoon(0);
    else this.flushSoon(this.opts.flushIntervalMs ?? 50);
  }

  private flushSoon(ms: number): void {
    if (this.writing) return;
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
    this.timer.unref();
  }

  /** flush writes what is queued in one append; a batch queued meanwhile follows when it is done. */
  private flush(): void {
    if (this.writing || this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    this.rotateIfNeeded(data.length);
    this.writing = true;
    write(this.fd, data, 0, data.length, null, (err) => {
      this.writing = false;
      if (err) this.opts.log?.error('Writing the audit log failed', { path: this.opts.path, err });
      else this.size += data.length;
      if (this.pending.length > 0) this.flushSoon(this.pendingBytes >= flushBytes ? 0 : (this.opts.flushIntervalMs ?? 50));
    });
  }

  private rotateIfNeeded(incoming: number): void {
    if (this.fd === 1 || this.maxBytes <= 0 || this.size === 0 || this.size + incoming <= this.maxBytes) return;
    const path = this.opts.path;
    const ext = extname(path);
    const stem = basename(path, ext);
    // lumberjack's backup name: audit-2006-01-02T15-04-05.000.log
    const stamp = new Date().toISOString().replace(/:/g, '-').replace('Z', '');
    try {
      closeSync(this.fd);
      renameSync(path, join(dirname(path), `${stem}-${stamp}${ext}`));
    } catch (err) {
      this.opts.log?.error('Rotating the audit log failed', { path, err: err as Error });
    }
    this.fd = openSync(path, 'a', 0o600);
    this.size = 0;
    if (this.opts.maxBackups > 0) {
      const backups = readdirSync(dirname(path))
        .filter((f) => f.startsWith(`${stem}-`) && f.endsWith(ext))
        .sort();
      for (const old of backups.slice(0, Math.max(0, backups.length - this.opts.maxBackups))) {
        try {
          unlinkSync(join(dirname(path), old));
        } catch {
          // gone already
        }
      }
    }
  }

  /** stop writes whatever is still queued, synchronously, and closes the file. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const data = Buffer.from(this.pending.join(''));
    this.pending = [];
    // A batch may still be in flight: appending after it keeps the order (O_APPEND).
    if (data.length > 0) {
      if (!this.writing) this.rotateIfNeeded(data.length);
      writeSync(this.fd, data);
    }
    if (this.fd !== 1) {
      const fd = this.fd;
      // Close once an in-flight write has finished with the descriptor.
      const close = () => (this.writing ? setTimeout(close, 5) : closeSync(fd));
      close();
    }
  }
}
