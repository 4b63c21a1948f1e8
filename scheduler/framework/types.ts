// The scheduling framework's data types, after kube-scheduler's pkg/scheduler/framework
// (interface.go and types.go): status codes, per-pod precomputed requests and affinity terms
// (PodInfo), per-node aggregates (NodeInfo), the Snapshot a scheduling cycle reads, the CycleState
// plugins share within one attempt, the plugin interfaces and the FitError a failed cycle raises.
//
// Hot-path rule: everything a plugin needs per node is precomputed once per node (NodeInfo:
// parsed allocatable, summed requests, used host ports) or once per pod (PodInfo, and PreFilter /
// PreScore state in CycleState), so filtering 5,000 nodes does no quantity parsing and no cloning.

import type { LabelSelector } from '../../lib/api/meta.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { quantityNanos } from '../../lib/api/core/quantity.js';
import type { Container, PodAffinityTerm, ResourceList } from '../../lib/api/core/types.js';
import { type LabelSelectorExpr, type Labels, labelSelectorAsSelector, matches, nothing } from '../../lib/machinery/labels.js';

// ---------------------------------------------------------------------------------------------
// Status

/** Code is a plugin's verdict, framework.Code. */
export const Code = {
  /** Success: the plugin ran and the pod may go on (a nil *Status in Go). */
  Success: 'Success',
  /** Error: an internal error; the pod is retried with backoff, no node is blamed. */
  Error: 'Error',
  /** Unschedulable: the node does not fit now, but preemption may help. */
  Unschedulable: 'Unschedulable',
  /** UnschedulableAndUnresolvable: the node does not fit and preemption cannot change that. */
  UnschedulableAndUnresolvable: 'UnschedulableAndUnresolvable',
  /** Wait: a Permit plugin holds the pod (unused by in-tree plugins here). */
  Wait: 'Wait',
  /** Skip: PreFilter/PreScore found nothing to do; the matching Filter/Score is skipped. */
  Skip: 'Skip',
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/**
 * Status is framework.Status: a code, the reasons shown to users (each reason is counted per node
 * in the FitError message), the plugin that produced it and, for Error, the underlying error.
 */
export interface Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  readonly plugin?: string;
  readonly err?: Error;
}

const successStatus: Status = Object.freeze({ code: Code.Success, reasons: Object.freeze([]) as readonly string[] });

/** success is the shared Success status (plugins return it without allocating). */
export function success(): Status {
  return successStatus;
}

/** unschedulable is a Status with code Unschedulable and the given reasons. */
export function unschedulable(...reasons: string[]): Status {
  return { code: Code.Unschedulable, reasons };
}

/** unresolvable is a Status with code UnschedulableAndUnresolvable and the given reasons. */
export function unresolvable(...reasons: string[]): Status {
  return { code: Code.UnschedulableAndUnresolvable, reasons };
}

/** skip is a Status with code Skip (PreFilter/PreScore: nothing for the next stage to do). */
export function skip(): Status {
  return { code: Code.Skip, reasons: [] };
}

/** asError wraps an error (or message) as a Status with code Error; its reason is the message. */
export function asError(err: unknown): Status {
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: Code.Error, reasons: [e.message], err: e };
}

/** isSuccess: the status is Success (kube treats a nil status the same). */
export function isSuccess(s: Status | undefined): boolean {
  return s === undefined || s.code === Code.Success;
}

/** isRejected: Unschedulable, UnschedulableAndUnresolvable or Wait (Status.IsRejected). */
export function isRejected(s: Status | undefined): boolean {
  return s !== undefined && (s.code === Code.Unschedulable || s.code === Code.UnschedulableAndUnresolvable || s.code === Code.Wait);
}

/** isSkip: the status is Skip. */
export function isSkip(s: Status | undefined): boolean {
  return s !== undefined && s.code === Code.Skip;
}

/** statusMessage is Status.Message(): the reasons joined by ", ". */
export function statusMessage(s: Status | undefined): string {
  return s ? s.reasons.join(', ') : '';
}

/** withPlugin returns the status stamped with the plugin that produced it (a copy; statuses may be shared constants). */
export function withPlugin(s: Status, plugin: string): Status {
  return s.plugin === plugin ? s : { code: s.code, reasons: s.reasons, plugin, err: s.err };
}

/** statusError is Status.AsError(): an Error for an Error status, naming the plugin. */
export function statusError(s: Status): Error {
  if (s.err) return s.err;
  return new Error(s.plugin ? `${s.plugin}: ${statusMessage(s)}` : statusMessage(s));
}

// ---------------------------------------------------------------------------------------------
// Resources

/** Resource names the scheduler keeps as dedicated fields rather than scalars. */
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

/** DefaultMilliCPURequest is the CPU a container without a cpu request counts for scoring (100m). */
export const DefaultMilliCPURequest = 100;
/** DefaultMemoryRequest is the memory a container without a memory request counts for scoring (200Mi). */
export const DefaultMemoryRequest = 200 * 1024 * 1024;

function isRestartable(c: Container): boolean {
  return c.restartPolicy === 'Always';
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

/**
 * aggregatePodRequests is resourcehelper.PodRequests over already parsed container requests:
 * regular containers and sidecars (restartable init containers) summed; each plain init container
 * needs its own requests plus the sidecars started before it; the pod needs the larger of the
 * two, plus spec.overhead.
 */
function aggregatePodRequests(pod: Pod, containers: readonly Resource[], inits: readonly Resource[]): Resource {
  const reqs = newResource();
  for (const r of containers) addResource(reqs, r);
  const sidecars = newResource();
  const initMax = newResource();
  const initContainers = pod.spec?.initContainers ?? [];
  for (let i = 0; i < initContainers.length; i++) {
    if (isRestartable(initContainers[i])) {
      addResource(reqs, inits[i]);
      addResource(sidecars, inits[i]);
      continue;
    }
    const need = cloneResource(sidecars);
    addResource(need, inits[i]);
    setMaxResource(initMax, need);
  }
  setMaxResource(reqs, initMax);
  addResourceList(reqs, pod.spec?.overhead);
  // Pods never request pod slots; the count is kept by NodeInfo.pods.
  reqs.allowedPodNumber = 0;
  return reqs;
}

/** podRequestsBoth parses every container's requests once and returns [requests, nonZeroRequests]. */
function podRequestsBoth(pod: Pod): [Resource, Resource] {
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

// ---------------------------------------------------------------------------------------------
// PodInfo

/**
 * AffinityTerm is framework.AffinityTerm: a pod (anti-)affinity term with its selectors parsed.
 * namespaces is the term's namespaces, or the owning pod's namespace when the term names neither
 * namespaces nor a namespaceSelector.
 */
export interface AffinityTerm {
  readonly namespaces: ReadonlySet<string>;
  readonly selector: LabelSelectorExpr;
  readonly topologyKey: string;
  readonly namespaceSelector: LabelSelectorExpr;
}

/** WeightedAffinityTerm is a preferred term with its weight. */
export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

function parseSelector(ls: LabelSelector | undefined): LabelSelectorExpr {
  try {
    return labelSelectorAsSelector(ls);
  } catch {
    // The apiserver rejects invalid selectors; one that slips through selects nothing.
    return nothing();
  }
}

/** newAffinityTerm parses term as it applies to a pod in namespace podNamespace. */
export function newAffinityTerm(podNamespace: string, term: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set<string>(term.namespaces ?? []);
  if (namespaces.size === 0 && !term.namespaceSelector) namespaces.add(podNamespace);
  return {
    namespaces,
    selector: parseSelector(term.labelSelector),
    topologyKey: term.topologyKey,
    namespaceSelector: term.namespaceSelector ? parseSelector(term.namespaceSelector) : nothing(),
  };
}

/** affinityTermMatches is AffinityTerm.Matches: pod's namespace is covered and its labels match. */
export function affinityTermMatches(term: AffinityTerm, pod: Pod, nsLabels: Labels | undefined): boolean {
  if (term.namespaces.has(pod.metadata.namespace ?? '') || matches(term.namespaceSelector, nsLabels ?? {})) {
    return matches(term.selector, pod.metadata.labels);
  }
  return false;
}

/**
 * PodInfo is framework.PodInfo: a pod plus what every cycle would otherwise recompute: its
 * requests (plain and non-zero) and its parsed affinity terms. Build one per pod version and
 * reuse it; it never changes (a new pod version gets a new PodInfo).
 */
export class PodInfo {
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** hostPorts are the host ports the pod holds (NodePorts, NodeInfo.usedPorts). */
  readonly hostPorts: readonly ContainerHostPort[];
  /** key identifies the pod across versions: its uid, else namespace/name. */
  readonly key: string;

  constructor(readonly pod: Pod) {
    [this.requests, this.nonZeroRequests] = podRequestsBoth(pod);
    const ns = pod.metadata.namespace ?? '';
    const aff = pod.spec?.affinity;
    const req = (terms: PodAffinityTerm[] | undefined) => (terms ?? []).map((t) => newAffinityTerm(ns, t));
    const pref = (terms: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined) =>
      (terms ?? []).filter((t) => t.weight !== 0).map((t): WeightedAffinityTerm => ({ ...newAffinityTerm(ns, t.podAffinityTerm), weight: t.weight }));
    this.requiredAffinityTerms = req(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinityTerms = req(aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinityTerms = pref(aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = pref(aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.hostPorts = podHostPorts(pod);
    this.key = podKey(pod);
  }

  /** hasAffinity: the pod has any pod affinity or anti-affinity term (it goes in NodeInfo.podsWithAffinity). */
  get hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length + this.requiredAntiAffinityTerms.length + this.preferredAffinityTerms.length + this.preferredAntiAffinityTerms.length >
      0
    );
  }
}

/** podKey is the identity NodeInfo uses for a pod: uid, else namespace/name. */
export function podKey(pod: Pod): string {
  return pod.metadata.uid || `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** newPodInfo builds the PodInfo of pod. */
export function newPodInfo(pod: Pod): PodInfo {
  return new PodInfo(pod);
}

function toPodInfo(p: Pod | PodInfo): PodInfo {
  return p instanceof PodInfo ? p : new PodInfo(p);
}

// ---------------------------------------------------------------------------------------------
// Host ports

/** DefaultBindAllHostIP is the host IP a port without hostIP binds. */
export const DefaultBindAllHostIP = '0.0.0.0';

/**
 * HostPortInfo is framework.HostPortInfo: host IP → set of "protocol/port" in use. A port bound on
 * 0.0.0.0 conflicts with the same protocol/port on any IP, and the other way round.
 */
export class HostPortInfo {
  private readonly byIP = new Map<string, Set<string>>();

  /** add marks ip/protocol/port used. */
  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const key = `${protocol || 'TCP'}/${port}`;
    const h = ip || DefaultBindAllHostIP;
    let set = this.byIP.get(h);
    if (!set) this.byIP.set(h, (set = new Set()));
    set.add(key);
  }

  /** remove frees ip/protocol/port. */
  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const h = ip || DefaultBindAllHostIP;
    const set = this.byIP.get(h);
    if (!set) return;
    set.delete(`${protocol || 'TCP'}/${port}`);
    if (set.size === 0) this.byIP.delete(h);
  }

  /** checkConflict: ip/protocol/port clashes with a port already in use. */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const key = `${protocol || 'TCP'}/${port}`;
    const h = ip || DefaultBindAllHostIP;
    if (h === DefaultBindAllHostIP) {
      for (const set of this.byIP.values()) if (set.has(key)) return true;
      return false;
    }
    return !!this.byIP.get(h)?.has(key) || !!this.byIP.get(DefaultBindAllHostIP)?.has(key);
  }

  /** len is the number of ip/protocol/port entries. */
  get len(): number {
    let n = 0;
    for (const set of this.byIP.values()) n += set.size;
    return n;
  }

  /** clone copies the table. */
  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, set] of this.byIP) c.byIP.set(ip, new Set(set));
    return c;
  }
}

/** ContainerHostPort is one host port a pod asks for. */
export interface ContainerHostPort {
  hostIP?: string;
  protocol?: string;
  hostPort: number;
}

/**
 * podHostPorts lists the host ports a pod holds (schedutil.GetHostPorts): those of sidecar init
 * containers, which run for the pod's whole life, then those of regular containers.
 */
export function podHostPorts(pod: Pod): ContainerHostPort[] {
  const out: ContainerHostPort[] = [];
  const visit = (cs: Container[] | undefined, sidecarsOnly: boolean) => {
    for (const c of cs ?? []) {
      if (sidecarsOnly && !isRestartable(c)) continue;
      for (const p of c.ports ?? []) if (p.hostPort && p.hostPort > 0) out.push({ hostIP: p.hostIP, protocol: p.protocol, hostPort: p.hostPort });
    }
  };
  visit(pod.spec?.initContainers, true);
  visit(pod.spec?.containers, false);
  return out;
}

// ---------------------------------------------------------------------------------------------
// NodeInfo

let generationCounter = 0;

/** nextGeneration is a process-wide increasing counter: every NodeInfo change takes a new one (the cache compares them to update snapshots). */
export function nextGeneration(): number {
  return ++generationCounter;
}

/**
 * NodeInfo is framework.NodeInfo: a node with the pods on it and their sums. `requested` is the
 * sum of the pods' requests (what NodeResourcesFit filters on), `nonZeroRequested` the same with
 * the scoring defaults, `allocatable` the node's parsed status.allocatable (parsed once per node
 * version, in setNode).
 */
export class NodeInfo {
  private _node: Node | undefined;
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts = new HostPortInfo();
  requested: Resource = newResource();
  nonZeroRequested: Resource = newResource();
  allocatable: Resource = newResource();
  generation = nextGeneration();

  constructor(node?: Node) {
    if (node) this.setNode(node);
  }

  /** node is the Node object; only NodeInfos of known nodes reach plugins (the snapshot lists no others). */
  get node(): Node {
    if (!this._node) throw new Error('NodeInfo has no node');
    return this._node;
  }

  /** hasNode: the Node object is known (pods may be cached before their node arrives). */
  get hasNode(): boolean {
    return this._node !== undefined;
  }

  /** name is the node's name ("" before the node is known). */
  get name(): string {
    return this._node?.metadata.name ?? '';
  }

  /** setNode sets or replaces the Node object and re-parses its allocatable. */
  setNode(node: Node): void {
    this._node = node;
    this.allocatable = resourceFromList(node.status?.allocatable);
    this.generation = nextGeneration();
  }

  /** removeNode forgets the Node object and keeps the pods (NodeInfo.RemoveNode). */
  removeNode(): void {
    this._node = undefined;
    this.generation = nextGeneration();
  }

  /** addPod adds a pod (or its PodInfo) to the node's sums. */
  addPod(p: Pod | PodInfo): void {
    const pi = toPodInfo(p);
    this.pods.push(pi);
    if (pi.hasAffinity) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /** removePod removes the pod with the same identity (uid); throws when it is not on this node. */
  removePod(p: Pod | PodInfo): void {
    const key = p instanceof PodInfo ? p.key : podKey(p);
    const idx = this.pods.findIndex((x) => x.key === key);
    if (idx < 0) throw new Error(`no corresponding pod ${key} in pods of node ${this.name}`);
    const pi = this.pods[idx];
    removeAt(this.pods, idx);
    removeByKey(this.podsWithAffinity, key);
    removeByKey(this.podsWithRequiredAntiAffinity, key);
    this.update(pi, -1);
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    if (sign > 0) {
      addResource(this.requested, pi.requests);
      addResource(this.nonZeroRequested, pi.nonZeroRequests);
    } else {
      subtractResource(this.requested, pi.requests);
      subtractResource(this.nonZeroRequested, pi.nonZeroRequests);
    }
    for (const hp of pi.hostPorts) {
      if (sign > 0) this.usedPorts.add(hp.hostIP, hp.protocol, hp.hostPort);
      else this.usedPorts.remove(hp.hostIP, hp.protocol, hp.hostPort);
    }
    this.generation = nextGeneration();
  }

  /** clone is a copy whose pod lists and sums can change without touching this one (PodInfos are shared, they are immutable). */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c._node = this._node;
    c.pods = this.pods.slice();
    c.podsWithAffinity = this.podsWithAffinity.slice();
    c.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.slice();
    c.usedPorts = this.usedPorts.clone();
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.allocatable = cloneResource(this.allocatable);
    c.generation = this.generation;
    return c;
  }
}

function removeAt<T>(list: T[], idx: number): void {
  // Order does not matter to any plugin; swap-remove keeps this O(1).
  list[idx] = list[list.length - 1];
  list.pop();
}

function removeByKey(list: PodInfo[], key: string): void {
  const idx = list.findIndex((x) => x.key === key);
  if (idx >= 0) removeAt(list, idx);
}

/** newNodeInfo builds a NodeInfo for node holding pods (Pods or PodInfos). */
export function newNodeInfo(node: Node | undefined, pods: readonly (Pod | PodInfo)[] = []): NodeInfo {
  const ni = new NodeInfo(node);
  for (const p of pods) ni.addPod(p);
  return ni;
}

// ---------------------------------------------------------------------------------------------
// Snapshot

/**
 * Snapshot is the cache's view for one scheduling cycle (internal/cache.Snapshot): every known
 * node's NodeInfo in a stable order, plus the sublists InterPodAffinity walks.
 */
export class Snapshot {
  readonly nodeInfoMap = new Map<string, NodeInfo>();
  havePodsWithAffinityList: NodeInfo[] = [];
  havePodsWithRequiredAntiAffinityList: NodeInfo[] = [];
  generation = 0;

  constructor(public nodeInfoList: NodeInfo[] = []) {
    this.rebuild();
  }

  /** get is the NodeInfo of the named node. */
  get(name: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(name);
  }

  /** numNodes is the number of nodes in the snapshot. */
  numNodes(): number {
    return this.nodeInfoList.length;
  }

  /** rebuild recomputes the map and the affinity sublists from nodeInfoList (after the list changed). */
  rebuild(): void {
    this.nodeInfoMap.clear();
    this.havePodsWithAffinityList = [];
    this.havePodsWithRequiredAntiAffinityList = [];
    for (const ni of this.nodeInfoList) {
      this.nodeInfoMap.set(ni.name, ni);
      if (ni.podsWithAffinity.length > 0) this.havePodsWithAffinityList.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) this.havePodsWithRequiredAntiAffinityList.push(ni);
    }
  }
}

/** newSnapshot builds a Snapshot from nodes and pods; pods are placed by spec.nodeName, those on unknown nodes are left out. */
export function newSnapshot(nodes: readonly Node[], pods: readonly (Pod | PodInfo)[] = []): Snapshot {
  const infos = new Map<string, NodeInfo>();
  for (const n of nodes) infos.set(n.metadata.name ?? '', new NodeInfo(n));
  for (const p of pods) {
    const pod = p instanceof PodInfo ? p.pod : p;
    const ni = infos.get(pod.spec?.nodeName ?? '');
    if (ni) ni.addPod(p);
  }
  return new Snapshot([...infos.values()]);
}

// ---------------------------------------------------------------------------------------------
// CycleState

/**
 * StateData is what plugins keep in CycleState. Data that changes after PreFilter (through
 * AddPod/RemovePod) must have a clone() method (see Cloneable); other data is shared by clones.
 */
export type StateData = object;

/** Cloneable is StateData that copies itself for CycleState.clone(). */
export interface Cloneable {
  clone(): StateData;
}

function isCloneable(v: StateData): v is Cloneable {
  return typeof (v as Partial<Cloneable>).clone === 'function';
}

/**
 * CycleState is framework.CycleState: per-attempt data plugins write in PreFilter/PreScore and
 * read in Filter/Score, plus the plugins a Skip status switched off. clone() (for preemption's
 * what-if runs) clones each value that can clone itself and shares the rest.
 */
export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** skipFilterPlugins are the plugins whose PreFilter returned Skip. */
  skipFilterPlugins = new Set<string>();
  /** skipScorePlugins are the plugins whose PreScore returned Skip. */
  skipScorePlugins = new Set<string>();

  /** read returns the value under key, undefined when absent. */
  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  /** write stores value under key. */
  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  /** delete removes key. */
  delete(key: string): void {
    this.data.delete(key);
  }

  /** clone copies the state for a what-if run. */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, isCloneable(v) ? v.clone() : v);
    c.skipFilterPlugins = new Set(this.skipFilterPlugins);
    c.skipScorePlugins = new Set(this.skipScorePlugins);
    return c;
  }
}

/** SnapshotStateKey is where runPreFilterPlugins keeps the cycle's Snapshot (PreScore plugins read all nodes from it). */
export const SnapshotStateKey = 'Snapshot';

/** PodInfoStateKey is where the cycle keeps the incoming pod's PodInfo (the queue may seed it). */
export const PodInfoStateKey = 'PodInfo';

/** podInfoForCycle is the incoming pod's PodInfo for this cycle, built once and shared by every plugin. */
export function podInfoForCycle(state: CycleState, pod: Pod): PodInfo {
  const cached = state.read<PodInfo>(PodInfoStateKey);
  if (cached && cached.pod === pod) return cached;
  const pi = new PodInfo(pod);
  state.write(PodInfoStateKey, pi);
  return pi;
}

// ---------------------------------------------------------------------------------------------
// Plugins

/** MaxNodeScore is the highest score a Score plugin gives after normalization; MinNodeScore the lowest. */
export const MaxNodeScore = 100;
export const MinNodeScore = 0;

/** Plugin is what every plugin has: its name (as used in configuration). */
export interface Plugin {
  readonly name: string;
}

/**
 * PreFilterExtensions are PreFilter's incremental hooks (framework.PreFilterExtensions):
 * preemption calls them to update PreFilter state as it removes victims from, or adds nominated
 * pods to, a node, instead of re-running PreFilter.
 */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

/** PreFilterPlugin precomputes per-pod state once per cycle; Skip turns off its Filter for this pod. */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, snapshot: Snapshot): Status;
  preFilterExtensions?: PreFilterExtensions;
}

/** FilterPlugin judges whether the pod fits one node. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

/** PostFilterResult is what a PostFilter plugin proposes: the node the pod is nominated to (preemption). */
export interface PostFilterResult {
  nominatedNodeName?: string;
}

/** PostFilterPlugin runs when no node fits (preemption); its status message goes into the FitError. */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: Pod, filteredNodeStatusMap: NodeToStatus): { result?: PostFilterResult; status: Status };
}

/** PreScorePlugin precomputes per-pod scoring state over the feasible nodes; Skip turns off its Score. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status;
}

/** NodeScore is one node's score from one plugin. */
export interface NodeScore {
  name: string;
  score: number;
}

/** ScorePlugin ranks feasible nodes; normalizeScore, when present, maps the raw scores into 0..MaxNodeScore. */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): [number, Status];
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): Status;
}

/** PluginScore is one plugin's weighted score for a node. */
export interface PluginScore {
  name: string;
  score: number;
}

/** NodePluginScores is a node's weighted per-plugin scores and their total (framework.NodePluginScores). */
export interface NodePluginScores {
  name: string;
  scores: PluginScore[];
  totalScore: number;
}

// ---------------------------------------------------------------------------------------------
// Diagnosis and FitError

/**
 * NodeToStatus is framework.NodeToStatus: the rejecting status of each node that did not fit,
 * plus the status of nodes not in the map (set when PreFilter rejected the pod for all nodes).
 */
export class NodeToStatus {
  private readonly map = new Map<string, Status>();
  /** absentNodesStatus is the status of every node not in the map; UnschedulableAndUnresolvable by default (not evaluated). */
  absentNodesStatus: Status = unresolvable();

  /** set records a node's status. */
  set(name: string, s: Status): void {
    this.map.set(name, s);
  }

  /** get is the node's status, or absentNodesStatus. */
  get(name: string): Status {
    return this.map.get(name) ?? this.absentNodesStatus;
  }

  /** has: a status is recorded for the node itself. */
  has(name: string): boolean {
    return this.map.has(name);
  }

  /** len is the number of nodes with their own status. */
  get len(): number {
    return this.map.size;
  }

  /** entries iterates the recorded statuses. */
  entries(): IterableIterator<[string, Status]> {
    return this.map.entries();
  }

  /** nodesForStatusCode lists the snapshot's nodes whose status has the code (preemption looks for Unschedulable ones). */
  nodesForStatusCode(snapshot: Snapshot, code: Code): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const ni of snapshot.nodeInfoList) if (this.get(ni.name).code === code) out.push(ni);
    return out;
  }
}

/** Diagnosis explains a failed cycle (framework.Diagnosis); the caller sets postFilterMsg after PostFilter. */
export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** unschedulablePlugins are the plugins that rejected the pod on some node (the queue requeues on their events). */
  unschedulablePlugins: Set<string>;
  pendingPlugins: Set<string>;
  preFilterMsg: string;
  postFilterMsg: string;
  evaluatedNodes: number;
}

/** newDiagnosis is an empty Diagnosis. */
export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new NodeToStatus(), unschedulablePlugins: new Set(), pendingPlugins: new Set(), preFilterMsg: '', postFilterMsg: '', evaluatedNodes: 0 };
}

/** NoNodeAvailableMsg is the FitError message's prefix format. */
export const NoNodeAvailableMsg = '0/%v nodes are available';

/**
 * FitError is framework.FitError: no node fits the pod. Its message is kube's, built on demand so
 * that a postFilterMsg set after PostFilter shows up:
 * `0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: …`
 */
export class FitError extends Error {
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super();
    this.name = 'FitError';
    Object.defineProperty(this, 'message', { get: () => this.error(), enumerable: false, configurable: true });
  }

  /** error is FitError.Error(): the counted reasons, sorted as strings, between the prefix and the PostFilter message. */
  error(): string {
    let msg = `0/${this.numAllNodes} nodes are available:`;
    const d = this.diagnosis;
    if (d.preFilterMsg !== '') {
      msg += ` ${d.preFilterMsg}.`;
    } else {
      const counts = new Map<string, number>();
      for (const [, s] of d.nodeToStatus.entries()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      const parts: string[] = [];
      for (const [r, n] of counts) parts.push(`${n} ${r}`);
      // sort.Strings: byte order of the whole "count reason" text.
      parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
    }
    if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}.`;
    return msg;
  }
}

/** ErrNoNodesAvailable is thrown when the snapshot has no nodes at all. */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}
