// buildNftRules is the nftables mode's pure core: Services + EndpointSlices + the node's state in,
// the text of one `nft -f -` transaction out, laid out as kube-proxy's nftables mode lays it out
// (pkg/proxy/nftables in Kubernetes 1.32): one table `ip kube-proxy`, the `service-ips` and
// `service-nodeports` verdict maps that send a packet straight to its Service's chain, the
// `no-endpoint-services`/`no-endpoint-nodeports` maps that reject (or drop) what has no endpoint,
// the `cluster-ips` set, per-Service chains `service-<HASH>-<ns>/<name>/<proto>/<port>`
// (`local-…`, `external-…`), per-endpoint chains `endpoint-<HASH>-…__<ip>/<port>`, and
// `affinity-…` sets with a timeout for ClientIP affinity. Golden-tested in nftables.test.ts.
//
// Two differences, both measured on nft 1.0.6 (Debian 12; README):
//   - kube-proxy picks an endpoint with one rule `numgen random mod N vmap { 0 : goto …, … }`, an
//     anonymous map per Service, and nft takes minutes to load 10,000 of those. Here the chain
//     has one rule per endpoint, `numgen random mod (N-i) 0 …` (the last one unconditional): the
//     same uniform choice, made the way iptables' statistic cascade makes it, with no anonymous set.
//   - kube-proxy gives every endpoint a chain (`endpoint-<HASH>-…`: hairpin mark, DNAT). nft reads
//     every chain of the table before any change, and with 40,000 chains (10,000 Services × 3
//     endpoints) that alone costs about 200 ms of CPU per sync; with 10,000 it costs about 10 ms.
//     So the Service chain DNATs itself (`numgen … dnat to IP:PORT`), and hairpin traffic (a pod
//     reaching itself through its Service) is recognised after DNAT by source . destination in the
//     `hairpin-endpoints` set, one `ip . ip` element per endpoint.
//
// After the first (full) sync, a partial sync touches only the chains of the Services that
// changed and the map elements that differ from the previous sync's (NftState).

import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { hash8 } from './names.js';
import { type EndpointInfo, type NodeState, type Skipped, cidrContains, endpointsFor, isIPv4, serviceKey, slicesByService, unsupported, usable } from './rules.js';

/** nftTable is the proxy's one table (family ip). */
export const nftTable = 'kube-proxy';
const T = `ip ${nftTable}`;

/**
 * NftState is what the syncs so far left in the kernel, as the next (partial) sync needs to know
 * it: what each Service wrote, and every map and set element with how many Services want it.
 * buildNftRules does not change it; the NftRuleSet's commit() does, once the transaction is in.
 */
export interface NftState {
  services: Map<string, NftFragment>;
  /** elements maps `<map> <key>` to the element's value (`comment … : verdict`, or '' in a set) and its users. */
  elements: Map<string, { value: string; refs: number }>;
  /** leftovers are per-Service chains and affinity sets found at start (an earlier proxy's), deleted by the next full sync unless wanted. */
  leftovers: { chains: Set<string>; sets: Set<string> };
}

/** emptyNftState is the state of a node the proxy has not written to. */
export function emptyNftState(): NftState {
  return { services: new Map(), elements: new Map(), leftovers: { chains: new Set(), sets: new Set() } };
}

/** NftBuildOptions choose between a full and a partial sync. */
export interface NftBuildOptions {
  /** changed are the `ns/name` keys whose chains are rewritten; undefined means a full sync. */
  changed?: ReadonlySet<string>;
  /** previous is the state the last successful sync left (or what was found at start). */
  previous?: NftState;
}

/** NftRuleSet is one sync's output. */
export interface NftRuleSet {
  text: string;
  /** commit records in the state given as previous (or a new one: state) that text was applied. */
  commit: () => NftState;
  skipped: Skipped[];
  servicePorts: number;
  endpoints: number;
}

/** baseChains are the chains hooked into netfilter, with kube-proxy's names and priorities. */
const baseChains: [name: string, type: string, hook: string, priority: number][] = [
  ['filter-prerouting-pre-dnat', 'filter', 'prerouting', -110],
  ['filter-output-pre-dnat', 'filter', 'output', -110],
  ['filter-input', 'filter', 'input', 0],
  ['filter-forward', 'filter', 'forward', 0],
  ['filter-output', 'filter', 'output', 0],
  ['filter-output-post-dnat', 'filter', 'output', -90],
  ['nat-prerouting', 'nat', 'prerouting', -100],
  ['nat-output', 'nat', 'output', -100],
  ['nat-postrouting', 'nat', 'postrouting', 100],
];

/** jumpChains are the regular chains the base chains jump to (destination, source, condition). */
const jumpChains: [dst: string, src: string, cond: string][] = [
  ['nodeport-endpoints-check', 'filter-input', 'ct state new '],
  ['service-endpoints-check', 'filter-input', 'ct state new '],
  ['service-endpoints-check', 'filter-forward', 'ct state new '],
  ['service-endpoints-check', 'filter-output', 'ct state new '],
  ['services', 'nat-output', ''],
  ['services', 'nat-prerouting', ''],
  ['masquerading', 'nat-postrouting', ''],
  ['firewall-check', 'filter-prerouting-pre-dnat', 'ct state new '],
  ['firewall-check', 'filter-output-pre-dnat', 'ct state new '],
  ['cluster-ips-check', 'filter-forward', 'ct state new '],
  ['cluster-ips-check', 'filter-output-post-dnat', 'ct state new '],
];

const maps: [name: string, type: string, comment: string][] = [
  ['no-endpoint-services', 'ipv4_addr . inet_proto . inet_service : verdict', 'vmap to drop or reject packets to services with no endpoints'],
  ['no-endpoint-nodeports', 'inet_proto . inet_service : verdict', 'vmap to drop or reject packets to service nodeports with no endpoints'],
  ['service-ips', 'ipv4_addr . inet_proto . inet_service : verdict', 'ClusterIP, ExternalIP and LoadBalancer IP traffic'],
  ['service-nodeports', 'inet_proto . inet_service : verdict', 'NodePort traffic'],
  ['firewall-ips', 'ipv4_addr . inet_proto . inet_service : verdict', 'destinations that are subject to LoadBalancerSourceRanges'],
];

/** hashAndTruncate is kube-proxy's: the first 8 base32 characters of the name's SHA-256, a dash, the name. */
export function hashAndTruncate(name: string): string {
  const out = `${hash8(name)}-${name}`;
  // nft names are at most 256 bytes; 16 are left for the prefix.
  return out.length > 240 ? `${out.slice(0, 237)}...` : out;
}

/** serviceChainBase is `HASH-ns/name/proto/port` (port: the Service port's name, maybe empty). */
export function serviceChainBase(ns: string, name: string, protocol: string, portName: string): string {
  return hashAndTruncate(`${ns}/${name}/${protocol}/${portName}`);
}

/** endpointChainBase is `HASH-ns/name/proto/port__ip/port`. */
export function endpointChainBase(ns: string, name: string, protocol: string, portName: string, ip: string, port: number): string {
  return hashAndTruncate(`${ns}/${name}/${protocol}/${portName}__${ip}/${port}`);
}

/** isServiceChain tells the proxy's per-Service and per-endpoint chains (they hold a slash) from its fixed ones. */
export function isServiceChain(chain: string): boolean {
  return chain.includes('/');
}

/** NftFragment is the output of one Service, cached while the Service, its slices and the node stay the same objects. */
export interface NftFragment {
  /** chains maps each per-Service chain to its rules, in the order they are written. */
  chains: Map<string, string[]>;
  /** sets maps each affinity set to its declaration. */
  sets: Map<string, string>;
  elements: [key: string, value: string][];
  servicePorts: number;
  endpoints: number;
}

const fragments = new WeakMap<Service, { slices: readonly EndpointSlice[]; node: string; frag: NftFragment }>();
const collator = new Intl.Collator();

/** quote makes a comment for nft. */
function quote(text: string): string {
  return `"${text.replace(/"/g, '')}"`;
}

/** serviceFragment computes the chains, sets and map elements of one Service. */
function serviceFragment(svc: Service, svcSlices: readonly EndpointSlice[], node: NodeState): NftFragment {
  const frag: NftFragment = { chains: new Map(), sets: new Map(), elements: [], servicePorts: 0, endpoints: 0 };
  const ns = svc.metadata?.namespace ?? '';
  const name = svc.metadata?.name ?? '';
  const clusterIP = svc.spec.clusterIP!;
  const externalIPs = (svc.spec.externalIPs ?? []).filter(isIPv4);
  const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIPv4);
  const extLocal = svc.spec.externalTrafficPolicy === 'Local' && (svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer');
  const intLocal = svc.spec.internalTrafficPolicy === 'Local';
  const affinity = svc.spec.sessionAffinity === 'ClientIP' ? (svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : 0;
  const rule = (chain: string, text: string) => frag.chains.get(chain)!.push(text);
  // loadBalancerSourceRanges: new connections to a load-balancer IP from elsewhere are dropped
  // before DNAT (the node's own addresses count as inside when a range holds them).
  const sourceRanges = (svc.spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter((r) => isIPv4(r.split('/')[0]!));
  const allowed = lbIPs.length > 0 && sourceRanges.length > 0 ? [...sourceRanges, ...node.nodeIPs.filter((ip) => sourceRanges.some((c) => cidrContains(c, ip)))] : [];

  frag.elements.push([`cluster-ips ${clusterIP}`, '']);
  for (const port of svc.spec.ports ?? []) {
    frag.servicePorts++;
    const protocol = port.protocol ?? 'TCP';
    const p = protocol.toLowerCase();
    const portName = port.name ?? '';
    const spn = portName ? `${ns}/${name}:${portName}` : `${ns}/${name}`;
    const all = endpointsFor(svcSlices, port, protocol, node.nodeName);
    const cluster = usable(all);
    const local = usable(all.filter((e) => e.local));
    const base = serviceChainBase(ns, name, p, portName);
    const clusterChain = `service-${base}`;
    const localChain = `local-${base}`;
    const externalChain = `external-${base}`;
    const externallyAccessible = (port.nodePort ?? 0) > 0 || externalIPs.length > 0 || lbIPs.length > 0;
    const hasEndpoints = cluster.length > 0;
    // The cluster chain serves ClusterIP traffic (internalTrafficPolicy Cluster) and external traffic
    // (for Local too: pods and the node itself are short-circuited to it).
    const usesCluster = hasEndpoints && (!intLocal || externallyAccessible);
    const usesLocal = local.length > 0 && (intLocal || (externallyAccessible && extLocal));
    const internalChain = intLocal ? localChain : clusterChain;
    const hasInternal = hasEndpoints && (!intLocal || local.length > 0);
    const externalPolicyChain = extLocal ? localChain : clusterChain;
    const hasExternal = hasEndpoints && (!extLocal || local.length > 0);
    const usesExternal = hasEndpoints && externallyAccessible;
    const internalVerdict = hasEndpoints ? 'drop' : 'goto reject-chain';
    const externalVerdict = internalVerdict;

    // The endpoints this node may send the Service port's traffic to, each with its chain.
    const used = new Map<string, EndpointInfo>();
    for (const e of usesCluster ? cluster : []) used.set(`${e.ip}:${e.port}`, e);
    for (const e of usesLocal ? local : []) used.set(`${e.ip}:${e.port}`, e);
    frag.endpoints += used.size;
    // Affinity sets are named after the endpoint (kube-proxy's endpoint chain name, `affinity-` prefixed).
    const epBase = new Map<EndpointInfo, string>();
    if (affinity) for (const e of used.values()) epBase.set(e, endpointChainBase(ns, name, p, portName, e.ip, e.port));
    for (const e of used.values()) frag.elements.push([`hairpin-endpoints ${e.ip} . ${e.ip}`, '']);

    // Chains first (a rule may only name a chain that exists).
    if (usesCluster) frag.chains.set(clusterChain, []);
    if (usesLocal) frag.chains.set(localChain, []);
    if (usesExternal) frag.chains.set(externalChain, []);

    if (allowed.length > 0) {
      const firewallChain = `firewall-${base}`;
      frag.chains.set(firewallChain, [`ip saddr != { ${allowed.join(', ')} } drop`]);
      for (const ip of lbIPs) frag.elements.push([`firewall-ips ${ip} . ${p} . ${port.port}`, `goto ${firewallChain}`]);
    }

    // Map elements: where each destination of the Service port goes.
    const dest = (ip: string) => `${ip} . ${p} . ${port.port}`;
    if (hasInternal) frag.elements.push([`service-ips ${dest(clusterIP)}`, `goto ${internalChain}`]);
    else frag.elements.push([`no-endpoint-services ${dest(clusterIP)}`, `comment ${quote(spn)} : ${internalVerdict}`]);
    for (const ip of [...externalIPs, ...lbIPs]) {
      if (hasEndpoints) frag.elements.push([`service-ips ${dest(ip)}`, `goto ${externalChain}`]);
      if (!hasExternal) frag.elements.push([`no-endpoint-services ${dest(ip)}`, `comment ${quote(spn)} : ${externalVerdict}`]);
    }
    if (port.nodePort) {
      if (hasEndpoints) frag.elements.push([`service-nodeports ${p} . ${port.nodePort}`, `goto ${externalChain}`]);
      if (!hasExternal) frag.elements.push([`no-endpoint-nodeports ${p} . ${port.nodePort}`, `comment ${quote(spn)} : ${externalVerdict}`]);
    }

    // ClusterIP traffic from outside the pod network is masqueraded (it may leave the node).
    if (hasInternal && node.clusterCIDR) {
      rule(internalChain, `ip daddr ${clusterIP} ${p} dport ${port.port} ip saddr != ${node.clusterCIDR} jump mark-for-masquerade`);
    }
    if (usesExternal) {
      if (!extLocal) {
        // Endpoints may be on other nodes: masquerade so replies come back through this one.
        rule(externalChain, 'jump mark-for-masquerade');
      } else {
        // Pods and the node itself use every endpoint; others keep their source address.
        if (node.clusterCIDR) rule(externalChain, `ip saddr ${node.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`);
        rule(externalChain, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
        rule(externalChain, `fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
      }
      if (hasExternal) rule(externalChain, `goto ${externalPolicyChain}`);
    }
    if (affinity) {
      for (const b of epBase.values()) frag.sets.set(`affinity-${b}`, `add set ${T} affinity-${b} { type ipv4_addr ; flags dynamic,timeout ; timeout ${affinity}s ; }`);
    }
    // A client with affinity goes back to its endpoint (and its timer restarts); others pick
    // endpoint i with 1/(N-i), and with affinity the pick is remembered (the set's timeout is the affinity's).
    const balance = (chain: string, eps: readonly EndpointInfo[]) => {
      const dnat = (e: EndpointInfo) => `meta l4proto ${p} dnat to ${e.ip}:${e.port}`;
      if (affinity) for (const e of eps) rule(chain, `ip saddr @affinity-${epBase.get(e)} update @affinity-${epBase.get(e)} { ip saddr } ${dnat(e)}`);
      eps.forEach((e, i) => {
        const left = eps.length - i;
        const pick = left > 1 ? `numgen random mod ${left} 0 ` : '';
        const remember = affinity ? `update @affinity-${epBase.get(e)} { ip saddr } ` : '';
        rule(chain, `${pick}${remember}${dnat(e)}`);
      });
    };
    if (usesCluster) balance(clusterChain, cluster);
    if (usesLocal) balance(localChain, local);
  }
  return frag;
}

/** setupText is a full sync's first part: the table, its fixed chains, maps and sets, and their rules. */
function setupText(node: NodeState): { decls: string[]; rules: string[] } {
  const mark = `0x${node.masqueradeMark.toString(16).padStart(8, '0')}`;
  const decls = [`add table ${T} { comment "rules for kube-proxy" ; }`];
  const rules: string[] = [];
  for (const [name, type, hook, priority] of baseChains) {
    decls.push(`add chain ${T} ${name} { type ${type} hook ${hook} priority ${priority} ; }`, `flush chain ${T} ${name}`);
  }
  const regular = ['nodeport-endpoints-check', 'service-endpoints-check', 'services', 'masquerading', 'cluster-ips-check', 'firewall-check', 'mark-for-masquerade', 'reject-chain'];
  for (const c of regular) decls.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`);
  for (const [name, type, comment] of maps) decls.push(`add map ${T} ${name} { type ${type} ; comment ${quote(comment)} ; }`, `flush map ${T} ${name}`);
  decls.push(`add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`, `flush set ${T} cluster-ips`);
  decls.push(`add set ${T} hairpin-endpoints { type ipv4_addr . ipv4_addr ; comment "Endpoints, as source . destination: a pod reaching itself" ; }`, `flush set ${T} hairpin-endpoints`);
  // NodePorts answer on every local address but 127.0.0.1 (kube-proxy's nftables mode has no
  // localhost NodePorts), or on --nodeport-addresses.
  decls.push(`add set ${T} nodeport-ips { type ipv4_addr ; flags interval ; comment "IPs that accept NodePort traffic" ; }`, `flush set ${T} nodeport-ips`);
  const nodePortMatch = node.nodePortAddresses.length === 0 ? 'fib daddr type local ip daddr != 127.0.0.0/8' : 'ip daddr @nodeport-ips';
  if (node.nodePortAddresses.length > 0) rules.push(`add element ${T} nodeport-ips { ${node.nodePortAddresses.join(', ')} }`);

  for (const [dst, src, cond] of jumpChains) rules.push(`add rule ${T} ${src} ${cond}jump ${dst}`);
  rules.push(`add rule ${T} mark-for-masquerade mark set mark or ${mark}`);
  // Hairpin: a pod sent to itself through its Service is masqueraded so the reply comes back here.
  rules.push(`add rule ${T} masquerading ip saddr . ip daddr @hairpin-endpoints jump mark-for-masquerade`);
  rules.push(`add rule ${T} masquerading mark and ${mark} == 0 return`);
  rules.push(`add rule ${T} masquerading mark set mark xor ${mark}`);
  rules.push(`add rule ${T} masquerading masquerade fully-random`);
  rules.push(`add rule ${T} reject-chain reject`);
  rules.push(`add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  rules.push(`add rule ${T} nodeport-endpoints-check ${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`);
  rules.push(`add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`);
  if (node.serviceCIDRs?.length) rules.push(`add rule ${T} cluster-ips-check ip daddr { ${node.serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`);
  rules.push(`add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`);
  rules.push(`add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`);
  rules.push(`add rule ${T} services ${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`);
  if (node.nodePortAddresses.length === 0) rules.push(`delete set ${T} nodeport-ips`);
  return { decls, rules };
}

/** elementLines groups element keys by map: one `add`/`delete element` per map. */
function elementLines(verb: 'add' | 'delete', entries: Iterable<[string, string]>): string[] {
  const byMap = new Map<string, string[]>();
  for (const [k, v] of entries) {
    const sp = k.indexOf(' ');
    const map = k.slice(0, sp);
    const key = k.slice(sp + 1);
    const text = verb === 'delete' || v === '' ? key : v.startsWith('comment ') ? `${key} ${v}` : `${key} : ${v}`;
    const list = byMap.get(map);
    if (list) list.push(text);
    else byMap.set(map, [text]);
  }
  return [...byMap].map(([map, items]) => `${verb} element ${T} ${map} { ${items.join(', ')} }`);
}

/** buildNftRules computes one sync's `nft -f` transaction for services and slices on node. */
export function buildNftRules(services: readonly Service[], slices: readonly EndpointSlice[], node: NodeState, opts: NftBuildOptions = {}): NftRuleSet {
  const full = !opts.changed;
  const previous = opts.previous ?? emptyNftState();
  const bySvc = slicesByService(slices);
  const nodeKey = JSON.stringify(node);
  const skipped: Skipped[] = [];
  let servicePorts = 0;
  let endpoints = 0;
  // What each Service wants now: all of them in a full sync, the changed ones in a partial one
  // (a deleted, headless or skipped Service wants nothing).
  const wanted = new Map<string, NftFragment | undefined>();
  if (!full) for (const k of opts.changed!) wanted.set(k, undefined);
  const keyed = services.map((svc) => ({ svc, key: serviceKey(svc) }));
  if (full) keyed.sort((a, b) => collator.compare(a.key, b.key));
  for (const { svc, key } of keyed) {
    const clusterIP = svc.spec.clusterIP;
    // Headless and ExternalName Services are DNS-only: no rules.
    if (svc.spec.type === 'ExternalName' || !clusterIP || clusterIP === 'None') continue;
    const why = unsupported(svc);
    if (why) {
      skipped.push({ namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', ...why });
      continue;
    }
    if (!full && !wanted.has(key)) {
      const prev = previous.services.get(key);
      servicePorts += prev?.servicePorts ?? 0;
      endpoints += prev?.endpoints ?? 0;
      continue;
    }
    const svcSlices = bySvc.get(key) ?? [];
    const hit = fragments.get(svc);
    let frag = hit && hit.node === nodeKey && hit.slices.length === svcSlices.length && hit.slices.every((s, i) => s === svcSlices[i]) ? hit.frag : undefined;
    if (!frag) {
      frag = serviceFragment(svc, svcSlices, node);
      fragments.set(svc, { slices: svcSlices, node: nodeKey, frag });
    }
    servicePorts += frag.servicePorts;
    endpoints += frag.endpoints;
    wanted.set(key, frag);
  }

  // Chains, sets and elements: those of the written Services against what they wrote before.
  const decls: string[] = [];
  const flushes: string[] = [];
  const rules: string[] = [];
  const setDecls: string[] = [];
  const newChains = new Set<string>();
  const newSets = new Set<string>();
  const oldChains = new Set<string>(full ? previous.leftovers.chains : []);
  const oldSets = new Set<string>(full ? previous.leftovers.sets : []);
  // Element users after this sync, for the keys it touches (all of them in a full sync).
  const elements = full ? new Map<string, { value: string; refs: number }>() : new Map<string, { value: string; refs: number }>();
  const touch = (k: string) => {
    let e = elements.get(k);
    if (!e) {
      const before = full ? undefined : previous.elements.get(k);
      e = before ? { ...before } : { value: '', refs: 0 };
      elements.set(k, e);
    }
    return e;
  };
  const olds = full ? previous.services.values() : [...wanted.keys()].map((k) => previous.services.get(k)).filter((f): f is NftFragment => !!f);
  for (const old of olds) {
    for (const c of old.chains.keys()) oldChains.add(c);
    for (const s of old.sets.keys()) oldSets.add(s);
    if (!full) for (const [k] of old.elements) touch(k).refs--;
  }
  for (const frag of wanted.values()) {
    if (!frag) continue;
    for (const [k, v] of frag.elements) {
      const e = touch(k);
      // The first Service to claim a destination keeps it (two Services naming the same external IP and port).
      if (e.refs <= 0) e.value = v;
      e.refs = Math.max(e.refs, 0) + 1;
    }
    for (const [set, decl] of frag.sets) {
      newSets.add(set);
      setDecls.push(decl);
    }
    for (const [chain, body] of frag.chains) {
      newChains.add(chain);
      decls.push(`add chain ${T} ${chain}`);
      // A chain that exists is flushed first (a full sync flushes every one: it may hold an earlier proxy's rules).
      if (full || oldChains.has(chain)) flushes.push(`flush chain ${T} ${chain}`);
      for (const r of body) rules.push(`add rule ${T} ${chain} ${r}`);
    }
  }

  // Map elements: a full sync flushed the maps and adds everything; a partial one changes only
  // the elements that differ (a changed value is deleted, then added).
  const gone: [string, string][] = [];
  const added: [string, string][] = [];
  for (const [k, e] of elements) {
    const before = full ? undefined : previous.elements.get(k);
    const now = e.refs > 0 ? e.value : undefined;
    if (before && before.value !== now) gone.push([k, before.value]);
    if (now !== undefined && before?.value !== now) added.push([k, now]);
  }

  // Chains and affinity sets no longer wanted: flushed first (they may jump to each other), then deleted.
  const staleChains = [...oldChains].filter((c) => !newChains.has(c)).sort();
  const staleSets = [...oldSets].filter((s) => !newSets.has(s)).sort();
  const setup = full ? setupText(node) : { decls: [], rules: [] };
  // One array, pushed to (spreading eleven arrays of up to 40,000 lines each copies them twice).
  const text: string[] = [];
  const append = (lines: readonly string[]) => {
    for (const l of lines) text.push(l);
  };
  append(setup.decls);
  append(setDecls);
  append(decls);
  append(flushes);
  for (const c of staleChains) text.push(`flush chain ${T} ${c}`);
  append(elementLines('delete', gone));
  append(setup.rules);
  append(rules);
  append(elementLines('add', added));
  for (const c of staleChains) text.push(`delete chain ${T} ${c}`);
  for (const s of staleSets) text.push(`delete set ${T} ${s}`);

  const commit = (): NftState => {
    const state = opts.previous ?? emptyNftState();
    if (full) {
      state.services.clear();
      state.elements.clear();
      state.leftovers = { chains: new Set(), sets: new Set() };
    }
    for (const [k, frag] of wanted) {
      if (frag) state.services.set(k, frag);
      else state.services.delete(k);
    }
    for (const [k, e] of elements) {
      if (e.refs > 0) state.elements.set(k, e);
      else state.elements.delete(k);
    }
    return state;
  };
  return { text: text.length ? `${text.join('\n')}\n` : '', commit, skipped, servicePorts, endpoints };
}

/** chainsOf lists the per-Service chains a state holds (for tests and logs). */
export function chainsOf(state: NftState): Set<string> {
  const out = new Set<string>();
  for (const f of state.services.values()) for (const c of f.chains.keys()) out.add(c);
  return out;
}
