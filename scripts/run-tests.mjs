#!/usr/bin/env node
// run-tests runs the compiled tests with node's own test runner: the unit tests (every
// *.test.js in dist/ outside dist/test/), then the end-to-end tests (dist/test/**), and exits
// non-zero if anything failed. Node's summary lines are printed for each suite, then one total.
//
//   node scripts/run-tests.mjs [unit|e2e] [FILTER...]
//
// FILTERs keep only test files whose path contains one of them (`run-tests.mjs unit pki`).
// SKIFF_TEST_CONCURRENCY overrides how many test files run at once (unit 2, e2e 1 by default).

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** suites: where each suite's tests are, and how many files may run at once on a 2-core box. */
const suites = {
  unit: { include: (rel) => !rel.startsWith('test/'), concurrency: 2, timeoutMs: 120_000 },
  // End-to-end files each start etcd, an apiserver and more: one at a time.
  e2e: { include: (rel) => rel.startsWith('test/'), concurrency: 1, timeoutMs: 300_000 },
};

function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** testFiles lists a suite's compiled tests whose TypeScript source still exists (dist/ may hold stale output). */
function testFiles(suite, filters) {
  if (!existsSync(dist)) return [];
  return walk(dist)
    .filter((f) => {
      const rel = relative(dist, f);
      return suite.include(rel) && existsSync(join(root, rel.replace(/\.js$/, '.ts')));
    })
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
}

const counters = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

/** runSuite runs node --test over files, echoing its output and reading its summary counts. */
function runSuite(name, suite, files) {
  const concurrency = Number(process.env.SKIFF_TEST_CONCURRENCY ?? suite.concurrency);
  const args = [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${suite.timeoutMs}`,
    '--test-reporter=spec',
    ...files,
  ];
  process.stdout.write(`\n=== ${name} tests (${files.length} files) ===\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const counts = Object.fromEntries(counters.map((c) => [c, 0]));
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        // The spec reporter closes with "ℹ tests 12", "ℹ pass 11", "ℹ fail 1", …
        const m = /^\S+ (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/.exec(line);
        if (m) counts[m[1]] = Number(m[2]);
      }
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), counts }));
  });
}

async function main() {
  const [first, ...rest] = process.argv.slice(2);
  const selected = first === 'unit' || first === 'e2e' ? [first] : ['unit', 'e2e'];
  const filters = first === 'unit' || first === 'e2e' ? rest : process.argv.slice(2);
  if (!existsSync(dist)) {
    console.error('run-tests: dist/ does not exist; build first (bash scripts/setup.sh or npx tsc -p .)');
    process.exit(1);
  }
  const total = Object.fromEntries(counters.map((c) => [c, 0]));
  let failed = false;
  let ranAny = false;
  for (const name of selected) {
    const files = testFiles(suites[name], filters);
    if (files.length === 0) {
      process.stdout.write(`\n=== ${name} tests: none found ===\n`);
      continue;
    }
    ranAny = true;
    const { code, counts } = await runSuite(name, suites[name], files);
    for (const c of counters) total[c] += counts[c];
    if (code !== 0) failed = true;
  }
  if (!ranAny) {
    console.error('run-tests: no test files found');
    process.exit(1);
  }
  let failures = total.fail + total.cancelled;
  if (failures > 0) failed = true;
  // A runner that died without a summary still failed: never print "0 failed" with a failing exit.
  if (failed && failures === 0) failures = 1;
  process.stdout.write(`\ntotal: ${total.pass} passed, ${failures} failed, ${total.skipped} skipped\n`);
  process.exit(failed ? 1 : 0);
}

await main();
