// Address allocators over lib/net/ip's IPv4 arithmetic: CidrSet cuts a cluster CIDR into equal
// node subnets (the node IPAM controller's podCIDRs), PodIPAllocator hands out one node's pod
// addresses as the host-local CNI plugin does. IPv4 only: skiff's lab clusters are single-stack.

import { type IPv4Cidr, InvalidCidrError, formatIPv4Cidr, parseIPv4Cidr, subnetAt, uint32ToIPv4 } from './ip.js';

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

function parseOrThrow(cidr: string): IPv4Cidr {
  try {
    return parseIPv4Cidr(cidr);
  } catch (err) {
    if (err instanceof InvalidCidrError) throw new CidrSetError(`invalid CIDR address: ${cidr}`);
    throw err;
  }
}

/**
 * CidrSet is one cluster CIDR's node subnets (kube's pkg/controller/nodeipam/ipam/cidrset): a
 * bitmap of used subnets, allocated round robin from the one after the last handed out, as
 * Kubernetes does, so a freed subnet is not reused at once.
 */
export class CidrSet {
  readonly clusterCIDR: string;
  private readonly cluster: IPv4Cidr;
  readonly nodeMaskSize: number;
  private readonly used: Uint8Array;
  private allocatedCount = 0;
  private nextCandidate = 0;

  constructor(clusterCIDR: string, nodeMaskSize = 24) {
    const cluster = parseOrThrow(clusterCIDR);
    if (cluster.prefix > nodeMaskSize) throw new CidrSetError(`node CIDR mask size /${nodeMaskSize} is larger than the cluster CIDR ${clusterCIDR}`);
    if (nodeMaskSize - cluster.prefix > maxPrefixLength) throw new CidrSetError(`cluster CIDR ${clusterCIDR} holds more than 2^${maxPrefixLength} /${nodeMaskSize} subnets`);
    this.cluster = cluster;
    this.clusterCIDR = formatIPv4Cidr(cluster);
    this.nodeMaskSize = nodeMaskSize;
    this.used = new Uint8Array(2 ** (nodeMaskSize - cluster.prefix));
  }

  /** size is how many subnets the set holds. */
  get size(): number {
    return this.used.length;
  }

  /** allocated is how many are in use. */
  get allocated(): number {
    return this.allocatedCount;
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
      return formatIPv4Cidr(subnetAt(this.cluster, i, this.nodeMaskSize)!);
    }
    throw new CidrSetError(ErrCIDRRangeNoCIDRsRemaining);
  }

  /** indexRange is the subnets cidr overlaps; it throws when cidr lies outside the cluster CIDR. */
  private indexRange(cidr: string): [number, number] {
    const c = parseOrThrow(cidr);
    if (c.prefix < this.cluster.prefix || c.base < this.cluster.base || c.base >= this.cluster.base + this.cluster.size) {
      throw new CidrSetError(`cidr ${cidr} is out the range of cluster cidr ${this.clusterCIDR}`);
    }
    const step = 2 ** (32 - this.nodeMaskSize);
    const first = Math.floor((c.base - this.cluster.base) / step);
    const count = c.prefix >= this.nodeMaskSize ? 1 : 2 ** (this.nodeMaskSize - c.prefix);
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

/**
 * PodIPAllocator hands out one node's pod addresses. It holds only addresses (no pod objects),
 * keyed by the address, so it survives a podCIDR that appears later: addresses handed out from
 * a fallback block stay taken, and new ones come from the new block.
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
  allocate(block: IPv4Cidr): string | undefined {
    // Usable pod hosts: index 1 .. size-3 (index 0 is the gateway, the last is broadcast).
    const count = block.size - 3;
    if (count <= 0) return undefined;
    for (let i = 0; i < count; i++) {
      const index = 1 + ((this.cursor + i) % count);
      const ip = uint32ToIPv4(block.base + 1 + index);
      if (!this.used.has(ip)) {
        this.cursor = (this.cursor + i + 1) % count;
        this.used.add(ip);
        return ip;
      }
    }
    return undefined;
  }
}
