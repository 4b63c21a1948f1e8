// The garbage collector, as kube-controller-manager's: one monitor (informer) per listable and
// watchable resource, found through discovery and kept current as CRDs come and go, feeds the
// dependency graph (graph.ts); two queues, attemptToDelete and attemptToOrphan, run the
// decisions (sync.ts) on the reconcile harness. Workers start once the first monitors synced.

import { builtinResources } from '../../lib/api/index.js';
import { CustomResourceDefinitions, type ResourceType, resourcePath } from '../../lib/client/index.js';
import { type ApiObject, type CacheSyncer, type Controller, type SharedInformer, newSharedInformer } from '../../lib/controller/index.js';
import { ItemExponentialFailureRateLimiter } from '../../lib/workqueue/ratelimiter.js';
import type { ControllerContext, ControllerStarter } from '../context.js';
import {
  type DiscoveredResource,
  type DiscoveryResult,
  DiscoveryRefresher,
  ResourceMapper,
  discoverResources,
  preferredResources,
  resourceID,
} from '../common/discovery.js';
import { GraphBuilder, type MetaObject } from './graph.js';
import { GarbageCollector, type WorkOutcome } from './sync.js';

/** ignoredResources are never monitored (kube's default GC ignored resources): events own nothing and churn. */
const ignoredResources = new Set(['events', 'events.events.k8s.io']);

/** builtin tells whether r is one of skiff's built-in kinds, whose informers are shared through the factory and live as long as the process. */
function builtin(r: ResourceType): boolean {
  return builtinResources.some((d) => d.group === r.group && d.version === r.version && d.plural === r.resource);
}

/** monitorSyncTimeoutMs bounds the wait for the first monitors: a resource that never lists must not stop the collector. */
const monitorSyncTimeoutMs = 60_000;

/**
 * monitorsSyncer is one CacheSyncer over all the first monitors (a single abort listener instead
 * of one per informer). It gives up waiting after monitorSyncTimeoutMs: decisions are verified with
 * live reads, so a partial graph only makes the collector slower to notice, never wrong to delete.
 */
function monitorsSyncer(informers: readonly CacheSyncer[], log: { warn(msg: string, data?: Record<string, unknown>): void }): CacheSyncer {
  return {
    name: 'garbage-collector-monitors',
    start: () => informers.forEach((i) => i.start()),
    hasSynced: () => informers.every((i) => i.hasSynced()),
    waitForSync: (signal) =>
      new Promise<boolean>((resolve) => {
        if (signal?.aborted) return resolve(false);
        const finish = (ok: boolean): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          resolve(ok);
        };
        const aborted = (): void => finish(false);
        const timer = setTimeout(() => {
          log.warn('Timed out waiting for the dependency graph builder to sync; starting anyway', { unsynced: informers.filter((i) => !i.hasSynced()).map((i) => i.name) });
          finish(true);
        }, monitorSyncTimeoutMs);
        signal?.addEventListener('abort', aborted, { once: true });
        void Promise.all(informers.map((i) => i.waitForSync())).then(() => finish(true));
      }),
  };
}

interface Monitor {
  resource: DiscoveredResource;
  informer: SharedInformer<ApiObject>;
  /** own: made by the collector (custom resources), so stopped when the resource goes away. */
  own: boolean;
  off(): void;
}

/** startGarbageCollector starts the garbage collector's attemptToOrphan and attemptToDelete queues. */
export const startGarbageCollector: ControllerStarter = async (ctx: ControllerContext) => {
  const log = ctx.log.with({ controller: 'garbagecollector' });
  const workers = ctx.config.workers;
  let deleteQueue: Controller | undefined;
  let orphanQueue: Controller | undefined;
  // Nodes whose own kind or an owner's kind is not served: left alone until discovery changes.
  const parkedDelete = new Set<string>();
  const parkedOrphan = new Set<string>();
  // Silent backoff for virtual nodes waiting to be observed (kube's AddRateLimited without an error).
  const observeBackoff = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
  // Backoff for a virtual owner checked again under other coordinates its dependents use.
  const recheckBackoff = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);

  const graph = new GraphBuilder(
    {
      attemptToDelete: (n) => deleteQueue?.enqueueKey(n.identity.uid),
      attemptToDeleteLater: (n) => deleteQueue?.enqueueAfter(n.identity.uid, recheckBackoff.when(n.identity.uid)),
      attemptToOrphan: (n) => orphanQueue?.enqueueKey(n.identity.uid),
    },
    log,
  );
  let mapper = new ResourceMapper([]);
  const gc = new GarbageCollector({ client: ctx.client, graph, mapper: () => mapper, attemptToDelete: (n) => deleteQueue?.enqueueKey(n.identity.uid), log });

  const monitors = new Map<string, Monitor>();
  let started = false;

  /** monitorFor makes the informer of r and subscribes the graph to it (before it starts, so nothing is missed). */
  const monitorFor = (r: DiscoveredResource): Monitor => {
    const own = !builtin(r);
    const informer = own
      ? newSharedInformer<ApiObject>(ctx.kubeConfig, resourcePath(r), () => ctx.client.list<ApiObject>(r), { name: resourceID(r), log })
      : ctx.informers.informerFor<ApiObject>(r);
    const observe = (obj: ApiObject): void => graph.observe(r, obj as MetaObject);
    const remove = (obj: ApiObject): void => graph.observeDelete(r, obj as MetaObject);
    informer.on('add', observe);
    informer.on('update', observe);
    informer.on('delete', remove);
    return {
      resource: r,
      informer,
      own,
      off: () => {
        informer.off('add', observe);
        informer.off('update', observe);
        informer.off('delete', remove);
      },
    };
  };

  /** replay feeds what a shared informer already holds (another controller may have started it first); observe is idempotent. */
  const replay = (m: Monitor): void => {
    for (const obj of m.informer.lister().list()) graph.observe(m.resource, obj as MetaObject);
  };

  /** syncMonitors adds a monitor per new resource and stops those of resources no longer served. */
  const syncMonitors = async (result: DiscoveryResult): Promise<void> => {
    mapper = new ResourceMapper(result.resources);
    const wanted = new Map(preferredResources(result, 'list', 'watch').filter((r) => !ignoredResources.has(resourceID(r))).map((r) => [resourceID(r), r]));
    for (const [id, r] of wanted) {
      const m = monitors.get(id);
      if (m && m.resource.version === r.version) continue;
      if (m) await dropMonitor(id, m);
      const created = monitorFor(r);
      monitors.set(id, created);
      if (started) {
        log.info('Monitoring resource', { resource: id, version: r.version });
        created.informer.start();
        replay(created);
      }
    }
    for (const [id, m] of monitors) {
      const gv = m.resource.group ? `${m.resource.group}/${m.resource.version}` : m.resource.version;
      // A group that failed discovery this time is kept: absence is not proven.
      if (wanted.has(id) || result.failed.has(gv)) continue;
      await dropMonitor(id, m);
    }
    // A new kind may be what parked items waited for.
    for (const uid of parkedDelete) deleteQueue?.enqueueKey(uid);
    for (const uid of parkedOrphan) orphanQueue?.enqueueKey(uid);
    parkedDelete.clear();
    parkedOrphan.clear();
  };

  const dropMonitor = async (id: string, m: Monitor): Promise<void> => {
    log.info('Stopping monitor of resource no longer served', { resource: id, version: m.resource.version });
    m.off();
    monitors.delete(id);
    if (m.own) await m.informer.stop();
  };

  const crdInformer = ctx.informers.informerFor<ApiObject>(CustomResourceDefinitions);
  const refresher = new DiscoveryRefresher({ client: ctx.client, crdInformer, log, onChange: syncMonitors });

  // First discovery inline, so the workers wait for the first monitors; if it fails, the refresher retries.
  try {
    const first = await discoverResources(ctx.client);
    if (first.error) log.warn('Discovery failed for some groups', { err: first.error.message });
    await syncMonitors(first);
  } catch (err) {
    log.warn('Discovery failed; the garbage collector starts without monitors and retries', { err: err instanceof Error ? err : String(err) });
  }

  const outcome = (queue: 'delete' | 'orphan', uid: string, o: WorkOutcome): { requeueAfter: number } | undefined => {
    if (o === 'unknownKind') {
      const parked = queue === 'delete' ? parkedDelete : parkedOrphan;
      if (!parked.has(uid)) log.info('Leaving item alone: its kind or an owner\'s kind is not served', { uid, queue });
      parked.add(uid);
      return undefined;
    }
    if (o === 'requeue') return { requeueAfter: observeBackoff.when(uid) };
    observeBackoff.forget(uid);
    if (!graph.node(uid)) recheckBackoff.forget(uid);
    return undefined;
  };

  const initialInformers = [monitorsSyncer([crdInformer, ...[...monitors.values()].map((m) => m.informer)], log)];
  // Both queues stop with ctx.signal.
  const orphanController = ctx.runController({
    name: 'garbage_collector_attempt_to_orphan',
    informers: initialInformers,
    workers,
    log,
    reconcile: async (uid) => outcome('orphan', uid, await gc.attemptToOrphanWorker(uid)),
  });
  orphanQueue = orphanController;
  const deleteController = ctx.runController({
    name: 'garbage_collector_attempt_to_delete',
    informers: initialInformers,
    workers,
    log,
    setup: (c) => {
      deleteQueue = c;
      started = true;
      for (const m of monitors.values()) replay(m);
    },
    reconcile: async (uid) => outcome('delete', uid, await gc.attemptToDeleteWorker(uid)),
  });
  void deleteController.synced.then((ok) => {
    if (!ok) return;
    log.info('Garbage collector: all resource monitors have synced', { monitors: monitors.size });
    refresher.start();
  });
  // The queues stop with ctx.signal; the collector's own parts stop with them.
  void deleteController.done.then(() => {
    void orphanController.stop();
    refresher.stop();
    for (const m of monitors.values()) if (m.own) void m.informer.stop();
  });
  return [orphanController, deleteController];
};
