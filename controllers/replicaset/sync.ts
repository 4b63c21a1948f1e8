// syncReplicaSet: the ReplicaSet controller's reconcile (kube's pkg/controller/replicaset
// replica_set.go and replica_set_utils.go). From the caches it takes the ReplicaSet and the
// active pods of its namespace, claims the pods it should own, creates or deletes pods to reach
// spec.replicas (unless expectations say the cache still lags behind its own last writes), and
// writes status through /status when it changed.
//
// It is a class over listers, a Client, a Recorder, expectations and a clock, so a unit test
// preloads caches with listerOf, runs one sync against a FakeClient and asserts the exact actions
// and events (sample-controller's fixture).

import type { ReplicaSet, ReplicaSetStatus } from '../../lib/api/apps/types.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { apiVersionOf } from '../../lib/api/resource.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { type Condition, nowRFC3339 } from '../../lib/api/meta.js';
import { type Client, type ResourceType, isNotFound } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { Pods, ReplicaSets } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { type LabelSelectorExpr, InvalidLabelSelectorError, labelSelectorAsSelector, matches, selectorFromSet } from '../../lib/machinery/labels.js';
import { nameIsDNSSubdomain } from '../../lib/machinery/validation.js';
import { ControllerRefManager, getControllerOf, newControllerRef } from '../common/controllerref.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import type { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { filterActivePods, isPodAvailable, isPodReady, podReadyTime, ranksByRelatedPodsOnSameNode, sortActivePodsWithRanks } from '../common/pods.js';

/** BurstReplicas is kube's BurstReplicas: at most this many pods are created or deleted in one sync. */
export const BurstReplicas = 500;

/** SlowStartInitialBatchSize is the first create batch; each successful batch doubles the next. */
export const SlowStartInitialBatchSize = 1;

/** statusUpdateRetries: one more status write (after a fresh GET) when the first one fails. */
const statusUpdateRetries = 1;

// Event reasons, also the ReplicaFailure condition's reasons (kube's controller_utils.go).
export const FailedCreatePodReason = 'FailedCreate';
export const SuccessfulCreatePodReason = 'SuccessfulCreate';
export const FailedDeletePodReason = 'FailedDelete';
export const SuccessfulDeletePodReason = 'SuccessfulDelete';

/** ReplicaSetReplicaFailure is the condition set while pods cannot be created or deleted. */
export const ReplicaSetReplicaFailure = 'ReplicaFailure';

/**
 * ControlledKind is the kind of object the syncer keeps pods for, seen as ReplicaSets: kube runs
 * its ReplicationController manager as this very controller over RCs converted to ReplicaSets
 * (pkg/controller/replication's conversion adapters). The listers the syncer reads already hold
 * the ReplicaSet view; writes convert back.
 */
export interface ControlledKind {
  /** resource is where the objects live: its apiVersion and kind go into ownerReferences and events. */
  resource: ResourceType;
  /** toStored turns the ReplicaSet view back into the stored kind (for status writes). */
  toStored(rs: ReplicaSet): KubeObject;
  /** fromStored reads a stored object as a ReplicaSet. */
  fromStored(obj: KubeObject): ReplicaSet;
}

/** replicaSetKind is the ReplicaSet itself: no conversion. */
export const replicaSetKind: ControlledKind = { resource: ReplicaSets, toStored: (rs) => rs, fromStored: (obj) => obj as ReplicaSet };

/** ReplicaSetLister is what the syncer and handlers read ReplicaSets through (a Lister, or an adapter over another kind's). */
export type ReplicaSetLister = Pick<Lister<ReplicaSet>, 'get' | 'list'>;

/** ReplicaSetSyncerOptions are what one syncer reads and writes through. */
export interface ReplicaSetSyncerOptions {
  client: Client;
  replicaSets: ReplicaSetLister;
  /** kind is what the ReplicaSets really are (default: ReplicaSets). */
  kind?: ControlledKind;
  pods: Lister<Pod>;
  recorder: Recorder;
  expectations: UIDTrackingControllerExpectations;
  /** now is the clock status and availability are judged by (default: wall time). */
  now?: () => Date;
  log?: Logger;
  /** burstReplicas bounds creates or deletes per sync (default BurstReplicas). */
  burstReplicas?: number;
}

/** podKey is kube's controller.PodKey: `namespace/name`, what deletion expectations track. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/**
 * getPodsPrefix is kube's getPodsPrefix: pods are named `<controller>-<random>`, unless
 * `<controller>-` is no valid generateName (too long), then the controller's name alone.
 */
function getPodsPrefix(controllerName: string): string {
  const prefix = `${controllerName}-`;
  return nameIsDNSSubdomain(prefix, true).length ? controllerName : prefix;
}

/** podFromTemplate is kube's GetPodFromTemplate: a pod to create for rs, controlled by it (as an object of ownerType). */
export function podFromTemplate(rs: ReplicaSet, ownerType: ResourceType = ReplicaSets): Pod {
  const template = rs.spec.template ?? {};
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: getPodsPrefix(rs.metadata.name ?? ''),
      ownerReferences: [newControllerRef(rs, ownerType)],
    },
    spec: structuredClone(template.spec ?? {}) as Pod['spec'],
  };
  if (meta.labels && Object.keys(meta.labels).length) pod.metadata.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

/**
 * slowStartBatch calls fn count times in batches of 1, 2, 4, … run concurrently, stopping after
 * the first batch with a failure (kube's slowStartBatch): a template that every create rejects
 * costs one request, not hundreds. Returns how many calls succeeded and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>, signal?: AbortSignal): Promise<{ successes: number; error?: Error }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    if (signal?.aborted) break;
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures.length) {
      const reason: unknown = failures[0]!.reason;
      return { successes, error: reason instanceof Error ? reason : new Error(String(reason)) };
    }
    remaining -= batch;
  }
  return { successes };
}

/** eventTarget is what events are about: the ReplicaSet, with its kind even when a list left it out of the cached item. */
function eventTarget(rs: ReplicaSet, kind: ResourceType): InvolvedObject {
  return { apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: rs.metadata };
}

/** getCondition returns the status condition of type, if any. */
function getCondition(status: ReplicaSetStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * calculateStatus is kube's calculateStatus: counts of the claimed active pods (all of them,
 * those carrying every template label, the ready ones, the available ones) and the
 * ReplicaFailure condition, set on a create/delete error and removed once a sync succeeds.
 */
export function calculateStatus(rs: ReplicaSet, pods: readonly Pod[], manageReplicasErr: Error | undefined, now: Date): ReplicaSetStatus {
  const status: ReplicaSetStatus = structuredClone(rs.status ?? {});
  const templateLabels = selectorFromSet(rs.spec.template?.metadata?.labels);
  const minReadySeconds = rs.spec.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (matches(templateLabels, pod.metadata?.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, now)) available++;
    }
  }
  const failure = getCondition(rs.status, ReplicaSetReplicaFailure);
  if (manageReplicasErr && !failure) {
    const diff = pods.length - (rs.spec.replicas ?? 1);
    const reason = diff < 0 ? FailedCreatePodReason : diff > 0 ? FailedDeletePodReason : '';
    status.conditions = [
      ...(status.conditions ?? []),
      { type: ReplicaSetReplicaFailure, status: 'True', lastTransitionTime: nowRFC3339(now), reason, message: manageReplicasErr.message },
    ];
  } else if (!manageReplicasErr && failure) {
    status.conditions = status.conditions?.filter((c) => c.type !== ReplicaSetReplicaFailure);
    if (!status.conditions?.length) delete status.conditions;
  }
  status.replicas = pods.length;
  status.fullyLabeledReplicas = fullyLabeled;
  status.readyReplicas = ready;
  status.availableReplicas = available;
  return status;
}

/** statusUnchanged is updateReplicaSetStatus's steady-state test: nothing to write. */
function statusUnchanged(rs: ReplicaSet, s: ReplicaSetStatus): boolean {
  const cur = rs.status ?? {};
  return (
    (cur.replicas ?? 0) === s.replicas &&
    (cur.fullyLabeledReplicas ?? 0) === s.fullyLabeledReplicas &&
    (cur.readyReplicas ?? 0) === s.readyReplicas &&
    (cur.availableReplicas ?? 0) === s.availableReplicas &&
    (rs.metadata.generation ?? 0) === (cur.observedGeneration ?? 0) &&
    JSON.stringify(cur.conditions ?? []) === JSON.stringify(s.conditions ?? [])
  );
}

/** ReplicaSetSyncer runs syncReplicaSet for keys; one per controller (it holds no per-sync state). */
export class ReplicaSetSyncer {
  private readonly opts: ReplicaSetSyncerOptions;
  private readonly now: () => Date;
  private readonly burstReplicas: number;
  private readonly kind: ControlledKind;

  constructor(opts: ReplicaSetSyncerOptions) {
    this.opts = opts;
    this.kind = opts.kind ?? replicaSetKind;
    this.now = opts.now ?? (() => new Date());
    this.burstReplicas = opts.burstReplicas ?? BurstReplicas;
  }

  /**
   * syncReplicaSet brings the ReplicaSet named by key to spec.replicas pods and writes its
   * status. Throws (retry with backoff) when pods could not be claimed, created or deleted, or
   * status could not be written; returns requeueAfter when a ready pod becomes available only
   * after minReadySeconds, so status notices without another event.
   */
  async syncReplicaSet(key: string, signal?: AbortSignal): Promise<ReconcileResult | void> {
    const { expectations, log } = this.opts;
    const { namespace } = splitKey(key);
    const rs = this.opts.replicaSets.get(key);
    if (!rs) {
      log?.v(4).info('ReplicaSet deleted', { replicaSet: key });
      expectations.deleteExpectations(key);
      return;
    }
    const rsNeedsSync = expectations.satisfiedExpectations(key);
    let selector: LabelSelectorExpr;
    try {
      selector = labelSelectorAsSelector(rs.spec.selector);
    } catch (err) {
      // Validation keeps invalid selectors out; one that got in cannot be fixed by retrying.
      if (err instanceof InvalidLabelSelectorError) {
        log?.error('Invalid ReplicaSet selector', { replicaSet: key, err: err.message });
        return;
      }
      throw err;
    }
    // Every pod of the namespace, not only the selected ones: an owned pod whose labels no
    // longer match must be seen to be released.
    const active = filterActivePods(this.opts.pods.list(namespace));
    const manager = new ControllerRefManager({ client: this.opts.client, owner: rs, ownerType: this.kind.resource, resource: Pods, selector });
    const pods = await manager.claim(active);

    let manageReplicasErr: Error | undefined;
    if (rsNeedsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, pods, rs, signal);
      } catch (err) {
        manageReplicasErr = err instanceof Error ? err : new Error(String(err));
      }
    }
    const now = this.now();
    const status = calculateStatus(rs, pods, manageReplicasErr, now);
    await this.updateStatus(rs, status);
    if (manageReplicasErr) throw manageReplicasErr;
    const after = this.availabilityRecheck(rs, pods, now);
    return after === undefined ? undefined : { requeueAfter: after };
  }

  /**
   * availabilityRecheck is how long until the first ready pod that is not yet available
   * becomes so, plus a second for clock skew between the kubelet and us (kube re-enqueues
   * minReadySeconds + 1 s after a pod turns ready).
   */
  private availabilityRecheck(rs: ReplicaSet, pods: readonly Pod[], now: Date): number | undefined {
    const minReadySeconds = rs.spec.minReadySeconds ?? 0;
    if (minReadySeconds <= 0) return undefined;
    let soonest: number | undefined;
    for (const pod of pods) {
      if (!isPodReady(pod) || isPodAvailable(pod, minReadySeconds, now)) continue;
      // Without a transition time a pod never counts as available: no point checking again.
      const since = podReadyTime(pod);
      if (since === undefined) continue;
      const wait = Math.max(0, since + minReadySeconds * 1000 - now.getTime());
      soonest = soonest === undefined ? wait : Math.min(soonest, wait);
    }
    return soonest === undefined ? undefined : soonest + 1000;
  }

  /** manageReplicas is kube's manageReplicas: create or delete pods (at most burstReplicas) to reach spec.replicas. */
  private async manageReplicas(key: string, pods: readonly Pod[], rs: ReplicaSet, signal?: AbortSignal): Promise<void> {
    const { expectations, log } = this.opts;
    const want = rs.spec.replicas ?? 1;
    let diff = pods.length - want;
    if (diff < 0) {
      diff = Math.min(-diff, this.burstReplicas);
      // Expect every create before the first is sent: its watch event may arrive before the
      // POST answers, and must find the expectation to lower.
      expectations.expectCreations(key, diff);
      log?.v(2).info('Too few replicas', { replicaSet: key, need: want, creating: diff });
      const { successes, error } = await slowStartBatch(diff, SlowStartInitialBatchSize, () => this.createPod(rs), signal);
      // Creates never attempted will not be observed either.
      const skipped = diff - successes;
      if (skipped > 0) {
        log?.v(2).info('Slow-start failure. Skipping creation of pods, decrementing expectations', { podsSkipped: skipped, replicaSet: key });
        for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
      }
      if (error) throw error;
    } else if (diff > 0) {
      diff = Math.min(diff, this.burstReplicas);
      log?.v(2).info('Too many replicas', { replicaSet: key, need: want, deleting: diff });
      const toDelete = this.getPodsToDelete(pods, this.getIndirectlyRelatedPods(rs), diff);
      expectations.expectDeletions(key, toDelete.map(podKey));
      const errors: Error[] = [];
      await Promise.all(
        toDelete.map(async (pod) => {
          try {
            await this.deletePod(rs, pod);
          } catch (err) {
            // This deletion will never be observed.
            expectations.deletionObserved(key, podKey(pod));
            if (!isNotFound(err)) errors.push(err instanceof Error ? err : new Error(String(err)));
          }
        }),
      );
      if (errors.length) throw errors[0];
    }
  }

  /** createPod is RealPodControl.CreatePods for one pod, with kube's events. */
  private async createPod(rs: ReplicaSet): Promise<void> {
    const pod = podFromTemplate(rs, this.kind.resource);
    if (!pod.metadata.labels) throw new Error('unable to create pods, no labels');
    let created: Pod;
    try {
      created = await this.opts.client.create<Pod>(Pods, rs.metadata.namespace ?? '', pod);
    } catch (err) {
      // In a terminating namespace every create fails and the namespace controller is about to
      // delete this ReplicaSet anyway: no event, and not a failure (kube counts it as done).
      if (isNamespaceTerminatingError(err)) return;
      const message = err instanceof Error ? err.message : String(err);
      this.opts.recorder.event(eventTarget(rs, this.kind.resource), 'Warning', FailedCreatePodReason, `Error creating: ${message}`);
      throw err;
    }
    this.opts.log?.v(4).info('Controller created pod', { controller: rs.metadata.name, pod: `${created.metadata?.namespace}/${created.metadata?.name}` });
    this.opts.recorder.event(eventTarget(rs, this.kind.resource), 'Normal', SuccessfulCreatePodReason, `Created pod: ${created.metadata?.name}`);
  }

  /** deletePod is RealPodControl.DeletePod, with kube's events; a 404 is rethrown as is (no event). */
  private async deletePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    const namespace = rs.metadata.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.opts.log?.v(2).info('Deleting pod', { controller: rs.metadata.name, pod: `${namespace}/${name}` });
    try {
      await this.opts.client.delete(Pods, namespace, name);
    } catch (err) {
      if (isNotFound(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.opts.recorder.event(eventTarget(rs, this.kind.resource), 'Warning', FailedDeletePodReason, `Error deleting: ${message}`);
      throw new Error(`unable to delete pods: ${message}`, { cause: err });
    }
    this.opts.recorder.event(eventTarget(rs, this.kind.resource), 'Normal', SuccessfulDeletePodReason, `Deleted pod: ${name}`);
  }

  /**
   * getIndirectlyRelatedPods is kube's: the pods selected by every ReplicaSet with the same
   * controller (the same Deployment) as rs, each once. They rank pods by how crowded their node
   * is, so a scale-down spreads the Deployment's pods.
   */
  private getIndirectlyRelatedPods(rs: ReplicaSet): Pod[] {
    const controller = getControllerOf(rs);
    if (!controller) return [];
    const seen = new Set<string>();
    const related: Pod[] = [];
    for (const other of this.opts.replicaSets.list(rs.metadata.namespace)) {
      if (getControllerOf(other)?.uid !== controller.uid) continue;
      let sel: LabelSelectorExpr;
      try {
        sel = labelSelectorAsSelector(other.spec.selector);
      } catch {
        continue; // An invalid selector matches no pods.
      }
      for (const pod of this.opts.pods.list(other.metadata.namespace, sel)) {
        const uid = pod.metadata?.uid ?? podKey(pod);
        if (seen.has(uid)) continue;
        seen.add(uid);
        related.push(pod);
      }
    }
    return related;
  }

  /** getPodsToDelete picks the diff least useful pods (all of them without sorting when diff covers them). */
  private getPodsToDelete(pods: readonly Pod[], related: readonly Pod[], diff: number): Pod[] {
    if (diff >= pods.length) return [...pods];
    const ranks = ranksByRelatedPodsOnSameNode(pods, related);
    return sortActivePodsWithRanks(pods, ranks, this.now()).slice(0, diff);
  }

  /**
   * updateStatus is kube's updateReplicaSetStatus: nothing when status and observedGeneration
   * are current; else PUT /status, and once more over a fresh GET when that fails.
   */
  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    if (statusUnchanged(rs, status)) return rs;
    // The generation acted on, so a retry never claims to have seen a newer spec.
    status.observedGeneration = rs.metadata.generation;
    let current: ReplicaSet = rs;
    for (let i = 0; ; i++) {
      this.opts.log?.v(4).info('Updating status', {
        replicaSet: `${rs.metadata.namespace}/${rs.metadata.name}`,
        replicas: `${current.status?.replicas ?? 0}->${status.replicas} (need ${rs.spec.replicas ?? 1})`,
        readyReplicas: `${current.status?.readyReplicas ?? 0}->${status.readyReplicas}`,
        availableReplicas: `${current.status?.availableReplicas ?? 0}->${status.availableReplicas}`,
        observedGeneration: status.observedGeneration,
      });
      try {
        // Never modify the cached object: send a copy with the new status.
        const stored = this.kind.toStored({ ...structuredClone(current), status: structuredClone(status) });
        return this.kind.fromStored(await this.opts.client.update<KubeObject>(this.kind.resource, stored, { subresource: 'status' }));
      } catch (err) {
        if (i >= statusUpdateRetries) throw err;
        current = this.kind.fromStored(await this.opts.client.get<KubeObject>(this.kind.resource, rs.metadata.namespace ?? '', rs.metadata.name ?? ''));
      }
    }
  }
}
