// Pure helpers of the Deployment controller (kube's pkg/controller/deployment/util and the
// ReplicaSet orderings of pkg/controller/controller_utils.go): the pod-template hash, finding the
// new and old ReplicaSets, revision and replica annotations, the rolling-update fenceposts,
// proportional scaling, conditions and the status arithmetic. Nothing here talks to the API;
// functions named set*/copy* mutate the (already cloned) object they are given and say whether
// they changed it.

import { semanticEqual } from '../../lib/api/apps/equality.js';
import {
  DefaultDeploymentUniqueLabelKey,
  type Deployment,
  type DeploymentCondition,
  DeploymentConditionType,
  type DeploymentStatus,
  DeploymentStrategyType,
  DesiredReplicasAnnotation,
  MaxReplicasAnnotation,
  type PodTemplateSpec,
  type ReplicaSet,
  RevisionAnnotation,
  RevisionHistoryAnnotation,
  getScaledValueFromIntOrPercent,
} from '../../lib/api/apps/types.js';
import type { Condition, LabelSelector } from '../../lib/api/meta.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { canonicalJSON } from '../../lib/machinery/canonical.js';

// Condition reasons (deploymentutil), verbatim: kubectl and users match on them.
export const Reason = {
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  FailedRSCreate: 'ReplicaSetCreateError',
  NewReplicaSetCreated: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  NewReplicaSetAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  DeploymentPaused: 'DeploymentPaused',
  DeploymentResumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** LastAppliedConfigAnnotation is kubectl's client-side apply record; never copied to ReplicaSets. */
export const LastAppliedConfigAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
/** DeprecatedRollbackTo is the extensions/v1beta1 rollback annotation; never copied either. */
export const DeprecatedRollbackTo = 'deprecated.deployment.rollback.to';

/** MaxRevHistoryLengthInChars bounds the revision-history annotation (~100 revisions). */
export const MaxRevHistoryLengthInChars = 2000;

const maxInt32 = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// The pod-template hash

/** SafeEncodeAlphabet is rand.SafeEncodeString's alphabet: no vowels, no 0/1/3, so no words. */
const SafeEncodeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** safeEncodeString is rand.SafeEncodeString: each byte of s mapped into SafeEncodeAlphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SafeEncodeAlphabet[s.charCodeAt(i) % SafeEncodeAlphabet.length];
  return out;
}

/** fnv32a is the 32-bit FNV-1a hash of bytes. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * semanticForm drops what semantic equality ignores (null, empty maps and lists), so the hash of
 * a template depends on its meaning and not on how a client happened to spell an empty field.
 */
function semanticForm(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.length ? v.map((x) => semanticForm(x) ?? null) : undefined;
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const n = semanticForm(x);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/**
 * computeHash is controller.ComputeHash: FNV-32a over the template (here its canonical JSON),
 * then, when the Deployment has a collisionCount, its value as 8 little-endian bytes; the decimal
 * form of the sum is rendered with SafeEncodeString. Equal templates give equal hashes in every
 * process and across restarts.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const bytes = new TextEncoder().encode(canonicalJSON(semanticForm(template) ?? {}));
  let h = fnv32a(bytes);
  if (collisionCount !== undefined && collisionCount !== null) {
    const extra = new Uint8Array(8);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(extra, h);
  }
  return safeEncodeString(String(h));
}

/** equalIgnoreHash compares two pod templates semantically, ignoring the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined): PodTemplateSpec => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[DefaultDeploymentUniqueLabelKey];
    return c;
  };
  return semanticEqual(strip(a), strip(b));
}

/** cloneSelectorAndAddLabel is labelsutil.CloneSelectorAndAddLabel: the selector plus key=value in matchLabels. */
export function cloneSelectorAndAddLabel(selector: LabelSelector | undefined, key: string, value: string): LabelSelector {
  const c = structuredClone(selector ?? {});
  c.matchLabels = { ...(c.matchLabels ?? {}), [key]: value };
  return c;
}

// ---------------------------------------------------------------------------------------------
// Replica counts and orderings

/** rsReplicas is *rs.Spec.Replicas (defaulted to 1 by the apiserver). */
export function rsReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1;
}

/** dReplicas is *d.Spec.Replicas (defaulted to 1 by the apiserver). */
export function dReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

const sum = (rss: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);

/** getReplicaCountForReplicaSets sums spec.replicas. */
export const getReplicaCountForReplicaSets = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, rsReplicas);
/** getActualReplicaCountForReplicaSets sums status.replicas. */
export const getActualReplicaCountForReplicaSets = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.status?.replicas ?? 0);
/** getReadyReplicaCountForReplicaSets sums status.readyReplicas. */
export const getReadyReplicaCountForReplicaSets = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.status?.readyReplicas ?? 0);
/** getAvailableReplicaCountForReplicaSets sums status.availableReplicas. */
export const getAvailableReplicaCountForReplicaSets = (rss: readonly (ReplicaSet | undefined)[]) => sum(rss, (rs) => rs.status?.availableReplicas ?? 0);

/** filterActiveReplicaSets keeps the ReplicaSets that want pods (spec.replicas > 0). */
export function filterActiveReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && rsReplicas(rs) > 0);
}

const created = (rs: ReplicaSet) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;

/** byCreationTimestamp is ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreationTimestamp(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** bySizeNewer is ReplicaSetsBySizeNewer: larger first; equal sizes newest first (scale up newer first). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (rsReplicas(a) === rsReplicas(b)) return byCreationTimestamp(b, a);
  return rsReplicas(b) - rsReplicas(a);
}

/** bySizeOlder is ReplicaSetsBySizeOlder: larger first; equal sizes oldest first (scale down older first). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (rsReplicas(a) === rsReplicas(b)) return byCreationTimestamp(a, b);
  return rsReplicas(b) - rsReplicas(a);
}

/** byRevision is ReplicaSetsByRevision: lowest revision first; ties and bad revisions by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revision(a);
  const rb = revision(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreationTimestamp(a, b);
  return ra < rb ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------
// New and old ReplicaSets

/**
 * findNewReplicaSet is the oldest ReplicaSet whose template equals the Deployment's (ignoring the
 * hash label). More than one can exist after odd histories; the oldest is chosen deterministically.
 */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** findOldReplicaSets: allOldRSs are all but the new one; oldRSs those of them with replicas to scale down. */
export function findOldReplicaSets(d: Deployment, rsList: readonly ReplicaSet[]): { oldRSs: ReplicaSet[]; allOldRSs: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rsList);
  const allOldRSs = rsList.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
  return { oldRSs: allOldRSs.filter((rs) => rsReplicas(rs) !== 0), allOldRSs };
}

/**
 * findActiveOrLatest is the one ReplicaSet to scale when only one (or none) has replicas: the
 * active one, or with none active the new one, else the newest old one. Undefined when several
 * are active (then scaling is proportional).
 */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActiveReplicaSets([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Annotations

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * parseInt64 is strconv.ParseInt(v, 10, 64): a decimal int64 with all its 64 bits (a revision
 * such as 3546343826724305832 is past a double's 53), undefined when not one.
 */
export function parseInt64(v: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n < int64Min || n > int64Max ? undefined : n;
}

/** revision reads the revision annotation: 0 when absent, undefined when not an int64. */
export function revision(obj: { metadata: { annotations?: Record<string, string> } }): bigint | undefined {
  const v = obj.metadata.annotations?.[RevisionAnnotation];
  if (v === undefined || v === '') return 0n;
  return parseInt64(v);
}

/** maxRevision is the highest revision among rss (bad annotations count as 0). */
export function maxRevision(rss: readonly ReplicaSet[]): bigint {
  let max = 0n;
  for (const rs of rss) {
    const r = revision(rs) ?? 0n;
    if (r > max) max = r;
  }
  return max;
}

function skipCopyAnnotation(key: string): boolean {
  return (
    key === LastAppliedConfigAnnotation ||
    key === RevisionAnnotation ||
    key === RevisionHistoryAnnotation ||
    key === DesiredReplicasAnnotation ||
    key === MaxReplicasAnnotation ||
    key === DeprecatedRollbackTo
  );
}

/** copyDeploymentAnnotationsToReplicaSet copies the Deployment's annotations the RS should carry (kubernetes.io/change-cause, users' own). */
export function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  rs.metadata.annotations ??= {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (skipCopyAnnotation(k) || rs.metadata.annotations[k] === v) continue;
    rs.metadata.annotations[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * setNewReplicaSetAnnotations is SetNewReplicaSetAnnotations: copy the Deployment's annotations,
 * raise the revision to newRevision when it is lower (a rollback to this RS: its old revision goes
 * to revision-history, bounded by limitChars), and on a not-yet-created RS the replica annotations.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, limitChars = MaxRevHistoryLengthInChars): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const ann = (rs.metadata.annotations ??= {});
  const hadRevision = Object.prototype.hasOwnProperty.call(ann, RevisionAnnotation);
  const oldRevision = ann[RevisionAnnotation] ?? '';
  let oldRevisionInt = 0n;
  if (oldRevision !== '') {
    const parsed = parseInt64(oldRevision);
    if (parsed === undefined) return false;
    oldRevisionInt = parsed;
  }
  const newRevisionInt = parseInt64(newRevision);
  if (newRevisionInt === undefined) return false;
  if (oldRevisionInt < newRevisionInt) {
    ann[RevisionAnnotation] = newRevision;
    changed = true;
  }
  if (hadRevision && oldRevisionInt < newRevisionInt) {
    const history = ann[RevisionHistoryAnnotation] ?? '';
    const old = history.split(',');
    if (old[0]!.length === 0) {
      ann[RevisionHistoryAnnotation] = oldRevision;
    } else {
      // Drop the oldest entries until the new one fits.
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > limitChars && start < old.length) {
        total -= old[start]!.length + 1;
        start++;
      }
      if (total <= limitChars) ann[RevisionHistoryAnnotation] = [...old.slice(start), oldRevision].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, dReplicas(d), dReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

/** setDeploymentRevision sets the Deployment's revision annotation; true when it changed. */
export function setDeploymentRevision(d: Deployment, rev: string): boolean {
  d.metadata.annotations ??= {};
  if (d.metadata.annotations[RevisionAnnotation] === rev) return false;
  d.metadata.annotations[RevisionAnnotation] = rev;
  return true;
}

/** setReplicasAnnotations writes desired-replicas and max-replicas; true when either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = (rs.metadata.annotations ??= {});
  let changed = false;
  if (ann[DesiredReplicasAnnotation] !== String(desired)) {
    ann[DesiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (ann[MaxReplicasAnnotation] !== String(max)) {
    ann[MaxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}

/** replicasAnnotationsNeedUpdate: desired-replicas or max-replicas differ from what they should be. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = rs.metadata.annotations ?? {};
  return ann[DesiredReplicasAnnotation] !== String(desired) || ann[MaxReplicasAnnotation] !== String(max);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n < 0 || n > maxInt32 ? undefined : n;
}

/** getDesiredReplicasAnnotation reads desired-replicas (undefined when absent or invalid). */
export const getDesiredReplicasAnnotation = (rs: ReplicaSet) => intAnnotation(rs, DesiredReplicasAnnotation);
/** getMaxReplicasAnnotation reads max-replicas (undefined when absent or invalid). */
export const getMaxReplicasAnnotation = (rs: ReplicaSet) => intAnnotation(rs, MaxReplicasAnnotation);

// ---------------------------------------------------------------------------------------------
// Rolling-update arithmetic

/** isRollingUpdate: the strategy is RollingUpdate. */
export function isRollingUpdate(d: Deployment): boolean {
  return d.spec?.strategy?.type === DeploymentStrategyType.RollingUpdate;
}

/**
 * resolveFenceposts turns maxSurge / maxUnavailable into numbers of pods for `desired` replicas:
 * surge rounds up, unavailable down; when both come to 0, unavailable is 1 (surge may be blocked
 * by quota, and a rollout must still move).
 */
export function resolveFenceposts(maxSurgeValue: number | string | undefined, maxUnavailableValue: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = getScaledValueFromIntOrPercent(maxSurgeValue ?? 0, desired, true);
  let unavailable = getScaledValueFromIntOrPercent(maxUnavailableValue ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** maxSurge is the resolved surge of a RollingUpdate Deployment (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, dReplicas(d)).surge;
}

/** maxUnavailable is the resolved maxUnavailable, never more than the replicas (0 for Recreate or 0 replicas). */
export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || dReplicas(d) === 0) return 0;
  const ru = d.spec.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, dReplicas(d));
  return Math.min(unavailable, dReplicas(d));
}

/**
 * newRSNewReplicas is how big the new ReplicaSet may be now: for RollingUpdate up to
 * replicas+maxSurge pods in all and never more than replicas; for Recreate all replicas.
 */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  switch (d.spec?.strategy?.type) {
    case DeploymentStrategyType.RollingUpdate: {
      const surge = getScaledValueFromIntOrPercent(d.spec.strategy.rollingUpdate?.maxSurge ?? 0, dReplicas(d), true);
      const current = getReplicaCountForReplicaSets(allRSs);
      const maxTotal = dReplicas(d) + surge;
      if (current >= maxTotal) return rsReplicas(newRS);
      const scaleUp = Math.min(maxTotal - current, dReplicas(d) - rsReplicas(newRS));
      return rsReplicas(newRS) + scaleUp;
    }
    case DeploymentStrategyType.Recreate:
      return dReplicas(d);
    default:
      throw new Error(`deployment type ${d.spec?.strategy?.type} isn't supported`);
  }
}

/** isSaturated: the new RS has all replicas, was sized for this Deployment size, and all are available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = getDesiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  return rsReplicas(rs) === dReplicas(d) && desired === dReplicas(d) && (rs.status?.availableReplicas ?? 0) === dReplicas(d);
}

/** roundHalfAwayFromZero is Go's math.Round. */
function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * getReplicaSetFraction is how many replicas rs gains (or loses) when the Deployment goes from
 * the size annotated on rs (max-replicas) to its current replicas+maxSurge, in proportion to
 * rs's share. Scaling to zero takes all of rs.
 */
export function getReplicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (dReplicas(d) === 0) return -rsReplicas(rs);
  const deploymentMaxReplicas = dReplicas(d) + maxSurge(d);
  let before = getMaxReplicasAnnotation(rs);
  if (before === undefined || before === 0) {
    // No usable annotation (or the Deployment was at 0): fall back to the current size.
    before = d.status?.replicas ?? 0;
    if (before === 0) return 0;
  }
  const newSize = (rsReplicas(rs) * deploymentMaxReplicas) / before;
  return roundHalfAwayFromZero(newSize) - rsReplicas(rs);
}

/**
 * getProportion is rs's share of deploymentReplicasToAdd, never more (scaling up) or less
 * (scaling down) than what is left to hand out.
 */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = getReplicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

// ---------------------------------------------------------------------------------------------
// Conditions and status

/** hasProgressDeadline: progressDeadlineSeconds is set and not MaxInt32 (kube's "no deadline"). */
export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== maxInt32;
}

/** hasRevisionHistoryLimit: revisionHistoryLimit is set and not MaxInt32. */
export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== maxInt32;
}

/** newDeploymentCondition stamps both times with now (second precision, as metav1.Time). */
export function newDeploymentCondition(type: string, status: Condition['status'], reason: string, message: string, now: Date): DeploymentCondition {
  const t = nowRFC3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getDeploymentCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * setDeploymentCondition replaces the condition of its type. The same status and reason is no
 * change at all (message and times stay); the same status keeps lastTransitionTime.
 */
export function setDeploymentCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const current = getDeploymentCondition(status, cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  if (current && current.status === cond.status) cond.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), cond];
}

export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  const left = (status.conditions ?? []).filter((c) => c.type !== type);
  if (left.length) status.conditions = left;
  else delete status.conditions;
}

/** replicaSetToDeploymentCondition carries an RS condition (ReplicaFailure) over to the Deployment. */
export function replicaSetToDeploymentCondition(c: Condition): DeploymentCondition {
  return {
    type: c.type,
    status: c.status,
    lastUpdateTime: c.lastTransitionTime,
    lastTransitionTime: c.lastTransitionTime,
    reason: c.reason,
    message: c.message,
  };
}

/** deploymentComplete: every replica updated and available, nothing old left, latest spec observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const n = dReplicas(d);
  return (s.updatedReplicas ?? 0) === n && (s.replicas ?? 0) === n && (s.availableReplicas ?? 0) === n && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** deploymentProgressing: newStatus shows progress over the Deployment's current status. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/**
 * deploymentTimedOut: more than progressDeadlineSeconds passed since the Progressing condition
 * last recorded progress. A completed rollout never times out; a timed-out one stays so.
 */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getDeploymentCondition(s, DeploymentConditionType.Progressing);
  if (!cond) return false;
  if (cond.reason === Reason.NewReplicaSetAvailable) return false;
  if (cond.reason === Reason.TimedOut) return true;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return false;
  return from + d.spec.progressDeadlineSeconds! * 1000 < now.getTime();
}

/**
 * calculateStatus is the Deployment status the ReplicaSets add up to, with the Available
 * condition; other conditions are carried over from the Deployment.
 */
export function calculateStatus(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, now: Date): DeploymentStatus {
  const available = getAvailableReplicaCountForReplicaSets(allRSs);
  const total = getReplicaCountForReplicaSets(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: getActualReplicaCountForReplicaSets(allRSs),
    updatedReplicas: getActualReplicaCountForReplicaSets([newRS]),
    readyReplicas: getReadyReplicaCountForReplicaSets(allRSs),
    availableReplicas: available,
    // More available than wanted happens while scaling down: nothing is unavailable then.
    unavailableReplicas: Math.max(total - available, 0),
  };
  if (d.status?.collisionCount !== undefined && d.status.collisionCount !== null) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions?.length) status.conditions = structuredClone(d.status.conditions);
  if (available >= dReplicas(d) - maxUnavailable(d)) {
    setDeploymentCondition(status, newDeploymentCondition(DeploymentConditionType.Available, 'True', Reason.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setDeploymentCondition(status, newDeploymentCondition(DeploymentConditionType.Available, 'False', Reason.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

/**
 * wireStatus is status as Go would serialize it: the int32 counters are omitempty, so zeros are
 * left out (collisionCount is a pointer and keeps its 0).
 */
export function wireStatus(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (s[k]) out[k] = s[k];
  }
  if (s.conditions?.length) out.conditions = s.conditions;
  if (s.collisionCount !== undefined && s.collisionCount !== null) out.collisionCount = s.collisionCount;
  return out;
}

/** statusEqual compares two statuses as reflect.DeepEqual compares the Go structs. */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  return canonicalJSON(wireStatus(a ?? {})) === canonicalJSON(wireStatus(b ?? {}));
}
