// The CRD controller runs inside the apiserver: it watches CustomResourceDefinitions through the
// watch cache and, for each, does what apiextensions-apiserver's controllers do.
//
//  - naming: accepts the requested names unless another CRD of the group holds them
//    (NamesAccepted, status.acceptedNames);
//  - serving: once its names are accepted, every served version is registered with the generic
//    registry as a ResourceDefinition (discovery, OpenAPI, routes follow), then Established is set;
//    a changed CRD is registered again and open watches on its old stores end, as they do upstream;
//  - finalizing: a deleted CRD (marked by CustomResourceDefinitionStore) has its custom resources
//    deleted, then its finalizer removed, and then it stops being served.
//
// Reconciles are serial, one CRD at a time, keyed by name; writes go through the CRD store, so
// their watch events bring the next step.

import type { KubeObject } from '../../lib/api/meta.js';
import type { Logger } from '../../lib/log.js';
import { StatusError, isConflict, isNotFound } from '../../lib/machinery/status.js';
import { compareKubeAwareVersion, findCRDCondition, isCRDConditionTrue, setCRDCondition, storageVersion } from '../../lib/api/apiextensions/helpers.js';
import { deepEqualJSON } from '../../lib/api/apiextensions/schema.js';
import {
  ConditionType,
  CustomResourceCleanupFinalizer,
  type CustomResourceDefinition,
  type CustomResourceDefinitionCondition,
} from '../../lib/api/apiextensions/types.js';
import { customResourceDefinitions } from '../../lib/api/apiextensions/customresourcedefinition.js';
import type { APIRegistry } from '../registry/registry.js';
import { GenericStore, type RequestContext } from '../registry/store.js';
import { listPrefix, objectKey } from '../registry/keys.js';
import { CustomResourceDefinitionStore } from './crdstore.js';
import { calculateNames } from './naming.js';
import { acceptedNames, customResourceDefinitionFor, versionViewFor, type ServingState } from './serving.js';
import { memoized, versionedCache, versionedStorage, type VersionedCache } from './storage.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

const crdDef = customResourceDefinitions;
const crdPrefix = listPrefix(crdDef, undefined);

interface ServedVersion {
  version: string;
  store: GenericStore;
  cache: VersionedCache;
}

interface Served {
  uid: string;
  group: string;
  plural: string;
  fingerprint: string;
  state: ServingState;
  versions: ServedVersion[];
  /** storage is a store in the storage version, for the finalizer (it may be unserved). */
  storage: GenericStore;
}

/** CRDControllerOptions tune the controller (tests shorten the instance-deletion poll). */
export interface CRDControllerOptions {
  log: Logger;
  /** instanceDeletionPollMs is how soon a terminating CRD whose objects remain is looked at again. */
  instanceDeletionPollMs?: number;
}

export class CRDController {
  private readonly served = new Map<string, Served>();
  private readonly queue = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running?: Promise<void>;
  private unwatch?: () => void;
  private stopped = false;
  private crdStore!: GenericStore;

  constructor(
    private readonly registry: APIRegistry,
    private readonly opts: CRDControllerOptions,
  ) {}

  /**
   * start replaces the plain CRD store with CustomResourceDefinitionStore, watches CRDs, and
   * resolves once every existing CRD has been reconciled (its resources are served).
   */
  async start(): Promise<void> {
    const r = this.registry;
    this.crdStore = r.register(new CustomResourceDefinitionStore(crdDef, r.storage, r.cache, (n) => r.namespace(n)));
    await this.watch();
    await this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** idle resolves when nothing is queued or running (for tests). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async watch(): Promise<void> {
    const cache = this.registry.cache;
    while (!cache.ready && !this.stopped) await cache.waitUntilFresh(0, 5_000);
    this.unwatch = await cache.watch(
      {
        prefix: crdPrefix,
        matches: () => true,
        deliver: (_type, obj) => this.enqueue(obj.metadata.name!),
        terminate: () => {
          // The cache re-listed: watch again, and look at everything served (some may be gone).
          if (this.stopped) return;
          for (const name of this.served.keys()) this.enqueue(name);
          setTimeout(() => void this.watch().catch((err) => this.opts.log.error('Watching CRDs failed', { err: err as Error })), 100);
        },
      },
      undefined,
    );
  }

  private enqueue(name: string): void {
    if (this.stopped) return;
    this.queue.add(name);
    this.running ??= this.work().finally(() => (this.running = undefined));
  }

  private enqueueAfter(name: string, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(name);
    }, ms);
    this.timers.add(t);
  }

  private async work(): Promise<void> {
    while (this.queue.size && !this.stopped) {
      const name = this.queue.values().next().value as string;
      this.queue.delete(name);
      try {
        await this.reconcile(name);
      } catch (err) {
        // Retried with a short backoff; conflicts just mean a newer version is on its way.
        if (!(err instanceof StatusError && (isConflict(err) || isNotFound(err)))) {
          this.opts.log.warn('Reconciling a CustomResourceDefinition failed', { name, err: err as Error });
        }
        this.enqueueAfter(name, 500);
      }
    }
  }

  private ctx(): RequestContext {
    return { now: new Date(), dryRun: false, user: { name: 'system:apiserver', groups: ['system:masters'] } };
  }

  private cached(name: string): CustomResourceDefinition | undefined {
    return this.registry.cache.get(objectKey(crdDef, undefined, name)) as CustomResourceDefinition | undefined;
  }

  private allCached(): CustomResourceDefinition[] {
    return this.registry.cache.list(crdPrefix) as CustomResourceDefinition[];
  }

  /** reconcile brings one CRD one step closer to its desired state. */
  private async reconcile(name: string): Promise<void> {
    const crd = this.cached(name);
    if (!crd) {
      const was = this.served.get(name);
      this.unserve(name, 'the custom resource definition was deleted');
      if (was) this.enqueueGroup(was.group, name);
      return;
    }
    if (!deepEqualJSON(crd.spec.names, crd.status?.acceptedNames ?? null) && (await this.updateNames(crd))) return;
    const namesAccepted = isCRDConditionTrue(crd, ConditionType.NamesAccepted);
    const established = isCRDConditionTrue(crd, ConditionType.Established);
    // Served as soon as its names are accepted, and before Established says so.
    if (namesAccepted || established) this.serve(crd);
    else this.unserve(name, 'the custom resource definition is not served');
    if (namesAccepted && !established) {
      await this.writeStatus(name, (c) =>
        setCRDCondition(c, { type: ConditionType.Established, status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, new Date()),
      );
      return;
    }
    if (crd.metadata.deletionTimestamp && (crd.metadata.finalizers ?? []).includes(CustomResourceCleanupFinalizer)) await this.finalize(crd);
  }

  /** updateNames writes the naming controller's result; true when it wrote (the next event continues). */
  private async updateNames(crd: CustomResourceDefinition): Promise<boolean> {
    const result = calculateNames(crd, this.allCached());
    const current = findCRDCondition(crd, ConditionType.NamesAccepted);
    if (
      deepEqualJSON(crd.status?.acceptedNames ?? null, result.acceptedNames) &&
      current?.status === result.namesAccepted.status &&
      current?.reason === result.namesAccepted.reason &&
      current?.message === result.namesAccepted.message
    ) {
      return false;
    }
    const now = new Date();
    await this.writeStatus(crd.metadata.name!, (c) => {
      (c.status ??= {}).acceptedNames = result.acceptedNames;
      setCRDCondition(c, result.namesAccepted, now);
      setCRDCondition(c, result.established, now);
    });
    // Names this CRD gave up or took may decide another CRD's conflict.
    this.enqueueGroup(crd.spec.group, crd.metadata.name!);
    return true;
  }

  private enqueueGroup(group: string, except: string): void {
    for (const c of this.allCached()) if (c.spec?.group === group && c.metadata.name !== except) this.enqueue(c.metadata.name!);
  }

  private async writeStatus(name: string, change: (crd: CustomResourceDefinition) => void): Promise<void> {
    await this.crdStore.update(undefined, name, null, this.ctx(), {
      subresource: 'status',
      mutate: (cur) => {
        change(cur as CustomResourceDefinition);
        return cur;
      },
    });
  }

  // ---- serving ----

  private serve(crd: CustomResourceDefinition): void {
    const name = crd.metadata.name!;
    const terminating = isCRDConditionTrue(crd, ConditionType.Terminating) || !!crd.metadata.deletionTimestamp;
    const fingerprint = stringifyJSON([crd.metadata.uid, crd.spec, acceptedNames(crd)]);
    const existing = this.served.get(name);
    if (existing && existing.fingerprint === fingerprint) {
      existing.state.terminating = terminating;
      return;
    }
    const state: ServingState = existing?.state ?? { terminating };
    state.terminating = terminating;
    const versions = (crd.spec.versions ?? [])
      .filter((v) => v.served)
      .map((v) => v.name)
      .sort(compareKubeAwareVersion);
    const names = acceptedNames(crd);
    const mine = new Set((existing?.versions ?? []).map((v) => v.store));
    const next: ServedVersion[] = [];
    for (const version of versions) {
      const other = this.registry.lookup(crd.spec.group, version, names.plural);
      if (other && !mine.has(other)) {
        // A built-in resource has these names: it keeps them, as kube-apiserver's handler chain does.
        this.opts.log.warn('A custom resource conflicts with a built-in resource; not serving it', { crd: name, version });
        continue;
      }
      next.push(this.buildVersion(crd, version, state));
    }
    // Keep discovery's version order (preferred first): replace in place when the versions are the
    // same, otherwise take the old ones away and register all again.
    const old = existing?.versions ?? [];
    const sameVersions = old.map((v) => v.version).join() === next.map((v) => v.version).join();
    if (!sameVersions) for (const v of old) this.removeIfMine(v);
    for (const v of next) this.registry.register(v.store);
    for (const v of old) v.cache.terminateWatches('the custom resource definition changed');
    const storageName = storageVersion(crd) ?? versions[0] ?? crd.spec.versions?.[0]?.name ?? 'v1';
    const storage = next.find((v) => v.version === storageName)?.store ?? this.buildVersion(crd, storageName, state).store;
    this.served.set(name, { uid: crd.metadata.uid!, group: crd.spec.group, plural: names.plural, fingerprint, state, versions: next, storage });
    this.opts.log.info('Serving custom resource', { crd: name, versions: next.map((v) => v.version) });
  }

  private buildVersion(crd: CustomResourceDefinition, version: string, state: ServingState): ServedVersion {
    const r = this.registry;
    const def = customResourceDefinitionFor(crd, version, state);
    const view = memoized(versionViewFor(crd, version));
    const cache = versionedCache(r.cache, view);
    const store = new GenericStore(def, versionedStorage(r.storage, view), cache.cache, (n) => r.namespace(n));
    return { version, store, cache };
  }

  private removeIfMine(v: ServedVersion): void {
    const d = v.store.def;
    if (this.registry.lookup(d.group, d.version, d.plural) === v.store) this.registry.remove(d.group, d.version, d.plural);
  }

  private unserve(name: string, reason: string): void {
    const s = this.served.get(name);
    if (!s) return;
    this.served.delete(name);
    for (const v of s.versions) {
      this.removeIfMine(v);
      v.cache.terminateWatches(reason);
    }
    this.opts.log.info('Stopped serving custom resource', { crd: name });
  }

  // ---- finalizing ----

  /** finalize deletes a terminating CRD's objects, then lets the CRD go (crd_finalizer.go). */
  private async finalize(crd: CustomResourceDefinition): Promise<void> {
    const name = crd.metadata.name!;
    if (findCRDCondition(crd, ConditionType.Terminating)?.reason !== 'InstanceDeletionInProgress') {
      await this.writeStatus(name, (c) =>
        setCRDCondition(c, { type: ConditionType.Terminating, status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }, new Date()),
      );
      return;
    }
    let done: CustomResourceDefinitionCondition;
    if (isCRDConditionTrue(crd, ConditionType.Established)) {
      const served = this.served.get(name);
      const store = served?.storage ?? this.buildVersion(crd, storageVersion(crd) ?? crd.spec.versions[0].name, { terminating: true }).store;
      const remaining = await this.deleteInstances(store);
      if (remaining > 0) {
        this.opts.log.v(2).info('Waiting for custom resources to be removed', { crd: name, remaining });
        this.enqueueAfter(name, this.opts.instanceDeletionPollMs ?? 1000);
        return;
      }
      done = { type: ConditionType.Terminating, status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' };
    } else {
      done = { type: ConditionType.Terminating, status: 'False', reason: 'NeverEstablished', message: 'resource was never established' };
    }
    await this.writeStatus(name, (c) => setCRDCondition(c, done, new Date()));
    // Removing the last finalizer of a deleted object deletes it.
    await this.crdStore.update(undefined, name, null, this.ctx(), {
      mutate: (cur: KubeObject) => {
        cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== CustomResourceCleanupFinalizer);
        return cur;
      },
    });
  }

  /** deleteInstances deletes every object of the CRD in every namespace and returns how many remain (finalizers may hold them). */
  private async deleteInstances(store: GenericStore): Promise<number> {
    const all = { predicate: () => true, selectorActive: false };
    await store.deleteCollection(all, {}, this.ctx());
    const left = await store.list(all);
    return left.items.length;
  }
}
