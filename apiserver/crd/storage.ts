// Custom resources are stored once, in their CRD's storage version, and served under every served
// version. The GenericStore of each served version reads and writes through these two thin
// wrappers around the shared Storage and WatchCache, which convert on the way: writes take the
// storage apiVersion, reads take the served one (conversion strategy None: only apiVersion
// changes), after the stored object has been pruned and defaulted with its own version's schema as
// kube-apiserver's storage decoder does. The store itself never learns about versions.
//
// Both wrappers are Proxies: the methods below are converted, anything else the store may use is
// the shared object's own (bound to it), so a store that grows a new call keeps working.

import type { KubeObject } from '../../lib/api/meta.js';
import type { CachedEvent, CacheWatcher, WatchCache } from '../storage/cacher.js';
import type { ListOptions, ListResult, Preconditions, Storage, TryUpdate } from '../storage/interface.js';

/** VersionView converts between stored objects and one served version. Neither direction mutates its input. */
export interface VersionView {
  /** toStorage turns an object of the served version into what is written. */
  toStorage(obj: KubeObject): KubeObject;
  /** fromStorage turns a stored object into the served version. */
  fromStorage(obj: KubeObject): KubeObject;
}

/** memoized wraps fromStorage so each stored object (the cache shares them) is converted once. */
export function memoized(view: VersionView): VersionView {
  const seen = new WeakMap<KubeObject, KubeObject>();
  return {
    toStorage: (obj) => view.toStorage(obj),
    fromStorage: (obj) => {
      let out = seen.get(obj);
      if (!out) {
        out = view.fromStorage(obj);
        seen.set(obj, out);
      }
      return out;
    },
  };
}

function delegating<T extends object>(inner: T, overrides: Partial<Record<PropertyKey, unknown>>): T {
  return new Proxy(inner, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof typeof overrides];
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** versionedStorage is the Storage a served version's GenericStore uses. */
export function versionedStorage(inner: Storage, view: VersionView): Storage {
  const from = (o: KubeObject) => view.fromStorage(o);
  return delegating(inner, {
    create: async (key: string, obj: KubeObject) => from(await inner.create(key, view.toStorage(obj))),
    get: async (key: string) => {
      const o = await inner.get(key);
      return o && from(o);
    },
    list: async (prefix: string, opts?: ListOptions): Promise<ListResult> => {
      const r = await inner.list(prefix, opts);
      return { ...r, items: r.items.map(from) };
    },
    // A cached state is left out: the served view of it is not the stored bytes a no-op is judged against.
    guaranteedUpdate: async (key: string, tryUpdate: TryUpdate, preconditions?: Preconditions) => {
      const out = await inner.guaranteedUpdate(
        key,
        async (current) => {
          const next = await tryUpdate(from(current));
          return next === null ? null : view.toStorage(next);
        },
        preconditions,
      );
      return from(out);
    },
    delete: async (key: string, preconditions?: Preconditions, cachedExisting?: KubeObject) =>
      from(await inner.delete(key, preconditions, cachedExisting && view.toStorage(cachedExisting))),
  });
}

/** VersionedCache is the WatchCache a served version's GenericStore uses, plus a way to end its watches. */
export interface VersionedCache {
  cache: WatchCache;
  /** terminateWatches ends every watch opened through this cache (the version stopped being served, or changed). */
  terminateWatches(reason: string): void;
}

/** versionedCache wraps the shared WatchCache for one served version. */
export function versionedCache(inner: WatchCache, view: VersionView): VersionedCache {
  const from = (o: KubeObject) => view.fromStorage(o);
  const watchers = new Set<{ w: CacheWatcher; unregister: () => void }>();
  // One converted event per cached event, so every watcher shares its encoded line.
  const events = new WeakMap<CachedEvent, CachedEvent>();
  const convertEvent = (ev: CachedEvent, obj: KubeObject): CachedEvent => {
    let out = events.get(ev);
    if (!out) {
      out = { type: ev.type, key: ev.key, revision: ev.revision, object: obj, prevObject: ev.prevObject && from(ev.prevObject) };
      events.set(ev, out);
    }
    return out;
  };
  const cache = delegating(inner, {
    get: (key: string) => {
      const o = inner.get(key);
      return o && from(o);
    },
    list: (prefix: string) => inner.list(prefix).map(from),
    watch: async (w: CacheWatcher, fromRV: number | undefined) => {
      const entry = { w, unregister: () => undefined as void };
      const wrapped: CacheWatcher = {
        prefix: w.prefix,
        // Selectors see the served form (selectable fields may be defaulted).
        matches: (obj) => w.matches(from(obj)),
        deliver: (type, obj, ev, matchedOld) => {
          const conv = from(obj);
          w.deliver(type, conv, ev && ev.object === obj ? convertEvent(ev, conv) : undefined, matchedOld);
        },
        terminate: (reason) => {
          watchers.delete(entry);
          w.terminate(reason);
        },
      };
      const unregister = await inner.watch(wrapped, fromRV);
      entry.unregister = () => {
        watchers.delete(entry);
        unregister();
      };
      watchers.add(entry);
      return entry.unregister;
    },
  });
  return {
    cache,
    terminateWatches(reason) {
      for (const e of [...watchers]) {
        e.unregister();
        e.w.terminate(reason);
      }
    },
  };
}
