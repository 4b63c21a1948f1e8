// The node simulator's flags, and their parsing into a checked SimConfig. Every flag is
// validated up front with a message naming it, so a typo stops the process at start instead of
// producing nodes Kubernetes would reject.

import { parseQuantity } from '../lib/api/core/quantity.js';
import type { Taint } from '../lib/api/core/types.js';
import type { FlagSpec } from '../lib/flags.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { type LabelSelectorExpr, parseLabelSelector } from '../lib/machinery/labels.js';
import { NodeFlagError, parseLabelsFlag, parseTaintsFlag } from '../lib/node/flags.js';
import { type IPv4Cidr, parseIPv4Cidr } from '../lib/net/ip.js';

/** SimConfig is everything the simulator was told, checked. */
export interface SimConfig {
  /** nodes is how many Nodes (prefix + 0 … nodes-1) the simulator makes itself. */
  nodes: number;
  namePrefix: string;
  /** capacity is what a Node reports unless its annotations say otherwise. */
  capacity: { cpu: string; memory: string; pods: string; 'ephemeral-storage': string };
  /** labels and taints go on the Nodes the simulator creates (never onto existing ones). */
  labels: Record<string, string>;
  taints: Taint[];
  /** zones spreads created Nodes round-robin over topology.kubernetes.io/zone=zone-a, zone-b, … (0: no zone label). */
  zones: number;
  leaseRenewIntervalMs: number;
  nodeStatusUpdateFrequencyMs: number;
  maxWritesPerSecond: number;
  maxConcurrentWrites: number;
  podStartDelayMs: number;
  maxTerminationGraceMs: number;
  /** failSelector and crashLoopSelector pick pods to fail, beside the skiff.dev/sim label. */
  failSelector?: LabelSelectorExpr;
  crashLoopSelector?: LabelSelectorExpr;
  /** podCIDRWaitMs is how long a pod waits for its Node's spec.podCIDR before the fallback block is used. */
  podCIDRWaitMs: number;
  fallbackPodCIDR: IPv4Cidr;
  nodeIPCIDR: IPv4Cidr;
}

/** simFlags are the simulator's own flags (runComponent adds the common ones). */
export const simFlags: FlagSpec[] = [
  { name: 'nodes', description: 'Simulated Nodes to create, named <prefix>0 … <prefix>N-1. Lowering it later does not delete Nodes: those left keep being simulated; delete them with kubectl.', default: '0' },
  { name: 'node-name-prefix', description: 'Name prefix of created Nodes.', default: 'sim-' },
  { name: 'node-cpu', description: 'CPU capacity of each Node (annotation skiff.dev/capacity-cpu overrides it per Node).', default: '8' },
  { name: 'node-memory', description: 'Memory capacity of each Node (annotation skiff.dev/capacity-memory).', default: '32Gi' },
  { name: 'node-pods', description: 'Pod capacity of each Node (annotation skiff.dev/capacity-pods).', default: '110' },
  { name: 'node-ephemeral-storage', description: 'Ephemeral storage capacity of each Node (annotation skiff.dev/capacity-ephemeral-storage).', default: '100Gi' },
  { name: 'node-labels', description: 'Extra labels for created Nodes, k=v,… (set at creation only; existing Nodes keep their labels).', default: '' },
  { name: 'node-taints', description: 'Taints for created Nodes, key=value:Effect or key:Effect,… (set at creation only).', default: '' },
  { name: 'zones', description: 'Spread created Nodes over this many zones (topology.kubernetes.io/zone=zone-a, zone-b, …); 0 for none.', default: '3' },
  { name: 'lease-renew-interval', description: 'How often each Node renews its Lease in kube-node-lease (stretched, with a warning, when --max-writes-per-second cannot keep up; never past 30s).', default: '10s' },
  { name: 'node-status-update-frequency', description: 'How often each Node refreshes the lastHeartbeatTime of its conditions.', default: '60s' },
  { name: 'max-writes-per-second', description: 'Budget of API writes per second for all Nodes and pods together (Lease renewals first, then Node and pod status, then heartbeats).', default: '300' },
  { name: 'max-concurrent-writes', description: 'API writes in flight at once (few: an overloaded apiserver answers faster with a short queue than with a long one).', default: '16' },
  { name: 'pod-start-delay', description: 'Time between a pod being bound to a simulated Node and it being reported Running.', default: '1s' },
  { name: 'max-termination-grace', description: 'Upper bound on the grace period a deleted pod is given before it is removed (0: remove at once).', default: '30s' },
  { name: 'fail-selector', description: 'Label selector of pods whose containers exit 1 (as the label skiff.dev/sim=fail).', default: '' },
  { name: 'crashloop-selector', description: 'Label selector of pods whose containers crash over and over (as skiff.dev/sim=crashloop).', default: '' },
  { name: 'pod-cidr-wait', description: 'How long pods wait for their Node\'s spec.podCIDR (from the controller manager) before taking an address from the Node\'s block of --fallback-pod-cidr.', default: '10s' },
  { name: 'fallback-pod-cidr', description: 'Pod addresses for Nodes without spec.podCIDR: Node index i uses the i-th /24 of this block.', default: '100.64.0.0/10' },
  { name: 'node-ip-cidr', description: 'Node InternalIPs: Node index i gets the i-th address of this block.', default: '172.30.0.0/16' },
];

/** ConfigError is a bad flag value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** parseNodeLabels reads `k=v,…` (kubelet's --node-labels syntax), checking keys and values as the API will. */
export function parseNodeLabels(s: string): Record<string, string> {
  return asConfigError(() => parseLabelsFlag(s, 'node-labels'));
}

/** parseNodeTaints reads `key=value:Effect` or `key:Effect` items (kubelet's --register-with-taints syntax). */
export function parseNodeTaints(s: string): Taint[] {
  return asConfigError(() => parseTaintsFlag(s, 'node-taints'));
}

function asConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NodeFlagError) throw new ConfigError(err.message);
    throw err;
  }
}

function int(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${flag}: want an integer in [${min}, ${max}]`);
  return n;
}

function duration(flag: string, v: string): number {
  try {
    return parseDuration(v);
  } catch {
    throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${flag}: want a duration such as 10s or 1m30s`);
  }
}

function quantity(flag: string, v: string): string {
  const q = parseQuantity(v);
  if (!q || q.nanos < 0n) throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${flag}: want a quantity such as 8, 500m or 32Gi`);
  return v;
}

function selector(flag: string, v: string): LabelSelectorExpr | undefined {
  if (!v.trim()) return undefined;
  try {
    return parseLabelSelector(v);
  } catch (err) {
    throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${flag}: ${(err as Error).message}`);
  }
}

function cidr(flag: string, v: string, maxPrefix: number): IPv4Cidr {
  let c: IPv4Cidr;
  try {
    c = parseIPv4Cidr(v);
  } catch (err) {
    throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${flag}: ${(err as Error).message}`);
  }
  if (c.prefix > maxPrefix) throw new ConfigError(`invalid value ${JSON.stringify(v)} for --${flag}: want a block of /${maxPrefix} or larger`);
  return c;
}

/** parseSimConfig turns flag values into a SimConfig; it throws ConfigError naming the bad flag. */
export function parseSimConfig(f: Record<string, string>): SimConfig {
  const get = (name: string) => f[name] ?? simFlags.find((s) => s.name === name)?.default ?? '';
  const prefix = get('node-name-prefix');
  if (!/^[a-z0-9][-a-z0-9.]*$/.test(prefix) || prefix.length > 200) {
    throw new ConfigError(`invalid value ${JSON.stringify(prefix)} for --node-name-prefix: want lower-case letters, digits, '-' and '.', starting with a letter or digit`);
  }
  const config: SimConfig = {
    nodes: int('nodes', get('nodes'), 0, 100_000),
    namePrefix: prefix,
    capacity: {
      cpu: quantity('node-cpu', get('node-cpu')),
      memory: quantity('node-memory', get('node-memory')),
      pods: quantity('node-pods', get('node-pods')),
      'ephemeral-storage': quantity('node-ephemeral-storage', get('node-ephemeral-storage')),
    },
    labels: parseNodeLabels(get('node-labels')),
    taints: parseNodeTaints(get('node-taints')),
    zones: int('zones', get('zones'), 0, 676),
    leaseRenewIntervalMs: duration('lease-renew-interval', get('lease-renew-interval')),
    nodeStatusUpdateFrequencyMs: duration('node-status-update-frequency', get('node-status-update-frequency')),
    maxWritesPerSecond: int('max-writes-per-second', get('max-writes-per-second'), 1, 100_000),
    maxConcurrentWrites: int('max-concurrent-writes', get('max-concurrent-writes'), 1, 1024),
    podStartDelayMs: duration('pod-start-delay', get('pod-start-delay')),
    maxTerminationGraceMs: duration('max-termination-grace', get('max-termination-grace')),
    failSelector: selector('fail-selector', get('fail-selector')),
    crashLoopSelector: selector('crashloop-selector', get('crashloop-selector')),
    podCIDRWaitMs: duration('pod-cidr-wait', get('pod-cidr-wait')),
    fallbackPodCIDR: cidr('fallback-pod-cidr', get('fallback-pod-cidr'), 24),
    nodeIPCIDR: cidr('node-ip-cidr', get('node-ip-cidr'), 30),
  };
  if (config.leaseRenewIntervalMs < 1000 || config.leaseRenewIntervalMs > 30_000) {
    throw new ConfigError(`invalid value ${JSON.stringify(get('lease-renew-interval'))} for --lease-renew-interval: want between 1s and 30s (Leases last 40s)`);
  }
  if (config.nodeStatusUpdateFrequencyMs < 1000) {
    throw new ConfigError(`invalid value ${JSON.stringify(get('node-status-update-frequency'))} for --node-status-update-frequency: want at least 1s`);
  }
  return config;
}
