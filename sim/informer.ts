// Informers sized for thousands of Nodes and a hundred thousand pods: the list is read in pages
// (one 300 MB response would not fit a JavaScript string), the watch asks for bookmarks (so a
// quiet watch resumes from a recent resourceVersion instead of relisting), a field selector
// keeps unbound pods out, and every object is trimmed (trim.ts) before it is cached.

import type { ClusterAccess } from '../lib/client/kubeconfig.js';
import { ExactWatch, type WatchCallback, type WatchQuery } from '../lib/client/watch.js';
import type { Client, ResourceType } from '../lib/client/client.js';
import { resourcePath } from '../lib/client/client.js';
import { type ApiObject, SharedInformer } from '../lib/controller/informer.js';
import { ListWatch } from '../lib/controller/listwatch.js';
import type { Logger } from '../lib/log.js';
import { trimObject } from './trim.js';

/** TrimmingWatch is a Watch that asks for bookmarks and trims each object it delivers. */
class TrimmingWatch extends ExactWatch {
  override watch(path: string, queryParams: WatchQuery, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, (phase, obj, w) => callback(phase, trimObject(obj), w), done);
  }
}

/** listAll lists r in pages of pageSize at one resourceVersion, trimming each item. */
export async function listAll<T>(client: Client, r: ResourceType, opts: { fieldSelector?: string; pageSize?: number } = {}): Promise<{ metadata: { resourceVersion?: string }; items: T[] }> {
  const items: T[] = [];
  let cont: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const page = await client.list<T>(r, undefined, { fieldSelector: opts.fieldSelector, limit: opts.pageSize ?? 500, continue: cont });
    for (const item of page.items) items.push(trimObject(item));
    resourceVersion = page.metadata.resourceVersion;
    cont = page.metadata.continue || undefined;
  } while (cont);
  return { metadata: { resourceVersion }, items };
}

/** newTrimmedInformer is a SharedInformer over all of r (optionally narrowed by a field selector) with paged lists and trimmed objects. */
export function newTrimmedInformer<T extends ApiObject>(kc: ClusterAccess, client: Client, r: ResourceType, opts: { fieldSelector?: string; log?: Logger } = {}): SharedInformer<T> {
  const source = new ListWatch<T>(resourcePath(r), new TrimmingWatch(kc), () => listAll<T>(client, r, { fieldSelector: opts.fieldSelector }), { fieldSelector: opts.fieldSelector });
  return new SharedInformer<T>(source, { name: r.resource, log: opts.log });
}
