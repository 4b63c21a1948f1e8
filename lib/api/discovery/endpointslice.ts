// discovery.k8s.io/v1 EndpointSlice: defaults (discovery/v1 SetDefaults_EndpointPort), strategy
// hooks (pkg/registry/discovery/endpointslice/strategy.go), validation
// (pkg/apis/discovery/validation) and the table kube-apiserver prints for it.

import { type FieldError, Path, duplicate, invalidValue, notSupported, required, tooMany } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  nameIsDNSSubdomain,
  validateLabels,
  validateObjectMeta,
} from '../../machinery/validation.js';
import { semanticEqual } from '../apps/equality.js';
import type { KubeObject } from '../meta.js';
import { defineResource, type PrinterColumn } from '../resource.js';
import { isValidIPv4Address, isValidIPv6Address, validateNonSpecialIP } from '../core/validation.js';

export const AddressType = { IPv4: 'IPv4', IPv6: 'IPv6', FQDN: 'FQDN' } as const;
export type AddressType = (typeof AddressType)[keyof typeof AddressType];

/** LabelServiceName is the label that ties a slice to its Service. */
export const LabelServiceName = 'kubernetes.io/service-name';
/** LabelManagedBy names the controller that owns a slice. */
export const LabelManagedBy = 'endpointslice.kubernetes.io/managed-by';

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface EndpointHints {
  forZones?: { name: string }[];
}

export interface Endpoint {
  addresses: string[] | null;
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: ObjectReference;
  deprecatedTopology?: Record<string, string>;
  nodeName?: string;
  zone?: string;
  hints?: EndpointHints;
}

export interface EndpointPort {
  name?: string;
  protocol?: string;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  addressType: AddressType | string;
  /** endpoints is not omitempty in discovery/v1: an absent list is sent as null. */
  endpoints: Endpoint[] | null;
  ports?: EndpointPort[];
}

const supportedAddressTypes = [AddressType.FQDN, AddressType.IPv4, AddressType.IPv6];
const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];
const maxTopologyLabels = 16;
const maxAddresses = 100;
const maxPorts = 20000;
const maxEndpoints = 1000;
const maxZoneHints = 8;

/** defaultEndpointSlice is SetDefaults_EndpointPort (name "", protocol TCP) on every port. */
export function defaultEndpointSlice(eps: EndpointSlice): void {
  // Go decodes an absent list into a nil slice and encodes it back as null.
  if (eps.endpoints === undefined) eps.endpoints = null;
  for (const ep of eps.endpoints ?? []) if (ep.addresses === undefined) ep.addresses = null;
  for (const p of eps.ports ?? []) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
}

/** validateEndpointSlice is ValidateEndpointSlice. */
export function validateEndpointSlice(eps: EndpointSlice): FieldError[] {
  return [
    ...validateObjectMeta(eps.metadata, true, nameIsDNSSubdomain),
    ...validateAddressType(eps.addressType),
    ...validateEndpoints(eps.endpoints ?? [], eps.addressType, new Path('endpoints')),
    ...validatePorts(eps.ports ?? [], new Path('ports')),
  ];
}

function validateAddressType(addressType: string | undefined): FieldError[] {
  const path = new Path('addressType');
  if (!addressType) return [required(path, '')];
  if (!(supportedAddressTypes as string[]).includes(addressType)) return [notSupported(path, addressType, supportedAddressTypes)];
  return [];
}

function validateDNS1123Label(value: string, path: Path): FieldError[] {
  return isDNS1123Label(value).map((m) => invalidValue(path, value, m));
}

/** isFullyQualifiedDomainName is validation.IsFullyQualifiedDomainName (a trailing dot is allowed). */
function isFullyQualifiedDomainName(path: Path, value: string): FieldError[] {
  if (value.length === 0) return [required(path, '')];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const subdomainErrs = isDNS1123Subdomain(name);
  if (subdomainErrs.length) return [invalidValue(path, name, subdomainErrs.join(','))];
  const labels = name.split('.');
  if (labels.length < 2) return [invalidValue(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const labelErrs = isDNS1123Label(label);
    if (labelErrs.length) return [invalidValue(path, label, labelErrs.join(','))];
  }
  return [];
}

function validateEndpoints(endpoints: Endpoint[], addressType: string, path: Path): FieldError[] {
  if (endpoints.length > maxEndpoints) return [tooMany(path, endpoints.length, maxEndpoints)];
  const errs: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const idxPath = path.index(i);
    const addressPath = idxPath.child('addresses');
    const addresses = ep.addresses ?? [];
    if (addresses.length === 0) errs.push(required(addressPath, 'must contain at least 1 address'));
    else if (addresses.length > maxAddresses) errs.push(tooMany(addressPath, addresses.length, maxAddresses));
    addresses.forEach((address, j) => {
      // Unknown address types were already reported; their addresses are not checked.
      const p = addressPath.index(j);
      switch (addressType) {
        case AddressType.IPv4:
          errs.push(...isValidIPv4Address(p, address), ...validateNonSpecialIP(address, p));
          break;
        case AddressType.IPv6:
          errs.push(...isValidIPv6Address(p, address), ...validateNonSpecialIP(address, p));
          break;
        case AddressType.FQDN:
          errs.push(...isFullyQualifiedDomainName(p, address));
          break;
      }
    });
    if (ep.nodeName !== undefined && ep.nodeName !== null) {
      for (const m of nameIsDNSSubdomain(ep.nodeName, false)) errs.push(invalidValue(idxPath.child('nodeName'), ep.nodeName, m));
    }
    const topologyPath = idxPath.child('deprecatedTopology');
    const topology = ep.deprecatedTopology ?? {};
    if (Object.keys(topology).length > maxTopologyLabels) errs.push(tooMany(topologyPath, Object.keys(topology).length, maxTopologyLabels));
    errs.push(...validateLabels(topology, topologyPath));
    if (ep.hostname !== undefined && ep.hostname !== null) errs.push(...validateDNS1123Label(ep.hostname, idxPath.child('hostname')));
    if (ep.hints) errs.push(...validateHints(ep.hints, idxPath.child('hints')));
  });
  return errs;
}

function validateHints(hints: EndpointHints, path: Path): FieldError[] {
  const zonesPath = path.child('forZones');
  const zones = hints.forZones ?? [];
  if (zones.length > maxZoneHints) return [tooMany(zonesPath, zones.length, maxZoneHints)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  zones.forEach((zone, i) => {
    const namePath = zonesPath.index(i).child('name');
    const name = zone.name ?? '';
    if (seen.has(name)) errs.push(duplicate(namePath, name));
    else seen.add(name);
    for (const m of isValidLabelValue(name)) errs.push(invalidValue(namePath, name, m));
  });
  return errs;
}

function validatePorts(ports: EndpointPort[], path: Path): FieldError[] {
  if (ports.length > maxPorts) return [tooMany(path, ports.length, maxPorts)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const idxPath = path.index(i);
    const name = port.name ?? '';
    if (name.length > 0) errs.push(...validateDNS1123Label(name, idxPath.child('name')));
    // Unnamed ports collide too: only one port of a slice may go without a name.
    if (names.has(name)) errs.push(duplicate(idxPath.child('name'), name));
    else names.add(name);
    if (port.protocol === undefined || port.protocol === null) errs.push(required(idxPath.child('protocol'), ''));
    else if (!supportedPortProtocols.includes(port.protocol)) errs.push(notSupported(idxPath.child('protocol'), port.protocol, supportedPortProtocols));
    if (port.appProtocol !== undefined && port.appProtocol !== null) {
      for (const m of isQualifiedName(port.appProtocol)) errs.push(invalidValue(idxPath.child('appProtocol'), port.appProtocol, m));
    }
  });
  return errs;
}

/** validateEndpointSliceUpdate: addressType is immutable. */
export function validateEndpointSliceUpdate(eps: EndpointSlice, old: EndpointSlice): FieldError[] {
  if (eps.addressType === old.addressType) return [];
  return [invalidValue(new Path('addressType'), eps.addressType, 'field is immutable')];
}

/**
 * dropDeprecatedTopology is dropTopologyOnV1: a discovery/v1 write silently clears
 * endpoints[].deprecatedTopology, unless an update leaves the endpoints as they were.
 */
function dropDeprecatedTopology(eps: EndpointSlice, old: EndpointSlice | undefined): void {
  if (old && semanticEqual(eps.endpoints, old.endpoints)) return;
  for (const ep of eps.endpoints ?? []) delete ep.deprecatedTopology;
}

/** listWithMore is listWithMoreString: up to 3 items, "+ N more...", `<unset>` when empty. */
function listWithMore(items: string[], total: number): string {
  const max = 3;
  const shown = items.slice(0, max).join(',');
  if (total > max) return `${shown} + ${total - max} more...`;
  return shown === '' ? '<unset>' : shown;
}

/** formatDiscoveryPorts is the PORTS cell: port numbers, the name of a port without a number, else "*". */
export function formatDiscoveryPorts(ports: EndpointPort[] | undefined): string {
  const list = (ports ?? []).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name !== undefined && p.name !== null ? p.name : '*'));
  return listWithMore(list, list.length);
}

/** formatDiscoveryEndpoints is the ENDPOINTS cell: every address of every endpoint, 3 at most. */
export function formatDiscoveryEndpoints(endpoints: Endpoint[] | null | undefined): string {
  const list = (endpoints ?? []).flatMap((ep) => ep.addresses ?? []);
  return listWithMore(list, list.length);
}

const endpointSliceColumns: PrinterColumn<EndpointSlice>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (e) => e.metadata.name },
  { name: 'AddressType', type: 'string', cell: (e) => e.addressType ?? '' },
  { name: 'Ports', type: 'string', cell: (e) => formatDiscoveryPorts(e.ports) },
  { name: 'Endpoints', type: 'string', cell: (e) => formatDiscoveryEndpoints(e.endpoints) },
  { name: 'Age', type: 'string', cell: (e, now) => age(e.metadata.creationTimestamp, now) },
];

export const endpointSlices = defineResource<EndpointSlice>({
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  hasGeneration: true,
  printerColumns: endpointSliceColumns,
  defaults: defaultEndpointSlice,
  prepareForCreate(eps) {
    dropDeprecatedTopology(eps, undefined);
  },
  prepareForUpdate(eps, old) {
    // The registry bumps generation for changes outside metadata; EndpointSlices count label
    // changes too (the service-name label moves a slice to another Service).
    if (!semanticEqual(eps.metadata.labels, old.metadata.labels)) {
      eps.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    dropDeprecatedTopology(eps, old);
  },
  validate: validateEndpointSlice,
  validateUpdate: validateEndpointSliceUpdate,
});
