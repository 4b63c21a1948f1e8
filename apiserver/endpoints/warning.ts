// Warnings: what a request did that works but should not (a deprecated version, an unknown field
// under fieldValidation=Warn, a pod spec that will not do what it says) reaches the client as
// RFC 7234 `Warning: 299 - "text"` headers, which kubectl prints and --warnings-as-errors fails
// on. Each response has one recorder (k8s.io/apiserver's warning recorder filter): anything along
// the way adds texts, the recorder drops repeats and bounds their size as kube-apiserver does,
// and keeps the response's Warning header current until the headers are sent.

import type { ServerResponse } from 'node:http';

/** truncateAtTotalRunes and truncateItemRunes are kube-apiserver's warning size limits. */
const truncateAtTotalRunes = 4 * 1024;
const truncateItemRunes = 256;

const runeLength = (t: string) => [...t].length;
const truncate = (t: string) => (runeLength(t) > truncateItemRunes ? [...t].slice(0, truncateItemRunes).join('') : t);

/** warningHeaderValue formats one warning as kube-apiserver does: `299 - "text"`; undefined for texts with control characters. */
export function warningHeaderValue(text: string): string | undefined {
  if (/\p{Cc}/u.test(text)) return undefined;
  return `299 - "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * WarningRecorder collects one response's warnings: empty and repeated texts are dropped; once
 * the texts pass 4096 characters in all, every text (earlier ones too) is cut to 256 characters,
 * and texts stop being added when the cut ones fill 4096 again.
 */
export class WarningRecorder {
  private readonly recorded = new Set<string>();
  private readonly ordered: string[] = [];
  private values: string[] = [];
  private written = 0;
  private truncating = false;

  /** add records one warning text; it reports whether the header values changed. */
  add(text: string): boolean {
    if (!text || (this.truncating && this.written >= truncateAtTotalRunes) || this.recorded.has(text)) return false;
    this.recorded.add(text);
    this.ordered.push(text);
    const t = this.truncating ? truncate(text) : text;
    const header = warningHeaderValue(t);
    if (!header) return false;
    if (this.written + runeLength(t) <= truncateAtTotalRunes || this.truncating) {
      this.written += runeLength(t);
      this.values.push(header);
      return true;
    }
    this.truncating = true;
    this.written = 0;
    this.values = [];
    for (const o of this.ordered) {
      const c = truncate(o);
      const h = warningHeaderValue(c);
      if (!h) continue;
      this.written += runeLength(c);
      this.values.push(h);
    }
    return true;
  }

  /** headers are the `Warning` header values so far. */
  headers(): string[] {
    return [...this.values];
  }
}

const recorders = new WeakMap<ServerResponse, WarningRecorder>();

/**
 * addWarning records a warning for the response; it goes out with the response's headers. A
 * warning that comes after the headers are sent (a watch already streaming) is dropped, as in
 * kube-apiserver.
 */
export function addWarning(res: ServerResponse, text: string): void {
  let r = recorders.get(res);
  if (!r) recorders.set(res, (r = new WarningRecorder()));
  if (r.add(text) && !res.headersSent) res.setHeader('Warning', r.headers());
}

/** addWarnings records several warnings in order. */
export function addWarnings(res: ServerResponse, texts: readonly string[]): void {
  for (const t of texts) addWarning(res, t);
}
