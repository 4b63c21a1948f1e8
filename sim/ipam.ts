// Addresses for simulated nodes and their pods (IPv4 only): each node gets an index, which
// names its InternalIP (the index-th host of --node-ip-cidr, 172.30.0.0/16 by default) and the
// /24 its pods fall back to (the index-th /24 of --fallback-pod-cidr) when the node has no
// spec.podCIDR; pods take addresses from the node's podCIDR through a PodIPAllocator, as the
// host-local CNI plugin hands them out: never the network address, the gateway (.1) or the
// broadcast address, and never one address to two live pods.

/** Cidr is a parsed IPv4 CIDR. */
export interface Cidr {
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

/** parseIPv4 reads a dotted quad as an unsigned 32-bit number, or undefined. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** formatIPv4 writes an unsigned 32-bit number as a dotted quad. */
export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** parseCidr reads `a.b.c.d/n` (host bits are masked off, as net.ParseCIDR does); it throws InvalidCidrError. */
export function parseCidr(s: string): Cidr {
  const [ip, bits, extra] = s.split('/');
  const addr = ip === undefined ? undefined : parseIPv4(ip);
  const prefix = bits !== undefined && /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (addr === undefined || extra !== undefined || !(prefix >= 0 && prefix <= 32)) throw new InvalidCidrError(`invalid IPv4 CIDR ${JSON.stringify(s)}`);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix, size };
}

/** formatCidr writes a Cidr as `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** cidrContains tells whether ip (dotted quad) lies inside c. */
export function cidrContains(c: Cidr, ip: string): boolean {
  const n = parseIPv4(ip);
  return n !== undefined && n >= c.base && n < c.base + c.size;
}

/** subnetAt is the index-th block of /prefix inside c, or undefined past its end. */
export function subnetAt(c: Cidr, index: number, prefix: number): Cidr | undefined {
  if (prefix < c.prefix || prefix > 32 || index < 0) return undefined;
  const size = 2 ** (32 - prefix);
  if ((index + 1) * size > c.size) return undefined;
  return { base: c.base + index * size, prefix, size };
}

/** hostAt is the index-th usable host of c, counting from the address after the network address. */
export function hostAt(c: Cidr, index: number): string | undefined {
  // A /31 or /32 has no network or broadcast address to skip; nothing here needs those.
  if (index < 0 || index + 2 > c.size) return undefined;
  return formatIPv4(c.base + 1 + index);
}

/** hostIndexOf is the inverse of hostAt: ip's index inside c, or undefined when outside. */
export function hostIndexOf(c: Cidr, ip: string): number | undefined {
  const n = parseIPv4(ip);
  if (n === undefined || n <= c.base || n >= c.base + c.size - 1) return undefined;
  return n - c.base - 1;
}

/** firstIPv4Cidr picks the IPv4 block of a node's podCIDRs (dual-stack nodes list IPv6 too). */
export function firstIPv4Cidr(cidrs: readonly (string | undefined)[]): Cidr | undefined {
  for (const s of cidrs) {
    if (!s) continue;
    try {
      return parseCidr(s);
    } catch {
      // IPv6 or malformed: pods here only get IPv4 addresses.
    }
  }
  return undefined;
}

/**
 * PodIPAllocator hands out one node's pod addresses. It holds only addresses (no pod objects),
 * keyed by the address, so it survives a podCIDR that appears later: addresses handed out from
 * the fallback block stay taken, and new ones come from the new block.
 */
export class PodIPAllocator {
  private readonly used = new Set<string>();
  private cursor = 0;

  /** size is how many addresses are taken. */
  get size(): number {
    return this.used.size;
  }

  /** markUsed records an address a pod already has (after a restart), so it is never handed out twice. */
  markUsed(ip: string): void {
    this.used.add(ip);
  }

  /** release frees an address. */
  release(ip: string): void {
    this.used.delete(ip);
  }

  /** has tells whether ip is taken. */
  has(ip: string): boolean {
    return this.used.has(ip);
  }

  /**
   * allocate takes the next free address of block, skipping the network address, the gateway
   * (.1, the bridge's) and the broadcast address; undefined when the block is full. It scans
   * from where the last allocation stopped, so a node that churns pods does not reuse an
   * address the moment it is freed (host-local does the same).
   */
  allocate(block: Cidr): string | undefined {
    // Usable pod hosts: index 1 .. size-3 (index 0 is the gateway, the last is broadcast).
    const count = block.size - 3;
    if (count <= 0) return undefined;
    for (let i = 0; i < count; i++) {
      const index = 1 + ((this.cursor + i) % count);
      const ip = formatIPv4(block.base + 1 + index);
      if (!this.used.has(ip)) {
        this.cursor = (this.cursor + i + 1) % count;
        this.used.add(ip);
        return ip;
      }
    }
    return undefined;
  }
}

/**
 * IndexAllocator hands out small non-negative integers (node indexes), lowest free first unless
 * a particular one is asked for.
 */
export class IndexAllocator {
  private readonly taken = new Set<number>();
  private lowest = 0;

  constructor(private readonly limit: number) {}

  /** claim takes index if it is free and in range. */
  claim(index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.limit || this.taken.has(index)) return false;
    this.taken.add(index);
    return true;
  }

  /** allocate takes preferred if free, else the lowest free index; undefined when none is left. */
  allocate(preferred?: number): number | undefined {
    if (preferred !== undefined && this.claim(preferred)) return preferred;
    while (this.lowest < this.limit && this.taken.has(this.lowest)) this.lowest++;
    if (this.lowest >= this.limit) return undefined;
    this.taken.add(this.lowest);
    return this.lowest;
  }

  release(index: number): void {
    if (this.taken.delete(index) && index < this.lowest) this.lowest = index;
  }

  has(index: number): boolean {
    return this.taken.has(index);
  }
}
