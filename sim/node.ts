// The Node objects a simulated kubelet registers and keeps up to date, as pure functions: the
// Node it creates, the status it reports (capacity, conditions, addresses, nodeInfo), whether a
// Node's current status differs from that in anything but heartbeat times, and its Lease.

import { createHash } from 'node:crypto';
import { type Node, type NodeStatus, NodeConditionType, NodeAddressType } from '../lib/api/core/node.js';
import { parseQuantity } from '../lib/api/core/quantity.js';
import type { ResourceList } from '../lib/api/core/types.js';
import type { Lease } from '../lib/api/coordination/lease.js';
import type { Condition } from '../lib/api/meta.js';
import { nowMicro, nowRFC3339 } from '../lib/api/meta.js';
import type { SimConfig } from './config.js';

/** SimulatedAnnotation marks a Node the simulator plays the kubelet for. */
export const SimulatedAnnotation = 'skiff.dev/simulated';

/** CapacityAnnotationPrefix + resource (cpu, memory, pods, ephemeral-storage) overrides a Node's capacity. */
export const CapacityAnnotationPrefix = 'skiff.dev/capacity-';

/** capacityResources are the resources a simulated Node reports. */
export const capacityResources = ['cpu', 'memory', 'pods', 'ephemeral-storage'] as const;

/** NodeLeaseNamespace holds one Lease per Node, as kubelets renew them. */
export const NodeLeaseNamespace = 'kube-node-lease';

/** NodeLeaseDurationSeconds is the kubelet's default (nodeLeaseDurationSeconds). */
export const NodeLeaseDurationSeconds = 40;

export const KubeletVersion = 'v1.32.0-skiff-sim';
export const ContainerRuntimeVersion = 'skiff-sim://1';
export const InstanceType = 'skiff-sim';

/** isSimulated tells whether the Node carries skiff.dev/simulated: "true". */
export function isSimulated(node: Node | undefined): boolean {
  return node?.metadata?.annotations?.[SimulatedAnnotation] === 'true';
}

/** zoneName is the name of zone i: zone-a … zone-z, then zone-aa, zone-ab, … */
export function zoneName(i: number): string {
  let s = '';
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `zone-${s}`;
}

/** nodeOrdinal is N for a Node named prefix+N (no leading zeros), else undefined. */
export function nodeOrdinal(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (!/^(0|[1-9]\d{0,8})$/.test(rest)) return undefined;
  return Number(rest);
}

/**
 * capacityFor is what a Node reports, per resource: its skiff.dev/capacity-<resource>
 * annotation when that is a valid quantity; else, for a Node a user made, the capacity its
 * status already has (from `kubectl create` of a Node with status, or an earlier run); else the
 * flags. Nodes the simulator made itself follow the flags, so `skiff sim --node-cpu` applies
 * to them on restart.
 */
export function capacityFor(node: Node, config: Pick<SimConfig, 'capacity'>, ownNode: boolean): ResourceList {
  const out: ResourceList = {};
  const annotations = node.metadata?.annotations ?? {};
  const current = node.status?.capacity ?? {};
  for (const r of capacityResources) {
    const a = annotations[CapacityAnnotationPrefix + r];
    const q = a !== undefined ? parseQuantity(a) : undefined;
    if (a !== undefined && q && q.nanos >= 0n) out[r] = a;
    else if (!ownNode && current[r] !== undefined && parseQuantity(current[r])) out[r] = current[r]!;
    else out[r] = config.capacity[r];
  }
  return out;
}

function stableId(kind: string, name: string): string {
  return createHash('sha256').update(`${kind}/${name}`).digest('hex').slice(0, 32);
}

/** nodeInfoFor is the nodeInfo of a simulated Node; its ids derive from the name, so they stay the same across restarts. */
export function nodeInfoFor(name: string): NonNullable<NodeStatus['nodeInfo']> {
  const uuid = (s: string) => `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
  return {
    machineID: stableId('machine', name),
    systemUUID: uuid(stableId('system', name)),
    bootID: uuid(stableId('boot', name)),
    kernelVersion: '6.1.0-skiff-sim',
    osImage: 'skiff simulated node',
    containerRuntimeVersion: ContainerRuntimeVersion,
    kubeletVersion: KubeletVersion,
    operatingSystem: 'linux',
    architecture: 'amd64',
  };
}

/** ownConditions are the conditions a healthy kubelet reports, in its order. */
const ownConditions: ReadonlyArray<Pick<Condition, 'type' | 'status' | 'reason' | 'message'>> = [
  { type: NodeConditionType.MemoryPressure, status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: NodeConditionType.DiskPressure, status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: NodeConditionType.PIDPressure, status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: NodeConditionType.Ready, status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** NodeStatusInput is what desiredNodeStatus needs besides the Node. */
export interface NodeStatusInput {
  internalIP: string;
  capacity: ResourceList;
  now: Date;
  /** heartbeat refreshes every condition's lastHeartbeatTime; otherwise the current ones are kept. */
  heartbeat: boolean;
}

/**
 * desiredNodeStatus is the part of a Node's status the simulator owns: capacity (allocatable
 * equals it: nothing is reserved), the four kubelet conditions, addresses and nodeInfo. A
 * condition keeps its lastTransitionTime while its status holds; lastHeartbeatTime moves only
 * on heartbeats (or when the condition is new or changes).
 */
export function desiredNodeStatus(node: Node, input: NodeStatusInput): NodeStatus {
  const now = nowRFC3339(input.now);
  const current = node.status?.conditions ?? [];
  const conditions = ownConditions.map((want): Condition => {
    const cur = current.find((c) => c.type === want.type);
    const same = cur?.status === want.status;
    const changed = !same || cur?.reason !== want.reason || cur?.message !== want.message;
    return {
      type: want.type,
      status: want.status,
      lastHeartbeatTime: input.heartbeat || changed || !cur?.lastHeartbeatTime ? now : cur.lastHeartbeatTime,
      lastTransitionTime: same && cur?.lastTransitionTime ? cur.lastTransitionTime : now,
      reason: want.reason,
      message: want.message,
    };
  });
  const name = node.metadata.name ?? '';
  return {
    capacity: { ...input.capacity },
    allocatable: { ...input.capacity },
    conditions,
    addresses: [
      { type: NodeAddressType.InternalIP, address: input.internalIP },
      { type: NodeAddressType.Hostname, address: name },
    ],
    nodeInfo: nodeInfoFor(name),
  };
}

function sameQuantities(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
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
 * nodeStatusDiff says what in current differs from desired among the things the simulator
 * owns, heartbeat times aside (undefined: nothing): then a status write is due now rather than
 * at the next heartbeat. Other conditions (someone else's) and fields are not compared.
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

/** NewNodeInput is what a created Node is made of. */
export interface NewNodeInput {
  name: string;
  /** ordinal is N of prefix+N: it picks the zone. */
  ordinal: number;
  internalIP: string;
  config: Pick<SimConfig, 'capacity' | 'labels' | 'taints' | 'zones'>;
  now: Date;
}

/**
 * newSimNode is the Node the simulator registers: the labels a kubelet sets (hostname, os,
 * arch, instance type, zone) plus --node-labels, --node-taints, the simulated annotation, and
 * the full status, as a kubelet registers with its status already filled in.
 */
export function newSimNode(input: NewNodeInput): Node {
  const { name, config } = input;
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': InstanceType,
  };
  if (config.zones > 0) labels['topology.kubernetes.io/zone'] = zoneName(input.ordinal % config.zones);
  Object.assign(labels, config.labels);
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, annotations: { [SimulatedAnnotation]: 'true' } },
    spec: config.taints.length ? { taints: config.taints.map((t) => ({ ...t })) } : {},
  };
  node.status = desiredNodeStatus(node, { internalIP: input.internalIP, capacity: { ...config.capacity }, now: input.now, heartbeat: true });
  return node;
}

/** nodeLease is the Lease a kubelet keeps for its Node in kube-node-lease, owned by the Node so it goes with it. */
export function nodeLease(nodeName: string, nodeUID: string | undefined, now: Date): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NodeLeaseNamespace,
      ...(nodeUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUID }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: NodeLeaseDurationSeconds, renewTime: nowMicro(now) },
  };
}

/** leaseRenewal is the merge patch that renews a Node's Lease. */
export function leaseRenewal(nodeName: string, now: Date): { spec: Lease['spec'] } {
  return { spec: { holderIdentity: nodeName, leaseDurationSeconds: NodeLeaseDurationSeconds, renewTime: nowMicro(now) } };
}
