// syncStatefulSet: the StatefulSet controller's reconcile (kube's pkg/controller/statefulset
// stateful_set.go sync). From the caches it takes the set, adopts orphaned ControllerRevisions
// that match its selector, claims the pods named after it (`<set>-<ordinal>`) that match its
// selector, and runs the update algorithm (control.ts) over them.
//
// There are no expectations here, unlike the ReplicaSet controller: pod names are fixed, so a
// create the cache has not shown yet fails with AlreadyExists and the sync is retried, and a
// controller manager killed in the middle of a scale finds every pod it made by name.

import type { StatefulSet } from '../../lib/api/apps/statefulset.js';
import type { ControllerRevision } from '../../lib/api/apps/controllerrevision.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Client } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { ControllerRevisions, Pods, StatefulSets } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { type LabelSelectorExpr, InvalidLabelSelectorError, labelSelectorAsSelector } from '../../lib/machinery/labels.js';
import { ControllerRefManager, getControllerOf } from '../common/controllerref.js';
import { StatefulSetControl } from './control.js';
import { StatefulPodControl } from './podcontrol.js';
import { type PersistentVolumeClaim, isMemberOf } from './utils.js';

/** StatefulSetSyncerOptions are the caches, client and recorder one syncer works with. */
export interface StatefulSetSyncerOptions {
  client: Client;
  statefulSets: Lister<StatefulSet>;
  pods: Lister<Pod>;
  revisions: Lister<ControllerRevision>;
  claims: Lister<PersistentVolumeClaim>;
  recorder: Recorder;
  /** now is the clock availability is judged by (default: wall time). */
  now?: () => Date;
  log?: Logger;
}

/** StatefulSetSyncer runs syncStatefulSet for keys; one per controller. */
export class StatefulSetSyncer {
  private readonly control: StatefulSetControl;

  constructor(private readonly opts: StatefulSetSyncerOptions) {
    const now = opts.now ?? (() => new Date());
    const podControl = new StatefulPodControl({ client: opts.client, claims: opts.claims, recorder: opts.recorder, log: opts.log });
    this.control = new StatefulSetControl({ client: opts.client, podControl, recorder: opts.recorder, now, log: opts.log });
  }

  /**
   * syncStatefulSet reconciles the set named by key. Throws (retry with backoff) on any failed
   * write; returns requeueAfter minReadySeconds while not every replica is available yet, so
   * availability is noticed without another event.
   */
  async syncStatefulSet(key: string): Promise<ReconcileResult | void> {
    const { log } = this.opts;
    const set = this.opts.statefulSets.get(key);
    if (!set) {
      log?.v(4).info('StatefulSet has been deleted', { statefulSet: key });
      return;
    }
    let selector: LabelSelectorExpr;
    try {
      selector = labelSelectorAsSelector(set.spec.selector);
    } catch (err) {
      // Validation keeps invalid selectors out; one that got in cannot be fixed by retrying.
      if (err instanceof InvalidLabelSelectorError) {
        log?.error('Invalid StatefulSet selector', { statefulSet: key, err: err.message });
        return;
      }
      throw err;
    }
    const { namespace } = splitKey(key);
    const revisions = await this.adoptAndListRevisions(set, selector, namespace);
    const pods = await this.getPodsForStatefulSet(set, selector, namespace);
    const status = await this.control.updateStatefulSet(set, pods, revisions);
    log?.v(4).info('Successfully synced StatefulSet', { statefulSet: key });
    const minReadySeconds = set.spec.minReadySeconds ?? 0;
    if (minReadySeconds > 0 && status && status.availableReplicas !== (set.spec.replicas ?? 1)) {
      return { requeueAfter: minReadySeconds * 1000 };
    }
  }

  /**
   * adoptAndListRevisions is adoptOrphanRevisions plus ListRevisions: the set's revisions
   * (selected and controlled by it), after adopting selected orphans.
   */
  private async adoptAndListRevisions(set: StatefulSet, selector: LabelSelectorExpr, namespace: string): Promise<ControllerRevision[]> {
    const selected = this.opts.revisions.list(namespace, selector);
    const manager = new ControllerRefManager({ client: this.opts.client, owner: set, ownerType: StatefulSets, resource: ControllerRevisions, selector });
    const owned: ControllerRevision[] = [];
    const orphans: ControllerRevision[] = [];
    for (const r of selected) {
      const ref = getControllerOf(r);
      if (!ref) orphans.push(r);
      else if (ref.uid === set.metadata.uid) owned.push(r);
    }
    if (orphans.length && !set.metadata.deletionTimestamp) {
      for (const r of orphans) owned.push(await manager.adopt(r));
    }
    // Never hand cached objects to code that sorts or renumbers them.
    return owned.map((r) => structuredClone(r));
  }

  /** getPodsForStatefulSet claims the namespace's pods named after the set that match its selector (adopting and releasing). */
  private async getPodsForStatefulSet(set: StatefulSet, selector: LabelSelectorExpr, namespace: string): Promise<Pod[]> {
    const manager = new ControllerRefManager({ client: this.opts.client, owner: set, ownerType: StatefulSets, resource: Pods, selector });
    return manager.claim(this.opts.pods.list(namespace), (pod) => isMemberOf(set, pod));
  }
}
