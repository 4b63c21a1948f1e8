// `skiff logs <component> [-f]`: print a component's log file, optionally following it as
// `tail -f` does (also across truncation).

import { closeSync, createReadStream, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { components } from '../lib/process/components.js';
import { contextFor, defaultConfig, loadConfig, logFile } from '../lib/process/cluster.js';
import { sleep, tailLines } from '../lib/process/supervisor.js';
import { homeFlag, intFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Print the logs of a skiff component.

Usage:
  skiff logs COMPONENT [flags]

Components: ${components.map((c) => c.name).join(', ')}

Flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
  -f, --follow     keep printing new lines as they are written
      --tail N     print only the last N lines (default: all)
  -h, --help       show this help
`;

async function logs(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { ...homeFlag, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' } } as const,
    true,
  );
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected exactly one component name');
  const name = positionals[0]!;
  const home = resolveHome(values.home);
  const ctx = contextFor(loadConfig(home) ?? defaultConfig(home));
  const path = logFile(ctx, name);
  if (!existsSync(path)) {
    const known = components.map((c) => c.name).join(', ');
    process.stderr.write(`error: no log for "${name}" at ${path} (components: ${known})\n`);
    return 1;
  }
  const tail = intFlag('--tail', values.tail, 0, Number.MAX_SAFE_INTEGER);
  let offset: number;
  if (tail !== undefined) {
    const lines = tailLines(path, tail);
    if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
    offset = sizeOf(path);
  } else {
    offset = await copyAll(path);
  }
  if (!values.follow) return 0;
  for (;;) {
    await sleep(250);
    const size = sizeOf(path);
    if (size < offset) offset = 0; // truncated or replaced: start over, as tail -F does
    if (size > offset) offset = copyRange(path, offset, size);
  }
}

function sizeOf(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** copyAll streams the whole file to stdout and returns how many bytes it wrote. */
function copyAll(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = createReadStream(path);
    s.on('data', (chunk) => {
      n += chunk.length;
      process.stdout.write(chunk);
    });
    s.on('end', () => resolve(n));
    s.on('error', reject);
  });
}

function copyRange(path: string, from: number, to: number): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    process.stdout.write(buf.subarray(0, n));
    return from + n;
  } finally {
    closeSync(fd);
  }
}

/** logsCommand is `skiff logs`. */
export const logsCommand: CommandSpec = { name: 'logs', summary: "Print a component's log (-f to follow)", usage, run: logs };
