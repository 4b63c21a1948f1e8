// The persistent volume binder (kube's pkg/controller/volume/persistentvolume pv_controller.go):
// it binds claims to volumes, one to one, and walks volumes through their phases.
//
// syncClaim: an unbound claim gets the smallest Available volume that satisfies it (class,
// access modes, size, volumeMode, selector), or the volume it or that volume names
// (spec.volumeName, spec.claimRef); a claim of a WaitForFirstConsumer class waits for the
// scheduler's selected-node annotation and then only takes volumes reachable from that node;
// with no volume, a class with a provisioner gets the claim annotated for it
// (volume.kubernetes.io/storage-provisioner), and the provisioner makes a volume pre-bound to the
// claim. A bound claim whose volume disappears is Lost.
//
// syncVolume: a volume without claimRef is Available; one whose claim is gone is Released and
// reclaimed: Retain keeps it, Delete leaves it to the provisioner that made it (and fails a
// volume no provisioner made: skiff has no in-tree deleter), Recycle is not supported. A volume
// marked for deletion goes through the same phases: its kubernetes.io/pv-protection finalizer
// stays while it is Bound, so the phase decides when it really goes (pv-protection controller).
//
// Binding writes, in kube's order: the volume's claimRef, the volume's phase, the claim's
// volumeName and annotations, the claim's phase. Each write is a retry-safe step: a
// half-finished binding is finished by the next sync of either side.

import {
  ClaimPhase,
  type PersistentVolume,
  type PersistentVolumeClaim,
  PersistentVolumeReclaimPolicy,
  VolumeAnnotation,
  VolumePhase,
  checkVolumeSatisfiesClaim,
  findMatchingVolume,
  isVolumeBoundToClaim,
  persistentVolumeClaimClass,
} from '../../../lib/api/core/persistentvolume.js';
import type { Node } from '../../../lib/api/core/node.js';
import { type StorageClass, VolumeBindingMode } from '../../../lib/api/storage/storageclass.js';
import type { Client } from '../../../lib/client/client.js';
import type { Recorder } from '../../../lib/client/events.js';
import { PersistentVolumeClaims, PersistentVolumes } from '../../../lib/client/resources.js';
import type { Lister } from '../../../lib/controller/lister.js';
import type { Logger } from '../../../lib/log.js';

/** VolumeBinder holds what the binder reads and writes. */
export interface VolumeBinder {
  client: Client;
  recorder: Recorder;
  claims: Lister<PersistentVolumeClaim>;
  volumes: Lister<PersistentVolume>;
  classes: Lister<StorageClass>;
  nodes: Lister<Node>;
  log?: Logger;
  /** enqueueClaim asks for a claim's sync (a volume that changed names it). */
  enqueueClaim?(namespace: string, name: string): void;
}

/** claimKeyPrefix and volumeKeyPrefix tell the two kinds of work-queue keys apart. */
export const claimKeyPrefix = 'claim/';
export const volumeKeyPrefix = 'volume/';

const yes = 'yes';

/** externalProvisioningMessage is what kube tells a claim waiting for a provisioner. */
export function externalProvisioningMessage(provisioner: string): string {
  return `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;
}

/** syncKey dispatches a work-queue key to the claim or volume sync. */
export async function syncKey(b: VolumeBinder, key: string): Promise<void> {
  if (key.startsWith(claimKeyPrefix)) return syncClaim(b, key.slice(claimKeyPrefix.length));
  if (key.startsWith(volumeKeyPrefix)) return syncVolume(b, key.slice(volumeKeyPrefix.length));
}

/** isDelayBindingMode: the claim's class binds WaitForFirstConsumer. */
function isDelayBindingMode(b: VolumeBinder, claim: PersistentVolumeClaim): boolean {
  const name = persistentVolumeClaimClass(claim);
  if (!name) return false;
  return b.classes.get(name)?.volumeBindingMode === VolumeBindingMode.WaitForFirstConsumer;
}

/** syncClaim brings the claim named `namespace/name` one step closer to being bound. */
export async function syncClaim(b: VolumeBinder, key: string): Promise<void> {
  const claim = b.claims.get(key);
  if (!claim || claim.metadata.deletionTimestamp) return;
  if (claim.metadata.annotations?.[VolumeAnnotation.BindCompleted] !== yes) return syncUnboundClaim(b, claim);
  return syncBoundClaim(b, claim);
}

async function syncUnboundClaim(b: VolumeBinder, claim: PersistentVolumeClaim): Promise<void> {
  const volumeName = claim.spec?.volumeName;
  if (volumeName) {
    // The user asked for this volume.
    const pv = b.volumes.get(volumeName);
    if (!pv) {
      await updateClaimPhase(b, claim, ClaimPhase.Pending);
      return;
    }
    if (!pv.spec?.claimRef || isVolumeBoundToClaim(pv, claim)) {
      const why = checkVolumeSatisfiesClaim(pv, claim);
      if (why) {
        b.recorder.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${why}`);
        await updateClaimPhase(b, claim, ClaimPhase.Pending);
        return;
      }
      await bind(b, pv, claim);
      return;
    }
    b.recorder.event(claim, 'Warning', 'FailedBinding', 'volume is already bound to a different claim');
    await updateClaimPhase(b, claim, ClaimPhase.Pending);
    return;
  }

  const delayed = isDelayBindingMode(b, claim);
  const selectedNodeName = claim.metadata.annotations?.[VolumeAnnotation.SelectedNode];
  if (delayed && !selectedNodeName) {
    // A volume pre-bound to the claim binds at once; anything else waits for the scheduler.
    const prebound = b.volumes.list().find((pv) => isVolumeBoundToClaim(pv, claim) && findMatchingVolume(claim, [pv]) === pv);
    if (prebound) return bind(b, prebound, claim);
    b.recorder.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    return updateClaimPhase(b, claim, ClaimPhase.Pending);
  }
  const node = delayed && selectedNodeName ? b.nodes.get(selectedNodeName) : undefined;
  const pv = findMatchingVolume(claim, b.volumes.list(), node ?? (delayed ? { metadata: { name: selectedNodeName } } : undefined));
  if (pv) return bind(b, pv, claim);

  const className = persistentVolumeClaimClass(claim);
  if (!className) {
    b.recorder.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
    return updateClaimPhase(b, claim, ClaimPhase.Pending);
  }
  const sc = b.classes.get(className);
  if (!sc) {
    b.recorder.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
    return updateClaimPhase(b, claim, ClaimPhase.Pending);
  }
  if (sc.provisioner === 'kubernetes.io/no-provisioner') {
    b.recorder.event(claim, 'Normal', delayed ? 'WaitForPodScheduled' : 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
    return updateClaimPhase(b, claim, ClaimPhase.Pending);
  }
  // Every provisioner is external to the binder: annotate the claim for it and wait.
  if (claim.metadata.annotations?.[VolumeAnnotation.StorageProvisioner] !== sc.provisioner) {
    const next = structuredClone(claim);
    next.metadata.annotations = { ...next.metadata.annotations, [VolumeAnnotation.StorageProvisioner]: sc.provisioner, [VolumeAnnotation.BetaStorageProvisioner]: sc.provisioner };
    await b.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, next);
  }
  b.recorder.event(claim, 'Normal', 'ExternalProvisioning', externalProvisioningMessage(sc.provisioner));
}

async function syncBoundClaim(b: VolumeBinder, claim: PersistentVolumeClaim): Promise<void> {
  const volumeName = claim.spec?.volumeName;
  if (!volumeName) {
    // The claim was bound and lost its volume name: kube calls it Lost.
    if (claim.status?.phase !== ClaimPhase.Lost) b.recorder.event(claim, 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
    return updateClaimPhase(b, claim, ClaimPhase.Lost);
  }
  const pv = b.volumes.get(volumeName);
  if (!pv) {
    if (claim.status?.phase !== ClaimPhase.Lost) b.recorder.event(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
    return updateClaimPhase(b, claim, ClaimPhase.Lost);
  }
  if (!pv.spec?.claimRef) {
    // Bound claim, volume not yet pointing back: finish the binding.
    return bind(b, pv, claim);
  }
  if (isVolumeBoundToClaim(pv, claim)) {
    // Both sides agree; make sure every write of the binding happened.
    return bind(b, pv, claim);
  }
  if (claim.status?.phase !== ClaimPhase.Lost) b.recorder.event(claim, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  return updateClaimPhase(b, claim, ClaimPhase.Lost);
}

/** bind is the binder's bind(): each step writes only when something differs. */
async function bind(b: VolumeBinder, pv: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
  let volume = pv;
  const ref = volume.spec?.claimRef;
  const refMatches = ref && ref.uid === claim.metadata.uid && ref.name === claim.metadata.name && ref.namespace === claim.metadata.namespace;
  if (!refMatches) {
    const next = structuredClone(volume);
    const byController = !ref;
    next.spec.claimRef = {
      kind: 'PersistentVolumeClaim',
      namespace: claim.metadata.namespace,
      name: claim.metadata.name,
      uid: claim.metadata.uid,
      apiVersion: 'v1',
      resourceVersion: claim.metadata.resourceVersion,
    };
    if (byController) next.metadata.annotations = { ...next.metadata.annotations, [VolumeAnnotation.BoundByController]: yes };
    volume = await b.client.update<PersistentVolume>(PersistentVolumes, next);
    b.log?.v(2).info('Bound volume to claim', { volume: pv.metadata.name, claim: `${claim.metadata.namespace}/${claim.metadata.name}` });
  }
  if (volume.status?.phase !== VolumePhase.Bound) {
    const next = structuredClone(volume);
    next.status = { ...next.status, phase: VolumePhase.Bound };
    delete next.status.reason;
    delete next.status.message;
    volume = await b.client.update<PersistentVolume>(PersistentVolumes, next, { subresource: 'status' });
  }
  let c = claim;
  const annotations = c.metadata.annotations ?? {};
  const wantVolumeName = volume.metadata.name;
  if (c.spec?.volumeName !== wantVolumeName || annotations[VolumeAnnotation.BindCompleted] !== yes) {
    const next = structuredClone(c);
    next.metadata.annotations = { ...next.metadata.annotations, [VolumeAnnotation.BindCompleted]: yes };
    if (next.spec.volumeName !== wantVolumeName) {
      next.spec.volumeName = wantVolumeName;
      next.metadata.annotations[VolumeAnnotation.BoundByController] = yes;
    }
    c = await b.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, next);
  }
  const st = c.status ?? {};
  const capacity = volume.spec?.capacity ?? {};
  const modes = volume.spec?.accessModes ?? [];
  if (st.phase !== ClaimPhase.Bound || JSON.stringify(st.capacity ?? {}) !== JSON.stringify(capacity) || JSON.stringify(st.accessModes ?? []) !== JSON.stringify(modes)) {
    const next = structuredClone(c);
    next.status = { ...next.status, phase: ClaimPhase.Bound, accessModes: [...modes], capacity: { ...capacity } };
    await b.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, next, { subresource: 'status' });
  }
}

async function updateClaimPhase(b: VolumeBinder, claim: PersistentVolumeClaim, phase: string): Promise<void> {
  if (claim.status?.phase === phase) return;
  const next = structuredClone(claim);
  next.status = { ...next.status, phase };
  await b.client.update<PersistentVolumeClaim>(PersistentVolumeClaims, next, { subresource: 'status' });
}

async function updateVolumePhase(b: VolumeBinder, pv: PersistentVolume, phase: string, message?: string, reason?: string): Promise<PersistentVolume> {
  if (pv.status?.phase === phase && (message === undefined || pv.status?.message === message)) return pv;
  const next = structuredClone(pv);
  next.status = { ...next.status, phase };
  if (message !== undefined) next.status.message = message;
  else delete next.status.message;
  if (reason !== undefined) next.status.reason = reason;
  else delete next.status.reason;
  return b.client.update<PersistentVolume>(PersistentVolumes, next, { subresource: 'status' });
}

/** syncVolume brings the volume named key through its phases; see the file comment. */
export async function syncVolume(b: VolumeBinder, key: string): Promise<void> {
  const pv = b.volumes.get(key);
  // A volume marked for deletion is synced too: pv-protection waits for it to leave Bound.
  if (!pv) return;
  const ref = pv.spec?.claimRef;
  if (!ref) {
    await updateVolumePhase(b, pv, VolumePhase.Available);
    return;
  }
  const claim = ref.namespace && ref.name ? b.claims.get(`${ref.namespace}/${ref.name}`) : undefined;
  if (!ref.uid) {
    // Pre-bound by the user to a claim by name: the claim's sync binds it.
    if (claim) b.enqueueClaim?.(ref.namespace!, ref.name!);
    await updateVolumePhase(b, pv, VolumePhase.Available);
    return;
  }
  if (!claim || claim.metadata.uid !== ref.uid) {
    // The claim is gone: release and reclaim the volume.
    if (pv.status?.phase === VolumePhase.Failed) return;
    const released = pv.status?.phase === VolumePhase.Released ? pv : await updateVolumePhase(b, pv, VolumePhase.Released);
    return reclaimVolume(b, released);
  }
  if (!claim.spec?.volumeName) {
    // Binding in progress: the claim's sync finishes it.
    b.enqueueClaim?.(claim.metadata.namespace!, claim.metadata.name!);
    return;
  }
  if (claim.spec.volumeName === pv.metadata.name) {
    await updateVolumePhase(b, pv, VolumePhase.Bound);
    return;
  }
  // The claim is bound to another volume. Undo a binding the controller made; leave the user's.
  if (pv.metadata.annotations?.[VolumeAnnotation.BoundByController] === yes) {
    const next = structuredClone(pv);
    delete next.spec.claimRef;
    delete next.metadata.annotations![VolumeAnnotation.BoundByController];
    const unbound = await b.client.update<PersistentVolume>(PersistentVolumes, next);
    await updateVolumePhase(b, unbound, VolumePhase.Available);
  }
}

async function reclaimVolume(b: VolumeBinder, pv: PersistentVolume): Promise<void> {
  switch (pv.spec?.persistentVolumeReclaimPolicy) {
    case PersistentVolumeReclaimPolicy.Retain:
      return;
    case PersistentVolumeReclaimPolicy.Delete:
      // A provisioned volume is deleted by its provisioner, which watches for Released volumes.
      if (pv.metadata.annotations?.[VolumeAnnotation.ProvisionedBy]) return;
      b.recorder.event(pv, 'Warning', 'VolumeFailedDelete', 'error getting deleter volume plugin for volume "' + pv.metadata.name + '": no deletable volume plugin matched');
      await updateVolumePhase(b, pv, VolumePhase.Failed, 'error getting deleter volume plugin for volume "' + pv.metadata.name + '": no deletable volume plugin matched');
      return;
    default:
      b.recorder.event(pv, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      await updateVolumePhase(b, pv, VolumePhase.Failed, 'No recycler plugin found for the volume!');
  }
}

