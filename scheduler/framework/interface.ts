// The plugin interfaces (kube-scheduler's framework/interface.go): one small interface per
// extension point, each returning a Status. A plugin `satisfies` the ones it implements.

import type { Pod } from '../../lib/api/core/pod.js';
import type { CycleState } from './cyclestate.js';
import type { NodeToStatus } from './errors.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import type { Snapshot } from './snapshot.js';
import type { Status } from './status.js';

/** MaxNodeScore is the highest score a Score plugin gives after normalization; MinNodeScore the lowest. */
export const MaxNodeScore = 100;
export const MinNodeScore = 0;

/** Plugin is what every plugin has: its name (as used in configuration). */
export interface Plugin {
  readonly name: string;
}

/**
 * PreFilterExtensions are PreFilter's incremental hooks (framework.PreFilterExtensions):
 * preemption calls them to update PreFilter state as it removes victims from, or adds nominated
 * pods to, a node, instead of re-running PreFilter.
 */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

/** PreFilterPlugin precomputes per-pod state once per cycle; Skip turns off its Filter for this pod. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, snapshot: Snapshot): Status;
  preFilterExtensions?: PreFilterExtensions;
}

/** FilterPlugin judges whether the pod fits one node. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

/** PostFilterResult is what a PostFilter plugin proposes: the node the pod is nominated to (preemption). */
export interface PostFilterResult {
  nominatedNodeName?: string;
}

/** PostFilterPlugin runs when no node fits (preemption); its status message goes into the FitError. */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filteredNodeStatusMap: NodeToStatus): { result?: PostFilterResult; status: Status };
}

/** PreScorePlugin precomputes per-pod scoring state over the feasible nodes; Skip turns off its Score. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status;
}

/** NodeScore is one node's score from one plugin. */
export interface NodeScore {
  name: string;
  score: number;
}

/** ScorePlugin ranks feasible nodes; normalizeScore, when present, maps the raw scores into 0..MaxNodeScore. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): [number, Status];
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): Status;
}

/** PluginScore is one plugin's weighted score for a node. */
export interface PluginScore {
  name: string;
  score: number;
}

/** NodePluginScores is a node's weighted per-plugin scores and their total (framework.NodePluginScores). */
export interface NodePluginScores {
  name: string;
  scores: PluginScore[];
  totalScore: number;
}
