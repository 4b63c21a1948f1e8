// NodeAffinity, as kube-scheduler's plugin of that name: Filter requires spec.nodeSelector and
// required node affinity (plus the profile's addedAffinity, if any); Score sums the weights of the
// matching preferred terms, normalized so the best node scores 100.

import type { Pod } from '../../lib/api/core/pod.js';
import type { NodeSelectorTerm } from '../../lib/api/core/types.js';
import type { CycleState } from '../framework/cyclestate.js';
import { type FilterPlugin, MaxNodeScore, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { Snapshot } from '../framework/snapshot.js';
import { skip, type Status, success, unresolvable } from '../framework/status.js';
import { NodeSelector, PreferredSchedulingTerms, RequiredNodeAffinity, defaultNormalizeScore } from './helper.js';

/** NodeAffinityName is the plugin's name in configuration. */
export const NodeAffinityName = 'NodeAffinity';

/** ErrReasonPod is the reason a node that fails the pod's nodeSelector or required affinity gives. */
export const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";
/** ErrReasonEnforced is the reason a node that fails the profile's addedAffinity gives. */
export const ErrReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";

/** NodeAffinityArgs is NodeAffinityArgs: node affinity every pod of the profile must also satisfy. */
export interface NodeAffinityArgs {
  addedAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
  };
}

const preFilterStateKey = 'PreFilter' + NodeAffinityName;
const preScoreStateKey = 'PreScore' + NodeAffinityName;

interface PreFilterState {
  required: RequiredNodeAffinity;
}

interface PreScoreState {
  preferred: PreferredSchedulingTerms;
}

const rejectedPod: Status = Object.freeze(unresolvable(ErrReasonPod));
const rejectedEnforced: Status = Object.freeze(unresolvable(ErrReasonEnforced));

/** newNodeAffinity builds the plugin from its args. */
export function newNodeAffinity(args: NodeAffinityArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const added = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const addedNodeSelector = added ? new NodeSelector(added.nodeSelectorTerms) : undefined;
  const addedPreferred = args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length
    ? new PreferredSchedulingTerms(args.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution)
    : undefined;
  return {
    name: NodeAffinityName,
    preFilter(state: CycleState, pod: Pod, _snapshot: Snapshot): Status {
      const required = new RequiredNodeAffinity(pod);
      if (required.isEmpty && !addedNodeSelector) return skip();
      state.write(preFilterStateKey, { required } satisfies PreFilterState);
      return success();
    },
    filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
      const node = nodeInfo.node;
      if (addedNodeSelector && !addedNodeSelector.match(node)) return rejectedEnforced;
      // Without PreFilter (disabled in the profile) compute the requirement here, as kube does.
      const s = state.read<PreFilterState>(preFilterStateKey) ?? { required: new RequiredNodeAffinity(pod) };
      return s.required.match(node) ? success() : rejectedPod;
    },
    preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[]): Status {
      const preferred = new PreferredSchedulingTerms(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
      if (preferred.length === 0 && !addedPreferred) return skip();
      state.write(preScoreStateKey, { preferred } satisfies PreScoreState);
      return success();
    },
    score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): [number, Status] {
      const s =
        state.read<PreScoreState>(preScoreStateKey) ??
        ({ preferred: new PreferredSchedulingTerms(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution) } satisfies PreScoreState);
      const node = nodeInfo.node;
      let count = s.preferred.score(node);
      if (addedPreferred) count += addedPreferred.score(node);
      return [count, success()];
    },
    normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): Status {
      return defaultNormalizeScore(MaxNodeScore, false, scores);
    },
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
}
