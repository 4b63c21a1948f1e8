#!/usr/bin/env node
// check-import-cycles fails when project modules import each other in a circle, directly or
// through others (CONVENTIONS.md: dependencies point one way). Type-only imports count too: a
// circle of types is still two modules that cannot be read, or moved, one without the other.
// It reads each .ts file's import and export-from declarations with the TypeScript compiler API
// and prints each circle (its modules, one cycle per line); it exits 1 when there is any.
//
//   node scripts/check-import-cycles.mjs

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)(join(root, 'node_modules/typescript'));

/** sourceFiles lists the .ts files tsconfig.json includes. */
function sourceFiles() {
  const { config, error } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config, ts.sys, root).fileNames.map((f) => resolve(f));
}

/** importsOf lists the project files a file imports or re-exports from (relative specifiers only). */
function importsOf(file) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out = [];
  for (const stmt of sf.statements) {
    if (!(ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt))) continue;
    const spec = stmt.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    out.push(resolve(dirname(file), spec.text.replace(/\.js$/, '.ts')));
  }
  return out;
}

/** stronglyConnected returns the graph's strongly connected components of more than one module (Tarjan). */
function stronglyConnected(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const graph = new Map(sourceFiles().map((f) => [f, importsOf(f)]));
const cycles = stronglyConnected(graph);
for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(root, f)).sort().join(' ↔ ')}`);
if (cycles.length > 0) {
  console.error(`check-import-cycles: ${cycles.length} circle(s) of imports; break each (an interface in its own module, or move the shared part down)`);
  process.exit(1);
}
console.log(`check-import-cycles: ${graph.size} files, no import cycles`);
