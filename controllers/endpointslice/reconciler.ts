// The EndpointSlice reconciler (kube's k8s.io/endpointslice reconciler.go and utils.go): for one
// Service, the pods it selects become discovery.k8s.io/v1 endpoints, grouped by the ports they
// resolve to (pods whose named targetPort maps to different numbers get different slices), at
// most maxEndpointsPerSlice per slice. Existing slices are changed as little as possible: an
// endpoint that is still wanted stays in its slice (updated in place if its conditions changed),
// slices that lost endpoints are filled up first, and a slice that would be deleted is reused by
// name instead of creating a new one. A Service with no endpoints keeps one empty placeholder
// slice, as in Kubernetes.

import type { Node } from '../../lib/api/core/node.js';
import { type Pod, isPodReady } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import {
  AddressType,
  type Endpoint,
  type EndpointPort,
  type EndpointSlice,
  LabelManagedBy,
  LabelServiceName,
} from '../../lib/api/discovery/endpointslice.js';
import { semanticEqual } from '../../lib/api/apps/equality.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { LabelHeadlessService, findPort, isIPv6, isServiceIPSet, podIPs, shouldPodBeInEndpoints, shouldSetHostname } from '../common/endpoints.js';

/** ControllerName is the managed-by label value of the slices this controller owns. */
export const ControllerName = 'endpointslice-controller.k8s.io';
/** maxEndpointsPerSlice is kube-controller-manager's --max-endpoints-per-slice default. */
export const maxEndpointsPerSlice = 100;
/** LabelTopologyZone is the node label an endpoint's zone comes from. */
export const LabelTopologyZone = 'topology.kubernetes.io/zone';

/** addressTypesForService is getAddressTypesForService: from spec.ipFamilies, else the ClusterIP's family, else both. */
export function addressTypesForService(svc: Service): AddressType[] {
  const out: AddressType[] = [];
  for (const f of svc.spec?.ipFamilies ?? []) {
    if (f === 'IPv4') out.push(AddressType.IPv4);
    if (f === 'IPv6') out.push(AddressType.IPv6);
  }
  if (out.length) return out;
  if (isServiceIPSet(svc)) return [isIPv6(svc.spec.clusterIP!) ? AddressType.IPv6 : AddressType.IPv4];
  return [AddressType.IPv4, AddressType.IPv6];
}

/** endpointAddresses is getEndpointAddresses: the pod's IPs of the slice's family. */
function endpointAddresses(pod: Pod, addressType: string): string[] {
  return podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === AddressType.IPv6));
}

/**
 * podToEndpoint is podToEndpoint: serving is the pod's Ready condition, terminating its
 * deletionTimestamp, and ready = serving && !terminating — unless the Service publishes
 * not-ready addresses, which makes every endpoint ready.
 */
export function podToEndpoint(pod: Pod, node: Node | undefined, svc: Service, addressType: string): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ready = !!svc.spec?.publishNotReadyAddresses || (serving && !terminating);
  const ep: Endpoint = {
    addresses: endpointAddresses(pod, addressType),
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LabelTopologyZone];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec.hostname;
  return ep;
}

/** endpointPorts is getEndpointPorts: each service port the pod resolves, in the Service's order. */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const ports = svc.spec?.ports ?? [];
  const out: EndpointPort[] = [];
  if (ports.length === 0 && svc.spec?.clusterIP === 'None') return out;
  for (const sp of ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

function portKey(p: EndpointPort): string {
  return JSON.stringify([p.name ?? '', p.port ?? null, p.protocol ?? 'TCP', p.appProtocol ?? null]);
}

/** portMapKey is NewPortMapKey: the same ports in any order give the same key. */
export function portMapKey(ports: readonly EndpointPort[] | undefined | null): string {
  return JSON.stringify((ports ?? []).map(portKey).sort());
}

/** endpointKey is hashEndpoint: an endpoint's identity (addresses, hostname, target pod), not its state. */
export function endpointKey(ep: Endpoint): string {
  return JSON.stringify([[...(ep.addresses ?? [])].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

/** endpointsEqualBeyondHash is EndpointsEqualBeyondHash: node, zone, conditions and target (its resourceVersion aside) agree. */
export function endpointsEqualBeyondHash(a: Endpoint, b: Endpoint): boolean {
  const state = (e: Endpoint) => {
    const { resourceVersion: _rv, ...ref } = e.targetRef ?? {};
    return [e.nodeName ?? null, e.zone ?? null, e.conditions?.ready ?? null, e.conditions?.serving ?? null, e.conditions?.terminating ?? null, ref];
  };
  return semanticEqual(state(a), state(b));
}

/** ownedBy: the slice's owner is this very Service (same uid), not an earlier one of that name. */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

const reservedLabels = new Set([LabelServiceName, LabelManagedBy, LabelHeadlessService]);

/**
 * sliceLabels is setEndpointSliceLabels: the Service's labels (reserved ones aside), the headless
 * label when the Service has no ClusterIP, and the service-name and managed-by labels; changed
 * tells whether the slice's non-reserved labels differ from the Service's.
 */
export function sliceLabels(slice: EndpointSlice | undefined, svc: Service): { labels: Record<string, string>; changed: boolean } {
  const fromSlice: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata.labels ?? {})) if (!reservedLabels.has(k)) fromSlice[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!reservedLabels.has(k)) labels[k] = v;
  const changed = !semanticEqual(fromSlice, labels);
  if (!isServiceIPSet(svc)) labels[LabelHeadlessService] = '';
  labels[LabelServiceName] = svc.metadata.name!;
  labels[LabelManagedBy] = ControllerName;
  return { labels, changed };
}

/** serviceOwnerReference is the controller reference a slice carries to its Service. */
export function serviceOwnerReference(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** slicePrefix is getEndpointSlicePrefix: `<service>-`, unless that is no longer a valid name prefix. */
function slicePrefix(name: string): string {
  return name.length + 1 <= 253 - 5 ? `${name}-` : name;
}

/** newEndpointSlice is newEndpointSlice: an empty slice for svc with the given ports. */
export function newEndpointSlice(svc: Service, ports: EndpointPort[], addressType: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(svc.metadata.name!),
      namespace: svc.metadata.namespace,
      labels: sliceLabels(undefined, svc).labels,
      ownerReferences: [serviceOwnerReference(svc)],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

/** isPlaceholderFor: slice is exactly the empty placeholder newEndpointSlice would make (placeholderSliceCompare). */
function isPlaceholderFor(slice: EndpointSlice, svc: Service, addressType: string): boolean {
  const want = newEndpointSlice(svc, [], addressType);
  return (
    slice.addressType === addressType &&
    !(slice.endpoints ?? []).length &&
    !(slice.ports ?? []).length &&
    slice.metadata.namespace === want.metadata.namespace &&
    semanticEqual(slice.metadata.labels ?? {}, want.metadata.labels) &&
    semanticEqual(slice.metadata.ownerReferences ?? [], want.metadata.ownerReferences)
  );
}

/** SlicePlan is what a reconcile writes: new slices (generateName), replaced ones (by name), removed ones. */
export interface SlicePlan {
  toCreate: EndpointSlice[];
  toUpdate: EndpointSlice[];
  toDelete: EndpointSlice[];
  /** missingNodes are the nodes of pods left out because their Node is not known yet. */
  missingNodes: string[];
}

/** byEndpoint orders desired endpoints so that a plan is the same on every run. */
function byEndpoint(a: Endpoint, b: Endpoint): number {
  const ka = `${(a.addresses ?? [])[0] ?? ''}/${a.targetRef?.name ?? ''}`;
  const kb = `${(b.addresses ?? [])[0] ?? ''}/${b.targetRef?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * reconcileByPortMapping is kube's reconcileByPortMapping for one group of ports: keep wanted
 * endpoints where they are, drop unwanted ones, fill the slices being changed anyway (fullest
 * first), then put what is left into the unchanged slice it fits best, or into new slices.
 */
function reconcileByPortMapping(
  svc: Service,
  existing: readonly EndpointSlice[],
  desired: Map<string, Endpoint>,
  ports: EndpointPort[],
  addressType: string,
  max: number,
): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[]; toDelete: EndpointSlice[] } {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  const remaining = new Map(desired);

  for (const slice of existing) {
    const name = slice.metadata.name!;
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let updated = false;
    for (const ep of slice.endpoints ?? []) {
      const k = endpointKey(ep);
      const want = remaining.get(k);
      if (!want) continue;
      kept.push(want);
      if (!endpointsEqualBeyondHash(want, ep)) updated = true;
      remaining.delete(k);
    }
    const { labels, changed } = sliceLabels(slice, svc);
    if (updated || kept.length !== (slice.endpoints ?? []).length) {
      if (kept.length === 0) {
        toDelete.add(name);
      } else {
        const copy = structuredClone(slice);
        copy.endpoints = kept;
        copy.metadata.labels = labels;
        byName.set(name, copy);
        toUpdate.add(name);
      }
    } else if (changed) {
      const copy = structuredClone(slice);
      copy.metadata.labels = labels;
      byName.set(name, copy);
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }

  const queue = [...remaining.values()].sort(byEndpoint);
  // 2. Fill the slices that are being updated anyway, fullest first.
  if (queue.length && toUpdate.size) {
    const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const slice of slices) {
      slice.endpoints ??= [];
      while (queue.length && slice.endpoints.length < max) slice.endpoints.push(queue.shift()!);
    }
  }

  // 3. Fit what is left into the unchanged slice closest to full, or new slices.
  const toCreate: EndpointSlice[] = [];
  while (queue.length) {
    let fill: EndpointSlice | undefined;
    if (queue.length < max && unchanged.size) {
      let closest = max;
      for (const n of unchanged) {
        const s = byName.get(n)!;
        const diff = max - (queue.length + (s.endpoints?.length ?? 0));
        if (diff >= 0 && diff < closest) {
          closest = diff;
          fill = s;
        }
      }
    }
    if (fill) {
      fill = structuredClone(fill);
      byName.set(fill.metadata.name!, fill);
    } else {
      fill = newEndpointSlice(svc, ports, addressType);
    }
    fill.endpoints ??= [];
    while (queue.length && fill.endpoints.length < max) fill.endpoints.push(queue.shift()!);
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else {
      toCreate.push(fill);
    }
  }
  return {
    toCreate,
    toUpdate: [...toUpdate].sort().map((n) => byName.get(n)!),
    toDelete: [...toDelete].sort().map((n) => byName.get(n)!),
  };
}

/** PlanInput is what planSlices reads. */
export interface PlanInput {
  svc: Service;
  /** pods are the pods the Service's selector matches. */
  pods: readonly Pod[];
  /** existing are the slices labelled for this Service and managed by this controller, none being deleted. */
  existing: readonly EndpointSlice[];
  nodeOf(name: string): Node | undefined;
  maxEndpointsPerSlice?: number;
}

/**
 * planSlices is Reconcile + reconcileByAddressType + the first half of finalize: the slices to
 * create, update and delete so that existing matches the pods, one address type at a time.
 */
export function planSlices(input: PlanInput): SlicePlan {
  const { svc, pods } = input;
  const max = input.maxEndpointsPerSlice ?? maxEndpointsPerSlice;
  const types = addressTypesForService(svc);
  const plan: SlicePlan = { toCreate: [], toUpdate: [], toDelete: [], missingNodes: [] };
  const byType = new Map<string, EndpointSlice[]>();
  for (const slice of input.existing) {
    if (!types.includes(slice.addressType as AddressType)) {
      plan.toDelete.push(slice);
      continue;
    }
    const list = byType.get(slice.addressType) ?? [];
    list.push(slice);
    byType.set(slice.addressType, list);
  }
  const missing = new Set<string>();
  for (const addressType of types) {
    const existing = byType.get(addressType) ?? [];
    const toCreate: EndpointSlice[] = [];
    const toUpdate: EndpointSlice[] = [];
    const toDelete: EndpointSlice[] = [];
    const existingByPorts = new Map<string, EndpointSlice[]>();
    for (const slice of existing) {
      if (!ownedBy(slice, svc)) {
        toDelete.push(slice);
        continue;
      }
      const k = portMapKey(slice.ports);
      existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), slice]);
    }
    const desired = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = endpointPorts(svc, pod);
      const k = portMapKey(ports);
      let group = desired.get(k);
      if (!group) desired.set(k, (group = { ports, endpoints: new Map() }));
      // Kubernetes looks the Node up for the zone and leaves out pods whose Node it does not
      // know yet (retrying later) unless the Service publishes not-ready addresses. Pods with no
      // node at all (only test stand-ins give those an IP) are published without a zone.
      const nodeName = pod.spec?.nodeName;
      const node = nodeName ? input.nodeOf(nodeName) : undefined;
      if (nodeName && !node && !svc.spec?.publishNotReadyAddresses) {
        missing.add(nodeName);
        continue;
      }
      const ep = podToEndpoint(pod, node, svc, addressType);
      if (ep.addresses?.length) group.endpoints.set(endpointKey(ep), ep);
    }
    for (const k of [...desired.keys()].sort()) {
      const group = desired.get(k)!;
      const r = reconcileByPortMapping(svc, existingByPorts.get(k) ?? [], group.endpoints, group.ports, addressType, max);
      toCreate.push(...r.toCreate);
      toUpdate.push(...r.toUpdate);
      toDelete.push(...r.toDelete);
    }
    for (const [k, slices] of existingByPorts) if (!desired.has(k)) toDelete.push(...slices);

    // A Service with no endpoints keeps exactly one empty placeholder slice.
    if (existing.length === toDelete.length && toCreate.length < 1) {
      const keep = toDelete.findIndex((s) => isPlaceholderFor(s, svc, addressType));
      if (toDelete.length === 1 && keep === 0) toDelete.length = 0;
      else toCreate.push(newEndpointSlice(svc, [], addressType));
    }

    // Reuse slices about to be deleted instead of creating new ones (finalize).
    for (let i = 0; i < toDelete.length && toCreate.length; ) {
      const old = toDelete[i]!;
      if (old.addressType === addressType && ownedBy(old, svc)) {
        const slice = toCreate.pop()!;
        const reused = structuredClone(old);
        reused.metadata.labels = slice.metadata.labels;
        reused.metadata.ownerReferences = slice.metadata.ownerReferences;
        reused.ports = slice.ports;
        reused.endpoints = slice.endpoints;
        toUpdate.push(reused);
        toDelete.splice(i, 1);
      } else {
        i++;
      }
    }
    plan.toCreate.push(...toCreate);
    plan.toUpdate.push(...toUpdate);
    plan.toDelete.push(...toDelete);
  }
  plan.missingNodes = [...missing].sort();
  return plan;
}
