// PodsByNode indexes the cached pods by spec.nodeName (client-go's pod-by-node indexer), so the
// node lifecycle and taint eviction controllers find a node's pods without walking every pod.
// It builds itself from the lister the first time it is asked (after the caches synced), then
// follows informer events; events before that are ignored because the first build covers them.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Lister } from '../../lib/controller/lister.js';

const keyOf = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

/** PodsByNode maps node names to the keys of the pods bound to them. */
export class PodsByNode {
  private readonly byNode = new Map<string, Set<string>>();
  private readonly nodeOfPod = new Map<string, string>();
  private built = false;

  constructor(private readonly pods: Lister<Pod>) {}

  private build(): void {
    if (this.built) return;
    this.built = true;
    for (const p of this.pods.list()) this.set(p);
  }

  private set(pod: Pod): void {
    const key = keyOf(pod);
    const node = pod.spec?.nodeName ?? '';
    const old = this.nodeOfPod.get(key);
    if (old === node) return;
    if (old !== undefined) this.forget(key, old);
    if (!node) return;
    this.nodeOfPod.set(key, node);
    let set = this.byNode.get(node);
    if (!set) this.byNode.set(node, (set = new Set()));
    set.add(key);
  }

  private forget(key: string, node: string): void {
    this.nodeOfPod.delete(key);
    const set = this.byNode.get(node);
    set?.delete(key);
    if (set && set.size === 0) this.byNode.delete(node);
  }

  /** upsert follows a pod add or update. */
  upsert(pod: Pod): void {
    if (this.built) this.set(pod);
  }

  /** remove follows a pod delete. */
  remove(pod: Pod): void {
    if (!this.built) return;
    const key = keyOf(pod);
    const node = this.nodeOfPod.get(key);
    if (node !== undefined) this.forget(key, node);
  }

  /** keys are the `namespace/name` keys of the pods bound to node. */
  keys(node: string): string[] {
    this.build();
    return [...(this.byNode.get(node) ?? [])];
  }

  /** pods are the cached pods bound to node (do not mutate them). */
  podsOn(node: string): Pod[] {
    const out: Pod[] = [];
    for (const k of this.keys(node)) {
      const p = this.pods.get(k);
      if (p && p.spec?.nodeName === node) out.push(p);
    }
    return out;
  }
}
