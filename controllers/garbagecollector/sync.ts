// The garbage collector's decisions, as kube's garbagecollector.go: attemptToDeleteItem (delete a
// dependent whose owners are all gone, drop dangling references when some remain, delete the
// dependents of a foreground owner and then release the owner) and attemptToOrphan (remove the
// references to an owner deleted with the orphan finalizer, then release the owner). Every
// decision to delete is made on live reads, never on the graph alone, since informers lag.

import type { OwnerReference } from '../../lib/api/meta.js';
import { type Client, type DeleteOptions, isConflict, isNotFound } from '../../lib/client/client.js';
import type { Logger } from '../../lib/log.js';
import type { DiscoveredResource, ResourceMapper } from '../common/discovery.js';
import {
  FinalizerDeleteDependents,
  FinalizerOrphanDependents,
  type GraphBuilder,
  type GraphNode,
  type MetaObject,
  type ObjectIdentity,
  identityString,
} from './graph.js';

/** WorkOutcome tells the queue what to do with an item: forget it, retry it with backoff, or park it until discovery changes. */
export type WorkOutcome = 'forget' | 'requeue' | 'unknownKind';

/** UnknownKindError: an apiVersion/kind that no served resource has (a CRD not yet, or no longer, served). */
export class UnknownKindError extends Error {
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(`unable to map ${apiVersion}, Kind=${kind} to a served resource`);
    this.name = 'UnknownKindError';
  }
}

/** updateMaxRetries bounds read-modify-write retries on conflicts within one attempt (client-go's retry.DefaultBackoff.Steps). */
const updateMaxRetries = 5;

interface LiveObject extends MetaObject {
  metadata: NonNullable<MetaObject['metadata']>;
}

type Reference = { kind: 'solid'; ref: OwnerReference } | { kind: 'dangling'; ref: OwnerReference } | { kind: 'waiting'; ref: OwnerReference };

/** GarbageCollectorOptions are what the collector acts with. */
export interface GarbageCollectorOptions {
  client: Client;
  graph: GraphBuilder;
  /** mapper returns the current ResourceMapper (it changes with discovery). */
  mapper: () => ResourceMapper;
  /** attemptToDelete queues a node for another attemptToDeleteItem. */
  attemptToDelete(node: GraphNode): void;
  log?: Logger;
}

/** GarbageCollector holds the decisions; the queues and their workers live in controller.ts. */
export class GarbageCollector {
  constructor(private readonly opts: GarbageCollectorOptions) {}

  private get client(): Client {
    return this.opts.client;
  }

  private resourceOf(apiVersion: string, kind: string): DiscoveredResource {
    const r = this.opts.mapper().resourceFor(apiVersion, kind);
    if (!r) throw new UnknownKindError(apiVersion, kind);
    return r;
  }

  /** getObject reads identity live (namespace dropped for cluster-scoped kinds). */
  private async getObject(id: ObjectIdentity): Promise<LiveObject> {
    const r = this.resourceOf(id.apiVersion, id.kind);
    return await this.client.get<LiveObject>(r, r.namespaced ? id.namespace : '', id.name);
  }

  /**
   * attemptToDeleteWorker processes one node of the attemptToDelete queue (by uid) and says
   * what the queue should do with it next.
   */
  async attemptToDeleteWorker(uid: string): Promise<WorkOutcome> {
    const node = this.opts.graph.node(uid);
    // Gone from the graph: its deletion was observed and its dependents were queued then.
    if (!node) return 'forget';
    try {
      const outcome = await this.attemptToDeleteItem(node);
      if (outcome === 'virtualDeleted' || outcome === 'invalid') return 'forget';
    } catch (err) {
      if (err instanceof UnknownKindError) return 'unknownKind';
      throw err;
    }
    // A virtual node whose object exists: wait for the informer to observe it, else a node added
    // and removed while a watch was re-established could stay in the graph forever.
    if (node.virtual && this.opts.graph.node(uid) === node) return 'requeue';
    return 'forget';
  }

  /**
   * attemptToDeleteItem is kube's: it deletes node's object when none of its owners remains,
   * removes dangling references when some do, and, for an owner deleting in the foreground,
   * deletes its blocking dependents and then removes the foregroundDeletion finalizer.
   */
  async attemptToDeleteItem(node: GraphNode): Promise<'done' | 'virtualDeleted' | 'invalid'> {
    const log = this.opts.log;
    // Being deleted (not in the foreground): a one-way trip; its deletion event will queue its dependents.
    if (node.beingDeleted && !node.deletingDependents) return 'done';
    let latest: LiveObject;
    try {
      latest = await this.getObject(node.identity);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // A virtual owner that does not exist (or an object deleted meanwhile): drop it from the graph.
      log?.v(5).info('Item not found; removing it from the graph', { item: identityString(node.identity) });
      this.opts.graph.virtualDelete(node.identity);
      return 'virtualDeleted';
    }
    if (latest.metadata.uid !== node.identity.uid) {
      log?.v(5).info('UID does not match; removing the item from the graph', { item: identityString(node.identity) });
      this.opts.graph.virtualDelete(node.identity);
      return 'virtualDeleted';
    }
    if (node.deletingDependents) {
      await this.processDeletingDependentsItem(node);
      return 'done';
    }
    const refs = latest.metadata.ownerReferences ?? [];
    if (!refs.length) return 'done';

    const classified = await this.classifyReferences(node, refs);
    if (classified === 'invalid') return 'invalid';
    const solid = classified.filter((c) => c.kind === 'solid');
    const dangling = classified.filter((c) => c.kind === 'dangling').map((c) => c.ref);
    const waiting = classified.filter((c) => c.kind === 'waiting').map((c) => c.ref);
    log?.v(4).info('Classified references', { item: identityString(node.identity), solid: solid.length, dangling: dangling.length, waitingForDependentsDeletion: waiting.length });

    if (solid.length) {
      if (!dangling.length && !waiting.length) return 'done';
      // Some owners remain: keep the object, drop the references to the absent owners and to
      // owners waiting for their dependents' deletion (so they are not blocked).
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      log?.v(2).info('Object has at least one existing owner; removing references to absent owners', { item: identityString(node.identity), remove: [...drop] });
      await this.patchOwnerReferences(node.identity, (refs) => {
        const kept = refs.filter((r) => !drop.has(r.uid));
        return kept.length === refs.length ? undefined : kept;
      });
      return 'done';
    }
    if (waiting.length && node.dependents.size) {
      // An owner is deleted in the foreground and this object has dependents of its own: delete it
      // in the foreground too. If one of its dependents also waits (a cycle), unblock our
      // references first, or each would wait for the other forever.
      let current = latest;
      for (const dep of node.dependents) {
        if (!dep.deletingDependents) continue;
        log?.v(2).info('Owner and dependent are both deleting in the foreground; unblocking the references to avoid a cycle', { item: identityString(node.identity) });
        const patched = await this.patchOwnerReferences(node.identity, (refs) => {
          if (!refs.some((r) => r.blockOwnerDeletion === true)) return undefined;
          return refs.map((r) => (r.blockOwnerDeletion === true ? { ...r, blockOwnerDeletion: false } : r));
        });
        // Delete the version just written, so the delete's preconditions hold.
        if (patched) current = patched;
        break;
      }
      log?.v(2).info('At least one owner is deleting in the foreground and the object has dependents; deleting it in the foreground', { item: identityString(node.identity) });
      await this.deleteObject(node.identity, current, 'Foreground');
      return 'done';
    }
    // No solid owner: collect it. Honour a deletion mode already chosen for it.
    const finalizers = latest.metadata.finalizers ?? [];
    const policy = finalizers.includes(FinalizerOrphanDependents) ? 'Orphan' : finalizers.includes(FinalizerDeleteDependents) ? 'Foreground' : 'Background';
    log?.v(2).info('Deleting object', { item: identityString(node.identity), propagationPolicy: policy });
    await this.deleteObject(node.identity, latest, policy);
    return 'done';
  }

  /** classifyReferences sorts refs into solid, dangling and waiting-for-dependents-deletion owners, reading each owner live. */
  private async classifyReferences(node: GraphNode, refs: readonly OwnerReference[]): Promise<Reference[] | 'invalid'> {
    const out: Reference[] = [];
    for (const ref of refs) {
      const r = await this.isDangling(ref, node);
      if (r === 'invalid') return 'invalid';
      if (r.dangling) out.push({ kind: 'dangling', ref });
      else if (r.owner.metadata.deletionTimestamp && (r.owner.metadata.finalizers ?? []).includes(FinalizerDeleteDependents)) out.push({ kind: 'waiting', ref });
      else out.push({ kind: 'solid', ref });
    }
    return out;
  }

  /**
   * isDangling reads ref's owner live. Owners of a namespaced dependent are in its namespace
   * (or cluster-scoped); a cluster-scoped dependent may not have a namespaced owner.
   */
  private async isDangling(ref: OwnerReference, node: GraphNode): Promise<{ dangling: true } | { dangling: false; owner: LiveObject } | 'invalid'> {
    const clusterKey: ObjectIdentity = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: '' };
    const cache = this.opts.graph.absentOwnerCache;
    if (cache.has(clusterKey)) return { dangling: true };
    const nsKey = { ...clusterKey, namespace: node.identity.namespace };
    if (cache.has(nsKey)) return { dangling: true };
    const r = this.resourceOf(ref.apiVersion, ref.kind);
    if (!node.identity.namespace && r.namespaced) {
      this.opts.log?.info('Cluster-scoped object refers to a namespaced owner; leaving it alone', { item: identityString(node.identity), owner: `${ref.apiVersion}/${ref.kind} ${ref.name}` });
      return 'invalid';
    }
    const key = r.namespaced ? nsKey : clusterKey;
    let owner: LiveObject;
    try {
      owner = await this.client.get<LiveObject>(r, r.namespaced ? node.identity.namespace : '', ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      cache.add(key);
      this.opts.log?.v(5).info('Owner not found', { item: identityString(node.identity), owner: ref.name });
      return { dangling: true };
    }
    if (owner.metadata.uid !== ref.uid) {
      cache.add(key);
      this.opts.log?.v(5).info('Owner not found: UID mismatch', { item: identityString(node.identity), owner: ref.name });
      return { dangling: true };
    }
    return { dangling: false, owner };
  }

  /**
   * processDeletingDependentsItem: an owner deleting in the foreground loses its finalizer once
   * no dependent blocks it any more; until then its blocking dependents are queued for deletion.
   */
  private async processDeletingDependentsItem(node: GraphNode): Promise<void> {
    const blocking = node.blockingDependents();
    if (!blocking.length) {
      this.opts.log?.v(2).info('Removing the foregroundDeletion finalizer: no dependent blocks the owner', { item: identityString(node.identity) });
      await this.removeFinalizer(node.identity, FinalizerDeleteDependents);
      return;
    }
    for (const dep of blocking) {
      // A dependent deleting its own dependents is on its way; queuing it again would not help.
      if (!dep.deletingDependents) this.opts.attemptToDelete(dep);
    }
  }

  /**
   * deleteObject deletes id with preconditions on its uid and the resourceVersion the decision
   * was made on. If the object changed meanwhile but its ownerReferences did not, the decision
   * still holds and the delete is retried with the uid precondition only.
   */
  private async deleteObject(id: ObjectIdentity, latest: LiveObject, policy: NonNullable<DeleteOptions['propagationPolicy']>): Promise<void> {
    const r = this.resourceOf(id.apiVersion, id.kind);
    const namespace = r.namespaced ? id.namespace : '';
    const rv = latest.metadata.resourceVersion;
    try {
      await this.client.delete(r, namespace, id.name, { preconditions: rv ? { uid: id.uid, resourceVersion: rv } : { uid: id.uid }, propagationPolicy: policy });
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err) || !rv) throw err;
    }
    let live: LiveObject;
    try {
      live = await this.client.get<LiveObject>(r, namespace, id.name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (live.metadata.uid !== id.uid) return;
    if (JSON.stringify(live.metadata.ownerReferences ?? []) !== JSON.stringify(latest.metadata.ownerReferences ?? [])) {
      throw new Error(`ownerReferences of ${identityString(id)} changed; deciding again`);
    }
    try {
      await this.client.delete(r, namespace, id.name, { preconditions: { uid: id.uid }, propagationPolicy: policy });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * patchOwnerReferences rewrites id's ownerReferences with change (undefined: nothing to do).
   * It returns the patched object, if it patched.
   */
  private patchOwnerReferences(id: ObjectIdentity, change: (refs: OwnerReference[]) => OwnerReference[] | undefined): Promise<LiveObject | undefined> {
    return this.patchLive(id, (live) => {
      const next = change(live.metadata.ownerReferences ?? []);
      return next && { ownerReferences: next.length ? next : null };
    });
  }

  /** removeFinalizer removes finalizer from id. */
  async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    await this.patchLive(id, (live) => {
      const finalizers = live.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return undefined;
      const rest = finalizers.filter((f) => f !== finalizer);
      return { finalizers: rest.length ? rest : null };
    });
  }

  /**
   * patchLive reads id live, asks change for the metadata fields to set (undefined: nothing to
   * do), and writes them as a JSON merge patch guarded by the uid and resourceVersion it read,
   * which works for every kind, custom resources included; on a conflict it reads again, up to
   * updateMaxRetries times. A missing object, or one recreated under another uid, needs nothing.
   * It returns the patched object, if it patched.
   */
  private async patchLive(id: ObjectIdentity, change: (live: LiveObject) => Record<string, unknown> | undefined): Promise<LiveObject | undefined> {
    const r = this.resourceOf(id.apiVersion, id.kind);
    const namespace = r.namespaced ? id.namespace : '';
    for (let attempt = 1; ; attempt++) {
      let live: LiveObject;
      try {
        live = await this.client.get<LiveObject>(r, namespace, id.name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if (live.metadata.uid !== id.uid) return undefined;
      const fields = change(live);
      if (!fields) return undefined;
      try {
        return await this.client.patch<LiveObject>(r, namespace, id.name, 'merge', { metadata: { ...fields, uid: id.uid, resourceVersion: live.metadata.resourceVersion } });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (!isConflict(err)) throw err;
        if (attempt >= updateMaxRetries) throw new Error(`updateMaxRetries(${updateMaxRetries}) has reached. The garbage collector will retry later for ${identityString(id)}`, { cause: err });
      }
    }
  }

  /**
   * attemptToOrphanWorker processes one owner of the attemptToOrphan queue (by uid): it removes
   * the references to the owner from all its dependents, then the owner's orphan finalizer.
   */
  async attemptToOrphanWorker(uid: string): Promise<WorkOutcome> {
    const owner = this.opts.graph.node(uid);
    if (!owner) return 'forget';
    const dependents = [...owner.dependents];
    try {
      await this.orphanDependents(owner.identity, dependents);
      await this.removeFinalizer(owner.identity, FinalizerOrphanDependents);
    } catch (err) {
      if (err instanceof UnknownKindError) return 'unknownKind';
      throw err;
    }
    return 'forget';
  }

  /** orphanDependents removes the references to owner from every dependent (all at once; any failure retries the owner). */
  private async orphanDependents(owner: ObjectIdentity, dependents: readonly GraphNode[]): Promise<void> {
    const results = await Promise.allSettled(
      dependents.map((dep) =>
        this.patchOwnerReferences(dep.identity, (refs) => {
          const kept = refs.filter((r) => r.uid !== owner.uid);
          return kept.length === refs.length ? undefined : kept;
        }),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    if (failed.length) {
      const unknown = failed.find((e) => e instanceof UnknownKindError);
      if (unknown) throw unknown;
      throw new Error(`failed to orphan dependents of owner ${identityString(owner)}: ${failed.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
    }
    this.opts.log?.v(5).info('Successfully updated all dependents', { owner: identityString(owner), dependents: dependents.length });
  }
}
