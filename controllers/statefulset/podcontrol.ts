// StatefulPodControl: the StatefulSet controller's writes to pods and their claims, with kube's
// events (pkg/controller/statefulset/stateful_pod_control.go). Claims are created before their
// pod and carry the owner references the retention policy asks for; a pod whose identity or
// storage drifted is updated back.

import type { StatefulSet } from '../../lib/api/apps/statefulset.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { type Client, isAlreadyExists, isConflict, isNotFound } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { PersistentVolumeClaims, Pods } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import {
  type PersistentVolumeClaim,
  claimOwnerMatchesSetAndPod,
  getOrdinal,
  getPersistentVolumeClaimName,
  getPersistentVolumeClaims,
  getRetentionPolicy,
  hasStaleOwnerRef,
  identityMatches,
  storageMatches,
  updateClaimOwnerRefForSetAndPod,
  updateIdentity,
  updateStorage,
} from './utils.js';

/** ClaimErrors is an aggregate error, its text as utilerrors.NewAggregate prints it: one error as is, several in brackets. */
class ClaimErrors extends Error {
  constructor(readonly errors: readonly Error[]) {
    super(errors.length === 1 ? errors[0]!.message : `[${errors.map((e) => e.message).join(', ')}]`);
    this.name = 'ClaimErrors';
  }
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const title = (verb: string): string => verb.charAt(0).toUpperCase() + verb.slice(1);

/** setTarget is what events are about: the set, with its kind even when a list left it out of the cached item. */
export function setTarget(set: StatefulSet): InvolvedObject {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: set.metadata };
}

/** StatefulPodControlOptions are the client, the claim cache and the recorder pod control uses. */
export interface StatefulPodControlOptions {
  client: Client;
  claims: Lister<PersistentVolumeClaim>;
  recorder: Recorder;
  log?: Logger;
}

/** StatefulPodControl creates, updates and deletes a set's pods and claims. */
export class StatefulPodControl {
  constructor(private readonly opts: StatefulPodControlOptions) {}

  private getClaim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.opts.claims.get(`${namespace}/${name}`);
  }

  /** createStatefulPod creates the pod's claims, then the pod (an AlreadyExists is returned without an event: the cache is behind). */
  async createStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.createPersistentVolumeClaims(set, pod);
    } catch (err) {
      this.recordPodEvent('create', set, pod, err);
      throw err;
    }
    let created: Pod;
    try {
      created = await this.opts.client.create<Pod>(Pods, set.metadata.namespace ?? '', pod);
    } catch (err) {
      if (!isAlreadyExists(err)) this.recordPodEvent('create', set, pod, err);
      throw err;
    }
    // The pod has a uid now: claims that should be owned by it can be.
    await this.updatePodClaimForRetentionPolicy(set, created);
    this.recordPodEvent('create', set, pod);
  }

  /** updateStatefulPod restores the pod's identity, storage and claim ownership, with a PUT retried over a fresh GET on conflicts. */
  async updateStatefulPod(set: StatefulSet, original: Pod): Promise<void> {
    let pod = structuredClone(original);
    let attempted = false;
    let lastErr: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      let consistent = true;
      if (!identityMatches(set, pod)) {
        updateIdentity(set, pod);
        consistent = false;
      }
      if (!storageMatches(set, pod)) {
        updateStorage(set, pod);
        consistent = false;
        try {
          await this.createPersistentVolumeClaims(set, pod);
        } catch (err) {
          this.recordPodEvent('update', set, pod, err);
          throw err;
        }
      }
      if (!this.claimsMatchRetentionPolicy(set, pod)) {
        try {
          await this.updatePodClaimForRetentionPolicy(set, pod);
        } catch (err) {
          this.recordPodEvent('update', set, pod, err);
          throw err;
        }
      }
      if (consistent) return;
      attempted = true;
      try {
        await this.opts.client.update<Pod>(Pods, pod);
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        if (!isConflict(err)) break;
        try {
          pod = await this.opts.client.get<Pod>(Pods, set.metadata.namespace ?? '', pod.metadata.name ?? '');
        } catch {
          break;
        }
      }
    }
    if (attempted) this.recordPodEvent('update', set, pod, lastErr);
    if (lastErr) throw lastErr;
  }

  /** deleteStatefulPod deletes the pod, with kube's event (a 404 is returned as is). */
  async deleteStatefulPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      // The uid precondition keeps a pod re-created under the same name (by a restarted
      // controller) from being deleted for its predecessor's sake.
      await this.opts.client.delete(Pods, set.metadata.namespace ?? '', pod.metadata.name ?? '', pod.metadata.uid ? { preconditions: { uid: pod.metadata.uid } } : undefined);
    } catch (err) {
      if (!isNotFound(err)) this.recordPodEvent('delete', set, pod, err);
      throw err;
    }
    this.recordPodEvent('delete', set, pod);
  }

  /** claimsMatchRetentionPolicy: every existing claim of the pod carries the owner references the policy wants. */
  claimsMatchRetentionPolicy(set: StatefulSet, pod: Pod): boolean {
    const ordinal = getOrdinal(pod);
    for (const template of set.spec.volumeClaimTemplates ?? []) {
      const claim = this.getClaim(set.metadata.namespace ?? '', getPersistentVolumeClaimName(set, template, ordinal));
      // A missing claim is created (with the right references) by the next sync.
      if (claim && !claimOwnerMatchesSetAndPod(claim, set, pod)) return false;
    }
    return true;
  }

  /** updatePodClaimForRetentionPolicy writes the owner references the policy wants onto the pod's claims. */
  async updatePodClaimForRetentionPolicy(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = getOrdinal(pod);
    for (const template of set.spec.volumeClaimTemplates ?? []) {
      const name = getPersistentVolumeClaimName(set, template, ordinal);
      const cached = this.getClaim(set.metadata.namespace ?? '', name);
      if (!cached) continue;
      const claim = structuredClone(cached);
      if (!updateClaimOwnerRefForSetAndPod(claim, set, pod)) continue;
      try {
        await this.opts.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, claim);
      } catch (err) {
        throw new Error(`could not update claim ${name} for delete policy ownerRefs: ${errText(err)}`, { cause: err });
      }
    }
  }

  /** podClaimIsStale: with whenScaled Delete, a claim still owned by an earlier pod of this name must go before the pod is made again. */
  podClaimIsStale(set: StatefulSet, pod: Pod): boolean {
    if (getRetentionPolicy(set).whenScaled !== 'Delete') return false;
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const existing = this.getClaim(claim.metadata.namespace ?? '', claim.metadata.name ?? '');
      if (existing && hasStaleOwnerRef(existing, { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata })) return true;
    }
    return false;
  }

  /** createMissingPersistentVolumeClaims creates the claims of a pending pod that are gone (deleted by hand while it waited). */
  async createMissingPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.createPersistentVolumeClaims(set, pod);
    } catch (err) {
      this.recordPodEvent('update', set, pod, err);
      throw err;
    }
  }

  /** createPersistentVolumeClaims creates each claim of the pod that the cache does not have. */
  async createPersistentVolumeClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errors: Error[] = [];
    for (const claim of getPersistentVolumeClaims(set, pod).values()) {
      const existing = this.getClaim(claim.metadata.namespace ?? '', claim.metadata.name ?? '');
      if (existing) {
        if (existing.metadata.deletionTimestamp) errors.push(new Error(`pvc ${claim.metadata.name} is being deleted`));
        continue;
      }
      updateClaimOwnerRefForSetAndPod(claim, set, pod);
      try {
        await this.opts.client.create<PersistentVolumeClaim>(PersistentVolumeClaims, set.metadata.namespace ?? '', claim);
        this.recordClaimEvent('create', set, pod, claim);
      } catch (err) {
        // Created by an earlier sync the cache has not shown yet: fine.
        if (isAlreadyExists(err)) continue;
        errors.push(new Error(`failed to create PVC ${claim.metadata.name}: ${errText(err)}`, { cause: err }));
        this.recordClaimEvent('create', set, pod, claim, err);
      }
    }
    if (errors.length) throw new ClaimErrors(errors);
  }

  private recordPodEvent(verb: string, set: StatefulSet, pod: Pod, err?: unknown): void {
    const name = pod.metadata.name;
    if (err === undefined) {
      this.opts.recorder.event(setTarget(set), 'Normal', `Successful${title(verb)}`, `${verb} Pod ${name} in StatefulSet ${set.metadata.name} successful`);
    } else {
      this.opts.recorder.event(setTarget(set), 'Warning', `Failed${title(verb)}`, `${verb} Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${errText(err)}`);
    }
  }

  private recordClaimEvent(verb: string, set: StatefulSet, pod: Pod, claim: PersistentVolumeClaim, err?: unknown): void {
    const name = claim.metadata.name;
    if (err === undefined) {
      this.opts.recorder.event(setTarget(set), 'Normal', `Successful${title(verb)}`, `${verb} Claim ${name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
    } else {
      this.opts.recorder.event(
        setTarget(set),
        'Warning',
        `Failed${title(verb)}`,
        `${verb} Claim ${name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errText(err)}`,
      );
    }
  }
}
