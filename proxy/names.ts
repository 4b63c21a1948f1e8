// Chain names as kube-proxy's iptables mode makes them: a prefix and the first 16 characters of
// the base32 of a SHA-256, so a Service keeps the same chains across restarts and proxies, and
// every name stays within iptables' 28-character limit.

import { createHash, hash } from 'node:crypto';

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** base32 is RFC 4648 base32 (standard alphabet, as Go's base32.StdEncoding), without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += base32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * hash16 is the first 16 base32 characters of the SHA-256 of s: exactly the base32 of the
 * digest's first 10 bytes (80 bits), so only those are encoded.
 */
function hash16(s: string): string {
  // crypto.hash (Node 20.12+) is one call without a Hash object: about twice as fast.
  const digest = typeof hash === 'function' ? hash('sha256', s, 'buffer') : createHash('sha256').update(s).digest();
  return base32(digest.subarray(0, 10));
}

/**
 * servicePortName is kube-proxy's ServicePortName.String(): `ns/name:port`, or `ns/name` for an
 * unnamed port.
 */
export function servicePortName(namespace: string, name: string, port: string | undefined): string {
  return port ? `${namespace}/${name}:${port}` : `${namespace}/${name}`;
}

/** svcChain is KUBE-SVC-<hash of port name + lower-case protocol>. */
export function svcChain(spn: string, protocol: string): string {
  return `KUBE-SVC-${hash16(spn + protocol.toLowerCase())}`;
}

/** svlChain is the internalTrafficPolicy/externalTrafficPolicy Local chain (local endpoints only). */
export function svlChain(spn: string, protocol: string): string {
  return `KUBE-SVL-${hash16(spn + protocol.toLowerCase())}`;
}

/** extChain is the chain external traffic (NodePort, external IPs, load-balancer IPs) enters. */
export function extChain(spn: string, protocol: string): string {
  return `KUBE-EXT-${hash16(spn + protocol.toLowerCase())}`;
}

/** fwChain is the loadBalancerSourceRanges firewall chain of a LoadBalancer Service port. */
export function fwChain(spn: string, protocol: string): string {
  return `KUBE-FW-${hash16(spn + protocol.toLowerCase())}`;
}

/** sepChain is KUBE-SEP-<hash of port name + protocol + endpoint "ip:port">. */
export function sepChain(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(spn + protocol.toLowerCase() + endpoint)}`;
}

/** perServicePrefixes are the chain families the proxy makes one of per Service port or endpoint. */
export const perServicePrefixes = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-SEP-', 'KUBE-FW-'] as const;

/** isPerServiceChain tells whether a chain is one of the proxy's per-Service chains. */
export function isPerServiceChain(chain: string): boolean {
  return perServicePrefixes.some((p) => chain.startsWith(p));
}
