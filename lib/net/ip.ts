// IP addresses as Kubernetes reads them, and the IPv4 arithmetic skiff's allocators need.
//
// Parsing follows netutils.ParseIPSloppy (k8s.io/utils/net), which the apiserver's validation
// uses: IPv4 octets may carry leading zeros (read as decimal, unlike inet_aton's octal), an IPv6
// address may end in an embedded IPv4 address, zones (`%eth0`) are refused, and an IPv4-mapped
// IPv6 address (::ffff:a.b.c.d) counts as IPv4. ipaddr.js does the IPv6 grammar, the formatting
// and CIDR matching; only the Go-specific leniency and the uint32 arithmetic are written here.

import ipaddr from 'ipaddr.js';

/** IPFamily is 4 or 6. */
export type IPFamily = 4 | 6;

/** ParsedIP is an address as netutils.ParseIPSloppy reads it. */
export interface ParsedIP {
  family: IPFamily;
  /** bytes are the 4 (IPv4, also for an IPv4-mapped IPv6 address) or 16 address bytes. */
  bytes: number[];
}

const sloppyIPv4Re = /^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)$/;
const ipv4TailRe = /:([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/;

/** parseSloppyIPv4 reads a dotted quad whose octets may have leading zeros, or undefined. */
function parseSloppyIPv4(s: string): number[] | undefined {
  const m = sloppyIPv4Re.exec(s);
  if (!m) return undefined;
  const bytes = m.slice(1, 5).map((p) => Number.parseInt(p, 10));
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/** parseIPv6Bytes reads an IPv6 address (an embedded IPv4 tail read sloppily) into 16 bytes, or undefined. */
function parseIPv6Bytes(s: string): number[] | undefined {
  if (s.includes('%')) return undefined;
  let text = s;
  const tail = ipv4TailRe.exec(s);
  if (tail) {
    const v4 = parseSloppyIPv4(tail[1]!);
    if (!v4) return undefined;
    // The embedded address is the last 32 bits: rewrite it as two hex groups for ipaddr.js.
    text = `${s.slice(0, s.length - tail[1]!.length)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  return ipaddr.IPv6.parse(text).toByteArray();
}

function isV4Mapped(b: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** parseIPSloppy is netutils.ParseIPSloppy: the family and bytes of an IPv4 or IPv6 address, or undefined. */
export function parseIPSloppy(value: string): ParsedIP | undefined {
  if (!value.includes(':')) {
    const v4 = parseSloppyIPv4(value);
    return v4 ? { family: 4, bytes: v4 } : undefined;
  }
  const bytes = parseIPv6Bytes(value);
  if (!bytes) return undefined;
  return isV4Mapped(bytes) ? { family: 4, bytes: bytes.slice(12) } : { family: 6, bytes };
}

/** parseIP is Go's net.IP form of parseIPSloppy: 16 bytes (IPv4 as ::ffff:a.b.c.d), or null. */
export function parseIP(value: string): number[] | null {
  const ip = parseIPSloppy(value);
  if (!ip) return null;
  return ip.family === 4 && ip.bytes.length === 4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.bytes] : ip.bytes;
}

/** isIPv6String says whether value is a valid IPv6 (and not IPv4-mapped) address. */
export function isIPv6String(value: string): boolean {
  return parseIPSloppy(value)?.family === 6;
}

/** SpecialIPRange names the ranges an endpoint or external address may not fall into (Go's net.IP.Is* checks). */
export type SpecialIPRange = 'unspecified' | 'loopback' | 'linkLocalUnicast' | 'linkLocalMulticast';

/**
 * specialIPRanges lists the special ranges ip is in, in the order kube's ValidateEndpointIP
 * checks them. Go's definitions differ from ipaddr.js' named ranges (unspecified is one
 * address, not 0.0.0.0/8; link-local multicast is ff02::/16 but any ffX2 scope), so they are
 * spelled out.
 */
export function specialIPRanges(ip: ParsedIP): SpecialIPRange[] {
  const b = ip.bytes;
  const v4 = ip.family === 4;
  const out: SpecialIPRange[] = [];
  if (b.every((x) => x === 0)) out.push('unspecified');
  if (v4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1) out.push('loopback');
  if (v4 ? b[0] === 169 && b[1] === 254 : b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) out.push('linkLocalUnicast');
  if (v4 ? b[0] === 224 && b[1] === 0 && b[2] === 0 : b[0] === 0xff && (b[1]! & 0x0f) === 0x02) out.push('linkLocalMulticast');
  return out;
}

/** parseCIDRSloppy is netutils.ParseCIDRSloppy's check: a sloppy address, `/`, and a prefix that fits its family; undefined otherwise. */
export function parseCIDRSloppy(value: string): { ip: ParsedIP; prefix: number } | undefined {
  const m = /^(.*)\/([0-9]{1,3})$/.exec(value);
  if (!m) return undefined;
  const ip = parseIPSloppy(m[1]!);
  if (!ip) return undefined;
  const prefix = Number(m[2]);
  // A v4-mapped address written in IPv6 form takes an IPv6 prefix length, as in Go.
  return prefix <= (m[1]!.includes(':') ? 128 : 32) ? { ip, prefix } : undefined;
}

// ---------------------------------------------------------------------------------------------
// IPv4 as unsigned 32-bit numbers (the allocators' arithmetic)

/** IPv4Cidr is a parsed IPv4 CIDR. */
export interface IPv4Cidr {
  /** base is the network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  /** size is how many addresses the block holds. */
  size: number;
}

/** InvalidCidrError says a string is not an IPv4 CIDR. */
export class InvalidCidrError extends Error {
  override name = 'InvalidCidrError';
}

/** ipv4ToUint32 reads an IPv4 address (sloppily, as validation accepted it) as an unsigned 32-bit number, or undefined. */
export function ipv4ToUint32(s: string): number | undefined {
  const ip = parseIPSloppy(s);
  if (ip?.family !== 4) return undefined;
  const b = ip.bytes;
  return b[0]! * 2 ** 24 + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

/** uint32ToIPv4 writes an unsigned 32-bit number as a dotted quad. */
export function uint32ToIPv4(n: number): string {
  return new ipaddr.IPv4([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]).toString();
}

/**
 * parseIPv4Cidr reads `a.b.c.d/n` as ParseCIDRSloppy does for flags (octets may have leading
 * zeros; surrounding space is ignored); host bits are masked off, as net.ParseCIDR does. An
 * IPv6 CIDR, even an IPv4-mapped one, is not an IPv4 CIDR. It throws InvalidCidrError.
 */
export function parseIPv4Cidr(s: string): IPv4Cidr {
  const text = s.trim();
  const parsed = parseCIDRSloppy(text);
  if (!parsed || text.slice(0, text.lastIndexOf('/')).includes(':')) throw new InvalidCidrError(`invalid IPv4 CIDR ${JSON.stringify(s)}`);
  const size = 2 ** (32 - parsed.prefix);
  const b = parsed.ip.bytes;
  const n = b[0]! * 2 ** 24 + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
  return { base: n - (n % size), prefix: parsed.prefix, size };
}

/** formatIPv4Cidr writes an IPv4Cidr as `a.b.c.d/n`. */
export function formatIPv4Cidr(c: IPv4Cidr): string {
  return `${uint32ToIPv4(c.base)}/${c.prefix}`;
}

/** cidrContains tells whether ip lies inside c. */
export function cidrContains(c: IPv4Cidr, ip: string): boolean {
  const n = ipv4ToUint32(ip);
  return n !== undefined && n >= c.base && n < c.base + c.size;
}

/** subnetAt is the index-th block of /prefix inside c (the index-th /24 of a range), or undefined past its end. */
export function subnetAt(c: IPv4Cidr, index: number, prefix: number): IPv4Cidr | undefined {
  if (prefix < c.prefix || prefix > 32 || index < 0) return undefined;
  const size = 2 ** (32 - prefix);
  if ((index + 1) * size > c.size) return undefined;
  return { base: c.base + index * size, prefix, size };
}

/** hostAt is the index-th usable host of c, counting from the address after the network address. */
export function hostAt(c: IPv4Cidr, index: number): string | undefined {
  // A /31 or /32 has no network or broadcast address to skip; nothing here needs those.
  if (index < 0 || index + 2 > c.size) return undefined;
  return uint32ToIPv4(c.base + 1 + index);
}

/** hostIndexOf is the inverse of hostAt: ip's index inside c, or undefined when outside or not a host. */
export function hostIndexOf(c: IPv4Cidr, ip: string): number | undefined {
  const n = ipv4ToUint32(ip);
  if (n === undefined || n <= c.base || n >= c.base + c.size - 1) return undefined;
  return n - c.base - 1;
}

/** firstIPv4Cidr picks the IPv4 block of a node's podCIDRs (dual-stack nodes list IPv6 too). */
export function firstIPv4Cidr(cidrs: readonly (string | undefined)[]): IPv4Cidr | undefined {
  for (const s of cidrs) {
    if (!s) continue;
    try {
      return parseIPv4Cidr(s);
    } catch {
      // IPv6 or malformed: pods here only get IPv4 addresses.
    }
  }
  return undefined;
}
