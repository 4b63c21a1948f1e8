// The kubelet's own Node: its registration (labels, taints), its status (capacity, allocatable,
// conditions, addresses, nodeInfo, daemonEndpoints) computed every nodeStatusUpdateFrequency and
// written only when it changed or nodeStatusReportFrequency passed, its Lease in kube-node-lease,
// and the pod network set up once the node IPAM controller has given the Node a spec.podCIDR.
// Until the runtime says its network is ready, the Node is NotReady with the kubelet's message.

import { LocalPathDirAnnotation } from '../lib/api/storage/localpath.js';
import type { Lease } from '../lib/api/coordination/lease.js';
import type { Node, NodeStatus } from '../lib/api/core/node.js';
import type { ResourceList, Taint } from '../lib/api/core/types.js';
import { type Client, isAlreadyExists, isNotFound } from '../lib/client/client.js';
import type { Recorder } from '../lib/client/events.js';
import { Leases, Nodes } from '../lib/client/resources.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { NodeLeaseDurationSeconds, NodeLeaseNamespace, leaseRenewal, nodeLease, nodeLeaseRenewIntervalMs } from '../lib/node/lease.js';
import { type NodeConditionWant, healthyKubeletConditions, kubeletNodeStatus, nodeStatusDiff } from '../lib/node/status.js';
import type { RuntimeCondition, VersionResponse } from './cri/types.js';
import { type MachineFacts, defaultNodeLabels, nodeCapacity, nodeReserved, nodeSystemInfo } from './machine.js';

/** NodeStatusUpdateFrequencyMs is the kubelet's nodeStatusUpdateFrequency: how often status is computed. */
export const NodeStatusUpdateFrequencyMs = 10_000;
/** NodeStatusReportFrequencyMs is the kubelet's nodeStatusReportFrequency: an unchanged status is still written this often. */
export const NodeStatusReportFrequencyMs = 5 * 60_000;

/** KubeletNodeInput is everything a Node's registration and status are made of. */
export interface KubeletNodeInput {
  nodeName: string;
  nodeIP: string;
  hostname: string;
  facts: MachineFacts;
  runtimeVersion: Pick<VersionResponse, 'runtime_name' | 'runtime_version'>;
  maxPods: number;
  kubeletPort: number;
  labels: Record<string, string>;
  taints: Taint[];
  /** localPathDir is where this node keeps local-path volumes (published for the provisioner). */
  localPathDir?: string;
}

/** registrationNode is the Node the kubelet creates for itself. */
export function registrationNode(input: KubeletNodeInput): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: input.nodeName,
      labels: { ...defaultNodeLabels(input.nodeName, input.facts), ...input.labels },
      annotations: {
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        ...(input.localPathDir ? { [LocalPathDirAnnotation]: input.localPathDir } : {}),
      },
    },
    spec: input.taints.length ? { taints: input.taints } : {},
  };
}

/** readyConditionFor is the Ready condition for the runtime's conditions: NotReady with the kubelet's message while the runtime or its network is not ready. */
export function readyConditionFor(runtime: RuntimeCondition[] | Error): NodeConditionWant {
  const ready = healthyKubeletConditions.find((c) => c.type === 'Ready')!;
  if (runtime instanceof Error) return { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: `container runtime is down: ${runtime.message}` };
  const problems: string[] = [];
  const rt = runtime.find((c) => c.type === 'RuntimeReady');
  if (!rt || !rt.status) problems.push(`container runtime status check may not have completed yet: RuntimeReady=false reason:${rt?.reason ?? ''} message:${rt?.message ?? ''}`);
  const net = runtime.find((c) => c.type === 'NetworkReady');
  if (!net || !net.status) problems.push(`container runtime network not ready: NetworkReady=false reason:${net?.reason ?? ''} message:${net?.message ?? ''}`);
  if (problems.length === 0) return ready;
  return { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: problems.join(', ') };
}

/** desiredNodeStatus is the kubelet's part of its Node's status, against the current one. */
export function desiredNodeStatus(current: NodeStatus | undefined, input: KubeletNodeInput, ready: NodeConditionWant, now: Date, heartbeat: boolean): NodeStatus {
  const conditions = healthyKubeletConditions.map((c) => (c.type === 'Ready' ? ready : c));
  const status = kubeletNodeStatus(current, {
    internalIP: input.nodeIP,
    hostname: input.hostname,
    capacity: nodeCapacity(input.facts, input.maxPods),
    reserved: nodeReserved(input.facts),
    nodeInfo: nodeSystemInfo(input.facts, input.runtimeVersion),
    conditions,
    now,
    heartbeat,
  });
  return { ...status, daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort } } };
}

const conditionEvents: Record<string, { True: string; False: string }> = {
  MemoryPressure: { True: 'NodeHasInsufficientMemory', False: 'NodeHasSufficientMemory' },
  DiskPressure: { True: 'NodeHasDiskPressure', False: 'NodeHasNoDiskPressure' },
  PIDPressure: { True: 'NodeHasInsufficientPID', False: 'NodeHasSufficientPID' },
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
};

/**
 * nodeStatusEvents are the events the kubelet's status setters record when a condition takes a
 * new status (or first appears): reason NodeReady, NodeHasSufficientMemory …, message
 * "Node <name> status is now: <reason>".
 */
export function nodeStatusEvents(nodeName: string, before: NodeStatus | undefined, after: NodeStatus): { type: 'Normal'; reason: string; message: string }[] {
  const out: { type: 'Normal'; reason: string; message: string }[] = [];
  for (const c of after.conditions ?? []) {
    const names = conditionEvents[c.type];
    if (!names || (c.status !== 'True' && c.status !== 'False')) continue;
    if (before?.conditions?.find((b) => b.type === c.type)?.status === c.status) continue;
    const reason = names[c.status];
    out.push({ type: 'Normal', reason, message: `Node ${nodeName} status is now: ${reason}` });
  }
  return out;
}

/** NodeAgentOptions wire a NodeAgent. */
export interface NodeAgentOptions {
  client: Client;
  log: Logger;
  clock: Clock;
  input: KubeletNodeInput;
  /** runtimeConditions asks the runtime for its conditions (CRI Status). */
  runtimeConditions: () => Promise<RuntimeCondition[]>;
  /** onPodCIDR sets up the pod network for the Node's podCIDR (idempotent; called again after a failure). */
  onPodCIDR: (podCIDR: string) => Promise<void>;
  statusUpdateFrequencyMs?: number;
  leaseDurationSeconds?: number;
  /** recorder gets the Node's events (Starting, NodeReady …). */
  recorder?: Recorder;
}

/** NodeAgent keeps the kubelet's Node registered, its status current and its Lease renewed. */
export class NodeAgent {
  private node: Node | undefined;
  private lastReportAt = 0;
  private networkFor: string | undefined;
  private readyNow = false;
  private statusTimer: unknown;
  private leaseTimer: unknown;
  private stopped = false;

  constructor(private readonly opts: NodeAgentOptions) {}

  /** ready says whether the Node was last reported Ready. */
  get ready(): boolean {
    return this.readyNow;
  }

  /** podCIDR is the Node's spec.podCIDR once known. */
  get podCIDR(): string | undefined {
    return this.node?.spec?.podCIDR;
  }

  /** allocatable is the Node's allocatable as the kubelet computes it. */
  allocatable(): ResourceList {
    return desiredNodeStatus(undefined, this.opts.input, { type: 'Ready', status: 'True' }, new Date(), false).allocatable ?? {};
  }

  /** register creates the Node, or brings an existing one's default labels up to date. */
  async register(): Promise<Node> {
    const { client, input, log } = this.opts;
    const want = registrationNode(input);
    try {
      this.node = await client.create<Node>(Nodes, '', want);
      log.info('Successfully registered node', { node: input.nodeName });
      return this.node;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const existing = await client.get<Node>(Nodes, '', input.nodeName);
    const labels = existing.metadata?.labels ?? {};
    const missing = Object.entries(want.metadata!.labels!).filter(([k, v]) => labels[k] !== v);
    this.node = missing.length
      ? await client.patch<Node>(Nodes, '', input.nodeName, 'merge', { metadata: { labels: Object.fromEntries(missing) } })
      : existing;
    log.info('Node was previously registered', { node: input.nodeName });
    return this.node;
  }

  /** start registers the Node, posts its status at once, and keeps status and Lease going until stop. */
  async start(): Promise<void> {
    await this.register();
    this.event('Starting', 'Starting kubelet.');
    await this.syncLease();
    await this.syncStatus();
  }

  private schedule(kind: 'status' | 'lease', ms: number): void {
    if (this.stopped) return;
    const { clock } = this.opts;
    if (kind === 'status') {
      clock.clearTimeout(this.statusTimer);
      this.statusTimer = clock.setTimeout(() => void this.syncStatus(), ms);
    } else {
      clock.clearTimeout(this.leaseTimer);
      this.leaseTimer = clock.setTimeout(() => void this.syncLease(), ms);
    }
  }

  /** syncLease creates or renews the Node's Lease, then schedules the next renewal. */
  async syncLease(): Promise<void> {
    const { client, input, log, clock } = this.opts;
    const duration = this.opts.leaseDurationSeconds ?? NodeLeaseDurationSeconds;
    const renewMs = nodeLeaseRenewIntervalMs(duration);
    try {
      const now = new Date(clock.now());
      try {
        await client.patch<Lease>(Leases, NodeLeaseNamespace, input.nodeName, 'merge', leaseRenewal(input.nodeName, now, duration));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await client.create<Lease>(Leases, NodeLeaseNamespace, nodeLease(input.nodeName, this.node?.metadata?.uid, now, duration));
      }
      this.schedule('lease', renewMs);
    } catch (err) {
      // The kubelet retries a failed renewal sooner than the renew interval, with back-off up to it.
      log.warn('Failed to update lease', { err: err instanceof Error ? err.message : String(err) });
      this.schedule('lease', Math.min(renewMs, 1_000));
    }
  }

  /**
   * syncStatus reads the Node, sets the network up for its podCIDR, computes the status and writes
   * it when it changed (or the report frequency passed). Until Ready it runs every second, so the
   * Node turns Ready soon after the network does; then every nodeStatusUpdateFrequency.
   */
  async syncStatus(): Promise<void> {
    const { client, input, log, clock } = this.opts;
    const every = this.opts.statusUpdateFrequencyMs ?? NodeStatusUpdateFrequencyMs;
    try {
      let node: Node;
      try {
        node = await client.get<Node>(Nodes, '', input.nodeName);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        log.warn('Node is gone from the API; registering it again', { node: input.nodeName });
        node = await this.register();
      }
      this.node = node;
      const podCIDR = node.spec?.podCIDR;
      if (podCIDR && this.networkFor !== podCIDR) {
        await this.opts.onPodCIDR(podCIDR);
        this.networkFor = podCIDR;
        log.info('Pod network configured', { podCIDR });
      }
      const runtime = await this.opts.runtimeConditions().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      let ready = readyConditionFor(runtime);
      if (!podCIDR && ready.status === 'True') {
        ready = { ...ready, status: 'False', reason: 'KubeletNotReady', message: 'node has no spec.podCIDR yet' };
      }
      const nowMs = clock.now();
      const heartbeat = nowMs - this.lastReportAt >= NodeStatusReportFrequencyMs;
      const want = desiredNodeStatus(node.status, input, ready, new Date(nowMs), heartbeat);
      const diff = nodeStatusDiff(node.status, want);
      const daemonPort = (node.status as { daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } } | undefined)?.daemonEndpoints?.kubeletEndpoint?.Port;
      if (diff || heartbeat || daemonPort !== input.kubeletPort) {
        this.node = await client.patch<Node>(Nodes, '', input.nodeName, 'strategic', { status: want }, { subresource: 'status' });
        for (const e of nodeStatusEvents(input.nodeName, node.status, want)) this.event(e.reason, e.message);
        this.lastReportAt = nowMs;
        if (ready.status !== (this.readyNow ? 'True' : 'False') || diff === 'conditions[Ready]') {
          log.info('Node status changed', { node: input.nodeName, ready: ready.status, reason: ready.reason, message: ready.message });
        }
      }
      this.readyNow = ready.status === 'True';
      this.schedule('status', this.readyNow ? every : Math.min(every, 1_000));
    } catch (err) {
      log.warn('Error updating node status, will retry', { err: err instanceof Error ? err.message : String(err) });
      this.schedule('status', Math.min(every, 2_000));
    }
  }

  /** event records a Normal event about the Node; as the kubelet does, its reference's uid is the node's name. */
  private event(reason: string, message: string): void {
    const name = this.opts.input.nodeName;
    this.opts.recorder?.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name } }, 'Normal', reason, message);
  }

  /** stop ends the status and Lease loops (the Lease simply expires, as when a kubelet stops). */
  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.statusTimer);
    this.opts.clock.clearTimeout(this.leaseTimer);
  }
}
