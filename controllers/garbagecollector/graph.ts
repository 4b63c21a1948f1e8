// The garbage collector's dependency graph, as kube's graph_builder.go: every object the
// monitors (one informer per listable resource) see becomes a node keyed by uid, linked to its
// owners and dependents through ownerReferences. An owner referenced before (or without) being
// observed is a "virtual" node that the collector checks with a live read. The builder turns
// informer events into graph changes and into work for the two queues: attemptToDelete (a
// dependent that may have lost its owners, or an owner deleting its dependents in the
// foreground) and attemptToOrphan (an owner deleted with the orphan finalizer).
//
// Events are applied synchronously from the informers' callbacks: JavaScript runs one at a time,
// which gives the single-writer guarantee kube's one processGraphChanges goroutine gives.

import type { OwnerReference } from '../../lib/api/meta.js';
import { type ResourceType, apiVersionOf } from '../../lib/client/client.js';
import type { Logger } from '../../lib/log.js';
import { resourceID } from '../common/discovery.js';

/** FinalizerOrphanDependents is metav1.FinalizerOrphanDependents: orphan the dependents, then go. */
export const FinalizerOrphanDependents = 'orphan';
/** FinalizerDeleteDependents is metav1.FinalizerDeleteDependents: delete the blocking dependents first (foreground). */
export const FinalizerDeleteDependents = 'foregroundDeletion';

/** ObjectIdentity is kube's objectReference: an owner reference's coordinates plus a namespace ('' for cluster-scoped). */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  namespace: string;
}

/** MetaObject is the part of an object the graph reads (all it keeps is metadata). */
export interface MetaObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    ownerReferences?: OwnerReference[];
  };
}

/** identityString is an identity in logs: `apps/v1/ReplicaSet, namespace: default, name: web, uid: …`. */
export function identityString(id: ObjectIdentity): string {
  return `[${id.apiVersion}/${id.kind}, namespace: ${id.namespace}, name: ${id.name}, uid: ${id.uid}]`;
}

/** ownerReferenceMatchesCoordinates: same uid, name, kind and apiVersion. */
export function ownerReferenceMatchesCoordinates(a: Pick<OwnerReference, 'uid' | 'name' | 'kind' | 'apiVersion'>, b: Pick<OwnerReference, 'uid' | 'name' | 'kind' | 'apiVersion'>): boolean {
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion;
}

function sameIdentity(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return ownerReferenceMatchesCoordinates(a, b) && a.namespace === b.namespace;
}

/** GraphNode is one object (or a virtual owner) in the graph. */
export class GraphNode {
  owners: OwnerReference[] = [];
  readonly dependents = new Set<GraphNode>();
  /** virtual is true until an informer has observed the object (kube's !isObserved()). */
  virtual: boolean;
  /** beingDeleted: the object has a deletionTimestamp (a one-way trip). */
  beingDeleted = false;
  /** deletingDependents: being deleted in the foreground; its blocking dependents go first. */
  deletingDependents = false;
  /** lastSeen is the deletion state of the last observed version, to detect transitions. */
  lastSeen: { beingDeleted: boolean; finalizers: readonly string[] } | undefined;

  constructor(
    public identity: ObjectIdentity,
    virtual: boolean,
  ) {
    this.virtual = virtual;
  }

  /** blockingDependents are the dependents whose ownerReference to this node has blockOwnerDeletion: true. */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }
}

/** GraphQueues receive the work the builder finds. */
export interface GraphQueues {
  attemptToDelete(node: GraphNode): void;
  /** attemptToDeleteLater queues node with backoff (kube's AddRateLimited), for checks that may repeat. */
  attemptToDeleteLater?(node: GraphNode): void;
  attemptToOrphan(node: GraphNode): void;
}

/** AbsentOwnerCache remembers owners verified absent (an LRU, as kube's ReferenceCache), so siblings skip the live read. */
export class AbsentOwnerCache {
  private readonly entries = new Map<string, true>();
  constructor(private readonly size = 500) {}

  private static id(r: ObjectIdentity): string {
    return `${r.uid}|${r.apiVersion}|${r.kind}|${r.name}|${r.namespace}`;
  }

  add(r: ObjectIdentity): void {
    const k = AbsentOwnerCache.id(r);
    this.entries.delete(k);
    this.entries.set(k, true);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
  }

  has(r: ObjectIdentity): boolean {
    const k = AbsentOwnerCache.id(r);
    if (!this.entries.has(k)) return false;
    this.entries.delete(k);
    this.entries.set(k, true);
    return true;
  }
}

function hasFinalizer(finalizers: readonly string[], f: string): boolean {
  return finalizers.includes(f);
}

/** deletionStartsWithFinalizer: the object now is being deleted with finalizer f, and was not before. */
function deletionStartsWithFinalizer(prev: GraphNode['lastSeen'], beingDeleted: boolean, finalizers: readonly string[], f: string): boolean {
  if (!beingDeleted || !hasFinalizer(finalizers, f)) return false;
  if (!prev) return true;
  return !prev.beingDeleted || !hasFinalizer(prev.finalizers, f);
}

/** partitionDependents splits deps into those whose reference to owner matches its coordinates and those that do not (kube's). */
export function partitionDependents(deps: Iterable<GraphNode>, owner: ObjectIdentity): { matching: GraphNode[]; nonmatching: GraphNode[] } {
  const matching: GraphNode[] = [];
  const nonmatching: GraphNode[] = [];
  const ownerIsNamespaced = owner.namespace !== '';
  for (const dep of deps) {
    let match = false;
    let mismatch = false;
    if (ownerIsNamespaced && dep.identity.namespace !== owner.namespace) {
      mismatch = true;
    } else {
      for (const ref of dep.owners) {
        if (ref.uid !== owner.uid) continue;
        if (ownerReferenceMatchesCoordinates(ref, owner)) match = true;
        else mismatch = true;
      }
    }
    if (match) matching.push(dep);
    if (mismatch) nonmatching.push(dep);
  }
  return { matching, nonmatching };
}

/** GraphBuilder keeps the graph from informer events. */
export class GraphBuilder {
  readonly uidToNode = new Map<string, GraphNode>();
  readonly absentOwnerCache = new AbsentOwnerCache();
  /** names maps a monitored resource's `namespace/name` to the uid last seen there, to notice replacement. */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly queues: GraphQueues,
    private readonly log?: Logger,
  ) {}

  /** node is the graph node of uid, if any. */
  node(uid: string): GraphNode | undefined {
    return this.uidToNode.get(uid);
  }

  /** identityOf is the identity of obj as served by r (the monitored version, as kube's identityFromEvent). */
  static identityOf(r: ResourceType, obj: MetaObject): ObjectIdentity | undefined {
    const m = obj.metadata;
    if (!m?.uid || !m.name) return undefined;
    return { apiVersion: apiVersionOf(r), kind: r.kind, name: m.name, uid: m.uid, namespace: r.namespaced ? (m.namespace ?? '') : '' };
  }

  private nameKey(r: ResourceType, id: ObjectIdentity): string {
    return `${resourceID(r)}|${id.namespace}|${id.name}`;
  }

  /** observe applies an informer's add or update of obj, served by r. */
  observe(r: ResourceType, obj: MetaObject): void {
    const identity = GraphBuilder.identityOf(r, obj);
    if (!identity) return;
    const m = obj.metadata!;
    // An informer that re-listed may report a deleted-and-recreated object as an update: the old uid is gone.
    const nk = this.nameKey(r, identity);
    const prevUID = this.names.get(nk);
    if (prevUID !== undefined && prevUID !== identity.uid) {
      const old = this.uidToNode.get(prevUID);
      if (old && !old.virtual) this.removeObserved(old, old.identity);
    }
    this.names.set(nk, identity.uid);

    const owners = [...(m.ownerReferences ?? [])];
    const beingDeleted = !!m.deletionTimestamp;
    const finalizers = [...(m.finalizers ?? [])];
    let node = this.uidToNode.get(identity.uid);
    if (node?.virtual) {
      // First observation of an owner known only from references: check the dependents that named it differently.
      if (!sameIdentity(node.identity, identity)) {
        const { nonmatching } = partitionDependents(node.dependents, identity);
        for (const dep of nonmatching) {
          if (identity.namespace && dep.identity.namespace !== identity.namespace) {
            this.log?.v(2).info('Item references an owner in another namespace', { item: identityString(dep.identity), owner: identityString(identity) });
          }
          this.queues.attemptToDelete(dep);
        }
        node.identity = identity;
      }
      node.virtual = false;
    }
    if (!node) {
      node = new GraphNode(identity, false);
      node.owners = owners;
      node.beingDeleted = beingDeleted;
      node.deletingDependents = beingDeleted && hasFinalizer(finalizers, FinalizerDeleteDependents);
      this.uidToNode.set(identity.uid, node);
      this.addDependentToOwners(node, owners);
    } else {
      const { added, removed, changed } = referencesDiffs(node.owners, owners);
      if (added.length || removed.length || changed.length) {
        // A dependent that no longer blocks may be what a foreground owner waits for.
        this.addUnblockedOwnersToDeleteQueue(removed, changed);
        node.owners = owners;
        this.addDependentToOwners(node, added);
        this.removeDependentFromOwners(node, removed);
      }
      if (beingDeleted) node.beingDeleted = true;
    }
    this.processTransitions(node.lastSeen, beingDeleted, finalizers, node);
    node.lastSeen = { beingDeleted, finalizers };
  }

  /** observeDelete applies an informer's delete of obj, served by r. */
  observeDelete(r: ResourceType, obj: MetaObject): void {
    const identity = GraphBuilder.identityOf(r, obj);
    if (!identity) return;
    const nk = this.nameKey(r, identity);
    if (this.names.get(nk) === identity.uid) this.names.delete(nk);
    const node = this.uidToNode.get(identity.uid);
    if (!node) return;
    this.removeObserved(node, identity);
  }

  /**
   * virtualDelete applies what the collector verified with a live read: identity does not exist
   * (404, or another uid under that name). A real node observed under other coordinates stays;
   * only the dependents that named it by the absent coordinates are checked again.
   */
  virtualDelete(identity: ObjectIdentity): void {
    const node = this.uidToNode.get(identity.uid);
    if (!node) return;
    if (node.virtual) {
      const { matching, nonmatching } = partitionDependents(node.dependents, identity);
      if (nonmatching.length) {
        // Some dependents know this owner by other coordinates: keep the node, check those that matched.
        if (matching.length) {
          this.absentOwnerCache.add(identity);
          for (const dep of matching) this.queues.attemptToDelete(dep);
        }
        if (sameIdentity(node.identity, identity)) {
          const alt = alternateOwnerIdentity(nonmatching, identity);
          if (alt) {
            // With backoff: if these coordinates are absent too, the next check swaps back.
            node.identity = alt;
            (this.queues.attemptToDeleteLater ?? this.queues.attemptToDelete)(node);
          }
        }
        return;
      }
    } else if (!sameIdentity(node.identity, identity)) {
      const { matching } = partitionDependents(node.dependents, identity);
      if (matching.length) {
        this.absentOwnerCache.add(identity);
        for (const dep of matching) this.queues.attemptToDelete(dep);
      }
      return;
    }
    this.removeObserved(node, identity);
  }

  /** removeObserved drops node and queues what its absence affects: its dependents, and owners waiting on it. */
  private removeObserved(node: GraphNode, identity: ObjectIdentity): void {
    this.uidToNode.delete(node.identity.uid);
    this.removeDependentFromOwners(node, node.owners);
    if (node.dependents.size) this.absentOwnerCache.add(identity);
    for (const dep of node.dependents) this.queues.attemptToDelete(dep);
    for (const ref of node.owners) {
      const owner = this.uidToNode.get(ref.uid);
      // Let a foreground owner check whether this was the last dependent it waited for.
      if (owner?.deletingDependents) this.queues.attemptToDelete(owner);
    }
  }

  private addDependentToOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    let potentiallyInvalid = false;
    for (const ref of owners) {
      let owner = this.uidToNode.get(ref.uid);
      if (!owner) {
        // An owner not seen (yet): a virtual node the collector will verify with a live read.
        owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace }, true);
        this.uidToNode.set(ref.uid, owner);
        owner.dependents.add(node);
        this.queues.attemptToDelete(owner);
        continue;
      }
      owner.dependents.add(node);
      if (potentiallyInvalid) continue;
      const ownerNamespaced = owner.identity.namespace !== '';
      if (ownerNamespaced && owner.identity.namespace !== node.identity.namespace) {
        if (!owner.virtual) this.log?.v(2).info('Item references an owner in another namespace', { item: identityString(node.identity), owner: identityString(owner.identity) });
        potentiallyInvalid = true;
      } else if (!ownerReferenceMatchesCoordinates(ref, owner.identity)) {
        potentiallyInvalid = true;
      } else if (!ownerNamespaced && owner.identity.namespace !== node.identity.namespace && owner.virtual) {
        potentiallyInvalid = true;
      }
    }
    // The collector verifies the references with live reads and deletes the dependent only if all are absent.
    if (potentiallyInvalid) this.queues.attemptToDelete(node);
  }

  private removeDependentFromOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    for (const ref of owners) this.uidToNode.get(ref.uid)?.dependents.delete(node);
  }

  private addUnblockedOwnersToDeleteQueue(removed: readonly OwnerReference[], changed: ReadonlyArray<{ oldRef: OwnerReference; newRef: OwnerReference }>): void {
    for (const ref of removed) {
      if (ref.blockOwnerDeletion !== true) continue;
      const owner = this.uidToNode.get(ref.uid);
      if (owner) this.queues.attemptToDelete(owner);
    }
    for (const c of changed) {
      if (c.oldRef.blockOwnerDeletion === true && c.newRef.blockOwnerDeletion !== true) {
        const owner = this.uidToNode.get(c.newRef.uid);
        if (owner) this.queues.attemptToDelete(owner);
      }
    }
  }

  private processTransitions(prev: GraphNode['lastSeen'], beingDeleted: boolean, finalizers: readonly string[], node: GraphNode): void {
    if (deletionStartsWithFinalizer(prev, beingDeleted, finalizers, FinalizerOrphanDependents)) {
      this.log?.v(5).info('Add item to attemptToOrphan', { item: identityString(node.identity) });
      this.queues.attemptToOrphan(node);
      return;
    }
    if (deletionStartsWithFinalizer(prev, beingDeleted, finalizers, FinalizerDeleteDependents)) {
      this.log?.v(5).info('Add item and its dependents to attemptToDelete', { item: identityString(node.identity) });
      node.deletingDependents = true;
      for (const dep of node.dependents) this.queues.attemptToDelete(dep);
      this.queues.attemptToDelete(node);
    }
  }
}

/** referencesDiffs compares two ownerReference lists by uid. */
export function referencesDiffs(
  old: readonly OwnerReference[],
  next: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: Array<{ oldRef: OwnerReference; newRef: OwnerReference }> } {
  const oldByUID = new Map(old.map((r) => [r.uid, r]));
  const added: OwnerReference[] = [];
  const changed: Array<{ oldRef: OwnerReference; newRef: OwnerReference }> = [];
  for (const r of next) {
    const o = oldByUID.get(r.uid);
    if (!o) added.push(r);
    else {
      if (!refEqual(o, r)) changed.push({ oldRef: o, newRef: r });
      oldByUID.delete(r.uid);
    }
  }
  return { added, removed: [...oldByUID.values()], changed };
}

function refEqual(a: OwnerReference, b: OwnerReference): boolean {
  return ownerReferenceMatchesCoordinates(a, b) && (a.controller ?? false) === (b.controller ?? false) && (a.blockOwnerDeletion ?? false) === (b.blockOwnerDeletion ?? false);
}

/** alternateOwnerIdentity is another set of coordinates the dependents use for the owner (kube's getAlternateOwnerIdentity). */
function alternateOwnerIdentity(deps: readonly GraphNode[], verified: ObjectIdentity): ObjectIdentity | undefined {
  const candidates: ObjectIdentity[] = [];
  for (const dep of deps) {
    for (const ref of dep.owners) {
      if (ref.uid !== verified.uid) continue;
      const id: ObjectIdentity = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: dep.identity.namespace };
      if (!sameIdentity(id, verified)) candidates.push(id);
    }
  }
  if (!candidates.length) return undefined;
  // Deterministic: the smallest coordinates after the verified ones, as kube sorts them.
  const key = (i: ObjectIdentity) => `${i.apiVersion}|${i.kind}|${i.name}|${i.namespace}`;
  candidates.sort((a, b) => key(a).localeCompare(key(b)));
  return candidates.find((c) => key(c) > key(verified)) ?? candidates[0];
}
