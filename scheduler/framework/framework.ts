// The scheduling framework runtime and one scheduling cycle's algorithm, after kube-scheduler's
// framework/runtime/framework.go (run* extension points) and schedule_one.go (schedulePod,
// findNodesThatFitPod, findNodesThatPassFilters, numFeasibleNodesToFind, prioritizeNodes,
// selectHost). Everything here is synchronous: one cycle runs to completion on the JS thread.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Labels } from '../../lib/machinery/labels.js';
import { CycleState, SnapshotStateKey } from './cyclestate.js';
import { type Diagnosis, FitError, newDiagnosis, type NodeToStatus, NoNodesAvailableError } from './errors.js';
import { type FilterPlugin, MaxNodeScore, MinNodeScore, type NodePluginScores, type NodeScore, type Plugin, type PostFilterPlugin, type PostFilterResult, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from './interface.js';
import type { NodeInfo } from './nodeinfo.js';
import type { PodInfo } from './podinfo.js';
import type { Snapshot } from './snapshot.js';
import { asError, Code, isRejected, type Status, statusMessage, success, unschedulable, withPlugin } from './status.js';

// ---------------------------------------------------------------------------------------------
// Profiles and the registry

/** ScorePluginRef is a score plugin and its weight in a profile. */
export interface ScorePluginRef {
  name: string;
  weight: number;
}

/**
 * FrameworkProfile is one resolved scheduler profile (what KubeSchedulerProfile becomes after
 * defaulting): the plugins enabled at each extension point, in run order, score weights, and each
 * plugin's args (pluginConfig[].args by plugin name).
 */
export interface FrameworkProfile {
  schedulerName: string;
  /** percentageOfNodesToScore overrides the global setting for this profile when set. */
  percentageOfNodesToScore?: number;
  plugins: {
    preFilter: string[];
    filter: string[];
    postFilter: string[];
    preScore: string[];
    score: ScorePluginRef[];
  };
  pluginConfig: Record<string, unknown>;
}

/** PluginFactory builds a plugin from its args (pluginConfig) and the framework it runs in (the Handle). */
export type PluginFactory = (args: unknown, fh: Framework) => Plugin;

/** Registry maps plugin names to factories. */
export type Registry = Record<string, PluginFactory>;

/** PodNominator answers which pods are nominated to a node (pods that preempted there and wait for room). */
export interface PodNominator {
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  /** hasNominatedPods: some pod is nominated to some node (when none is, filtering skips the per-node lookup). */
  hasNominatedPods?(): boolean;
}

/** SelectingObject is the part of a Service, ReplicaSet, StatefulSet or ReplicationController that says which pods it selects. */
export interface SelectingObject {
  metadata?: { name?: string; namespace?: string };
  /** spec.selector: a label map (Service, ReplicationController) or a LabelSelector (ReplicaSet, StatefulSet). */
  spec?: { selector?: unknown };
}

/**
 * WorkloadListers are the Handle's informer reads of the objects that select pods (the Services,
 * ReplicationControllers, ReplicaSets and StatefulSets listers PodTopologySpread's default
 * constraints read through kube's SharedInformerFactory). A kind the cluster does not serve is left out.
 */
export interface WorkloadListers {
  /** services lists the Services of a namespace. */
  services?(namespace: string): readonly SelectingObject[];
  /** replicationControllers, replicaSets and statefulSets get one object by namespace and name. */
  replicationController?(namespace: string, name: string): SelectingObject | undefined;
  replicaSet?(namespace: string, name: string): SelectingObject | undefined;
  statefulSet?(namespace: string, name: string): SelectingObject | undefined;
}

/** FrameworkOptions are what the scheduler process plugs into a framework. */
export interface FrameworkOptions {
  /** workloads are the listers of pod-selecting objects (PodTopologySpread's system default constraints); none means none exist. */
  workloads?: WorkloadListers;
  /** nominator makes runFilterPluginsWithNominatedPods account for nominated pods. */
  nominator?: PodNominator;
  /** namespaceLabels returns a namespace's labels (pod affinity namespaceSelector); none means no labels. */
  namespaceLabels?: (namespace: string) => Labels | undefined;
}

interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

function implementsPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === 'function';
}
function implementsFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as Partial<FilterPlugin>).filter === 'function';
}
function implementsPostFilter(p: Plugin): p is PostFilterPlugin {
  return typeof (p as Partial<PostFilterPlugin>).postFilter === 'function';
}
function implementsPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as Partial<PreScorePlugin>).preScore === 'function';
}
function implementsScore(p: Plugin): p is ScorePlugin {
  return typeof (p as Partial<ScorePlugin>).score === 'function';
}

/** podPriority is corev1helpers.PodPriority: spec.priority, 0 when unset. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Framework

/**
 * Framework is frameworkImpl: one profile's plugins, each built once from the registry, and the
 * run* methods that call them at each extension point. A plugin implementing several extension
 * points is one object shared by all of them.
 */
export class Framework {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number | undefined;
  readonly preFilterPlugins: PreFilterPlugin[] = [];
  readonly filterPlugins: FilterPlugin[] = [];
  readonly postFilterPlugins: PostFilterPlugin[] = [];
  readonly preScorePlugins: PreScorePlugin[] = [];
  readonly scorePlugins: WeightedScorePlugin[] = [];
  private readonly plugins = new Map<string, Plugin>();
  /** stamped caches plugin-stamped copies of frozen (shared) statuses, so rejecting 5,000 nodes allocates nothing. */
  private readonly stamped = new WeakMap<Status, Status>();

  constructor(
    readonly profile: FrameworkProfile,
    registry: Registry,
    private readonly opts: FrameworkOptions = {},
  ) {
    this.profileName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    const instance = (name: string, point: string): Plugin => {
      let p = this.plugins.get(name);
      if (p) return p;
      const factory = registry[name];
      if (!factory) throw new Error(`${point} plugin "${name}" does not exist`);
      p = factory(profile.pluginConfig[name], this);
      this.plugins.set(name, p);
      return p;
    };
    const need = <T extends Plugin>(name: string, point: string, ok: (p: Plugin) => p is T): T => {
      const p = instance(name, point);
      if (!ok(p)) throw new Error(`plugin "${name}" does not extend ${point} plugin`);
      return p;
    };
    for (const n of profile.plugins.preFilter) this.preFilterPlugins.push(need(n, 'preFilter', implementsPreFilter));
    for (const n of profile.plugins.filter) this.filterPlugins.push(need(n, 'filter', implementsFilter));
    for (const n of profile.plugins.postFilter) this.postFilterPlugins.push(need(n, 'postFilter', implementsPostFilter));
    for (const n of profile.plugins.preScore) this.preScorePlugins.push(need(n, 'preScore', implementsPreScore));
    for (const s of profile.plugins.score) {
      if (!Number.isInteger(s.weight) || s.weight <= 0) throw new Error(`score plugin "${s.name}" weight must be a positive integer, got ${s.weight}`);
      this.scorePlugins.push({ plugin: need(s.name, 'score', implementsScore), weight: s.weight });
    }
  }

  /** namespaceLabels is the Handle's view of a namespace's labels (undefined when unknown). */
  namespaceLabels(namespace: string): Labels | undefined {
    return this.opts.namespaceLabels?.(namespace);
  }

  /** workloads is the Handle's view of the objects that select pods (empty when the process gave none). */
  workloads(): WorkloadListers {
    return this.opts.workloads ?? {};
  }

  /** listPlugins names every plugin instance of the profile. */
  listPlugins(): string[] {
    return [...this.plugins.keys()];
  }

  /** plugin returns the named plugin instance (tests, preemption). */
  plugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }

  hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }

  /** hasPostFilter: the profile has PostFilter plugins (preemption); without them a FitError ends the cycle. */
  hasPostFilter(): boolean {
    return this.postFilterPlugins.length > 0;
  }

  /**
   * runPreFilterPlugins runs every PreFilter plugin; Skip marks the plugin's Filter as skipped for
   * this cycle. The first rejection is returned stamped with its plugin; an Error stops at once.
   */
  runPreFilterPlugins(state: CycleState, pod: Pod, snapshot: Snapshot): Status {
    state.write(SnapshotStateKey, snapshot);
    for (const pl of this.preFilterPlugins) {
      let s: Status;
      try {
        s = pl.preFilter(state, pod, snapshot);
      } catch (err) {
        s = asError(err);
      }
      if (s.code === Code.Success) continue;
      if (s.code === Code.Skip) {
        state.skipFilterPlugins.add(pl.name);
        continue;
      }
      if (isRejected(s)) return withPlugin(s, pl.name);
      return withPlugin(asError(new Error(`running PreFilter plugin "${pl.name}": ${statusMessage(s)}`, { cause: s.err })), pl.name);
    }
    return success();
  }

  /** runPreFilterExtensionAddPod tells each PreFilter plugin's extensions that podInfoToAdd joined nodeInfo. */
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      if (!pl.preFilterExtensions || state.skipFilterPlugins.has(pl.name)) continue;
      const s = pl.preFilterExtensions.addPod(state, podToSchedule, podInfoToAdd, nodeInfo);
      if (s.code !== Code.Success) return withPlugin(asError(new Error(`running AddPod on PreFilter plugin "${pl.name}": ${statusMessage(s)}`)), pl.name);
    }
    return success();
  }

  /** runPreFilterExtensionRemovePod tells each PreFilter plugin's extensions that podInfoToRemove left nodeInfo. */
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      if (!pl.preFilterExtensions || state.skipFilterPlugins.has(pl.name)) continue;
      const s = pl.preFilterExtensions.removePod(state, podToSchedule, podInfoToRemove, nodeInfo);
      if (s.code !== Code.Success) return withPlugin(asError(new Error(`running RemovePod on PreFilter plugin "${pl.name}": ${statusMessage(s)}`)), pl.name);
    }
    return success();
  }

  /**
   * runFilterPlugins runs the Filter plugins on one node in order and stops at the first that
   * does not pass (so a node reports one plugin's reasons). Success is the shared success().
   */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const plugins = this.filterPlugins;
    const skipped = state.skipFilterPlugins;
    const checkSkip = skipped.size > 0;
    for (let i = 0; i < plugins.length; i++) {
      const pl = plugins[i];
      if (checkSkip && skipped.has(pl.name)) continue;
      let s: Status;
      try {
        s = pl.filter(state, pod, nodeInfo);
      } catch (err) {
        s = asError(err);
      }
      if (s.code === Code.Success) continue;
      if (!isRejected(s)) {
        return withPlugin(asError(new Error(`running "${pl.name}" filter plugin: ${statusMessage(s)}`, { cause: s.err })), pl.name);
      }
      return this.stamp(s, pl.name);
    }
    return success();
  }

  private stamp(s: Status, plugin: string): Status {
    if (s.plugin === plugin) return s;
    if (!Object.isFrozen(s)) return withPlugin(s, plugin);
    let c = this.stamped.get(s);
    if (c?.plugin !== plugin) {
      c = Object.freeze(withPlugin(s, plugin));
      this.stamped.set(s, c);
    }
    return c;
  }

  /**
   * runFilterPluginsWithNominatedPods is RunFilterPluginsWithNominatedPods: when pods of equal or
   * higher priority are nominated to the node, the pod must fit both with them (first pass, on a
   * clone of the node and state) and without them (second pass), since they may or may not
   * arrive; otherwise a single pass.
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const added = this.addGENominatedPods(state, pod, nodeInfo);
    if (!added) return this.runFilterPlugins(state, pod, nodeInfo);
    if ('code' in added) return added;
    const s = this.runFilterPlugins(added.state, pod, added.nodeInfo);
    if (s.code !== Code.Success) return s;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  private addGENominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { state: CycleState; nodeInfo: NodeInfo } | Status | undefined {
    if (!this.opts.nominator || !nodeInfo.hasNode || this.opts.nominator.hasNominatedPods?.() === false) return undefined;
    const nominated = this.opts.nominator.nominatedPodsForNode(nodeInfo.name);
    if (nominated.length === 0) return undefined;
    const priority = podPriority(pod);
    const uid = pod.metadata.uid;
    let out: { state: CycleState; nodeInfo: NodeInfo } | undefined;
    for (const pi of nominated) {
      if (podPriority(pi.pod) < priority || (uid && pi.pod.metadata.uid === uid)) continue;
      out ??= { state: state.clone(), nodeInfo: nodeInfo.clone() };
      out.nodeInfo.addPod(pi);
      const s = this.runPreFilterExtensionAddPod(out.state, pod, pi, out.nodeInfo);
      if (s.code !== Code.Success) return s;
    }
    return out;
  }

  /** runPreScorePlugins runs every PreScore plugin over the feasible nodes; Skip marks its Score as skipped. */
  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status {
    for (const pl of this.preScorePlugins) {
      let s: Status;
      try {
        s = pl.preScore(state, pod, nodes);
      } catch (err) {
        s = asError(err);
      }
      if (s.code === Code.Success) continue;
      if (s.code === Code.Skip) {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      return withPlugin(asError(new Error(`running PreScore plugin "${pl.name}": ${statusMessage(s)}`, { cause: s.err })), pl.name);
    }
    return success();
  }

  /**
   * runScorePlugins scores every node with each Score plugin not skipped, normalizes each plugin's
   * scores, checks they are within [MinNodeScore, MaxNodeScore], multiplies by the plugin's weight
   * and sums per node.
   */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): [NodePluginScores[], Status] {
    const plugins = this.scorePlugins.filter((p) => !state.skipScorePlugins.has(p.plugin.name));
    const all: NodePluginScores[] = new Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) all[i] = { name: nodes[i].name, scores: new Array(plugins.length), totalScore: 0 };
    for (let j = 0; j < plugins.length; j++) {
      const { plugin: pl, weight } = plugins[j];
      const list: NodeScore[] = new Array(nodes.length);
      for (let i = 0; i < nodes.length; i++) {
        let r: [number, Status];
        try {
          r = pl.score(state, pod, nodes[i]);
        } catch (err) {
          r = [0, asError(err)];
        }
        if (r[1].code !== Code.Success) {
          return [[], withPlugin(asError(new Error(`running Score plugin "${pl.name}": ${statusMessage(r[1])}`, { cause: r[1].err })), pl.name)];
        }
        list[i] = { name: all[i].name, score: r[0] };
      }
      if (pl.normalizeScore) {
        const s = pl.normalizeScore(state, pod, list);
        if (s.code !== Code.Success) {
          return [[], withPlugin(asError(new Error(`running Normalize on Score plugin "${pl.name}": ${statusMessage(s)}`, { cause: s.err })), pl.name)];
        }
      }
      for (let i = 0; i < list.length; i++) {
        const score = list[i].score;
        if (!(score >= MinNodeScore && score <= MaxNodeScore)) {
          return [
            [],
            withPlugin(asError(new Error(`plugin "${pl.name}" returns an invalid score ${score}, it should in the range of [${MinNodeScore}, ${MaxNodeScore}] after normalizing`)), pl.name),
          ];
        }
        const weighted = score * weight;
        all[i].scores[j] = { name: pl.name, score: weighted };
        all[i].totalScore += weighted;
      }
    }
    return [all, success()];
  }

  /**
   * runPostFilterPlugins runs PostFilter plugins until one succeeds or finds the pod unresolvable;
   * otherwise it returns Unschedulable with every plugin's reasons, stamped with the first
   * rejecting plugin. The caller puts statusMessage(status) in diagnosis.postFilterMsg.
   */
  runPostFilterPlugins(state: CycleState, pod: Pod, filteredNodeStatusMap: NodeToStatus): { result?: PostFilterResult; status: Status } {
    let result: PostFilterResult | undefined;
    const reasons: string[] = [];
    let rejector = '';
    for (const pl of this.postFilterPlugins) {
      let r: { result?: PostFilterResult; status: Status };
      try {
        r = pl.postFilter(state, pod, filteredNodeStatusMap);
      } catch (err) {
        r = { status: asError(err) };
      }
      const s = r.status;
      if (s.code === Code.Success) return r;
      if (s.code === Code.UnschedulableAndUnresolvable) return { result: r.result, status: withPlugin(s, pl.name) };
      if (!isRejected(s)) return { status: withPlugin(asError(s.err ?? new Error(statusMessage(s))), pl.name) };
      if (r.result?.nominatedNodeName) result = r.result;
      reasons.push(...s.reasons);
      if (!rejector) rejector = pl.name;
    }
    const status = unschedulable(...reasons);
    return { result, status: rejector ? withPlugin(status, rejector) : status };
  }
}

/** newFramework builds a Framework for profile from registry. */
export function newFramework(profile: FrameworkProfile, registry: Registry, opts: FrameworkOptions = {}): Framework {
  return new Framework(profile, registry, opts);
}

// ---------------------------------------------------------------------------------------------
// One scheduling cycle

/** minFeasibleNodesToFind: below this many nodes all are evaluated; sampling never goes under it. */
export const minFeasibleNodesToFind = 100;
/** minFeasibleNodesPercentageToFind is the floor of the adaptive percentage. */
export const minFeasibleNodesPercentageToFind = 5;
/** DefaultPercentageOfNodesToScore: 0 means adaptive (50% minus 1% per 125 nodes, at least 5%). */
export const DefaultPercentageOfNodesToScore = 0;

/**
 * numFeasibleNodesToFind is how many feasible nodes a cycle looks for before it stops filtering:
 * all nodes below 100; else percentage% of them (adaptive when 0), never fewer than 100.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number | undefined, numAllNodes: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let percentage = percentageOfNodesToScore ?? 0;
  if (percentage === 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < minFeasibleNodesPercentageToFind) percentage = minFeasibleNodesPercentageToFind;
  }
  const n = Math.trunc((numAllNodes * percentage) / 100);
  if (n < minFeasibleNodesToFind) return minFeasibleNodesToFind;
  return n;
}

/** SchedulingOptions carry the scheduler-wide sampling state; schedulePod advances nextStartNodeIndex in place. */
export interface SchedulingOptions {
  /** percentageOfNodesToScore is the global setting (0 = adaptive); a profile's own value wins. */
  percentageOfNodesToScore?: number;
  /** nextStartNodeIndex is where the next search starts (round robin over the node list). */
  nextStartNodeIndex: number;
  /** rand returns [0,1) for tie-breaking; Math.random by default (tests pin it). */
  rand?: () => number;
}

/** ScheduleResult is where the pod should go and how much of the cluster was looked at. */
export interface ScheduleResult {
  suggestedHost: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

/** FindNodesResult is findNodesThatFitPod's answer. */
export interface FindNodesResult {
  feasibleNodes: NodeInfo[];
  diagnosis: Diagnosis;
}

/**
 * findNodesThatPassFilters filters nodes round robin from opts.nextStartNodeIndex and stops once
 * numFeasibleNodesToFind fit; rejections go to the diagnosis. An Error status throws.
 */
function findNodesThatPassFilters(fwk: Framework, state: CycleState, pod: Pod, diagnosis: Diagnosis, nodes: readonly NodeInfo[], startIndex: number, percentage: number | undefined): NodeInfo[] {
  const numNodesToFind = numFeasibleNodesToFind(percentage, nodes.length);
  const feasible: NodeInfo[] = [];
  const n = nodes.length;
  if (!fwk.hasFilterPlugins()) {
    for (let i = 0; i < numNodesToFind; i++) feasible.push(nodes[(startIndex + i) % n]);
    return feasible;
  }
  for (let i = 0; i < n && feasible.length < numNodesToFind; i++) {
    const ni = nodes[(startIndex + i) % n];
    const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
    if (s.code === Code.Success) {
      feasible.push(ni);
      continue;
    }
    if (s.code === Code.Error) throw new FrameworkError(statusMessage(s), s);
    diagnosis.nodeToStatus.set(ni.name, s);
    if (s.plugin && isRejected(s)) diagnosis.unschedulablePlugins.add(s.plugin);
  }
  return feasible;
}

/** FrameworkError is an Error status surfacing from a cycle (the pod is retried with backoff). */
export class FrameworkError extends Error {
  constructor(
    message: string,
    readonly status: Status,
  ) {
    super(message, { cause: status.err });
    this.name = 'FrameworkError';
  }
}

/**
 * findNodesThatFitPod runs PreFilter, tries a nominated node first (set by an earlier preemption)
 * and then filters the snapshot from the round-robin start; it advances opts.nextStartNodeIndex
 * by the number of nodes it processed.
 */
export function findNodesThatFitPod(fwk: Framework, state: CycleState, pod: Pod, snapshot: Snapshot, opts: SchedulingOptions): FindNodesResult {
  const diagnosis = newDiagnosis();
  const allNodes = snapshot.nodeInfoList;
  const pre = fwk.runPreFilterPlugins(state, pod, snapshot);
  if (pre.code !== Code.Success) {
    if (!isRejected(pre)) throw new FrameworkError(statusMessage(pre), pre);
    diagnosis.nodeToStatus.absentNodesStatus = pre;
    diagnosis.preFilterMsg = statusMessage(pre);
    if (pre.plugin) diagnosis.unschedulablePlugins.add(pre.plugin);
    return { feasibleNodes: [], diagnosis };
  }
  const percentage = fwk.percentageOfNodesToScore ?? opts.percentageOfNodesToScore;
  const nominated = pod.status?.nominatedNodeName;
  if (nominated) {
    const ni = snapshot.get(nominated);
    if (ni) {
      const feasible = findNodesThatPassFilters(fwk, state, pod, diagnosis, [ni], 0, percentage);
      if (feasible.length > 0) return { feasibleNodes: feasible, diagnosis };
    }
  }
  const start = allNodes.length > 0 ? opts.nextStartNodeIndex % allNodes.length : 0;
  let feasible: NodeInfo[] = [];
  try {
    feasible = findNodesThatPassFilters(fwk, state, pod, diagnosis, allNodes, start, percentage);
  } finally {
    // Advance even after an error so every node gets its turn to be looked at first.
    const processed = feasible.length + diagnosis.nodeToStatus.len;
    if (allNodes.length > 0) opts.nextStartNodeIndex = (start + processed) % allNodes.length;
  }
  return { feasibleNodes: feasible, diagnosis };
}

/**
 * prioritizeNodes runs PreScore and Score over the feasible nodes; without score plugins every
 * node scores 1. An Error status throws FrameworkError.
 */
export function prioritizeNodes(fwk: Framework, state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): NodePluginScores[] {
  if (!fwk.hasScorePlugins()) return nodes.map((n) => ({ name: n.name, scores: [], totalScore: 1 }));
  const pre = fwk.runPreScorePlugins(state, pod, nodes);
  if (pre.code !== Code.Success) throw new FrameworkError(statusMessage(pre), pre);
  const [scores, s] = fwk.runScorePlugins(state, pod, nodes);
  if (s.code !== Code.Success) throw new FrameworkError(statusMessage(s), s);
  return scores;
}

/**
 * selectHost picks the node with the highest total score; ties are broken uniformly at random by
 * reservoir sampling (the k-th tied node replaces the choice with probability 1/k).
 */
export function selectHost(scores: readonly NodePluginScores[], rand: () => number = Math.random): string {
  if (scores.length === 0) throw new Error('empty priorityList');
  let best = scores[0];
  let ties = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i];
    if (s.totalScore > best.totalScore) {
      best = s;
      ties = 1;
    } else if (s.totalScore === best.totalScore) {
      ties++;
      if (Math.floor(rand() * ties) === 0) best = s;
    }
  }
  return best.name;
}

/**
 * schedulePod is one scheduling attempt's algorithm (Scheduler.schedulePod): find the feasible
 * nodes, score them and pick one. Throws NoNodesAvailableError for an empty cluster, FitError
 * when no node fits (run PostFilter, set diagnosis.postFilterMsg, then read the message) and
 * FrameworkError for a plugin Error. opts.nextStartNodeIndex is advanced in place.
 */
export function schedulePod(fwk: Framework, state: CycleState, pod: Pod, snapshot: Snapshot, opts: SchedulingOptions): ScheduleResult {
  if (snapshot.numNodes() === 0) throw new NoNodesAvailableError();
  const { feasibleNodes, diagnosis } = findNodesThatFitPod(fwk, state, pod, snapshot, opts);
  diagnosis.evaluatedNodes = feasibleNodes.length + diagnosis.nodeToStatus.len;
  if (feasibleNodes.length === 0) throw new FitError(pod, snapshot.numNodes(), diagnosis);
  if (feasibleNodes.length === 1) {
    return { suggestedHost: feasibleNodes[0].name, evaluatedNodes: 1 + diagnosis.nodeToStatus.len, feasibleNodes: 1 };
  }
  const scores = prioritizeNodes(fwk, state, pod, feasibleNodes);
  return { suggestedHost: selectHost(scores, opts.rand), evaluatedNodes: feasibleNodes.length + diagnosis.nodeToStatus.len, feasibleNodes: feasibleNodes.length };
}

/** newCycleState is a fresh CycleState for one attempt. */
export function newCycleState(): CycleState {
  return new CycleState();
}
