// The disruption controller's second queue (kube's syncStalePodDisruption): a pod that an
// eviction (or the scheduler's preemption) marked DisruptionTarget=True but that was not deleted
// within two minutes gets the condition back to False, so it no longer reads as about to go.

import { type Pod, getPodCondition, isPodTerminal } from '../../lib/api/core/pod.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import type { Client } from '../../lib/client/client.js';
import { Pods } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';

/** StalePodDisruptionTimeoutMs is how long a DisruptionTarget condition may stand on a pod that is not deleted. */
export const StalePodDisruptionTimeoutMs = 2 * 60 * 1000;

/** fieldManager is the name the controller writes pod conditions as. */
const fieldManager = 'DisruptionController';

/**
 * staleDisruptionCleanAt is nonTerminatingPodHasStaleDisruptionCondition: when the pod's
 * DisruptionTarget=True condition turns stale, or undefined when it has none that can (the pod
 * is being deleted or finished, or the kubelet set it).
 */
export function staleDisruptionCleanAt(pod: Pod): number | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const cond = getPodCondition(pod, 'DisruptionTarget');
  if (!cond || cond.status !== 'True' || cond.reason === 'TerminationByKubelet' || isPodTerminal(pod)) return undefined;
  return (Date.parse(cond.lastTransitionTime ?? '') || 0) + StalePodDisruptionTimeoutMs;
}

/** syncStalePodDisruption resets a stale DisruptionTarget condition, or looks again when it will be stale. */
export async function syncStalePodDisruption(
  key: string,
  deps: { client: Client; pods: Lister<Pod>; now: () => Date; log?: Logger },
): Promise<ReconcileResult | void> {
  const pod = deps.pods.get(key);
  if (!pod) return;
  const cleanAt = staleDisruptionCleanAt(pod);
  if (cleanAt === undefined) return;
  const now = deps.now();
  if (cleanAt > now.getTime()) return { requeueAfter: cleanAt - now.getTime() };
  // A merge on the conditions list (keyed by type), at the version judged.
  await deps.client.patch(
    Pods,
    pod.metadata?.namespace ?? '',
    pod.metadata?.name ?? '',
    'strategic',
    { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status: { conditions: [{ type: 'DisruptionTarget', status: 'False', lastTransitionTime: nowRFC3339(now) }] } },
    { subresource: 'status', fieldManager },
  );
  deps.log?.v(2).info('Reset stale DisruptionTarget condition to False', { pod: key });
}
