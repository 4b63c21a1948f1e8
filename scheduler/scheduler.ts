// Scheduler is the scheduling loop of kube-scheduler (pkg/scheduler: scheduler.go,
// schedule_one.go, eventhandlers.go) over skiff's framework:
//
//   informers ─▶ event handlers ─▶ Cache (nodes, bound and assumed pods)
//                               └▶ SchedulingQueue (pending pods of our profiles)
//   loop: pop ─▶ snapshot ─▶ schedulePod ─▶ assume ─▶ Binder (async, bounded) ─▶ pods/binding
//                    └ no fit ─▶ PostFilter (preemption) ─▶ requeue, PodScheduled=False, event
//
// A scheduling cycle is synchronous JS; everything that talks to the apiserver after the
// decision (binding, status, events, preemption's deletions) runs beside the loop, so the next
// pod is considered while earlier bindings are in flight. The cache counts a pod on its node the
// moment it is assumed, so those bindings cannot overcommit a node.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Namespace } from '../lib/api/core/namespace.js';
import type { Node } from '../lib/api/core/node.js';
import { type Pod, isPodTerminal } from '../lib/api/core/pod.js';
import { type Client, Namespaces, Nodes, PersistentVolumeClaims, PersistentVolumes, PodDisruptionBudgets, Pods, type Recorder, StorageClasses, isConflict, isNotFound } from '../lib/client/index.js';
import type { PodDisruptionBudget } from '../lib/api/policy/poddisruptionbudget.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../lib/api/core/persistentvolume.js';
import type { StorageClass } from '../lib/api/storage/storageclass.js';
import { ReplicaSets, ReplicationControllers, Services, StatefulSets } from '../lib/client/resources.js';
import type { InformerFactory } from '../lib/controller/factory.js';
import type { Logger } from '../lib/log.js';
import { type Clock, type TimerHandle, realClock } from '../lib/clock.js';
import { Binder } from './binder.js';
import { QueuedEventRecorder } from './events.js';
import { VolumeBindingName, type VolumeListers, newVolumeBinding, preBindVolumes } from './plugins/volumebinding.js';
import { Cache } from './cache/cache.js';
import { CycleState, podInfoForCycle } from './framework/cyclestate.js';
import { FitError, NoNodesAvailableError } from './framework/errors.js';
import { type Framework, type FrameworkProfile, podPriority, type Registry, schedulePod, type SchedulingOptions, type SelectingObject, type WorkloadListers } from './framework/framework.js';
import { Snapshot } from './framework/snapshot.js';
import { statusMessage } from './framework/status.js';
import { type SchedulerMetrics, noopMetrics } from './metrics.js';
import { DefaultSchedulerName, buildFramework } from './config.js';
import { DefaultPreemption, DefaultPreemptionName, type DefaultPreemptionArgs, PreemptionDecision, preemptionDecisionKey, prepareCandidate } from './preemption/preemption.js';
import { type ClusterEvent, ClusterEvents, type QueuedPodInfo, SchedulingQueue, podKey } from './queue/queue.js';
import { stringifyJSON } from '../lib/machinery/json.js';

/** volumeChange is a claim, volume or class event: VolumeBinding may now let a pod through. */
const volumeChange: ClusterEvent = { resource: 'WildCard', action: 'All', label: 'VolumeChange' };

/** SchedulerOptions configure a Scheduler. */
export interface SchedulerOptions {
  client: Client;
  /** profiles, one per schedulerName (resolved KubeSchedulerConfiguration profiles). */
  profiles: readonly FrameworkProfile[];
  log: Logger;
  metrics?: SchedulerMetrics;
  /** recorderFor makes the event recorder of a profile (default: a QueuedEventRecorder reporting as the schedulerName). */
  recorderFor?: (schedulerName: string) => Recorder;
  clock?: Clock;
  /** percentageOfNodesToScore is the global setting (0 = adaptive). */
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  /** maxBindsInFlight bounds concurrent bindings (default 64). */
  maxBindsInFlight?: number;
  /** registry adds or replaces plugins beside the in-tree ones and DefaultPreemption. */
  registry?: Registry;
  /** rand drives tie-breaking and preemption's random start (tests pin it). */
  rand?: () => number;
}

/** PodLookup finds the informer's current version of a pod by namespace and name. */
export type PodLookup = (namespace: string, name: string) => Pod | undefined;

const FailedSchedulingReason = 'FailedScheduling';
/** PodReasonUnschedulable and PodReasonSchedulerError are PodScheduled=False reasons. */
export const PodReasonUnschedulable = 'Unschedulable';
export const PodReasonSchedulerError = 'SchedulerError';
const maxEventMessageLength = 1024;

/** NominationChange: set the preemptor's nominatedNodeName (a name), clear it (''), or leave it (undefined). */
type NominationChange = string | undefined;

const nodeChange = (ev: ClusterEvent) => ev.resource === 'Node' && ev.action !== 'Delete';
const podGone = (ev: ClusterEvent) => ev.resource === 'AssignedPod' && ev.action === 'Delete';
const anyAssignedPod = (ev: ClusterEvent) => ev.resource === 'AssignedPod';
/**
 * pluginEvents is which cluster events may make a pod rejected by a plugin schedulable (the
 * plugins' EventsToRegister, coarsened); plugins not listed react to every event.
 */
const pluginEvents: Record<string, (ev: ClusterEvent) => boolean> = {
  NodeUnschedulable: nodeChange,
  NodeName: nodeChange,
  TaintToleration: nodeChange,
  NodeAffinity: nodeChange,
  NodePorts: (ev) => nodeChange(ev) || podGone(ev),
  NodeResourcesFit: (ev) => nodeChange(ev) || podGone(ev) || (ev.resource === 'AssignedPod' && ev.action === 'Update'),
  PodTopologySpread: (ev) => ev.resource === 'Node' || anyAssignedPod(ev),
  InterPodAffinity: (ev) => nodeChange(ev) || anyAssignedPod(ev),
};

/** isEventRelevant: one of the plugins that rejected the pod cares about event (or none is known). */
export function isEventRelevant(pInfo: QueuedPodInfo, event: ClusterEvent): boolean {
  if (pInfo.unschedulablePlugins.size === 0) return true;
  for (const p of pInfo.unschedulablePlugins) if ((pluginEvents[p] ?? (() => true))(event)) return true;
  return false;
}

/**
 * nodeSchedulingPropertiesChanged: the update may change where pods fit (kube's
 * nodeSchedulingPropertiesChange): unschedulable, allocatable, labels, taints, conditions or
 * annotations. Heartbeats change none of these.
 */
export function nodeSchedulingPropertiesChanged(oldNode: Node | undefined, node: Node): boolean {
  if (!oldNode) return true;
  const j = (v: unknown) => stringifyJSON(v ?? null);
  if (!!oldNode.spec?.unschedulable !== !!node.spec?.unschedulable) return true;
  if (j(oldNode.status?.allocatable) !== j(node.status?.allocatable)) return true;
  if (j(oldNode.metadata.labels) !== j(node.metadata.labels)) return true;
  if (j(oldNode.spec?.taints) !== j(node.spec?.taints)) return true;
  if (j(oldNode.metadata.annotations) !== j(node.metadata.annotations)) return true;
  const conds = (n: Node) => j((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  return conds(oldNode) !== conds(node);
}

/** Scheduler binds the pending pods of its profiles to nodes. */
export class Scheduler {
  readonly queue: SchedulingQueue;
  readonly cache: Cache;
  readonly binder: Binder;
  private readonly frameworks = new Map<string, Framework>();
  private readonly recorders = new Map<string, Recorder>();
  private readonly snapshot = new Snapshot();
  private readonly schedulingOptions: SchedulingOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: SchedulerMetrics;
  private readonly client: Client;
  private lookupPod: PodLookup = () => undefined;
  /** pdbs are the PodDisruptionBudgets preemption weighs (from the informer once run() wires it). */
  private pdbs: () => readonly PodDisruptionBudget[] = () => [];
  /** workloads are the Service and controller listers the frameworks read (setWorkloadListers). */
  private workloads: WorkloadListers = {};
  private namespaceLabels = new Map<string, Record<string, string>>();
  /** volumes are the claim, volume and class caches VolumeBinding reads (empty until run() wires the informers). */
  private volumes: VolumeListers = { claim: () => undefined, volume: () => undefined, volumes: () => [], storageClass: () => undefined };
  /** background holds API work started beside the loop (status updates, preemption), for drain(). */
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log;
    this.client = opts.client;
    this.metrics = opts.metrics ?? noopMetrics;
    this.cache = new Cache(30_000, this.clock);
    this.queue = new SchedulingQueue({
      clock: this.clock,
      podInitialBackoffMs: (opts.podInitialBackoffSeconds ?? 1) * 1000,
      podMaxBackoffMs: (opts.podMaxBackoffSeconds ?? 10) * 1000,
      isEventRelevant,
    });
    this.binder = new Binder(opts.client, opts.maxBindsInFlight ?? 64);
    this.schedulingOptions = { nextStartNodeIndex: 0, percentageOfNodesToScore: opts.percentageOfNodesToScore, rand: opts.rand };
    this.metrics.setPendingSource(() => this.queue.pendingPods());
    if (opts.profiles.length === 0) throw new Error('at least one profile is required');
    const registry: Registry = {
      [DefaultPreemptionName]: (args, fh) => new DefaultPreemption(args as DefaultPreemptionArgs | undefined, fh, { snapshot: () => this.snapshot, rand: opts.rand, pdbs: () => this.pdbs() }),
      // Through this.volumes at call time: run() fills the caches in after the plugins are built.
      [VolumeBindingName]: () =>
        newVolumeBinding({
          claim: (ns, name) => this.volumes.claim(ns, name),
          volume: (name) => this.volumes.volume(name),
          volumes: () => this.volumes.volumes(),
          storageClass: (name) => this.volumes.storageClass(name),
        }),
      ...opts.registry,
    };
    for (const profile of opts.profiles) {
      if (this.frameworks.has(profile.schedulerName)) throw new Error(`duplicate profile with scheduler name "${profile.schedulerName}"`);
      const fwk = buildFramework(profile, {
        registry,
        nominator: this.queue,
        namespaceLabels: (ns) => this.namespaceLabels.get(ns),
        workloads: {
          services: (ns) => this.workloads.services?.(ns) ?? [],
          replicationController: (ns, name) => this.workloads.replicationController?.(ns, name),
          replicaSet: (ns, name) => this.workloads.replicaSet?.(ns, name),
          statefulSet: (ns, name) => this.workloads.statefulSet?.(ns, name),
        },
      });
      this.frameworks.set(profile.schedulerName, fwk);
      this.recorders.set(profile.schedulerName, opts.recorderFor?.(profile.schedulerName) ?? new QueuedEventRecorder(opts.client, { component: profile.schedulerName, log: opts.log }));
    }
  }

  /** frameworkFor is the profile that schedules pod, if it is one of ours. */
  frameworkFor(pod: Pod): Framework | undefined {
    return this.frameworks.get(pod.spec?.schedulerName || DefaultSchedulerName);
  }

  /** setWorkloadListers tells the frameworks where to read Services and pod controllers (informers; PodTopologySpread's defaults). */
  setWorkloadListers(w: WorkloadListers): void {
    this.workloads = w;
  }

  /** setPodLookup tells the scheduler where to read the latest version of a pod (the pod informer). */
  setPodLookup(fn: PodLookup): void {
    this.lookupPod = fn;
  }

  // ---------------------------------------------------------------------------------------------
  // Event handlers (eventhandlers.go). Informer events carry only the new object; the previous
  // version comes from the cache or the queue.

  /** onPodAdd: a bound pod goes to the cache, a pending pod of ours to the queue. */
  onPodAdd(pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (isPodTerminal(pod)) return this.onPodDelete(pod);
      this.cache.addPod(pod);
      this.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodAdd);
      return;
    }
    if (!this.isOurPendingPod(pod)) return;
    this.queue.add(pod);
  }

  /** onPodUpdate follows a pod through its life: pending, bound (leaves the queue), finished (leaves the cache). */
  onPodUpdate(pod: Pod): void {
    if (pod.spec?.nodeName) {
      // Bound now: it is no longer pending, whoever bound it.
      this.queue.delete(pod);
      if (isPodTerminal(pod)) {
        if (this.cache.getPod(pod)) {
          this.cache.removePod(pod);
          this.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodDelete);
        }
        return;
      }
      const old = this.cache.getPod(pod);
      this.cache.updatePod(old, pod);
      if (!old || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) {
        this.queue.moveAllToActiveOrBackoffQueue(old ? ClusterEvents.AssignedPodUpdate : ClusterEvents.AssignedPodAdd);
      }
      return;
    }
    if (!this.isOurPendingPod(pod)) {
      this.queue.delete(pod);
      return;
    }
    this.queue.update(undefined, pod);
  }

  /** onPodDelete: a bound pod leaves the cache (room for others), a pending one the queue. */
  onPodDelete(pod: Pod): void {
    if (pod.spec?.nodeName || this.cache.getPod(pod)) {
      this.queue.delete(pod);
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodDelete);
      return;
    }
    this.queue.delete(pod);
  }

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeAdd);
  }

  onNodeUpdate(node: Node): void {
    const old = this.cache.getNode(node.metadata.name ?? '');
    this.cache.updateNode(old, node);
    if (nodeSchedulingPropertiesChanged(old, node)) this.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeUpdate);
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node);
  }

  onNamespace(ns: Namespace, deleted = false): void {
    const name = ns.metadata.name ?? '';
    if (deleted) this.namespaceLabels.delete(name);
    else this.namespaceLabels.set(name, ns.metadata.labels ?? {});
  }

  private isOurPendingPod(pod: Pod): boolean {
    return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp && !isPodTerminal(pod) && this.frameworkFor(pod) !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  /**
   * run wires the informers (pods, nodes, namespaces, PodDisruptionBudgets), waits for them to sync, then schedules
   * until signal aborts. onSynced is called once the caches are full.
   */
  async run(informers: InformerFactory, signal: AbortSignal, onSynced?: () => void): Promise<void> {
    const pods = informers.informerFor<Pod>(Pods);
    const nodes = informers.informerFor<Node>(Nodes);
    const namespaces = informers.informerFor<Namespace>(Namespaces);
    const pdbInformer = informers.informerFor<PodDisruptionBudget>(PodDisruptionBudgets);
    const pdbLister = pdbInformer.lister();
    this.pdbs = () => pdbLister.list();
    const services = informers.informerFor<SelectingObject>(Services);
    const replicaSets = informers.informerFor<SelectingObject>(ReplicaSets);
    const statefulSets = informers.informerFor<SelectingObject>(StatefulSets);
    const replicationControllers = informers.informerFor<SelectingObject>(ReplicationControllers);
    const podLister = pods.lister();
    this.setPodLookup((ns, name) => podLister.get(`${ns}/${name}`));
    const serviceLister = services.lister();
    const replicaSetLister = replicaSets.lister();
    const statefulSetLister = statefulSets.lister();
    const replicationControllerLister = replicationControllers.lister();
    this.setWorkloadListers({
      services: (ns) => serviceLister.list(ns),
      replicaSet: (ns, name) => replicaSetLister.get(`${ns}/${name}`),
      statefulSet: (ns, name) => statefulSetLister.get(`${ns}/${name}`),
      replicationController: (ns, name) => replicationControllerLister.get(`${ns}/${name}`),
    });
    const guard = <T>(what: string, fn: (obj: T) => void) => (obj: T) => {
      try {
        fn(obj);
      } catch (err) {
        this.log.error('Event handler failed', { handler: what, err: err instanceof Error ? err : String(err) });
      }
    };
    pods.on('add', guard('pod add', (p: Pod) => this.onPodAdd(p)));
    pods.on('update', guard('pod update', (p: Pod) => this.onPodUpdate(p)));
    pods.on('delete', guard('pod delete', (p: Pod) => this.onPodDelete(p)));
    nodes.on('add', guard('node add', (n: Node) => this.onNodeAdd(n)));
    nodes.on('update', guard('node update', (n: Node) => this.onNodeUpdate(n)));
    nodes.on('delete', guard('node delete', (n: Node) => this.onNodeDelete(n)));
    namespaces.on('add', guard('namespace add', (n: Namespace) => this.onNamespace(n)));
    namespaces.on('update', guard('namespace update', (n: Namespace) => this.onNamespace(n)));
    namespaces.on('delete', guard('namespace delete', (n: Namespace) => this.onNamespace(n, true)));
    const volumeInformers = this.watchVolumes(informers, guard);
    for (const inf of [namespaces, nodes, pods, pdbInformer, services, replicaSets, statefulSets, replicationControllers, ...volumeInformers]) inf.start();
    for (const inf of [namespaces, nodes, pods, pdbInformer, services, replicaSets, statefulSets, replicationControllers, ...volumeInformers]) {
      if (!(await inf.waitForSync(signal))) return;
    }
    this.log.info('Caches synced', { nodes: this.cache.nodeCount(), pods: this.cache.podCount(), pending: this.queue.pendingPods().active });
    onSynced?.();
    await this.scheduleLoop(signal);
  }

  /**
   * watchVolumes wires the claim, volume and class informers VolumeBinding reads; any change may
   * make a pod waiting for its volumes schedulable (kube registers these events for the plugin).
   */
  private watchVolumes(informers: InformerFactory, guard: <T>(what: string, fn: (obj: T) => void) => (obj: T) => void) {
    const claims = informers.informerFor<PersistentVolumeClaim>(PersistentVolumeClaims);
    const volumes = informers.informerFor<PersistentVolume>(PersistentVolumes);
    const classes = informers.informerFor<StorageClass>(StorageClasses);
    const claimLister = claims.lister();
    const volumeLister = volumes.lister();
    const classLister = classes.lister();
    this.volumes = {
      claim: (ns, name) => claimLister.get(`${ns}/${name}`),
      volume: (name) => volumeLister.get(name),
      volumes: () => volumeLister.list(),
      storageClass: (name) => classLister.get(name),
    };
    const changed = guard('volume change', () => this.queue.moveAllToActiveOrBackoffQueue(volumeChange));
    for (const inf of [claims, volumes, classes] as const) {
      (inf as { on(ev: string, fn: (o: unknown) => void): void }).on('add', changed);
      (inf as { on(ev: string, fn: (o: unknown) => void): void }).on('update', changed);
    }
    return [claims, volumes, classes];
  }

  /** scheduleLoop pops and schedules pods until signal aborts, then waits for bindings in flight. */
  async scheduleLoop(signal: AbortSignal): Promise<void> {
    this.queue.run();
    const cleanup = this.every(1_000, () => {
      const n = this.cache.cleanupAssumedPods();
      if (n) this.log.info('Expired assumed pods the informer never confirmed', { count: n });
    });
    try {
      while (!signal.aborted) {
        await this.binder.waitForSlot(signal);
        const pInfo = await this.queue.pop(signal);
        if (!pInfo) break;
        try {
          this.scheduleOne(pInfo);
        } catch (err) {
          this.log.error('Scheduling cycle failed', { pod: pInfo.key, err: err instanceof Error ? err : String(err) });
          this.queue.done(pInfo);
        }
        // A cycle is synchronous: let I/O (informer events, binding answers) in between cycles.
        await yieldToLoop();
      }
    } finally {
      this.clock.clearTimeout(cleanup.handle);
      cleanup.stop();
      this.queue.close();
    }
    await this.drain();
  }

  /** drain waits for bindings and background API calls to finish (tests, shutdown). */
  async drain(): Promise<void> {
    await this.binder.drain();
    while (this.background.size) await Promise.allSettled([...this.background]);
  }

  private every(ms: number, fn: () => void): { handle: TimerHandle; stop: () => void } {
    let stopped = false;
    const ref = { handle: undefined as TimerHandle, stop: () => (stopped = true) };
    const tick = () => {
      if (stopped) return;
      fn();
      ref.handle = this.clock.setTimeout(tick, ms);
    };
    ref.handle = this.clock.setTimeout(tick, ms);
    return ref;
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined);
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
  }

  // ---------------------------------------------------------------------------------------------
  // One pod

  /**
   * scheduleOne is one scheduling cycle for pInfo (synchronous); on success it assumes the pod
   * and starts its binding cycle on the Binder.
   */
  scheduleOne(pInfo: QueuedPodInfo): void {
    const pod = pInfo.pod;
    const fwk = this.frameworkFor(pod);
    if (!fwk || this.skipPodSchedule(pod)) {
      this.queue.done(pInfo);
      return;
    }
    const started = this.clock.now();
    const podSchedulingCycle = this.queue.schedulingCycle();
    const state = new CycleState();
    this.cache.updateSnapshot(this.snapshot);
    let host: string;
    try {
      host = schedulePod(fwk, state, pod, this.snapshot, this.schedulingOptions).suggestedHost;
    } catch (err) {
      this.onScheduleFailure(fwk, state, pInfo, err, podSchedulingCycle, started);
      return;
    }
    // Assume: from now on the pod counts on host for every following cycle.
    const assumed: Pod = { ...pod, spec: { ...pod.spec, nodeName: host } };
    try {
      this.cache.assumePod(assumed, podInfoForCycle(state, pod).withPod(assumed));
    } catch (err) {
      this.log.error('Could not assume pod', { pod: pInfo.key, err: err instanceof Error ? err : String(err) });
      this.handleSchedulingFailure(fwk, pInfo, err, PodReasonSchedulerError, podSchedulingCycle, undefined);
      this.metrics.attempt('error', fwk.profileName, (this.clock.now() - started) / 1000);
      return;
    }
    this.queue.deleteNominatedPodIfExists(pod);
    this.binder.run(() => this.bindingCycle(fwk, pInfo, assumed, host, started, podSchedulingCycle));
  }

  /** skipPodSchedule: the pod is being deleted, or already assumed (an update re-queued it meanwhile). */
  private skipPodSchedule(pod: Pod): boolean {
    if (pod.metadata.deletionTimestamp) return true;
    return this.cache.isAssumedPod(pod);
  }

  private onScheduleFailure(fwk: Framework, state: CycleState, pInfo: QueuedPodInfo, err: unknown, cycle: number, started: number): void {
    const pod = pInfo.pod;
    let nomination: NominationChange;
    let decision: PreemptionDecision | undefined;
    let reason = PodReasonSchedulerError;
    if (err instanceof NoNodesAvailableError) {
      reason = PodReasonUnschedulable;
      nomination = '';
    } else if (err instanceof FitError) {
      reason = PodReasonUnschedulable;
      if (fwk.hasPostFilter()) {
        const { result, status } = fwk.runPostFilterPlugins(state, pod, err.diagnosis.nodeToStatus);
        err.diagnosis.postFilterMsg = statusMessage(status);
        decision = state.read<PreemptionDecision>(preemptionDecisionKey);
        if (result?.nominatedNodeName) nomination = result.nominatedNodeName;
        else if (decision && !decision.candidate) nomination = '';
      }
    } else {
      nomination = '';
    }
    this.metrics.attempt(reason === PodReasonUnschedulable ? 'unschedulable' : 'error', fwk.profileName, (this.clock.now() - started) / 1000);
    this.handleSchedulingFailure(fwk, pInfo, err, reason, cycle, nomination);
    const candidate = decision?.candidate;
    if (candidate && nomination) {
      this.metrics.preemptionAttempt();
      this.metrics.preemptionVictims(candidate.victims.length);
      const priority = podPriority(pod);
      const lower = this.queue
        .nominatedPodsForNode(candidate.name)
        .filter((pi) => podPriority(pi.pod) < priority)
        .map((pi) => pi.pod);
      this.log.info('Preempting', { pod: pInfo.key, node: candidate.name, victims: candidate.victims.map((v) => podKey(v)) });
      this.track(
        prepareCandidate(pod, candidate, {
          client: this.client,
          recorder: this.recorderFor(fwk),
          schedulerName: fwk.profileName,
          lowerPriorityNominatedPods: lower,
        }).catch((e: unknown) => this.log.error('Preemption failed', { pod: pInfo.key, node: candidate.name, err: e instanceof Error ? e : String(e) })),
      );
    }
  }

  /**
   * bindingCycle binds the assumed pod (asynchronously, beside the loop). Success confirms the
   * assumption's clock and reports Scheduled; failure forgets the assumption, frees its room for
   * other pods and retries the pod with backoff.
   */
  private async bindingCycle(fwk: Framework, pInfo: QueuedPodInfo, assumed: Pod, host: string, started: number, cycle: number): Promise<void> {
    try {
      await preBindVolumes(this.client, this.volumes, assumed, host);
      await this.binder.bind(assumed, host);
    } catch (err) {
      this.onBindFailure(fwk, pInfo, assumed, host, err, cycle);
      this.metrics.attempt('error', fwk.profileName, (this.clock.now() - started) / 1000);
      return;
    }
    try {
      this.cache.finishBinding(assumed);
      this.metrics.attempt('scheduled', fwk.profileName, (this.clock.now() - started) / 1000);
      this.metrics.podScheduled(fwk.profileName, pInfo.attempts, (this.clock.now() - pInfo.firstEnqueued) / 1000);
      const ns = assumed.metadata.namespace ?? '';
      this.recorderFor(fwk).event(assumed, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${assumed.metadata.name} to ${host}`);
      this.log.v(2).info('Successfully bound pod to node', { pod: pInfo.key, node: host, attempts: pInfo.attempts });
    } finally {
      this.queue.done(pInfo);
    }
  }

  private onBindFailure(fwk: Framework, pInfo: QueuedPodInfo, assumed: Pod, host: string, err: unknown, cycle: number): void {
    try {
      this.cache.forgetPod(assumed);
    } catch (e) {
      this.log.error('Could not forget assumed pod', { pod: pInfo.key, err: e instanceof Error ? e : String(e) });
    }
    // The room the assumption held is free again.
    this.queue.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodDelete);
    if (isNotFound(err) || (isConflict(err) && /already assigned|being deleted/.test((err as Error).message))) {
      // Gone, bound by someone else, or being deleted: nothing left to schedule.
      this.log.info('Pod no longer needs binding', { pod: pInfo.key, node: host, err: (err as Error).message });
      this.queue.done(pInfo);
      return;
    }
    pInfo.unschedulablePlugins = new Set();
    const why = new Error(`running Bind plugin "DefaultBinder": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    this.handleSchedulingFailure(fwk, pInfo, why, PodReasonSchedulerError, cycle, '');
  }

  /**
   * handleSchedulingFailure puts the pod back (unless it was deleted or bound meanwhile),
   * records a nomination, and tells the user: a FailedScheduling event and PodScheduled=False
   * with the reason, written only when the condition or nomination changes.
   */
  handleSchedulingFailure(fwk: Framework, pInfo: QueuedPodInfo, err: unknown, reason: string, cycle: number, nomination: NominationChange): void {
    const pod = pInfo.pod;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof FitError) {
      pInfo.unschedulablePlugins = new Set([...err.diagnosis.unschedulablePlugins, ...err.diagnosis.pendingPlugins]);
      this.log.v(2).info('Unable to schedule pod; no fit; waiting', { pod: pInfo.key, err: message });
    } else if (err instanceof NoNodesAvailableError) {
      pInfo.unschedulablePlugins = new Set();
      this.log.v(2).info('Unable to schedule pod; no nodes are registered to the cluster; waiting', { pod: pInfo.key });
    } else {
      pInfo.unschedulablePlugins = new Set();
      this.log.error('Error scheduling pod; retrying', { pod: pInfo.key, err: message });
    }
    const cached = this.lookupPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    const current = cached && cached.metadata.uid === pod.metadata.uid ? cached : undefined;
    if (!current || this.queue.isDeleted(pInfo)) {
      this.log.v(2).info('Pod does not exist in informer cache', { pod: pInfo.key });
      this.queue.done(pInfo);
      return;
    }
    if (current.spec?.nodeName) {
      this.log.info('Pod has been assigned to node. Abort adding it back to queue.', { pod: pInfo.key, node: current.spec.nodeName });
      this.queue.done(pInfo);
      return;
    }
    pInfo.pod = current;
    if (nomination !== undefined) this.queue.addNominatedPod(current, nomination);
    this.recorderFor(fwk).event(current, 'Warning', FailedSchedulingReason, truncateMessage(message));
    // The pod stays in flight until its status is written: a later attempt that binds it must
    // not race with this PodScheduled=False. Cluster events meanwhile send it to backoffQ.
    this.track(this.updatePodStatus(current, reason, message, nomination).finally(() => this.queue.addUnschedulableIfNotPresent(pInfo, cycle)));
  }

  /** updatePodStatus writes PodScheduled=False (and the nomination) through pods/status when they change. */
  private async updatePodStatus(pod: Pod, reason: string, message: string, nomination: NominationChange): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const conditionChanged = !old || old.status !== 'False' || old.reason !== reason || old.message !== message;
    const currentNomination = pod.status?.nominatedNodeName ?? '';
    const nominationChanged = nomination !== undefined && nomination !== currentNomination;
    if (!conditionChanged && !nominationChanged) return;
    const condition: Record<string, unknown> = { type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null };
    if (!old || old.status !== 'False') condition.lastTransitionTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominationChanged) status.nominatedNodeName = nomination || null;
    try {
      await this.client.patch(Pods, pod.metadata.namespace ?? '', pod.metadata.name ?? '', 'strategic', { status }, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      this.log.warn('Error updating pod status', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: err instanceof Error ? err.message : String(err) });
    }
  }

  private recorderFor(fwk: Framework): Recorder {
    return this.recorders.get(fwk.profileName)!;
  }
}

/** truncateMessage keeps an event message within the Event API's limit, as kube does. */
export function truncateMessage(message: string): string {
  if (message.length <= maxEventMessageLength) return message;
  const suffix = ' ...';
  return message.slice(0, maxEventMessageLength - suffix.length) + suffix;
}
