// TaintNodesByCondition (kube's doNoScheduleTaintingPass): a node's conditions are mirrored as
// NoSchedule taints the scheduler honours — Ready False → not-ready, Ready Unknown → unreachable,
// MemoryPressure/DiskPressure/PIDPressure True → *-pressure, NetworkUnavailable True →
// network-unavailable — and spec.unschedulable as node.kubernetes.io/unschedulable. Only these
// taints are touched; any other taint on the node is left alone.

import type { Node } from '../../lib/api/core/node.js';
import type { Taint } from '../../lib/api/core/types.js';
import type { Client } from '../../lib/client/client.js';
import {
  TaintEffect,
  TaintNodeDiskPressure,
  TaintNodeMemoryPressure,
  TaintNodeNetworkUnavailable,
  TaintNodeNotReady,
  TaintNodePIDPressure,
  TaintNodeUnreachable,
  TaintNodeUnschedulable,
  matchTaint,
} from '../../lib/node/taints.js';
import { swapNodeControllerTaint } from './taints.js';

/** nodeConditionToTaintKeyStatusMap maps (condition type, status) to the taint key it implies. */
const nodeConditionToTaintKeyStatusMap: Record<string, Record<string, string>> = {
  Ready: { False: TaintNodeNotReady, Unknown: TaintNodeUnreachable },
  MemoryPressure: { True: TaintNodeMemoryPressure },
  DiskPressure: { True: TaintNodeDiskPressure },
  NetworkUnavailable: { True: TaintNodeNetworkUnavailable },
  PIDPressure: { True: TaintNodePIDPressure },
};

const conditionTaintKeys = new Set([TaintNodeNotReady, TaintNodeUnreachable, TaintNodeMemoryPressure, TaintNodeDiskPressure, TaintNodeNetworkUnavailable, TaintNodePIDPressure]);

/** noScheduleTaintDiff is the taints to add to and remove from node so its NoSchedule condition taints match its status. */
export function noScheduleTaintDiff(node: Node): { add: Taint[]; remove: Taint[] } {
  const want: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = nodeConditionToTaintKeyStatusMap[c.type]?.[c.status];
    if (key) want.push({ key, effect: TaintEffect.NoSchedule });
  }
  if (node.spec?.unschedulable) want.push({ key: TaintNodeUnschedulable, effect: TaintEffect.NoSchedule });
  const have = (node.spec?.taints ?? []).filter((t) => t.effect === TaintEffect.NoSchedule && (t.key === TaintNodeUnschedulable || conditionTaintKeys.has(t.key)));
  return {
    add: want.filter((w) => !have.some((h) => matchTaint(h, w))),
    remove: have.filter((h) => !want.some((w) => matchTaint(h, w))),
  };
}

/** doNoScheduleTaintingPass writes the NoSchedule condition taints of node when they differ; it throws when it could not. */
export async function doNoScheduleTaintingPass(client: Client, node: Node, now?: () => Date): Promise<void> {
  const { add, remove } = noScheduleTaintDiff(node);
  if (!add.length && !remove.length) return;
  if (!(await swapNodeControllerTaint(client, node, add, remove, now))) throw new Error(`failed to swap taints of node ${node.metadata.name}`);
}
