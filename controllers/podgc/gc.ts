// The pod garbage collector (kube's pkg/controller/podgc PodGCController.gc), one pass at a time:
//  - gcTerminated: beyond terminatedPodGCThreshold finished pods (Succeeded/Failed), the oldest
//    go, evicted ones first;
//  - gcTerminating: terminating pods on a NotReady node tainted node.kubernetes.io/out-of-service
//    are force-deleted (no kubelet will finish them);
//  - gcOrphaned: pods bound to a Node that has been missing for the quarantine time, and is still
//    missing when asked live, are marked Failed (DisruptionTarget DeletionByPodGC) and
//    force-deleted, terminating or not;
//  - gcUnscheduledTerminating: terminating pods that were never bound are force-deleted.

import { type Node, isNodeReady } from '../../lib/api/core/node.js';
import { type Pod, PodPhase, isPodTerminal } from '../../lib/api/core/pod.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { ApiError, type Client, isConflict, isNotFound } from '../../lib/client/client.js';
import { Nodes, Pods } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';

/** fieldManager is the manager PodGC applies pod status as. */
export const fieldManager = 'PodGC';
/** TaintNodeOutOfService marks a node an admin declared shut down for good. */
export const TaintNodeOutOfService = 'node.kubernetes.io/out-of-service';
/** maxConcurrentDeletes bounds how many pods one pass deletes at once. */
const maxConcurrentDeletes = 10;

/** PodGCOptions configure a PodGC. */
export interface PodGCOptions {
  client: Client;
  pods: Lister<Pod>;
  nodes: Lister<Node>;
  /** terminatedPodThreshold: finished pods kept; 0 turns gcTerminated off. */
  terminatedPodThreshold: number;
  /** quarantineMs: how long a pod's Node must be missing before the pod goes (kube's 40 s). */
  quarantineMs: number;
  log?: Logger;
  /** now is the clock in ms (tests pass their own). */
  now?: () => number;
}

/** DisruptionCondition is the DisruptionTarget condition PodGC adds. */
interface DisruptionCondition {
  type: 'DisruptionTarget';
  status: 'True';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

function isEvicted(pod: Pod): boolean {
  return pod.status?.phase === PodPhase.Failed && pod.status?.reason === 'Evicted';
}

/** byEvictionAndCreationTimestamp orders finished pods for deletion: evicted first, then oldest, then by name. */
export function byEvictionAndCreationTimestamp(a: Pod, b: Pod): number {
  const ea = isEvicted(a);
  const eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * isGoneOrReplaced: the pod a write meant is no more (404), or another one has its name (a uid
 * precondition failed: 409 on delete, 422 "field is immutable" on a patch).
 */
function isGoneOrReplaced(err: unknown): boolean {
  return isNotFound(err) || isConflict(err) || (err instanceof ApiError && err.code === 422);
}

/** PodGC keeps the quarantine of missing nodes between passes. */
export class PodGC {
  /** missingSince is when each missing node was first noticed (ms). */
  private readonly missingSince = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: PodGCOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** gc runs one pass. Failures on single pods are logged; the next pass tries again. */
  async gc(): Promise<void> {
    const pods = this.opts.pods.list();
    const nodes = new Map(this.opts.nodes.list().map((n) => [n.metadata.name ?? '', n] as const));
    if (this.opts.terminatedPodThreshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods, nodes);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: readonly Pod[]): Promise<void> {
    // Kubernetes' isPodTerminated: any phase but Pending, Running and Unknown.
    const terminated = pods.filter((p) => isPodTerminal(p));
    const deleteCount = terminated.length - this.opts.terminatedPodThreshold;
    if (deleteCount <= 0) return;
    this.opts.log?.info('Garbage collecting pods', { numPods: deleteCount });
    terminated.sort(byEvictionAndCreationTimestamp);
    await this.each(terminated.slice(0, deleteCount), (p) => this.markFailedAndDeletePod(p));
  }

  private async gcTerminating(pods: readonly Pod[], nodes: Map<string, Node>): Promise<void> {
    const doomed = pods.filter((p) => {
      // isPodTerminating: being deleted and not finished (a finished pod is gcTerminated's).
      if (!p.metadata.deletionTimestamp || isPodTerminal(p) || !p.spec?.nodeName) return false;
      const node = nodes.get(p.spec.nodeName);
      return !!node && !isNodeReady(node) && (node.spec?.taints ?? []).some((t) => t.key === TaintNodeOutOfService);
    });
    if (!doomed.length) return;
    this.opts.log?.info('Garbage collecting pods that are terminating on node tainted with node.kubernetes.io/out-of-service', { numPods: doomed.length });
    doomed.sort(byEvictionAndCreationTimestamp);
    await this.each(doomed, (p) => this.markFailedAndDeletePod(p));
  }

  private async gcOrphaned(pods: readonly Pod[], nodes: Map<string, Node>): Promise<void> {
    const now = this.now();
    const missingNow = new Set<string>();
    for (const p of pods) {
      const nodeName = p.spec?.nodeName;
      if (nodeName && !nodes.has(nodeName)) missingNow.add(nodeName);
    }
    // A node that came back (or whose pods are gone) leaves quarantine; a new absence starts it.
    for (const name of [...this.missingSince.keys()]) if (!missingNow.has(name)) this.missingSince.delete(name);
    for (const name of missingNow) if (!this.missingSince.has(name)) this.missingSince.set(name, now);

    const deleted = new Set<string>();
    for (const [name, since] of this.missingSince) {
      if (now - since < this.opts.quarantineMs) continue;
      // The cache may lag: only a 404 from the apiserver proves the node is gone.
      try {
        await this.opts.client.get(Nodes, '', name);
        this.missingSince.delete(name);
      } catch (err) {
        if (isNotFound(err)) deleted.add(name);
        else this.opts.log?.warn('Could not check whether node exists', { node: name, err: err instanceof Error ? err.message : String(err) });
      }
    }
    const orphans = pods.filter((p) => deleted.has(p.spec?.nodeName ?? ''));
    await this.each(orphans, async (p) => {
      this.opts.log?.v(2).info('Found orphaned Pod assigned to the Node, deleting', { pod: `${p.metadata.namespace}/${p.metadata.name}`, node: p.spec.nodeName });
      await this.markFailedAndDeletePod(p, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists', lastTransitionTime: nowRFC3339(new Date(this.now())) });
      this.opts.log?.info('Forced deletion of orphaned Pod succeeded', { pod: `${p.metadata.namespace}/${p.metadata.name}` });
    });
    for (const name of deleted) this.missingSince.delete(name);
  }

  private async gcUnscheduledTerminating(pods: readonly Pod[]): Promise<void> {
    const doomed = pods.filter((p) => p.metadata.deletionTimestamp && !p.spec?.nodeName);
    if (!doomed.length) return;
    this.opts.log?.v(2).info('Garbage collecting unscheduled terminating pods', { numPods: doomed.length });
    await this.each(doomed, (p) => this.markFailedAndDeletePod(p));
  }

  /**
   * markFailedAndDeletePod is markFailedAndDeletePodWithCondition: a pod that has not finished is
   * first moved to phase Failed (server-side apply of status, so PodGC owns just those fields;
   * no kubelet will ever do it for an orphan), then deleted with grace period 0. Both writes
   * carry the cached pod's uid, so a pod made again under the same name meanwhile is left alone.
   */
  private async markFailedAndDeletePod(pod: Pod, condition?: DisruptionCondition): Promise<void> {
    const { namespace = '', name = '', uid } = pod.metadata;
    this.opts.log?.info('PodGC is force deleting Pod', { pod: `${namespace}/${name}` });
    if (!isPodTerminal(pod)) {
      const status: Record<string, unknown> = { phase: PodPhase.Failed };
      if (condition) status.conditions = [condition];
      try {
        await this.opts.client.patch(Pods, namespace, name, 'apply', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...(uid ? { uid } : {}) }, status }, { subresource: 'status', fieldManager, force: true });
      } catch (err) {
        if (isGoneOrReplaced(err)) return;
        throw err;
      }
    }
    try {
      await this.opts.client.delete(Pods, namespace, name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) });
    } catch (err) {
      if (!isGoneOrReplaced(err)) throw err;
    }
  }

  /** each runs fn over pods, a few at a time, logging failures instead of stopping. */
  private async each(pods: readonly Pod[], fn: (p: Pod) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < pods.length) {
        const p = pods[next++]!;
        try {
          await fn(p);
        } catch (err) {
          this.opts.log?.warn('Failed to garbage collect pod', { pod: `${p.metadata.namespace}/${p.metadata.name}`, err: err instanceof Error ? err.message : String(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxConcurrentDeletes, pods.length) }, worker));
  }
}
