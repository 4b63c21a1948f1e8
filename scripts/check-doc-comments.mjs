#!/usr/bin/env node
// check-doc-comments checks that every doc comment on a top-level declaration (function, class,
// interface, type, enum, const/let/var; exported or not) starts with the name of the symbol it
// documents, as CONVENTIONS.md asks: a comment that names another symbol was left behind by a
// rename. Members of classes and interfaces are not checked. It reads the sources with the TypeScript compiler API and prints
// file:line for each mismatch; it exits 1 when there is any.
//
//   node scripts/check-doc-comments.mjs [FILE...]
//
// Without FILEs it checks every .ts file the project's tsconfig.json includes. The first word is
// the leading identifier of the comment's text (`foo` in "foo is…", "foo: …", "`foo` returns…").

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)(join(root, 'node_modules/typescript'));

/** sourceFiles lists the .ts files tsconfig.json includes. */
function sourceFiles() {
  const configPath = join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config, ts.sys, root).fileNames;
}

/** docText is the text of the last JSDoc comment attached to node, or undefined. */
function docText(node) {
  const docs = node.jsDoc;
  if (!docs || docs.length === 0) return undefined;
  const doc = docs[docs.length - 1];
  const c = doc.comment;
  if (c === undefined) return '';
  return typeof c === 'string' ? c : c.map((part) => part.text ?? '').join('');
}

/** firstWord is the comment's leading identifier, backquotes aside. */
function firstWord(text) {
  const m = /^\s*`?([A-Za-z_$][\w$]*)/.exec(text);
  return m ? m[1] : '';
}

/** nameOf is the declared name of a declaration node, undefined when it has none we check. */
function nameOf(node) {
  if (ts.isVariableStatement(node)) {
    const d = node.declarationList.declarations[0];
    return d && ts.isIdentifier(d.name) ? d.name.text : undefined;
  }
  return node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
}

const topLevel = (n) =>
  ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n) || ts.isEnumDeclaration(n) || ts.isVariableStatement(n);

/** checkFile returns one "file:line: …" line per doc comment that does not start with its symbol's name. */
function checkFile(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const problems = [];
  const check = (node) => {
    const doc = docText(node);
    const name = nameOf(node);
    if (doc === undefined || name === undefined) return;
    const word = firstWord(doc);
    if (word !== name) {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      problems.push(`${relative(root, file)}:${line + 1}: doc comment of ${name} starts with ${JSON.stringify(word || doc.slice(0, 20))}`);
    }
  };
  for (const stmt of sf.statements) {
    if (!topLevel(stmt)) continue;
    check(stmt);
  }
  return problems;
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => join(process.cwd(), f)) : sourceFiles();
const problems = files.flatMap(checkFile);
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`check-doc-comments: ${problems.length} doc comment(s) do not start with the name of the symbol they document`);
  process.exit(1);
}
console.log(`check-doc-comments: ${files.length} files, every doc comment names its symbol`);
