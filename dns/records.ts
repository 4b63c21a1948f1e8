// The cluster as the DNS server sees it: one ServiceRecord per Service, with the ready endpoints
// of its EndpointSlices folded in, and a reverse index from IP to names for PTR queries. The
// index is fed by informer events (upsert/delete of a Service or an EndpointSlice) and recomputes
// only the Service an event touches, so a change costs the same with 10 or 10,000 Services.
// Nothing here does I/O; resolve.ts answers questions from it.

import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import type { Service } from '../lib/api/core/service.js';

/** ServiceKind is how a Service is published: one address, its endpoints, or a CNAME. */
export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

/** PortRecord is one named port of a Service or an endpoint, as SRV records publish it. */
export interface PortRecord {
  name: string;
  /** protocol is lower case (tcp, udp, sctp), as in `_<port>._<proto>`. */
  protocol: string;
  port: number;
}

/** EndpointRecord is one ready endpoint of a headless Service. */
export interface EndpointRecord {
  /** hostname is the endpoint's hostname, or its address with dashes (10-1-2-3) when it has none. */
  hostname: string;
  addresses: string[];
  ports: PortRecord[];
}

/** ServiceRecord is everything DNS publishes for one Service. */
export interface ServiceRecord {
  namespace: string;
  name: string;
  kind: ServiceKind;
  /** clusterIPs are a ClusterIP Service's addresses (both families when dual-stack). */
  clusterIPs: string[];
  externalName?: string;
  ports: PortRecord[];
  /** endpoints are a headless Service's ready endpoints (publishNotReadyAddresses counts them all). */
  endpoints: EndpointRecord[];
}

/** ClusterView is what resolve needs: Services by name and names by IP. */
export interface ClusterView {
  service(namespace: string, name: string): ServiceRecord | undefined;
  /** hasNamespace is true when some Service lives in namespace. */
  hasNamespace(namespace: string): boolean;
  /** namesForIP are the fully qualified names (without the final dot) that own ip. */
  namesForIP(ip: string): string[];
}

const labelServiceName = 'kubernetes.io/service-name';

/** dashedIP is an address as one DNS label: 10.1.2.3 → 10-1-2-3, fd00::1 → fd00--1. */
export function dashedIP(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** serviceKind classifies a Service the way the DNS specification does. */
export function serviceKind(svc: Service): ServiceKind {
  if (svc.spec?.type === 'ExternalName') return 'ExternalName';
  if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') return 'Headless';
  return 'ClusterIP';
}

function namedPorts(ports: { name?: string; protocol?: string; port?: number }[] | undefined): PortRecord[] {
  const out: PortRecord[] = [];
  for (const p of ports ?? []) {
    if (!p.name || p.port === undefined) continue;
    out.push({ name: p.name.toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port });
  }
  return out;
}

/** buildServiceRecord folds a Service and its EndpointSlices into what DNS publishes for it. */
export function buildServiceRecord(svc: Service, slices: Iterable<EndpointSlice>): ServiceRecord {
  const kind = serviceKind(svc);
  const rec: ServiceRecord = {
    namespace: svc.metadata!.namespace ?? 'default',
    name: svc.metadata!.name!,
    kind,
    clusterIPs: kind === 'ClusterIP' ? [...new Set(svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec.clusterIP!])] : [],
    ports: namedPorts(svc.spec.ports),
    endpoints: [],
  };
  if (kind === 'ExternalName') rec.externalName = (svc.spec.externalName ?? '').replace(/\.$/, '').toLowerCase();
  if (kind !== 'Headless') return rec;
  // The endpointslice controller already marks every endpoint ready when the Service publishes
  // not-ready addresses; an absent condition means ready (discovery/v1 EndpointConditions).
  const byHost = new Map<string, EndpointRecord>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const ports = namedPorts(slice.ports);
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || !ep.addresses?.length) continue;
      const hostname = ep.hostname ? ep.hostname.toLowerCase() : dashedIP(ep.addresses[0]!);
      const existing = byHost.get(hostname);
      if (existing) {
        for (const a of ep.addresses) if (!existing.addresses.includes(a)) existing.addresses.push(a);
        for (const p of ports) if (!existing.ports.some((q) => q.name === p.name && q.protocol === p.protocol)) existing.ports.push(p);
      } else {
        byHost.set(hostname, { hostname, addresses: [...ep.addresses], ports: [...ports] });
      }
    }
  }
  rec.endpoints = [...byHost.values()];
  return rec;
}

/** ownedNames are the (ip, name) pairs a record adds to the reverse index. */
function ownedNames(rec: ServiceRecord, zone: string): [string, string][] {
  const base = `${rec.name}.${rec.namespace}.svc.${zone}`;
  if (rec.kind === 'ClusterIP') return rec.clusterIPs.map((ip) => [ip, base]);
  if (rec.kind === 'Headless') return rec.endpoints.flatMap((ep) => ep.addresses.map((ip): [string, string] => [ip, `${ep.hostname}.${base}`]));
  return [];
}

/**
 * ClusterIndex is the DNS server's state, kept from Service and EndpointSlice informer events.
 * It keeps its own small copies (ServiceRecords), never the informer's objects.
 */
export class ClusterIndex implements ClusterView {
  private readonly services = new Map<string, Service>();
  /** slices by Service key, then by slice name (slices can arrive before their Service). */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  private readonly records = new Map<string, ServiceRecord>();
  private readonly namespaces = new Map<string, number>();
  private readonly reverse = new Map<string, Set<string>>();
  /** version counts changes, for metrics and tests that wait for an update. */
  version = 0;

  constructor(readonly zone: string) {}

  get serviceCount(): number {
    return this.records.size;
  }

  upsertService(svc: Service): void {
    const ns = svc.metadata?.namespace, name = svc.metadata?.name;
    if (!ns || !name) return;
    this.services.set(keyOf(ns, name), svc);
    this.recompute(ns, name);
  }

  deleteService(svc: Service): void {
    const ns = svc.metadata?.namespace, name = svc.metadata?.name;
    if (!ns || !name) return;
    this.services.delete(keyOf(ns, name));
    this.recompute(ns, name);
  }

  upsertSlice(slice: EndpointSlice): void {
    const ns = slice.metadata?.namespace, svcName = slice.metadata?.labels?.[labelServiceName], name = slice.metadata?.name;
    if (!ns || !svcName || !name) return;
    const key = keyOf(ns, svcName);
    let m = this.slices.get(key);
    if (!m) this.slices.set(key, (m = new Map()));
    m.set(name, slice);
    this.recompute(ns, svcName);
  }

  deleteSlice(slice: EndpointSlice): void {
    const ns = slice.metadata?.namespace, svcName = slice.metadata?.labels?.[labelServiceName], name = slice.metadata?.name;
    if (!ns || !svcName || !name) return;
    const key = keyOf(ns, svcName);
    const m = this.slices.get(key);
    if (!m) return;
    m.delete(name);
    if (m.size === 0) this.slices.delete(key);
    this.recompute(ns, svcName);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.records.get(keyOf(namespace, name));
  }

  hasNamespace(namespace: string): boolean {
    return (this.namespaces.get(namespace) ?? 0) > 0;
  }

  namesForIP(ip: string): string[] {
    const s = this.reverse.get(ip);
    return s ? [...s] : [];
  }

  /** recompute rebuilds one Service's record and its share of the reverse index. */
  private recompute(ns: string, name: string): void {
    this.version++;
    const key = keyOf(ns, name);
    const old = this.records.get(key);
    if (old) {
      for (const [ip, n] of ownedNames(old, this.zone)) {
        const s = this.reverse.get(ip);
        s?.delete(n);
        if (s?.size === 0) this.reverse.delete(ip);
      }
      this.records.delete(key);
      this.namespaces.set(ns, (this.namespaces.get(ns) ?? 1) - 1);
      if (this.namespaces.get(ns) === 0) this.namespaces.delete(ns);
    }
    const svc = this.services.get(key);
    if (!svc) return;
    const rec = buildServiceRecord(svc, this.slices.get(key)?.values() ?? []);
    this.records.set(key, rec);
    this.namespaces.set(ns, (this.namespaces.get(ns) ?? 0) + 1);
    for (const [ip, n] of ownedNames(rec, this.zone)) {
      let s = this.reverse.get(ip);
      if (!s) this.reverse.set(ip, (s = new Set()));
      s.add(n);
    }
  }
}
