// The EndpointSlice mirroring reconciler (kube's pkg/controller/endpointslicemirroring
// reconciler.go, reconciler_helpers.go and utils.go): the Endpoints a user writes for a Service
// without a selector become discovery.k8s.io/v1 EndpointSlices. Each subset (after repacking)
// becomes one slice per address family, holding at most maxEndpointsPerSubset of its addresses
// (ready ones first); a slice keeps its name while its ports and family stay, and one that would
// be deleted is reused by name instead of creating a new one. Labels and annotations are copied
// from the Endpoints.

import ipaddr from 'ipaddr.js';
import { type EndpointAddress, type EndpointPort as CorePort, type Endpoints, repackSubsets } from '../../lib/api/core/endpoints.js';
import { AddressType, type Endpoint, type EndpointPort, type EndpointSlice, LabelManagedBy, LabelServiceName } from '../../lib/api/discovery/endpointslice.js';
import { semanticEqual } from '../../lib/api/apps/equality.js';
import { nameIsDNSSubdomain } from '../../lib/machinery/validation.js';
import { parseIPSloppy } from '../../lib/net/ip.js';
import { endpointKey, endpointsEqualBeyondHash, portMapKey } from '../endpointslice/reconciler.js';

/** ControllerName is the managed-by label value of the slices this controller owns. */
export const ControllerName = 'endpointslicemirroring-controller.k8s.io';
/** maxEndpointsPerSubset is kube-controller-manager's --mirroring-max-endpoints-per-subset default. */
export const maxEndpointsPerSubset = 1000;
/** LabelSkipMirror on an Endpoints object ("true") keeps it from being mirrored. */
export const LabelSkipMirror = 'endpointslice.kubernetes.io/skip-mirror';
/** LeaderElectionAnnotation marks an Endpoints object used as a leader-election lock, never mirrored. */
export const LeaderElectionAnnotation = 'control-plane.alpha.kubernetes.io/leader';
/** uncopiedAnnotations are the Endpoints annotations that are not copied to the slices. */
const uncopiedAnnotations = ['endpoints.kubernetes.io/last-change-trigger-time', 'kubectl.kubernetes.io/last-applied-configuration'];

/** shouldMirror: the Endpoints carry no skip-mirror label and are not a leader-election lock. */
export function shouldMirror(ep: Endpoints | undefined): boolean {
  return !!ep && ep.metadata.labels?.[LabelSkipMirror] !== 'true' && !(LeaderElectionAnnotation in (ep.metadata.annotations ?? {}));
}

/** endpointSlicePrefix is getEndpointSlicePrefix: `name-` when that is a valid generateName, else the name. */
export function endpointSlicePrefix(name: string): string {
  return nameIsDNSSubdomain(`${name}-`, true).length ? name : `${name}-`;
}

function without(m: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  const out = { ...m };
  for (const k of keys) delete out[k];
  return out;
}

/** newEndpointSlice is newEndpointSlice: owned by the Endpoints, their labels and annotations copied, named or generateName'd. */
export function newEndpointSlice(ep: Endpoints, ports: EndpointPort[], addressType: AddressType, name?: string): EndpointSlice {
  const meta: EndpointSlice['metadata'] = {
    namespace: ep.metadata.namespace,
    labels: { ...ep.metadata.labels, [LabelServiceName]: ep.metadata.name!, [LabelManagedBy]: ControllerName },
    annotations: without(ep.metadata.annotations, uncopiedAnnotations),
    ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: ep.metadata.name!, uid: ep.metadata.uid!, controller: true, blockOwnerDeletion: true }],
  };
  if (name) meta.name = name;
  else meta.generateName = endpointSlicePrefix(ep.metadata.name!);
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta, addressType, endpoints: [], ports };
}

/** addressToEndpoint is addressToEndpoint: the IP written the canonical way, and its family; undefined for an IP that does not parse. */
export function addressToEndpoint(a: EndpointAddress, ready: boolean): { endpoint: Endpoint; addressType: AddressType } | undefined {
  const ip = parseIPSloppy(a.ip ?? '');
  if (!ip) return undefined;
  const text = ip.family === 4 ? ip.bytes.join('.') : (ipaddr.fromByteArray(ip.bytes) as ipaddr.IPv6).toRFC5952String();
  const endpoint: Endpoint = { addresses: [text], conditions: { ready } };
  if (a.targetRef) endpoint.targetRef = a.targetRef;
  if (a.nodeName) endpoint.nodeName = a.nodeName;
  if (a.hostname) endpoint.hostname = a.hostname;
  return { endpoint, addressType: ip.family === 4 ? AddressType.IPv4 : AddressType.IPv6 };
}

/** endpointPorts is epPortsToEpsPorts: the subset's ports in its order. */
function endpointPorts(ports: readonly CorePort[] | undefined): EndpointPort[] {
  return (ports ?? []).map((p) => {
    const out: EndpointPort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
    if (p.appProtocol) out.appProtocol = p.appProtocol;
    return out;
  });
}

/** groupKey is newAddrTypePortMapKey: the address type and the ports in any order. */
function groupKey(addressType: string, ports: readonly EndpointPort[] | undefined | null): string {
  return `${addressType}-${portMapKey(ports)}`;
}

interface Group {
  addressType: AddressType;
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

/** MirrorPlan is what a reconcile writes, and what it left out for the events it records. */
export interface MirrorPlan {
  toCreate: EndpointSlice[];
  toUpdate: EndpointSlice[];
  toDelete: EndpointSlice[];
  /** invalidAddresses are addresses whose IP does not parse. */
  invalidAddresses: number;
  /** skippedAddresses are the addresses left out, the invalid ones and those over maxEndpointsPerSubset. */
  skippedAddresses: number;
}

/**
 * planMirroring is the reconciler's reconcile and reconcileByPortMapping: the desired endpoints by
 * family and ports, compared with the existing slices of the same family and ports. A group whose
 * first slice already holds exactly the desired endpoints, labels and annotations is left alone;
 * otherwise that slice is rewritten whole (or a new one created), and any further slices of the
 * group, and slices of groups no longer wanted, are deleted — or reused for a slice to create.
 */
export function planMirroring(ep: Endpoints, existing: readonly EndpointSlice[], max = maxEndpointsPerSubset): MirrorPlan {
  const groups = new Map<string, Group>();
  let invalidAddresses = 0;
  let skippedAddresses = 0;
  for (const subset of repackSubsets(ep.subsets ?? [])) {
    const ports = endpointPorts(subset.ports);
    const byType = {} as Record<AddressType, Group>;
    for (const t of [AddressType.IPv4, AddressType.IPv6] as const) {
      const key = groupKey(t, ports);
      const g = groups.get(key) ?? { addressType: t, ports, endpoints: new Map() };
      g.ports = ports;
      groups.set(key, g);
      byType[t] = g;
    }
    const total = (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0);
    let added = 0;
    const add = (addresses: readonly EndpointAddress[] | undefined, ready: boolean) => {
      for (const a of addresses ?? []) {
        // One slice per subset: past the limit, the rest of the subset is left out.
        if (added >= max) break;
        const e = addressToEndpoint(a, ready);
        if (!e) {
          invalidAddresses++;
          continue;
        }
        byType[e.addressType as AddressType].endpoints.set(endpointKey(e.endpoint), e.endpoint);
        added++;
      }
    };
    add(subset.addresses, true);
    add(subset.notReadyAddresses, false);
    skippedAddresses += total - added;
  }

  const existingByKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    const key = groupKey(s.addressType, s.ports);
    existingByKey.set(key, [...(existingByKey.get(key) ?? []), s]);
  }

  const plan: MirrorPlan = { toCreate: [], toUpdate: [], toDelete: [], invalidAddresses, skippedAddresses };
  const wantAnnotations = without(ep.metadata.annotations, uncopiedAnnotations);
  for (const [key, g] of groups) {
    const slices = existingByKey.get(key) ?? [];
    if (g.endpoints.size === 0) {
      plan.toDelete.push(...slices);
      continue;
    }
    const [first, ...rest] = slices;
    plan.toDelete.push(...rest);
    if (first && unchanged(first, g.endpoints) && semanticEqual(ep.metadata.labels ?? {}, without(first.metadata.labels, [LabelManagedBy, LabelServiceName])) && semanticEqual(wantAnnotations, first.metadata.annotations ?? {})) {
      continue;
    }
    const slice = newEndpointSlice(ep, g.ports, g.addressType, first?.metadata.name);
    slice.endpoints = [...g.endpoints.values()].slice(0, max);
    (first ? plan.toUpdate : plan.toCreate).push(slice);
  }
  for (const [key, slices] of existingByKey) if (!groups.has(key)) plan.toDelete.push(...slices);
  recycleSlices(plan);
  return plan;
}

/** unchanged is totalChanges coming to nothing: the slice holds exactly the desired endpoints, each in its desired state. */
function unchanged(slice: EndpointSlice, desired: Map<string, Endpoint>): boolean {
  const have = slice.endpoints ?? [];
  if (have.length !== desired.size) return false;
  return have.every((e) => {
    const want = desired.get(endpointKey(e));
    return !!want && endpointsEqualBeyondHash(want, e);
  });
}

/** recycleSlices is recycleSlices: a slice to create takes the name of one of its family that would be deleted, and becomes an update. */
function recycleSlices(plan: MirrorPlan): void {
  for (const create of [...plan.toCreate]) {
    const i = plan.toDelete.findIndex((d) => d.addressType === create.addressType);
    if (i < 0) continue;
    const [reused] = plan.toDelete.splice(i, 1);
    plan.toCreate.splice(plan.toCreate.indexOf(create), 1);
    delete create.metadata.generateName;
    create.metadata.name = reused!.metadata.name;
    plan.toUpdate.push(create);
  }
}
