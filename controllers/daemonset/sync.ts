// syncDaemonSet: the DaemonSet controller's reconcile (kube's pkg/controller/daemon
// daemon_controller.go and update.go). From the caches it takes the DaemonSet, the nodes, its
// pods and its ControllerRevisions; it brings the history up to date (the current template as a
// revision, its number the highest), creates a pod for every node that should run one and has
// none, deletes pods from nodes that should not run them (and failed pods, with a back-off),
// replaces old pods within maxUnavailable / maxSurge on RollingUpdate, trims the history to
// revisionHistoryLimit, and writes status through /status.
//
// Expectations: every create and delete is expected before it is sent, and until the informer
// has shown them all only status is written, so a slow watch never makes the controller create
// a second pod on a node. A controller manager that restarts starts with none: its caches, listed
// fresh, already hold every pod the previous one created.

import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import { type DaemonSet, type DaemonSetStatus, DaemonSetUpdateStrategyType, templateGeneration } from '../../lib/api/apps/daemonset.js';
import type { Node } from '../../lib/api/core/node.js';
import { type Pod, PodPhase, isPodTerminal } from '../../lib/api/core/pod.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { ControllerRevisions, DaemonSets, Pods } from '../../lib/client/resources.js';
import type { Backoff } from '../../lib/controller/backoff.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { keyOf } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { type LabelSelectorExpr, labelSelectorAsSelector } from '../../lib/machinery/labels.js';
import { canonicalJSON } from '../../lib/machinery/canonical.js';
import { nameIsDNSSubdomain } from '../../lib/machinery/validation.js';
import { ControllerRefManager, newControllerRef } from '../common/controllerref.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import type { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { ControllerRevisionHashLabel, createControllerRevision, newControllerRevision, sortControllerRevisions, updateControllerRevision } from '../common/history.js';
import { isPodAvailable, isPodReady } from '../common/pods.js';
import { slowStartBatch } from '../replicaset/sync.js';
import {
  allowsSurge,
  compareDaemonPods,
  daemonSetPatch,
  getTargetNodeName,
  isPodUpdated,
  nodeShouldRunDaemonPod,
  podTemplateFor,
  surgeCount,
  unavailableCount,
} from './util.js';

/** BurstReplicas is kube's: at most this many pods are created or deleted in one sync. */
export const BurstReplicas = 250;

/** statusUpdateRetries: one more status write (after a fresh GET) when the first one fails. */
const statusUpdateRetries = 1;

// Event reasons (daemon_controller.go and controller_utils.go).
export const SelectingAllReason = 'SelectingAll';
export const FailedDaemonPodReason = 'FailedDaemonPod';
export const SucceededDaemonPodReason = 'SucceededDaemonPod';
export const FailedCreatePodReason = 'FailedCreate';
export const SuccessfulCreatePodReason = 'SuccessfulCreate';
export const FailedDeletePodReason = 'FailedDelete';
export const SuccessfulDeletePodReason = 'SuccessfulDelete';

const ownerKind = { apiVersion: 'apps/v1', kind: 'DaemonSet' };

/** DaemonSetSyncerOptions are what one syncer reads and writes through. */
export interface DaemonSetSyncerOptions {
  client: Client;
  daemonSets: Lister<DaemonSet>;
  nodes: Lister<Node>;
  pods: Lister<Pod>;
  revisions: Lister<ControllerRevision>;
  recorder: Recorder;
  expectations: UIDTrackingControllerExpectations;
  /** failedPodsBackoff spaces out the deletion of failed daemon pods per DaemonSet and node. */
  failedPodsBackoff: Backoff;
  /** enqueueAfter schedules another sync of key (back-offs and minReadySeconds). */
  enqueueAfter?: (key: string, delayMs: number) => void;
  now?: () => Date;
  log?: Logger;
  burstReplicas?: number;
}

/** NodeToDaemonPods maps a node name to the DaemonSet's pods meant for it. */
export type NodeToDaemonPods = Map<string, Pod[]>;

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function eventTarget(ds: DaemonSet): InvolvedObject {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: ds.metadata };
}

/** getPodsPrefix: pods are named `<ds>-<random>`, unless that is no valid generateName. */
function getPodsPrefix(name: string): string {
  const prefix = `${name}-`;
  return nameIsDNSSubdomain(prefix, true).length ? name : prefix;
}

/** failedPodsBackoffKey is kube's: per DaemonSet uid, observed generation and node. */
export function failedPodsBackoffKey(ds: DaemonSet, nodeName: string): string {
  return `${ds.metadata.uid ?? ''}/${ds.status?.observedGeneration ?? 0}/${nodeName}`;
}

/** isSelectingAll: the selector is `{}` (validation refuses it; a stored one is left alone). */
function isSelectingAll(ds: DaemonSet): boolean {
  const s = ds.spec.selector;
  return !!s && Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

/** DaemonSetSyncer runs syncDaemonSet for keys; one per controller. */
export class DaemonSetSyncer {
  private readonly opts: DaemonSetSyncerOptions;
  private readonly now: () => Date;
  private readonly burstReplicas: number;

  constructor(opts: DaemonSetSyncerOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => new Date());
    this.burstReplicas = opts.burstReplicas ?? BurstReplicas;
  }

  /** syncDaemonSet reconciles the DaemonSet named by key (kube's syncDaemonSet). */
  async syncDaemonSet(key: string, signal?: AbortSignal): Promise<ReconcileResult | void> {
    const { expectations, log } = this.opts;
    const ds = this.opts.daemonSets.get(key);
    if (!ds) {
      log?.v(3).info('Daemon set has been deleted', { daemonset: key });
      expectations.deleteExpectations(key);
      return;
    }
    const nodes = this.opts.nodes.list();
    if (isSelectingAll(ds)) {
      this.opts.recorder.event(eventTarget(ds), 'Warning', SelectingAllReason, 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Being deleted: its history may be half gone already, so neither status nor pods can be
    // judged; the garbage collector removes the rest.
    if (ds.metadata.deletionTimestamp) return;

    const { cur, old } = await this.constructHistory(ds);
    const hash = cur.metadata.labels?.[ControllerRevisionHashLabel] ?? '';

    if (!expectations.satisfiedExpectations(key)) {
      // Only status: the controller has not acted on this generation yet.
      return this.updateDaemonSetStatus(ds, nodes, hash, false);
    }
    let err: unknown;
    try {
      await this.updateDaemonSet(ds, nodes, hash, key, old, signal);
    } catch (e) {
      err = e;
    }
    let result: ReconcileResult | void = undefined;
    try {
      result = await this.updateDaemonSetStatus(ds, nodes, hash, true);
    } catch (statusErr) {
      if (err) log?.error('Failed to update status', { daemonset: key, err: String(statusErr) });
      else throw statusErr;
    }
    if (err) throw err;
    return result;
  }

  /** updateDaemonSet is kube's: manage, then the rolling update when expectations allow, then the history cleanup. */
  private async updateDaemonSet(ds: DaemonSet, nodes: Node[], hash: string, key: string, old: ControllerRevision[], signal?: AbortSignal): Promise<void> {
    await this.manage(ds, nodes, hash, signal);
    if (this.opts.expectations.satisfiedExpectations(key) && ds.spec.updateStrategy?.type === DaemonSetUpdateStrategyType.RollingUpdate) {
      await this.rollingUpdate(ds, nodes, hash, signal);
    }
    try {
      await this.cleanupHistory(ds, old);
    } catch (err) {
      throw new Error(`failed to clean up revisions of DaemonSet: ${(err as Error).message}`, { cause: err });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Pods

  /**
   * getDaemonPods claims the DaemonSet's pods (adopting matching orphans, releasing pods that no
   * longer match) from every pod of its namespace. Terminal pods already being deleted are left
   * out unless includeDeletedTerminal (the history cleanup still counts their revisions as live).
   */
  private async getDaemonPods(ds: DaemonSet, includeDeletedTerminal = false): Promise<Pod[]> {
    const selector: LabelSelectorExpr = labelSelectorAsSelector(ds.spec.selector);
    let pods = this.opts.pods.list(ds.metadata.namespace);
    if (!includeDeletedTerminal) pods = pods.filter((p) => !(isPodTerminal(p) && p.metadata?.deletionTimestamp));
    const manager = new ControllerRefManager({ client: this.opts.client, owner: ds, ownerType: DaemonSets, resource: Pods, selector });
    return manager.claim(pods);
  }

  /** getNodesToDaemonPods groups the claimed pods by the node they are (or will be) on. */
  async getNodesToDaemonPods(ds: DaemonSet, includeDeletedTerminal = false): Promise<NodeToDaemonPods> {
    const out: NodeToDaemonPods = new Map();
    for (const pod of await this.getDaemonPods(ds, includeDeletedTerminal)) {
      const node = getTargetNodeName(pod);
      if (node === undefined) {
        this.opts.log?.v(4).info('Failed to get target node name of Pod in DaemonSet', { pod: podKey(pod), daemonset: keyOf(ds) });
        continue;
      }
      const list = out.get(node);
      if (list) list.push(pod);
      else out.set(node, [pod]);
    }
    return out;
  }

  /** manage is kube's manage: pods to create per node and pods to delete, then syncNodes. */
  private async manage(ds: DaemonSet, nodes: Node[], hash: string, signal?: AbortSignal): Promise<void> {
    const nodeToDaemonPods = await this.getNodesToDaemonPods(ds);
    const nodesNeedingDaemonPods: string[] = [];
    const podsToDelete: string[] = [];
    for (const node of nodes) {
      const r = this.podsShouldBeOnNode(node, nodeToDaemonPods, ds, hash);
      nodesNeedingDaemonPods.push(...r.nodesNeedingDaemonPods);
      podsToDelete.push(...r.podsToDelete);
    }
    // Pods never bound whose node is gone: the pod GC does not see them (no node), so we delete them.
    const live = new Set(nodes.map((n) => n.metadata.name ?? ''));
    for (const [node, pods] of nodeToDaemonPods) {
      if (live.has(node)) continue;
      for (const pod of pods) if (!pod.spec?.nodeName) podsToDelete.push(pod.metadata?.name ?? '');
    }
    await this.syncNodes(ds, podsToDelete, nodesNeedingDaemonPods, hash, signal);
  }

  /** podsShouldBeOnNode is kube's: whether node needs a pod, and which of its pods go. */
  private podsShouldBeOnNode(node: Node, nodeToDaemonPods: NodeToDaemonPods, ds: DaemonSet, hash: string): { nodesNeedingDaemonPods: string[]; podsToDelete: string[] } {
    const { log, failedPodsBackoff, recorder } = this.opts;
    const nodeName = node.metadata.name ?? '';
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const daemonPods = nodeToDaemonPods.get(nodeName);
    const nodesNeedingDaemonPods: string[] = [];
    const podsToDelete: string[] = [];
    if (shouldRun && !daemonPods) {
      nodesNeedingDaemonPods.push(nodeName);
    } else if (shouldContinueRunning && daemonPods) {
      const running: Pod[] = [];
      for (const pod of daemonPods) {
        if (pod.metadata?.deletionTimestamp) continue;
        const ns = pod.metadata?.namespace ?? '';
        const name = pod.metadata?.name ?? '';
        if (pod.status?.phase === PodPhase.Failed) {
          // The kubelet may keep rejecting this pod: delete it at a growing interval, not in a hot loop.
          const backoffKey = failedPodsBackoffKey(ds, nodeName);
          const now = this.now().getTime();
          if (failedPodsBackoff.isInBackOffSinceUpdate(backoffKey, now)) {
            const delay = failedPodsBackoff.get(backoffKey);
            log?.v(4).info('Deleting failed pod on node has been limited by backoff', { pod: `${ns}/${name}`, node: nodeName, currentDelay: delay });
            this.opts.enqueueAfter?.(keyOf(ds), delay);
            continue;
          }
          failedPodsBackoff.next(backoffKey, now);
          log?.v(2).info('Found failed daemon pod on node, will try to kill it', { pod: `${ns}/${name}`, node: nodeName });
          recorder.event(eventTarget(ds), 'Warning', FailedDaemonPodReason, `Found failed daemon pod ${ns}/${name} on node ${nodeName}, will try to kill it`);
          podsToDelete.push(name);
        } else if (pod.status?.phase === PodPhase.Succeeded) {
          log?.v(2).info('Found succeeded daemon pod on node, will try to delete it', { pod: `${ns}/${name}`, node: nodeName });
          recorder.event(eventTarget(ds), 'Normal', SucceededDaemonPodReason, `Found succeeded daemon pod ${ns}/${name} on node ${nodeName}, will try to delete it`);
          podsToDelete.push(name);
        } else {
          running.push(pod);
        }
      }
      running.sort(compareDaemonPods);
      if (!allowsSurge(ds)) {
        // One pod per node: keep the oldest.
        for (const pod of running.slice(1)) podsToDelete.push(pod.metadata?.name ?? '');
      } else if (running.length === 0) {
        if (shouldRun) nodesNeedingDaemonPods.push(nodeName);
      } else if (running.length > 1) {
        // Surging: an old and a new pod may share the node while the new one is not yet
        // available; any further pod goes, and the old one goes once the new one is available
        // (or when it is not ready itself).
        let oldestNew: Pod | undefined;
        let oldestOld: Pod | undefined;
        for (const pod of running) {
          if (pod.metadata?.labels?.[ControllerRevisionHashLabel] === hash) {
            if (!oldestNew) {
              oldestNew = pod;
              continue;
            }
          } else if (!oldestOld) {
            oldestOld = pod;
            continue;
          }
          podsToDelete.push(pod.metadata?.name ?? '');
        }
        if (oldestNew && oldestOld) {
          if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec.minReadySeconds ?? 0, this.now())) {
            podsToDelete.push(oldestOld.metadata?.name ?? '');
          }
        }
      }
    } else if (!shouldContinueRunning && daemonPods) {
      // The node should not run it (any more): every pod of ours there goes.
      for (const pod of daemonPods) if (!pod.metadata?.deletionTimestamp) podsToDelete.push(pod.metadata?.name ?? '');
    }
    return { nodesNeedingDaemonPods, podsToDelete };
  }

  /**
   * syncNodes is kube's: expect the creates and deletes first (their watch events may arrive
   * before the requests answer), create pods in slow-start batches bound by affinity to their
   * nodes, delete pods, and lower the expectations for every write that failed or never ran.
   */
  private async syncNodes(ds: DaemonSet, podsToDelete: string[], nodesNeedingDaemonPods: string[], hash: string, signal?: AbortSignal): Promise<void> {
    const { expectations, log } = this.opts;
    const key = keyOf(ds);
    const ns = ds.metadata.namespace ?? '';
    const creates = nodesNeedingDaemonPods.slice(0, this.burstReplicas);
    const deletes = podsToDelete.slice(0, this.burstReplicas);
    expectations.setExpectations(
      key,
      creates.length,
      deletes.map((name) => `${ns}/${name}`),
    );
    const errors: Error[] = [];
    if (creates.length) log?.v(4).info('Nodes needing daemon pods for daemon set, creating', { daemonset: key, needCount: nodesNeedingDaemonPods.length, createCount: creates.length });
    let next = 0;
    const { error } = await slowStartBatch(
      creates.length,
      1,
      async () => {
        const nodeName = creates[next++]!;
        try {
          await this.createPod(ds, hash, nodeName);
        } catch (err) {
          log?.v(2).info('Failed creation, decrementing expectations for daemon set', { daemonset: key });
          expectations.creationObserved(key);
          throw err;
        }
      },
      signal,
    );
    if (error) {
      errors.push(error);
      // Creations never attempted will never be observed either (the failed ones lowered themselves).
      const attempted = next;
      const skipped = creates.length - attempted;
      if (skipped > 0) {
        log?.v(2).info('Slow-start failure. Skipping creation pods, decrementing expectations for daemon set', { skippedPods: skipped, daemonset: key });
        for (let i = 0; i < skipped; i++) expectations.creationObserved(key);
      }
    }
    if (deletes.length) log?.v(4).info('Pods to delete for daemon set, deleting', { daemonset: key, deleteCount: deletes.length });
    await Promise.all(
      deletes.map(async (name) => {
        try {
          await this.deletePod(ds, name);
        } catch (err) {
          expectations.deletionObserved(key, `${ns}/${name}`);
          if (!isNotFound(err)) errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new Error(`[${errors.map((e) => e.message).join(', ')}]`, { cause: errors[0] });
  }

  /** createPod is RealPodControl.CreatePods for one node, with kube's events. */
  private async createPod(ds: DaemonSet, hash: string, nodeName: string): Promise<void> {
    const template = podTemplateFor(ds, hash, nodeName);
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: getPodsPrefix(ds.metadata.name ?? ''),
        labels: template.metadata.labels,
        ownerReferences: [newControllerRef(ds, DaemonSets)],
      },
      spec: template.spec as Pod['spec'],
    };
    const meta = template.metadata;
    if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
    if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
    let created: Pod;
    try {
      created = await this.opts.client.create<Pod>(Pods, ds.metadata.namespace ?? '', pod);
    } catch (err) {
      // The namespace is going away: every create fails and the DaemonSet goes with it.
      if (isNamespaceTerminatingError(err)) return;
      const message = err instanceof Error ? err.message : String(err);
      this.opts.recorder.event(eventTarget(ds), 'Warning', FailedCreatePodReason, `Error creating: ${message}`);
      throw err;
    }
    this.opts.log?.v(4).info('Controller created pod', { controller: ds.metadata.name, pod: `${created.metadata?.namespace}/${created.metadata?.name}`, node: nodeName });
    this.opts.recorder.event(eventTarget(ds), 'Normal', SuccessfulCreatePodReason, `Created pod: ${created.metadata?.name}`);
  }

  /** deletePod is RealPodControl.DeletePod, with kube's events; a 404 is rethrown as is (no event). */
  private async deletePod(ds: DaemonSet, name: string): Promise<void> {
    const namespace = ds.metadata.namespace ?? '';
    this.opts.log?.v(2).info('Deleting pod', { controller: ds.metadata.name, pod: `${namespace}/${name}` });
    try {
      await this.opts.client.delete(Pods, namespace, name);
    } catch (err) {
      if (isNotFound(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.opts.recorder.event(eventTarget(ds), 'Warning', FailedDeletePodReason, `Error deleting: ${message}`);
      throw new Error(`unable to delete pods: ${message}`, { cause: err });
    }
    this.opts.recorder.event(eventTarget(ds), 'Normal', SuccessfulDeletePodReason, `Deleted pod: ${name}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Rolling update

  /** updatedDesiredNodeCounts is kube's: maxSurge, maxUnavailable and how many nodes want a pod (each gets an entry). */
  private updatedDesiredNodeCounts(ds: DaemonSet, nodes: Node[], nodeToDaemonPods: NodeToDaemonPods): { maxSurge: number; maxUnavailable: number; desired: number } {
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      const name = node.metadata.name ?? '';
      if (!nodeToDaemonPods.has(name)) nodeToDaemonPods.set(name, []);
    }
    let maxUnavailable: number;
    let maxSurge: number;
    try {
      maxUnavailable = unavailableCount(ds, desired);
    } catch (err) {
      throw new Error(`invalid value for MaxUnavailable: ${(err as Error).message}`, { cause: err });
    }
    try {
      maxSurge = surgeCount(ds, desired);
    } catch (err) {
      throw new Error(`invalid value for MaxSurge: ${(err as Error).message}`, { cause: err });
    }
    // An impossible configuration (both 0) falls back to one unavailable at a time.
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable, desired };
  }

  /**
   * rollingUpdate is kube's: without surge, delete old pods (unavailable ones first, then
   * available ones while fewer than maxUnavailable nodes are unavailable) and let manage create
   * their replacements; with surge, create new pods beside old ones (up to maxSurge at a time,
   * immediately where the old pod is unavailable) and delete an old pod once its new one is
   * available.
   */
  private async rollingUpdate(ds: DaemonSet, nodes: Node[], hash: string, signal?: AbortSignal): Promise<void> {
    const { log } = this.opts;
    const nodeToDaemonPods = await this.getNodesToDaemonPods(ds);
    const { maxSurge, maxUnavailable, desired } = this.updatedDesiredNodeCounts(ds, nodes, nodeToDaemonPods);
    const now = this.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    const available = (p: Pod) => isPodAvailable(p, minReady, now);
    // Nodes in name order, so that "node by node" is the same order every time.
    const entries = [...nodeToDaemonPods.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowedReplacementPods: string[] = [];
      const candidatePodsToDelete: string[] = [];
      for (const [nodeName, pods] of entries) {
        const found = findUpdatedPodsOnNode(pods, hash, generation);
        if (!found) {
          log?.v(3).info('DaemonSet has excess pods on node, skipping to allow the core loop to process', { daemonset: keyOf(ds), node: nodeName });
          numUnavailable++;
          continue;
        }
        const { newPod, oldPod } = found;
        if ((!oldPod && !newPod) || (oldPod && newPod)) {
          numUnavailable++;
        } else if (newPod) {
          if (!available(newPod)) numUnavailable++;
        } else if (oldPod) {
          if (!available(oldPod)) {
            allowedReplacementPods.push(oldPod.metadata?.name ?? '');
            numUnavailable++;
          } else if (numUnavailable < maxUnavailable) {
            candidatePodsToDelete.push(oldPod.metadata?.name ?? '');
          }
        }
      }
      const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidatePodsToDelete.length);
      log?.v(5).info('DaemonSet allowing replacements', { daemonset: keyOf(ds), replacements: allowedReplacementPods.length, maxUnavailable, numUnavailable, candidates: candidatePodsToDelete.length });
      await this.syncNodes(ds, [...allowedReplacementPods, ...candidatePodsToDelete.slice(0, remaining)], [], hash, signal);
      return;
    }

    const oldPodsToDelete: string[] = [];
    const shouldNotRunPodsToDelete: string[] = [];
    const candidateNewNodes: string[] = [];
    const allowedNewNodes: string[] = [];
    let numSurge = 0;
    let numAvailable = 0;
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name ?? '', n]));
    for (const [nodeName, pods] of entries) {
      const found = findUpdatedPodsOnNode(pods, hash, generation);
      if (!found) {
        numSurge++;
        continue;
      }
      const { newPod, oldPod } = found;
      if (oldPod) {
        if (available(oldPod)) numAvailable++;
      } else if (newPod && available(newPod)) {
        numAvailable++;
      }
      if (!oldPod) continue;
      if (!newPod) {
        const node = nodeByName.get(nodeName);
        if (!node) throw new Error(`couldn't get node for nodeName ${JSON.stringify(nodeName)}: node "${nodeName}" not found`);
        const shouldRun = nodeShouldRunDaemonPod(node, ds).shouldRun;
        if (!available(oldPod)) {
          if (!shouldRun) oldPodsToDelete.push(oldPod.metadata?.name ?? '');
          else allowedNewNodes.push(nodeName);
        } else if (!shouldRun) {
          shouldNotRunPodsToDelete.push(oldPod.metadata?.name ?? '');
        } else if (numSurge < maxSurge) {
          candidateNewNodes.push(nodeName);
        }
      } else if (!available(newPod)) {
        numSurge++;
      } else {
        oldPodsToDelete.push(oldPod.metadata?.name ?? '');
      }
    }
    // With surge the owner wants full availability: a pod on a node it should leave goes only
    // once enough pods are available elsewhere.
    const deletable = Math.min(numAvailable - desired, shouldNotRunPodsToDelete.length);
    if (deletable > 0) oldPodsToDelete.push(...shouldNotRunPodsToDelete.slice(0, deletable));
    const remainingSurge = Math.min(Math.max(maxSurge - numSurge, 0), candidateNewNodes.length);
    await this.syncNodes(ds, oldPodsToDelete, [...allowedNewNodes, ...candidateNewNodes.slice(0, remainingSurge)], hash, signal);
  }

  // ---------------------------------------------------------------------------------------------
  // History

  /** controlledHistories claims the DaemonSet's ControllerRevisions, as its pods. */
  private async controlledHistories(ds: DaemonSet): Promise<ControllerRevision[]> {
    const selector = labelSelectorAsSelector(ds.spec.selector);
    const revisions = this.opts.revisions.list(ds.metadata.namespace);
    const manager = new ControllerRefManager({ client: this.opts.client, owner: ds, ownerType: DaemonSets, resource: ControllerRevisions, selector });
    return manager.claim(revisions);
  }

  /**
   * constructHistory is kube's: the revision holding the current template (created when
   * missing, renumbered to the highest when an old template came back, duplicates removed) and
   * the others.
   */
  async constructHistory(ds: DaemonSet): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
    const { client } = this.opts;
    const patch = daemonSetPatch(ds);
    const wanted = canonicalJSON(patch);
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let history of await this.controlledHistories(ds)) {
      if (history.metadata.labels?.[ControllerRevisionHashLabel] === undefined) {
        // Revisions from before hash labels: their name is as unique as a hash.
        const toUpdate = structuredClone(history);
        toUpdate.metadata.labels = { ...(toUpdate.metadata.labels ?? {}), [ControllerRevisionHashLabel]: toUpdate.metadata.name ?? '' };
        history = await client.update<ControllerRevision>(ControllerRevisions, toUpdate);
      }
      if (canonicalJSON(history.data ?? null) === wanted) current.push(history);
      else old.push(history);
    }
    const currRevision = old.reduce((m, h) => Math.max(m, h.revision ?? 0), 0) + 1;
    let cur: ControllerRevision;
    if (current.length === 0) {
      cur = await this.snapshot(ds, patch, currRevision);
    } else {
      cur = await this.dedupCurHistories(ds, current);
      if ((cur.revision ?? 0) < currRevision) cur = await updateControllerRevision(client, cur, currRevision);
    }
    return { cur, old };
  }

  /**
   * snapshot creates the revision of the current template. A name already taken by a different
   * template (a hash collision) bumps status.collisionCount, which the next hash includes.
   */
  private async snapshot(ds: DaemonSet, patch: unknown, revision: number): Promise<ControllerRevision> {
    const collisionCount = { value: ds.status?.collisionCount ?? 0 };
    const before = collisionCount.value;
    const rev = newControllerRevision(ds, ownerKind, ds.spec.template?.metadata?.labels, patch, revision, before);
    if (ds.metadata.annotations) rev.metadata.annotations = { ...ds.metadata.annotations };
    const created = await createControllerRevision(this.opts.client, ds, rev, collisionCount);
    if (collisionCount.value !== before) {
      // Persist the count, so the hash of this template stays the one just used.
      const fresh = await this.opts.client.get<DaemonSet>(DaemonSets, ds.metadata.namespace ?? '', ds.metadata.name ?? '');
      fresh.status = { ...(fresh.status ?? {}), collisionCount: collisionCount.value };
      await this.opts.client.update<DaemonSet>(DaemonSets, fresh, { subresource: 'status' });
      this.opts.log?.v(2).info('Found a hash collision for DaemonSet - bumping collisionCount to resolve it', { daemonset: keyOf(ds), collisionCount: collisionCount.value });
    }
    return created;
  }

  /** dedupCurHistories keeps the highest-numbered copy of the current template, relabels its pods, deletes the rest. */
  private async dedupCurHistories(ds: DaemonSet, current: ControllerRevision[]): Promise<ControllerRevision> {
    if (current.length === 1) return current[0]!;
    let keep = current[0]!;
    for (const h of current) if ((h.revision ?? 0) >= (keep.revision ?? 0)) keep = h;
    const keepHash = keep.metadata.labels?.[ControllerRevisionHashLabel] ?? '';
    for (const pod of await this.getDaemonPods(ds)) {
      if (pod.metadata?.labels?.[ControllerRevisionHashLabel] === keepHash) continue;
      await this.opts.client.patch(Pods, ds.metadata.namespace ?? '', pod.metadata?.name ?? '', 'merge', { metadata: { labels: { [ControllerRevisionHashLabel]: keepHash } } });
    }
    for (const h of current) {
      if (h.metadata.name === keep.metadata.name) continue;
      await this.opts.client.delete(ControllerRevisions, ds.metadata.namespace ?? '', h.metadata.name ?? '');
    }
    return keep;
  }

  /**
   * cleanupHistory is kube's: delete the oldest old revisions beyond revisionHistoryLimit, but
   * never one that a live pod (even a terminal one being deleted) still carries the hash of.
   */
  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[]): Promise<void> {
    const toKeep = ds.spec.revisionHistoryLimit ?? 10;
    let toKill = old.length - toKeep;
    if (toKill <= 0) return;
    const liveHashes = new Set<string>();
    for (const pods of (await this.getNodesToDaemonPods(ds, true)).values()) {
      for (const pod of pods) {
        const h = pod.metadata?.labels?.[ControllerRevisionHashLabel];
        if (h) liveHashes.add(h);
      }
    }
    for (const history of sortControllerRevisions([...old])) {
      if (toKill <= 0) break;
      if (liveHashes.has(history.metadata.labels?.[ControllerRevisionHashLabel] ?? '')) continue;
      await this.opts.client.delete(ControllerRevisions, ds.metadata.namespace ?? '', history.metadata.name ?? '');
      toKill--;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Status

  /**
   * updateDaemonSetStatus is kube's: per node that should run the pod, whether it has one, and
   * whether the oldest is ready, available and up to date; pods on nodes that should not run
   * them are misscheduled. updateObservedGen is false while expectations are pending.
   */
  private async updateDaemonSetStatus(ds: DaemonSet, nodes: Node[], hash: string, updateObservedGen: boolean): Promise<ReconcileResult | void> {
    const nodeToDaemonPods = await this.getNodesToDaemonPods(ds);
    const now = this.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    let available = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = nodeToDaemonPods.get(node.metadata.name ?? '');
      const scheduled = !!pods && pods.length > 0;
      if (shouldRun) {
        desired++;
        if (!scheduled) continue;
        current++;
        const pod = [...pods!].sort(compareDaemonPods)[0]!;
        if (isPodReady(pod)) {
          ready++;
          if (isPodAvailable(pod, minReady, now)) available++;
        }
        if (isPodUpdated(pod, hash, generation)) updated++;
      } else if (scheduled) {
        misscheduled++;
      }
    }
    const status: DaemonSetStatus = {
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    try {
      await this.storeDaemonSetStatus(ds, status, updateObservedGen);
    } catch (err) {
      throw new Error(`error storing status for daemon set ${keyOf(ds)}: ${(err as Error).message}`, { cause: err });
    }
    // Availability comes with time, not with an event: look again after minReadySeconds.
    if (minReady > 0 && ready !== available) return { requeueAfter: minReady * 1000 };
  }

  /** storeDaemonSetStatus writes status through /status unless nothing changed; once more over a fresh GET on failure. */
  private async storeDaemonSetStatus(ds: DaemonSet, s: DaemonSetStatus, updateObservedGen: boolean): Promise<void> {
    const cur = ds.status ?? {};
    const same = (Object.keys(s) as (keyof DaemonSetStatus)[]).every((k) => (cur[k] ?? 0) === s[k]);
    if (same && (cur.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0)) return;
    let toUpdate: DaemonSet = structuredClone(ds);
    for (let i = 0; ; i++) {
      toUpdate.status = { ...(toUpdate.status ?? {}), ...s };
      if (updateObservedGen) toUpdate.status.observedGeneration = ds.metadata.generation;
      try {
        await this.opts.client.update<DaemonSet>(DaemonSets, toUpdate, { subresource: 'status' });
        return;
      } catch (err) {
        if (i >= statusUpdateRetries) throw err;
        toUpdate = await this.opts.client.get<DaemonSet>(DaemonSets, ds.metadata.namespace ?? '', ds.metadata.name ?? '');
      }
    }
  }
}

/**
 * findUpdatedPodsOnNode is kube's: the node's one new and one old pod (not being deleted), or
 * undefined when there are more of either (manage prunes them first).
 */
export function findUpdatedPodsOnNode(pods: readonly Pod[], hash: string, generation: number | undefined): { newPod?: Pod; oldPod?: Pod } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return undefined;
      newPod = pod;
    } else {
      if (oldPod) return undefined;
      oldPod = pod;
    }
  }
  return { newPod, oldPod };
}
