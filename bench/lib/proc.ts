// Reading another process's resident memory and CPU time from /proc (Linux), so a benchmark can
// say what the apiserver and etcd cost while it drives them.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** clockTicksPerSecond is USER_HZ, which is 100 on every Linux architecture Node runs on. */
const clockTicksPerSecond = 100;

/** parseVmRSS reads VmRSS (bytes) out of /proc/<pid>/status text; NaN when absent. */
export function parseVmRSS(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * parseCPUSeconds reads utime + stime out of /proc/<pid>/stat text. The command name (field 2)
 * may hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseCPUSeconds(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clockTicksPerSecond;
}

/** rssBytes is a process's resident set size now; NaN if it cannot be read. */
export function rssBytes(pid: number): number {
  try {
    return parseVmRSS(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** cpuSeconds is the CPU time a process has used so far; NaN if it cannot be read. */
export function cpuSeconds(pid: number): number {
  try {
    return parseCPUSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** CPUMeter measures the share of one core each watched process used between start and read. */
export class CPUMeter {
  private t0 = 0;
  private start = new Map<string, number>();

  constructor(private readonly pids: Record<string, number>) {
    this.reset();
  }

  reset(): void {
    this.t0 = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) this.start.set(name, cpuSeconds(pid));
    this.start.set('bench', process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6);
  }

  /** sample returns the wall time and each watched process's CPU seconds since the last reset. */
  sample(): CPUSample {
    const cpu: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) cpu[name] = cpuSeconds(pid) - this.start.get(name)!;
    const u = process.cpuUsage();
    cpu.bench = u.user / 1e6 + u.system / 1e6 - this.start.get('bench')!;
    return { wallSeconds: (performance.now() - this.t0) / 1000, cpu };
  }

  /** read returns, per process, its CPU use as a percentage of one core since the last reset. */
  read(): Record<string, number> {
    return cpuPercent([this.sample()]);
  }

  /** describe is read() as "apiserver 95%, etcd 30%, bench 60%". */
  describe(): string {
    return describeCPU(this.read());
  }
}

/** CPUSample is CPU seconds per process over a stretch of wall time. */
export interface CPUSample {
  wallSeconds: number;
  cpu: Record<string, number>;
}

/** cpuPercent adds samples up and returns each process's CPU as a percentage of one core. */
export function cpuPercent(samples: readonly CPUSample[]): Record<string, number> {
  const wall = samples.reduce((a, s) => a + s.wallSeconds, 0);
  const out: Record<string, number> = {};
  for (const s of samples) for (const [name, sec] of Object.entries(s.cpu)) out[name] = (out[name] ?? 0) + sec;
  for (const name of Object.keys(out)) out[name] = (out[name]! / wall) * 100;
  return out;
}

/** describeCPU prints percentages as "apiserver 95%, etcd 30%, bench 60%". */
export function describeCPU(pct: Record<string, number>): string {
  return Object.entries(pct)
    .map(([name, v]) => `${name} ${Number.isFinite(v) ? Math.round(v) : '?'}%`)
    .join(', ');
}
