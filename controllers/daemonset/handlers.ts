// The DaemonSet controller's event handlers (kube's addDaemonset…deleteHistory, addPod…
// deletePod, addNode/updateNode): they only lower expectations and enqueue DaemonSet keys.

import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { DaemonSet } from '../../lib/api/apps/daemonset.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { keyOf } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { canonicalJSON } from '../../lib/machinery/canonical.js';
import { isEverything, labelSelectorAsSelector, matches } from '../../lib/machinery/labels.js';
import { getControllerOf } from '../common/controllerref.js';
import type { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { isPodReady } from '../common/pods.js';
import { nodeShouldRunDaemonPod } from './util.js';

/** Enqueuer is the part of a Controller the handlers use. */
export interface Enqueuer {
  enqueueKey(key: string): void;
  enqueueAfter(key: string, delayMs: number): void;
}

type Child = Pod | ControllerRevision;

const podKey = (pod: Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

/** DaemonSetEventHandlers turn DaemonSet, pod, revision and node events into expectation updates and queue keys. */
export class DaemonSetEventHandlers {
  constructor(
    private readonly daemonSets: Lister<DaemonSet>,
    private readonly expectations: UIDTrackingControllerExpectations,
    private readonly queue: Enqueuer,
    private readonly log?: Logger,
  ) {}

  addDaemonSet(ds: DaemonSet): void {
    this.log?.v(4).info('Adding daemon set', { daemonset: keyOf(ds) });
    this.queue.enqueueKey(keyOf(ds));
  }

  updateDaemonSet(old: DaemonSet, cur: DaemonSet): void {
    // Deleted and recreated under the same name while the watch was away: the new one starts clean.
    if (old.metadata.uid !== cur.metadata.uid) this.expectations.deleteExpectations(keyOf(old));
    this.queue.enqueueKey(keyOf(cur));
  }

  deleteDaemonSet(ds: DaemonSet): void {
    const key = keyOf(ds);
    this.expectations.deleteExpectations(key);
    this.queue.enqueueKey(key);
  }

  /** addPod observes a creation for the pod's DaemonSet, or wakes the DaemonSets that may adopt an orphan. */
  addPod(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      // After a restart a pod may first appear already being deleted: a deletion, not a creation.
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const ds = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
      if (!ds) return;
      const key = keyOf(ds);
      this.log?.v(4).info('Pod added', { pod: podKey(pod), daemonset: key });
      this.expectations.creationObserved(key);
      this.queue.enqueueKey(key);
      return;
    }
    for (const ds of this.selectingDaemonSets(pod)) this.queue.enqueueKey(keyOf(ds));
  }

  updatePod(oldPod: Pod, pod: Pod): void {
    if (oldPod.metadata?.resourceVersion !== undefined && oldPod.metadata.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp) {
      // A graceful deletion starts: replace the pod now, not once the kubelet is done with it.
      this.deletePod(pod);
      return;
    }
    const curRef = getControllerOf(pod);
    const oldRef = getControllerOf(oldPod);
    const refChanged = canonicalJSON(curRef ?? null) !== canonicalJSON(oldRef ?? null);
    if (refChanged && oldRef) {
      const ds = this.resolveControllerRef(oldPod.metadata?.namespace ?? '', oldRef);
      if (ds) this.queue.enqueueKey(keyOf(ds));
    }
    if (curRef) {
      const ds = this.resolveControllerRef(pod.metadata?.namespace ?? '', curRef);
      if (!ds) return;
      const key = keyOf(ds);
      this.queue.enqueueKey(key);
      const minReadySeconds = ds.spec.minReadySeconds ?? 0;
      if (!isPodReady(oldPod) && isPodReady(pod) && minReadySeconds > 0) this.queue.enqueueAfter(key, minReadySeconds * 1000 + 1000);
      return;
    }
    const labelChanged = canonicalJSON(oldPod.metadata?.labels ?? {}) !== canonicalJSON(pod.metadata?.labels ?? {});
    if (labelChanged || refChanged) for (const ds of this.selectingDaemonSets(pod)) this.queue.enqueueKey(keyOf(ds));
  }

  deletePod(pod: Pod): void {
    const ref = getControllerOf(pod);
    if (!ref) return;
    const ds = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!ds) return;
    const key = keyOf(ds);
    this.log?.v(4).info('Pod deleted', { pod: podKey(pod), daemonset: key });
    this.expectations.deletionObserved(key, podKey(pod));
    this.queue.enqueueKey(key);
  }

  /** addHistory: an owned revision needs nothing; an orphan wakes the DaemonSets that may adopt it. */
  addHistory(history: ControllerRevision): void {
    if (history.metadata.deletionTimestamp) {
      this.deleteHistory(history);
      return;
    }
    const ref = getControllerOf(history);
    if (ref) return;
    for (const ds of this.selectingDaemonSets(history)) this.queue.enqueueKey(keyOf(ds));
  }

  updateHistory(old: ControllerRevision, cur: ControllerRevision): void {
    if (old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = canonicalJSON(curRef ?? null) !== canonicalJSON(oldRef ?? null);
    if (refChanged && oldRef) {
      const ds = this.resolveControllerRef(old.metadata.namespace ?? '', oldRef);
      if (ds) this.queue.enqueueKey(keyOf(ds));
    }
    if (curRef) {
      const ds = this.resolveControllerRef(cur.metadata.namespace ?? '', curRef);
      if (ds) this.queue.enqueueKey(keyOf(ds));
      return;
    }
    const labelChanged = canonicalJSON(old.metadata.labels ?? {}) !== canonicalJSON(cur.metadata.labels ?? {});
    if (labelChanged || refChanged) for (const ds of this.selectingDaemonSets(cur)) this.queue.enqueueKey(keyOf(ds));
  }

  deleteHistory(history: ControllerRevision): void {
    const ref = getControllerOf(history);
    if (!ref) return;
    const ds = this.resolveControllerRef(history.metadata.namespace ?? '', ref);
    if (ds) this.queue.enqueueKey(keyOf(ds));
  }

  /** addNode wakes every DaemonSet that should run a pod on the new node. */
  addNode(node: Node): void {
    for (const ds of this.daemonSets.list()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.queue.enqueueKey(keyOf(ds));
  }

  /** updateNode wakes the DaemonSets whose answer for this node changed (labels, taints, …). */
  updateNode(old: Node, cur: Node): void {
    if (old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    for (const ds of this.daemonSets.list()) {
      const a = nodeShouldRunDaemonPod(old, ds);
      const b = nodeShouldRunDaemonPod(cur, ds);
      if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) this.queue.enqueueKey(keyOf(ds));
    }
  }

  /**
   * deleteNode wakes every DaemonSet: a pod meant for a node that is gone and never bound is
   * left to its controller (the pod GC only collects bound ones). kube waits for the next
   * resync here; waking now changes only when that happens.
   */
  deleteNode(_node: Node): void {
    for (const ds of this.daemonSets.list()) this.queue.enqueueKey(keyOf(ds));
  }

  /** resolveControllerRef is the cached DaemonSet a controllerRef names, if it is that very one (same uid). */
  private resolveControllerRef(namespace: string, ref: OwnerReference): DaemonSet | undefined {
    if (ref.kind !== 'DaemonSet') return undefined;
    const ds = this.daemonSets.get(namespace ? `${namespace}/${ref.name}` : ref.name);
    return ds && ds.metadata.uid === ref.uid ? ds : undefined;
  }

  /** selectingDaemonSets are the DaemonSets of the child's namespace whose (non-empty, valid) selector matches it. */
  private selectingDaemonSets(child: Child): DaemonSet[] {
    const out: DaemonSet[] = [];
    for (const ds of this.daemonSets.list(child.metadata?.namespace ?? '')) {
      try {
        const sel = labelSelectorAsSelector(ds.spec.selector);
        if (!isEverything(sel) && matches(sel, child.metadata?.labels)) out.push(ds);
      } catch {
        // An invalid selector selects nothing.
      }
    }
    if (out.length > 1) this.log?.v(4).info('More than one DaemonSet selects an object', { object: `${child.metadata?.namespace}/${child.metadata?.name}`, daemonsets: out.map(keyOf) });
    return out;
  }
}
