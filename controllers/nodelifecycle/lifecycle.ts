// The node lifecycle controller's periodic pass (kube's pkg/controller/nodelifecycle
// monitorNodeHealth, handleDisruption and doNoExecuteTaintingPass):
//  - every node's health is judged (health.ts); a silent node's kubelet conditions become Unknown;
//  - a node whose Ready condition is Unknown gets node.kubernetes.io/unreachable:NoExecute, one
//    whose Ready is False node.kubernetes.io/not-ready:NoExecute (the two swap instantly), and a
//    Ready node loses both; new NoExecute taints go out per zone through a rate limiter
//    (0.1 node/s, kube's --node-eviction-rate);
//  - zones are watched for disruption: when every node of every zone is not Ready the controller
//    assumes the control plane, not the nodes, is cut off ("master disruption mode"), removes the
//    NoExecute taints and stops tainting; a zone mostly down (≥55% and more than 2 nodes) taints
//    slowly (0.01/s) if it is large (>50 nodes) and not at all otherwise;
//  - when a node stops being Ready, its pods are marked Ready=False (MarkPodsNotReady).

import { type Node, NodeConditionType } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Lease } from '../../lib/api/coordination/lease.js';
import { type Condition, nowRFC3339 } from '../../lib/api/meta.js';
import { type Client, isConflict, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { Nodes, Pods } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import type { Clock } from '../../lib/clock.js';
import { TokenBucket } from '../../lib/flowcontrol/tokenbucket.js';
import { type NodeHealthData, markStatusWritten, tryUpdateNodeHealth } from './health.js';
import type { PodsByNode } from './podindex.js';
import { NodeLeaseNamespace } from '../../lib/node/lease.js';
import { taintExists } from '../../lib/node/taints.js';
import { NotReadyTaintTemplate, UnreachableTaintTemplate, swapNodeControllerTaint } from './taints.js';

/** LabelNodeExcludeDisruption keeps a node out of the zone disruption counts. */
export const LabelNodeExcludeDisruption = 'node.kubernetes.io/exclude-disruption';
export const LabelTopologyZone = 'topology.kubernetes.io/zone';
export const LabelTopologyRegion = 'topology.kubernetes.io/region';

export const ZoneState = { Initial: 'Initial', Normal: 'Normal', FullDisruption: 'FullDisruption', PartialDisruption: 'PartialDisruption' } as const;
export type ZoneState = (typeof ZoneState)[keyof typeof ZoneState];

/** nodeUpdateWorkerSize bounds how many nodes one pass handles at once (kube's 8). */
const nodeUpdateWorkerSize = 8;
/** statusUpdateRetries is kube's nodeStatusUpdateRetry. */
const statusUpdateRetries = 5;

/** getZoneKey is nodetopology.GetZoneKey: region and zone, "" for a node with neither. */
export function getZoneKey(node: Node): string {
  const labels = node.metadata.labels ?? {};
  const region = labels[LabelTopologyRegion] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = labels[LabelTopologyZone] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

/** ZoneTainter is one zone's queue of nodes waiting for a NoExecute taint, and its limiter (RateLimitedTimedQueue). */
export class ZoneTainter {
  readonly queue = new Set<string>();
  limiter: TokenBucket;
  constructor(
    qps: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    // Burst 1, as flowcontrol.NewTokenBucketRateLimiter(qps, 1) in RateLimitedTimedQueue.
    this.limiter = new TokenBucket(qps, 1, clock);
  }
  /** swapLimiter is SwapLimiter: a new rate, starting empty if the old bucket was. */
  swapLimiter(qps: number): void {
    if (qps === this.limiter.qps) return;
    const full = this.limiter.tryAccept();
    this.limiter = new TokenBucket(qps, 1, this.clock, { tokens: full ? 1 : 0 });
  }
}

/** NodeLifecycleOptions configure a NodeLifecycleController. */
export interface NodeLifecycleOptions {
  client: Client;
  nodes: Lister<Node>;
  leases: Lister<Lease>;
  podsByNode: PodsByNode;
  recorder: Recorder;
  log?: Logger;
  /** gracePeriodMs is --node-monitor-grace-period. */
  gracePeriodMs: number;
  /** startupGracePeriodMs is --node-startup-grace-period: for nodes that never posted a Ready condition. */
  startupGracePeriodMs: number;
  evictionLimiterQPS?: number;
  secondaryEvictionLimiterQPS?: number;
  largeClusterThreshold?: number;
  unhealthyZoneThreshold?: number;
  now?: () => number;
}

/** recordNodeEvent is a Normal event on a node (RecordNodeEvent / RecordNodeStatusChange). */
function recordNodeEvent(recorder: Recorder, node: Node, reason: string, message: string): void {
  recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata.name, uid: node.metadata.uid } }, 'Normal', reason, message);
}

/** NodeLifecycleController is the state the periodic pass keeps between runs. */
export class NodeLifecycleController {
  readonly health = new Map<string, NodeHealthData>();
  readonly zoneStates = new Map<string, ZoneState>();
  readonly tainters = new Map<string, ZoneTainter>();
  private readonly known = new Map<string, Node>();
  private readonly nodesToRetry = new Set<string>();
  private readonly now: () => number;
  private readonly qps: number;
  private readonly secondaryQPS: number;
  private readonly largeClusterThreshold: number;
  private readonly unhealthyZoneThreshold: number;

  private readonly clock = (): Date => new Date(this.now());

  constructor(private readonly opts: NodeLifecycleOptions) {
    this.now = opts.now ?? Date.now;
    this.qps = opts.evictionLimiterQPS ?? 0.1;
    this.secondaryQPS = opts.secondaryEvictionLimiterQPS ?? 0.01;
    this.largeClusterThreshold = opts.largeClusterThreshold ?? 50;
    this.unhealthyZoneThreshold = opts.unhealthyZoneThreshold ?? 0.55;
  }

  private tainterFor(zone: string): ZoneTainter {
    let t = this.tainters.get(zone);
    if (!t) {
      // addPodEvictorForNewZone
      this.tainters.set(zone, (t = new ZoneTainter(this.qps, { now: this.now })));
      this.zoneStates.set(zone, ZoneState.Initial);
    }
    return t;
  }

  /** monitorNodeHealth is one pass over every node. */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.opts.nodes.list();
    const names = new Set(nodes.map((n) => n.metadata.name ?? ''));
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      if (this.known.has(name)) continue;
      this.opts.log?.v(1).info('Controller observed a new Node', { node: name });
      recordNodeEvent(this.opts.recorder, node, 'RegisteredNode', `Registered Node ${name} in Controller`);
      this.known.set(name, node);
      this.tainterFor(getZoneKey(node));
    }
    for (const [name, node] of this.known) {
      if (names.has(name)) continue;
      this.opts.log?.v(1).info('Controller observed a Node deletion', { node: name });
      recordNodeEvent(this.opts.recorder, node, 'RemovingNode', `Removing Node ${name} from Controller`);
      this.known.delete(name);
      this.health.delete(name);
      this.nodesToRetry.delete(name);
      for (const t of this.tainters.values()) t.queue.delete(name);
    }

    const zoneToConditions = new Map<string, Array<Condition | undefined>>();
    let next = 0;
    const worker = async () => {
      while (next < nodes.length) {
        const node = nodes[next++]!;
        try {
          await this.processNode(node, zoneToConditions);
        } catch (err) {
          this.opts.log?.warn('Failed to process node health', { node: node.metadata.name, err: err instanceof Error ? err.message : String(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(nodeUpdateWorkerSize, nodes.length) }, worker));
    await this.handleDisruption(zoneToConditions, nodes);
    await this.doNoExecuteTaintingPass();
  }

  private async processNode(node: Node, zoneToConditions: Map<string, Array<Condition | undefined>>): Promise<void> {
    const name = node.metadata.name ?? '';
    let result;
    try {
      result = await this.updateNodeHealth(node);
    } catch (err) {
      this.opts.log?.warn('Update health of Node from Controller error, Skipping - no pods will be evicted', { node: name, err: err instanceof Error ? err.message : String(err) });
      return;
    }
    const { observedReady, currentReady } = result;
    if (!node.metadata.labels || !(LabelNodeExcludeDisruption in node.metadata.labels)) {
      const zone = getZoneKey(node);
      this.tainterFor(zone);
      const list = zoneToConditions.get(zone) ?? [];
      list.push(currentReady);
      zoneToConditions.set(zone, list);
    }
    if (currentReady) {
      await this.processTaintBaseEviction(node, observedReady);
      const needsRetry = this.nodesToRetry.has(name);
      const wentDown = currentReady.status !== 'True' && observedReady.status === 'True';
      if (wentDown) recordNodeEvent(this.opts.recorder, node, 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      if (wentDown || (needsRetry && observedReady.status !== 'True')) {
        try {
          await this.markPodsNotReady(name);
        } catch (err) {
          this.opts.log?.warn('Unable to mark all pods NotReady on node; queuing for retry', { node: name, err: err instanceof Error ? err.message : String(err) });
          this.nodesToRetry.add(name);
          return;
        }
      }
    }
    this.nodesToRetry.delete(name);
  }

  /** updateNodeHealth runs tryUpdateNodeHealth and writes Unknown conditions, re-reading the node on conflicts. */
  private async updateNodeHealth(node: Node): Promise<ReturnType<typeof tryUpdateNodeHealth>> {
    let cur = node;
    for (let attempt = 0; ; attempt++) {
      const lease = this.opts.leases.get(`${NodeLeaseNamespace}/${cur.metadata.name}`);
      const now = this.now();
      const r = tryUpdateNodeHealth(this.health, cur, lease, now, this.opts.gracePeriodMs, this.opts.startupGracePeriodMs);
      if (!r.statusUpdate) return r;
      try {
        await this.opts.client.update(Nodes, r.statusUpdate, { subresource: 'status' });
        markStatusWritten(this.health, r.statusUpdate, now);
        this.opts.log?.info('Node became not ready: kubelet stopped posting node status', { node: cur.metadata.name, gracePeriodMs: r.gracePeriodMs });
        return r;
      } catch (err) {
        if (!isConflict(err) || attempt + 1 >= statusUpdateRetries) throw err;
        cur = await this.opts.client.get<Node>(Nodes, '', cur.metadata.name!);
      }
    }
  }

  /** processTaintBaseEviction decides a node's NoExecute taint from its observed Ready condition. */
  private async processTaintBaseEviction(node: Node, observedReady: Condition): Promise<void> {
    const zone = this.tainterFor(getZoneKey(node));
    const name = node.metadata.name ?? '';
    const taints = node.spec?.taints;
    switch (observedReady.status) {
      case 'False':
        if (taintExists(taints, UnreachableTaintTemplate)) {
          if (!(await swapNodeControllerTaint(this.opts.client, node, [NotReadyTaintTemplate], [UnreachableTaintTemplate], this.clock))) {
            this.opts.log?.warn('Failed to instantly swap UnreachableTaint to NotReadyTaint. Will try again in the next cycle.', { node: name });
          }
        } else if (!taintExists(taints, NotReadyTaintTemplate)) {
          zone.queue.add(name);
        }
        break;
      case 'Unknown':
        if (taintExists(taints, NotReadyTaintTemplate)) {
          if (!(await swapNodeControllerTaint(this.opts.client, node, [UnreachableTaintTemplate], [NotReadyTaintTemplate], this.clock))) {
            this.opts.log?.warn('Failed to instantly swap NotReadyTaint to UnreachableTaint. Will try again in the next cycle.', { node: name });
          }
        } else if (!taintExists(taints, UnreachableTaintTemplate)) {
          zone.queue.add(name);
        }
        break;
      case 'True':
        if (await this.markNodeAsReachable(node)) this.opts.log?.v(2).info('Node is healthy again, removing all taints', { node: name });
        break;
    }
  }

  /** markNodeAsReachable removes both NoExecute taints and drops the node from the taint queue; it says whether it removed any. */
  private async markNodeAsReachable(node: Node): Promise<boolean> {
    for (const t of this.tainters.values()) t.queue.delete(node.metadata.name ?? '');
    const taints = node.spec?.taints;
    if (!taintExists(taints, UnreachableTaintTemplate) && !taintExists(taints, NotReadyTaintTemplate)) return false;
    return swapNodeControllerTaint(this.opts.client, node, [], [UnreachableTaintTemplate, NotReadyTaintTemplate], this.clock);
  }

  /**
   * markPodsNotReady is MarkPodsNotReady: the Ready condition of every pod on the node turns
   * False (its kubelet can no longer say), with a NodeNotReady event on each pod.
   */
  async markPodsNotReady(nodeName: string): Promise<void> {
    const errs: string[] = [];
    for (const cached of this.opts.podsByNode.podsOn(nodeName)) {
      const i = cached.status?.conditions?.findIndex((c) => c.type === 'Ready') ?? -1;
      if (i < 0 || cached.status!.conditions![i]!.status === 'False') continue;
      const pod: Pod = structuredClone(cached);
      const cond = pod.status!.conditions![i]!;
      cond.status = 'False';
      cond.lastTransitionTime = nowRFC3339(new Date(this.now()));
      this.opts.log?.v(2).info('Updating ready status of pod to false', { pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
      try {
        await this.opts.client.update(Pods, pod, { subresource: 'status' });
      } catch (err) {
        if (isNotFound(err)) continue;
        errs.push(`${pod.metadata.namespace}/${pod.metadata.name}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      this.opts.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: cached.metadata }, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
    if (errs.length) throw new Error(`failed to mark pods NotReady: ${errs.join('; ')}`);
  }

  /** computeZoneState is ComputeZoneState: how many nodes are not Ready, and what that makes the zone. */
  computeZoneState(conditions: ReadonlyArray<Condition | undefined>): { notReady: number; state: ZoneState } {
    let ready = 0;
    let notReady = 0;
    for (const c of conditions) {
      if (c?.status === 'True') ready++;
      else notReady++;
    }
    if (ready === 0 && notReady > 0) return { notReady, state: ZoneState.FullDisruption };
    if (notReady > 2 && notReady / (notReady + ready) >= this.unhealthyZoneThreshold) return { notReady, state: ZoneState.PartialDisruption };
    return { notReady, state: ZoneState.Normal };
  }

  /** setLimiterInZone sets a zone's tainting rate for its state. */
  private setLimiterInZone(zone: string, zoneSize: number, state: ZoneState): void {
    const t = this.tainterFor(zone);
    const now = this.now();
    if (state === ZoneState.PartialDisruption) t.swapLimiter(zoneSize > this.largeClusterThreshold ? this.secondaryQPS : 0);
    else t.swapLimiter(this.qps);
  }

  /** handleDisruption is handleDisruption: zone states, rate limits, and master disruption mode. */
  private async handleDisruption(zoneToConditions: Map<string, Array<Condition | undefined>>, nodes: readonly Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneToConditions) {
      const { state } = this.computeZoneState(conds);
      if (state !== ZoneState.FullDisruption) allAreFullyDisrupted = false;
      newStates.set(zone, state);
      this.tainterFor(zone);
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneToConditions.has(zone)) {
        this.zoneStates.delete(zone);
        this.tainters.delete(zone);
        continue;
      }
      if (state !== ZoneState.FullDisruption) allWasFullyDisrupted = false;
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.opts.log?.info('Controller detected that all Nodes are not-Ready. Entering master disruption mode');
      for (const node of nodes) {
        try {
          await this.markNodeAsReachable(node);
        } catch (err) {
          this.opts.log?.warn('Failed to remove taints from Node', { node: node.metadata.name, err: err instanceof Error ? err.message : String(err) });
        }
      }
      const now = this.now();
      for (const zone of this.zoneStates.keys()) {
        this.tainterFor(zone).swapLimiter(0);
        this.zoneStates.set(zone, ZoneState.FullDisruption);
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.opts.log?.info('Controller detected that some Nodes are Ready. Exiting master disruption mode');
      // Every node gets a fresh grace period: they were all cut off together.
      const now = this.now();
      for (const node of nodes) {
        const h = this.health.get(node.metadata.name ?? '');
        if (h) this.health.set(node.metadata.name ?? '', { ...h, probeTimestamp: now, readyTransitionTimestamp: now });
      }
      for (const zone of [...this.zoneStates.keys()]) {
        const state = newStates.get(zone) ?? ZoneState.Normal;
        this.setLimiterInZone(zone, zoneToConditions.get(zone)?.length ?? 0, state);
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of [...this.zoneStates]) {
      const newState = newStates.get(zone) ?? ZoneState.Normal;
      if (state === newState) continue;
      this.opts.log?.info('Controller detected that zone is now in new state', { zone, newState });
      this.setLimiterInZone(zone, zoneToConditions.get(zone)?.length ?? 0, newState);
      this.zoneStates.set(zone, newState);
    }
  }

  /** doNoExecuteTaintingPass taints the queued nodes each zone's limiter lets through. */
  async doNoExecuteTaintingPass(): Promise<void> {
    for (const t of this.tainters.values()) {
      for (const name of [...t.queue]) {
        if (!t.limiter.tryAccept()) break;
        t.queue.delete(name);
        const node = this.opts.nodes.get(name);
        const ready = node?.status?.conditions?.find((c) => c.type === NodeConditionType.Ready);
        if (!node || !ready) continue;
        // "unreachable" and "not ready" mirror Ready's status, so they exclude each other.
        let add;
        let opposite;
        if (ready.status === 'False') [add, opposite] = [NotReadyTaintTemplate, UnreachableTaintTemplate];
        else if (ready.status === 'Unknown') [add, opposite] = [UnreachableTaintTemplate, NotReadyTaintTemplate];
        else continue;
        let ok = false;
        try {
          ok = await swapNodeControllerTaint(this.opts.client, node, [add], [opposite], this.clock);
        } catch (err) {
          this.opts.log?.warn('Failed to taint node', { node: name, err: err instanceof Error ? err.message : String(err) });
        }
        if (ok) this.opts.log?.info('Tainted node', { node: name, taint: `${add.key}:${add.effect}` });
        else t.queue.add(name);
      }
    }
  }
}
