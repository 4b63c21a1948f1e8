// InformerFactory hands out one SharedInformer per resource, so every controller in a process
// shares one list-and-watch and one cache per kind (client-go's SharedInformerFactory).

import { type Client, type ResourceType, resourcePath } from '../client/client.js';
import type { ClusterAccess } from '../client/kubeconfig.js';
import type { Logger } from '../log.js';
import { type ApiObject, type SharedInformer, newSharedInformer } from './informer.js';
import { Lister, type LabeledObject } from './lister.js';
import type { ObjectCache } from './listwatch.js';

/** InformerFactory makes (once) and starts SharedInformers by resource. */
export class InformerFactory {
  private readonly informers = new Map<string, SharedInformer<ApiObject>>();

  constructor(
    private readonly kc: ClusterAccess,
    private readonly client: Client,
    private readonly log?: Logger,
  ) {}

  /** informerFor returns the shared informer of r (all namespaces), making it on first use. */
  informerFor<T extends ApiObject>(r: ResourceType): SharedInformer<T> {
    const path = resourcePath(r);
    let inf = this.informers.get(path);
    if (!inf) {
      inf = newSharedInformer<ApiObject>(
        this.kc,
        path,
        () => this.client.list<ApiObject>(r),
        { name: r.resource, log: this.log },
      );
      this.informers.set(path, inf);
    }
    return inf as unknown as SharedInformer<T>;
  }

  /** stop stops every informer made so far. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/**
 * listerOf is a Lister over a fixed set of objects, for unit tests (test-only): preload the
 * cache, run one reconcile, assert its actions. The objects are deep-frozen, so a reconcile
 * that mutates a cached object fails the test.
 */
export function listerOf<T extends LabeledObject & { metadata?: { name?: string; namespace?: string } }>(objs: readonly T[]): Lister<T> {
  const cache: ObjectCache<T> = {
    get: (name: string, namespace?: string) => objs.find((o) => o.metadata?.name === name && (o.metadata?.namespace ?? '') === (namespace ?? '')),
    list: (namespace?: string) => objs.filter((o) => !namespace || o.metadata?.namespace === namespace),
  };
  return new Lister(cache, { freeze: true });
}
