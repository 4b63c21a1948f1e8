// TaintToleration, as kube-scheduler's plugin of that name: Filter keeps pods off nodes with a
// NoSchedule/NoExecute taint they do not tolerate; Score prefers nodes with fewer untolerated
// PreferNoSchedule taints (raw score = that count, normalized reversed so fewer is higher).

import type { Pod } from '../../lib/api/core/pod.js';
import type { Taint, Toleration } from '../../lib/api/core/types.js';
import type { CycleState } from '../framework/cyclestate.js';
import { type FilterPlugin, MaxNodeScore, type NodeScore, type PreScorePlugin, type ScorePlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import { asError, type Status, success, unresolvable } from '../framework/status.js';
import { TaintEffect, findMatchingUntoleratedTaint, isDoNotScheduleTaint, tolerationsTolerateTaint } from '../../lib/node/taints.js';
import { defaultNormalizeScore } from './helper.js';

/** TaintTolerationName is the plugin's name in configuration. */
export const TaintTolerationName = 'TaintToleration';

const preScoreStateKey = 'PreScore' + TaintTolerationName;

interface PreScoreState {
  tolerationsPreferNoSchedule: Toleration[];
}

/** untoleratedTaintReason is the reason a node with an untolerated taint gives: `node(s) had untolerated taint {key: value}`. */
export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

/** countIntolerableTaintsPreferNoSchedule counts the PreferNoSchedule taints no toleration tolerates. */
export function countIntolerableTaintsPreferNoSchedule(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[]): number {
  let n = 0;
  for (const t of taints ?? []) {
    if (t.effect !== TaintEffect.PreferNoSchedule) continue;
    if (!tolerationsTolerateTaint(tolerations, t)) n++;
  }
  return n;
}

/** newTaintToleration builds the plugin (it has no args). */
export function newTaintToleration(): FilterPlugin & PreScorePlugin & ScorePlugin {
  // One status per taint object: a node's taints stay the same objects until the node changes.
  const rejected = new WeakMap<Taint, Status>();
  return {
    name: TaintTolerationName,
    filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
      const taints = nodeInfo.node.spec?.taints;
      if (!taints || taints.length === 0) return success();
      const taint = findMatchingUntoleratedTaint(taints, pod.spec?.tolerations, isDoNotScheduleTaint);
      if (!taint) return success();
      let s = rejected.get(taint);
      if (!s) rejected.set(taint, (s = Object.freeze(unresolvable(untoleratedTaintReason(taint)))));
      return s;
    },
    preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[]): Status {
      // Tolerations without an effect tolerate every effect, PreferNoSchedule included.
      const tolerationsPreferNoSchedule = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === TaintEffect.PreferNoSchedule);
      state.write(preScoreStateKey, { tolerationsPreferNoSchedule } satisfies PreScoreState);
      return success();
    },
    score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): [number, Status] {
      const s = state.read<PreScoreState>(preScoreStateKey);
      if (!s) return [0, asError(new Error(`error reading "${preScoreStateKey}" from cycleState: not found`))];
      return [countIntolerableTaintsPreferNoSchedule(nodeInfo.node.spec?.taints, s.tolerationsPreferNoSchedule), success()];
    },
    normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
      return defaultNormalizeScore(MaxNodeScore, true, scores);
    },
  } satisfies FilterPlugin & PreScorePlugin & ScorePlugin;
}
