// NodeResourcesFit, as kube-scheduler's plugin of that name. Filter: the pod's requests
// (computePodResourceRequest, from the cycle's PodInfo) must fit in allocatable minus what the
// node's pods already request, and the node must have a pod slot left; every shortfall is a
// reason ("Insufficient cpu", "Too many pods", "Insufficient example.com/gpu"). Score: the
// configured scoring strategy; skiff's default is MostAllocated (bin packing).

import type { Pod } from '../../lib/api/core/pod.js';
import { type CycleState, podInfoForCycle } from '../framework/cyclestate.js';
import type { FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import { computePodResourceRequest, isExtendedResourceName, type Resource } from '../framework/resource.js';
import type { Snapshot } from '../framework/snapshot.js';
import { asError, type Status, success, unschedulable } from '../framework/status.js';
import {
  DefaultResources,
  ResourceAllocationScorer,
  type ResourceSpec,
  type ScorerFunction,
  type UtilizationShapePoint,
  leastAllocatedScorer,
  mostAllocatedScorer,
  podRequestList,
  requestedToCapacityRatioScorer,
} from './resourceallocation.js';

/** NodeResourcesFitName is the plugin's name in configuration. */
export const NodeResourcesFitName = 'NodeResourcesFit';

/** ScoringStrategyType names NodeResourcesFit's scoring strategies. */
export const ScoringStrategyType = {
  LeastAllocated: 'LeastAllocated',
  MostAllocated: 'MostAllocated',
  RequestedToCapacityRatio: 'RequestedToCapacityRatio',
} as const;
export type ScoringStrategyType = (typeof ScoringStrategyType)[keyof typeof ScoringStrategyType];

/** ScoringStrategy is NodeResourcesFitArgs.scoringStrategy. */
export interface ScoringStrategy {
  type: ScoringStrategyType;
  resources: ResourceSpec[];
  requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
}

/** NodeResourcesFitArgs is NodeResourcesFitArgs (validated and defaulted by scheduler/config.ts). */
export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: ScoringStrategy;
}

/** defaultNodeResourcesFitArgs: MostAllocated over cpu and memory, weight 1 each. */
export function defaultNodeResourcesFitArgs(): NodeResourcesFitArgs {
  return { scoringStrategy: { type: ScoringStrategyType.MostAllocated, resources: DefaultResources.map((r) => ({ ...r })) } };
}

const preFilterStateKey = 'PreFilter' + NodeResourcesFitName;
const preScoreStateKey = 'PreScore' + NodeResourcesFitName;

/** ReasonTooManyPods and friends are NodeResourcesFit's reasons, verbatim. */
export const ReasonTooManyPods = 'Too many pods';
export const ReasonInsufficientCPU = 'Insufficient cpu';
export const ReasonInsufficientMemory = 'Insufficient memory';
export const ReasonInsufficientEphemeralStorage = 'Insufficient ephemeral-storage';

interface ScalarRequest {
  name: string;
  quantity: number;
  reason: string;
}

interface PreFilterState {
  req: Resource;
  /** scalars are the non-zero, non-ignored scalar requests, with their reason text made once. */
  scalars: ScalarRequest[];
  /** requestsNothing: no cpu, memory, ephemeral storage or scalar request (only the pod slot is checked). */
  requestsNothing: boolean;
}

interface PreScoreState {
  podRequests: number[];
}

/** InsufficientResource says which resource does not fit, as kube's Fits returns them. */
export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

function buildPreFilterState(req: Resource, ignored: ReadonlySet<string>, ignoredGroups: ReadonlySet<string>): PreFilterState {
  const scalars: ScalarRequest[] = [];
  let anyScalar = false;
  for (const name in req.scalar) {
    anyScalar = true;
    const q = req.scalar[name];
    if (q === 0) continue;
    if (isExtendedResourceName(name) && (ignored.has(name) || (ignoredGroups.size > 0 && ignoredGroups.has(name.split('/')[0])))) continue;
    scalars.push({ name, quantity: q, reason: `Insufficient ${name}` });
  }
  return { req, scalars, requestsNothing: req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && !anyScalar };
}

/** fitsRequest lists what does not fit, in kube's order: pods, cpu, memory, ephemeral-storage, scalars. */
function fitsRequest(s: PreFilterState, nodeInfo: NodeInfo): InsufficientResource[] | undefined {
  let out: InsufficientResource[] | undefined;
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  const podCount = nodeInfo.pods.length;
  if (podCount + 1 > alloc.allowedPodNumber) {
    (out ??= []).push({ resourceName: 'pods', reason: ReasonTooManyPods, requested: 1, used: podCount, capacity: alloc.allowedPodNumber });
  }
  if (s.requestsNothing) return out;
  const req = s.req;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) {
    (out ??= []).push({ resourceName: 'cpu', reason: ReasonInsufficientCPU, requested: req.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) {
    (out ??= []).push({ resourceName: 'memory', reason: ReasonInsufficientMemory, requested: req.memory, used: used.memory, capacity: alloc.memory });
  }
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    (out ??= []).push({
      resourceName: 'ephemeral-storage',
      reason: ReasonInsufficientEphemeralStorage,
      requested: req.ephemeralStorage,
      used: used.ephemeralStorage,
      capacity: alloc.ephemeralStorage,
    });
  }
  for (const sc of s.scalars) {
    const a = alloc.scalar[sc.name] ?? 0;
    const u = used.scalar[sc.name] ?? 0;
    if (sc.quantity > a - u) (out ??= []).push({ resourceName: sc.name, reason: sc.reason, requested: sc.quantity, used: u, capacity: a });
  }
  return out;
}

/** fits is Fits: what the pod lacks on the node (empty when it fits), ignoring no resource. For use outside a cycle. */
export function fits(pod: Pod, nodeInfo: NodeInfo): InsufficientResource[] {
  return fitsRequest(buildPreFilterState(computePodResourceRequest(pod), new Set(), new Set()), nodeInfo) ?? [];
}

function newScorer(strategy: ScoringStrategy): ScorerFunction {
  switch (strategy.type) {
    case ScoringStrategyType.MostAllocated:
      return mostAllocatedScorer(strategy.resources);
    case ScoringStrategyType.LeastAllocated:
      return leastAllocatedScorer(strategy.resources);
    case ScoringStrategyType.RequestedToCapacityRatio:
      if (!strategy.requestedToCapacityRatio?.shape?.length) throw new Error('scoringStrategy.requestedToCapacityRatio.shape: Required value');
      return requestedToCapacityRatioScorer(strategy.resources, strategy.requestedToCapacityRatio.shape);
    default:
      throw new Error(`scoring strategy ${String((strategy as { type: unknown }).type)} is not supported`);
  }
}

/** newNodeResourcesFit builds the plugin from its args (defaults: MostAllocated, cpu:1 memory:1). */
export function newNodeResourcesFit(args: NodeResourcesFitArgs = {}): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const strategy = args.scoringStrategy ?? defaultNodeResourcesFitArgs().scoringStrategy!;
  const scorer = new ResourceAllocationScorer(strategy.resources, newScorer(strategy), false);
  const ignored = new Set(args.ignoredResources ?? []);
  const ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
  const reasonStatus = new Map<string, Status>();
  const statusFor = (missing: InsufficientResource[]): Status => {
    if (missing.length > 1) return unschedulable(...missing.map((m) => m.reason));
    // One reason is the common case: share one frozen status per reason.
    const reason = missing[0].reason;
    let s = reasonStatus.get(reason);
    if (!s) reasonStatus.set(reason, (s = Object.freeze(unschedulable(reason))));
    return s;
  };
  return {
    name: NodeResourcesFitName,
    preFilter(state: CycleState, pod: Pod, _snapshot: Snapshot): Status {
      state.write(preFilterStateKey, buildPreFilterState(podInfoForCycle(state, pod).requests, ignored, ignoredGroups));
      return success();
    },
    filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
      const s = state.read<PreFilterState>(preFilterStateKey);
      if (!s) return asError(new Error(`error reading "${preFilterStateKey}" from cycleState: not found`));
      const missing = fitsRequest(s, nodeInfo);
      return missing ? statusFor(missing) : success();
    },
    preScore(state: CycleState, pod: Pod, _nodes: readonly NodeInfo[]): Status {
      state.write(preScoreStateKey, { podRequests: podRequestList(podInfoForCycle(state, pod), strategy.resources, false) } satisfies PreScoreState);
      return success();
    },
    score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): [number, Status] {
      const s = state.read<PreScoreState>(preScoreStateKey) ?? { podRequests: podRequestList(podInfoForCycle(state, pod), strategy.resources, false) };
      return [scorer.score(nodeInfo, s.podRequests), success()];
    },
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
}
