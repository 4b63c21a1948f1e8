// resolve answers one DNS question from the cluster's state, following the Kubernetes DNS-Based
// Service Discovery specification (github.com/kubernetes/dns docs/specification.md, schema
// 1.1.0) and CoreDNS's kubernetes plugin where the specification leaves a choice:
//
//   <svc>.<ns>.svc.<zone>                   A/AAAA: the ClusterIP, or every ready endpoint (headless);
//                                           CNAME: the externalName (ExternalName Services)
//   <hostname>.<svc>.<ns>.svc.<zone>        A/AAAA of a headless Service's endpoint (hostname, or its
//                                           address with dashes when it has none)
//   _<port>._<proto>.<svc>.<ns>.svc.<zone>  SRV per named port (and per endpoint when headless)
//   <a-b-c-d>.<ns>.pod.<zone>               A of that address ("pods insecure", kubeadm's default:
//                                           the pod is not looked up)
//   <d>.<c>.<b>.<a>.in-addr.arpa (ip6.arpa) PTR of a ClusterIP or a headless endpoint
//   dns-version.<zone>                      TXT "1.1.0"
//
// A name in the zone that does not exist is NXDOMAIN, a name that exists without the asked type
// is NOERROR with no answer (both with the zone's SOA in the authority section, TTL 5); every
// other name, and reverse names no Service owns (CoreDNS's `fallthrough in-addr.arpa ip6.arpa`),
// go to the upstream resolvers. Names match case-insensitively; answers carry the name as asked.
// Pure: no I/O, no clock.

import type { Answer, RecordType } from 'dns-packet';
import ipaddr from 'ipaddr.js';
import type { ClusterView, ServiceRecord } from './records.js';

/** QType is a question's type: a record type, or ANY. */
export type QType = RecordType | 'ANY';

/** schemaVersion is the specification version served at dns-version.<zone>. */
export const schemaVersion = '1.1.0';

/** ResolveConfig is the zone and the numbers every answer shares. */
export interface ResolveConfig {
  /** zone is the cluster domain without a final dot (cluster.local). */
  zone: string;
  /** dnsIP is the kube-dns Service's ClusterIP, the address of ns.dns.<zone>. */
  dnsIP: string;
  /** ttl of positive answers (30, as kubeadm's Corefile sets). */
  ttl: number;
  /** negativeTTL is the SOA's TTL and minimum, which caches NXDOMAIN and NODATA (5). */
  negativeTTL: number;
  /** serial of the SOA. */
  serial: number;
}

/** Answered is a reply from the cluster's own data. */
export interface Answered {
  forward: false;
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** Resolution is an answer, or the word to ask the upstream resolvers. */
export type Resolution = Answered | { forward: true };

const forward: Resolution = { forward: true };

/** defaultResolveConfig fills in the numbers CoreDNS uses under kubeadm. */
export function defaultResolveConfig(zone: string, dnsIP: string): ResolveConfig {
  return { zone: zone.replace(/\.$/, '').toLowerCase(), dnsIP, ttl: 30, negativeTTL: 5, serial: 1 };
}

/** resolve answers the question (qname, qtype) from view. */
export function resolve(view: ClusterView, cfg: ResolveConfig, qname: string, qtype: QType): Resolution {
  const asked = qname.replace(/\.$/, '');
  const name = asked.toLowerCase();
  if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return reverse(view, cfg, asked, qtype);
  const zone = cfg.zone;
  if (name !== zone && !name.endsWith(`.${zone}`)) return forward;
  const r = new Reply(cfg, asked, qtype);
  // Labels below the zone, nearest the zone first: web.default.svc → [svc, default, web].
  const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.').reverse();
  if (labels.length === 0) {
    if (qtype === 'SOA' || qtype === 'ANY') r.answers.push(soa(cfg));
    if (qtype === 'NS' || qtype === 'ANY') {
      r.answers.push({ type: 'NS', name: asked, ttl: cfg.ttl, data: `ns.dns.${zone}` });
      r.additionals.push({ type: 'A', name: `ns.dns.${zone}`, ttl: cfg.ttl, data: cfg.dnsIP });
    }
    return r.done();
  }
  const [top, ns, svc, sub, sub2, ...rest] = labels as [string, string?, string?, string?, string?, ...string[]];
  if (top === 'dns-version' && labels.length === 1) {
    if (qtype === 'TXT' || qtype === 'ANY') r.answers.push({ type: 'TXT', name: asked, ttl: cfg.ttl, data: schemaVersion });
    return r.done();
  }
  if (top === 'dns') {
    if (labels.length === 1) return r.done();
    if (labels.length === 2 && ns === 'ns') {
      if (qtype === 'A' || qtype === 'ANY') r.answers.push({ type: 'A', name: asked, ttl: cfg.ttl, data: cfg.dnsIP });
      return r.done();
    }
    return r.nxdomain();
  }
  if (top === 'pod') return pod(r, labels.slice(1));
  if (top !== 'svc') return r.nxdomain();
  if (ns === undefined) return r.done();
  if (svc === undefined) return view.hasNamespace(ns) ? r.done() : r.nxdomain();
  const rec = view.service(ns, svc);
  if (!rec) return r.nxdomain();
  if (sub === undefined) return serviceAnswer(r, rec);
  if (sub.startsWith('_')) {
    // _<proto>.<svc> is an empty non-terminal when some port has that protocol.
    const proto = sub.slice(1);
    const ports = rec.ports.filter((p) => p.protocol === proto);
    if (rec.kind === 'ExternalName' || ports.length === 0 || rest.length > 0) return r.nxdomain();
    if (sub2 === undefined) return r.done();
    if (!sub2.startsWith('_')) return r.nxdomain();
    const portName = sub2.slice(1);
    const matching = ports.filter((p) => p.name === portName);
    if (matching.length === 0) return r.nxdomain();
    if (qtype === 'SRV' || qtype === 'ANY') srvRecords(r, rec, portName, proto);
    if (r.answers.length === 0 && rec.kind === 'Headless' && rec.endpoints.length === 0) return r.nxdomain();
    return r.done();
  }
  if (sub2 !== undefined || rec.kind !== 'Headless') return r.nxdomain();
  const ep = rec.endpoints.find((e) => e.hostname === sub);
  if (!ep) return r.nxdomain();
  addressRecords(r, asked, ep.addresses);
  return r.done();
}

/** Reply collects the sections of one answer. */
class Reply {
  readonly answers: Answer[] = [];
  readonly authorities: Answer[] = [];
  readonly additionals: Answer[] = [];
  constructor(
    readonly cfg: ResolveConfig,
    readonly name: string,
    readonly qtype: QType,
  ) {}

  done(): Answered {
    // NODATA: the name exists, the type does not; the SOA says how long to remember that.
    if (this.answers.length === 0) this.authorities.push(soa(this.cfg));
    return { forward: false, rcode: 'NOERROR', answers: this.answers, authorities: this.authorities, additionals: this.additionals };
  }

  nxdomain(): Answered {
    return { forward: false, rcode: 'NXDOMAIN', answers: [], authorities: [soa(this.cfg)], additionals: [] };
  }
}

function soa(cfg: ResolveConfig): Answer {
  return {
    type: 'SOA',
    name: cfg.zone,
    ttl: cfg.negativeTTL,
    data: { mname: `ns.dns.${cfg.zone}`, rname: `hostmaster.${cfg.zone}`, serial: cfg.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: cfg.negativeTTL },
  };
}

function isV6(ip: string): boolean {
  return ip.includes(':');
}

/** addressRecords adds the A (or AAAA) records of ips that fit the question's type. */
function addressRecords(r: Reply, owner: string, ips: string[]): void {
  const wantA = r.qtype === 'A' || r.qtype === 'ANY';
  const wantAAAA = r.qtype === 'AAAA' || r.qtype === 'ANY';
  for (const ip of ips) {
    if (isV6(ip) ? wantAAAA : wantA) r.answers.push({ type: isV6(ip) ? 'AAAA' : 'A', name: owner, ttl: r.cfg.ttl, data: ip });
  }
}

function glue(r: Reply, owner: string, ips: string[]): void {
  for (const ip of ips) r.additionals.push({ type: isV6(ip) ? 'AAAA' : 'A', name: owner, ttl: r.cfg.ttl, data: ip });
}

function serviceAnswer(r: Reply, rec: ServiceRecord): Answered {
  if (rec.kind === 'ExternalName') {
    // A CNAME answers every type; the client (or its resolver) follows it.
    if (rec.externalName) r.answers.push({ type: 'CNAME', name: r.name, ttl: r.cfg.ttl, data: rec.externalName });
    return r.done();
  }
  if (rec.kind === 'Headless' && rec.endpoints.length === 0) return r.nxdomain();
  if (r.qtype === 'SRV') {
    srvRecords(r, rec);
    return r.done();
  }
  addressRecords(r, r.name, rec.kind === 'ClusterIP' ? rec.clusterIPs : rec.endpoints.flatMap((e) => e.addresses));
  return r.done();
}

/** srvRecords adds one SRV per matching port (per endpoint and port when headless), with glue. */
function srvRecords(r: Reply, rec: ServiceRecord, portName?: string, proto?: string): void {
  const base = `${rec.name}.${rec.namespace}.svc.${r.cfg.zone}`;
  const match = (p: { name: string; protocol: string }) => (portName === undefined || p.name === portName) && (proto === undefined || p.protocol === proto);
  if (rec.kind === 'ClusterIP') {
    for (const p of rec.ports.filter(match)) r.answers.push({ type: 'SRV', name: r.name, ttl: r.cfg.ttl, data: { priority: 0, weight: 100, port: p.port, target: base } });
    if (r.answers.length > 0) glue(r, base, rec.clusterIPs);
    return;
  }
  const targets = rec.endpoints.filter((e) => e.ports.some(match));
  // Endpoints share the weight evenly, as CoreDNS does.
  const weight = Math.max(1, Math.floor(100 / Math.max(1, targets.length)));
  for (const ep of targets) {
    const target = `${ep.hostname}.${base}`;
    for (const p of ep.ports.filter(match)) r.answers.push({ type: 'SRV', name: r.name, ttl: r.cfg.ttl, data: { priority: 0, weight, port: p.port, target } });
    glue(r, target, ep.addresses);
  }
}

/** pod answers <a-b-c-d>.<ns>.pod.<zone> (labels nearest the zone first, without `pod`). */
function pod(r: Reply, labels: string[]): Answered {
  if (labels.length <= 1) return r.done();
  if (labels.length > 2) return r.nxdomain();
  const ip = podIP(labels[1]!);
  if (!ip) return r.nxdomain();
  addressRecords(r, r.name, [ip]);
  return r.done();
}

/** podIP reads a dashed address label (10-244-1-5, fd00--5); undefined when it is not one. */
export function podIP(label: string): string | undefined {
  if (/^\d{1,3}(-\d{1,3}){3}$/.test(label)) {
    const ip = label.replace(/-/g, '.');
    return ipaddr.IPv4.isValidFourPartDecimal(ip) ? ip : undefined;
  }
  const v6 = label.replace(/-/g, ':');
  if (!label.includes('-') || !ipaddr.IPv6.isValid(v6)) return undefined;
  return ipaddr.IPv6.parse(v6).toString();
}

/** reverseIP reads a name under in-addr.arpa or ip6.arpa as an address; undefined when partial. */
export function reverseIP(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    const ip = parts.reverse().join('.');
    return ipaddr.IPv4.isValidFourPartDecimal(ip) ? ip : undefined;
  }
  const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
  if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
  const hex = nibbles.reverse().join('');
  return ipaddr.IPv6.parse(hex.match(/.{4}/g)!.join(':')).toString();
}

function reverse(view: ClusterView, cfg: ResolveConfig, asked: string, qtype: QType): Resolution {
  const ip = reverseIP(asked.toLowerCase());
  const names = ip ? view.namesForIP(ip) : [];
  if (names.length === 0) return forward;
  const r = new Reply({ ...cfg }, asked, qtype);
  if (qtype === 'PTR' || qtype === 'ANY') for (const n of names.sort()) r.answers.push({ type: 'PTR', name: asked, ttl: cfg.ttl, data: n });
  return r.done();
}
