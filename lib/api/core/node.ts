// core/v1 Node: cluster-scoped; a kubelet registers its node with the status already filled in,
// so create keeps the status (the only kind that does). STATUS/ROLES table cells as kubectl
// prints them, the spec.unschedulable field selector, and the update rules (podCIDRs and
// providerID are set once).

import { type FieldError, Path, duplicate, forbiddenField, invalidValue } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isValidLabelValue, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { Condition, KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { parseQuantity, quantityFormatError } from './quantity.js';
import type { ResourceList, Taint } from './types.js';
import { validateCIDR, validateQualifiedName, validateTaintEffect } from './validation.js';
import { parseIPSloppy } from '../../net/ip.js';

export interface NodeAddress {
  type: string;
  address: string;
}

export interface NodeSystemInfo {
  machineID?: string;
  systemUUID?: string;
  bootID?: string;
  kernelVersion?: string;
  osImage?: string;
  containerRuntimeVersion?: string;
  kubeletVersion?: string;
  kubeProxyVersion?: string;
  operatingSystem?: string;
  architecture?: string;
}

export interface NodeSpec {
  podCIDR?: string;
  podCIDRs?: string[];
  providerID?: string;
  unschedulable?: boolean;
  taints?: Taint[];
  externalID?: string;
  configSource?: unknown;
}

export interface NodeStatus {
  capacity?: ResourceList;
  allocatable?: ResourceList;
  phase?: string;
  conditions?: Condition[];
  addresses?: NodeAddress[];
  daemonEndpoints?: { kubeletEndpoint?: { Port: number } };
  nodeInfo?: NodeSystemInfo;
  images?: { names?: string[]; sizeBytes?: number }[];
  volumesInUse?: string[];
  volumesAttached?: { name: string; devicePath: string }[];
  config?: unknown;
  [field: string]: unknown;
}

/** Node is core/v1 Node. */
export interface Node extends KubeObject {
  spec?: NodeSpec;
  status?: NodeStatus;
}

export const NodeConditionType = {
  Ready: 'Ready',
  MemoryPressure: 'MemoryPressure',
  DiskPressure: 'DiskPressure',
  PIDPressure: 'PIDPressure',
  NetworkUnavailable: 'NetworkUnavailable',
} as const;

export const NodeAddressType = { Hostname: 'Hostname', InternalIP: 'InternalIP', ExternalIP: 'ExternalIP', InternalDNS: 'InternalDNS', ExternalDNS: 'ExternalDNS' } as const;

const labelNodeRolePrefix = 'node-role.kubernetes.io/';
const nodeLabelRole = 'kubernetes.io/role';

/** getNodeCondition returns the node's condition of the given type, if any. */
export function getNodeCondition(node: Node, type: string): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** isNodeReady: the node's Ready condition is True. */
export function isNodeReady(node: Node): boolean {
  return getNodeCondition(node, NodeConditionType.Ready)?.status === 'True';
}

/** nodeAddress returns the first address of the given type, or undefined. */
export function nodeAddress(node: Node, type: string): string | undefined {
  return node.status?.addresses?.find((a) => a.type === type)?.address;
}

/** nodeStatusText is the STATUS cell: Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned. */
export function nodeStatusText(node: Node): string {
  const status: string[] = [];
  const ready = getNodeCondition(node, NodeConditionType.Ready);
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** nodeRoles are the roles named by node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(labelNodeRolePrefix)) {
      const role = k.slice(labelNodeRolePrefix.length);
      if (role) roles.add(role);
    } else if (k === nodeLabelRole && v) {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

/** defaultNode is SetDefaults_NodeStatus: allocatable starts out as capacity. */
export function defaultNode(node: Node): void {
  node.spec ??= {};
  const st = node.status;
  if (st?.capacity && !st.allocatable) st.allocatable = { ...st.capacity };
  // The v1 conversion keeps podCIDR equal to the first of podCIDRs.
  const spec = node.spec;
  if (!spec.podCIDRs?.length && spec.podCIDR) spec.podCIDRs = [spec.podCIDR];
  if (spec.podCIDRs?.length) spec.podCIDR = spec.podCIDRs[0];
}

function prepareForCreate(node: Node): void {
  // Nodes keep everything, status included: the kubelet registers with its status.
  // The deprecated dynamic kubelet config fields are dropped.
  if (node.spec) delete node.spec.configSource;
  if (node.status) delete node.status.config;
}

function prepareForUpdate(node: Node, old: Node): void {
  node.status = structuredClone(old.status ?? {});
  if (node.spec && !old.spec?.configSource) delete node.spec.configSource;
}

function prepareForStatusUpdate(node: Node, old: Node): void {
  node.spec = structuredClone(old.spec ?? {});
  if (node.status && !old.status?.config) delete node.status.config;
}

function validateTaints(taints: Taint[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Map<string, Set<string>>();
  (taints ?? []).forEach((t, i) => {
    const p = path.index(i);
    errs.push(...validateQualifiedName(t.key ?? '', p.child('key')));
    const msgs = isValidLabelValue(t.value ?? '');
    if (msgs.length) errs.push(invalidValue(p.child('value'), t.value ?? '', msgs.join(';')));
    errs.push(...validateTaintEffect(t.effect, false, p.child('effect')));
    const keys = unique.get(t.effect) ?? new Set<string>();
    if (keys.has(t.key)) {
      errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
      return;
    }
    keys.add(t.key);
    unique.set(t.effect, keys);
  });
  return errs;
}

function validateResourceList(list: ResourceList | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, q] of Object.entries(list ?? {})) {
    const p = parseQuantity(q);
    if (!p) errs.push(invalidValue(path.child(name), q, quantityFormatError));
    else if (p.nanos < 0n) errs.push(invalidValue(path.child(name), q, 'must be greater than or equal to 0'));
  }
  return errs;
}

/** validateNode is ValidateNode. */
export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  // Kubernetes reports taint errors under metadata.taints; the odd path is kept so messages match.
  if (node.spec?.taints?.length) errs.push(...validateTaints(node.spec.taints, new Path('metadata').child('taints')));
  errs.push(...validateResourceList(node.status?.capacity, new Path('status').child('capacity')));
  errs.push(...validateResourceList(node.status?.allocatable, new Path('status').child('allocatable')));
  const cidrs = node.spec?.podCIDRs ?? [];
  const cidrPath = new Path('spec').child('podCIDRs');
  cidrs.forEach((c, i) => errs.push(...validateCIDR(c, cidrPath.index(i))));
  if (cidrs.length > 1) {
    const fams = cidrs.map((c) => parseIPSloppy(c.split('/')[0])?.family);
    if (cidrs.length > 2 || fams[0] === fams[1]) errs.push(invalidValue(cidrPath, cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicate(cidrPath.index(i), c));
      seen.add(c);
    });
  }
  return errs;
}

/** validateNodeUpdate is ValidateNodeUpdate: podCIDRs and providerID may only go from unset to set. */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateResourceList(node.status?.capacity, new Path('status').child('capacity')));
  errs.push(...validateResourceList(node.status?.allocatable, new Path('status').child('allocatable')));
  const seen = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const key = `${a.type}/${a.address}`;
    if (seen.has(key)) errs.push(duplicate(new Path('status').child('addresses').index(i), a));
    seen.add(key);
  });
  const oldCIDRs = old.spec?.podCIDRs ?? [];
  const newCIDRs = node.spec?.podCIDRs ?? [];
  if (oldCIDRs.length) {
    const msg = 'node updates may not change podCIDR except from "" to valid';
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbiddenField(new Path('spec').child('podCIDRs'), msg));
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(forbiddenField(new Path('spec').child('podCIDRs'), msg)));
  }
  if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID) {
    errs.push(forbiddenField(new Path('spec').child('providerID'), 'node updates may not change providerID except from "" to valid'));
  }
  if (node.spec?.taints?.length) errs.push(...validateTaints(node.spec.taints, new Path('metadata').child('taints')));
  if ((node.spec?.externalID ?? '') !== (old.spec?.externalID ?? '')) errs.push(forbiddenField(new Path('spec').child('externalID'), 'may not be updated'));
  return errs;
}

const unknownIfEmpty = (s: string | undefined) => s || '<unknown>';

const nodeColumns: PrinterColumn<Node>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (n) => n.metadata.name },
  { name: 'Status', type: 'string', description: 'The status of the node', cell: (n) => nodeStatusText(n) },
  { name: 'Roles', type: 'string', description: 'The roles of the node', cell: (n) => nodeRoles(n).join(',') || '<none>' },
  { name: 'Age', type: 'string', cell: (n, now) => age(n.metadata.creationTimestamp, now) },
  { name: 'Version', type: 'string', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
  { name: 'Internal-IP', type: 'string', priority: 1, cell: (n) => nodeAddress(n, NodeAddressType.InternalIP) ?? '<none>' },
  { name: 'External-IP', type: 'string', priority: 1, cell: (n) => nodeAddress(n, NodeAddressType.ExternalIP) ?? '<none>' },
  { name: 'OS-Image', type: 'string', priority: 1, cell: (n) => unknownIfEmpty(n.status?.nodeInfo?.osImage) },
  { name: 'Kernel-Version', type: 'string', priority: 1, cell: (n) => unknownIfEmpty(n.status?.nodeInfo?.kernelVersion) },
  { name: 'Container-Runtime', type: 'string', priority: 1, cell: (n) => unknownIfEmpty(n.status?.nodeInfo?.containerRuntimeVersion) },
];

export const nodes = defineResource<Node>({
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  namespaced: false,
  subresources: { status: true },
  printerColumns: nodeColumns,
  fieldSelectors: {
    'spec.unschedulable': (n) => String(n.spec?.unschedulable === true),
  },
  defaults: defaultNode,
  prepareForCreate,
  prepareForUpdate,
  prepareForStatusUpdate,
  validate: validateNode,
  validateUpdate: validateNodeUpdate,
  validateStatusUpdate: validateNodeUpdate,
});
