// NodeUnschedulable keeps pods off cordoned nodes (spec.unschedulable), unless the pod tolerates
// the node.kubernetes.io/unschedulable:NoSchedule taint, as kube-scheduler's plugin of that name.

import type { CycleState } from '../framework/cyclestate.js';
import type { FilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { Status } from '../framework/status.js';
import { success, unresolvable } from '../framework/status.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { TaintEffect, TaintNodeUnschedulable, tolerationsTolerateTaint } from '../../lib/node/taints.js';

/** NodeUnschedulableName is the plugin's name in configuration. */
export const NodeUnschedulableName = 'NodeUnschedulable';

/** ErrReasonUnschedulable is the reason a cordoned node gives. */
export const ErrReasonUnschedulable = 'node(s) were unschedulable';

const unschedulableTaint = { key: TaintNodeUnschedulable, effect: TaintEffect.NoSchedule };
const rejected: Status = Object.freeze(unresolvable(ErrReasonUnschedulable));

/** newNodeUnschedulable builds the plugin (it has no args). */
export function newNodeUnschedulable(): FilterPlugin {
  return {
    name: NodeUnschedulableName,
    filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
      if (!nodeInfo.node.spec?.unschedulable) return success();
      // A pod that tolerates the unschedulable taint tolerates spec.unschedulable as well.
      if (tolerationsTolerateTaint(pod.spec?.tolerations, unschedulableTaint)) return success();
      return rejected;
    },
  } satisfies FilterPlugin;
}
