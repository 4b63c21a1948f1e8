// PodTopologySpread, as kube-scheduler's plugin of that name (common.go, filtering.go,
// scoring.go). A constraint spreads the pods its labelSelector matches (in the pod's namespace)
// over the domains of topologyKey.
//
// Filter (whenUnsatisfiable: DoNotSchedule): placing the pod in the node's domain must keep
// `matching pods there + 1 (if the pod matches itself) - global minimum <= maxSkew`, where the
// global minimum is 0 while fewer than minDomains domains exist. Only nodes with every topology
// key count as domains, and with nodeAffinityPolicy Honor (the default) only nodes the pod's
// nodeSelector/required affinity accepts; nodeTaintsPolicy Honor also drops nodes whose taints
// the pod does not tolerate.
//
// Score (ScheduleAnyway): fewer matching pods in the node's domains scores higher; each domain
// count is weighted by log(number of domains + 2), then normalized to 0..100.
//
// Default constraints: a pod with no constraints of its own gets the plugin's default ones
// (args.defaultingType System: maxSkew 3 over hostnames and 5 over zones, both ScheduleAnyway;
// List: args.defaultConstraints), whose selector is built from the Services,
// ReplicationController, ReplicaSet or StatefulSet selecting the pod (helper.DefaultSelector).
// A pod nothing selects gets none. With System defaulting, nodes missing a topology key are not
// ignored in scoring: a cluster without zone labels still spreads over hostnames.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { TopologySpreadConstraint } from '../../lib/api/core/types.js';
import {
  type LabelSelectorExpr,
  type Labels,
  type Requirement,
  InvalidLabelSelectorError,
  labelSelectorAsSelector,
  matches,
  selectorFromSet,
} from '../../lib/machinery/labels.js';
import type { LabelSelector } from '../../lib/api/meta.js';
import { type CycleState, SnapshotStateKey } from '../framework/cyclestate.js';
import type { Framework, SelectingObject, WorkloadListers } from '../framework/framework.js';
import { type FilterPlugin, MaxNodeScore, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { PodInfo } from '../framework/podinfo.js';
import type { Snapshot } from '../framework/snapshot.js';
import { asError, skip, type Status, success, unresolvable, unschedulable } from '../framework/status.js';
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint } from '../../lib/node/taints.js';
import { LabelHostname, RequiredNodeAffinity } from './helper.js';

/** PodTopologySpreadName is the plugin's name in configuration. */
export const PodTopologySpreadName = 'PodTopologySpread';

/** ErrReasonConstraintsNotMatch is the reason a node that would break maxSkew gives. */
export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
/** ErrReasonNodeLabelNotMatch is the reason a node without a constraint's topology key gives. */
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

export const UnsatisfiableConstraintAction = { DoNotSchedule: 'DoNotSchedule', ScheduleAnyway: 'ScheduleAnyway' } as const;
export const NodeInclusionPolicy = { Honor: 'Honor', Ignore: 'Ignore' } as const;

const preFilterStateKey = 'PreFilter' + PodTopologySpreadName;
const preScoreStateKey = 'PreScore' + PodTopologySpreadName;
const noLabels: Labels = Object.freeze({});

/** Constraint is a TopologySpreadConstraint with its selector parsed and its policies defaulted. */
export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelectorExpr;
  minDomains: number;
  nodeAffinityPolicy: string;
  nodeTaintsPolicy: string;
}

/**
 * filterConstraints is filterTopologySpreadConstraints: the pod's constraints with the given
 * whenUnsatisfiable, matchLabelKeys merged into the selector as key=value of the pod's labels.
 */
export function filterConstraints(pod: Pod, action: string, constraints: readonly TopologySpreadConstraint[] = pod.spec?.topologySpreadConstraints ?? []): Constraint[] {
  const out: Constraint[] = [];
  const podLabels = pod.metadata.labels ?? noLabels;
  for (const c of constraints) {
    if (c.whenUnsatisfiable !== action) continue;
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: constraintSelector(c, podLabels),
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: c.nodeAffinityPolicy ?? NodeInclusionPolicy.Honor,
      nodeTaintsPolicy: c.nodeTaintsPolicy ?? NodeInclusionPolicy.Ignore,
    });
  }
  return out;
}

function constraintSelector(c: TopologySpreadConstraint, podLabels: Labels): LabelSelectorExpr {
  let sel: LabelSelectorExpr;
  try {
    sel = labelSelectorAsSelector(c.labelSelector);
  } catch (err) {
    if (err instanceof InvalidLabelSelectorError) throw new Error(`get constraints from pod: ${err.message}`);
    throw err;
  }
  const extra: Requirement[] = [];
  for (const key of c.matchLabelKeys ?? []) {
    if (Object.prototype.hasOwnProperty.call(podLabels, key)) extra.push({ key, operator: '=', values: [podLabels[key]] });
  }
  if (extra.length === 0) return sel;
  // A nil labelSelector (selects nothing) has no requirements to merge: only the label keys remain.
  const merged = sel.nothing ? extra : [...extra, ...sel.requirements];
  return { requirements: merged.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), nothing: false };
}

/** LabelTopologyZone is the well-known zone label the system default constraints spread over. */
export const LabelTopologyZone = 'topology.kubernetes.io/zone';

/**
 * systemDefaultConstraints are kube-scheduler's "System" defaults: a soft spread over hostnames
 * (maxSkew 3) and zones (maxSkew 5), given to pods that a Service or controller selects.
 */
export const systemDefaultConstraints: readonly TopologySpreadConstraint[] = Object.freeze([
  { topologyKey: LabelHostname, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: LabelTopologyZone, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
]);

/** mapSelects tells whether a Service's (or ReplicationController's) selector map selects the pod; a missing map selects nothing. */
function mapSelects(selector: Labels | undefined, podLabels: Labels): boolean {
  if (!selector) return false;
  for (const k in selector) if (podLabels[k] !== selector[k]) return false;
  return true;
}

/**
 * defaultSelector is helper.DefaultSelector: the union of the selectors of the Services that
 * select the pod, and of its controller (ReplicationController, ReplicaSet or StatefulSet) when it
 * has one. Everything (no requirement) when nothing selects the pod.
 */
export function defaultSelector(pod: Pod, w: WorkloadListers): LabelSelectorExpr {
  const ns = pod.metadata.namespace ?? '';
  const podLabels = pod.metadata.labels ?? noLabels;
  let set: Record<string, string> | undefined;
  for (const svc of w.services?.(ns) ?? []) {
    const sel = svc.spec?.selector as Labels | undefined;
    if (mapSelects(sel, podLabels)) set = { ...set, ...sel };
  }
  let requirements: readonly Requirement[] = selectorFromSet(set).requirements;
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller === true);
  if (!owner) return { requirements, nothing: false };
  let target: SelectingObject | undefined;
  switch (`${owner.apiVersion}/${owner.kind}`) {
    case 'v1/ReplicationController':
      target = w.replicationController?.(ns, owner.name);
      if (target) requirements = selectorFromSet({ ...set, ...(target.spec?.selector as Labels | undefined) }).requirements;
      return { requirements, nothing: false };
    case 'apps/v1/ReplicaSet':
      target = w.replicaSet?.(ns, owner.name);
      break;
    case 'apps/v1/StatefulSet':
      target = w.statefulSet?.(ns, owner.name);
      break;
    default:
      return { requirements, nothing: false };
  }
  if (!target) return { requirements, nothing: false };
  let other: LabelSelectorExpr;
  try {
    other = labelSelectorAsSelector(target.spec?.selector as LabelSelector | undefined);
  } catch {
    return { requirements, nothing: false };
  }
  // A nil selector (Nothing) has no requirements to add.
  if (other.nothing) return { requirements, nothing: false };
  const merged = [...requirements, ...other.requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { requirements: merged, nothing: false };
}

/** nodeLabelsMatchSpreadConstraints: the node has every constraint's topology key. */
function nodeLabelsMatchSpreadConstraints(nodeLabels: Labels, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) if (nodeLabels[c.topologyKey] === undefined) return false;
  return true;
}

/** matchNodeInclusionPolicies: the node counts as a domain for the constraint under its affinity and taint policies. */
function matchNodeInclusionPolicies(c: Constraint, pod: Pod, node: Node, required: RequiredNodeAffinity): boolean {
  if (c.nodeAffinityPolicy === NodeInclusionPolicy.Honor && !required.match(node)) return false;
  if (c.nodeTaintsPolicy === NodeInclusionPolicy.Honor && findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, isDoNotScheduleTaint)) return false;
  return true;
}

/** countPodsMatchSelector counts the non-terminating pods of namespace ns that selector matches. */
function countPodsMatchSelector(pods: readonly PodInfo[], selector: LabelSelectorExpr, ns: string): number {
  let n = 0;
  for (const p of pods) {
    const m = p.pod.metadata;
    if (m.deletionTimestamp || (m.namespace ?? '') !== ns) continue;
    if (matches(selector, m.labels)) n++;
  }
  return n;
}

/** CriticalPaths keeps the two domains with the fewest matches; [0] always holds the minimum. */
class CriticalPaths {
  v0 = '';
  n0 = 2 ** 31 - 1;
  v1 = '';
  n1 = 2 ** 31 - 1;

  update(value: string, num: number): void {
    if (value === this.v0 || value === this.v1) {
      if (value === this.v0) this.n0 = num;
      else this.n1 = num;
      if (this.n0 > this.n1) {
        [this.v0, this.n0, this.v1, this.n1] = [this.v1, this.n1, this.v0, this.n0];
      }
    } else if (num < this.n0) {
      this.v1 = this.v0;
      this.n1 = this.n0;
      this.v0 = value;
      this.n0 = num;
    } else if (num < this.n1) {
      this.v1 = value;
      this.n1 = num;
    }
  }

  clone(): CriticalPaths {
    const c = new CriticalPaths();
    c.v0 = this.v0;
    c.n0 = this.n0;
    c.v1 = this.v1;
    c.n1 = this.n1;
    return c;
  }
}

class PreFilterState {
  constructor(
    readonly constraints: readonly Constraint[],
    /** selfMatch[i] is 1 when constraint i's selector matches the incoming pod. */
    readonly selfMatch: readonly number[],
    readonly required: RequiredNodeAffinity,
    readonly tpValueToMatchNum: Map<string, number>[],
    readonly criticalPaths: CriticalPaths[],
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(
      this.constraints,
      this.selfMatch,
      this.required,
      this.tpValueToMatchNum.map((m) => new Map(m)),
      this.criticalPaths.map((p) => p.clone()),
    );
  }

  /** minMatchNum is the global minimum for constraint i, 0 while there are fewer than minDomains domains. */
  minMatchNum(i: number): number {
    if (this.tpValueToMatchNum[i].size < this.constraints[i].minDomains) return 0;
    return this.criticalPaths[i].n0;
  }

  updateWithPod(updated: Pod, preemptor: Pod, node: Node, delta: number): void {
    if ((updated.metadata.namespace ?? '') !== (preemptor.metadata.namespace ?? '')) return;
    const nodeLabels = node.metadata.labels ?? noLabels;
    if (!nodeLabelsMatchSpreadConstraints(nodeLabels, this.constraints)) return;
    this.constraints.forEach((c, i) => {
      if (!matches(c.selector, updated.metadata.labels)) return;
      if (!matchNodeInclusionPolicies(c, preemptor, node, this.required)) return;
      const v = nodeLabels[c.topologyKey];
      const n = (this.tpValueToMatchNum[i].get(v) ?? 0) + delta;
      this.tpValueToMatchNum[i].set(v, n);
      this.criticalPaths[i].update(v, n);
    });
  }
}

function calPreFilterState(pod: Pod, constraints: Constraint[], allNodes: readonly NodeInfo[]): PreFilterState {
  const required = new RequiredNodeAffinity(pod);
  const ns = pod.metadata.namespace ?? '';
  const counts = constraints.map(() => new Map<string, number>());
  for (const ni of allNodes) {
    const node = ni.node;
    const nodeLabels = node.metadata.labels ?? noLabels;
    if (!nodeLabelsMatchSpreadConstraints(nodeLabels, constraints)) continue;
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i];
      if (!matchNodeInclusionPolicies(c, pod, node, required)) continue;
      const v = nodeLabels[c.topologyKey];
      counts[i].set(v, (counts[i].get(v) ?? 0) + countPodsMatchSelector(ni.pods, c.selector, ns));
    }
  }
  const paths = counts.map((m) => {
    const p = new CriticalPaths();
    for (const [v, n] of m) p.update(v, n);
    return p;
  });
  const selfMatch = constraints.map((c) => (matches(c.selector, pod.metadata.labels) ? 1 : 0));
  return new PreFilterState(constraints, selfMatch, required, counts, paths);
}

interface PreScoreState {
  constraints: Constraint[];
  ignoredNodes: Set<string>;
  topologyValueToPodCounts: Map<string, number>[];
  topologyNormalizingWeight: number[];
}

/** topologyNormalizingWeight is log(size + 2): counts in small topologies are not watered down by big ones. */
function topologyNormalizingWeight(size: number): number {
  return Math.log(size + 2);
}

/** scoreForCount is cnt × weight + (maxSkew - 1). */
function scoreForCount(cnt: number, maxSkew: number, weight: number): number {
  return cnt * weight + (maxSkew - 1);
}

/**
 * PodTopologySpreadArgs is PodTopologySpreadArgs: defaultingType System (kube's default) uses
 * systemDefaultConstraints, List uses defaultConstraints (no labelSelector: it is built per pod).
 */
export interface PodTopologySpreadArgs {
  defaultingType?: 'List' | 'System';
  defaultConstraints?: TopologySpreadConstraint[];
}

/** newPodTopologySpread builds the plugin; fh gives the listers its default constraints read (none: no defaults apply). */
export function newPodTopologySpread(args: PodTopologySpreadArgs = {}, fh?: Framework): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const missing = (key: string) => asError(new Error(`reading "${key}" from cycleState: not found`));
  const rejectedLabel: Status = Object.freeze(unresolvable(ErrReasonNodeLabelNotMatch));
  const rejectedSkew: Status = Object.freeze(unschedulable(ErrReasonConstraintsNotMatch));
  const systemDefaulted = (args.defaultingType ?? 'System') === 'System';
  const defaults = systemDefaulted ? systemDefaultConstraints : (args.defaultConstraints ?? []);
  const defaultsWith = (action: string) => defaults.some((c) => c.whenUnsatisfiable === action);
  const hasDefaults = { [UnsatisfiableConstraintAction.DoNotSchedule]: defaultsWith('DoNotSchedule'), [UnsatisfiableConstraintAction.ScheduleAnyway]: defaultsWith('ScheduleAnyway') };
  /** constraintsFor is getConstraints: the pod's own constraints with action, or the defaults with the selector built for the pod. */
  const constraintsFor = (pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] => {
    if (pod.spec?.topologySpreadConstraints?.length) return filterConstraints(pod, action);
    if (!hasDefaults[action] || !fh) return [];
    const selector = defaultSelector(pod, fh.workloads());
    if (selector.requirements.length === 0) return [];
    return filterConstraints(pod, action, defaults).map((c) => ({ ...c, selector }));
  };
  return {
    name: PodTopologySpreadName,
    preFilter(state: CycleState, pod: Pod, snapshot: Snapshot): Status {
      let constraints: Constraint[];
      try {
        constraints = constraintsFor(pod, UnsatisfiableConstraintAction.DoNotSchedule);
      } catch (err) {
        return asError(err);
      }
      if (constraints.length === 0) return skip();
      state.write(preFilterStateKey, calPreFilterState(pod, constraints, snapshot.nodeInfoList));
      return success();
    },
    preFilterExtensions: {
      addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
        const s = state.read<PreFilterState>(preFilterStateKey);
        if (!s) return missing(preFilterStateKey);
        s.updateWithPod(podInfoToAdd.pod, podToSchedule, nodeInfo.node, 1);
        return success();
      },
      removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
        const s = state.read<PreFilterState>(preFilterStateKey);
        if (!s) return missing(preFilterStateKey);
        s.updateWithPod(podInfoToRemove.pod, podToSchedule, nodeInfo.node, -1);
        return success();
      },
    },
    filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
      const s = state.read<PreFilterState>(preFilterStateKey);
      if (!s) return missing(preFilterStateKey);
      const nodeLabels = nodeInfo.node.metadata.labels ?? noLabels;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i];
        const v = nodeLabels[c.topologyKey];
        if (v === undefined) return rejectedLabel;
        const skew = (s.tpValueToMatchNum[i].get(v) ?? 0) + s.selfMatch[i] - s.minMatchNum(i);
        if (skew > c.maxSkew) return rejectedSkew;
      }
      return success();
    },
    preScore(state: CycleState, pod: Pod, filteredNodes: readonly NodeInfo[]): Status {
      const snapshot = state.read<Snapshot>(SnapshotStateKey);
      if (!snapshot) return missing(SnapshotStateKey);
      const allNodes = snapshot.nodeInfoList;
      if (allNodes.length === 0) return skip();
      let constraints: Constraint[];
      try {
        constraints = constraintsFor(pod, UnsatisfiableConstraintAction.ScheduleAnyway);
      } catch (err) {
        return asError(err);
      }
      if (constraints.length === 0) return skip();
      // System defaults also score nodes that lack a topology key (a cluster without zones).
      const requireAllTopologies = (pod.spec?.topologySpreadConstraints?.length ?? 0) > 0 || !systemDefaulted;
      const s: PreScoreState = {
        constraints,
        ignoredNodes: new Set(),
        topologyValueToPodCounts: constraints.map(() => new Map()),
        topologyNormalizingWeight: [],
      };
      const topoSize = constraints.map(() => 0);
      for (const ni of filteredNodes) {
        const nodeLabels = ni.node.metadata.labels ?? noLabels;
        if (requireAllTopologies && !nodeLabelsMatchSpreadConstraints(nodeLabels, constraints)) {
          // Nodes missing a topology key are not scored.
          s.ignoredNodes.add(ni.name);
          continue;
        }
        constraints.forEach((c, i) => {
          // Per-node counts for hostname spreading are made in Score.
          if (c.topologyKey === LabelHostname) return;
          const v = nodeLabels[c.topologyKey];
          if (v === undefined) return;
          if (!s.topologyValueToPodCounts[i].has(v)) {
            s.topologyValueToPodCounts[i].set(v, 0);
            topoSize[i]++;
          }
        });
      }
      s.topologyNormalizingWeight = constraints.map((c, i) =>
        topologyNormalizingWeight(c.topologyKey === LabelHostname ? filteredNodes.length - s.ignoredNodes.size : topoSize[i]),
      );
      const required = new RequiredNodeAffinity(pod);
      const ns = pod.metadata.namespace ?? '';
      for (const ni of allNodes) {
        const node = ni.node;
        const nodeLabels = node.metadata.labels ?? noLabels;
        if (requireAllTopologies && !nodeLabelsMatchSpreadConstraints(nodeLabels, constraints)) continue;
        constraints.forEach((c, i) => {
          const v = nodeLabels[c.topologyKey];
          const m = s.topologyValueToPodCounts[i];
          // Only domains of candidate nodes matter.
          if (v === undefined || !m.has(v)) return;
          if (!matchNodeInclusionPolicies(c, pod, node, required)) return;
          m.set(v, m.get(v)! + countPodsMatchSelector(ni.pods, c.selector, ns));
        });
      }
      state.write(preScoreStateKey, s);
      return success();
    },
    score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): [number, Status] {
      const s = state.read<PreScoreState>(preScoreStateKey);
      if (!s) return [0, missing(preScoreStateKey)];
      if (s.ignoredNodes.has(nodeInfo.name)) return [0, success()];
      const nodeLabels = nodeInfo.node.metadata.labels ?? noLabels;
      let score = 0;
      s.constraints.forEach((c, i) => {
        const v = nodeLabels[c.topologyKey];
        if (v === undefined) return;
        const cnt =
          c.topologyKey === LabelHostname
            ? countPodsMatchSelector(nodeInfo.pods, c.selector, pod.metadata.namespace ?? '')
            : (s.topologyValueToPodCounts[i].get(v) ?? 0);
        score += scoreForCount(cnt, c.maxSkew, s.topologyNormalizingWeight[i]);
      });
      return [Math.round(score), success()];
    },
    normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
      const s = state.read<PreScoreState>(preScoreStateKey);
      if (!s) return missing(preScoreStateKey);
      let min = Number.MAX_SAFE_INTEGER;
      let max = 0;
      for (const x of scores) {
        if (s.ignoredNodes.has(x.name)) continue;
        if (x.score < min) min = x.score;
        if (x.score > max) max = x.score;
      }
      for (const x of scores) {
        if (s.ignoredNodes.has(x.name)) x.score = 0;
        else if (max === 0) x.score = MaxNodeScore;
        else x.score = Math.trunc((MaxNodeScore * (max + min - x.score)) / max);
      }
      return success();
    },
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
}
