// ControllerRefManager claims children for a controller, as kube's BaseControllerRefManager /
// ClaimPods / ClaimReplicaSets (pkg/controller/controller_ref_manager.go), for any kind:
//
//  - a child whose controller ownerReference names another owner (another uid) is not ours:
//    ignored;
//  - a child we own that still matches the selector is claimed; one that stopped matching is
//    released (a PATCH deleting our ownerReference), unless we are being deleted;
//  - an orphan that matches is adopted (a PATCH adding a controller ownerReference with
//    blockOwnerDeletion), unless we or it are being deleted; before the first adoption the
//    owner is read fresh from the apiserver (RecheckDeletionTimestamp), because the cache may
//    not show yet that it was deleted (or deleted and recreated under the same name).
//
// Both patches are strategic merge patches on metadata.ownerReferences (merge key uid) that
// also carry the child's uid: if the child was deleted and recreated under the same name, the
// apiserver refuses the patch instead of touching the new object.

import type { OwnerReference } from '../../lib/api/meta.js';
import { ApiError, type Client, type ResourceType, apiVersionOf, isConflict, isNotFound } from '../../lib/client/client.js';
import { type LabelSelectorExpr, matches } from '../../lib/machinery/labels.js';

/** OwnedObject is the part of a child object claiming reads. */
export interface OwnedObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: readonly OwnerReference[];
  };
}

/** ControllerObject is the part of a controller (the owner) claiming reads. */
export interface ControllerObject {
  metadata: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string };
}

/** getControllerOf is metav1.GetControllerOf: the ownerReference with controller: true, if any. */
export function getControllerOf(obj: OwnedObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** newControllerRef is metav1.NewControllerRef: a controller reference to owner, blocking its deletion until the child is gone. */
export function newControllerRef(owner: ControllerObject, ownerType: Pick<ResourceType, 'group' | 'version' | 'kind'>): OwnerReference {
  return {
    apiVersion: apiVersionOf(ownerType),
    kind: ownerType.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** ClaimError reports the children that could not be adopted or released; claimed holds those that were claimed anyway. */
export class ClaimError<T> extends Error {
  constructor(
    readonly errors: readonly Error[],
    readonly claimed: T[],
  ) {
    // utilerrors.NewAggregate's text: one error as is, several in brackets.
    super(errors.length === 1 ? errors[0]!.message : `[${errors.map((e) => e.message).join(', ')}]`);
    this.name = 'ClaimError';
  }
}

/** ControllerRefManagerOptions describe one owner and the children it claims. */
export interface ControllerRefManagerOptions<O extends ControllerObject> {
  client: Client;
  /** owner is the controller (a ReplicaSet, a Deployment), usually from a cache. */
  owner: O;
  /** ownerType is the owner's resource: its apiVersion and kind go into ownerReferences, and the recheck GETs it. */
  ownerType: ResourceType;
  /** resource is the children's resource (Pods, ReplicaSets, …). */
  resource: ResourceType;
  /** selector is the owner's selector; children must match it to be claimed. */
  selector: LabelSelectorExpr;
  /**
   * canAdopt may refuse adoption by throwing; by default it is recheckDeletionTimestamp over a
   * fresh GET of the owner that must have the same uid. Called at most once per manager.
   */
  canAdopt?: () => Promise<void>;
}

/**
 * recheckDeletionTimestamp is kube's RecheckDeletionTimestamp: it reads the owner fresh and
 * refuses (throws) when that fails or the owner is being deleted.
 */
export function recheckDeletionTimestamp(getObject: () => Promise<ControllerObject>): () => Promise<void> {
  return async () => {
    let obj: ControllerObject;
    try {
      obj = await getObject();
    } catch (err) {
      throw new Error(`can't recheck DeletionTimestamp: ${errText(err)}`, { cause: err });
    }
    if (obj.metadata.deletionTimestamp) {
      throw new Error(`${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''} has just been deleted at ${obj.metadata.deletionTimestamp}`);
    }
  };
}

/** ControllerRefManager claims, adopts and releases the children of one owner. Make one per sync. */
export class ControllerRefManager<O extends ControllerObject> {
  private readonly opts: ControllerRefManagerOptions<O>;
  private canAdoptOnce: Promise<void> | undefined;

  constructor(opts: ControllerRefManagerOptions<O>) {
    this.opts = opts;
  }

  /**
   * claim returns the children the owner controls after adopting and releasing as above.
   * filters narrow "matches" beyond the selector (all must hold). It tries every child, then
   * throws a ClaimError when any adoption or release failed (the caller retries the sync).
   */
  async claim<T extends OwnedObject>(objs: readonly T[], ...filters: Array<(obj: T) => boolean>): Promise<T[]> {
    const match = (o: T) => matches(this.opts.selector, o.metadata?.labels) && filters.every((f) => f(o));
    const claimed: T[] = [];
    const errors: Error[] = [];
    // One child at a time, as kube does: a burst of adoptions is a burst of PATCHes, and the
    // first failure of canAdopt is cached anyway.
    for (const obj of objs) {
      try {
        const got = await this.claimObject(obj, match);
        if (got) claimed.push(got);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (errors.length) throw new ClaimError(errors, claimed);
    return claimed;
  }

  /** claimObject is BaseControllerRefManager.ClaimObject: the claimed child (possibly as patched), or undefined. */
  private async claimObject<T extends OwnedObject>(obj: T, match: (o: T) => boolean): Promise<T | undefined> {
    const owner = this.opts.owner.metadata;
    const ref = getControllerOf(obj);
    if (ref) {
      if (ref.uid !== owner.uid) return undefined; // Owned by someone else.
      if (match(obj)) return obj;
      // Ours but no longer selected: release it, unless we are being deleted (the garbage
      // collector and the owner's finalizers decide then).
      if (owner.deletionTimestamp) return undefined;
      await this.release(obj);
      return undefined;
    }
    // An orphan.
    if (owner.deletionTimestamp || !match(obj)) return undefined;
    if (obj.metadata?.deletionTimestamp) return undefined;
    if (owner.namespace && owner.namespace !== obj.metadata?.namespace) return undefined;
    try {
      return await this.adopt(obj);
    } catch (err) {
      // Gone meanwhile: nothing to claim.
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** canAdopt runs the adoption check once per manager and remembers its answer. */
  canAdopt(): Promise<void> {
    this.canAdoptOnce ??= (this.opts.canAdopt ?? this.defaultCanAdopt())();
    return this.canAdoptOnce;
  }

  private defaultCanAdopt(): () => Promise<void> {
    const { client, owner, ownerType } = this.opts;
    return recheckDeletionTimestamp(async () => {
      const fresh = await client.get<ControllerObject>(ownerType, owner.metadata.namespace ?? '', owner.metadata.name ?? '');
      if (fresh.metadata.uid !== owner.metadata.uid) {
        throw new Error(
          `original ${ownerType.kind} ${owner.metadata.namespace}/${owner.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`,
        );
      }
      return fresh;
    });
  }

  /** adopt makes the owner obj's controller (kube's AdoptPod / AdoptReplicaSet) and returns obj as the apiserver answered. */
  async adopt<T extends OwnedObject>(obj: T): Promise<T> {
    const { client, resource, ownerType, owner } = this.opts;
    const m = obj.metadata ?? {};
    try {
      await this.canAdopt();
    } catch (err) {
      throw new Error(`can't adopt ${resource.kind} ${m.namespace}/${m.name} (${m.uid}): ${errText(err)}`, { cause: err });
    }
    const patch = { metadata: { ownerReferences: [newControllerRef(owner, ownerType)], uid: m.uid } };
    const out = await client.patch<T>(resource, m.namespace ?? '', m.name ?? '', 'strategic', patch);
    return out && typeof out === 'object' && (out as OwnedObject).metadata ? out : obj;
  }

  /**
   * release removes the owner's ownerReference from obj (kube's ReleasePod). A child that is
   * gone (404), was recreated or lost the reference already (422 from the uid check) or changed
   * under us (409) needs no release: the next sync sees its current state.
   */
  async release(obj: OwnedObject): Promise<void> {
    const { client, resource, owner } = this.opts;
    const m = obj.metadata ?? {};
    const patch = { metadata: { ownerReferences: [{ $patch: 'delete', uid: owner.metadata.uid }], uid: m.uid } };
    try {
      await client.patch(resource, m.namespace ?? '', m.name ?? '', 'strategic', patch);
    } catch (err) {
      if (isNotFound(err) || isConflict(err) || isInvalid(err)) return;
      throw err;
    }
  }
}

function isInvalid(err: unknown): boolean {
  return err instanceof ApiError && err.code === 422;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
