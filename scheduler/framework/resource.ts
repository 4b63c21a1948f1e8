// Resource amounts as the scheduler counts them (framework.Resource): a pod's requests (plain,
// and with the scoring defaults for missing cpu/memory), node allocatable, and the arithmetic on
// them. Quantities are parsed once, here, so the hot path adds plain numbers.

import type { Pod } from '../../lib/api/core/pod.js';
import { quantityNanos } from '../../lib/api/core/quantity.js';
import type { Container, ResourceList } from '../../lib/api/core/types.js';
import { aggregateContainerRequests, DefaultMemoryRequest, DefaultMilliCPURequest, type RequestOps } from '../../lib/pod/resources.js';

/** ResourceName lists the resource names the scheduler keeps as dedicated fields rather than scalars. */
export const ResourceName = {
  CPU: 'cpu',
  Memory: 'memory',
  EphemeralStorage: 'ephemeral-storage',
  Pods: 'pods',
} as const;

/**
 * Resource is framework.Resource: milliCPU, bytes of memory and ephemeral storage, the pod count
 * a node allows, and scalar (extended, hugepages, attachable-volumes) resources by name, all as
 * plain numbers (exact up to 2^53, i.e. petabytes of memory).
 */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  scalar: Record<string, number>;
}

/** newResource is a zero Resource. */
export function newResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: {} };
}

/** cloneResource copies a Resource (scalar map included). */
export function cloneResource(r: Resource): Resource {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, allowedPodNumber: r.allowedPodNumber, scalar: { ...r.scalar } };
}

/** hasScalar: the resource has at least one scalar entry (lets hot loops skip the map). */
export function hasScalar(r: Resource): boolean {
  for (const _ in r.scalar) return true;
  return false;
}

const hugePagesPrefix = 'hugepages-';
const attachableVolumesPrefix = 'attachable-volumes-';
const defaultNamespacePrefix = 'kubernetes.io/';
const requestsPrefix = 'requests.';

/**
 * isExtendedResourceName is v1helper.IsExtendedResourceName: a domain-prefixed name outside
 * kubernetes.io (e.g. example.com/gpu) that would still be valid with a "requests." prefix.
 */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.includes(defaultNamespacePrefix)) return false;
  return !name.startsWith(requestsPrefix);
}

/** isScalarResourceName is schedutil.IsScalarResourceName: extended, hugepages-*, attachable-volumes-* or kubernetes.io/-prefixed names. */
export function isScalarResourceName(name: string): boolean {
  return isExtendedResourceName(name) || name.startsWith(hugePagesPrefix) || name.startsWith(attachableVolumesPrefix) || name.includes(defaultNamespacePrefix);
}

function nanosToMilli(n: bigint): number {
  // MilliValue rounds up, like resource.Quantity.
  const q = n / 1_000_000n;
  return Number(n % 1_000_000n > 0n ? q + 1n : q);
}

function nanosToValue(n: bigint): number {
  const q = n / 1_000_000_000n;
  return Number(n % 1_000_000_000n > 0n ? q + 1n : q);
}

/** addResourceList adds a ResourceList (as written in a pod or node) into r. */
export function addResourceList(r: Resource, list: ResourceList | undefined): void {
  if (!list) return;
  for (const name in list) {
    const n = quantityNanos(list[name]);
    switch (name) {
      case ResourceName.CPU:
        r.milliCPU += nanosToMilli(n);
        break;
      case ResourceName.Memory:
        r.memory += nanosToValue(n);
        break;
      case ResourceName.EphemeralStorage:
        r.ephemeralStorage += nanosToValue(n);
        break;
      case ResourceName.Pods:
        r.allowedPodNumber += nanosToValue(n);
        break;
      default:
        if (isScalarResourceName(name)) r.scalar[name] = (r.scalar[name] ?? 0) + nanosToValue(n);
    }
  }
}

/** resourceFromList parses a ResourceList into a new Resource (node allocatable, one container's requests). */
export function resourceFromList(list: ResourceList | undefined): Resource {
  const r = newResource();
  addResourceList(r, list);
  return r;
}

/** addResource adds b into a. */
export function addResource(a: Resource, b: Resource): void {
  a.milliCPU += b.milliCPU;
  a.memory += b.memory;
  a.ephemeralStorage += b.ephemeralStorage;
  a.allowedPodNumber += b.allowedPodNumber;
  for (const k in b.scalar) a.scalar[k] = (a.scalar[k] ?? 0) + b.scalar[k];
}

/** subtractResource subtracts b from a (NodeInfo.RemovePod). */
export function subtractResource(a: Resource, b: Resource): void {
  a.milliCPU -= b.milliCPU;
  a.memory -= b.memory;
  a.ephemeralStorage -= b.ephemeralStorage;
  a.allowedPodNumber -= b.allowedPodNumber;
  for (const k in b.scalar) a.scalar[k] = (a.scalar[k] ?? 0) - b.scalar[k];
}

/** setMaxResource raises each field of a to b's where b's is larger (Resource.SetMaxResource). */
export function setMaxResource(a: Resource, b: Resource): void {
  if (b.milliCPU > a.milliCPU) a.milliCPU = b.milliCPU;
  if (b.memory > a.memory) a.memory = b.memory;
  if (b.ephemeralStorage > a.ephemeralStorage) a.ephemeralStorage = b.ephemeralStorage;
  if (b.allowedPodNumber > a.allowedPodNumber) a.allowedPodNumber = b.allowedPodNumber;
  for (const k in b.scalar) if (b.scalar[k] > (a.scalar[k] ?? 0)) a.scalar[k] = b.scalar[k];
}

/**
 * withNonZeroDefaults is schedutil's non-missing requests: a container that does not name cpu or
 * memory counts 100m / 200Mi for scoring (an explicit zero stays zero).
 */
function withNonZeroDefaults(c: Container, r: Resource): Resource {
  const reqs = c.resources?.requests;
  const hasCPU = !!reqs && ResourceName.CPU in reqs;
  const hasMemory = !!reqs && ResourceName.Memory in reqs;
  if (hasCPU && hasMemory) return r;
  const out = cloneResource(r);
  if (!hasCPU) out.milliCPU = DefaultMilliCPURequest;
  if (!hasMemory) out.memory = DefaultMemoryRequest;
  return out;
}

/** resourceOps is lib/pod's request arithmetic over the scheduler's parsed Resource. */
const resourceOps: RequestOps<Resource> = { zero: newResource, clone: cloneResource, add: addResource, max: setMaxResource };

/**
 * aggregatePodRequests is resourcehelper.PodRequests over already parsed container requests
 * (lib/pod's aggregation), plus spec.overhead.
 */
function aggregatePodRequests(pod: Pod, containers: readonly Resource[], inits: readonly Resource[]): Resource {
  const reqs = aggregateContainerRequests(pod, containers, inits, resourceOps);
  addResourceList(reqs, pod.spec?.overhead);
  // Pods never request pod slots; the count is kept by NodeInfo.pods.
  reqs.allowedPodNumber = 0;
  return reqs;
}

/** podRequestsBoth parses every container's requests once and returns [requests, nonZeroRequests]. */
export function podRequestsBoth(pod: Pod): [Resource, Resource] {
  const cs = pod.spec?.containers ?? [];
  const is = pod.spec?.initContainers ?? [];
  const parsedC = cs.map((c) => resourceFromList(c.resources?.requests));
  const parsedI = is.map((c) => resourceFromList(c.resources?.requests));
  return [
    aggregatePodRequests(pod, parsedC, parsedI),
    aggregatePodRequests(
      pod,
      parsedC.map((r, i) => withNonZeroDefaults(cs[i], r)),
      parsedI.map((r, i) => withNonZeroDefaults(is[i], r)),
    ),
  ];
}

/** computePodResourceRequest is what the pod asks of a node (NodeResourcesFit's computePodResourceRequest). */
export function computePodResourceRequest(pod: Pod): Resource {
  return podRequestsBoth(pod)[0];
}

/** computePodNonZeroRequest is the same with the scoring defaults (100m CPU, 200Mi) for missing cpu/memory requests. */
export function computePodNonZeroRequest(pod: Pod): Resource {
  return podRequestsBoth(pod)[1];
}
