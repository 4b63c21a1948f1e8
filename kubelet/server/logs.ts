// Container logs as the kubelet serves them (pkg/kubelet/kuberuntime/logs): the runtime writes
// CRI log files, one line per chunk `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`, where a
// long line is split into P (partial) chunks closed by an F (full) one. The pure part here turns
// file bytes into log messages and applies the options of `kubectl logs` (--since, --tail,
// --timestamps, --limit-bytes); streamContainerLog reads a file (and follows it across rotation).

import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** LogStream is the output stream a log line came from. */
export type LogStream = 'stdout' | 'stderr';

/** LogMessage is one whole line of a container's output (P chunks joined), its text ending in "\n". */
export interface LogMessage {
  /** time is the runtime's timestamp (RFC3339Nano) of the line's first chunk. */
  time: string;
  stream: LogStream;
  content: Buffer;
}

/** CriLogLine is one parsed line of a CRI log file. */
export interface CriLogLine {
  time: string;
  stream: LogStream;
  partial: boolean;
  content: Buffer;
}

/** CriLogParseError is a line that is not in the CRI log format. */
export class CriLogParseError extends Error {
  override name = 'CriLogParseError';
}

/** parseCriLogLine parses one line of a CRI log file (without its newline). */
export function parseCriLogLine(line: Buffer): CriLogLine {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  if (s1 <= 0 || s2 < 0) throw new CriLogParseError(`invalid CRI log line: ${JSON.stringify(line.subarray(0, 80).toString())}`);
  const time = line.subarray(0, s1).toString();
  const stream = line.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') throw new CriLogParseError(`unexpected stream type ${JSON.stringify(stream)}`);
  // The tag is P or F, possibly followed by `:`-separated extras; an old runtime may leave it out.
  const s3 = line.indexOf(0x20, s2 + 1);
  const tagEnd = s3 < 0 ? line.length : s3;
  const tag = line.subarray(s2 + 1, tagEnd).toString();
  const tags = tag.split(':');
  if (tags[0] === 'P' || tags[0] === 'F') {
    return { time, stream, partial: tags[0] === 'P', content: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1) };
  }
  return { time, stream, partial: false, content: line.subarray(s2 + 1) };
}

/**
 * LogAssembler turns CRI log file bytes, fed in pieces of any size, into whole messages. A line
 * not yet ended by "\n" waits for the next piece; P chunks wait for their F per stream.
 */
export class LogAssembler {
  private rest: Buffer = Buffer.alloc(0);
  private readonly partial = new Map<LogStream, { time: string; chunks: Buffer[] }>();

  /** push feeds bytes and returns the messages they complete; unparseable lines are skipped. */
  push(bytes: Buffer): LogMessage[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, bytes]) : bytes;
    const out: LogMessage[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      const line = buf.subarray(start, nl);
      start = nl + 1;
      if (!line.length) continue;
      let parsed: CriLogLine;
      try {
        parsed = parseCriLogLine(line);
      } catch {
        continue;
      }
      const pending = this.partial.get(parsed.stream);
      if (parsed.partial) {
        if (pending) pending.chunks.push(Buffer.from(parsed.content));
        else this.partial.set(parsed.stream, { time: parsed.time, chunks: [Buffer.from(parsed.content)] });
        continue;
      }
      this.partial.delete(parsed.stream);
      const chunks = pending ? [...pending.chunks, parsed.content] : [parsed.content];
      out.push({ time: pending?.time ?? parsed.time, stream: parsed.stream, content: Buffer.concat([...chunks, Buffer.from('\n')]) });
    }
    this.rest = Buffer.from(buf.subarray(start));
    return out;
  }
}

/** LogOptions are the kubelet's /containerLogs query parameters (v1.PodLogOptions). */
export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** tailLines: only the last n lines (undefined: all). */
  tailLines?: number;
  /** sinceTime: only lines at or after it (sinceSeconds is turned into one). */
  sinceTime?: Date;
  /** limitBytes: stop after this many bytes of output. */
  limitBytes?: number;
}

/** LogOptionsError is a bad query parameter of /containerLogs. */
export class LogOptionsError extends Error {
  override name = 'LogOptionsError';
}

/** parseLogOptions reads /containerLogs' query as the kubelet does; now is the clock for sinceSeconds. */
export function parseLogOptions(query: URLSearchParams, now = new Date()): LogOptions {
  const bool = (name: string) => {
    const v = query.get(name);
    if (v === null) return false;
    if (v === '' || v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new LogOptionsError(`invalid value for ${name}: ${JSON.stringify(v)}`);
  };
  const int = (name: string, min: number) => {
    const v = query.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new LogOptionsError(`invalid value for ${name}: ${JSON.stringify(v)}`);
    return n;
  };
  const opts: LogOptions = { follow: bool('follow'), previous: bool('previous'), timestamps: bool('timestamps') };
  const tail = int('tailLines', 0);
  if (tail !== undefined) opts.tailLines = tail;
  const limit = int('limitBytes', 1);
  if (limit !== undefined) opts.limitBytes = limit;
  const sinceSeconds = int('sinceSeconds', 1);
  const sinceTime = query.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw new LogOptionsError('at most one of sinceTime or sinceSeconds may be specified');
  if (sinceSeconds !== undefined) opts.sinceTime = new Date(now.getTime() - sinceSeconds * 1000);
  if (sinceTime) {
    const t = new Date(sinceTime);
    if (Number.isNaN(t.getTime())) throw new LogOptionsError(`invalid value for sinceTime: ${JSON.stringify(sinceTime)}`);
    opts.sinceTime = t;
  }
  return opts;
}

/** logTimeMillis reads a CRI timestamp to milliseconds (NaN when unreadable). */
function logTimeMillis(time: string): number {
  return Date.parse(time);
}

/** afterSince says whether a message passes --since/--since-time (whole seconds, as Kubernetes' times are compared). */
export function afterSince(msg: LogMessage, since: Date | undefined): boolean {
  if (!since) return true;
  const t = logTimeMillis(msg.time);
  return Number.isNaN(t) || t >= since.getTime();
}

/** formatMessage renders a message as kubectl shows it: with --timestamps, its time and a space first. */
export function formatMessage(msg: LogMessage, timestamps: boolean): Buffer {
  return timestamps ? Buffer.concat([Buffer.from(`${msg.time} `), msg.content]) : msg.content;
}

/** selectMessages applies --since then --tail to the messages of a log file. */
export function selectMessages(messages: LogMessage[], opts: Pick<LogOptions, 'sinceTime' | 'tailLines'>): LogMessage[] {
  const since = messages.filter((m) => afterSince(m, opts.sinceTime));
  if (opts.tailLines === undefined) return since;
  return opts.tailLines === 0 ? [] : since.slice(-opts.tailLines);
}

/** LimitedWriter writes to out until limitBytes are out, then reports itself full. */
export class LimitedWriter {
  private written = 0;
  constructor(
    private readonly out: Writable,
    private readonly limitBytes: number | undefined,
  ) {}

  /** full says that the limit has been reached. */
  get full(): boolean {
    return this.limitBytes !== undefined && this.written >= this.limitBytes;
  }

  /** write writes as much of chunk as the limit allows; resolves when out can take more. */
  async write(chunk: Buffer): Promise<void> {
    if (this.full) return;
    const piece = this.limitBytes === undefined ? chunk : chunk.subarray(0, this.limitBytes - this.written);
    this.written += piece.length;
    if (!this.out.write(piece)) await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('close', done);
    });
  }
}

/** FollowOptions tell streamContainerLog when to stop following. */
export interface FollowOptions {
  /** running says whether the container still runs; following ends once it does not and the file is read. */
  running(): Promise<boolean>;
  /** signal ends following (the client went away). */
  signal: AbortSignal;
  /** pollMs is how often a quiet file is looked at again (default 250 ms). */
  pollMs?: number;
}

const readChunk = 64 * 1024;

/** readFrom reads a file handle from pos to its current end. */
async function readFrom(fh: FileHandle, pos: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(readChunk);
    const { bytesRead } = await fh.read(buf, 0, readChunk, pos);
    if (bytesRead === 0) break;
    parts.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return Buffer.concat(parts);
}

/**
 * streamContainerLog writes a container's log file to out as the options say. With follow it
 * keeps reading new lines until the container stops or the signal fires; when the file is
 * rotated (a new file at the same path), it reads the old one to its end and goes on with the new.
 */
export async function streamContainerLog(path: string, opts: LogOptions, out: Writable, follow?: FollowOptions): Promise<void> {
  const writer = new LimitedWriter(out, opts.limitBytes);
  let fh = await open(path, 'r');
  try {
    const assembler = new LogAssembler();
    const initial = await readFrom(fh, 0);
    let pos = initial.length;
    for (const msg of selectMessages(assembler.push(initial), opts)) {
      await writer.write(formatMessage(msg, opts.timestamps));
      if (writer.full) return;
    }
    if (!opts.follow || !follow) return;
    const pollMs = follow.pollMs ?? 250;
    let quietSince = Date.now();
    while (!follow.signal.aborted && !writer.full) {
      const more = await readFrom(fh, pos);
      if (more.length) {
        pos += more.length;
        quietSince = Date.now();
        for (const msg of assembler.push(more)) {
          if (!afterSince(msg, opts.sinceTime)) continue;
          await writer.write(formatMessage(msg, opts.timestamps));
          if (writer.full) return;
        }
        continue;
      }
      // Rotated: the path names another file now. Lines may have reached the old file between
      // the read above and the stat, so it is read to its end before the new one is opened.
      const [cur, now] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
      if (now && now.ino !== cur.ino) {
        const rest = await readFrom(fh, pos);
        for (const msg of assembler.push(rest)) {
          if (!afterSince(msg, opts.sinceTime)) continue;
          await writer.write(formatMessage(msg, opts.timestamps));
          if (writer.full) return;
        }
        await fh.close();
        fh = await open(path, 'r');
        pos = 0;
        continue;
      }
      // The container's state is asked once a quiet second, not on every poll.
      if (Date.now() - quietSince >= 1000) {
        if (!(await follow.running())) {
          const last = await readFrom(fh, pos);
          for (const msg of assembler.push(last)) if (afterSince(msg, opts.sinceTime)) await writer.write(formatMessage(msg, opts.timestamps));
          return;
        }
        quietSince = Date.now();
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          follow.signal.removeEventListener('abort', onAbort);
          resolve();
        }, pollMs);
        follow.signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    await fh.close();
  }
}
