// NodeName: a pod that names its node (spec.nodeName) fits only that node, as kube-scheduler's
// plugin of that name.

import type { Pod } from '../../lib/api/core/pod.js';
import type { CycleState } from '../framework/cyclestate.js';
import type { FilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { Status } from '../framework/status.js';
import { success, unresolvable } from '../framework/status.js';

/** NodeNameName is the plugin's name in configuration. */
export const NodeNameName = 'NodeName';

/** ErrReasonNodeName is the reason a node with another name gives. */
export const ErrReasonNodeName = "node(s) didn't match the requested node name";

const rejected: Status = Object.freeze(unresolvable(ErrReasonNodeName));

/** newNodeName builds the plugin (it has no args). */
export function newNodeName(): FilterPlugin {
  return {
    name: NodeNameName,
    filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
      const want = pod.spec?.nodeName;
      if (!want || want === nodeInfo.name) return success();
      return rejected;
    },
  } satisfies FilterPlugin;
}
