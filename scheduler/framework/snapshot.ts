// Snapshot (internal/cache.Snapshot): the NodeInfos one scheduling cycle reads.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { NodeInfo } from './nodeinfo.js';
import { PodInfo } from './podinfo.js';

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
    for (const ni of this.nodeInfoList) this.nodeInfoMap.set(ni.name, ni);
    this.rebuildAffinityLists();
  }

  /** rebuildAffinityLists recomputes the affinity sublists alone (NodeInfos were swapped in place, the map is current). */
  rebuildAffinityLists(): void {
    const withAffinity: NodeInfo[] = [];
    const withAnti: NodeInfo[] = [];
    for (const ni of this.nodeInfoList) {
      if (ni.podsWithAffinity.length > 0) withAffinity.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) withAnti.push(ni);
    }
    this.havePodsWithAffinityList = withAffinity;
    this.havePodsWithRequiredAntiAffinityList = withAnti;
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
