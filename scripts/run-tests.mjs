#!/usr/bin/env node
// run-tests runs the compiled tests with node's own test runner, one `node --test` per suite:
// first the unit tests (every *.test.js in dist/ outside dist/test/), then the end-to-end tests
// (dist/test/**, which start real etcd and apiserver processes). Each runner prints its own
// closing summary ("ℹ tests 212", "ℹ pass 212", "ℹ fail 0", …) and its exit code decides: this
// script exits non-zero when any runner did, and reads nothing from their output.
//
//   node scripts/run-tests.mjs [unit|e2e] [FILTER...]
//
// FILTERs keep only test files whose path contains one of them (`run-tests.mjs unit pki`).
// SKIFF_TEST_CONCURRENCY overrides how many test files of a suite run at once.
// This script runs what dist/ holds: `npm test` builds dist/ from clean first, so that a deleted
// or renamed test never runs from a stale build; here a compiled test whose .ts source is gone is
// skipped as well.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** suites says where each suite's tests are and how many files may run at once on a 2-core box. */
const suites = {
  unit: { include: (rel) => !rel.startsWith('test/'), concurrency: 2, timeoutMs: 120_000 },
  // Each end-to-end file starts its own etcd, apiserver and more on free ports in a temp home, so
  // files are independent. Two at a time measured 447 s against 695 s one at a time for the same
  // 168 tests, both green, on 2 cores under a load average of 15-24 from other work; most of an
  // end-to-end file's time is waiting (grace periods, leases, sync periods). With 76 files on the
  // quiet 2-core machine, the whole e2e suite took 756 s three at a time (70% of both cores busy)
  // and 678 s four at a time (74%), both green: four.
  e2e: { include: (rel) => rel.startsWith('test/'), concurrency: 4, timeoutMs: 300_000 },
};

/**
 * slowFirst are the end-to-end files that take longest, slowest first (file-times.mjs' table from
 * a run four at a time: lab 136 s … statefulset 27 s): they start first, so the files run side by
 * side finish at about the same time instead of one long file running alone at the end.
 */
const slowFirst = ['lab', 'batch', 'lab-controlplane', 'node-flow', 'incluster', 'faults', 'lifecycle', 'flow', 'kubelet-faults', 'daemonset', 'serviceaccount-token-pod', 'disruption', 'kubelet-batch', 'service-flow', 'join', 'join-controlplane', 'node-up', 'ha', 'kubelet-node', 'cli', 'autoscaling', 'kubelet-pods', 'fuzz', 'bootstrap-token', 'gc', 'kit', 'kubelet-config-errors', 'storage-node', 'statefulset'];

/** order puts the slowFirst files (by their base name) ahead of the rest, both in path order. */
function order(files) {
  const rank = (f) => {
    const i = slowFirst.indexOf(f.split('/').pop().replace(/\.test\.js$/, ''));
    return i < 0 ? slowFirst.length : i;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** walk lists the *.test.js files under dir. */
function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** testFiles lists a suite's compiled tests whose TypeScript source exists, kept by filters. */
function testFiles(suite, filters) {
  return walk(dist)
    .filter((f) => {
      const rel = relative(dist, f);
      return suite.include(rel) && existsSync(join(root, rel.replace(/\.js$/, '.ts')));
    })
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
}

/** runSuite runs node --test over files with the terminal attached, and returns its exit status. */
function runSuite(name, suite, files) {
  const concurrency = Number(process.env.SKIFF_TEST_CONCURRENCY ?? suite.concurrency);
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
  if (name === 'e2e') reporters.push(`--test-reporter=${join(root, 'scripts', 'file-times.mjs')}`, '--test-reporter-destination=stdout');
  const args = ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${suite.timeoutMs}`, ...reporters, ...files];
  process.stdout.write(`\n=== ${name} tests: ${files.length} files, ${concurrency} at a time ===\n`);
  const { status, signal, error } = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (error) throw error;
  return signal ? 1 : (status ?? 1);
}

const [first, ...rest] = process.argv.slice(2);
const chosen = first === 'unit' || first === 'e2e';
const selected = chosen ? [first] : ['unit', 'e2e'];
const filters = chosen ? rest : process.argv.slice(2);
if (!existsSync(dist)) {
  console.error('run-tests: dist/ does not exist; build first (npm test does, or: node node_modules/typescript/bin/tsc -p tsconfig.json)');
  process.exit(1);
}
const failed = [];
let ran = 0;
for (const name of selected) {
  const files = order(testFiles(suites[name], filters));
  if (files.length === 0) {
    process.stdout.write(`\n=== ${name} tests: none found ===\n`);
    continue;
  }
  ran++;
  if (runSuite(name, suites[name], files) !== 0) failed.push(name);
}
if (ran === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
if (failed.length > 0) {
  console.error(`run-tests: the ${failed.join(' and ')} suite${failed.length > 1 ? 's' : ''} failed (see node's summary above)`);
  process.exit(1);
}
