import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

// The compiled test runs from dist/lib/testing; the sources are three levels up.
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const skipped = new Set(['node_modules', 'dist', '.git', 'test']);

/** testOnlyModule: a file named testing.ts is a test-only fixture of its folder (e.g. controllers/deployment/testing.ts). */
function testOnlyModule(name: string): boolean {
  return name === 'testing.ts';
}

/** sources lists the production .ts files under dir. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!skipped.has(e.name)) out.push(...sources(join(dir, e.name)));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') && !testOnlyModule(e.name)) out.push(join(dir, e.name));
  }
  return out;
}

test('production code never imports lib/testing (test doubles stay out of the processes)', () => {
  const offenders = sources(root)
    .filter((f) => !relative(root, f).startsWith(join('lib', 'testing')) && /from '[^']*lib\/testing\/|from '\.\.?\/testing\//.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f));
  assert.deepEqual(offenders, []);
});
