// buildRules is the proxy's pure core: Services + EndpointSlices + the node's state in, the text
// of one `iptables-restore --noflush` out, with the chains and rules of kube-proxy's iptables
// mode (pkg/proxy/iptables/proxier.go in Kubernetes 1.32), laid out so that it can be fed to the
// restore while it is built (ruleChunks). Nothing here touches the system, so the output is
// golden-tested (rules.test.ts) and benchmarked without root.
//
// Chains the text declares (`:CHAIN - [0:0]`) are flushed and rewritten by the restore; chains
// it does not mention keep their rules, which is how a partial sync leaves the chains of
// unchanged Services alone. The jumps from the built-in chains (PREROUTING, OUTPUT, …) are not
// in the text: iptables.ts ensures them with `-C`/`-I`, as kube-proxy does.

import type { Service, ServicePort } from '../lib/api/core/service.js';
import type { Endpoint, EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { LabelServiceName } from '../lib/api/discovery/endpointslice.js';
import { hash16, isPerServiceChain, portProtoHash, servicePortName } from './names.js';

/** NodeState is what the rules need to know about the node the proxy runs on. */
export interface NodeState {
  nodeName: string;
  /** nodeIPs are the node's IPv4 addresses (status.addresses, InternalIP first). */
  nodeIPs: string[];
  /** clusterCIDR is the pod network (--cluster-cidr): traffic from outside it to a ClusterIP is masqueraded. */
  clusterCIDR?: string;
  /** masqueradeMark is 1 << --masquerade-bit (0x4000 for 14). */
  masqueradeMark: number;
  /**
   * nodePortAddresses (--nodeport-addresses) limit NodePorts to these CIDRs; empty means every
   * local address (addrtype LOCAL, 127.0.0.1 included through route_localnet).
   */
  nodePortAddresses: string[];
  /** serviceCIDRs (--service-cluster-ip-range): nftables mode drops traffic to their unallocated addresses. */
  serviceCIDRs?: string[];
}

/** Skipped is a Service port the rules leave out, and why (the proxy reports it as an Event). */
export interface Skipped {
  namespace: string;
  name: string;
  reason: string;
  message: string;
}

/** BuildOptions choose between a full and a partial sync. */
export interface BuildOptions {
  /**
   * changed are the `ns/name` keys whose per-Service chains are rewritten; undefined means all
   * (a full sync). Top-level chains (KUBE-SERVICES, KUBE-NODEPORTS, …) are always rewritten.
   */
  changed?: ReadonlySet<string>;
  /** previousChains are the per-Service chains that exist now; those no longer wanted are deleted. */
  previousChains?: ReadonlySet<string>;
}

/** RuleSet is one sync's output. */
export interface RuleSet {
  /** text is the iptables-restore input. */
  text: string;
  /** chains are the per-Service nat chains the rules want to exist after the restore. */
  chains: Set<string>;
  skipped: Skipped[];
  /** counts for metrics and logs. */
  servicePorts: number;
  endpoints: number;
}

/** topChains are the proxy's fixed chains, per table, in the order kube-proxy declares them. */
export const topChains = {
  filter: ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL'],
  nat: ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'],
} as const;

const supportedProtocols = new Set(['TCP', 'UDP', 'SCTP']);

/** EndpointInfo is one endpoint of one Service port after the slice's port is resolved. */
export interface EndpointInfo {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
}

/** endpointString is the "ip:port" kube-proxy hashes and comments with. */
function endpointString(e: EndpointInfo): string {
  return `${e.ip}:${e.port}`;
}

/**
 * endpointsFor collects the endpoints of one Service port from the Service's IPv4 slices: the
 * slice port with the Service port's name gives the target port (so a targetPort by name is
 * resolved per pod), duplicates across slices count once.
 */
export function endpointsFor(slices: readonly EndpointSlice[], port: ServicePort, protocol: string, nodeName: string): EndpointInfo[] {
  const seen = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!sp || sp.port === undefined || sp.port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      const addresses = ep.addresses ?? [];
      if (addresses.length === 1) {
        // The usual case: one address, one object.
        const key = `${addresses[0]}:${sp.port}`;
        if (!seen.has(key)) seen.set(key, endpointInfo(ep, addresses[0]!, sp.port, nodeName));
        continue;
      }
      for (const ip of addresses) {
        const key = `${ip}:${sp.port}`;
        if (!seen.has(key)) seen.set(key, endpointInfo(ep, ip, sp.port, nodeName));
      }
    }
  }
  if (seen.size < 2) return [...seen.values()];
  // Sorted by address as a number, then port; each address converted once, not per comparison.
  const keyed = [...seen.values()].map((e) => ({ e, n: ipToNumber(e.ip) }));
  keyed.sort((a, b) => a.n - b.n || a.e.port - b.e.port);
  return keyed.map((k) => k.e);
}

// endpointInfo builds one object of one shape (no spread: this runs for every endpoint of every sync).
function endpointInfo(ep: Endpoint, ip: string, port: number, nodeName: string): EndpointInfo {
  // discovery/v1: a nil ready means ready, a nil serving means "as ready", a nil terminating false.
  const ready = ep.conditions?.ready ?? true;
  return {
    ip,
    port,
    ready,
    serving: ep.conditions?.serving ?? ready,
    terminating: ep.conditions?.terminating ?? false,
    local: ep.nodeName === nodeName,
  };
}

function ipToNumber(ip: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}


/** cidrContains tells whether IPv4 cidr (a.b.c.d/n) holds ip. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = Number(bits ?? 32);
  if (!isIPv4(base) || !isIPv4(ip) || !(n >= 0 && n <= 32)) return false;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return ((ipToNumber(base) & mask) >>> 0) === ((ipToNumber(ip) & mask) >>> 0);
}

/**
 * usable is kube-proxy's CategorizeEndpoints for one set: the ready endpoints, or, when none is
 * ready, the serving terminating ones (so a rolling update's last pods still answer).
 */
export function usable(eps: readonly EndpointInfo[]): EndpointInfo[] {
  const ready = eps.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return eps.filter((e) => e.serving && e.terminating);
}

export function isIPv4(ip: string | undefined): ip is string {
  return !!ip && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

/** comment quotes a comment for iptables-restore (kube-proxy quotes only when needed). */
function comment(text: string): string {
  return /[\s"]/.test(text) ? `"${text.replace(/"/g, '')}"` : text;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** protoMatch is `-p tcp -m tcp` for one protocol. */
function protoMatch(protocol: string): string {
  const p = protocol.toLowerCase();
  return `-p ${p} -m ${p}`;
}

/** probability is kube-proxy's statistic probability, 1/n with ten decimals. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/**
 * Fragment is the rules of one Service, built once and reused by later syncs while the Service,
 * its slices and the node state are the same objects (informers replace, never mutate, them).
 * natAll holds every nat rule in order; natTop only those in KUBE-SERVICES/KUBE-NODEPORTS, which
 * a partial sync writes for every Service while the per-Service chains are left alone.
 *
 * While a Service is built its lines are collected in arrays; done() joins each into one flat
 * string. The lines (each a tree of the pieces its template put together) then die young, and
 * what a sync keeps is four flat strings per Service instead of some hundred small objects: at
 * 10,000 Services, keeping the trees cost more in garbage collection than building them.
 */
class Fragment {
  natDecls = '';
  natAll = '';
  natTop = '';
  filter = '';
  readonly chains: string[] = [];
  servicePorts = 0;
  endpoints = 0;
  private decls: string[] = [];
  private all: string[] = [];
  private topLines: string[] = [];
  private filterLines: string[] = [];
  /** chain declares a per-Service chain (and records it as wanted). */
  chain(name: string): void {
    this.decls.push(`:${name} - [0:0]\n`);
    this.chains.push(name);
  }
  /** add appends a rule of a per-Service chain. */
  add(line: string): void {
    this.all.push(line);
  }
  /** top appends a rule of KUBE-SERVICES or KUBE-NODEPORTS (written by partial syncs too). */
  top(line: string): void {
    this.all.push(line);
    this.topLines.push(line);
  }
  /** filterRule appends a rule of the filter table. */
  filterRule(line: string): void {
    this.filterLines.push(line);
  }
  /** done joins the collected lines into the fragment's strings. */
  done(): void {
    const lines = (l: string[]) => (l.length ? `${l.join('\n')}\n` : '');
    this.natDecls = this.decls.join('');
    this.natAll = lines(this.all);
    this.natTop = lines(this.topLines);
    this.filter = lines(this.filterLines);
    this.decls = this.all = this.topLines = this.filterLines = [];
  }
}

const collator = new Intl.Collator();

/** fragments caches each Service's Fragment with what it was built from. */
const fragments = new WeakMap<Service, { slices: readonly EndpointSlice[]; node: string; frag: Fragment }>();

function sameSlices(a: readonly EndpointSlice[], b: readonly EndpointSlice[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/**
 * slicesByService indexes slices by the `ns/name` of the Service their kubernetes.io/service-name
 * label names.
 */
export function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[LabelServiceName];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

/** serviceKey is `ns/name`. */
export function serviceKey(svc: { metadata?: { namespace?: string; name?: string } }): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

/**
 * unsupported says why the proxy cannot express a Service (undefined when it can): an address
 * family the node lacks, a protocol iptables mode does not do.
 */
export function unsupported(svc: Service): { reason: string; message: string } | undefined {
  const ip = svc.spec.clusterIP;
  if (ip && ip !== 'None' && !isIPv4(ip)) {
    return { reason: 'UnsupportedIPFamily', message: `clusterIP ${ip} is not IPv4; this node proxies IPv4 only` };
  }
  for (const p of svc.spec.ports ?? []) {
    const proto = p.protocol ?? 'TCP';
    if (!supportedProtocols.has(proto)) {
      return { reason: 'UnsupportedProtocol', message: `port ${p.name ?? p.port}: protocol ${JSON.stringify(proto)} is not supported by the iptables proxy` };
    }
  }
  return undefined;
}

/** RuleStream is a sync's text in chunks (ruleChunks); its other fields are final once every chunk was taken. */
export interface RuleStream extends Omit<RuleSet, 'text'> {
  chunks: Iterable<string>;
}

/** chunkSize is about how much text each chunk of ruleChunks holds: a pipe's worth. */
const chunkSize = 64 * 1024;

/**
 * ruleChunks computes the iptables-restore text for services and slices on node, one chunk at a
 * time, so the text can be fed to iptables-restore while the rest is built: the restore parses
 * one chunk while the next is made. That needs a layout where nothing waits for the last
 * Service: nat comes first, and in it each Service declares its chains and writes their rules at
 * once (a rule may only jump to a chain declared before it), after the top chains and the fixed
 * rules; the NodePort rule that must be last in KUBE-SERVICES, then the chains no longer wanted
 * (flushed, then deleted) close it. The filter table, whose lines come from every Service, follows.
 * kube-proxy declares every chain of a table first; the rules and the chains are the same.
 * sectionEnd, when given, is asked for extra lines (the missing jumps from the built-in chains)
 * right before each table's COMMIT; a chunk always ends before a section's end is asked for.
 */
export function ruleChunks(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  node: NodeState,
  opts: BuildOptions = {},
  sectionEnd?: (table: 'filter' | 'nat') => string,
): RuleStream {
  const out: RuleStream = { chunks: [], chains: new Set(), skipped: [], servicePorts: 0, endpoints: 0 };
  out.chunks = generate(services, slices, node, opts, sectionEnd, out);
  return out;
}

function* generate(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  node: NodeState,
  opts: BuildOptions,
  sectionEnd: ((table: 'filter' | 'nat') => string) | undefined,
  out: RuleStream,
): Generator<string> {
  const mark = `${hex(node.masqueradeMark)}/${hex(node.masqueradeMark)}`;
  let parts: string[] = [];
  let size = 0;
  const put = (text: string) => {
    parts.push(text);
    size += text.length;
  };
  const take = () => {
    const chunk = parts.join('');
    parts = [];
    size = 0;
    return chunk;
  };

  put('*nat\n');
  for (const c of topChains.nat) put(`:${c} - [0:0]\n`);
  put(`-A KUBE-POSTROUTING -m mark ! --mark ${mark} -j RETURN\n`);
  // The mark is cleared so a re-routed packet is not masqueraded twice.
  put(`-A KUBE-POSTROUTING -j MARK --xor-mark ${hex(node.masqueradeMark)}\n`);
  put('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully\n');
  put(`-A KUBE-MARK-MASQ -j MARK --or-mark ${hex(node.masqueradeMark)}\n`);

  const bySvc = slicesByService(slices);
  const nodeKey = JSON.stringify(node);
  // Services in key order; the key is computed once per Service, not once per comparison.
  const sorted = services.map((svc) => ({ svc, key: serviceKey(svc) })).sort((a, b) => collator.compare(a.key, b.key));
  const filterParts: string[] = [];
  for (const { svc, key } of sorted) {
    const clusterIP = svc.spec.clusterIP;
    // Headless and ExternalName Services are DNS-only: no rules.
    if (svc.spec.type === 'ExternalName' || !clusterIP || clusterIP === 'None') continue;
    const why = unsupported(svc);
    if (why) {
      out.skipped.push({ namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', ...why });
      continue;
    }
    const writeChains = !opts.changed || opts.changed.has(key);
    const svcSlices = bySvc.get(key) ?? [];
    const hit = fragments.get(svc);
    let frag = hit && hit.node === nodeKey && sameSlices(hit.slices, svcSlices) ? hit.frag : undefined;
    if (!frag) {
      frag = new Fragment();
      serviceRules(frag, svc, svcSlices, node);
      frag.done();
      fragments.set(svc, { slices: svcSlices, node: nodeKey, frag });
    }
    for (const c of frag.chains) out.chains.add(c);
    out.servicePorts += frag.servicePorts;
    out.endpoints += frag.endpoints;
    if (frag.filter) filterParts.push(frag.filter);
    if (writeChains) {
      put(frag.natDecls);
      put(frag.natAll);
    } else put(frag.natTop);
    if (size >= chunkSize) yield take();
  }

  // NodePorts last in KUBE-SERVICES (kube-proxy's NOTE): only destinations that are this node.
  const npComment = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (node.nodePortAddresses.length === 0) {
    put(`-A KUBE-SERVICES -m comment --comment ${npComment} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n`);
  } else {
    for (const cidr of node.nodePortAddresses) put(`-A KUBE-SERVICES -m comment --comment ${npComment} -d ${cidr} -j KUBE-NODEPORTS\n`);
  }
  // Chains that existed and are no longer wanted: flushed (declared), then deleted.
  const stale = [...(opts.previousChains ?? [])].filter((c) => isPerServiceChain(c) && !out.chains.has(c)).sort();
  for (const c of stale) put(`:${c} - [0:0]\n`);
  for (const c of stale) put(`-X ${c}\n`);
  if (sectionEnd) {
    yield take();
    put(sectionEnd('nat'));
  }
  put('COMMIT\n');

  // Fixed rules: forward what we marked and what is established.
  put('*filter\n');
  for (const c of topChains.filter) put(`:${c} - [0:0]\n`);
  put('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n');
  put(`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark} -j ACCEPT\n`);
  put('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n');
  for (const f of filterParts) put(f);
  if (sectionEnd) {
    yield take();
    put(sectionEnd('filter'));
  }
  put('COMMIT\n');
  yield take();
}

/** buildRules computes the iptables-restore text for services and slices on node (ruleChunks, joined). */
export function buildRules(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  node: NodeState,
  opts: BuildOptions = {},
): RuleSet {
  const r = ruleChunks(services, slices, node, opts);
  const text = [...r.chunks].join('');
  return { text, chains: r.chains, skipped: r.skipped, servicePorts: r.servicePorts, endpoints: r.endpoints };
}

/**
 * serviceRules writes the rules of one Service into frag: its lines in KUBE-SERVICES,
 * KUBE-NODEPORTS and the filter chains, and its per-Service chains.
 */
function serviceRules(frag: Fragment, svc: Service, svcSlices: readonly EndpointSlice[], node: NodeState): void {
  const ns = svc.metadata?.namespace ?? '';
  const name = svc.metadata?.name ?? '';
  const clusterIP = svc.spec.clusterIP!;
  const externalIPs = (svc.spec.externalIPs ?? []).filter(isIPv4);
  const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIPv4);
  const extLocal = svc.spec.externalTrafficPolicy === 'Local' && (svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer');
  const intLocal = svc.spec.internalTrafficPolicy === 'Local';
  const affinity = svc.spec.sessionAffinity === 'ClientIP' ? (svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : 0;
  // loadBalancerSourceRanges: load-balancer traffic goes through a KUBE-FW chain that lets only
  // those sources on to KUBE-EXT; the rest is left un-DNATed and dropped in KUBE-PROXY-FIREWALL.
  const sourceRanges = (svc.spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter((r) => isIPv4(r.split('/')[0]));
  const usesFW = lbIPs.length > 0 && sourceRanges.length > 0;

  for (const port of svc.spec.ports ?? []) {
    frag.servicePorts++;
    const protocol = port.protocol ?? 'TCP';
    const spn = servicePortName(ns, name, port.name);
    // Comments: spnC is the port name alone (quoted only when it must be); every other comment
    // holds a space, so it is always quoted, and `q` is the name as it goes between the quotes.
    const spnC = comment(spn);
    const q = spn.includes('"') ? spn.replace(/"/g, '') : spn;
    const pm = protoMatch(protocol);
    const all = endpointsFor(svcSlices, port, protocol, node.nodeName);
    const cluster = usable(all);
    const local = usable(all.filter((e) => e.local));
    const internal = intLocal ? local : cluster;
    const external = extLocal ? local : cluster;
    // Every endpoint chain the Service port may jump to (cluster ∪ local), each hashed once.
    const used = new Map<string, EndpointInfo>();
    for (const e of cluster) used.set(endpointString(e), e);
    for (const e of local) used.set(endpointString(e), e);
    frag.endpoints += used.size;
    const lowerProto = protocol.toLowerCase();
    const sepOf = new Map<EndpointInfo, string>();
    for (const [s, e] of used) sepOf.set(e, `KUBE-SEP-${hash16(spn + lowerProto + s)}`);

    // The four per-port chains share one hash (kube-proxy's portProtoHash).
    const h = portProtoHash(spn, protocol);
    const svcName = `KUBE-SVC-${h}`;
    const fwName = `KUBE-FW-${h}`;
    const svlName = `KUBE-SVL-${h}`;
    const extName = `KUBE-EXT-${h}`;
    const needsSVL = intLocal || extLocal;
    const hasExternalAccess = port.nodePort !== undefined && port.nodePort > 0 || externalIPs.length > 0 || lbIPs.length > 0;
    const internalChain = intLocal ? svlName : svcName;
    // The EXT chain exists when external traffic has somewhere to go: any usable endpoint for
    // Cluster, and for Local any cluster endpoint too (pods and the node itself still use KUBE-SVC).
    const hasEXT = hasExternalAccess && (extLocal ? cluster.length > 0 : external.length > 0);
    const dest = `${pm} -d ${clusterIP}/32 --dport ${port.port}`;

    // ClusterIP.
    if (internal.length > 0) {
      frag.top(`-A KUBE-SERVICES -m comment --comment "${q} cluster IP" ${dest} -j ${internalChain}`);
    } else {
      frag.filterRule(`-A KUBE-SERVICES -m comment --comment "${q} has no endpoints" ${dest} -j REJECT`);
    }
    // External IPs and load-balancer IPs.
    const extDests: [string, string][] = [...externalIPs.map((ip) => [ip, 'external IP'] as [string, string]), ...lbIPs.map((ip) => [ip, 'loadbalancer IP'] as [string, string])];
    for (const [ip, what] of extDests) {
      const lb = what === 'loadbalancer IP';
      if (hasEXT) frag.top(`-A KUBE-SERVICES -m comment --comment ${comment(`${spn} ${what}`)} ${pm} -d ${ip}/32 --dport ${port.port} -j ${lb && usesFW ? fwName : extName}`);
      if (lb && usesFW) frag.filterRule(`-A KUBE-PROXY-FIREWALL -m comment --comment ${comment(`${spn} traffic not accepted by ${fwName}`)} ${pm} -d ${ip}/32 --dport ${port.port} -j DROP`);
      if (external.length === 0) {
        const text = cluster.length > 0 ? 'has no local endpoints' : 'has no endpoints';
        frag.filterRule(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${comment(`${spn} ${text}`)} ${pm} -d ${ip}/32 --dport ${port.port} -j ${cluster.length > 0 ? 'DROP' : 'REJECT'}`);
      }
    }
    // The health check node port (LoadBalancer + externalTrafficPolicy Local) is let in whatever the endpoints.
    if (svc.spec.healthCheckNodePort && extLocal) {
      frag.filterRule(`-A KUBE-NODEPORTS -m comment --comment ${comment(`${spn} health check node port`)} -m tcp -p tcp --dport ${svc.spec.healthCheckNodePort} -j ACCEPT`);
    }
    // NodePort.
    if (port.nodePort) {
      if (hasEXT) frag.top(`-A KUBE-NODEPORTS -m comment --comment ${spnC} ${pm} --dport ${port.nodePort} -j ${extName}`);
      if (external.length === 0) {
        const text = cluster.length > 0 ? 'has no local endpoints' : 'has no endpoints';
        frag.filterRule(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${comment(`${spn} ${text}`)} -m addrtype --dst-type LOCAL ${pm} --dport ${port.nodePort} -j ${cluster.length > 0 ? 'DROP' : 'REJECT'}`);
      }
    }

    // Per-Service chains: declared (and so rewritten) only in a full sync or when the Service changed.
    if (cluster.length > 0) {
      frag.chain(svcName);
      if (node.clusterCIDR && !intLocal) {
        frag.add(`-A ${svcName} -m comment --comment "${q} cluster IP" ${dest} ! -s ${node.clusterCIDR} -j KUBE-MARK-MASQ`);
      }
      writeBalancing(frag, svcName, q, cluster, sepOf, affinity);
    }
    if (needsSVL && local.length > 0) {
      frag.chain(svlName);
      writeBalancing(frag, svlName, q, local, sepOf, affinity);
    }
    if (hasEXT) {
      frag.chain(extName);
      if (!extLocal) {
        frag.add(`-A ${extName} -m comment --comment "masquerade traffic for ${q} external destinations" -j KUBE-MARK-MASQ`);
        frag.add(`-A ${extName} -j ${svcName}`);
      } else {
        // Local: pods and the node itself may use any endpoint; others keep their source and
        // reach only this node's endpoints.
        if (node.clusterCIDR) frag.add(`-A ${extName} -m comment --comment "pod traffic for ${q} external destinations" -s ${node.clusterCIDR} -j ${svcName}`);
        frag.add(`-A ${extName} -m comment --comment "masquerade LOCAL traffic for ${q} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
        frag.add(`-A ${extName} -m comment --comment "route LOCAL traffic for ${q} external destinations" -m addrtype --src-type LOCAL -j ${svcName}`);
        if (local.length > 0) frag.add(`-A ${extName} -j ${svlName}`);
      }
    }
    if (hasEXT && usesFW) {
      frag.chain(fwName);
      const fw = `-A ${fwName} -m comment --comment "${q} loadbalancer IP"`;
      for (const cidr of sourceRanges) frag.add(`${fw} -s ${cidr} -j ${extName}`);
      // A VIP held on this node loops a request from the node back with the VIP as source: let
      // it through when the node itself is inside a range.
      if (node.nodeIPs.some((ip) => sourceRanges.some((c) => cidrContains(c, ip)))) {
        for (const ip of lbIPs) frag.add(`${fw} -s ${ip}/32 -j ${extName}`);
      }
      frag.add(`-A ${fwName} -m comment --comment "other traffic to ${q} will be dropped by KUBE-PROXY-FIREWALL"`);
    }
    for (const [e, sep] of sepOf) {
      frag.chain(sep);
      // Hairpin: a pod reaching itself through its Service is masqueraded so the reply returns.
      frag.add(`-A ${sep} -m comment --comment ${spnC} -s ${e.ip}/32 -j KUBE-MARK-MASQ`);
      const recent = affinity ? ` -m recent --name ${sep} --set` : '';
      frag.add(`-A ${sep} -m comment --comment ${spnC}${recent} ${pm} -j DNAT --to-destination ${e.ip}:${e.port}`);
    }
  }
}

/**
 * writeBalancing writes a KUBE-SVC/SVL chain's body: with ClientIP affinity one `recent` check
 * per endpoint first, then the statistic rules that pick endpoint i with 1/(n-i). q is the
 * Service port's name as it goes inside a quoted comment.
 */
function writeBalancing(frag: Fragment, chain: string, q: string, eps: readonly EndpointInfo[], sepOf: ReadonlyMap<EndpointInfo, string>, affinity: number): void {
  if (affinity) {
    for (const e of eps) {
      const sep = sepOf.get(e)!;
      frag.add(`-A ${chain} -m comment --comment "${q} -> ${e.ip}:${e.port}" -m recent --name ${sep} --rcheck --seconds ${affinity} --reap -j ${sep}`);
    }
  }
  for (let i = 0; i < eps.length; i++) {
    const e = eps[i]!;
    const left = eps.length - i;
    const stat = left > 1 ? ` -m statistic --mode random --probability ${probability(left)}` : '';
    frag.add(`-A ${chain} -m comment --comment "${q} -> ${e.ip}:${e.port}"${stat} -j ${sepOf.get(e)!}`);
  }
}

/**
 * cleanupText is the restore text that removes the given chains (the proxy's, as found by
 * iptables-save): each is flushed, then deleted. The jumps into them from the built-in chains
 * must be gone first (iptables.ts deletes them).
 */
export function cleanupText(byTable: { filter: readonly string[]; nat: readonly string[] }): string {
  let out = '';
  for (const table of ['filter', 'nat'] as const) {
    const list = [...byTable[table]].sort();
    if (list.length === 0) continue;
    out += [`*${table}`, ...list.map((c) => `:${c} - [0:0]`), ...list.map((c) => `-X ${c}`), 'COMMIT'].join('\n') + '\n';
  }
  return out;
}
