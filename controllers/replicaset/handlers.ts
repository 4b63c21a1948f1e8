// The ReplicaSet controller's event handlers (kube's addPod/updatePod/deletePod and
// addRS/updateRS/deleteRS): they only lower expectations and enqueue ReplicaSet keys.
//
// client-node's informers hand an update handler the new object only. Kube's updatePod needs
// the old one too (to wake the previous owner when a pod's controllerRef changes, and to tell
// when labels changed or a pod turned ready), so the handlers keep the little they need of the
// last version they saw of each pod: its resourceVersion, controllerRef, labels and readiness.

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
import { podKey } from './sync.js';

/** Enqueuer is the part of a Controller the handlers use. */
export interface Enqueuer {
  enqueueKey(key: string): void;
  enqueueAfter(key: string, delayMs: number): void;
}

interface PodSnapshot {
  resourceVersion: string | undefined;
  controllerRef: OwnerReference | undefined;
  labels: string;
  ready: boolean;
}

function snapshot(pod: Pod): PodSnapshot {
  const ref = getControllerOf(pod);
  return {
    resourceVersion: pod.metadata?.resourceVersion,
    controllerRef: ref && { ...ref },
    labels: labelsKey(pod.metadata?.labels),
    ready: isPodReady(pod),
  };
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
  private readonly pods = new Map<string, PodSnapshot>();
  private readonly rsUIDs = new Map<string, string | undefined>();

  constructor(
    private readonly replicaSets: Lister<ReplicaSet>,
    private readonly expectations: UIDTrackingControllerExpectations,
    private readonly queue: Enqueuer,
    private readonly log?: Logger,
  ) {}

  addRS(rs: ReplicaSet): void {
    const key = keyOf(rs);
    this.rsUIDs.set(key, rs.metadata.uid);
    this.queue.enqueueKey(key);
  }

  /** updateRS enqueues on every update (a failed create is retried on the next status change too). */
  updateRS(rs: ReplicaSet): void {
    const key = keyOf(rs);
    const old = this.rsUIDs.get(key);
    // Deleted and recreated under the same name while the watch was away: the new one starts clean.
    if (old !== undefined && old !== rs.metadata.uid) this.expectations.deleteExpectations(key);
    this.rsUIDs.set(key, rs.metadata.uid);
    this.queue.enqueueKey(key);
  }

  deleteRS(rs: ReplicaSet): void {
    const key = keyOf(rs);
    this.rsUIDs.delete(key);
    // So a ReplicaSet created again under this name starts without stale expectations.
    this.expectations.deleteExpectations(key);
    this.queue.enqueueKey(key);
  }

  /** addPod observes a creation for the pod's ReplicaSet, or wakes every ReplicaSet that could adopt an orphan. */
  addPod(pod: Pod): void {
    const snap = snapshot(pod);
    this.pods.set(podKey(pod), snap);
    if (pod.metadata?.deletionTimestamp) {
      // After a restart a pod may first appear already being deleted: that is a deletion, not a creation.
      this.deletionSeen(pod, snap.controllerRef);
      return;
    }
    if (snap.controllerRef) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace ?? '', snap.controllerRef);
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
  updatePod(pod: Pod): void {
    const key = podKey(pod);
    const old = this.pods.get(key);
    if (!old) {
      this.addPod(pod);
      return;
    }
    const cur = snapshot(pod);
    this.pods.set(key, cur);
    if (old.resourceVersion !== undefined && old.resourceVersion === cur.resourceVersion) return;
    const labelChanged = old.labels !== cur.labels;
    const namespace = pod.metadata?.namespace ?? '';
    if (pod.metadata?.deletionTimestamp) {
      // A graceful deletion starts here: the ReplicaSet should replace the pod now, not once
      // the kubelet has finished with it.
      this.deletionSeen(pod, cur.controllerRef);
      if (labelChanged || !sameRef(old.controllerRef, cur.controllerRef)) this.deletionSeen(pod, old.controllerRef);
      return;
    }
    const refChanged = !sameRef(old.controllerRef, cur.controllerRef);
    if (refChanged && old.controllerRef) {
      const rs = this.resolveControllerRef(namespace, old.controllerRef);
      if (rs) this.queue.enqueueKey(keyOf(rs));
    }
    if (cur.controllerRef) {
      const rs = this.resolveControllerRef(namespace, cur.controllerRef);
      if (!rs) return;
      const rsKey = keyOf(rs);
      this.queue.enqueueKey(rsKey);
      const minReadySeconds = rs.spec.minReadySeconds ?? 0;
      if (!old.ready && cur.ready && minReadySeconds > 0) {
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
    this.pods.delete(podKey(pod));
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
    if (ref.kind !== 'ReplicaSet') return undefined;
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
