// A Node's status as a kubelet reports it, as pure functions of data: the conditions a healthy
// kubelet posts (kubelet's nodestatus setters: MemoryPressure, DiskPressure, PIDPressure, Ready),
// capacity and allocatable (allocatable is capacity minus what is reserved for the system), the
// addresses, and whether a Node's current status differs from the wanted one in anything but
// heartbeat times (then a status write is due now rather than at the next heartbeat). The
// simulator and the kubelet both build their Node status from these.

import { type NodeStatus, NodeAddressType, NodeConditionType } from '../api/core/node.js';
import { formatQuantity, parseQuantity } from '../api/core/quantity.js';
import type { ResourceList } from '../api/core/types.js';
import type { Condition } from '../api/meta.js';
import { nowRFC3339 } from '../api/meta.js';

/** NodeConditionWant is a condition's type, status, reason and message, without its times. */
export type NodeConditionWant = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** healthyKubeletConditions are the conditions a healthy kubelet reports, in its order, with its texts. */
export const healthyKubeletConditions: readonly NodeConditionWant[] = [
  { type: NodeConditionType.MemoryPressure, status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: NodeConditionType.DiskPressure, status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: NodeConditionType.PIDPressure, status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: NodeConditionType.Ready, status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/**
 * nodeConditions stamps the wanted conditions with times against the current ones: a condition
 * keeps its lastTransitionTime while its status holds; lastHeartbeatTime moves on heartbeats,
 * or when the condition is new or changes in any way.
 */
export function nodeConditions(current: readonly Condition[] | undefined, want: readonly NodeConditionWant[], now: Date, heartbeat: boolean): Condition[] {
  const nowText = nowRFC3339(now);
  return want.map((w): Condition => {
    const cur = current?.find((c) => c.type === w.type);
    const same = cur?.status === w.status;
    const changed = !same || cur?.reason !== w.reason || cur?.message !== w.message;
    return {
      type: w.type,
      status: w.status,
      lastHeartbeatTime: heartbeat || changed || !cur?.lastHeartbeatTime ? nowText : cur.lastHeartbeatTime,
      lastTransitionTime: same && cur?.lastTransitionTime ? cur.lastTransitionTime : nowText,
      reason: w.reason,
      message: w.message,
    };
  });
}

/**
 * allocatableFor is capacity minus reserved per resource (kube-reserved + system-reserved +
 * hard eviction thresholds, as the kubelet's container manager subtracts them), never below
 * zero. Nothing reserved: allocatable equals capacity, spelled the same.
 */
export function allocatableFor(capacity: ResourceList, reserved: ResourceList = {}): ResourceList {
  const out: ResourceList = {};
  for (const [name, q] of Object.entries(capacity)) {
    const r = reserved[name];
    const cap = parseQuantity(q);
    const res = r === undefined ? undefined : parseQuantity(r);
    if (!cap || !res) {
      out[name] = q;
      continue;
    }
    const left = cap.nanos - res.nanos;
    out[name] = formatQuantity(left > 0n ? left : 0n, cap.format);
  }
  return out;
}

/** nodeAddresses are the addresses a kubelet reports: its InternalIP, then its hostname. */
export function nodeAddresses(internalIP: string, hostname: string): NonNullable<NodeStatus['addresses']> {
  return [
    { type: NodeAddressType.InternalIP, address: internalIP },
    { type: NodeAddressType.Hostname, address: hostname },
  ];
}

/** KubeletNodeStatusInput is what kubeletNodeStatus is made of. */
export interface KubeletNodeStatusInput {
  internalIP: string;
  hostname: string;
  capacity: ResourceList;
  /** reserved is subtracted from capacity for allocatable (default: nothing). */
  reserved?: ResourceList;
  nodeInfo: NonNullable<NodeStatus['nodeInfo']>;
  /** conditions are the wanted conditions (default: healthyKubeletConditions). */
  conditions?: readonly NodeConditionWant[];
  now: Date;
  /** heartbeat refreshes every condition's lastHeartbeatTime; otherwise the current ones are kept. */
  heartbeat: boolean;
}

/**
 * kubeletNodeStatus is the part of a Node's status a kubelet owns, given the status it has now:
 * capacity, allocatable, its conditions, addresses and nodeInfo. Other fields (images, volumes)
 * and other writers' conditions are not part of it.
 */
export function kubeletNodeStatus(current: NodeStatus | undefined, input: KubeletNodeStatusInput): NodeStatus {
  return {
    capacity: { ...input.capacity },
    allocatable: allocatableFor(input.capacity, input.reserved),
    conditions: nodeConditions(current?.conditions, input.conditions ?? healthyKubeletConditions, input.now, input.heartbeat),
    addresses: nodeAddresses(input.internalIP, input.hostname),
    nodeInfo: { ...input.nodeInfo },
  };
}

/** sameQuantities compares two resource lists by value ("1000m" equals "1"). */
export function sameQuantities(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    const qa = parseQuantity(a![k]);
    const qb = parseQuantity(b?.[k]);
    if (!qa || !qb || qa.nanos !== qb.nanos) return false;
  }
  return true;
}

/**
 * nodeStatusDiff says what in current differs from desired among the things the kubelet owns,
 * heartbeat times aside (undefined: nothing). Conditions desired does not name (someone
 * else's) and other fields are not compared.
 */
export function nodeStatusDiff(current: NodeStatus | undefined, desired: NodeStatus): string | undefined {
  if (!current) return 'status';
  if (!sameQuantities(current.capacity, desired.capacity)) return 'capacity';
  if (!sameQuantities(current.allocatable, desired.allocatable)) return 'allocatable';
  for (const want of desired.conditions ?? []) {
    const cur = current.conditions?.find((c) => c.type === want.type);
    if (!cur || cur.status !== want.status || cur.reason !== want.reason || cur.message !== want.message || !cur.lastTransitionTime) return `conditions[${want.type}]`;
  }
  const ca = current.addresses ?? [];
  const da = desired.addresses ?? [];
  if (ca.length !== da.length || ca.some((a, i) => a.type !== da[i]!.type || a.address !== da[i]!.address)) return 'addresses';
  const ci = (current.nodeInfo ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(desired.nodeInfo ?? {})) if (ci[k] !== v) return `nodeInfo.${k}`;
  return undefined;
}

/** nodeStatusDiffers is nodeStatusDiff as a yes/no. */
export function nodeStatusDiffers(current: NodeStatus | undefined, desired: NodeStatus): boolean {
  return nodeStatusDiff(current, desired) !== undefined;
}
