// The disruption controller's reconcile (kube's pkg/controller/disruption/disruption.go): for a
// PodDisruptionBudget it counts the pods it selects, how many are healthy and how many must be
// (from minAvailable, or from maxUnavailable against the scale of the pods' controllers), and
// writes currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, the disruptedPods the
// eviction subresource recorded (until they are deleted, or DeletionTimeout passes) and the
// DisruptionAllowed condition through /status. A sync that fails sets disruptionsAllowed to 0 with
// reason SyncFailed, so no eviction goes ahead on a stale count.

import type { Deployment, ReplicaSet } from '../../lib/api/apps/types.js';
import { getScaledValueFromIntOrPercent } from '../../lib/api/apps/types.js';
import { type Pod, isPodReady } from '../../lib/api/core/pod.js';
import type { ReplicationController } from '../../lib/api/core/replicationcontroller.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { conditionsAreUpToDate, pdbSelector, setStatusCondition, updateDisruptionAllowedCondition } from '../../lib/api/policy/helpers.js';
import { DisruptionAllowedCondition, type PodDisruptionBudget, type PodDisruptionBudgetStatus, SyncFailedReason } from '../../lib/api/policy/poddisruptionbudget.js';
import { type Client, type ResourceType, isConflict, isNotFound } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { PodDisruptionBudgets } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { formatLabelSelector } from '../../lib/machinery/labels.js';
import { getControllerOf } from '../common/controllerref.js';
import type { APIResourceList } from '../common/discovery.js';

/**
 * DeletionTimeoutMs is how long a pod the eviction subresource let go stays out of currentHealthy
 * without being deleted; after it the controller assumes the delete never came.
 */
export const DeletionTimeoutMs = 2 * 60 * 1000;

/** ControllerAndScale is a pod's controller and how many pods it wants. */
interface ControllerAndScale {
  uid: string;
  scale: number;
}

/** ScaleFinder finds the scale of one kind of controller, or undefined when the ref is not its kind (or is gone). */
type ScaleFinder = (ref: OwnerReference, namespace: string) => Promise<ControllerAndScale | undefined>;

/** DisruptionSyncerOptions are what one syncer reads and writes through. */
export interface DisruptionSyncerOptions {
  client: Client;
  pdbs: Lister<PodDisruptionBudget>;
  pods: Lister<Pod>;
  replicaSets: Lister<ReplicaSet>;
  deployments: Lister<Deployment>;
  replicationControllers: Lister<ReplicationController>;
  recorder: Recorder;
  now?: () => Date;
  log?: Logger;
}

function groupOf(apiVersion: string | undefined): string {
  const i = (apiVersion ?? '').indexOf('/');
  return i < 0 ? '' : apiVersion!.slice(0, i);
}

/** verifyGroupKind: the ref names kind in one of groups. */
function verifyGroupKind(ref: OwnerReference, kind: string, groups: readonly string[]): boolean {
  return ref.kind === kind && groups.includes(groupOf(ref.apiVersion));
}

function eventTarget(pdb: PodDisruptionBudget): InvolvedObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: pdb.metadata };
}

/**
 * countHealthyPods is kube's: ready pods not being deleted and not just let go by an eviction
 * (a disruptedPods entry younger than DeletionTimeout).
 */
export function countHealthyPods(pods: readonly Pod[], disruptedPods: Record<string, string>, now: Date): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const disrupted = disruptedPods[pod.metadata?.name ?? ''];
    if (disrupted !== undefined && Date.parse(disrupted) + DeletionTimeoutMs > now.getTime()) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** sameDisruptedPods compares two disruptedPods maps (nil and empty are equal, as apiequality.Semantic has it). */
function sameDisruptedPods(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a![k] === b[k]);
}

/** DisruptionSyncer runs sync for PodDisruptionBudget keys; one per controller. */
export class DisruptionSyncer {
  private readonly opts: DisruptionSyncerOptions;
  private readonly now: () => Date;
  /** scaleResources caches discovery: apiVersion → kind → the resource that serves /scale for it (null: none does). */
  private readonly scaleResources = new Map<string, Map<string, ResourceType | null>>();

  constructor(opts: DisruptionSyncerOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * sync is kube's sync: a missing budget is done; a failed sync (other than a write conflict,
   * which is only retried) falls back to failSafe, and throws only when that write fails too. Returns requeueAfter when a disrupted pod's
   * DeletionTimeout will pass.
   */
  async sync(key: string): Promise<ReconcileResult | void> {
    const pdb = this.opts.pdbs.get(key);
    if (!pdb) {
      this.opts.log?.v(4).info('PodDisruptionBudget has been deleted', { podDisruptionBudget: key });
      return;
    }
    try {
      return await this.trySync(pdb);
    } catch (err) {
      if (isConflict(err)) throw err;
      this.opts.log?.error('Failed to sync PDB', { podDisruptionBudget: key, err: err instanceof Error ? err.message : String(err) });
      // As kube: once the fail-safe status is written the sync is done; pod and budget events
      // bring the next one.
      await this.failSafe(pdb, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<ReconcileResult | void> {
    const { recorder, log } = this.opts;
    let pods: Pod[];
    try {
      pods = this.getPodsForPdb(pdb);
    } catch (err) {
      recorder.event(eventTarget(pdb), 'Warning', 'NoPods', `Failed to get pods: ${(err as Error).message}`);
      throw err;
    }
    if (pods.length === 0) recorder.event(eventTarget(pdb), 'Normal', 'NoPods', 'No matching pods found');

    let counts: { expectedCount: number; desiredHealthy: number; unmanagedPods: string[] };
    try {
      counts = await this.getExpectedPodCount(pdb, pods);
    } catch (err) {
      recorder.event(eventTarget(pdb), 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
      throw err;
    }
    if (counts.unmanagedPods.length > 0) {
      log?.v(4).info('Found unmanaged pods associated with this PDB', { pods: counts.unmanagedPods });
      recorder.event(
        eventTarget(pdb),
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${formatLabelSelector(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const now = this.now();
    const { disruptedPods, recheckAt } = this.buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disruptedPods, now);
    await this.updatePdbStatus(pdb, currentHealthy, counts.desiredHealthy, counts.expectedCount, disruptedPods);
    if (recheckAt !== undefined) return { requeueAfter: Math.max(0, recheckAt - now.getTime()) };
  }

  /** getPodsForPdb: the pods of the budget's namespace its selector matches (policy/v1: empty matches all). */
  private getPodsForPdb(pdb: PodDisruptionBudget): Pod[] {
    const sel = pdbSelector(pdb);
    if (!sel) throw new Error('invalid label selector');
    return this.opts.pods.list(pdb.metadata.namespace, sel);
  }

  /**
   * getExpectedPodCount is kube's: with maxUnavailable, or a percentage minAvailable, the expected
   * count is the sum of the scales of the pods' controllers; an integer minAvailable needs no
   * controllers (the pods found are what is expected).
   */
  async getExpectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[]): Promise<{ expectedCount: number; desiredHealthy: number; unmanagedPods: string[] }> {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const { expectedCount, unmanagedPods } = await this.getExpectedScale(pods);
      const max = getScaledValueFromIntOrPercent(maxUnavailable, expectedCount, true);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - max), unmanagedPods };
    }
    if (typeof minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanagedPods: [] };
    if (typeof minAvailable === 'string') {
      const { expectedCount, unmanagedPods } = await this.getExpectedScale(pods);
      return { expectedCount, desiredHealthy: getScaledValueFromIntOrPercent(minAvailable, expectedCount, true), unmanagedPods };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
  }

  /**
   * getExpectedScale sums the scale of every controller of the pods, each counted once. Pods
   * without a controller are reported as unmanaged; a controller no finder knows is an error.
   */
  private async getExpectedScale(pods: readonly Pod[]): Promise<{ expectedCount: number; unmanagedPods: string[] }> {
    const scales = new Map<string, number>();
    const unmanagedPods: string[] = [];
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) {
        unmanagedPods.push(pod.metadata?.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      let found: ControllerAndScale | undefined;
      for (const finder of this.finders()) {
        found = await finder(ref, pod.metadata?.namespace ?? '');
        if (found) break;
      }
      if (!found) throw new Error(`found no controllers for pod ${JSON.stringify(pod.metadata?.name ?? '')}`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanagedPods };
  }

  /** finders are kube's, in its order: ReplicationController, Deployment (through its ReplicaSet), ReplicaSet, then any kind with /scale. */
  private finders(): ScaleFinder[] {
    return [(r, ns) => this.getPodReplicationController(r, ns), (r, ns) => this.getPodDeployment(r, ns), (r, ns) => this.getPodReplicaSet(r, ns), (r, ns) => this.getScaleController(r, ns)];
  }

  private async getPodReplicationController(ref: OwnerReference, namespace: string): Promise<ControllerAndScale | undefined> {
    if (!verifyGroupKind(ref, 'ReplicationController', [''])) return undefined;
    const rc = this.opts.replicationControllers.get(`${namespace}/${ref.name}`);
    if (!rc || rc.metadata.uid !== ref.uid) return undefined;
    return { uid: rc.metadata.uid!, scale: rc.spec?.replicas ?? 1 };
  }

  /** rsOf is the cached ReplicaSet the ref names, if it is that very one. */
  private rsOf(ref: OwnerReference, namespace: string): ReplicaSet | undefined {
    if (!verifyGroupKind(ref, 'ReplicaSet', ['apps', 'extensions'])) return undefined;
    const rs = this.opts.replicaSets.get(`${namespace}/${ref.name}`);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  private async getPodDeployment(ref: OwnerReference, namespace: string): Promise<ControllerAndScale | undefined> {
    const rs = this.rsOf(ref, namespace);
    const dref = rs && getControllerOf(rs);
    if (!dref || !verifyGroupKind(dref, 'Deployment', ['apps', 'extensions'])) return undefined;
    const d = this.opts.deployments.get(`${namespace}/${dref.name}`);
    if (!d || d.metadata.uid !== dref.uid) return undefined;
    return { uid: d.metadata.uid!, scale: d.spec.replicas ?? 1 };
  }

  /** getPodReplicaSet finds a ReplicaSet that no Deployment controls. */
  private async getPodReplicaSet(ref: OwnerReference, namespace: string): Promise<ControllerAndScale | undefined> {
    const rs = this.rsOf(ref, namespace);
    if (!rs || getControllerOf(rs)?.kind === 'Deployment') return undefined;
    return { uid: rs.metadata.uid!, scale: rs.spec.replicas ?? 1 };
  }

  /**
   * getScaleController reads the /scale subresource of any other controller (StatefulSets,
   * custom resources), found through discovery as kube's RESTMapper and scale client do.
   */
  private async getScaleController(ref: OwnerReference, namespace: string): Promise<ControllerAndScale | undefined> {
    const resource = await this.scaleResourceFor(ref.apiVersion, ref.kind);
    const gr = resource ? (resource.group ? `${resource.resource}.${resource.group}` : resource.resource) : undefined;
    if (resource === undefined) throw new Error(`no matches for kind ${JSON.stringify(ref.kind)} in version ${JSON.stringify(ref.apiVersion)}`);
    if (resource === null) throw new Error(`${ref.kind} does not implement the scale subresource`);
    let scale: { metadata?: { uid?: string }; spec?: { replicas?: number } };
    try {
      scale = await this.opts.client.get(resource, namespace, ref.name, 'scale');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new Error(`${gr}: ${(err as Error).message}`, { cause: err });
    }
    if (scale.metadata?.uid !== ref.uid) return undefined;
    return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
  }

  /** scaleResourceFor maps apiVersion/kind to its resource: undefined when not served, null when it has no /scale. */
  private async scaleResourceFor(apiVersion: string, kind: string): Promise<ResourceType | null | undefined> {
    let byKind = this.scaleResources.get(apiVersion);
    if (!byKind) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      let list: APIResourceList;
      try {
        list = await this.opts.client.getPath<APIResourceList>(path);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      byKind = new Map();
      const names = new Set(list.resources.map((r) => r.name));
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      for (const r of list.resources) {
        if (r.name.includes('/')) continue;
        const rt: ResourceType = { group: group!, version: version!, resource: r.name, kind: r.kind, namespaced: r.namespaced };
        byKind.set(r.kind, names.has(`${r.name}/scale`) ? rt : null);
      }
      this.scaleResources.set(apiVersion, byKind);
    }
    return byKind.get(kind);
  }

  /**
   * buildDisruptedPodMap keeps the disruptedPods entries of pods still there, not yet being
   * deleted, and younger than DeletionTimeout (an older one gets a NotDeleted event on the pod);
   * recheckAt is when the youngest kept entry expires.
   */
  private buildDisruptedPodMap(pods: readonly Pod[], pdb: PodDisruptionBudget, now: Date): { disruptedPods: Record<string, string>; recheckAt?: number } {
    const recorded = pdb.status?.disruptedPods;
    const disruptedPods: Record<string, string> = {};
    let recheckAt: number | undefined;
    if (!recorded) return { disruptedPods };
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const name = pod.metadata?.name ?? '';
      const at = recorded[name];
      if (at === undefined) continue;
      const expectedDeletion = Date.parse(at) + DeletionTimeoutMs;
      if (expectedDeletion < now.getTime()) {
        this.opts.log?.v(1).info('pod was expected to be deleted but it wasn\'t, updating PDB', { pod: `${pod.metadata?.namespace}/${name}`, podDisruptionBudget: `${pdb.metadata.namespace}/${pdb.metadata.name}` });
        this.opts.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`);
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disruptedPods[name] = at;
      }
    }
    return { disruptedPods, recheckAt };
  }

  /**
   * updatePdbStatus writes the counts when anything differs. disruptionsAllowed is 0 while the
   * budget expects no pods at all, so a budget whose first pods appear before this controller
   * counted them is safe.
   */
  private async updatePdbStatus(pdb: PodDisruptionBudget, currentHealthy: number, desiredHealthy: number, expectedCount: number, disruptedPods: Record<string, string>): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const cur = pdb.status ?? {};
    if (
      (cur.currentHealthy ?? 0) === currentHealthy &&
      (cur.desiredHealthy ?? 0) === desiredHealthy &&
      (cur.expectedPods ?? 0) === expectedCount &&
      (cur.disruptionsAllowed ?? 0) === disruptionsAllowed &&
      sameDisruptedPods(cur.disruptedPods, disruptedPods) &&
      (cur.observedGeneration ?? 0) === (pdb.metadata.generation ?? 0) &&
      conditionsAreUpToDate(pdb)
    ) {
      return;
    }
    // Never modify the cached object.
    const next: PodDisruptionBudget = structuredClone(pdb);
    const status: PodDisruptionBudgetStatus = {
      currentHealthy,
      desiredHealthy,
      expectedPods: expectedCount,
      disruptionsAllowed,
      observedGeneration: pdb.metadata.generation,
      conditions: next.status?.conditions,
    };
    if (Object.keys(disruptedPods).length) status.disruptedPods = disruptedPods;
    next.status = status;
    updateDisruptionAllowedCondition(next, this.now());
    await this.opts.client.update(PodDisruptionBudgets, next, { subresource: 'status' });
  }

  /** failSafe is kube's: no disruptions while the budget cannot be computed, reason SyncFailed with the error. */
  private async failSafe(pdb: PodDisruptionBudget, err: Error): Promise<void> {
    const next: PodDisruptionBudget = structuredClone(pdb);
    const status = (next.status ??= {});
    status.disruptionsAllowed = 0;
    setStatusCondition(
      (status.conditions ??= []),
      { type: DisruptionAllowedCondition, status: 'False', reason: SyncFailedReason, message: err.message, observedGeneration: status.observedGeneration ?? 0 },
      this.now(),
    );
    await this.opts.client.update(PodDisruptionBudgets, next, { subresource: 'status' });
  }
}
