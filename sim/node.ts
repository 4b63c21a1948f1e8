// The Node objects a simulated kubelet registers and keeps up to date, as pure functions: the
// Node it creates and the status it reports. The kubelet's own rules (conditions, allocatable,
// addresses, what counts as a change, the Lease) are lib/node's; what is here is the
// simulator's: its labels, annotations, capacity sources and made-up nodeInfo.

import { createHash } from 'node:crypto';
import type { Node, NodeStatus } from '../lib/api/core/node.js';
import { parseQuantity } from '../lib/api/core/quantity.js';
import type { ResourceList } from '../lib/api/core/types.js';
import { kubeletNodeStatus } from '../lib/node/status.js';
import type { SimConfig } from './config.js';

/** SimulatedAnnotation marks a Node the simulator plays the kubelet for. */
export const SimulatedAnnotation = 'skiff.dev/simulated';

/** CapacityAnnotationPrefix + resource (cpu, memory, pods, ephemeral-storage) overrides a Node's capacity. */
export const CapacityAnnotationPrefix = 'skiff.dev/capacity-';

/** capacityResources are the resources a simulated Node reports. */
export const capacityResources = ['cpu', 'memory', 'pods', 'ephemeral-storage'] as const;

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

/** NodeStatusInput is what desiredNodeStatus needs besides the Node. */
export interface NodeStatusInput {
  internalIP: string;
  capacity: ResourceList;
  now: Date;
  /** heartbeat refreshes every condition's lastHeartbeatTime; otherwise the current ones are kept. */
  heartbeat: boolean;
}

/**
 * desiredNodeStatus is the part of a Node's status the simulator owns: lib/node's kubelet status
 * with nothing reserved (allocatable equals capacity), a healthy kubelet's conditions and the
 * simulated nodeInfo.
 */
export function desiredNodeStatus(node: Node, input: NodeStatusInput): NodeStatus {
  const name = node.metadata.name ?? '';
  return kubeletNodeStatus(node.status, { internalIP: input.internalIP, hostname: name, capacity: input.capacity, nodeInfo: nodeInfoFor(name), now: input.now, heartbeat: input.heartbeat });
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
