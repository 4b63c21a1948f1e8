// Test-only fixtures for scheduler framework and plugin tests: terse Node and Pod builders.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Affinity, Container, ResourceList, Taint, Toleration, TopologySpreadConstraint } from '../../lib/api/core/types.js';

/** NodeOpts describe a test node. */
export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: number;
  ephemeral?: string;
  extra?: ResourceList;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
}

/** makeNode builds a Node with allocatable cpu/memory/pods (defaults 4 cpu, 8Gi, 110 pods) and a hostname label. Test-only. */
export function makeNode(name: string, o: NodeOpts = {}): Node {
  const allocatable: ResourceList = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110), ...(o.extra ?? {}) };
  if (o.ephemeral) allocatable['ephemeral-storage'] = o.ephemeral;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-node-${name}`, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable, capacity: allocatable },
  };
}

/** PodOpts describe a test pod. */
export interface PodOpts {
  namespace?: string;
  cpu?: string;
  memory?: string;
  requests?: ResourceList;
  labels?: Record<string, string>;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  hostPorts?: number[];
  spread?: TopologySpreadConstraint[];
  priority?: number;
  initContainers?: Container[];
  containers?: Container[];
  overhead?: ResourceList;
  nominatedNodeName?: string;
  deleting?: boolean;
}

let uidCounter = 0;

/** makePod builds a Pod with one container requesting cpu/memory (none when omitted). Test-only. */
export function makePod(name: string, o: PodOpts = {}): Pod {
  const requests: ResourceList = { ...(o.requests ?? {}) };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const containers: Container[] = o.containers ?? [
    {
      name: 'c',
      image: 'busybox',
      resources: Object.keys(requests).length ? { requests } : {},
      ports: (o.hostPorts ?? []).map((p) => ({ containerPort: p, hostPort: p, protocol: 'TCP' })),
    },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-pod-${name}-${++uidCounter}`,
      labels: o.labels,
      ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers,
      initContainers: o.initContainers,
      nodeName: o.nodeName,
      nodeSelector: o.nodeSelector,
      tolerations: o.tolerations,
      affinity: o.affinity,
      topologySpreadConstraints: o.spread,
      priority: o.priority,
      overhead: o.overhead,
    },
    status: { phase: 'Pending', ...(o.nominatedNodeName ? { nominatedNodeName: o.nominatedNodeName } : {}) },
  };
}
