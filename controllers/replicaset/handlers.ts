// The ReplicaSet controller's event handlers (kube's addPod/updatePod/deletePod and
// addRS/updateRS/deleteRS): they only lower expectations and enqueue ReplicaSet keys. Update
// handlers get the old object from the informer (SharedInformer.addEventHandler), as kube's do:
// a pod's previous controllerRef, labels and readiness come from there.

import type { ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { keyOf } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { isEverything, labelSelectorAsSelector, matches } from '../../lib/machinery/labels.js';
import { getControllerOf } from '../common/controllerref.js';
import type { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { isPodReady } from '../common/pods.js';
import { type ReplicaSetLister, podKey } from './sync.js';

/** Enqueuer is the part of a Controller the handlers use. */
export interface Enqueuer {
  enqueueKey(key: string): void;
  enqueueAfter(key: string, delayMs: number): void;
}

/** labelsKey is a canonical form of a label set, for comparing two versions (reflect.DeepEqual). */
function labelsKey(labels: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameRef(a: OwnerReference | undefined, b: OwnerReference | undefined): boolean {
  if (!a || !b) return a === b;
  return a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.uid === b.uid && a.controller === b.controller && a.blockOwnerDeletion === b.blockOwnerDeletion;
}

/** ReplicaSetEventHandlers turns pod and ReplicaSet events into expectation updates and queue keys. */
export class ReplicaSetEventHandlers {
  constructor(
    private readonly replicaSets: ReplicaSetLister,
    private readonly expectations: UIDTrackingControllerExpectations,
    private readonly queue: Enqueuer,
    private readonly log?: Logger,
    /** kind is the controller kind pods name in their controllerRef (ReplicationController for the RC manager). */
    private readonly kind = 'ReplicaSet',
  ) {}

  addRS(rs: ReplicaSet): void {
    this.queue.enqueueKey(keyOf(rs));
  }

  /** updateRS enqueues on every update (a failed create is retried on the next status change too). */
  updateRS(old: ReplicaSet, cur: ReplicaSet): void {
    const key = keyOf(cur);
    // Deleted and recreated under the same name while the watch was away: the new one starts clean.
    if (old.metadata.uid !== cur.metadata.uid) this.expectations.deleteExpectations(key);
    this.queue.enqueueKey(key);
  }

  deleteRS(rs: ReplicaSet): void {
    const key = keyOf(rs);
    // So a ReplicaSet created again under this name starts without stale expectations.
    this.expectations.deleteExpectations(key);
    this.queue.enqueueKey(key);
  }

  /** addPod observes a creation for the pod's ReplicaSet, or wakes every ReplicaSet that could adopt an orphan. */
  addPod(pod: Pod): void {
    const controllerRef = getControllerOf(pod);
    if (pod.metadata?.deletionTimestamp) {
      // After a restart a pod may first appear already being deleted: that is a deletion, not a creation.
      this.deletionSeen(pod, controllerRef);
      return;
    }
    if (controllerRef) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', controllerRef);
      if (!rs) return;
      const rsKey = keyOf(rs);
      this.log?.v(4).info('Pod created', { pod: podKey(pod), replicaSet: rsKey });
      this.expectations.creationObserved(rsKey);
      this.queue.enqueueKey(rsKey);
      return;
    }
    // An orphan: no controller waits for its creation, but one may want to adopt it.
    for (const rs of this.getPodReplicaSets(pod)) this.queue.enqueueKey(keyOf(rs));
  }

  /** updatePod wakes the pod's old and new controllers, or the ReplicaSets that may adopt it. */
  updatePod(oldPod: Pod, pod: Pod): void {
    const oldRV = oldPod.metadata?.resourceVersion;
    // A relist hands over unchanged pods again: nothing happened.
    if (oldRV !== undefined && oldRV === pod.metadata?.resourceVersion) return;
    const labelChanged = labelsKey(oldPod.metadata?.labels) !== labelsKey(pod.metadata?.labels);
    const oldRef = getControllerOf(oldPod);
    const curRef = getControllerOf(pod);
    const namespace = pod.metadata?.namespace ?? '';
    if (pod.metadata?.deletionTimestamp) {
      // A graceful deletion starts here: the ReplicaSet should replace the pod now, not once
      // the kubelet has finished with it.
      this.deletionSeen(pod, curRef);
      if (labelChanged || !sameRef(oldRef, curRef)) this.deletionSeen(pod, oldRef);
      return;
    }
    const refChanged = !sameRef(oldRef, curRef);
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(namespace, oldRef);
      if (rs) this.queue.enqueueKey(keyOf(rs));
    }
    if (curRef) {
      const rs = this.resolveControllerRef(namespace, curRef);
      if (!rs) return;
      const rsKey = keyOf(rs);
      this.queue.enqueueKey(rsKey);
      const minReadySeconds = rs.spec.minReadySeconds ?? 0;
      if (!isPodReady(oldPod) && isPodReady(pod) && minReadySeconds > 0) {
        // Availability comes with time, not with an event: look again once it may have come
        // (a second more against clock skew, as kube).
        this.queue.enqueueAfter(rsKey, minReadySeconds * 1000 + 1000);
      }
      return;
    }
    if (labelChanged || refChanged) {
      for (const rs of this.getPodReplicaSets(pod)) this.queue.enqueueKey(keyOf(rs));
    }
  }

  /** deletePod observes a deletion for the pod's ReplicaSet. */
  deletePod(pod: Pod): void {
    this.deletionSeen(pod, getControllerOf(pod));
  }

  private deletionSeen(pod: Pod, ref: OwnerReference | undefined): void {
    if (!ref) return; // No controller cares about an orphan's deletion.
    const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', ref);
    if (!rs) return;
    const rsKey = keyOf(rs);
    this.log?.v(4).info('Pod deleted', { pod: podKey(pod), replicaSet: rsKey, deletionTimestamp: pod.metadata?.deletionTimestamp });
    this.expectations.deletionObserved(rsKey, podKey(pod));
    this.queue.enqueueKey(rsKey);
  }

  /** resolveControllerRef is the cached ReplicaSet a controllerRef names, if it is that very one (same uid). */
  private resolveControllerRef(namespace: string, ref: OwnerReference): ReplicaSet | undefined {
    if (ref.kind !== this.kind) return undefined;
    const rs = this.replicaSets.get(namespace ? `${namespace}/${ref.name}` : ref.name);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** getPodReplicaSets are the ReplicaSets of the pod's namespace whose (non-empty, valid) selector matches it. */
  private getPodReplicaSets(pod: Pod): ReplicaSet[] {
    const out: ReplicaSet[] = [];
    for (const rs of this.replicaSets.list(pod.metadata?.namespace ?? '')) {
      try {
        const sel = labelSelectorAsSelector(rs.spec.selector);
        if (!isEverything(sel) && matches(sel, pod.metadata?.labels)) out.push(rs);
      } catch {
        // An invalid selector selects nothing.
      }
    }
    if (out.length > 1) this.log?.v(2).info('More than one ReplicaSet selects a pod', { pod: podKey(pod), replicaSets: out.map(keyOf) });
    return out;
  }
}
