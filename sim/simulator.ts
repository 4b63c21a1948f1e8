// Simulator plays the kubelet for every Node annotated skiff.dev/simulated=true: it registers
// the Nodes it was asked for, keeps each one's Lease and status fresh, and reports every pod
// bound to one of them as a kubelet would after running it (or failing it, see pod.ts), without
// running anything. It deletes pods whose grace period is over, as the kubelet finishes a
// graceful deletion.
//
// Scale shapes it: it reads Nodes and pods from informer caches, keeps a few numbers per Node
// and pod (never pod objects), does O(1) work per event, drives every timed action from one
// TimerWheel, and sends every write through one PacedWriter. Event handlers never write: they
// compare what the API holds with what a kubelet would report and queue a write keyed by the
// object, and the write reads the cache again when its turn comes.

import type { ObjectCache } from '../lib/controller/listwatch.js';
import { type Node } from '../lib/api/core/node.js';
import { type Pod, PodPhase, isPodTerminal } from '../lib/api/core/pod.js';
import { ApiError, type Client, isAlreadyExists, isConflict, isNotFound } from '../lib/client/client.js';
import { Leases, Nodes, Pods } from '../lib/client/resources.js';
import type { Logger } from '../lib/log.js';
import type { Lease } from '../lib/api/coordination/lease.js';
import type { Clock } from '../lib/clock.js';
import type { SimConfig } from './config.js';
import { PodIPAllocator } from '../lib/net/allocate.js';
import { type IPv4Cidr, firstIPv4Cidr, formatIPv4Cidr, hostAt, hostIndexOf, subnetAt } from '../lib/net/ip.js';
import { IndexAllocator } from './ipam.js';
import { NodeLeaseNamespace, leaseRenewal, nodeLease } from '../lib/node/lease.js';
import { nodeStatusDiff } from '../lib/node/status.js';
import { capacityFor, desiredNodeStatus, isSimulated, newSimNode, nodeOrdinal } from './node.js';
import { trimObject } from './trim.js';
import { PacedWriter, WritePriority } from './pacer.js';
import { isStarted, statusEqual } from '../lib/pod/status.js';
import { computePodStatus, simModeOf } from './pod.js';
import { nextAfterWrite, nextPhaseTime, stretchPeriod } from './spread.js';
import { TimerWheel } from './wheel.js';
import { MetricsURLAnnotation } from '../lib/resourcemetrics/text.js';

/** WriteKind labels skiff_sim_writes_total. */
export type WriteKind = 'node-create' | 'node-status' | 'node-annotation' | 'lease' | 'pod-status' | 'pod-delete';

/** SimulatorDeps are what a Simulator works with. */
export interface SimulatorDeps {
  client: Client;
  /** nodes and pods are informer caches (pods: those bound to any node). */
  nodes: ObjectCache<Node>;
  pods: ObjectCache<Pod>;
  /** clock's now() must be wall time (epoch milliseconds). */
  clock: Clock;
  config: SimConfig;
  log: Logger;
  /** metricsURL is where this simulator serves its Nodes' resource metrics (skiff.dev/metrics-url), if it does. */
  metricsURL?: string;
  /** onWrite counts each write that reached the API. */
  onWrite?: (kind: WriteKind) => void;
}

/** LeaseBudgetShare is the part of --max-writes-per-second Lease renewals may take before their interval is stretched. */
export const LeaseBudgetShare = 0.75;
/** HeartbeatBudgetShare is the part heartbeats may take. */
export const HeartbeatBudgetShare = 0.2;
/** MaxLeaseRenewIntervalMs keeps renewals well inside the 40s Lease (node-monitor-grace-period). */
export const MaxLeaseRenewIntervalMs = 30_000;
/** staleEchoMs: after this long without the echo of our own write, the cache is trusted again. */
const staleEchoMs = 10_000;
const retryMs = 2_000;

interface NodeRecord {
  name: string;
  index: number;
  internalIP: string;
  /** own: the Node is one of prefix+0 … prefix+N-1, so the flags decide its capacity. */
  own: boolean;
  ordinal?: number;
  /** registered: the Node exists in the API (created by us or found). */
  registered: boolean;
  uid?: string;
  /** firstSeen starts the wait for spec.podCIDR. */
  firstSeen: number;
  podCIDR?: string;
  usedFallback: boolean;
  /** staleRV is the resourceVersion our last status write was computed from, until the cache moves past it. */
  staleRV?: string;
  staleAt: number;
  /** leaseMissing: the Node was just created, so its Lease does not exist yet. */
  leaseMissing: boolean;
  /** lease is the Lease as last written (managedFields dropped), the base of the next renewal. */
  lease?: Lease;
  leaseFailures: number;
  registerFailures: number;
  loopsStarted: boolean;
  allocator: PodIPAllocator;
}

interface PodRecord {
  uid: string;
  node: string;
  ip?: string;
  hostNetwork: boolean;
  /** seenAt is when the binding was first seen: the start delay counts from it. */
  seenAt: number;
  staleRV?: string;
  staleAt: number;
  deleting: boolean;
  /** deletionSeenAt is when a deletion was first seen, for a grace period its deadline cannot place (see syncDeletion). */
  deletionSeenAt?: number;
  running: boolean;
}

const podKeyOf = (p: Pod) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;

function splitPodKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Simulator is the simulated kubelet of every simulated Node. */
export class Simulator {
  private readonly nodeRecs = new Map<string, NodeRecord>();
  private readonly podRecs = new Map<string, PodRecord>();
  /** podsByNode indexes bound pods (keys only) by node name, for every node, so a Node that becomes ours finds its pods. */
  private readonly podsByNode = new Map<string, Set<string>>();
  private readonly indexes: IndexAllocator;
  private readonly wheel: TimerWheel;
  readonly writer: PacedWriter;
  /** pendingRegistrations are own Nodes not registered yet (readiness waits for them). */
  private readonly pendingRegistrations = new Set<string>();
  private running = false;
  /** adopting is set while start() takes on the simulated Nodes that already exist. */
  private adopting = false;
  private startedAt = 0;
  private leasePeriodMs: number;
  private heartbeatPeriodMs: number;
  private readonly warned = new Set<string>();
  private runningPods = 0;

  constructor(private readonly deps: SimulatorDeps) {
    const { config, clock } = deps;
    this.indexes = new IndexAllocator(config.nodeIPCIDR.size - 2);
    this.wheel = new TimerWheel(clock, (key) => this.onTimer(key));
    this.writer = new PacedWriter({
      ratePerSecond: config.maxWritesPerSecond,
      maxInFlight: config.maxConcurrentWrites,
      clock,
      onError: (key, err) => deps.log.error('Write task failed', { key, err: errText(err) }),
    });
    this.leasePeriodMs = config.leaseRenewIntervalMs;
    this.heartbeatPeriodMs = config.nodeStatusUpdateFrequencyMs;
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  /** nodeCount is how many Nodes are simulated (registered). */
  get nodeCount(): number {
    let n = 0;
    for (const r of this.nodeRecs.values()) if (r.registered) n++;
    return n;
  }

  /** podsRunning counts pods on simulated Nodes reported Running. */
  get podsRunning(): number {
    return this.runningPods;
  }

  /** leaseRenewIntervalMs is the renewal interval in effect (stretched when the budget is short). */
  get leaseRenewIntervalMs(): number {
    return this.leasePeriodMs;
  }

  /** notReadyReason says why the simulator is not ready yet (Nodes still registering), or undefined. */
  notReadyReason(): string | undefined {
    if (!this.running) return 'caches not synced';
    if (this.pendingRegistrations.size) return `${this.deps.config.nodes - this.pendingRegistrations.size} of ${this.deps.config.nodes} nodes registered`;
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Start and stop

  /** start takes over once both caches have synced: adopts simulated Nodes, registers missing ones, and syncs pods. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.now;
    const { config, log, nodes } = this.deps;
    // Index the pods first: a Node adopted below syncs its own.
    for (const p of this.deps.pods.list()) this.indexPod(p);
    const all = nodes.list().filter(isSimulated);
    // Nodes that already have an InternalIP of ours keep it (and its index) across restarts;
    // claim those first so a new Node cannot take one.
    const claimed = new Map<string, number>();
    for (const n of all) {
      const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      const idx = ip !== undefined ? hostIndexOf(config.nodeIPCIDR, ip) : undefined;
      if (idx !== undefined && this.indexes.claim(idx)) claimed.set(n.metadata.name!, idx);
    }
    this.adopting = true;
    for (const n of all) this.adopt(n, claimed.get(n.metadata.name!));
    this.adopting = false;
    let toCreate = 0;
    for (let i = 0; i < config.nodes; i++) {
      const name = `${config.namePrefix}${i}`;
      const existing = nodes.get(name);
      if (existing) {
        if (!isSimulated(existing)) log.warn('Node exists and is not simulated; leaving it alone', { node: name, annotation: 'skiff.dev/simulated' });
        continue;
      }
      const rec = this.newNodeRecord(name, undefined);
      if (!rec) continue;
      this.pendingRegistrations.add(name);
      this.writer.enqueue(`reg/${name}`, WritePriority.Node, () => this.registerNode(name));
      toCreate++;
    }
    log.info('Simulating nodes', { adopted: all.length, creating: toCreate, nodes: config.nodes, maxWritesPerSecond: config.maxWritesPerSecond });
  }

  /** stop drops queued writes and timers; writes in flight finish. */
  stop(): void {
    this.running = false;
    this.wheel.stop();
    this.writer.stop();
  }

  // ------------------------------------------------------------------------------------------
  // Events

  /** onNode handles a Node add, update or delete (the cache already shows it). */
  onNode(node: Node): void {
    if (!this.running) return;
    this.syncNode(node.metadata.name ?? '');
  }

  /** onPod handles a pod add or update (the cache already shows it). */
  onPod(pod: Pod): void {
    const key = this.indexPod(pod);
    if (key !== undefined && this.running) this.syncPod(key);
  }

  /** indexPod records a bound pod under its node; it returns the pod's key (undefined: unbound). */
  private indexPod(pod: Pod): string | undefined {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return undefined;
    const key = podKeyOf(pod);
    let set = this.podsByNode.get(nodeName);
    if (!set) this.podsByNode.set(nodeName, (set = new Set()));
    set.add(key);
    return key;
  }

  /** onPodDelete handles a pod delete. */
  onPodDelete(pod: Pod): void {
    const key = podKeyOf(pod);
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      const set = this.podsByNode.get(nodeName);
      set?.delete(key);
      if (set && set.size === 0) this.podsByNode.delete(nodeName);
    }
    if (this.running) this.syncPod(key);
  }

  private onTimer(key: string): void {
    const name = key.slice(2);
    switch (key[0]) {
      case 'l':
        this.writer.enqueue(`lease/${name}`, WritePriority.Lease, () => this.renewLease(name));
        return;
      case 'h':
        this.writer.enqueue(`node/${name}`, WritePriority.Heartbeat, () => this.writeNodeStatus(name));
        return;
      case 'r':
        this.writer.enqueue(`reg/${name}`, WritePriority.Node, () => this.registerNode(name));
        return;
      case 'n':
        this.syncNode(name);
        return;
      case 'p':
        this.syncPod(name);
        return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Nodes

  private warnOnce(what: string, msg: string, data: Record<string, unknown>): void {
    if (this.warned.has(what)) return;
    this.warned.add(what);
    this.deps.log.warn(msg, data);
  }

  /** newNodeRecord gives a Node its index (preferred, else its ordinal, else the lowest free) and bookkeeping. */
  private newNodeRecord(name: string, preferred: number | undefined): NodeRecord | undefined {
    const { config } = this.deps;
    const ordinal = nodeOrdinal(name, config.namePrefix);
    const own = ordinal !== undefined && ordinal < config.nodes;
    const index = preferred !== undefined && this.indexes.has(preferred) ? preferred : this.indexes.allocate(ordinal);
    if (index === undefined) {
      this.warnOnce('indexes', 'No node addresses left in --node-ip-cidr; not simulating more nodes', { nodeIPCIDR: formatIPv4Cidr(config.nodeIPCIDR), node: name });
      return undefined;
    }
    const rec: NodeRecord = {
      name,
      index,
      internalIP: hostAt(config.nodeIPCIDR, index)!,
      own,
      ordinal,
      registered: false,
      firstSeen: this.now,
      usedFallback: false,
      staleAt: 0,
      leaseMissing: false,
      leaseFailures: 0,
      registerFailures: 0,
      loopsStarted: false,
      allocator: new PodIPAllocator(),
    };
    this.nodeRecs.set(name, rec);
    return rec;
  }

  private adopt(node: Node, claimedIndex: number | undefined): void {
    const name = node.metadata.name ?? '';
    if (!this.nodeRecs.has(name) && !this.newNodeRecord(name, claimedIndex)) return;
    this.syncNode(name);
  }

  /** forgetNode stops simulating a Node (deleted, or its annotation removed); its pods are left to the pod GC. */
  private forgetNode(name: string): void {
    const rec = this.nodeRecs.get(name);
    if (!rec) return;
    this.nodeRecs.delete(name);
    this.pendingRegistrations.delete(name);
    this.indexes.release(rec.index);
    for (const k of ['l', 'h', 'r', 'n']) this.wheel.cancel(`${k}/${name}`);
    for (const k of ['lease', 'node', 'reg', 'meta']) this.writer.cancel(`${k}/${name}`);
    for (const key of this.podsByNode.get(name) ?? []) this.dropPod(key);
    this.restretch();
    this.deps.log.info('Stopped simulating node', { node: name });
  }

  /** syncNode compares a Node with what its kubelet would report and queues what is due. */
  private syncNode(name: string): void {
    const node = this.deps.nodes.get(name);
    if (!node || !isSimulated(node)) {
      this.forgetNode(name);
      return;
    }
    let rec = this.nodeRecs.get(name);
    if (!rec) {
      const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      const idx = ip !== undefined ? hostIndexOf(this.deps.config.nodeIPCIDR, ip) : undefined;
      const claimed = idx !== undefined && this.indexes.claim(idx) ? idx : undefined;
      rec = this.newNodeRecord(name, claimed);
      if (!rec) return;
    }
    rec.uid = node.metadata.uid;
    if (!rec.registered) {
      rec.registered = true;
      this.pendingRegistrations.delete(name);
      this.startNodeLoops(rec);
    }
    const cidr = firstIPv4Cidr(node.spec?.podCIDRs?.length ? node.spec.podCIDRs : [node.spec?.podCIDR]);
    const cidrText = cidr ? formatIPv4Cidr(cidr) : undefined;
    const cidrChanged = cidrText !== rec.podCIDR;
    rec.podCIDR = cidrText;
    if (!this.isStale(rec, node.metadata.resourceVersion)) {
      const desired = desiredNodeStatus(node, { internalIP: rec.internalIP, capacity: capacityFor(node, this.deps.config, rec.own), now: new Date(this.now), heartbeat: false });
      const diff = nodeStatusDiff(node.status, desired);
      if (diff !== undefined) {
        if (this.deps.log.enabled(3)) this.deps.log.info('Node status differs', { node: name, field: diff, resourceVersion: node.metadata.resourceVersion });
        this.writer.enqueue(`node/${name}`, WritePriority.Node, () => this.writeNodeStatus(name));
      }
    }
    if (cidrChanged) for (const key of this.podsByNode.get(name) ?? []) this.syncPod(key);
    const url = this.deps.metricsURL;
    if (url && node.metadata.annotations?.[MetricsURLAnnotation] !== url) this.writer.enqueue(`meta/${name}`, WritePriority.Node, () => this.writeMetricsURL(name));
  }

  /** writeMetricsURL points a Node's skiff.dev/metrics-url at this simulator (once per Node and simulator start). */
  private async writeMetricsURL(name: string): Promise<void> {
    const node = this.deps.nodes.get(name);
    const url = this.deps.metricsURL;
    if (!url || !node || !isSimulated(node) || node.metadata.annotations?.[MetricsURLAnnotation] === url) return;
    try {
      await this.deps.client.patch(Nodes, '', name, 'merge', { metadata: { annotations: { [MetricsURLAnnotation]: url } } });
    } catch (err) {
      if (!isNotFound(err)) this.deps.log.warn('Annotating node with its metrics URL failed', { node: name, err: errText(err) });
    } finally {
      this.deps.onWrite?.('node-annotation');
    }
  }

  /** isStale: the cache still holds the version our last write started from (its echo has not arrived). */
  private isStale(rec: { staleRV?: string; staleAt: number }, rv: string | undefined): boolean {
    if (rec.staleRV === undefined || rec.staleRV !== rv) {
      rec.staleRV = undefined;
      return false;
    }
    return this.now - rec.staleAt < staleEchoMs;
  }

  /**
   * startNodeLoops starts a registered Node's Lease renewals and heartbeats. A new Node renews
   * (creates) its Lease at once; Nodes adopted at start, whose Leases exist, renew at their phase
   * within the first interval, so a restart with 5,000 Nodes does not queue 5,000 renewals at once.
   */
  private startNodeLoops(rec: NodeRecord): void {
    if (rec.loopsStarted) return;
    rec.loopsStarted = true;
    this.restretch();
    if (this.adopting) this.wheel.schedule(`l/${rec.name}`, nextPhaseTime(rec.name, this.leasePeriodMs, this.now));
    else this.writer.enqueue(`lease/${rec.name}`, WritePriority.Lease, () => this.renewLease(rec.name));
    this.wheel.schedule(`h/${rec.name}`, nextAfterWrite(rec.name, this.heartbeatPeriodMs, this.now));
    for (const key of this.podsByNode.get(rec.name) ?? []) this.syncPod(key);
    if (this.pendingRegistrations.size === 0 && this.deps.config.nodes > 0 && rec.own && !this.warned.has('registered')) {
      this.warned.add('registered');
      this.deps.log.info('All simulated nodes registered', { nodes: this.deps.config.nodes, elapsedMs: Math.round(this.now - this.startedAt) });
    }
  }

  /** restretch recomputes the Lease and heartbeat periods for the number of Nodes and the write budget. */
  private restretch(): void {
    const { config, log } = this.deps;
    const n = this.nodeRecs.size;
    const lease = stretchPeriod(n, config.leaseRenewIntervalMs, config.maxWritesPerSecond, LeaseBudgetShare, MaxLeaseRenewIntervalMs);
    if (lease.periodMs !== this.leasePeriodMs) this.leasePeriodMs = lease.periodMs;
    if (lease.stretched) {
      this.warnOnce('lease-stretch', 'Write budget too small to renew every Lease within --lease-renew-interval; renewing less often', {
        nodes: n,
        leaseRenewInterval: `${config.leaseRenewIntervalMs / 1000}s`,
        effectiveInterval: `${lease.periodMs / 1000}s`,
        maxWritesPerSecond: config.maxWritesPerSecond,
      });
    }
    if (lease.overBudget) {
      this.warnOnce('lease-over', 'Write budget too small to renew every Lease within 30s; Nodes may turn NotReady. Raise --max-writes-per-second', {
        nodes: n,
        maxWritesPerSecond: config.maxWritesPerSecond,
      });
    }
    const hb = stretchPeriod(n, config.nodeStatusUpdateFrequencyMs, config.maxWritesPerSecond, HeartbeatBudgetShare);
    this.heartbeatPeriodMs = hb.periodMs;
    if (hb.stretched && !this.warned.has('hb-stretch')) {
      this.warned.add('hb-stretch');
      log.info('Sending node status heartbeats less often to stay within the write budget', { nodes: n, effectiveFrequency: `${hb.periodMs / 1000}s` });
    }
  }

  private async registerNode(name: string): Promise<void> {
    const rec = this.nodeRecs.get(name);
    if (!rec || rec.registered || this.deps.nodes.get(name)) return;
    const node = newSimNode({ name, ordinal: rec.ordinal ?? rec.index, internalIP: rec.internalIP, config: this.deps.config, now: new Date(this.now) });
    if (this.deps.metricsURL) node.metadata.annotations![MetricsURLAnnotation] = this.deps.metricsURL;
    try {
      const created = await this.deps.client.create<Node>(Nodes, '', node);
      this.deps.onWrite?.('node-create');
      this.deps.log.v(2).info('Registered node', { node: name });
      if (!this.nodeRecs.has(name)) return;
      rec.uid = created.metadata.uid;
      rec.leaseMissing = true;
      if (!rec.registered) {
        rec.registered = true;
        this.pendingRegistrations.delete(name);
        this.startNodeLoops(rec);
      }
    } catch (err) {
      this.deps.onWrite?.('node-create');
      // Someone made it first: the informer brings it, and syncNode adopts it if it is simulated.
      if (isAlreadyExists(err)) return;
      rec.registerFailures++;
      const delay = Math.min(retryMs * 2 ** Math.min(rec.registerFailures - 1, 4), 30_000);
      this.deps.log.warn('Registering node failed; retrying', { node: name, err: errText(err), retryInMs: delay });
      this.wheel.schedule(`r/${name}`, this.now + delay);
    }
  }

  /**
   * renewLease renews a Node's Lease as the kubelet does: an update of the Lease it last wrote
   * (one request, the cheapest for the apiserver), a merge patch when it has none (after a
   * restart) or the update conflicts, a create when the Lease is missing.
   */
  private async renewLease(name: string): Promise<void> {
    const rec = this.nodeRecs.get(name);
    if (!rec?.registered) return;
    const { client, log } = this.deps;
    const now = new Date(this.now);
    const count = () => this.deps.onWrite?.('lease');
    const create = () => client.create<Lease>(Leases, NodeLeaseNamespace, nodeLease(name, rec.uid, now));
    const patch = () => client.patch<Lease>(Leases, NodeLeaseNamespace, name, 'merge', leaseRenewal(name, now));
    try {
      let written: Lease;
      if (rec.leaseMissing) {
        // A Node just registered has no Lease yet: create it without asking first.
        try {
          written = await create();
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          count();
          written = await patch();
        }
      } else if (rec.lease) {
        try {
          written = await client.update<Lease>(Leases, { ...rec.lease, spec: { ...rec.lease.spec, ...leaseRenewal(name, now).spec } });
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) throw err;
          count();
          written = isNotFound(err) ? await create() : await patch();
        }
      } else {
        try {
          written = await patch();
        } catch (err) {
          if (!isNotFound(err)) throw err;
          count();
          written = await create();
        }
      }
      count();
      rec.lease = trimObject(written);
      rec.leaseMissing = false;
      rec.leaseFailures = 0;
      if (this.nodeRecs.get(name) === rec) this.wheel.schedule(`l/${name}`, nextAfterWrite(name, this.leasePeriodMs, this.now));
    } catch (err) {
      count();
      rec.lease = undefined;
      rec.leaseFailures++;
      // The kubelet retries a failed renewal quickly: 200ms doubling to 7s.
      const delay = Math.min(200 * 2 ** Math.min(rec.leaseFailures - 1, 6), 7_000);
      log.warn('Renewing node lease failed; retrying', { node: name, err: errText(err), retryInMs: delay });
      if (this.nodeRecs.get(name) === rec) this.wheel.schedule(`l/${name}`, this.now + delay);
    }
  }

  private async writeNodeStatus(name: string): Promise<void> {
    const rec = this.nodeRecs.get(name);
    const node = this.deps.nodes.get(name);
    if (!rec?.registered || !node || !isSimulated(node)) return;
    const status = desiredNodeStatus(node, { internalIP: rec.internalIP, capacity: capacityFor(node, this.deps.config, rec.own), now: new Date(this.now), heartbeat: true });
    rec.staleRV = node.metadata.resourceVersion;
    rec.staleAt = this.now;
    try {
      await this.deps.client.patch(Nodes, '', name, 'strategic', { status }, { subresource: 'status' });
      this.deps.onWrite?.('node-status');
      if (this.nodeRecs.get(name) === rec) this.wheel.schedule(`h/${name}`, nextAfterWrite(name, this.heartbeatPeriodMs, this.now));
    } catch (err) {
      this.deps.onWrite?.('node-status');
      rec.staleRV = undefined;
      // A deleted Node: the informer tells, and forgetNode follows.
      if (isNotFound(err)) return;
      this.deps.log.warn('Updating node status failed; retrying', { node: name, err: errText(err) });
      if (this.nodeRecs.get(name) === rec) this.wheel.schedule(`n/${name}`, this.now + retryMs);
    }
  }

  /** podBlock is where a Node's pods get addresses: its podCIDR, or after --pod-cidr-wait its fallback /24 (undefined: wait). */
  private podBlock(rec: NodeRecord): IPv4Cidr | undefined {
    const node = this.deps.nodes.get(rec.name);
    const cidr = firstIPv4Cidr(node?.spec?.podCIDRs?.length ? node.spec.podCIDRs : [node?.spec?.podCIDR]);
    if (cidr) return cidr;
    const { config } = this.deps;
    if (this.now < rec.firstSeen + config.podCIDRWaitMs) return undefined;
    const block = subnetAt(config.fallbackPodCIDR, rec.index, 24);
    if (block && !rec.usedFallback) {
      rec.usedFallback = true;
      this.deps.log.info('Node has no spec.podCIDR; giving its pods addresses from the fallback block', { node: rec.name, block: formatIPv4Cidr(block) });
    }
    if (!block) this.warnOnce(`fallback/${rec.name}`, 'Node has no spec.podCIDR and --fallback-pod-cidr has no block for it; its pods wait', { node: rec.name });
    return block;
  }

  // ------------------------------------------------------------------------------------------
  // Pods

  private setRunning(rec: PodRecord, running: boolean): void {
    if (rec.running === running) return;
    rec.running = running;
    this.runningPods += running ? 1 : -1;
  }

  private releaseIP(rec: PodRecord): void {
    if (rec.ip && !rec.hostNetwork) this.nodeRecs.get(rec.node)?.allocator.release(rec.ip);
    rec.ip = undefined;
  }

  /** dropPod forgets a pod: its address goes back to its Node, its timers and queued writes go. */
  private dropPod(key: string): void {
    const rec = this.podRecs.get(key);
    if (!rec) return;
    this.releaseIP(rec);
    this.setRunning(rec, false);
    this.podRecs.delete(key);
    this.wheel.cancel(`p/${key}`);
    this.writer.cancel(`pod/${key}`);
  }

  private newPodRecord(key: string, pod: Pod, node: NodeRecord): PodRecord {
    const hostNetwork = pod.spec.hostNetwork === true;
    const rec: PodRecord = { uid: pod.metadata.uid ?? '', node: node.name, hostNetwork, seenAt: this.now, staleAt: 0, deleting: false, running: false };
    const ip = pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP;
    // An address the pod already has stays its own (after a restart of the simulator).
    if (ip && !hostNetwork && !isPodTerminal(pod)) {
      rec.ip = ip;
      node.allocator.markUsed(ip);
    }
    this.podRecs.set(key, rec);
    return rec;
  }

  /** syncPod compares a pod with what its kubelet would report and queues or schedules what is due. */
  private syncPod(key: string): void {
    const [ns, name] = splitPodKey(key);
    const pod = this.deps.pods.get(name, ns);
    let rec = this.podRecs.get(key);
    const node = pod?.spec?.nodeName ? this.nodeRecs.get(pod.spec.nodeName) : undefined;
    if (!pod || !node?.registered) {
      this.dropPod(key);
      return;
    }
    if (rec && (rec.uid !== pod.metadata.uid || rec.node !== node.name)) {
      this.dropPod(key);
      rec = undefined;
    }
    rec ??= this.newPodRecord(key, pod, node);
    if (this.isStale(rec, pod.metadata.resourceVersion)) {
      this.wheel.scheduleEarlier(`p/${key}`, rec.staleAt + staleEchoMs);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      this.syncDeletion(key, pod, rec);
      return;
    }
    if (isPodTerminal(pod)) {
      // Finished pods are the pod GC's; their address is free again (the sandbox is gone).
      this.releaseIP(rec);
      this.setRunning(rec, false);
      this.wheel.cancel(`p/${key}`);
      return;
    }
    if (!isStarted(pod.status)) {
      const due = rec.seenAt + this.deps.config.podStartDelayMs;
      if (this.now < due) {
        this.wheel.schedule(`p/${key}`, due);
        return;
      }
      if (!rec.hostNetwork && !rec.ip && !this.podBlock(node)) {
        this.wheel.schedule(`p/${key}`, node.firstSeen + this.deps.config.podCIDRWaitMs);
        return;
      }
      this.writer.enqueue(`pod/${key}`, WritePriority.Pod, () => this.writePodStatus(key));
      return;
    }
    this.setRunning(rec, pod.status?.phase === PodPhase.Running);
    const result = computePodStatus(pod, {
      now: this.now,
      mode: simModeOf(pod, this.deps.config),
      hostIP: node.internalIP,
      podIP: rec.hostNetwork ? node.internalIP : rec.ip ?? pod.status?.podIP ?? '',
    });
    if (!statusEqual(result.status, pod.status)) this.writer.enqueue(`pod/${key}`, WritePriority.Pod, () => this.writePodStatus(key));
    else if (result.nextAt !== undefined) this.wheel.schedule(`p/${key}`, result.nextAt);
  }

  private syncDeletion(key: string, pod: Pod, rec: PodRecord): void {
    if (rec.deleting) return;
    const graceMs = Number(pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    const deadline = Date.parse(pod.metadata.deletionTimestamp ?? '');
    rec.deletionSeenAt ??= this.now;
    // The deletion was asked for a grace period before deletionTimestamp; --max-termination-grace
    // caps the wait. A grace period of millennia (int64 seconds up to 2^63-1) has its deadline
    // clamped to year 9999, so the time it was asked is then the time it was first seen.
    const requestedAt = Number.isNaN(deadline) || deadline - graceMs < 0 ? rec.deletionSeenAt : deadline - graceMs;
    const due = requestedAt + Math.min(graceMs, this.deps.config.maxTerminationGraceMs);
    if (this.now < due) {
      this.wheel.schedule(`p/${key}`, due);
      return;
    }
    this.writer.enqueue(`pod/${key}`, WritePriority.Pod, () => this.deletePod(key));
  }

  private async deletePod(key: string): Promise<void> {
    const [ns, name] = splitPodKey(key);
    const pod = this.deps.pods.get(name, ns);
    const rec = this.podRecs.get(key);
    if (!pod?.metadata.deletionTimestamp || !rec || rec.uid !== pod.metadata.uid) return;
    rec.deleting = true;
    try {
      await this.deps.client.delete(Pods, ns, name, { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } });
      this.deps.onWrite?.('pod-delete');
      this.deps.log.v(2).info('Deleted terminated pod', { pod: key });
    } catch (err) {
      this.deps.onWrite?.('pod-delete');
      if (isNotFound(err) || isConflict(err)) return;
      rec.deleting = false;
      this.deps.log.warn('Deleting pod failed; retrying', { pod: key, err: errText(err) });
      this.wheel.schedule(`p/${key}`, this.now + retryMs);
    }
  }

  private async writePodStatus(key: string): Promise<void> {
    const [ns, name] = splitPodKey(key);
    const pod = this.deps.pods.get(name, ns);
    const rec = this.podRecs.get(key);
    const node = rec ? this.nodeRecs.get(rec.node) : undefined;
    if (!pod || !rec || !node || rec.uid !== pod.metadata.uid || pod.metadata.deletionTimestamp || isPodTerminal(pod)) return;
    let ip = rec.hostNetwork ? node.internalIP : rec.ip;
    if (!ip) {
      const block = this.podBlock(node);
      if (!block) {
        this.wheel.schedule(`p/${key}`, node.firstSeen + this.deps.config.podCIDRWaitMs);
        return;
      }
      ip = node.allocator.allocate(block);
      if (!ip) {
        this.warnOnce(`full/${node.name}`, 'No pod addresses left on node; pods wait', { node: node.name, block: formatIPv4Cidr(block) });
        this.wheel.schedule(`p/${key}`, this.now + 10_000);
        return;
      }
      rec.ip = ip;
    }
    const result = computePodStatus(pod, { now: this.now, mode: simModeOf(pod, this.deps.config), hostIP: node.internalIP, podIP: ip });
    if (statusEqual(result.status, pod.status)) {
      if (result.nextAt !== undefined) this.wheel.schedule(`p/${key}`, result.nextAt);
      return;
    }
    const { qosClass: _qos, ...status } = result.status;
    rec.staleRV = pod.metadata.resourceVersion;
    rec.staleAt = this.now;
    try {
      await this.deps.client.patch(Pods, ns, name, 'strategic', { metadata: { uid: rec.uid }, status }, { subresource: 'status' });
      this.deps.onWrite?.('pod-status');
      if (this.podRecs.get(key) !== rec) return;
      this.setRunning(rec, status.phase === PodPhase.Running);
      if (status.phase === PodPhase.Succeeded || status.phase === PodPhase.Failed) this.releaseIP(rec);
      if (result.nextAt !== undefined) this.wheel.schedule(`p/${key}`, result.nextAt);
    } catch (err) {
      this.deps.onWrite?.('pod-status');
      rec.staleRV = undefined;
      // Gone, or replaced by a pod of the same name (uid mismatch): the informer brings what is there now.
      if (isNotFound(err) || isConflict(err) || (err instanceof ApiError && err.code === 422)) return;
      this.deps.log.warn('Updating pod status failed; retrying', { pod: key, err: errText(err) });
      if (this.podRecs.get(key) === rec) this.wheel.schedule(`p/${key}`, this.now + retryMs);
    }
  }
}
