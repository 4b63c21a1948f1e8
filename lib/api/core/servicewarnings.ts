// Service warnings: what kube-apiserver tells a client about a Service it accepts but may not
// keep accepting (pkg/api/service/warnings.go): the deprecated topology hints annotation, IPv4
// addresses with leading zeros, and IPv6 addresses or prefixes not in RFC 5952 canonical form,
// which make controllers that compare them apply forever.

import type { ObjectMeta } from '../meta.js';

/** WarnedService is what the warnings read of a Service (a structural type: service.ts imports this file). */
interface WarnedService {
  metadata: ObjectMeta;
  spec?: { clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[]; loadBalancerIP?: string; loadBalancerSourceRanges?: string[] };
}

const deprecatedTopologyHints = 'service.kubernetes.io/topology-aware-hints';
const topologyMode = 'service.kubernetes.io/topology-mode';

/** goQuoted is Go's %q of a plain string. */
const goQuoted = (s: string) => JSON.stringify(s);

/** canonicalIPv6 is an IPv6 address in RFC 5952 form, as Go's netip prints it; undefined when not one. */
function canonicalIPv6(address: string): string | undefined {
  // The URL parser writes IPv6 hosts in RFC 5952 form, except for embedded IPv4 (left alone here).
  if (!address.includes(':') || address.includes('.') || address.includes('%')) return undefined;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** leadingZeroIPv4: a dotted IPv4 address with an octet like `010`, which Go's netip refuses. */
const leadingZeroIPv4 = (address: string) => /^\d+(\.\d+){3}$/.test(address) && address.split('.').some((o) => o.length > 1 && o.startsWith('0'));

function ipWarnings(field: string, address: string): string[] {
  if (leadingZeroIPv4(address)) {
    return [`${field}: IP address was accepted, but will be invalid in a future Kubernetes release: ParseAddr(${goQuoted(address)}): IPv4 field has octet with leading zero`];
  }
  const canonical = canonicalIPv6(address);
  if (canonical !== undefined && canonical !== address) {
    return [`${field}: IPv6 address ${goQuoted(address)} is not in RFC 5952 canonical format (${goQuoted(canonical)}), which may cause controller apply-loops`];
  }
  return [];
}

function cidrWarnings(field: string, cidr: string): string[] {
  const [address, bits] = cidr.split('/');
  if (bits === undefined) return [];
  if (leadingZeroIPv4(address)) {
    return [`${field}: IP prefix was accepted, but will be invalid in a future Kubernetes release: netip.ParsePrefix(${goQuoted(cidr)}): ParseAddr(${goQuoted(address)}): IPv4 field has octet with leading zero`];
  }
  const canonical = canonicalIPv6(address);
  if (canonical !== undefined && `${canonical}/${bits}` !== cidr) {
    return [`${field}: IPv6 prefix ${goQuoted(cidr)} is not in RFC 5952 canonical format (${goQuoted(`${canonical}/${bits}`)}), which may cause controller apply-loops`];
  }
  return [];
}

/** serviceWarnings are kube-apiserver's warnings for a Service on create and update. */
export function serviceWarnings(svc: WarnedService): string[] {
  const out: string[] = [];
  if (Object.hasOwn(svc.metadata.annotations ?? {}, deprecatedTopologyHints)) {
    out.push(`annotation ${deprecatedTopologyHints} is deprecated, please use ${topologyMode} instead`);
  }
  const spec = svc.spec ?? {};
  if (spec.clusterIP && spec.clusterIP !== 'None') (spec.clusterIPs ?? []).forEach((ip, i) => out.push(...ipWarnings(`spec.clusterIPs[${i}]`, ip)));
  (spec.externalIPs ?? []).forEach((ip, i) => out.push(...ipWarnings(`spec.externalIPs[${i}]`, ip)));
  if (spec.loadBalancerIP) out.push(...ipWarnings('spec.loadBalancerIP', spec.loadBalancerIP));
  (spec.loadBalancerSourceRanges ?? []).forEach((c, i) => out.push(...cidrWarnings(`spec.loadBalancerSourceRanges[${i}]`, c)));
  return out;
}
