// APIRegistry holds a GenericStore per served resource, indexed the ways requests and discovery
// look them up. Built-in declarations are added at start; CRDs are registered and removed at run
// time (register/remove).

import type { ResourceDefinition } from '../../lib/api/resource.js';
import type { WatchCache } from '../storage/cacher.js';
import type { Storage } from '../storage/interface.js';
import { GenericStore, type RegistryHooks, type ValidatingAdmission } from './store.js';
import { objectKey } from './keys.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { memoized, versionedCache, versionedStorage } from '../crd/storage.js';

export class APIRegistry {
  private readonly stores = new Map<string, GenericStore>();
  private readonly order: GenericStore[] = [];
  /** validating is validating admission for every store, built-in or custom (set once at start). */
  validating?: ValidatingAdmission;

  constructor(
    readonly storage: Storage,
    readonly cache: WatchCache,
  ) {}

  private static id(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  add(def: ResourceDefinition<any>, hooks?: RegistryHooks): GenericStore {
    // A version served from another version's storage reads and writes through its conversion.
    const view = def.storageConversion && memoized(def.storageConversion);
    const storage = view ? versionedStorage(this.storage, view) : this.storage;
    const cache = view ? versionedCache(this.cache, view).cache : this.cache;
    const store = new GenericStore(def, storage, cache, (name) => this.namespace(name), hooks);
    store.validating = (req) => this.validating?.(req, store.def) ?? Promise.resolve();
    this.stores.set(APIRegistry.id(def.group, def.version, def.plural), store);
    this.order.push(store);
    return store;
  }

  // ---- run-time registration (CustomResourceDefinitions) ----

  /**
   * register serves a store built elsewhere (a custom resource's, or a kind with its own store
   * subclass). A store already at the same group/version/resource is replaced in place, so
   * discovery keeps its order.
   */
  register(store: GenericStore): GenericStore {
    const id = APIRegistry.id(store.def.group, store.def.version, store.def.plural);
    const old = this.stores.get(id);
    store.validating = (req) => this.validating?.(req, store.def) ?? Promise.resolve();
    this.stores.set(id, store);
    const at = old ? this.order.indexOf(old) : -1;
    if (at >= 0) this.order[at] = store;
    else this.order.push(store);
    return store;
  }

  /** remove stops serving a resource; it returns the store that served it, if any. */
  remove(group: string, version: string, resource: string): GenericStore | undefined {
    const id = APIRegistry.id(group, version, resource);
    const old = this.stores.get(id);
    if (!old) return undefined;
    this.stores.delete(id);
    this.order.splice(this.order.indexOf(old), 1);
    return old;
  }

  lookup(group: string, version: string, resource: string): GenericStore | undefined {
    return this.stores.get(APIRegistry.id(group, version, resource));
  }

  /** all returns every store in the order they were added (discovery lists them so). */
  all(): GenericStore[] {
    return [...this.order];
  }

  /** groupVersions lists served group/versions, core first, in the order first seen. */
  groupVersions(): { group: string; version: string }[] {
    const seen = new Map<string, { group: string; version: string }>();
    for (const s of this.order) {
      const k = `${s.def.group}/${s.def.version}`;
      if (!seen.has(k)) seen.set(k, { group: s.def.group, version: s.def.version });
    }
    return [...seen.values()];
  }

  /**
   * namespace reads a Namespace through the watch cache once the cache has seen every write this
   * apiserver made, so a namespace deleted a moment ago is already Terminating here.
   */
  async namespace(name: string): Promise<KubeObject | undefined> {
    const key = objectKey({ group: '', plural: 'namespaces', namespaced: false }, undefined, name);
    if (this.cache.ready && (await this.cache.waitUntilFresh(this.storage.lastWriteRevision, 1_000))) {
      const cached = this.cache.get(key);
      if (cached) return cached;
    }
    return this.storage.get(key);
  }
}
