// The nodelifecycle controllers: wiring. Three loops, as in kube-controller-manager:
//  - node-lifecycle: the periodic health pass (lifecycle.ts) every nodeMonitorPeriod;
//  - node-lifecycle-noschedule: TaintNodesByCondition on every Node event (noschedule.ts);
//  - taint-eviction-controller: per pod, deletion by NoExecute taints (taintmanager.ts); a pod is
//    enqueued when it lands on a node with NoExecute taints, and a node's pods when its NoExecute
//    taints change.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Lease } from '../../lib/api/coordination/lease.js';
import { Leases, Nodes, Pods } from '../../lib/client/resources.js';
import { keyOf } from '../../lib/controller/index.js';
import type { ControllerStarter } from '../context.js';
import { NodeLifecycleController } from './lifecycle.js';
import { doNoScheduleTaintingPass } from './noschedule.js';
import { PodsByNode } from './podindex.js';
import { TaintEvictionController } from './taintmanager.js';
import { noExecuteTaints } from './taints.js';

/**
 * nodeMonitorPeriodMs is kube's --node-monitor-period (5 s against a 40 s grace period); a
 * shorter grace period (tests) is checked proportionally more often.
 */
export function nodeMonitorPeriodMs(gracePeriodMs: number): number {
  return Math.min(5000, Math.max(100, Math.floor(gracePeriodMs / 8)));
}

/**
 * nodeStartupGracePeriodMs is --node-startup-grace-period for a node that never posted a Ready
 * condition: kube's 60 s default is 1.5 times the default monitor grace period.
 */
export function nodeStartupGracePeriodMs(gracePeriodMs: number): number {
  return Math.floor(gracePeriodMs * 1.5);
}

/** startNodeLifecycleController starts the nodelifecycle controller. */
export const startNodeLifecycleController: ControllerStarter = (ctx) => {
  const log = ctx.log.with({ controller: 'nodelifecycle' });
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  const leaseInformer = ctx.informers.informerFor<Lease>(Leases);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const nodes = nodeInformer.lister();
  const pods = podInformer.lister();
  const podsByNode = new PodsByNode(pods);
  podInformer.on('add', (p) => podsByNode.upsert(p));
  podInformer.on('update', (p) => podsByNode.upsert(p));
  podInformer.on('delete', (p) => podsByNode.remove(p));

  const gracePeriodMs = ctx.config.nodeMonitorGracePeriodMs;
  const period = nodeMonitorPeriodMs(gracePeriodMs);
  const lifecycle = new NodeLifecycleController({
    client: ctx.client,
    nodes,
    leases: leaseInformer.lister(),
    podsByNode,
    recorder: ctx.recorder('node-controller'),
    log,
    gracePeriodMs,
    startupGracePeriodMs: nodeStartupGracePeriodMs(gracePeriodMs),
  });
  const monitor = ctx.runController({
    name: 'node-lifecycle',
    informers: [nodeInformer, leaseInformer, podInformer],
    workers: 1,
    setup: (c) => c.enqueueKey('monitor'),
    reconcile: async () => {
      await lifecycle.monitorNodeHealth();
      return { requeueAfter: period };
    },
  });

  const noSchedule = ctx.runController({
    name: 'node-lifecycle-noschedule',
    informers: [nodeInformer],
    setup: (c) => {
      nodeInformer.on('add', (n) => c.enqueue(n));
      nodeInformer.on('update', (n) => c.enqueue(n));
    },
    reconcile: async (key) => {
      const node = nodes.get(key);
      if (node) await doNoScheduleTaintingPass(ctx.client, node);
    },
  });

  const taintManager = new TaintEvictionController({ client: ctx.client, pods, nodes, recorder: ctx.recorder('taint-eviction-controller'), log: ctx.log.with({ controller: 'taint-eviction-controller' }) });
  const eviction = ctx.runController({
    name: 'taint-eviction-controller',
    informers: [podInformer, nodeInformer],
    setup: (c) => {
      const onPod = (pod: Pod) => {
        const nodeName = pod.spec?.nodeName;
        if (!nodeName) return;
        if (noExecuteTaints(nodes.get(nodeName)).length || taintManager.scheduled.has(keyOf(pod))) c.enqueue(pod);
      };
      podInformer.on('add', onPod);
      podInformer.on('update', onPod);
      podInformer.on('delete', (pod) => taintManager.forget(keyOf(pod)));
      // A node's pods are looked at when its NoExecute taints change (the taint manager's NodeUpdated).
      const taintsOf = (node: Node | undefined) => JSON.stringify(noExecuteTaints(node).map((t) => [t.key, t.value ?? '', t.timeAdded ?? '']));
      const enqueuePodsOf = (node: Node) => {
        for (const k of podsByNode.keys(node.metadata.name ?? '')) c.enqueueKey(k);
      };
      nodeInformer.addEventHandler({
        onAdd: (n) => {
          if (noExecuteTaints(n).length) enqueuePodsOf(n);
        },
        onUpdate: (old, n) => {
          if (taintsOf(old) !== taintsOf(n)) enqueuePodsOf(n);
        },
        onDelete: enqueuePodsOf,
      });
    },
    reconcile: (key) => taintManager.syncPod(key),
  });
  return [monitor, noSchedule, eviction];
};
