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
 * sha256Latin1 is the SHA-256 of s as a string of 32 characters 0-255, one per byte (Node's
 * "binary" is latin1): no Buffer is made (a sync hashes some 40,000 chain names at 10,000
 * Services, and a Buffer per name cost more than the hash).
 */
function sha256Latin1(s: string): string {
  // crypto.hash (Node 20.12+) is one call without a Hash object: about twice as fast.
  return typeof hash === 'function' ? hash('sha256', s, 'binary') : createHash('sha256').update(s).digest('binary');
}

/** base32Group is the 8 base32 characters of the 5 bytes of d (a latin1 digest) from i. */
function base32Group(d: string, i: number): string {
  const b0 = d.charCodeAt(i);
  const b1 = d.charCodeAt(i + 1);
  const b2 = d.charCodeAt(i + 2);
  const b3 = d.charCodeAt(i + 3);
  const b4 = d.charCodeAt(i + 4);
  const a = base32Alphabet;
  return a[b0 >> 3]! + a[((b0 & 7) << 2) | (b1 >> 6)]! + a[(b1 >> 1) & 31]! + a[((b1 & 1) << 4) | (b2 >> 4)]!
    + a[((b2 & 15) << 1) | (b3 >> 7)]! + a[(b3 >> 2) & 31]! + a[((b3 & 3) << 3) | (b4 >> 5)]! + a[b4 & 31]!;
}

/**
 * hash16 is the first 16 base32 characters of the SHA-256 of s: exactly the base32 of the
 * digest's first 10 bytes (80 bits), two groups of 5 bytes.
 */
export function hash16(s: string): string {
  const d = sha256Latin1(s);
  return base32Group(d, 0) + base32Group(d, 5);
}

/** hash8 is the first 8 base32 characters of the SHA-256 of s (the nftables mode's chain names). */
export function hash8(s: string): string {
  return base32Group(sha256Latin1(s), 0);
}

/**
 * portProtoHash is the hash every per-port chain of a Service port shares (kube-proxy's
 * portProtoHash): KUBE-SVC-, KUBE-SVL-, KUBE-EXT- and KUBE-FW- differ only in the prefix, so it
 * is computed once per port.
 */
export function portProtoHash(spn: string, protocol: string): string {
  return hash16(spn + protocol.toLowerCase());
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
  return `KUBE-SVC-${portProtoHash(spn, protocol)}`;
}

/** svlChain is the internalTrafficPolicy/externalTrafficPolicy Local chain (local endpoints only). */
export function svlChain(spn: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(spn, protocol)}`;
}

/** extChain is the chain external traffic (NodePort, external IPs, load-balancer IPs) enters. */
export function extChain(spn: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(spn, protocol)}`;
}

/** fwChain is the loadBalancerSourceRanges firewall chain of a LoadBalancer Service port. */
export function fwChain(spn: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(spn, protocol)}`;
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
