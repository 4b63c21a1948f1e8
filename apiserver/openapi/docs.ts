// Descriptions: client-node keeps the OpenAPI text Kubernetes generated its models from as doc
// comments in its `.d.ts` files; they become the descriptions `kubectl explain` prints.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let modelsDir: string | undefined | null;

/** docsDir locates client-node's generated model declarations, whose doc comments hold the field descriptions. */
function docsDir(): string | undefined {
  if (modelsDir === undefined) {
    try {
      modelsDir = fileURLToPath(new URL('./', import.meta.resolve('@kubernetes/client-node/dist/gen/models/all.js')));
    } catch {
      modelsDir = null;
    }
  }
  return modelsDir ?? undefined;
}

/** ModelDocs are the descriptions of a model and its fields (by TypeScript property name). */
export interface ModelDocs {
  description?: string;
  fields: Map<string, string>;
}

const docsCache = new Map<string, ModelDocs>();

function unescapeDoc(lines: string[]): string {
  return lines
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .join('\n')
    .trim()
    .replace(/\\(['"\\])/g, '$1');
}

/**
 * modelDocs reads the descriptions client-node keeps as doc comments in its `.d.ts` files (the
 * OpenAPI text Kubernetes generated them from), so `kubectl explain` has something to print.
 * Missing files give empty docs: descriptions are a courtesy, never required.
 */
export function modelDocs(model: string): ModelDocs {
  const cached = docsCache.get(model);
  if (cached) return cached;
  const docs: ModelDocs = { fields: new Map() };
  docsCache.set(model, docs);
  const dir = docsDir();
  if (!dir || !/^\w+$/.test(model)) return docs;
  let text: string;
  try {
    text = readFileSync(`${dir}${model}.d.ts`, 'utf8');
  } catch {
    return docs;
  }
  const lines = text.split('\n');
  let comment: string[] | undefined;
  let inComment = false;
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('/**')) {
      inComment = true;
      comment = [];
      const rest = t.slice(3).replace(/\*\/$/, '');
      if (rest.trim()) comment.push(rest);
      if (t.endsWith('*/') && t.length > 3) inComment = false;
      continue;
    }
    if (inComment) {
      if (t.endsWith('*/')) {
        inComment = false;
        const rest = t.replace(/\*\/$/, '');
        if (rest.trim() && rest.trim() !== '*') comment!.push(rest);
      } else comment!.push(t);
      continue;
    }
    if (t.startsWith('export declare class')) {
      if (comment?.length) docs.description = unescapeDoc(comment);
      comment = undefined;
      continue;
    }
    const prop = /^'([^']+)'\??:/.exec(t);
    if (prop && /^ {4}'/.test(line)) {
      if (comment?.length) docs.fields.set(prop[1], unescapeDoc(comment));
      comment = undefined;
      continue;
    }
    if (t) comment = undefined;
  }
  return docs;
}
