// Pure helpers of the StatefulSet controller (kube's pkg/controller/statefulset/stateful_set_utils.go):
// a pod's identity (`<set>-<ordinal>`, its hostname, subdomain and labels), its storage (one claim
// `<template>-<set>-<ordinal>` per volumeClaimTemplate), the revision a pod was made from, the
// ControllerRevision snapshot of a set's template, status counting, and which owner references
// a claim should carry under persistentVolumeClaimRetentionPolicy.

import {
  PersistentVolumeClaimRetentionPolicyType,
  PodIndexLabel,
  PodManagementPolicy,
  type PersistentVolumeClaimTemplate,
  type StatefulSet,
  type StatefulSetPersistentVolumeClaimRetentionPolicy,
  type StatefulSetStatus,
  StatefulSetPodNameLabel,
  StatefulSetUpdateStrategyType,
} from '../../lib/api/apps/statefulset.js';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import { type Pod, PodPhase } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import type { PersistentVolumeClaim } from '../../lib/api/core/persistentvolumeclaim.js';
import { StatefulSets } from '../../lib/client/resources.js';
import { newControllerRef } from '../common/controllerref.js';
import { ControllerRevisionHashLabel, newControllerRevision } from '../common/history.js';
import { isPodAvailable, isPodReady } from '../common/pods.js';

export type { PersistentVolumeClaim };

/** statefulSetKind is the apiVersion and kind written into owner references and revisions. */
export const statefulSetKind = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;

const ordinalRe = /^(.*)-([0-9]+)$/;

/** getParentNameAndOrdinal splits `<parent>-<ordinal>`; ordinal -1 when the name has no ordinal suffix. */
export function getParentNameAndOrdinal(pod: { metadata?: { name?: string } }): { parent: string; ordinal: number } {
  const m = ordinalRe.exec(pod.metadata?.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const ordinal = Number(m[2]);
  // Go parses into an int32: anything larger is no ordinal.
  if (!Number.isSafeInteger(ordinal) || ordinal >= 2 ** 31) return { parent: '', ordinal: -1 };
  return { parent: m[1]!, ordinal };
}

/** getOrdinal is the pod's ordinal, -1 when its name has none. */
export function getOrdinal(pod: { metadata?: { name?: string } }): number {
  return getParentNameAndOrdinal(pod).ordinal;
}

/** getStartOrdinal is spec.ordinals.start (0 when unset). */
export function getStartOrdinal(set: StatefulSet): number {
  return set.spec.ordinals?.start ?? 0;
}

/** getEndOrdinal is the last ordinal in range: start + replicas - 1. */
export function getEndOrdinal(set: StatefulSet): number {
  return getStartOrdinal(set) + (set.spec.replicas ?? 1) - 1;
}

/** podInOrdinalRange: the pod's ordinal is one the set wants now. */
export function podInOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const ordinal = getOrdinal(pod);
  return ordinal >= getStartOrdinal(set) && ordinal <= getEndOrdinal(set);
}

/** getPodName is `<set>-<ordinal>`. */
export function getPodName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

/** getPersistentVolumeClaimName is `<template>-<set>-<ordinal>`. */
export function getPersistentVolumeClaimName(set: StatefulSet, claim: PersistentVolumeClaimTemplate, ordinal: number): string {
  return `${claim.metadata?.name ?? ''}-${set.metadata.name}-${ordinal}`;
}

/** isMemberOf: the pod is named after the set (an ownerless pod of that name may be adopted). */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return getParentNameAndOrdinal(pod).parent === set.metadata.name;
}

/** identityMatches: name, namespace and the pod-name label are the set's for the pod's ordinal. */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = getParentNameAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    set.metadata.name === parent &&
    pod.metadata.name === getPodName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[StatefulSetPodNameLabel] === pod.metadata.name
  );
}

interface PodVolume {
  name?: string;
  persistentVolumeClaim?: { claimName?: string; readOnly?: boolean };
  [field: string]: unknown;
}

const podVolumes = (pod: Pod): PodVolume[] => ((pod.spec as { volumes?: PodVolume[] } | undefined)?.volumes ?? []) as PodVolume[];

/** storageMatches: every claim template is a volume of the pod pointing at this ordinal's claim. */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes = new Map(podVolumes(pod).map((v) => [v.name, v]));
  for (const claim of set.spec.volumeClaimTemplates ?? []) {
    const v = volumes.get(claim.metadata?.name);
    if (!v?.persistentVolumeClaim || v.persistentVolumeClaim.claimName !== getPersistentVolumeClaimName(set, claim, ordinal)) return false;
  }
  return true;
}

/**
 * getPersistentVolumeClaims are the claims the pod's ordinal needs, by template name: each
 * template renamed and labelled with the set's matchLabels (added to the template's own).
 */
export function getPersistentVolumeClaims(set: StatefulSet, pod: Pod): Map<string, PersistentVolumeClaim> {
  const ordinal = getOrdinal(pod);
  const claims = new Map<string, PersistentVolumeClaim>();
  for (const template of set.spec.volumeClaimTemplates ?? []) {
    const copy = structuredClone(template);
    const claim: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        ...(copy.metadata ?? {}),
        name: getPersistentVolumeClaimName(set, template, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(copy.metadata?.labels ?? {}), ...(set.spec.selector?.matchLabels ?? {}) },
      },
      spec: copy.spec ?? {},
    };
    claims.set(template.metadata?.name ?? '', claim);
  }
  return claims;
}

/**
 * updateStorage points the pod's volumes at its claims: one persistentVolumeClaim volume per
 * template (replacing a template volume of the same name), the template's other volumes kept.
 */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = getPersistentVolumeClaims(set, pod);
  if (claims.size === 0) return;
  const spec = pod.spec as { volumes?: PodVolume[] };
  const volumes: PodVolume[] = [];
  for (const [name, claim] of claims) volumes.push({ name, persistentVolumeClaim: { claimName: claim.metadata.name } });
  for (const v of spec.volumes ?? []) if (!claims.has(v.name ?? '')) volumes.push(v);
  spec.volumes = volumes;
}

/** updateIdentity sets the pod's name, namespace and its pod-name and pod-index labels. */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = getOrdinal(pod);
  pod.metadata.name = getPodName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [StatefulSetPodNameLabel]: pod.metadata.name, [PodIndexLabel]: String(ordinal) };
}

/** initIdentity is updateIdentity plus what is fixed at creation: hostname = pod name, subdomain = serviceName. */
export function initIdentity(set: StatefulSet, pod: Pod): void {
  updateIdentity(set, pod);
  pod.spec.hostname = pod.metadata.name;
  if (set.spec.serviceName) pod.spec.subdomain = set.spec.serviceName;
}

/** newStatefulSetPod is the pod for ordinal from set's template, controlled by set. */
export function newStatefulSetPod(set: StatefulSet, ordinal: number): Pod {
  const template = set.spec.template ?? {};
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: getPodName(set, ordinal), ownerReferences: [newControllerRef(set, StatefulSets)] },
    spec: structuredClone(template.spec ?? {}) as Pod['spec'],
  };
  if (meta.labels && Object.keys(meta.labels).length) pod.metadata.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  initIdentity(set, pod);
  updateStorage(set, pod);
  return pod;
}

/** getPodRevision is the pod's controller-revision-hash label ("" when none). */
export function getPodRevision(pod: Pod | undefined): string {
  return pod?.metadata?.labels?.[ControllerRevisionHashLabel] ?? '';
}

function setPodRevision(pod: Pod, revision: string): void {
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [ControllerRevisionHashLabel]: revision };
}

/**
 * newVersionedStatefulSetPod is the pod for ordinal at the right revision: below the partition
 * (or below currentReplicas when RollingUpdate has no parameters) the current revision, else
 * the update revision.
 */
export function newVersionedStatefulSetPod(currentSet: StatefulSet, updateSet: StatefulSet, currentRevision: string, updateRevision: string, ordinal: number): Pod {
  const strategy = currentSet.spec.updateStrategy;
  const start = getStartOrdinal(currentSet);
  const rolling = strategy?.type === StatefulSetUpdateStrategyType.RollingUpdate;
  const useCurrent =
    (rolling && strategy?.rollingUpdate === undefined && ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (strategy?.rollingUpdate !== undefined && ordinal < start + (strategy.rollingUpdate.partition ?? 0));
  if (useCurrent) {
    const pod = newStatefulSetPod(currentSet, ordinal);
    setPodRevision(pod, currentRevision);
    return pod;
  }
  const pod = newStatefulSetPod(updateSet, ordinal);
  setPodRevision(pod, updateRevision);
  return pod;
}

/** allowsBurst: Parallel pod management creates and deletes without waiting for order. */
export function allowsBurst(set: StatefulSet): boolean {
  return set.spec.podManagementPolicy === PodManagementPolicy.Parallel;
}

/** isCreated: the apiserver has the pod (it has a phase). */
export const isCreated = (pod: Pod): boolean => !!pod.status?.phase;
export const isPending = (pod: Pod): boolean => pod.status?.phase === PodPhase.Pending;
export const isFailed = (pod: Pod): boolean => pod.status?.phase === PodPhase.Failed;
export const isSucceeded = (pod: Pod): boolean => pod.status?.phase === PodPhase.Succeeded;
export const isTerminating = (pod: Pod): boolean => !!pod.metadata?.deletionTimestamp;
/** isRunningAndReady: phase Running and the Ready condition True. */
export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === PodPhase.Running && isPodReady(pod);
/** isRunningAndAvailable: running and ready for minReadySeconds. */
export const isRunningAndAvailable = (pod: Pod, minReadySeconds: number, now: Date): boolean =>
  pod.status?.phase === PodPhase.Running && isPodAvailable(pod, minReadySeconds, now);
/** isHealthy: running, ready and not being deleted. */
export const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/**
 * getPatch is the revision's data: the set's template as a strategic merge patch that replaces
 * the whole template (`{"spec":{"template":{…,"$patch":"replace"}}}`), which is also what
 * `kubectl rollout undo` sends back to restore it.
 */
export function getPatch(set: StatefulSet): { spec: { template: Record<string, unknown> } } {
  const template: Record<string, unknown> = { ...(structuredClone(set.spec.template ?? {}) as Record<string, unknown>), $patch: 'replace' };
  // Go serializes the template's embedded ObjectMeta with its zero time: `creationTimestamp: null`.
  const meta = { creationTimestamp: null, ...((template.metadata as Record<string, unknown> | undefined) ?? {}) };
  template.metadata = meta;
  // Keys in Go's order (encoding/json sorts map keys): kubectl compares a revision's bytes with
  // the patch it computes itself to tell that `rollout undo` has nothing to do.
  return { spec: { template: sortKeys(template) as Record<string, unknown> } };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** newRevision is the ControllerRevision of set's current template, carrying the set's annotations (change-cause). */
export function newRevision(set: StatefulSet, revision: number, collisionCount: number): ControllerRevision {
  const cr = newControllerRevision(set, statefulSetKind, set.spec.template?.metadata?.labels, getPatch(set), revision, collisionCount);
  const annotations = { ...(cr.metadata.annotations ?? {}), ...(set.metadata.annotations ?? {}) };
  if (Object.keys(annotations).length) cr.metadata.annotations = annotations;
  return cr;
}

/** applyRevision is the set as it was at revision: its template replaced by the revision's. */
export function applyRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const clone = structuredClone(set);
  const data = revision.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const template = data?.spec?.template;
  if (template && typeof template === 'object') {
    const { $patch: _directive, ...rest } = template;
    clone.spec.template = structuredClone(rest) as StatefulSet['spec']['template'];
  }
  return clone;
}

/** ReplicaCounts are computeReplicaStatus's counts. */
interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
}

/**
 * updateStatus recounts status over the pod lists: created pods, running-and-ready ones,
 * available ones, and (of those not being deleted) the ones at the current and update revision.
 */
export function updateStatus(status: StatefulSetStatus, minReadySeconds: number, currentRevision: string, updateRevision: string, now: Date, ...podLists: (Pod | undefined)[][]): void {
  const c: ReplicaCounts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const list of podLists) {
    for (const pod of list) {
      if (!pod) continue;
      if (isCreated(pod)) c.replicas++;
      if (isRunningAndReady(pod)) {
        c.readyReplicas++;
        if (isRunningAndAvailable(pod, minReadySeconds, now)) c.availableReplicas++;
      }
      if (isCreated(pod) && !isTerminating(pod)) {
        const revision = getPodRevision(pod);
        if (revision === currentRevision) c.currentReplicas++;
        if (revision === updateRevision) c.updatedReplicas++;
      }
    }
  }
  Object.assign(status, c);
}

/** completeRollingUpdate: once every replica is updated and ready, the update revision becomes current. */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  if (
    set.spec.updateStrategy?.type === StatefulSetUpdateStrategyType.RollingUpdate &&
    status.updatedReplicas === status.replicas &&
    status.readyReplicas === status.replicas
  ) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

/** inconsistentStatus: the computed status differs from the stored one in anything the controller owns. */
export function inconsistentStatus(set: StatefulSet, status: StatefulSetStatus): boolean {
  const cur = set.status ?? {};
  return (
    (status.observedGeneration ?? 0) > (cur.observedGeneration ?? 0) ||
    (status.replicas ?? 0) !== (cur.replicas ?? 0) ||
    (status.currentReplicas ?? 0) !== (cur.currentReplicas ?? 0) ||
    (status.readyReplicas ?? 0) !== (cur.readyReplicas ?? 0) ||
    (status.updatedReplicas ?? 0) !== (cur.updatedReplicas ?? 0) ||
    (status.currentRevision ?? '') !== (cur.currentRevision ?? '') ||
    (status.updateRevision ?? '') !== (cur.updateRevision ?? '') ||
    (status.availableReplicas ?? 0) !== (cur.availableReplicas ?? 0) ||
    (status.collisionCount ?? 0) !== (cur.collisionCount ?? 0)
  );
}

/** getRetentionPolicy is the set's claim retention policy with Retain for anything unset. */
export function getRetentionPolicy(set: StatefulSet): Required<StatefulSetPersistentVolumeClaimRetentionPolicy> {
  const p = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted || PersistentVolumeClaimRetentionPolicyType.Retain, whenScaled: p.whenScaled || PersistentVolumeClaimRetentionPolicyType.Retain };
}

interface Owner {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string };
}

const hasOwnerRef = (claim: PersistentVolumeClaim, owner: Owner): boolean => (claim.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid);

/** hasStaleOwnerRef: the claim names the owner (kind and name) with another uid: it belonged to an earlier pod of that name. */
export function hasStaleOwnerRef(claim: PersistentVolumeClaim, owner: Owner): boolean {
  return (claim.metadata.ownerReferences ?? []).some((r) => r.kind === owner.kind && r.name === owner.metadata.name && r.uid !== owner.metadata.uid);
}

function setOwnerRef(claim: PersistentVolumeClaim, owner: Owner): boolean {
  if (!owner.metadata.uid || hasOwnerRef(claim, owner)) return false;
  const ref: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid };
  claim.metadata.ownerReferences = [...(claim.metadata.ownerReferences ?? []), ref];
  return true;
}

function removeOwnerRef(claim: PersistentVolumeClaim, owner: Owner): boolean {
  if (!owner.metadata.uid || !hasOwnerRef(claim, owner)) return false;
  const refs = (claim.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
  if (refs.length) claim.metadata.ownerReferences = refs;
  else delete claim.metadata.ownerReferences;
  return true;
}

const setOwner = (set: StatefulSet): Owner => ({ ...statefulSetKind, metadata: set.metadata });
const podOwner = (pod: Pod): Owner => ({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata });

/**
 * wantedClaimOwners is what the retention policy asks of a claim of pod: an owner reference to
 * the set when whenDeleted is Delete (while the pod is in range), one to the pod when
 * whenScaled is Delete and the pod is scaled away, none otherwise. The garbage collector then
 * deletes the claim with its owner.
 */
function wantedClaimOwners(set: StatefulSet, pod: Pod): { set: boolean; pod: boolean } {
  const policy = getRetentionPolicy(set);
  const del = PersistentVolumeClaimRetentionPolicyType.Delete;
  const scaledDown = !podInOrdinalRange(pod, set);
  const wantPod = policy.whenScaled === del && scaledDown;
  const wantSet = policy.whenDeleted === del && !wantPod;
  return { set: wantSet, pod: wantPod };
}

/** claimOwnerMatchesSetAndPod: the claim's owner references are what the retention policy wants. */
export function claimOwnerMatchesSetAndPod(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const want = wantedClaimOwners(set, pod);
  return hasOwnerRef(claim, setOwner(set)) === want.set && (!pod.metadata.uid || hasOwnerRef(claim, podOwner(pod)) === want.pod);
}

/** updateClaimOwnerRefForSetAndPod sets the claim's owner references as the policy wants; true when it changed them. */
export function updateClaimOwnerRefForSetAndPod(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  const want = wantedClaimOwners(set, pod);
  let changed = false;
  changed = (want.set ? setOwnerRef(claim, setOwner(set)) : removeOwnerRef(claim, setOwner(set))) || changed;
  changed = (want.pod ? setOwnerRef(claim, podOwner(pod)) : removeOwnerRef(claim, podOwner(pod))) || changed;
  return changed;
}

/** ascendingOrdinal sorts pods by ordinal, lowest first. */
export const ascendingOrdinal = (a: Pod, b: Pod): number => getOrdinal(a) - getOrdinal(b);
