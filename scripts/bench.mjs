#!/usr/bin/env node
// bench runs one benchmark: `npm run bench -- <name> [options]` runs dist/bench/<name>.js (the
// compiled bench/<name>.ts) with the remaining arguments, and exits with its status. Without a
// name, or with an unknown one, it lists the benchmarks there are and exits non-zero.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'bench');
const compiled = join(root, 'dist', 'bench');

/** available lists the benchmarks: every top-level bench/<name>.ts that is not a test. */
function available() {
  if (!existsSync(sources)) return [];
  return readdirSync(sources, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => e.name.slice(0, -'.ts'.length))
    .sort();
}

function usage(stream, problem) {
  const names = available();
  if (problem) stream.write(`${problem}\n\n`);
  stream.write('usage: npm run bench -- <name> [options]\n\n');
  stream.write(names.length ? `benchmarks:\n${names.map((n) => `  ${n}`).join('\n')}\n` : 'no benchmarks found in bench/\n');
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '-h' || name === '--help') {
  usage(name ? process.stdout : process.stderr, name ? undefined : 'bench: which benchmark?');
  process.exit(name ? 0 : 2);
}
if (!available().includes(name)) {
  usage(process.stderr, `bench: unknown benchmark ${JSON.stringify(name)}`);
  process.exit(2);
}
const entry = join(compiled, `${name}.js`);
if (!existsSync(entry)) {
  process.stderr.write(`bench: ${entry} is missing; build first with \`npx tsc -p .\` (or \`npm run build\`)\n`);
  process.exit(2);
}

const child = spawn(process.execPath, ['--enable-source-maps', entry, ...args], { cwd: root, stdio: 'inherit' });
// A terminal's Ctrl-C reaches the whole process group: the benchmark gets it too and cleans up
// (stops its etcd and apiserver). Forward other termination signals, and wait for it to finish.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (sig !== 'SIGINT') child.kill(sig);
  });
}
child.on('error', (err) => {
  process.stderr.write(`bench: cannot run ${entry}: ${err.message}\n`);
  process.exit(1);
});
child.on('close', (code, signal) => {
  if (code !== 0) process.stderr.write(`bench: ${name} ${signal ? `ended by ${signal}` : `exited with status ${code}`}\n`);
  process.exit(code ?? 1);
});
