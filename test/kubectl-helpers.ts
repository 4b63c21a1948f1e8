// Helpers shared by the end-to-end tests that drive the real kubectl: run it, require success or
// failure with kubectl's own output in the assertion message, and read its tables.

import assert from 'node:assert/strict';
import type { Cluster, CommandResult, KubectlOptions } from './harness.js';

export interface KubectlHelpers {
  /** k runs kubectl; `input` is stdin, or full options. */
  k(args: string[], input?: string | KubectlOptions): Promise<CommandResult>;
  /** ok runs kubectl, fails the test with its stderr on a non-zero exit, and returns stdout. */
  ok(args: string[], input?: string | KubectlOptions): Promise<string>;
  /** fails runs kubectl expecting a non-zero exit and returns stderr. */
  fails(args: string[], input?: string | KubectlOptions): Promise<string>;
}

/** kubectlHelpers binds the helpers to a cluster that a `before` hook starts later. */
export function kubectlHelpers(cluster: () => Cluster): KubectlHelpers {
  const k = (args: string[], input?: string | KubectlOptions) => cluster().kubectl(args, typeof input === 'string' ? { input } : (input ?? {}));
  return {
    k,
    async ok(args, input) {
      const r = await k(args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    },
    async fails(args, input) {
      const r = await k(args, input);
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} unexpectedly succeeded:\n${r.stdout}`);
      return r.stderr;
    },
  };
}

/** header is a kubectl table's column names. */
export function header(table: string): string[] {
  return table.split('\n')[0].trim().split(/\s{2,}/);
}

/** row is the cells of the table row that names `name`. */
export function row(table: string, name: string): string[] {
  const line = table.split('\n').find((l) => l.split(/\s+/).includes(name));
  assert.ok(line, `no row for ${name} in:\n${table}`);
  return line.trim().split(/\s{2,}/);
}

/** until polls cond until it holds, failing the test after ms. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}
