// Pure helpers of the DaemonSet controller (kube's pkg/controller/daemon/util and the predicate
// half of daemon_controller.go): which nodes should run a daemon pod, the pod stamped out for a
// node (the DaemonSet's default tolerations, its revision labels, and a required node affinity
// naming the node so the scheduler binds it there), whether a pod is up to date, the rolling
// update budgets, and the history snapshot of a DaemonSet's template.

import { type DaemonSet, DaemonSetTemplateGenerationLabel, DaemonSetUpdateStrategyType, templateGeneration } from '../../lib/api/apps/daemonset.js';
import { getScaledValueFromIntOrPercent } from '../../lib/api/apps/types.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Affinity, PodSpec, Toleration } from '../../lib/api/core/types.js';
import { RequiredNodeAffinity } from '../../lib/node/nodeaffinity.js';
import {
  TaintEffect,
  TaintNodeDiskPressure,
  TaintNodeMemoryPressure,
  TaintNodeNetworkUnavailable,
  TaintNodeNotReady,
  TaintNodePIDPressure,
  TaintNodeUnreachable,
  TaintNodeUnschedulable,
  findMatchingUntoleratedTaint,
} from '../../lib/node/taints.js';
import { ControllerRevisionHashLabel } from '../common/history.js';

/** ObjectNameField is metav1.ObjectNameField, the one node field a node selector term can match. */
export const ObjectNameField = 'metadata.name';

/** matchToleration is Toleration.MatchToleration: same key, operator, value and effect. */
function matchToleration(a: Toleration, b: Toleration): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.operator ?? '') === (b.operator ?? '') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');
}

/** addOrUpdateToleration is v1helper.AddOrUpdateTolerationInPodSpec: replace a matching toleration, else append. */
function addOrUpdateToleration(spec: PodSpec, tol: Toleration): void {
  const list = (spec.tolerations ??= []);
  const i = list.findIndex((t) => matchToleration(t, tol));
  if (i >= 0) list[i] = { ...tol };
  else list.push({ ...tol });
}

/**
 * addOrUpdateDaemonPodTolerations is util.AddOrUpdateDaemonPodTolerations: a daemon pod survives
 * the node controller's not-ready and unreachable evictions forever and lands on nodes under
 * memory, disk or PID pressure or cordoned; a host-network pod also on a node whose network is
 * not set up yet (it is often the one setting it up).
 */
export function addOrUpdateDaemonPodTolerations(spec: PodSpec): void {
  const exists = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });
  addOrUpdateToleration(spec, exists(TaintNodeNotReady, TaintEffect.NoExecute));
  addOrUpdateToleration(spec, exists(TaintNodeUnreachable, TaintEffect.NoExecute));
  addOrUpdateToleration(spec, exists(TaintNodeDiskPressure, TaintEffect.NoSchedule));
  addOrUpdateToleration(spec, exists(TaintNodeMemoryPressure, TaintEffect.NoSchedule));
  addOrUpdateToleration(spec, exists(TaintNodePIDPressure, TaintEffect.NoSchedule));
  addOrUpdateToleration(spec, exists(TaintNodeUnschedulable, TaintEffect.NoSchedule));
  if (spec.hostNetwork) addOrUpdateToleration(spec, exists(TaintNodeNetworkUnavailable, TaintEffect.NoSchedule));
}

/** newPod is kube's NewPod: the DaemonSet's pod as it would run on nodeName, for the predicates. */
export function newPod(ds: DaemonSet, nodeName: string): Pod {
  const template = ds.spec.template ?? {};
  const spec = structuredClone(template.spec ?? {}) as PodSpec;
  spec.nodeName = nodeName;
  addOrUpdateDaemonPodTolerations(spec);
  return { metadata: { ...(structuredClone(template.metadata ?? {}) as Pod['metadata']), namespace: ds.metadata.namespace }, spec };
}

/** ShouldRun says whether a DaemonSet's pod belongs on a node: shouldRun (create one), shouldContinueRunning (keep one). */
export interface ShouldRun {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

/**
 * nodeShouldRunDaemonPod is NodeShouldRunDaemonPod: the template's nodeName (if any) and required
 * node affinity / nodeSelector must fit the node; an untolerated NoSchedule or NoExecute taint
 * keeps a new pod off, and only an untolerated NoExecute one evicts a running pod.
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): ShouldRun {
  const nodeName = node.metadata.name ?? '';
  const templateNodeName = ds.spec.template?.spec?.nodeName as string | undefined;
  if (templateNodeName && templateNodeName !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  const pod = newPod(ds, nodeName);
  if (!new RequiredNodeAffinity(pod).match(node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints;
  const tolerations = pod.spec.tolerations;
  const blocking = findMatchingUntoleratedTaint(taints, tolerations, (t) => t.effect === TaintEffect.NoExecute || t.effect === TaintEffect.NoSchedule);
  if (blocking) {
    const evicting = findMatchingUntoleratedTaint(taints, tolerations, (t) => t.effect === TaintEffect.NoExecute);
    return { shouldRun: false, shouldContinueRunning: !evicting };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * replaceDaemonSetPodNodeNameNodeAffinity is util.ReplaceDaemonSetPodNodeNameNodeAffinity: the
 * pod's required node affinity becomes exactly one term, `metadata.name In [nodeName]` as a
 * field requirement, so the scheduler can place it nowhere else (preferred terms are kept).
 */
export function replaceDaemonSetPodNodeNameNodeAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: ObjectNameField, operator: 'In', values: [nodeName] }] }] };
  const out: Affinity = affinity ? structuredClone(affinity) : {};
  out.nodeAffinity = { ...(out.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: required };
  return out;
}

/**
 * getTargetNodeName is util.GetTargetNodeName: the node a daemon pod is bound to, or (before the
 * scheduler bound it) the one its `metadata.name In [...]` field affinity names.
 */
export function getTargetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const req of term.matchFields ?? []) {
      if (req.key === ObjectNameField && req.operator === 'In') return req.values?.length === 1 ? req.values[0] : undefined;
    }
  }
  return undefined;
}

/**
 * podTemplateFor is util.CreatePodTemplate plus the node affinity of syncNodes: the template with
 * the default tolerations, the `pod-template-generation` and `controller-revision-hash` labels,
 * bound by affinity to nodeName.
 */
export function podTemplateFor(ds: DaemonSet, hash: string, nodeName: string): { metadata: NonNullable<Pod['metadata']>; spec: PodSpec } {
  const template = structuredClone(ds.spec.template ?? {}) as { metadata?: Pod['metadata']; spec?: PodSpec };
  const spec = template.spec ?? ({} as PodSpec);
  addOrUpdateDaemonPodTolerations(spec);
  spec.affinity = replaceDaemonSetPodNodeNameNodeAffinity(spec.affinity, nodeName);
  const metadata = template.metadata ?? {};
  metadata.labels = { ...(metadata.labels ?? {}) };
  const generation = templateGeneration(ds);
  if (generation !== undefined) metadata.labels[DaemonSetTemplateGenerationLabel] = String(generation);
  if (hash) metadata.labels[ControllerRevisionHashLabel] = hash;
  return { metadata, spec };
}

/**
 * isPodUpdated is util.IsPodUpdated: the pod carries the current revision's hash, or (for pods
 * of controllers before hashes) the current template generation.
 */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  const templateMatches = generation !== undefined && labels[DaemonSetTemplateGenerationLabel] === String(generation);
  const hashMatches = hash.length > 0 && labels[ControllerRevisionHashLabel] === hash;
  return hashMatches || templateMatches;
}

/** surgeCount is util.SurgeCount: maxSurge of numberToSchedule (percentages round up); 0 without RollingUpdate. */
export function surgeCount(ds: DaemonSet, numberToSchedule: number): number {
  const s = ds.spec.updateStrategy;
  if (s?.type !== DaemonSetUpdateStrategyType.RollingUpdate || !s.rollingUpdate) return 0;
  if (s.rollingUpdate.maxSurge === undefined || s.rollingUpdate.maxSurge === null) return 0;
  return getScaledValueFromIntOrPercent(s.rollingUpdate.maxSurge, numberToSchedule, true);
}

/** unavailableCount is util.UnavailableCount: maxUnavailable of numberToSchedule (rounded up); 0 without RollingUpdate. */
export function unavailableCount(ds: DaemonSet, numberToSchedule: number): number {
  const s = ds.spec.updateStrategy;
  if (s?.type !== DaemonSetUpdateStrategyType.RollingUpdate || !s.rollingUpdate) return 0;
  return getScaledValueFromIntOrPercent(s.rollingUpdate.maxUnavailable, numberToSchedule, true);
}

/** allowsSurge is util.AllowsSurge: a rolling update that may run a new pod beside the old one. */
export function allowsSurge(ds: DaemonSet): boolean {
  try {
    return surgeCount(ds, 1) !== 0;
  } catch {
    return false;
  }
}

/** sortKeys copies a JSON value with every object's keys in order, as Go marshals a map. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * daemonSetPatch is getPatch: the strategic merge patch that restores the DaemonSet's template,
 * `{"spec":{"template":{…,"$patch":"replace"}}}`, what a ControllerRevision of a DaemonSet holds
 * and what `kubectl rollout undo` sends back. Keys are sorted as Go's map encoding gives them, and
 * the template keeps the `creationTimestamp: null` Go always writes, so kubectl's byte comparison
 * of a revision with the live DaemonSet sees them equal.
 */
export function daemonSetPatch(ds: DaemonSet): { spec: { template: Record<string, unknown> } } {
  const template = structuredClone(ds.spec.template ?? {}) as Record<string, unknown>;
  const metadata = (template.metadata ??= {}) as Record<string, unknown>;
  if (!('creationTimestamp' in metadata)) metadata.creationTimestamp = null;
  template.$patch = 'replace';
  return { spec: { template: sortKeys(template) as Record<string, unknown> } };
}

/**
 * compareDaemonPods is podByCreationTimestampAndPhase: bound pods first, then the oldest, then by
 * name. The first pod of a node is the one that counts for status and that survives a cleanup.
 */
export function compareDaemonPods(a: Pod, b: Pod): number {
  const aBound = !!a.spec?.nodeName;
  const bBound = !!b.spec?.nodeName;
  if (aBound !== bBound) return aBound ? -1 : 1;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}
