// Continue tokens for paged lists: base64 of {"v":"meta.k8s.io/v1","rv":<revision>,"start":<key
// relative to the list prefix>}, the same shape kube-apiserver uses, so a list stays consistent at
// one revision across pages.

import { badRequest } from '../../lib/machinery/status.js';

export interface ContinueToken {
  revision: number;
  /** startKey is the absolute key to resume from (inclusive). */
  startKey: string;
}

export function encodeContinue(revision: number, nextKey: string, prefix: string): string {
  const start = nextKey.startsWith(prefix) ? nextKey.slice(prefix.length) : nextKey;
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start })).toString('base64url');
}

export function decodeContinue(token: string, prefix: string): ContinueToken {
  let parsed: { v?: string; rv?: number; start?: string };
  try {
    const text = Buffer.from(token, 'base64url').toString('utf8');
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`invalid continue token: continue key is not valid: ${token}`);
  }
  if (parsed.v !== 'meta.k8s.io/v1') throw badRequest('invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof parsed.rv !== 'number' || parsed.rv <= 0) throw badRequest('invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof parsed.start !== 'string' || parsed.start.length === 0) throw badRequest('invalid continue token: continue key is not valid: encoded start key empty');
  // The start key is relative: refuse anything that would escape the list's prefix.
  if (parsed.start.startsWith('/') || parsed.start.split('/').includes('..')) throw badRequest('invalid continue token: continue key is not valid: encoded start key is not valid');
  return { revision: parsed.rv, startKey: prefix + parsed.start };
}
