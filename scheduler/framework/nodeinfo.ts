// NodeInfo (framework.NodeInfo): a node with the pods on it and their sums, precomputed once per
// node version so that filtering 5,000 nodes does no quantity parsing and no cloning.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ResourceList } from '../../lib/api/core/types.js';
import { HostPortInfo } from './hostports.js';
import { PodInfo, podKey } from './podinfo.js';
import { addResource, cloneResource, newResource, type Resource, resourceFromList, subtractResource } from './resource.js';

function toPodInfo(p: Pod | PodInfo): PodInfo {
  return p instanceof PodInfo ? p : new PodInfo(p);
}

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
  /** topologyKeys caches affinityTopologyKeys until the pods change. */
  private topologyKeys: readonly string[] | undefined;

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
    const old = this._node?.status?.allocatable;
    this._node = node;
    // A heartbeat carries the same allocatable: keep what was parsed.
    if (!sameResourceList(old, node.status?.allocatable)) this.allocatable = resourceFromList(node.status?.allocatable);
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

  /**
   * affinityTopologyKeys are the topology keys of the terms of podsWithAffinity that scoring
   * weighs against an incoming pod (required and preferred affinity, preferred anti-affinity).
   */
  affinityTopologyKeys(): readonly string[] {
    if (this.topologyKeys) return this.topologyKeys;
    const keys = new Set<string>();
    for (const pi of this.podsWithAffinity) {
      for (const t of pi.requiredAffinityTerms) keys.add(t.topologyKey);
      for (const t of pi.preferredAffinityTerms) keys.add(t.topologyKey);
      for (const t of pi.preferredAntiAffinityTerms) keys.add(t.topologyKey);
    }
    return (this.topologyKeys = [...keys]);
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    this.topologyKeys = undefined;
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

/** sameResourceList: both lists name the same quantities, written the same way (undefined only equals undefined). */
function sameResourceList(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
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
