// InterPodAffinity, as kube-scheduler's plugin of that name (filtering.go, scoring.go).
//
// Filter, both directions, by topology domain (a node label key/value pair):
// - the incoming pod's required affinity: every term's domain on the node must hold a matching
//   pod (or, for the first pod of a group that matches its own terms, no pod matches anywhere);
// - the incoming pod's required anti-affinity: no term's domain on the node may hold a match;
// - existing pods' required anti-affinity: no domain of the node may hold a pod whose term
//   matches the incoming pod.
// PreFilter counts matches per domain once per cycle so Filter is a few map lookups per node;
// AddPod/RemovePod keep the counts right during preemption's what-if runs.
//
// Score sums, per domain, the weights of preferred terms (the pod's and existing pods') and of
// existing pods' required affinity (hardPodAffinityWeight), then min-max normalizes to 0..100.
//
// namespaceSelector: kube merges the incoming pod's selector into a namespace list; skiff
// evaluates it against the other pod's namespace labels (Handle.namespaceLabels), which selects
// the same pods.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Labels } from '../../lib/machinery/labels.js';
import type { Framework } from '../framework/framework.js';
import { type CycleState, podInfoForCycle, SnapshotStateKey } from '../framework/cyclestate.js';
import { type FilterPlugin, MaxNodeScore, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import { type AffinityTerm, affinityTermMatches, type PodInfo, type WeightedAffinityTerm } from '../framework/podinfo.js';
import type { Snapshot } from '../framework/snapshot.js';
import { asError, skip, type Status, success, unresolvable, unschedulable } from '../framework/status.js';

/** InterPodAffinityName is the plugin's name in configuration. */
export const InterPodAffinityName = 'InterPodAffinity';

// Reasons, verbatim from kube.
export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

/** InterPodAffinityArgs is InterPodAffinityArgs. */
export interface InterPodAffinityArgs {
  /** hardPodAffinityWeight scores existing pods' required affinity terms that the incoming pod matches (default 1, 0..100). */
  hardPodAffinityWeight?: number;
  /** ignorePreferredTermsOfExistingPods skips scoring when the incoming pod has no preferred terms. */
  ignorePreferredTermsOfExistingPods?: boolean;
}

const preFilterStateKey = 'PreFilter' + InterPodAffinityName;
const preScoreStateKey = 'PreScore' + InterPodAffinityName;

const noLabels: Labels = Object.freeze({});

/** TopologyCounts counts matches per topology pair: key → value → count (entries at zero are removed). */
export class TopologyCounts {
  readonly byKey = new Map<string, Map<string, number>>();

  add(key: string, value: string, delta: number): void {
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = new Map()));
    const n = (m.get(value) ?? 0) + delta;
    if (n === 0) {
      m.delete(value);
      if (m.size === 0) this.byKey.delete(key);
    } else {
      m.set(value, n);
    }
  }

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  get size(): number {
    return this.byKey.size;
  }

  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, m] of this.byKey) c.byKey.set(k, new Map(m));
    return c;
  }

  /** updateWithAffinityTerms adds value for every term's domain of node when pod matches ALL the terms. */
  updateWithAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, nsLabels: Labels | undefined, nodeLabels: Labels, value: number): void {
    if (!podMatchesAllAffinityTerms(terms, pod, nsLabels)) return;
    for (const t of terms) {
      const v = nodeLabels[t.topologyKey];
      if (v !== undefined) this.add(t.topologyKey, v, value);
    }
  }

  /** updateWithAntiAffinityTerms adds value for the domain of node of every term pod matches. */
  updateWithAntiAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, nsLabels: Labels | undefined, nodeLabels: Labels, value: number): void {
    for (const t of terms) {
      if (!affinityTermMatches(t, pod, nsLabels)) continue;
      const v = nodeLabels[t.topologyKey];
      if (v !== undefined) this.add(t.topologyKey, v, value);
    }
  }
}

/** podMatchesAllAffinityTerms: there is at least one term and pod matches each. */
function podMatchesAllAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, nsLabels: Labels | undefined): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!affinityTermMatches(t, pod, nsLabels)) return false;
  return true;
}

type NamespaceLabels = (ns: string) => Labels | undefined;

/** namespaceLabelsCache memoizes the Handle's namespace label lookups for one cycle. */
function namespaceLabelsCache(fh: Framework | undefined): NamespaceLabels {
  if (!fh) return () => undefined;
  const cache = new Map<string, Labels | undefined>();
  return (ns) => {
    if (cache.has(ns)) return cache.get(ns);
    const l = fh.namespaceLabels(ns);
    cache.set(ns, l);
    return l;
  };
}

class PreFilterState {
  constructor(
    readonly podInfo: PodInfo,
    readonly nsLabelsOf: NamespaceLabels,
    readonly existingAntiAffinityCounts: TopologyCounts,
    readonly affinityCounts: TopologyCounts,
    readonly antiAffinityCounts: TopologyCounts,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.podInfo, this.nsLabelsOf, this.existingAntiAffinityCounts.clone(), this.affinityCounts.clone(), this.antiAffinityCounts.clone());
  }

  /** updateWithPod is preFilterState.updateWithPod: account for a pod joining (1) or leaving (-1) node. */
  updateWithPod(pi: PodInfo, node: Node, multiplier: number): void {
    const nodeLabels = node.metadata.labels ?? noLabels;
    const pod = this.podInfo.pod;
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(pi.requiredAntiAffinityTerms, pod, this.nsLabelsOf(pod.metadata.namespace ?? ''), nodeLabels, multiplier);
    const otherNs = this.nsLabelsOf(pi.pod.metadata.namespace ?? '');
    this.affinityCounts.updateWithAffinityTerms(this.podInfo.requiredAffinityTerms, pi.pod, otherNs, nodeLabels, multiplier);
    this.antiAffinityCounts.updateWithAntiAffinityTerms(this.podInfo.requiredAntiAffinityTerms, pi.pod, otherNs, nodeLabels, multiplier);
  }
}

function satisfyPodAffinity(s: PreFilterState, nodeLabels: Labels): boolean {
  let podsExist = true;
  for (const t of s.podInfo.requiredAffinityTerms) {
    const v = nodeLabels[t.topologyKey];
    // Every topology label must exist on the node.
    if (v === undefined) return false;
    if (s.affinityCounts.get(t.topologyKey, v) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: allow it where the topology exists when no
  // pod anywhere matches the terms yet and the pod matches its own terms.
  const pod = s.podInfo.pod;
  return s.affinityCounts.size === 0 && podMatchesAllAffinityTerms(s.podInfo.requiredAffinityTerms, pod, s.nsLabelsOf(pod.metadata.namespace ?? ''));
}

function satisfyPodAntiAffinity(s: PreFilterState, nodeLabels: Labels): boolean {
  for (const t of s.podInfo.requiredAntiAffinityTerms) {
    const v = nodeLabels[t.topologyKey];
    if (v !== undefined && s.antiAffinityCounts.get(t.topologyKey, v) > 0) return false;
  }
  return true;
}

function satisfyExistingPodsAntiAffinity(s: PreFilterState, nodeLabels: Labels): boolean {
  for (const [key, values] of s.existingAntiAffinityCounts.byKey) {
    const v = nodeLabels[key];
    if (v !== undefined && (values.get(v) ?? 0) > 0) return false;
  }
  return true;
}

/** PreScoreState is the scoring map: topology key → value → accumulated weight. */
class PreScoreState {
  readonly topologyScore = new Map<string, Map<string, number>>();
  /** scoredDomains are, by topology key, the values the scored nodes have (made on first use). */
  private readonly scoredDomains = new Map<string, Set<string>>();

  constructor(private readonly scoredNodes: readonly NodeInfo[]) {}

  /**
   * isScoredDomain: some scored node has value for key. Score reads only the domains of the
   * nodes it scores, so a term counts nowhere else (with hostname terms: every node but those).
   */
  isScoredDomain(key: string, value: string): boolean {
    let values = this.scoredDomains.get(key);
    if (!values) {
      values = new Set<string>();
      for (const ni of this.scoredNodes) {
        const v = ni.node.metadata.labels?.[key];
        if (v !== undefined) values.add(v);
      }
      this.scoredDomains.set(key, values);
    }
    return values.has(value);
  }

  add(key: string, value: string, delta: number): void {
    let m = this.topologyScore.get(key);
    if (!m) this.topologyScore.set(key, (m = new Map()));
    m.set(value, (m.get(value) ?? 0) + delta);
  }

  processTerm(term: AffinityTerm, weight: number, pod: Pod, nsLabels: Labels | undefined, nodeLabels: Labels, multiplier: number): void {
    const v = nodeLabels[term.topologyKey];
    if (v === undefined || !this.isScoredDomain(term.topologyKey, v)) return;
    if (affinityTermMatches(term, pod, nsLabels)) this.add(term.topologyKey, v, weight * multiplier);
  }

  processTerms(terms: readonly WeightedAffinityTerm[], pod: Pod, nsLabels: Labels | undefined, nodeLabels: Labels, multiplier: number): void {
    for (const t of terms) this.processTerm(t, t.weight, pod, nsLabels, nodeLabels, multiplier);
  }
}

/** newInterPodAffinity builds the plugin; fh supplies namespace labels for namespaceSelector. */
export function newInterPodAffinity(args: InterPodAffinityArgs = {}, fh?: Framework): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1;
  const ignorePreferredTermsOfExistingPods = args.ignorePreferredTermsOfExistingPods ?? false;
  const readState = (state: CycleState) => state.read<PreFilterState>(preFilterStateKey);
  const missing = (key: string) => asError(new Error(`error reading "${key}" from cycleState: not found`));
  const rejectedAffinity: Status = Object.freeze(unresolvable(ErrReasonAffinityRulesNotMatch));
  const rejectedAnti: Status = Object.freeze(unschedulable(ErrReasonAntiAffinityRulesNotMatch));
  const rejectedExisting: Status = Object.freeze(unschedulable(ErrReasonExistingAntiAffinityRulesNotMatch));

  return {
    name: InterPodAffinityName,
    preFilter(state: CycleState, pod: Pod, snapshot: Snapshot): Status {
      const pi = podInfoForCycle(state, pod);
      const nsLabelsOf = namespaceLabelsCache(fh);
      const podNsLabels = nsLabelsOf(pod.metadata.namespace ?? '');
      const existing = new TopologyCounts();
      for (const ni of snapshot.havePodsWithRequiredAntiAffinityList) {
        const nodeLabels = ni.node.metadata.labels ?? noLabels;
        for (const ep of ni.podsWithRequiredAntiAffinity) existing.updateWithAntiAffinityTerms(ep.requiredAntiAffinityTerms, pod, podNsLabels, nodeLabels, 1);
      }
      const affinity = new TopologyCounts();
      const anti = new TopologyCounts();
      const hasAffinity = pi.requiredAffinityTerms.length > 0;
      const hasAnti = pi.requiredAntiAffinityTerms.length > 0;
      if (hasAffinity || hasAnti) {
        for (const ni of snapshot.nodeInfoList) {
          const nodeLabels = ni.node.metadata.labels ?? noLabels;
          for (const ep of ni.pods) {
            const epNs = nsLabelsOf(ep.pod.metadata.namespace ?? '');
            if (hasAffinity) affinity.updateWithAffinityTerms(pi.requiredAffinityTerms, ep.pod, epNs, nodeLabels, 1);
            if (hasAnti) anti.updateWithAntiAffinityTerms(pi.requiredAntiAffinityTerms, ep.pod, epNs, nodeLabels, 1);
          }
        }
      }
      if (existing.size === 0 && !hasAffinity && !hasAnti) return skip();
      state.write(preFilterStateKey, new PreFilterState(pi, nsLabelsOf, existing, affinity, anti));
      return success();
    },
    preFilterExtensions: {
      addPod(state: CycleState, _podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
        const s = readState(state);
        if (!s) return missing(preFilterStateKey);
        s.updateWithPod(podInfoToAdd, nodeInfo.node, 1);
        return success();
      },
      removePod(state: CycleState, _podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
        const s = readState(state);
        if (!s) return missing(preFilterStateKey);
        s.updateWithPod(podInfoToRemove, nodeInfo.node, -1);
        return success();
      },
    },
    filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
      const s = readState(state);
      if (!s) return missing(preFilterStateKey);
      const nodeLabels = nodeInfo.node.metadata.labels ?? noLabels;
      if (!satisfyPodAffinity(s, nodeLabels)) return rejectedAffinity;
      if (!satisfyPodAntiAffinity(s, nodeLabels)) return rejectedAnti;
      if (!satisfyExistingPodsAntiAffinity(s, nodeLabels)) return rejectedExisting;
      return success();
    },
    preScore(state: CycleState, pod: Pod, filteredNodes: readonly NodeInfo[]): Status {
      const pi = podInfoForCycle(state, pod);
      const hasConstraints = pi.preferredAffinityTerms.length > 0 || pi.preferredAntiAffinityTerms.length > 0;
      if (ignorePreferredTermsOfExistingPods && !hasConstraints) return skip();
      const snapshot = state.read<Snapshot>(SnapshotStateKey);
      if (!snapshot) return missing(SnapshotStateKey);
      // Unless the pod has preferred terms of its own, only pods with affinity can contribute.
      const nodes = hasConstraints ? snapshot.nodeInfoList : snapshot.havePodsWithAffinityList;
      const nsLabelsOf = namespaceLabelsCache(fh);
      const podNsLabels = nsLabelsOf(pod.metadata.namespace ?? '');
      const s = new PreScoreState(filteredNodes);
      const ownKeys = [...new Set([...pi.preferredAffinityTerms, ...pi.preferredAntiAffinityTerms].map((t) => t.topologyKey))];
      /** inScoredDomain: the node is in a scored domain for one of keys. */
      const inScoredDomain = (keys: readonly string[], nodeLabels: Labels): boolean => {
        for (const key of keys) {
          const v = nodeLabels[key];
          if (v !== undefined && s.isScoredDomain(key, v)) return true;
        }
        return false;
      };
      for (const ni of nodes) {
        const nodeLabels = ni.node.metadata.labels;
        if (!nodeLabels || ni.pods.length === 0) continue;
        // A term adds only to the node's own domain for its key, and Score reads only scored
        // domains: a node none of whose domains is scored (for the incoming pod's keys, or for
        // the keys of its pods' terms) adds nothing and is passed over without reading its pods.
        const own = hasConstraints && inScoredDomain(ownKeys, nodeLabels);
        const theirs = ni.podsWithAffinity.length > 0 && inScoredDomain(ni.affinityTopologyKeys(), nodeLabels);
        if (!own && !theirs) continue;
        for (const ep of own ? ni.pods : ni.podsWithAffinity) {
          if (own) {
            // The incoming pod's preferred terms against the existing pod.
            const epNs = nsLabelsOf(ep.pod.metadata.namespace ?? '');
            s.processTerms(pi.preferredAffinityTerms, ep.pod, epNs, nodeLabels, 1);
            s.processTerms(pi.preferredAntiAffinityTerms, ep.pod, epNs, nodeLabels, -1);
          }
          if (!theirs) continue;
          // The existing pod's terms against the incoming pod.
          if (hardPodAffinityWeight > 0) for (const t of ep.requiredAffinityTerms) s.processTerm(t, hardPodAffinityWeight, pod, podNsLabels, nodeLabels, 1);
          s.processTerms(ep.preferredAffinityTerms, pod, podNsLabels, nodeLabels, 1);
          s.processTerms(ep.preferredAntiAffinityTerms, pod, podNsLabels, nodeLabels, -1);
        }
      }
      if (s.topologyScore.size === 0) return skip();
      state.write(preScoreStateKey, s);
      return success();
    },
    score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): [number, Status] {
      const s = state.read<PreScoreState>(preScoreStateKey);
      if (!s) return [0, missing(preScoreStateKey)];
      const nodeLabels = nodeInfo.node.metadata.labels ?? noLabels;
      let score = 0;
      for (const [key, values] of s.topologyScore) {
        const v = nodeLabels[key];
        if (v !== undefined) score += values.get(v) ?? 0;
      }
      return [score, success()];
    },
    normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
      const s = state.read<PreScoreState>(preScoreStateKey);
      if (!s || s.topologyScore.size === 0) return success();
      let min = Infinity;
      let max = -Infinity;
      for (const x of scores) {
        if (x.score > max) max = x.score;
        if (x.score < min) min = x.score;
      }
      const diff = max - min;
      for (const x of scores) x.score = diff > 0 ? Math.trunc(MaxNodeScore * ((x.score - min) / diff)) : 0;
      return success();
    },
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
}
