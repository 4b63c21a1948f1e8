// APIRegistry holds a GenericStore per served resource, indexed the ways requests and discovery
// look them up. Built-in declarations are added at start; CRDs will be added at run time.

import type { ResourceDefinition } from '../../lib/api/resource.js';
import type { WatchCache } from '../storage/cacher.js';
import type { EtcdStorage } from '../storage/etcd.js';
import { GenericStore, type RegistryHooks } from './store.js';
import { objectKey } from './keys.js';
import type { KubeObject } from '../../lib/api/meta.js';

export class APIRegistry {
  private readonly stores = new Map<string, GenericStore>();
  private readonly order: GenericStore[] = [];

  constructor(
    readonly storage: EtcdStorage,
    readonly cache: WatchCache,
  ) {}

  private static id(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  add(def: ResourceDefinition<any>, hooks?: RegistryHooks): GenericStore {
    const store = new GenericStore(def, this.storage, this.cache, (name) => this.namespace(name), hooks);
    this.stores.set(APIRegistry.id(def.group, def.version, def.plural), store);
    this.order.push(store);
    return store;
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
