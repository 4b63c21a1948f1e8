// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics: the resource metrics API metrics-server
// serves and `kubectl top` and the HPA controller read. Nothing is stored: the apiserver builds
// them from the kubelets' `/metrics/resource` (apiserver/metrics). The tables are metrics-server's.

import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { age } from '../../machinery/duration.js';

export type ResourceUsage = { cpu: string; memory: string };

/** NodeMetrics is metrics.k8s.io/v1beta1 NodeMetrics. */
export interface NodeMetrics extends KubeObject {
  timestamp: string;
  /** window is a metav1.Duration ("15.012s"): the span the CPU rate was measured over. */
  window: string;
  usage: ResourceUsage;
}

export interface ContainerMetrics {
  name: string;
  usage: ResourceUsage;
}

/** PodMetrics is metrics.k8s.io/v1beta1 PodMetrics. */
export interface PodMetrics extends KubeObject {
  timestamp: string;
  window: string;
  containers: ContainerMetrics[];
}

const verbs = ['get', 'list'] as const;

const nodeColumns: PrinterColumn<NodeMetrics>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (m) => m.metadata.name },
  { name: 'CPU', type: 'string', cell: (m) => m.usage.cpu },
  { name: 'Memory', type: 'string', cell: (m) => m.usage.memory },
  { name: 'Window', type: 'string', cell: (m) => m.window },
  { name: 'Age', type: 'string', priority: 1, cell: (m, now) => age(m.metadata.creationTimestamp, now) },
];

const podColumns: PrinterColumn<PodMetrics>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (m) => m.metadata.name },
  { name: 'Containers', type: 'integer', cell: (m) => m.containers.length },
  { name: 'Window', type: 'string', cell: (m) => m.window },
  { name: 'Age', type: 'string', priority: 1, cell: (m, now) => age(m.metadata.creationTimestamp, now) },
];

export const nodeMetrics = defineResource<NodeMetrics>({
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'NodeMetrics',
  plural: 'nodes',
  singular: '',
  namespaced: false,
  verbs,
  printerColumns: nodeColumns,
});

export const podMetrics = defineResource<PodMetrics>({
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'PodMetrics',
  plural: 'pods',
  singular: '',
  namespaced: true,
  verbs,
  printerColumns: podColumns,
});
