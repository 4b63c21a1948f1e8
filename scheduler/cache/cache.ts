// Cache is the scheduler's view of nodes and the pods on them (kube-scheduler's
// internal/cache/cache.go). Informers feed it bound pods and nodes; the scheduling loop adds
// "assumed" pods the moment it decides, so the next cycle already counts them while the binding
// is still on its way to the apiserver:
//
//   assumePod      decided, binding not sent yet or in flight      (counted on its node)
//   finishBinding  the bind call returned; expire after ttl unless the informer confirms it
//   addPod         the informer saw the pod bound: an assumed pod is confirmed (moved if the
//                  apiserver put it elsewhere), an unknown one added
//   forgetPod      the bind failed: the assumption is dropped
//
// updateSnapshot copies the cache into the cycle's Snapshot incrementally: only NodeInfos whose
// generation moved since the last snapshot are cloned. As in kube's cache, the NodeInfos sit in a
// list ordered by their last change, newest first, so finding the changed ones walks only those
// (a cycle after one binding looks at one or two nodes, not 5,000).

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { type Clock, realClock } from '../../lib/clock.js';
import { NodeInfo } from '../framework/nodeinfo.js';
import { PodInfo, podKey } from '../framework/podinfo.js';
import { Snapshot } from '../framework/snapshot.js';

/** RecentItem is a NodeInfo's place in the cache's most-recently-changed list. */
interface RecentItem {
  info: NodeInfo;
  prev: RecentItem | undefined;
  next: RecentItem | undefined;
}

interface PodState {
  pod: Pod;
  /** deadline (clock ms) after which an assumed, bound pod the informer never confirmed is dropped. */
  deadline?: number;
  /** bindingFinished: the bind call returned; only then may the assumption expire. */
  bindingFinished: boolean;
}

/** CacheError is an inconsistency between what the cache was told and what it holds. */
export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

/** CacheDump is the cache's content for debugging and tests. */
export interface CacheDump {
  nodes: Map<string, NodeInfo>;
  assumedPods: Set<string>;
}

/** Cache holds nodes and assigned pods, assumed ones included. */
export class Cache {
  private readonly clock: Clock;
  /** nodes by name; a NodeInfo may exist before its Node (pods arrive first) or after it (pods not yet removed). */
  private readonly nodes = new Map<string, NodeInfo>();
  /** podStates by pod key (uid). */
  private readonly podStates = new Map<string, PodState>();
  private readonly assumedPods = new Set<string>();
  /** nodeSetVersion moves when a node is added or removed, so snapshots rebuild their list. */
  private nodeSetVersion = 0;
  /** recent holds every NodeInfo of nodes by name in a list, the last changed first (head). */
  private readonly recent = new Map<string, RecentItem>();
  private head: RecentItem | undefined;

  /**
   * ttlMs: how long a bound assumed pod may wait for the informer to confirm it before it is
   * forgotten (0 = never). It is only a safety net for a pod the informer never reports (deleted at once).
   */
  constructor(
    private readonly ttlMs = 30_000,
    clock?: Clock,
  ) {
    this.clock = clock ?? realClock;
  }

  // ---- assumed pods ----

  /**
   * assumePod counts pod (with spec.nodeName set to the chosen node) on its node before it is
   * bound. podInfo, when given, is pod's PodInfo (the cycle's, so it is not computed again).
   */
  assumePod(pod: Pod, podInfo?: PodInfo): void {
    const key = podKey(pod);
    if (this.podStates.has(key)) throw new CacheError(`pod ${describe(pod)} is in the cache, so can't be assumed`);
    this.addPodToNode(pod, podInfo);
    this.podStates.set(key, { pod, bindingFinished: false });
    this.assumedPods.add(key);
  }

  /** finishBinding starts the assumed pod's expiry clock. */
  finishBinding(pod: Pod): void {
    const key = podKey(pod);
    const ps = this.podStates.get(key);
    if (!ps || !this.assumedPods.has(key)) return;
    ps.bindingFinished = true;
    if (this.ttlMs > 0) ps.deadline = this.clock.now() + this.ttlMs;
  }

  /** forgetPod drops an assumed pod (its binding failed). */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const ps = this.podStates.get(key);
    if (!ps) return;
    if (!this.assumedPods.has(key)) throw new CacheError(`pod ${describe(pod)} wasn't assumed so cannot be forgotten`);
    if (ps.pod.spec.nodeName !== pod.spec.nodeName) {
      throw new CacheError(`pod ${describe(pod)} was assumed on ${ps.pod.spec.nodeName} but assigned to ${pod.spec.nodeName}`);
    }
    this.removePodFromNode(ps.pod);
    this.podStates.delete(key);
    this.assumedPods.delete(key);
  }

  /** isAssumedPod: pod is assumed and not yet confirmed by the informer. */
  isAssumedPod(pod: Pod): boolean {
    return this.assumedPods.has(podKey(pod));
  }

  /** getPod returns the cached version of pod (assumed or bound), if any. */
  getPod(pod: Pod): Pod | undefined {
    return this.podStates.get(podKey(pod))?.pod;
  }

  /** cleanupAssumedPods forgets bound assumed pods whose deadline passed (run periodically). It answers how many. */
  cleanupAssumedPods(): number {
    const now = this.clock.now();
    let n = 0;
    for (const key of [...this.assumedPods]) {
      const ps = this.podStates.get(key)!;
      if (!ps.bindingFinished || ps.deadline === undefined || now < ps.deadline) continue;
      this.removePodFromNode(ps.pod);
      this.podStates.delete(key);
      this.assumedPods.delete(key);
      n++;
    }
    return n;
  }

  // ---- informer events ----

  /** addPod records a bound pod the informer reported; it confirms an assumed one. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const ps = this.podStates.get(key);
    if (ps && this.assumedPods.has(key)) {
      // The apiserver may have placed it elsewhere than we assumed (another scheduler won a race).
      this.removePodFromNode(ps.pod);
      this.addPodToNode(pod);
      this.podStates.set(key, { pod, bindingFinished: true });
      this.assumedPods.delete(key);
      return;
    }
    if (ps) {
      // Seen again (an informer relist): treat as an update.
      this.updatePod(ps.pod, pod);
      return;
    }
    this.addPodToNode(pod);
    this.podStates.set(key, { pod, bindingFinished: true });
  }

  /** updatePod replaces a bound pod's cached version. */
  updatePod(_oldPod: Pod | undefined, pod: Pod): void {
    const key = podKey(pod);
    const ps = this.podStates.get(key);
    if (!ps) {
      this.addPod(pod);
      return;
    }
    if (this.assumedPods.has(key)) {
      // An update of a pod we only assumed is its confirmation.
      this.addPod(pod);
      return;
    }
    this.removePodFromNode(ps.pod);
    this.addPodToNode(pod);
    ps.pod = pod;
  }

  /** removePod forgets a pod (deleted, or finished). */
  removePod(pod: Pod): void {
    const key = podKey(pod);
    const ps = this.podStates.get(key);
    if (!ps) return;
    this.removePodFromNode(ps.pod);
    this.podStates.delete(key);
    this.assumedPods.delete(key);
  }

  addNode(node: Node): NodeInfo {
    const name = node.metadata.name ?? '';
    let ni = this.nodes.get(name);
    if (!ni) {
      ni = new NodeInfo();
      this.nodes.set(name, ni);
    }
    if (!ni.hasNode) this.nodeSetVersion++;
    ni.setNode(node);
    this.touched(name, ni);
    return ni;
  }

  updateNode(_oldNode: Node | undefined, node: Node): NodeInfo {
    return this.addNode(node);
  }

  /**
   * removeNode forgets the Node object. Its pods stay counted until their own deletions arrive
   * (the pod GC removes them), so a NodeInfo without a node may remain for a while.
   */
  removeNode(node: Node): void {
    const name = node.metadata.name ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    if (ni.hasNode) this.nodeSetVersion++;
    ni.removeNode();
    if (ni.pods.length === 0) this.forgetNodeInfo(name);
    else this.touched(name, ni);
  }

  /** getNode is the cached Node, if known. */
  getNode(name: string): Node | undefined {
    const ni = this.nodes.get(name);
    return ni?.hasNode ? ni.node : undefined;
  }

  /** nodeCount counts known nodes (with a Node object). */
  nodeCount(): number {
    let n = 0;
    for (const ni of this.nodes.values()) if (ni.hasNode) n++;
    return n;
  }

  /** podCount counts cached pods (assumed included). */
  podCount(): number {
    return this.podStates.size;
  }

  /** dump returns copies of the NodeInfos and the assumed pod keys (tests, debugging). */
  dump(): CacheDump {
    const nodes = new Map<string, NodeInfo>();
    for (const [name, ni] of this.nodes) nodes.set(name, ni.clone());
    return { nodes, assumedPods: new Set(this.assumedPods) };
  }

  // ---- snapshots ----

  private snapshotNodeSetVersion = new WeakMap<Snapshot, number>();

  /**
   * updateSnapshot brings snapshot up to date: NodeInfos changed since the snapshot's generation
   * are cloned in, nodes added or removed rebuild its list. The snapshot's NodeInfos are private
   * to it, so a cycle may read them while informer events change the cache.
   */
  updateSnapshot(snapshot: Snapshot): void {
    const since = snapshot.generation;
    let maxGeneration = since;
    const changedInfos: NodeInfo[] = [];
    let setChanged = this.snapshotNodeSetVersion.get(snapshot) !== this.nodeSetVersion;
    // Newest first: stop at the first NodeInfo the snapshot already holds.
    for (let item = this.head; item && item.info.generation > since; item = item.next) {
      const ni = item.info;
      if (ni.generation > maxGeneration) maxGeneration = ni.generation;
      if (!ni.hasNode) {
        if (snapshot.nodeInfoMap.has(ni.name)) setChanged = true;
        continue;
      }
      changedInfos.push(ni);
    }
    const positions = this.snapshotPositions.get(snapshot);
    if (!setChanged && positions) {
      // The same nodes as last cycle: swap the changed ones in place (kube's incremental
      // snapshot), instead of rebuilding a 5,000-entry list and map for every pod.
      let affinityChanged = false;
      for (const ni of changedInfos) {
        const at = positions.get(ni.name);
        const old = snapshot.nodeInfoMap.get(ni.name);
        if (at === undefined || !old) {
          setChanged = true;
          break;
        }
        const copy = ni.clone();
        snapshot.nodeInfoList[at] = copy;
        snapshot.nodeInfoMap.set(ni.name, copy);
        // The affinity sublists hold NodeInfo references: refresh them when this node is or was in one.
        if (old.podsWithAffinity.length + old.podsWithRequiredAntiAffinity.length + copy.podsWithAffinity.length + copy.podsWithRequiredAntiAffinity.length > 0) affinityChanged = true;
      }
      if (!setChanged) {
        if (affinityChanged) snapshot.rebuildAffinityLists();
        snapshot.generation = maxGeneration;
        return;
      }
    }
    const list: NodeInfo[] = [];
    const at = new Map<string, number>();
    for (const [name, ni] of this.nodes) {
      if (!ni.hasNode) continue;
      const copy = snapshot.nodeInfoMap.get(name);
      at.set(name, list.length);
      list.push(copy && copy.generation === ni.generation ? copy : ni.clone());
    }
    snapshot.nodeInfoList = list;
    snapshot.rebuild();
    this.snapshotNodeSetVersion.set(snapshot, this.nodeSetVersion);
    this.snapshotPositions.set(snapshot, at);
    snapshot.generation = maxGeneration;
  }

  /** snapshotPositions: where each node sits in a snapshot's nodeInfoList, for in-place updates. */
  private snapshotPositions = new WeakMap<Snapshot, Map<string, number>>();

  // ---- internals ----

  private addPodToNode(pod: Pod, podInfo?: PodInfo): void {
    const name = pod.spec.nodeName ?? '';
    let ni = this.nodes.get(name);
    if (!ni) {
      ni = new NodeInfo();
      this.nodes.set(name, ni);
    }
    ni.addPod(podInfo && podInfo.pod === pod ? podInfo : new PodInfo(pod));
    this.touched(name, ni);
  }

  private removePodFromNode(pod: Pod): void {
    const name = pod.spec.nodeName ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    try {
      ni.removePod(pod);
    } catch {
      // Not there: nothing to undo.
      return;
    }
    if (!ni.hasNode && ni.pods.length === 0) this.forgetNodeInfo(name);
    else this.touched(name, ni);
  }

  /** touched moves the NodeInfo of name to the head of the recent list (it just changed). */
  private touched(name: string, ni: NodeInfo): void {
    let item = this.recent.get(name);
    if (item && item.info !== ni) {
      this.unlink(item);
      item = undefined;
    }
    if (!item) {
      item = { info: ni, prev: undefined, next: undefined };
      this.recent.set(name, item);
    } else if (item === this.head) {
      return;
    } else {
      this.unlink(item);
    }
    item.next = this.head;
    if (this.head) this.head.prev = item;
    this.head = item;
  }

  private unlink(item: RecentItem): void {
    if (item.prev) item.prev.next = item.next;
    else if (this.head === item) this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    item.prev = item.next = undefined;
  }

  /** forgetNodeInfo drops the NodeInfo of name (no node and no pods left). */
  private forgetNodeInfo(name: string): void {
    this.nodes.delete(name);
    const item = this.recent.get(name);
    if (item) {
      this.unlink(item);
      this.recent.delete(name);
    }
  }
}

function describe(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}
