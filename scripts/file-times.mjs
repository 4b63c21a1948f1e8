// file-times is a node --test reporter beside spec: at the end of a run it prints each test
// file's time, slowest first, so that a CI log says which end-to-end files make the suite long
// (run-tests.mjs starts its slowFirst files first). A file's time is the sum of its top-level
// tests and suites (they run one after another; hooks of a suite count, module loading does
// not): the runner reports files in order, not as they run, so event arrival times say nothing.

import { relative } from 'node:path';

/** fileTimes sums each file's top-level test durations and prints them once the run ends. */
export default async function* fileTimes(source) {
  const files = new Map();
  for await (const ev of source) {
    if ((ev.type !== 'test:pass' && ev.type !== 'test:fail') || ev.data.nesting !== 0 || !ev.data.file) continue;
    // A test inside a file is named by its source-mapped path; the file itself by its compiled one.
    const f = relative(process.cwd(), ev.data.file).replace(/^dist\//, '').replace(/\.js$/, '.ts');
    files.set(f, (files.get(f) ?? 0) + (ev.data.details?.duration_ms ?? 0) / 1000);
  }
  const rows = [...files].sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return;
  yield `\ntime per test file, slowest first (${rows.length} files, sum ${rows.reduce((s, r) => s + r[1], 0).toFixed(0)} s):\n`;
  for (const [f, s] of rows) yield `  ${s.toFixed(1).padStart(7)} s  ${f}\n`;
}
