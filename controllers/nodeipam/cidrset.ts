// CidrSet cuts a cluster CIDR into equal node subnets and hands them out (kube's
// pkg/controller/nodeipam/ipam/cidrset): a bitmap of used subnets, allocated round robin from
// the one after the last handed out, as Kubernetes does, so a freed subnet is not reused at once.
// IPv4 only: skiff's lab clusters are single-stack.

/** ErrCIDRRangeNoCIDRsRemaining is kube's message when every subnet is taken. */
export const ErrCIDRRangeNoCIDRsRemaining = 'CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range';

/** maxPrefixLength is the largest node-mask minus cluster-mask kube allows (2^16 subnets). */
const maxPrefixLength = 16;

/** CidrSetError is a CIDR that cannot be parsed, placed, or allocated. */
export class CidrSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrSetError';
  }
}

/** parseIPv4CIDR parses `a.b.c.d/n` into its (masked) base address and prefix length. */
export function parseIPv4CIDR(cidr: string): { base: number; bits: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new CidrSetError(`invalid CIDR address: ${cidr}`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) throw new CidrSetError(`invalid CIDR address: ${cidr}`);
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  return { base: (ip & maskOf(bits)) >>> 0, bits };
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function formatIPv4(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

/** CidrSet is one cluster CIDR's node subnets. */
export class CidrSet {
  readonly clusterCIDR: string;
  private readonly base: number;
  private readonly clusterBits: number;
  readonly nodeMaskSize: number;
  private readonly used: Uint8Array;
  private allocatedCount = 0;
  private nextCandidate = 0;

  constructor(clusterCIDR: string, nodeMaskSize = 24) {
    const { base, bits } = parseIPv4CIDR(clusterCIDR);
    if (bits > nodeMaskSize) throw new CidrSetError(`node CIDR mask size /${nodeMaskSize} is larger than the cluster CIDR ${clusterCIDR}`);
    if (nodeMaskSize - bits > maxPrefixLength) throw new CidrSetError(`cluster CIDR ${clusterCIDR} holds more than 2^${maxPrefixLength} /${nodeMaskSize} subnets`);
    this.clusterCIDR = `${formatIPv4(base)}/${bits}`;
    this.base = base;
    this.clusterBits = bits;
    this.nodeMaskSize = nodeMaskSize;
    this.used = new Uint8Array(2 ** (nodeMaskSize - bits));
  }

  /** size is how many subnets the set holds. */
  get size(): number {
    return this.used.length;
  }

  /** allocated is how many are in use. */
  get allocated(): number {
    return this.allocatedCount;
  }

  private cidrAt(i: number): string {
    return `${formatIPv4((this.base + i * 2 ** (32 - this.nodeMaskSize)) >>> 0)}/${this.nodeMaskSize}`;
  }

  /** allocateNext hands out the next free subnet after the last one allocated; it throws when none is left. */
  allocateNext(): string {
    const n = this.used.length;
    for (let k = 0; k < n; k++) {
      const i = (this.nextCandidate + k) % n;
      if (this.used[i]) continue;
      this.used[i] = 1;
      this.allocatedCount++;
      this.nextCandidate = (i + 1) % n;
      return this.cidrAt(i);
    }
    throw new CidrSetError(ErrCIDRRangeNoCIDRsRemaining);
  }

  /** indexRange is the subnets cidr overlaps; it throws when cidr lies outside the cluster CIDR. */
  private indexRange(cidr: string): [number, number] {
    const { base, bits } = parseIPv4CIDR(cidr);
    if (bits < this.clusterBits || ((base & maskOf(this.clusterBits)) >>> 0) !== this.base) {
      throw new CidrSetError(`cidr ${cidr} is out the range of cluster cidr ${this.clusterCIDR}`);
    }
    const step = 2 ** (32 - this.nodeMaskSize);
    const first = Math.floor((base - this.base) / step);
    const count = bits >= this.nodeMaskSize ? 1 : 2 ** (this.nodeMaskSize - bits);
    return [first, first + count - 1];
  }

  /** occupy marks cidr (an existing node's podCIDR) as used. */
  occupy(cidr: string): void {
    const [a, b] = this.indexRange(cidr);
    for (let i = a; i <= b; i++) {
      if (!this.used[i]) this.allocatedCount++;
      this.used[i] = 1;
    }
  }

  /** release frees cidr. */
  release(cidr: string): void {
    const [a, b] = this.indexRange(cidr);
    for (let i = a; i <= b; i++) {
      if (this.used[i]) this.allocatedCount--;
      this.used[i] = 0;
    }
  }
}
