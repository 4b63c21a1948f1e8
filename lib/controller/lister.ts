// Lister reads an informer's cache by key and by label selector, as client-go's listers do.
//
// Never modify an object a Lister returns: it is the informer's cached copy, shared with every
// other reader, and a change would make the cache disagree with the apiserver without any event.
// Clone first (`structuredClone(obj)`) and write the clone.

import { type LabelSelectorExpr, matches, parseLabelSelector } from '../machinery/labels.js';
import { splitKey } from './keys.js';
import type { ObjectCache } from './listwatch.js';

/** LabeledObject is what a Lister needs to filter by labels. */
export interface LabeledObject {
  metadata?: { labels?: Record<string, string> | undefined };
}

/** ListerOptions tune a Lister. */
export interface ListerOptions {
  /** freeze deep-freezes every object handed out, so a mutation throws. For tests (it costs a walk per object). */
  freeze?: boolean;
}

/** Lister is a typed, read-only view of an informer cache. */
export class Lister<T extends LabeledObject> {
  constructor(
    private readonly cache: ObjectCache<T>,
    private readonly opts: ListerOptions = {},
  ) {}

  /** get returns the cached object for a `namespace/name` (or `name`) key; do not mutate it. */
  get(key: string): T | undefined {
    const { namespace, name } = splitKey(key);
    const obj = this.cache.get(name, namespace || undefined);
    return obj && this.opts.freeze ? deepFreeze(obj) : obj;
  }

  /**
   * list returns the cached objects in namespace (all namespaces when omitted or '') whose
   * labels match selector (a parsed selector or its string form; everything when omitted).
   * Do not mutate them.
   */
  list(namespace?: string, selector?: LabelSelectorExpr | string): T[] {
    const sel = typeof selector === 'string' ? parseLabelSelector(selector) : selector;
    const out: T[] = [];
    for (const obj of this.cache.list(namespace || undefined)) {
      if (sel && !matches(sel, obj.metadata?.labels)) continue;
      out.push(this.opts.freeze ? deepFreeze(obj) : obj);
    }
    return out;
  }
}

/** deepFreeze freezes obj and everything reachable from it, and returns it. */
export function deepFreeze<T>(obj: T): T {
  if (obj === null || typeof obj !== 'object' || Object.isFrozen(obj)) return obj;
  Object.freeze(obj);
  for (const v of Object.values(obj as object)) deepFreeze(v);
  return obj;
}
