// NodePorts: a pod asking for host ports fits only nodes where those ports are free, as
// kube-scheduler's plugin of that name. PreFilter collects the ports (Skip when there are none, so
// the common pod pays nothing per node).

import type { Pod } from '../../lib/api/core/pod.js';
import { type CycleState, podInfoForCycle } from '../framework/cyclestate.js';
import type { ContainerHostPort } from '../framework/hostports.js';
import type { FilterPlugin, PreFilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { Snapshot } from '../framework/snapshot.js';
import { asError, skip, type Status, success, unschedulable } from '../framework/status.js';

/** NodePortsName is the plugin's name in configuration. */
export const NodePortsName = 'NodePorts';

/** ErrReasonNodePorts is the reason a node with a port already taken gives. */
export const ErrReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

const preFilterStateKey = 'PreFilter' + NodePortsName;

interface PreFilterState {
  ports: readonly ContainerHostPort[];
}

const rejected: Status = Object.freeze(unschedulable(ErrReasonNodePorts));

/** fitsPorts: none of the wanted host ports conflicts with the node's used ports. */
export function fitsPorts(want: readonly ContainerHostPort[], nodeInfo: NodeInfo): boolean {
  for (const p of want) if (nodeInfo.usedPorts.checkConflict(p.hostIP, p.protocol, p.hostPort)) return false;
  return true;
}

/** newNodePorts builds the plugin (it has no args). */
export function newNodePorts(): PreFilterPlugin & FilterPlugin {
  return {
    name: NodePortsName,
    preFilter(state: CycleState, pod: Pod, _snapshot: Snapshot): Status {
      const ports = podInfoForCycle(state, pod).hostPorts;
      if (ports.length === 0) return skip();
      state.write(preFilterStateKey, { ports } satisfies PreFilterState);
      return success();
    },
    filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
      const s = state.read<PreFilterState>(preFilterStateKey);
      if (!s) return asError(new Error(`error reading "${preFilterStateKey}" from cycleState: not found`));
      return fitsPorts(s.ports, nodeInfo) ? success() : rejected;
    },
  } satisfies PreFilterPlugin & FilterPlugin;
}
