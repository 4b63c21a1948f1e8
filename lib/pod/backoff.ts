// The kubelet's crash-loop back-off: a container that exited and is to be restarted waits 10 s
// before its first restart, doubling per restart up to 5 min (kubelet's backOffPeriod and
// MaxContainerBackOff), and its waiting state says so in the kubelet's words.

import type { Pod } from '../api/core/pod.js';
import { goDuration } from '../machinery/duration.js';

/** CrashLoopBackOffReason is the waiting reason of a container held back before a restart. */
export const CrashLoopBackOffReason = 'CrashLoopBackOff';

/** InitialContainerBackOffMs is the first wait (kubelet's backOffPeriod). */
export const InitialContainerBackOffMs = 10_000;

/** MaxContainerBackOffMs is the longest wait (kubelet's MaxContainerBackOff). */
export const MaxContainerBackOffMs = 300_000;

/** crashLoopBackOffMs is the wait before restart number restartCount+1: 0 before any restart, then 10 s doubling, at most 5 min. */
export function crashLoopBackOffMs(restartCount: number): number {
  if (restartCount <= 0) return 0;
  return Math.min(InitialContainerBackOffMs * 2 ** Math.min(restartCount - 1, 10), MaxContainerBackOffMs);
}

/** crashLoopBackOffMessage is the kubelet's waiting message for a container in back-off. */
export function crashLoopBackOffMessage(backOffMs: number, containerName: string, pod: Pick<Pod, 'metadata'>): string {
  const { name, namespace, uid } = pod.metadata;
  return `back-off ${goDuration(backOffMs)} restarting failed container=${containerName} pod=${name}_${namespace}(${uid})`;
}
