// core/v1 Endpoints: the addresses behind a Service, grouped into subsets that share a port
// list. The Endpoints controller writes them (PUT creates when missing); the API repacks the
// subsets into one canonical layout so equal content always looks the same.

import { type FieldError, Path, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { age } from '../../machinery/duration.js';
import { isDNS1123Subdomain, nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';
import { type ObjectReference, supportedPortProtocols } from './types.js';
import { isValidPortNum, validateDNS1123Label, validateIP, validateNonSpecialIP, validateQualifiedName } from './validation.js';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** Endpoints is core/v1 Endpoints (one object per Service, same name). */
export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

function defaultEndpoints(ep: Endpoints): void {
  for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
}

const portKey = (p: EndpointPort) => JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? null]);
const addressKey = (a: EndpointAddress) => JSON.stringify([a.ip, a.hostname ?? '', a.nodeName ?? null, a.targetRef?.uid ?? '', a.targetRef?.name ?? '']);

function byIP(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * repackSubsets is RepackSubsets: expand to (address, port) pairs, then group addresses that
 * offer exactly the same ports into one subset. An address both ready and not ready counts as
 * ready. Ordering is deterministic (addresses by IP, ports by name and number) though not the
 * hash order Kubernetes uses.
 */
export function repackSubsets(subsets: EndpointSubset[] | undefined): EndpointSubset[] {
  const addrs = new Map<string, { addr: EndpointAddress; ready: boolean }>();
  const portsByAddr = new Map<string, Map<string, EndpointPort>>();
  const add = (a: EndpointAddress, ready: boolean, ports: EndpointPort[]) => {
    const k = addressKey(a);
    const cur = addrs.get(k);
    addrs.set(k, { addr: cur?.addr ?? a, ready: (cur?.ready ?? false) || ready });
    const set = portsByAddr.get(k) ?? new Map<string, EndpointPort>();
    for (const p of ports) set.set(portKey(p), p);
    portsByAddr.set(k, set);
  };
  for (const ss of subsets ?? []) {
    for (const a of ss.addresses ?? []) add(a, true, ss.ports ?? []);
    for (const a of ss.notReadyAddresses ?? []) add(a, false, ss.ports ?? []);
  }
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const [k, { addr, ready }] of addrs) {
    const ports = [...portsByAddr.get(k)!.values()].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const gk = JSON.stringify(ports.map(portKey));
    const g = groups.get(gk) ?? { ports, ready: [], notReady: [] };
    (ready ? g.ready : g.notReady).push(addr);
    groups.set(gk, g);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ss: EndpointSubset = {};
    if (g.ready.length) ss.addresses = g.ready.sort(byIP);
    if (g.notReady.length) ss.notReadyAddresses = g.notReady.sort(byIP);
    if (g.ports.length) ss.ports = g.ports;
    out.push(ss);
  }
  const first = (ss: EndpointSubset) => (ss.addresses ?? ss.notReadyAddresses ?? [])[0]?.ip ?? '';
  return out.sort((a, b) => (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : 0));
}

function repack(ep: Endpoints): void {
  // Kubernetes repacks after validation; a subset without addresses is left for validation to reject.
  if (!ep.subsets || ep.subsets.some((ss) => !ss.addresses?.length && !ss.notReadyAddresses?.length)) return;
  ep.subsets = repackSubsets(ep.subsets);
}

function validateAddress(a: EndpointAddress, path: Path): FieldError[] {
  const errs = validateIP(a.ip ?? '', path.child('ip'));
  if (a.hostname) errs.push(...validateDNS1123Label(a.hostname, path.child('hostname')));
  if (a.nodeName !== undefined && a.nodeName !== null) {
    errs.push(...isDNS1123Subdomain(a.nodeName).map((m) => invalidValue(path.child('nodeName'), a.nodeName, m)));
  }
  errs.push(...validateNonSpecialIP(a.ip ?? '', path.child('ip')));
  return errs;
}

function validatePort(p: EndpointPort, requireName: boolean, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(required(path.child('name')));
  else if (p.name) errs.push(...validateDNS1123Label(p.name, path.child('name')));
  errs.push(...isValidPortNum(p.port).map((m) => invalidValue(path.child('port'), p.port ?? 0, m)));
  if (!p.protocol) errs.push(required(path.child('protocol')));
  else if (!supportedPortProtocols.includes(p.protocol)) errs.push(notSupported(path.child('protocol'), p.protocol, supportedPortProtocols));
  if (p.appProtocol !== undefined && p.appProtocol !== null) errs.push(...validateQualifiedName(p.appProtocol, path.child('appProtocol')));
  return errs;
}

/** validateEndpoints is ValidateEndpoints. */
export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain);
  const path = new Path('subsets');
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = path.index(i);
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, p.child('addresses').index(j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, p.child('notReadyAddresses').index(j))));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => errs.push(...validatePort(port, ports.length > 1, p.child('ports').index(j))));
  });
  return errs;
}

/**
 * formatEndpoints is the ENDPOINTS cell: up to three `ip:port` (or bare IPs for a subset
 * without ports), then ` + N more...`, or <none> when there are no subsets.
 */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    if (!ss.ports?.length) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(hostPort(a.ip, port.port));
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

export const endpoints = defineResource<Endpoints>({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  printerColumns: [
    { name: 'Name', type: 'string', format: 'name', cell: (e) => e.metadata.name },
    { name: 'Endpoints', type: 'string', cell: (e) => formatEndpoints(e) },
    { name: 'Age', type: 'string', cell: (e, now) => age(e.metadata.creationTimestamp, now) },
  ],
  defaults: defaultEndpoints,
  prepareForCreate: repack,
  prepareForUpdate: repack,
  validate: validateEndpoints,
  allowCreateOnUpdate: true,
});
