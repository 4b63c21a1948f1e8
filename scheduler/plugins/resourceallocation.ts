// The resource allocation scorer that NodeResourcesFit's scoring strategies and
// NodeResourcesBalancedAllocation share (noderesources/resource_allocation.go): per configured
// resource, what the node would have requested with the pod on it versus its allocatable, then a
// strategy function over those two vectors. Scores are integers as in kube (Go int64 division).

import type { NodeInfo } from '../framework/nodeinfo.js';
import type { PodInfo } from '../framework/podinfo.js';
import type { Resource } from '../framework/resource.js';
import { MaxNodeScore } from '../framework/interface.js';
import { isScalarResourceName, ResourceName } from '../framework/resource.js';

/** ResourceSpec is a resource and its weight in a scoring strategy. */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** UtilizationShapePoint is one point of RequestedToCapacityRatio's shape (utilization 0..100 → score 0..10). */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** ScorerFunction maps requested and allocatable per resource (same order as the resources) to a node score. */
export type ScorerFunction = (requested: Float64Array, allocatable: Float64Array) => number;

/** DefaultResources is cpu and memory, weight 1 each (defaultRequestedRatioResources). */
export const DefaultResources: readonly ResourceSpec[] = Object.freeze([
  { name: ResourceName.CPU, weight: 1 },
  { name: ResourceName.Memory, weight: 1 },
]);

/** resourceAmount reads one resource out of a Resource by name. */
export function resourceAmount(r: Resource, name: string): number {
  switch (name) {
    case ResourceName.CPU:
      return r.milliCPU;
    case ResourceName.Memory:
      return r.memory;
    case ResourceName.EphemeralStorage:
      return r.ephemeralStorage;
    case ResourceName.Pods:
      return r.allowedPodNumber;
    default:
      return r.scalar[name] ?? 0;
  }
}

/**
 * podRequestList is calculatePodResourceRequestList: the pod's request per configured resource;
 * without useRequested cpu and memory count the non-zero defaults for containers that ask for none.
 */
export function podRequestList(pi: PodInfo, resources: readonly ResourceSpec[], useRequested: boolean): number[] {
  const r = useRequested ? pi.requests : pi.nonZeroRequests;
  return resources.map((spec) => resourceAmount(r, spec.name));
}

/**
 * ResourceAllocationScorer scores nodes with one strategy over the configured resources. It owns
 * two scratch vectors it refills for every node (a cycle is synchronous, so they are never shared).
 */
export class ResourceAllocationScorer {
  private readonly requested: Float64Array;
  private readonly allocatable: Float64Array;

  constructor(
    readonly resources: readonly ResourceSpec[],
    private readonly scorer: ScorerFunction,
    /** useRequested scores with the plain requests instead of the non-zero ones (BalancedAllocation). */
    readonly useRequested: boolean,
  ) {
    this.requested = new Float64Array(resources.length);
    this.allocatable = new Float64Array(resources.length);
  }

  /** score is resourceAllocationScorer.score for one node, given the pod's podRequestList. */
  score(nodeInfo: NodeInfo, podRequests: readonly number[]): number {
    const res = this.resources;
    const requested = this.requested;
    const allocatable = this.allocatable;
    const nodeRequested = this.useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
    for (let i = 0; i < res.length; i++) {
      const name = res[i].name;
      const podRequest = podRequests[i];
      let alloc = 0;
      let req = 0;
      switch (name) {
        case ResourceName.CPU:
          alloc = nodeInfo.allocatable.milliCPU;
          req = nodeRequested.milliCPU + podRequest;
          break;
        case ResourceName.Memory:
          alloc = nodeInfo.allocatable.memory;
          req = nodeRequested.memory + podRequest;
          break;
        case ResourceName.EphemeralStorage:
          alloc = nodeInfo.allocatable.ephemeralStorage;
          req = nodeInfo.requested.ephemeralStorage + podRequest;
          break;
        default:
          // A scalar resource the pod does not ask for is left out of the score.
          if (isScalarResourceName(name) && podRequest !== 0) {
            alloc = nodeInfo.allocatable.scalar[name] ?? 0;
            req = (nodeInfo.requested.scalar[name] ?? 0) + podRequest;
          }
      }
      if (alloc === 0) {
        allocatable[i] = 0;
        requested[i] = 0;
      } else {
        allocatable[i] = alloc;
        requested[i] = req;
      }
    }
    return this.scorer(requested, allocatable);
  }
}

/** mostRequestedScore is requested*100/capacity (integer), requested capped at capacity. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.trunc((requested * MaxNodeScore) / capacity);
}

/** leastRequestedScore is (capacity-requested)*100/capacity (integer), 0 when requested exceeds capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MaxNodeScore) / capacity);
}

function weightedMean(resources: readonly ResourceSpec[], per: (req: number, cap: number) => number): ScorerFunction {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const w = resources[i].weight;
      nodeScore += per(requested[i], allocatable[i]) * w;
      weightSum += w;
    }
    return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
  };
}

/** mostAllocatedScorer favours nodes with more requested (bin packing): weighted mean of mostRequestedScore. */
export function mostAllocatedScorer(resources: readonly ResourceSpec[]): ScorerFunction {
  return weightedMean(resources, mostRequestedScore);
}

/** leastAllocatedScorer favours emptier nodes (spreading): weighted mean of leastRequestedScore. */
export function leastAllocatedScorer(resources: readonly ResourceSpec[]): ScorerFunction {
  return weightedMean(resources, leastRequestedScore);
}

/** MaxCustomPriorityScore is the top of RequestedToCapacityRatio's shape scores (scaled ×10 to MaxNodeScore). */
export const MaxCustomPriorityScore = 10;
const maxUtilization = 100;

/** buildBrokenLinearFunction is helper.BuildBrokenLinearFunction over (utilization, score) points sorted by utilization. */
export function buildBrokenLinearFunction(shape: readonly UtilizationShapePoint[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      if (p <= shape[i].utilization) {
        if (i === 0) return shape[0].score;
        const a = shape[i - 1];
        const b = shape[i];
        return a.score + Math.trunc(((b.score - a.score) * (p - a.utilization)) / (b.utilization - a.utilization));
      }
    }
    return shape[shape.length - 1].score;
  };
}

/** requestedToCapacityRatioScorer scores utilization through the configured shape (scores 0..10 scaled to 0..100). */
export function requestedToCapacityRatioScorer(resources: readonly ResourceSpec[], shape: readonly UtilizationShapePoint[]): ScorerFunction {
  const scaled = shape.map((p) => ({ utilization: p.utilization, score: p.score * (MaxNodeScore / MaxCustomPriorityScore) }));
  const raw = buildBrokenLinearFunction(scaled);
  const resourceScore = (requested: number, capacity: number) =>
    capacity === 0 || requested > capacity ? raw(maxUtilization) : raw(Math.trunc((requested * maxUtilization) / capacity));
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const w = resources[i].weight;
      const s = resourceScore(requested[i], allocatable[i]);
      if (s > 0) {
        nodeScore += s * w;
        weightSum += w;
      }
    }
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/**
 * balancedResourceScorer favours nodes whose resource fractions are even: (1 - std of the
 * requested/allocatable fractions) × 100; with two resources std is |f1 - f2| / 2.
 */
export function balancedResourceScorer(requested: Float64Array, allocatable: Float64Array): number {
  let count = 0;
  let total = 0;
  let f0 = 0;
  let f1 = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    let f = requested[i] / allocatable[i];
    if (f > 1) f = 1;
    if (count === 0) f0 = f;
    else if (count === 1) f1 = f;
    total += f;
    count++;
  }
  let std = 0;
  if (count === 2) {
    std = Math.abs((f0 - f1) / 2);
  } else if (count > 2) {
    const mean = total / count;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      let f = requested[i] / allocatable[i];
      if (f > 1) f = 1;
      sum += (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / count);
  }
  return Math.trunc((1 - std) * MaxNodeScore);
}
