// Request paths, read the way kube-apiserver reads them: split into segments first, each segment
// percent-decoded on its own, nothing normalised. `..` is never resolved into the parent resource;
// a name or namespace that could not be an object's path segment is refused before anything acts.

import { badRequest } from '../../lib/machinery/status.js';

/** RequestPath is a request target split into its decoded path segments and its query. */
export interface RequestPath {
  /** pathname is the raw path, as sent (for logs and non-resource routes). */
  pathname: string;
  /** segments are the decoded, non-empty path segments. */
  segments: string[];
  query: URLSearchParams;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * decodeSegment percent-decodes one path segment. A `%` not followed by two hex digits is Go's
 * `invalid URL escape`, and bytes that are not UTF-8 cannot name anything: both are 400s, never a
 * thrown URIError.
 */
export function decodeSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw badRequest(`invalid URL escape ${JSON.stringify(raw.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(raw[i]!, 'utf8'));
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw badRequest(`invalid URL escape in ${JSON.stringify(raw)}: not UTF-8`);
  }
}

/** parseRequestPath splits a request target (`/api/v1/…?query`) without resolving dot segments. */
export function parseRequestPath(target: string): RequestPath {
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const segments = pathname.split('/').filter((s) => s !== '').map(decodeSegment);
  return { pathname, segments, query };
}

/** nameMayNotBe and nameMayNotContain are apimachinery's path segment rules (validation/path). */
const nameMayNotBe = ['.', '..'];
const nameMayNotContain = ['/', '%'];

/** isValidPathSegmentName returns why a name cannot be one segment of an object's path (none if it can). */
export function isValidPathSegmentName(name: string): string[] {
  for (const bad of nameMayNotBe) if (name === bad) return [`may not be '${bad}'`];
  const out: string[] = [];
  for (const bad of nameMayNotContain) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}
