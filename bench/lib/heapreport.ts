// heapreport is preloaded into the cluster's Node processes by `npm run bench -- footprint
// --heap=1` (NODE_OPTIONS=--import=…): on SIGUSR2 a process writes where its memory is to
// $SKIFF_HEAP_REPORT_DIR/<pid>.json, before and after a full garbage collection: V8's heap spaces,
// bytecode and code, and what lives outside the heap (external, array buffers). It does nothing
// else, and nothing at all without the variable.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

const dir = process.env.SKIFF_HEAP_REPORT_DIR;

/** HeapReport is one process's memory as V8 and Node see it (bytes). */
export interface HeapReport {
  pid: number;
  argv: string[];
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
  /** spaces are V8's heap spaces after the collection: name → used bytes / committed bytes. */
  spaces: Record<string, { used: number; size: number }>;
  /** code is V8's code statistics: bytecode and metadata, compiled code, external scripts. */
  code: v8.HeapCodeStatistics;
}

if (dir) {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage();
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    gc();
    const report: HeapReport = {
      pid: process.pid,
      argv: process.argv,
      before,
      after: process.memoryUsage(),
      spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, size: s.space_size }])),
      code: v8.getHeapCodeStatistics(),
    };
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(report));
  });
}
