// The range allocator (kube's nodeipam ipam.rangeAllocator): each Node without spec.podCIDR gets
// the next free subnet of the cluster CIDR in spec.podCIDR and spec.podCIDRs. Before the first
// allocation every Node's existing podCIDR is marked used, so a restarted controller never hands
// out a subnet twice; a deleted Node's subnet is released.

import type { Node } from '../../lib/api/core/node.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { Nodes } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { CidrSet, CidrSetError } from '../../lib/net/allocate.js';

/** nodePodCIDRs is spec.podCIDRs, or the single spec.podCIDR of older writers. */
export function nodePodCIDRs(node: Node): string[] {
  if (node.spec?.podCIDRs?.length) return node.spec.podCIDRs;
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

/** RangeAllocator hands out node subnets and remembers which node holds which. */
export class RangeAllocator {
  /** byNode is the subnet each node holds (or was given and is being written). */
  private readonly byNode = new Map<string, string>();
  /**
   * written are the nodes (name → uid) whose podCIDR this allocator has set. Until the cache
   * shows it, an event for an older version of the node (a heartbeat) must not write it again;
   * podCIDRs is immutable once set, so the write cannot have been undone.
   */
  private readonly written = new Map<string, string>();
  private initialized = false;

  constructor(
    private readonly cidrs: CidrSet,
    private readonly client: Client,
    private readonly nodes: Lister<Node>,
    private readonly recorder: Recorder,
    private readonly log?: Logger,
    /** onRelease is told when a subnet frees up, so nodes that found none can try again. */
    private readonly onRelease?: () => void,
  ) {}

  /** allocatedTo returns the subnet a node holds, if any (test-only helper). */
  allocatedTo(nodeName: string): string | undefined {
    return this.byNode.get(nodeName);
  }

  /** initialize marks every cached Node's podCIDR as used, once, before anything is allocated. */
  private initialize(): void {
    if (this.initialized) return;
    this.initialized = true;
    for (const node of this.nodes.list()) this.occupy(node);
  }

  private occupy(node: Node): void {
    const name = node.metadata.name ?? '';
    const cidr = nodePodCIDRs(node)[0];
    if (!cidr || this.byNode.get(name) === cidr) return;
    try {
      this.cidrs.occupy(cidr);
    } catch (err) {
      // A podCIDR outside the cluster CIDR was set by someone else; it takes nothing from us.
      this.log?.warn('Node has a podCIDR outside the cluster CIDR; ignoring it', { node: name, podCIDR: cidr, err: err instanceof Error ? err.message : String(err) });
      return;
    }
    const old = this.byNode.get(name);
    if (old) this.release(name, old);
    this.byNode.set(name, cidr);
  }

  private release(name: string, cidr: string): void {
    try {
      this.cidrs.release(cidr);
    } catch {
      // Outside the range: it was never ours.
    }
    this.byNode.delete(name);
    this.log?.v(2).info('Released podCIDR', { node: name, podCIDR: cidr });
    this.onRelease?.();
  }

  /** syncNode is AllocateOrOccupyCIDR for the node named key, or ReleaseCIDR when it is gone. */
  async syncNode(key: string): Promise<void> {
    this.initialize();
    const node = this.nodes.get(key);
    if (!node) {
      this.written.delete(key);
      const cidr = this.byNode.get(key);
      if (cidr) this.release(key, cidr);
      return;
    }
    if (nodePodCIDRs(node).length) {
      this.written.delete(key);
      this.occupy(node);
      return;
    }
    if (node.metadata.deletionTimestamp) return;
    if (this.written.get(key) === node.metadata.uid) return;
    let cidr = this.byNode.get(key);
    if (!cidr) {
      try {
        cidr = this.cidrs.allocateNext();
      } catch (err) {
        if (!(err instanceof CidrSetError)) throw err;
        recordNodeStatusChange(this.recorder, node, 'CIDRNotAvailable');
        throw new Error(`failed to allocate cidr from cluster cidr ${this.cidrs.clusterCIDR}: ${err.message}`, { cause: err });
      }
      this.byNode.set(key, cidr);
    }
    try {
      await this.client.patch(Nodes, '', key, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      if (node.metadata.uid) this.written.set(key, node.metadata.uid);
      this.log?.info('Set node PodCIDR', { node: key, podCIDRs: [cidr] });
    } catch (err) {
      if (isNotFound(err)) {
        this.release(key, cidr);
        return;
      }
      // The subnet stays reserved for this node; the retry writes the same one.
      recordNodeStatusChange(this.recorder, node, 'CIDRAssignmentFailed');
      throw err;
    }
  }
}

/** recordNodeStatusChange is controllerutil.RecordNodeStatusChange: a Normal event "Node <name> status is now: <status>". */
export function recordNodeStatusChange(recorder: Recorder, node: Node, status: string): void {
  recorder.event(
    { apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata.name, uid: node.metadata.uid } },
    'Normal',
    status,
    `Node ${node.metadata.name} status is now: ${status}`,
  );
}
