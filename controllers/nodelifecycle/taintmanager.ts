// Taint-based eviction (kube's taint-eviction-controller, pkg/controller/tainteviction): a pod on
// a node with NoExecute taints it does not all tolerate is deleted at once; a pod that tolerates
// them for a while (tolerationSeconds, the smallest one counts) is deleted once that long has
// passed since the taint was added; a pod that tolerates them forever stays. A scheduled
// deletion is cancelled (with an event) when the taints go away or become tolerated forever.
//
// Kubernetes times the grace from when its taint manager first saw the taint; here it counts from
// the taint's timeAdded, which survives a controller restart.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Taint } from '../../lib/api/core/types.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { Pods } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { getMatchingTolerations } from '../../lib/node/taints.js';
import { getMinTolerationTime, noExecuteTaints } from './taints.js';

/** TaintEvictionOptions configure a TaintEvictionController. */
export interface TaintEvictionOptions {
  client: Client;
  pods: Lister<Pod>;
  nodes: Lister<Node>;
  recorder: Recorder;
  log?: Logger;
  now?: () => number;
}

/** taintStart is when the taints began to count: the earliest timeAdded, never later than now. */
function taintStart(taints: readonly Taint[], now: number): number {
  let start = now;
  for (const t of taints) {
    const at = Date.parse(t.timeAdded ?? '');
    if (!Number.isNaN(at) && at < start) start = at;
  }
  return start;
}

/** TaintEvictionController decides, per pod, whether and when its node's NoExecute taints evict it. */
export class TaintEvictionController {
  /** scheduled are the pods with a pending deletion, and when their toleration started to count. */
  readonly scheduled = new Map<string, { start: number }>();
  /**
   * evicted are the pods this controller has deleted (key → uid). Until the cache shows the
   * deletion, events for the pod (its DisruptionTarget condition, say) must not delete it again:
   * kube's TimedWorkerQueue keeps a fired worker's key for the same reason.
   */
  private readonly evicted = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly opts: TaintEvictionOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** forget drops everything known about the pod named key (it was deleted). */
  forget(key: string): void {
    this.scheduled.delete(key);
    this.evicted.delete(key);
  }

  /** cancelWorkWithEvent drops a scheduled deletion, telling the pod's events. */
  private cancelWorkWithEvent(key: string): void {
    this.evicted.delete(key);
    if (!this.scheduled.delete(key)) return;
    const { namespace, name } = splitKey(key);
    this.opts.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  /** syncPod is processPodOnNode for the pod named key; it asks to be called again when a deletion is due. */
  async syncPod(key: string): Promise<void | ReconcileResult> {
    const pod = this.opts.pods.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata.deletionTimestamp) {
      // Gone, unbound, or already on its way out: nothing left to decide.
      this.forget(key);
      return;
    }
    // Deleted by this controller already; the cache has not caught up yet.
    if (this.evicted.get(key) === pod.metadata.uid) return;
    const node = this.opts.nodes.get(nodeName);
    if (!node) {
      this.scheduled.delete(key);
      return;
    }
    const taints = noExecuteTaints(node);
    if (taints.length === 0) {
      this.cancelWorkWithEvent(key);
      return;
    }
    const now = this.now();
    const { all, used } = getMatchingTolerations(taints, pod.spec.tolerations);
    if (!all) {
      this.opts.log?.v(2).info('Not all taints are tolerated after update for pod on node', { pod: key, node: nodeName });
      this.cancelWorkWithEvent(key);
      await this.evict(key, pod);
      return;
    }
    const minToleration = getMinTolerationTime(used);
    if (minToleration < 0) {
      this.opts.log?.v(4).info('Current tolerations for pod tolerate forever, cancelling any scheduled deletion', { pod: key });
      this.cancelWorkWithEvent(key);
      return;
    }
    const start = this.scheduled.get(key)?.start ?? taintStart(taints, now);
    const trigger = start + minToleration;
    if (now >= trigger) {
      await this.evict(key, pod);
      return;
    }
    this.scheduled.set(key, { start });
    return { requeueAfter: trigger - now };
  }

  /**
   * evict is the taint manager's deletePodHandler: an event, the DisruptionTarget condition, then
   * an ordinary (graceful) delete, so the kubelet, if it is still there, stops the pod cleanly.
   */
  private async evict(key: string, pod: Pod): Promise<void> {
    const { namespace, name } = splitKey(key);
    this.opts.log?.info('Deleting pod', { pod: key, node: pod.spec.nodeName });
    this.opts.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: pod.metadata.uid } }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    try {
      const has = pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'DeletionByTaintManager');
      if (!has) {
        const condition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: nowRFC3339(new Date(this.now())) };
        await this.opts.client.patch(Pods, namespace, name, 'strategic', { status: { conditions: [condition] } }, { subresource: 'status' });
      }
      await this.opts.client.delete(Pods, namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.scheduled.delete(key);
    if (pod.metadata.uid) this.evicted.set(key, pod.metadata.uid);
  }
}
