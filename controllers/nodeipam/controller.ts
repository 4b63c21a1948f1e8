// The nodeipam controller (kube's range allocator): wiring. Every Node event enqueues the Node;
// a released subnet enqueues the Nodes still waiting for one. Logic is in sync.ts and
// lib/net/allocate.ts (CidrSet).

import type { Node } from '../../lib/api/core/node.js';
import { Nodes } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { CidrSet } from '../../lib/net/allocate.js';
import { RangeAllocator, nodePodCIDRs } from './sync.js';

/** nodeCIDRMaskSize is kube-controller-manager's --node-cidr-mask-size default for IPv4. */
const nodeCIDRMaskSize = 24;

/** startNodeIpamController starts the nodeipam controller. */
export const startNodeIpamController: ControllerStarter = (ctx) => {
  const log = ctx.log.with({ controller: 'nodeipam' });
  let cidrs: CidrSet;
  try {
    cidrs = new CidrSet(ctx.config.clusterCIDR, nodeCIDRMaskSize);
  } catch (err) {
    // A bad --cluster-cidr is a configuration error: say so and run without IPAM.
    log.error('Not starting the node IPAM controller: invalid --cluster-cidr', { clusterCIDR: ctx.config.clusterCIDR, err: err instanceof Error ? err.message : String(err) });
    return [];
  }
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  const nodes = nodeInformer.lister();
  let enqueueWaiting = (): void => undefined;
  const allocator = new RangeAllocator(cidrs, ctx.client, nodes, ctx.recorder('cidrAllocator'), log, () => enqueueWaiting());
  const controller = ctx.runController({
    name: 'nodeipam',
    informers: [nodeInformer],
    // Allocation itself is synchronous; only the PATCHes overlap.
    setup: (c) => {
      nodeInformer.on('change', (node) => c.enqueue(node));
      enqueueWaiting = () => {
        for (const n of nodes.list()) if (!nodePodCIDRs(n).length) c.enqueue(n);
      };
    },
    reconcile: (key) => allocator.syncNode(key),
  });
  return [controller];
};
