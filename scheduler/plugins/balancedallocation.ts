// NodeResourcesBalancedAllocation, as kube-scheduler's plugin of that name: prefers nodes whose
// cpu and memory (or the configured resources) would be equally used with the pod on them.
// Off in skiff's default profile: an empty node has perfectly balanced usage (0% and 0%) and so
// scores the maximum, which would pull pods towards empty nodes and fight the MostAllocated bin
// packing the default profile is built around. Profiles that spread (LeastAllocated) may enable it.

import type { Pod } from '../../lib/api/core/pod.js';
import { type CycleState, podInfoForCycle } from '../framework/cyclestate.js';
import type { PreScorePlugin, ScorePlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import { skip, type Status, success } from '../framework/status.js';
import { DefaultResources, ResourceAllocationScorer, type ResourceSpec, balancedResourceScorer, podRequestList } from './resourceallocation.js';

/** NodeResourcesBalancedAllocationName is the plugin's name in configuration. */
export const NodeResourcesBalancedAllocationName = 'NodeResourcesBalancedAllocation';

/** NodeResourcesBalancedAllocationArgs is NodeResourcesBalancedAllocationArgs. */
export interface NodeResourcesBalancedAllocationArgs {
  resources?: ResourceSpec[];
}

const preScoreStateKey = 'PreScore' + NodeResourcesBalancedAllocationName;

interface PreScoreState {
  podRequests: number[];
}

/** newNodeResourcesBalancedAllocation builds the plugin (default resources: cpu and memory). */
export function newNodeResourcesBalancedAllocation(args: NodeResourcesBalancedAllocationArgs = {}): PreScorePlugin & ScorePlugin {
  const resources = args.resources?.length ? args.resources : DefaultResources;
  // Balance is judged on real requests (no non-zero defaults), as kube's useRequested.
  const scorer = new ResourceAllocationScorer(resources, balancedResourceScorer, true);
  return {
    name: NodeResourcesBalancedAllocationName,
    preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[]): Status {
      const podRequests = podRequestList(podInfoForCycle(state, pod), resources, true);
      // A best-effort pod requests nothing; balancing would herd all of them onto one node.
      if (podRequests.every((r) => r === 0)) return skip();
      state.write(preScoreStateKey, { podRequests } satisfies PreScoreState);
      return success();
    },
    score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): [number, Status] {
      const s = state.read<PreScoreState>(preScoreStateKey) ?? { podRequests: podRequestList(podInfoForCycle(state, pod), resources, true) };
      return [scorer.score(nodeInfo, s.podRequests), success()];
    },
  } satisfies PreScorePlugin & ScorePlugin;
}
