// A pod's resource requests as Kubernetes 1.32 counts them (k8s.io/component-helpers
// resource.PodRequests and AggregateContainerRequests): what the scheduler fits onto a node and
// the kubelet admits. Regular containers run together, so their requests add up; init
// containers run one at a time before them, so the pod needs at most the largest of them; a
// sidecar (an init container with restartPolicy Always) keeps running once started, so it adds
// to the regular containers and to every init container that starts after it; spec.overhead
// comes on top.
//
// The aggregation is generic over the caller's request type (RequestOps), so the scheduler can
// run it over its parsed framework.Resource and everyone else over nano-unit amounts.

import type { Pod } from '../api/core/pod.js';
import { isRestartableInitContainer } from '../api/core/podspec.js';
import { quantityNanos } from '../api/core/quantity.js';
import type { Container, ResourceList } from '../api/core/types.js';

/** RequestOps is the arithmetic aggregateContainerRequests needs over a request type R. */
export interface RequestOps<R> {
  zero(): R;
  clone(r: R): R;
  /** add adds b into a. */
  add(a: R, b: R): void;
  /** max raises each resource of a to b's where b's is larger. */
  max(a: R, b: R): void;
}

/**
 * aggregateContainerRequests is AggregateContainerRequests over requests the caller has already
 * read: containers[i] belongs to the pod's i-th container and inits[i] to its i-th init
 * container. Overhead is not included.
 */
export function aggregateContainerRequests<R>(pod: Pod, containers: readonly R[], inits: readonly R[], ops: RequestOps<R>): R {
  const reqs = ops.zero();
  for (const r of containers) ops.add(reqs, r);
  const sidecars = ops.zero();
  const initMax = ops.zero();
  const initContainers = pod.spec?.initContainers ?? [];
  for (let i = 0; i < initContainers.length; i++) {
    const r = inits[i]!;
    if (isRestartableInitContainer(initContainers[i]!)) {
      ops.add(reqs, r);
      ops.add(sidecars, r);
      // kube also takes the max with the sidecars so far here; reqs already holds them all.
      continue;
    }
    // A plain init container runs beside every sidecar started before it.
    const need = ops.clone(sidecars);
    ops.add(need, r);
    ops.max(initMax, need);
  }
  ops.max(reqs, initMax);
  return reqs;
}

/** ResourceAmounts are quantities in nano-units by resource name (exact, unlike floats). */
export type ResourceAmounts = Map<string, bigint>;

/** amountOps is RequestOps over ResourceAmounts. */
export const amountOps: RequestOps<ResourceAmounts> = {
  zero: () => new Map(),
  clone: (r) => new Map(r),
  add: (a, b) => {
    for (const [name, v] of b) a.set(name, (a.get(name) ?? 0n) + v);
  },
  max: (a, b) => {
    for (const [name, v] of b) if (v > (a.get(name) ?? 0n)) a.set(name, v);
  },
};

/** resourceAmounts reads a ResourceList into nano-unit amounts (a malformed quantity counts 0). */
export function resourceAmounts(list: ResourceList | undefined): ResourceAmounts {
  const out: ResourceAmounts = new Map();
  for (const [name, q] of Object.entries(list ?? {})) out.set(name, quantityNanos(q));
  return out;
}

/** DefaultMilliCPURequest is the CPU a container without a cpu request counts for scheduler scoring (100m). */
export const DefaultMilliCPURequest = 100;
/** DefaultMemoryRequest is the memory a container without a memory request counts for scheduler scoring (200Mi). */
export const DefaultMemoryRequest = 200 * 1024 * 1024;

/** PodRequestsOptions are resource.PodResourcesOptions' fields skiff uses. */
export interface PodRequestsOptions {
  /** excludeOverhead leaves spec.overhead out (the kubelet's cgroup sizing of containers). */
  excludeOverhead?: boolean;
  /**
   * nonMissingContainerRequests gives a container that does not name a resource this request for
   * it; an explicit zero stays zero (the scheduler's 100m / 200Mi for scoring).
   */
  nonMissingContainerRequests?: ResourceList;
}

function containerAmounts(c: Container, opts: PodRequestsOptions): ResourceAmounts {
  const reqs = c.resources?.requests;
  const out = resourceAmounts(reqs);
  for (const [name, q] of Object.entries(opts.nonMissingContainerRequests ?? {})) {
    if (!reqs || !(name in reqs)) out.set(name, quantityNanos(q));
  }
  return out;
}

/** podRequests is resource.PodRequests: what a pod asks of a node, in nano-units per resource. */
export function podRequests(pod: Pod, opts: PodRequestsOptions = {}): ResourceAmounts {
  const containers = (pod.spec?.containers ?? []).map((c) => containerAmounts(c, opts));
  const inits = (pod.spec?.initContainers ?? []).map((c) => containerAmounts(c, opts));
  const reqs = aggregateContainerRequests(pod, containers, inits, amountOps);
  if (!opts.excludeOverhead) amountOps.add(reqs, resourceAmounts(pod.spec?.overhead));
  return reqs;
}
