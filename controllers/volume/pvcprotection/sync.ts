// The pvc-protection controller (kube's pkg/controller/volume/pvcprotection): a claim marked for
// deletion keeps its kubernetes.io/pvc-protection finalizer while a pod uses it, so neither the
// claim nor (through the binder) its volume goes away under a running pod. A claim created
// without the finalizer (the admission plugin off, or the claim older than it) gets it.
//
// "Uses", as kube 1.32 counts it: the pod is scheduled (spec.nodeName set: the kubelet refuses to
// start a pod whose claim is being deleted, so an unscheduled pod never will) and names the claim
// in a persistentVolumeClaim volume, whatever its phase: a Succeeded or Failed pod still holds
// its claim until the pod object is gone. An ephemeral volume's claim `<pod>-<volume>` counts
// only if the pod controls it (ownerReference with controller: true and the pod's uid) and the
// pod is not shut down (deletionTimestamp with deletionGracePeriodSeconds 0).
//
// The informer's cache is asked first: a pod found there keeps the claim without a request. A
// pod created a moment ago may not be in the cache yet, so before the finalizer is removed the
// pods of the namespace are listed from the apiserver and checked again.

import { type PersistentVolumeClaim, VolumeFinalizer } from '../../../lib/api/core/persistentvolume.js';
import type { ContainerStatus, Pod } from '../../../lib/api/core/pod.js';
import type { Volume } from '../../../lib/api/core/types.js';
import type { Client } from '../../../lib/client/client.js';
import { PersistentVolumeClaims, Pods } from '../../../lib/client/resources.js';
import type { Lister } from '../../../lib/controller/lister.js';
import type { Logger } from '../../../lib/log.js';
import { isDeletionCandidate, needToAddFinalizer } from '../protectionutil.js';

/** PVCProtectionSyncer holds what the controller reads and writes. */
export interface PVCProtectionSyncer {
  client: Client;
  claims: Lister<PersistentVolumeClaim>;
  pods: Lister<Pod>;
  log?: Logger;
}

/** ephemeralClaimName is the claim an ephemeral volume gets: `<pod name>-<volume name>`. */
export function ephemeralClaimName(pod: Pod, volume: Volume): string {
  return `${pod.metadata.name}-${volume.name}`;
}

/** claimNamesOf are the claims pod refers to: its persistentVolumeClaim volumes' and its ephemeral volumes' claims. */
export function claimNamesOf(pod: Pod): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(ephemeralClaimName(pod, v));
  }
  return names;
}

/** podIsShutDown: the kubelet is done with the pod, or it was force-deleted (deletionTimestamp, grace 0). */
function podIsShutDown(pod: Pod): boolean {
  const grace = pod.metadata.deletionGracePeriodSeconds;
  return !!pod.metadata.deletionTimestamp && grace !== undefined && Number(grace) === 0;
}

/** isControlledBy: claim's controller ownerReference is pod. */
function isControlledBy(claim: PersistentVolumeClaim, pod: Pod): boolean {
  return claim.metadata.namespace === pod.metadata.namespace && (claim.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === pod.metadata.uid);
}

/** podUsesClaim is kube's podUsesPVC; see the file comment. */
export function podUsesClaim(pod: Pod, claim: PersistentVolumeClaim): boolean {
  if (!pod.spec?.nodeName) return false;
  return (pod.spec.volumes ?? []).some(
    (v) =>
      v.persistentVolumeClaim?.claimName === claim.metadata.name ||
      (!podIsShutDown(pod) && !!v.ephemeral && ephemeralClaimName(pod, v) === claim.metadata.name && isControlledBy(claim, pod)),
  );
}

/** notRunning: no container of statuses is running (each has terminated or is waiting). */
function notRunning(statuses: readonly ContainerStatus[] | undefined): boolean {
  return (statuses ?? []).every((s) => !!s.state?.terminated || !!s.state?.waiting);
}

/** isPodTerminated is volumeutil's IsPodTerminated: Succeeded or Failed, or being deleted with nothing running. */
export function isPodTerminated(pod: Pod): boolean {
  const st = pod.status;
  if (st?.phase === 'Succeeded' || st?.phase === 'Failed') return true;
  return !!pod.metadata.deletionTimestamp && notRunning(st?.initContainerStatuses) && notRunning(st?.containerStatuses) && notRunning(st?.ephemeralContainerStatuses);
}

/**
 * claimKeysToCheck are the claims a pod event may free (kube's enqueuePVCs): none while the pod
 * is scheduled, not terminated and not deleted, since it still uses every one of them.
 */
export function claimKeysToCheck(pod: Pod, deleted: boolean): string[] {
  if (!deleted && !isPodTerminated(pod) && pod.spec?.nodeName) return [];
  return claimNamesOf(pod).map((name) => `${pod.metadata.namespace}/${name}`);
}

/** syncClaim is processPVC: remove the finalizer of a deleted claim nobody uses, add it to a claim without it. */
export async function syncClaim(s: PVCProtectionSyncer, key: string): Promise<void> {
  const claim = s.claims.get(key);
  if (!claim) return;
  if (isDeletionCandidate(claim, VolumeFinalizer.PVCProtection)) {
    if (!(await isBeingUsed(s, claim))) return removeFinalizer(s, claim);
    s.log?.v(2).info('Keeping PVC because it is being used', { pvc: key });
  }
  if (needToAddFinalizer(claim, VolumeFinalizer.PVCProtection)) {
    // The admission plugin adds it; this covers claims created while it was off.
    const next = structuredClone(claim);
    next.metadata.finalizers = [...(next.metadata.finalizers ?? []), VolumeFinalizer.PVCProtection];
    await s.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, next);
    s.log?.v(3).info('Added protection finalizer to PVC', { pvc: key });
  }
}

async function removeFinalizer(s: PVCProtectionSyncer, claim: PersistentVolumeClaim): Promise<void> {
  const next = structuredClone(claim);
  next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== VolumeFinalizer.PVCProtection);
  await s.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, next);
  s.log?.v(3).info('Removed protection finalizer from PVC', { pvc: `${claim.metadata.namespace}/${claim.metadata.name}` });
}

/** isBeingUsed asks the pod cache, then (only when the cache knows no user) a live list of the namespace's pods. */
async function isBeingUsed(s: PVCProtectionSyncer, claim: PersistentVolumeClaim): Promise<boolean> {
  const namespace = claim.metadata.namespace ?? '';
  if (s.pods.list(namespace).some((pod) => podUsesClaim(pod, claim))) return true;
  const live = await s.client.list<Pod>(Pods, namespace);
  if (live.items.some((pod) => podUsesClaim(pod, claim))) return true;
  s.log?.v(2).info('PVC is unused', { pvc: `${namespace}/${claim.metadata.name}` });
  return false;
}

/**
 * podEventClaimKeys are the claims to check after a pod event. An update whose old pod has
 * another uid hides a delete and a create under one name: the deleted pod's claims count as freed.
 */
export function podEventClaimKeys(old: Pod | undefined, pod: Pod, deleted: boolean): string[] {
  const keys = claimKeysToCheck(pod, deleted);
  if (old && old.metadata.uid !== pod.metadata.uid) keys.push(...claimKeysToCheck(old, true));
  return keys;
}
