// NamespacedResourcesDeleter empties a terminating namespace, as kube's
// namespaced_resources_deleter.go: discover every namespaced resource (custom resources
// included), delete each collection (deletecollection where served, else list and delete one by
// one), report progress in the namespace's status conditions, and once nothing remains remove
// the `kubernetes` finalizer through /finalize, after which the apiserver deletes the namespace.

import { type Condition, nowRFC3339 } from '../../lib/api/meta.js';
import { FinalizerKubernetes, type Namespace, NamespacePhase } from '../../lib/api/core/namespace.js';
import { ApiError, type Client, type ResourceType, isConflict, isNotFound } from '../../lib/client/client.js';
import { Namespaces, Pods } from '../../lib/client/resources.js';
import type { Logger } from '../../lib/log.js';
import { type DiscoveredResource, type DiscoveryResult, GroupDiscoveryFailedError, supportsVerbs } from '../common/discovery.js';

/** NamespaceConditionType are the conditions the deleter maintains (core/v1 NamespaceConditionType), in kube's order. */
export const NamespaceConditionType = {
  DeletionDiscoveryFailure: 'NamespaceDeletionDiscoveryFailure',
  DeletionGVParsingFailure: 'NamespaceDeletionGroupVersionParsingFailure',
  DeletionContentFailure: 'NamespaceDeletionContentFailure',
  ContentRemaining: 'NamespaceContentRemaining',
  FinalizersRemaining: 'NamespaceFinalizersRemaining',
} as const;
export type NamespaceConditionType = (typeof NamespaceConditionType)[keyof typeof NamespaceConditionType];

const conditionTypes: readonly NamespaceConditionType[] = Object.values(NamespaceConditionType);

const okMessages: Record<NamespaceConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'All resources successfully discovered',
  NamespaceDeletionGroupVersionParsingFailure: 'All legacy kube types successfully parsed',
  NamespaceDeletionContentFailure: 'All content successfully deleted, may be waiting on finalization',
  NamespaceContentRemaining: 'All content successfully removed',
  NamespaceFinalizersRemaining: 'All content-preserving finalizers finished',
};

const okReasons: Record<NamespaceConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'ResourcesDiscovered',
  NamespaceDeletionGroupVersionParsingFailure: 'ParsedGroupVersions',
  NamespaceDeletionContentFailure: 'ContentDeleted',
  NamespaceContentRemaining: 'ContentRemoved',
  NamespaceFinalizersRemaining: 'ContentHasNoFinalizers',
};

/** finalizerEstimateSeconds is kube's default wait for finalizers on remaining items to complete. */
export const finalizerEstimateSeconds = 15;

/** ResourcesRemainingError: content was deleted but some remains (graceful pods, finalizers); try again later. */
export class ResourcesRemainingError extends Error {
  constructor(readonly estimate: number) {
    super(`some content remains in the namespace, estimate ${estimate} seconds before it is removed`);
    this.name = 'ResourcesRemainingError';
  }
}

/** AggregateDeletionError's message is utilerrors.NewAggregate's: one error as itself, several in brackets. */
class AggregateDeletionError extends Error {
  constructor(readonly errors: readonly Error[]) {
    super(errors.length === 1 ? errors[0]!.message : `[${errors.map((e) => e.message).join(', ')}]`);
    this.name = 'AggregateDeletionError';
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** gvrString is schema.GroupVersionResource's String(): `apps/v1, Resource=deployments`, `/v1, Resource=pods`. */
function gvrString(r: ResourceType): string {
  return `${r.group}/${r.version}, Resource=${r.resource}`;
}

/** NamespaceConditionUpdater turns the deleter's findings into status conditions (status_condition_utils.go). */
export class NamespaceConditionUpdater {
  private readonly newConditions: Condition[] = [];
  private readonly deleteContentErrors: Error[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  private add(type: NamespaceConditionType, reason: string, message: string): void {
    this.newConditions.push({ type, status: 'True', lastTransitionTime: nowRFC3339(this.now()), reason, message });
  }

  processDiscoverResourcesErr(err: Error): void {
    const msg = err instanceof GroupDiscoveryFailedError ? `Discovery failed for some groups, ${err.groups.size} failing: ${err.message}` : err.message;
    this.add(NamespaceConditionType.DeletionDiscoveryFailure, 'DiscoveryFailed', msg);
  }

  processGroupVersionErr(err: Error): void {
    this.add(NamespaceConditionType.DeletionGVParsingFailure, 'GroupVersionParsingFailed', err.message);
  }

  processDeleteContentErr(err: Error): void {
    this.deleteContentErrors.push(err);
  }

  /** processContentTotals reports what remains, by resource and by finalizer. */
  processContentTotals(totals: { gvrToNumRemaining: Map<DiscoveredResource, number>; finalizersToNumRemaining: Map<string, number> }): void {
    if (totals.gvrToNumRemaining.size) {
      const remaining = [...totals.gvrToNumRemaining].filter(([, n]) => n > 0).map(([r, n]) => `${r.resource}.${r.group} has ${n} resource instances`).sort();
      this.add(NamespaceConditionType.ContentRemaining, 'SomeResourcesRemain', `Some resources are remaining: ${remaining.join(', ')}`);
    }
    if (totals.finalizersToNumRemaining.size) {
      const remaining = [...totals.finalizersToNumRemaining].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`).sort();
      this.add(NamespaceConditionType.FinalizersRemaining, 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${remaining.join(', ')}`);
    }
  }

  /** update writes the conditions into ns.status (every type: the failure found, or its "ok" form) and tells whether anything changed. */
  update(ns: Namespace): boolean {
    if (!this.newConditions.some((c) => c.type === NamespaceConditionType.DeletionContentFailure) && this.deleteContentErrors.length) {
      // Sorted, so the message (and the status write it causes) stays put while the errors do.
      const msgs = this.deleteContentErrors.map((e) => e.message).sort();
      const aggregate = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
      this.add(NamespaceConditionType.DeletionContentFailure, 'ContentDeletionFailed', `Failed to delete all resource types, ${msgs.length} remaining: ${aggregate}`);
    }
    ns.status ??= {};
    const conditions = (ns.status.conditions ??= []);
    let changed = false;
    for (const type of conditionTypes) {
      const next = this.newConditions.find((c) => c.type === type) ?? { type, status: 'False' as const, lastTransitionTime: nowRFC3339(this.now()), reason: okReasons[type], message: okMessages[type] };
      const old = conditions.find((c) => c.type === type);
      if (!old) {
        conditions.push(next);
        changed = true;
      } else if (old.status !== next.status || old.message !== next.message || old.reason !== next.reason) {
        if (old.status !== next.status) old.lastTransitionTime = nowRFC3339(this.now());
        old.status = next.status;
        old.reason = next.reason;
        old.message = next.message;
        changed = true;
      }
    }
    return changed;
  }
}

/** GVRDeletionMetadata is what deleting one resource's collection left behind. */
interface GVRDeletionMetadata {
  finalizerEstimateSeconds: number;
  numRemaining: number;
  finalizersToNumRemaining: Map<string, number>;
  error?: Error;
}

interface ItemMeta {
  metadata?: { name?: string; finalizers?: string[] };
}

/** NamespacedResourcesDeleterOptions configure the deleter. */
export interface NamespacedResourcesDeleterOptions {
  client: Client;
  /** discover lists the served resources (called on every deletion, so a new CRD is covered at once). */
  discover(): Promise<DiscoveryResult>;
  /** finalizerToken is the spec finalizer this deleter owns (default `kubernetes`). */
  finalizerToken?: string;
  log?: Logger;
  now?: () => Date;
}

/** NamespacedResourcesDeleter deletes all content of a terminating namespace, then finalizes it. */
export class NamespacedResourcesDeleter {
  /** notSupported remembers `verb|resource` pairs the server refused (405/404) although discovery listed them. */
  private readonly notSupported = new Set<string>();
  private readonly token: string;

  constructor(private readonly opts: NamespacedResourcesDeleterOptions) {
    this.token = opts.finalizerToken ?? FinalizerKubernetes;
  }

  private get client(): Client {
    return this.opts.client;
  }

  /**
   * delete empties namespace nsName if it is terminating and removes this deleter's finalizer.
   * It throws ResourcesRemainingError while content is still going away, and any other error
   * when some step failed; the caller retries until it returns.
   */
  async delete(nsName: string): Promise<void> {
    let ns: Namespace;
    try {
      ns = await this.client.get<Namespace>(Namespaces, '', nsName);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    this.opts.log?.v(5).info('Syncing terminating namespace', { namespace: nsName, finalizer: this.token });
    try {
      ns = await this.retryOnConflict(ns, (n) => this.updateNamespaceStatus(n));
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    // Already finalized by this deleter: what other finalizers wait for is not its business.
    if (!(ns.spec?.finalizers ?? []).includes(this.token)) return;
    const { estimate, namespace } = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);
    try {
      await this.retryOnConflict(namespace, (n) => this.finalizeNamespace(n));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** retryOnConflict runs fn, and on a conflict runs it again on the latest namespace (the same uid). */
  private async retryOnConflict(ns: Namespace, fn: (ns: Namespace) => Promise<Namespace>): Promise<Namespace> {
    let latest = ns;
    for (;;) {
      try {
        return await fn(latest);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      const prev = latest;
      latest = await this.client.get<Namespace>(Namespaces, '', prev.metadata.name ?? '');
      if (prev.metadata.uid !== latest.metadata.uid) throw new Error('namespace uid has changed across retries');
    }
  }

  /** updateNamespaceStatus makes sure a namespace being deleted says Terminating. */
  private async updateNamespaceStatus(ns: Namespace): Promise<Namespace> {
    if (!ns.metadata.deletionTimestamp || ns.status?.phase === NamespacePhase.Terminating) return ns;
    const next = structuredClone(ns);
    next.status = { ...(next.status ?? {}), phase: NamespacePhase.Terminating };
    return await this.client.update(Namespaces, next, { subresource: 'status' });
  }

  /** finalizeNamespace removes this deleter's token from spec.finalizers through /finalize. */
  private async finalizeNamespace(ns: Namespace): Promise<Namespace> {
    const finalizers = [...new Set((ns.spec?.finalizers ?? []).filter((f) => f !== this.token))].sort();
    // The whole namespace is sent (finalize reads only spec.finalizers), so what comes back is whole too.
    const next: Namespace = { ...structuredClone(ns), apiVersion: 'v1', kind: 'Namespace', spec: { ...(ns.spec ?? {}), finalizers } };
    this.opts.log?.v(2).info('Finalizing namespace', { namespace: ns.metadata.name, finalizers });
    return await this.client.update(Namespaces, next, { subresource: 'finalize' });
  }

  /**
   * deleteAllContent deletes every namespaced resource's objects in ns and returns how many
   * seconds the remaining content is estimated to need (0: all gone). It writes the status
   * conditions whenever they change, and throws if some step failed.
   */
  private async deleteAllContent(ns: Namespace): Promise<{ estimate: number; namespace: Namespace }> {
    const name = ns.metadata.name ?? '';
    const errs: Error[] = [];
    const conditions = new NamespaceConditionUpdater(this.opts.now);
    let resources: DiscoveredResource[] = [];
    try {
      const d = await this.opts.discover();
      resources = d.resources;
      // Discovery errors are not fatal: delete what can be deleted, and do not finalize yet.
      if (d.error) {
        errs.push(d.error);
        conditions.processDiscoverResourcesErr(d.error);
      }
    } catch (err) {
      errs.push(asError(err));
      conditions.processDiscoverResourcesErr(asError(err));
    }
    const deletable = resources.filter((r) => r.preferred && r.namespaced && supportsVerbs(r, 'delete'));

    let estimate = 0;
    const gvrToNumRemaining = new Map<DiscoveredResource, number>();
    const finalizersToNumRemaining = new Map<string, number>();
    for (const r of deletable) {
      const md = await this.deleteAllContentForGroupVersionResource(r, name);
      if (md.error) {
        errs.push(md.error);
        conditions.processDeleteContentErr(md.error);
      }
      if (md.finalizerEstimateSeconds > estimate) estimate = md.finalizerEstimateSeconds;
      if (md.numRemaining > 0) {
        gvrToNumRemaining.set(r, md.numRemaining);
        for (const [f, n] of md.finalizersToNumRemaining) if (n > 0) finalizersToNumRemaining.set(f, (finalizersToNumRemaining.get(f) ?? 0) + n);
      }
    }
    conditions.processContentTotals({ gvrToNumRemaining, finalizersToNumRemaining });

    // Always reconcile the conditions: a failure reported before may be resolved now.
    let namespace = ns;
    const next = structuredClone(ns);
    if (conditions.update(next)) {
      try {
        namespace = await this.client.update(Namespaces, next, { subresource: 'status' });
      } catch (err) {
        this.opts.log?.warn('Could not update the status conditions of namespace', { namespace: name, err: asError(err) });
      }
    }
    this.opts.log?.v(4).info('Deleted namespace content', { namespace: name, estimate, errors: errs.length });
    if (errs.length) throw new AggregateDeletionError(errs);
    return { estimate, namespace };
  }

  /** deleteAllContentForGroupVersionResource deletes r's objects in namespace and reports what remains. */
  private async deleteAllContentForGroupVersionResource(r: DiscoveredResource, namespace: string): Promise<GVRDeletionMetadata> {
    const none = new Map<string, number>();
    let estimate = 0;
    try {
      // Pods terminate gracefully: their grace period is the estimate.
      if (r.group === '' && r.resource === Pods.resource) estimate = await this.estimateGracefulTerminationForPods(namespace);
      const collectionDeleted = await this.deleteCollection(r, namespace);
      if (!collectionDeleted) await this.deleteEachItem(r, namespace);
    } catch (err) {
      return { finalizerEstimateSeconds: estimate, numRemaining: 0, finalizersToNumRemaining: none, error: asError(err) };
    }
    let items: ItemMeta[] | undefined;
    try {
      items = await this.listCollection(r, namespace);
    } catch (err) {
      return { finalizerEstimateSeconds: estimate, numRemaining: 0, finalizersToNumRemaining: none, error: asError(err) };
    }
    if (!items) return { finalizerEstimateSeconds: estimate, numRemaining: 0, finalizersToNumRemaining: none };
    if (!items.length) return { finalizerEstimateSeconds: 0, numRemaining: 0, finalizersToNumRemaining: none };
    const finalizers = new Map<string, number>();
    for (const item of items) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate) return { finalizerEstimateSeconds: estimate, numRemaining: items.length, finalizersToNumRemaining: finalizers };
    // Items held by finalizers are expected: give their owners (the garbage collector, say) time.
    if (finalizers.size) return { finalizerEstimateSeconds: finalizerEstimateSeconds, numRemaining: items.length, finalizersToNumRemaining: finalizers };
    return {
      finalizerEstimateSeconds: estimate,
      numRemaining: items.length,
      finalizersToNumRemaining: finalizers,
      error: new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${gvrString(r)}`),
    };
  }

  private unsupported(err: unknown): boolean {
    // A resource listed in discovery may still refuse the verb (405), or answer 404 for it.
    return err instanceof ApiError && (err.code === 405 || err.code === 404);
  }

  /** deleteCollection deletes r's objects in namespace at once; false if r does not serve deletecollection. */
  private async deleteCollection(r: DiscoveredResource, namespace: string): Promise<boolean> {
    const key = `deletecollection|${r.group}/${r.version}/${r.resource}`;
    if (!supportsVerbs(r, 'deletecollection') || this.notSupported.has(key)) return false;
    try {
      // Background: the namespace controller deletes everything itself; no orphan finalizer wanted.
      await this.client.deleteCollection(r, namespace, { propagationPolicy: 'Background' });
      return true;
    } catch (err) {
      if (!this.unsupported(err)) throw err;
      this.notSupported.add(key);
      return false;
    }
  }

  /** listCollection lists r in namespace; undefined if r does not serve list. */
  private async listCollection(r: DiscoveredResource, namespace: string): Promise<ItemMeta[] | undefined> {
    const key = `list|${r.group}/${r.version}/${r.resource}`;
    if (!supportsVerbs(r, 'list') || this.notSupported.has(key)) return undefined;
    try {
      return (await this.client.list<ItemMeta>(r, namespace)).items;
    } catch (err) {
      if (!this.unsupported(err)) throw err;
      this.notSupported.add(key);
      return undefined;
    }
  }

  /** deleteEachItem lists r in namespace and deletes the objects one by one. */
  private async deleteEachItem(r: DiscoveredResource, namespace: string): Promise<void> {
    const items = await this.listCollection(r, namespace);
    for (const item of items ?? []) {
      const name = item.metadata?.name;
      if (!name) continue;
      try {
        await this.client.delete(r, namespace, name, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** estimateGracefulTerminationForPods is the longest grace period of the namespace's non-terminal pods. */
  private async estimateGracefulTerminationForPods(namespace: string): Promise<number> {
    const pods = await this.client.list<{ spec?: { terminationGracePeriodSeconds?: number | bigint }; status?: { phase?: string } }>(Pods, namespace);
    let estimate = 0;
    for (const pod of pods.items) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      // An int64 beyond 2^53 arrives as a BigInt; as seconds to wait its nearest double does.
      const grace = Number(pod.spec?.terminationGracePeriodSeconds ?? 0);
      if (grace > estimate) estimate = grace;
    }
    return estimate;
  }
}
