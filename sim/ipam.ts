// Node indexes for simulated nodes: each node gets an index, which names its InternalIP (the
// index-th host of --node-ip-cidr, 172.30.0.0/16 by default) and the /24 its pods fall back to
// (the index-th /24 of --fallback-pod-cidr) when the node has no spec.podCIDR. The address
// arithmetic and the pod address allocator live in lib/net.

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
