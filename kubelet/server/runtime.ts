// Finding a pod's sandbox and containers in the runtime by the kubelet's CRI labels (and only
// by them), for the kubelet's API: the newest sandbox of ns/name (or of the given uid), and a
// container's attempts newest first.

import type { CriClient } from '../cri/client.js';
import type { Container, PodSandbox } from '../cri/types.js';
import { ContainerNameLabel, ContainerRestartCountAnnotation, PodNameLabel, PodNamespaceLabel, PodUIDLabel } from '../labels.js';

/** PodRef names a pod as the kubelet's URLs do: namespace, name and optionally its uid. */
export interface PodRef {
  namespace: string;
  name: string;
  uid?: string;
}

/** NotFoundError is a pod or container the runtime does not hold. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** newestFirst orders by creation time (nanoseconds as decimal strings), newest first. */
function newestFirst<T extends { created_at: string }>(a: T, b: T): number {
  const x = BigInt(a.created_at || '0');
  const y = BigInt(b.created_at || '0');
  return x > y ? -1 : x < y ? 1 : 0;
}

/** findSandbox returns the pod's sandbox: the ready one if any, else the newest. */
export async function findSandbox(cri: CriClient, pod: PodRef): Promise<PodSandbox> {
  const selector: Record<string, string> = { [PodNamespaceLabel]: pod.namespace, [PodNameLabel]: pod.name };
  if (pod.uid) selector[PodUIDLabel] = pod.uid;
  const sandboxes = (await cri.listPodSandbox({ label_selector: selector })).sort(newestFirst);
  const sandbox = sandboxes.find((s) => s.state === 'SANDBOX_READY') ?? sandboxes[0];
  if (!sandbox) throw new NotFoundError(`pod "${pod.name}" not found`);
  return sandbox;
}

/** restartCountOf reads a container's restart count annotation (0 when absent). */
export function restartCountOf(c: Pick<Container, 'annotations' | 'metadata'>): number {
  const n = Number(c.annotations?.[ContainerRestartCountAnnotation]);
  return Number.isInteger(n) ? n : (c.metadata?.attempt ?? 0);
}

/**
 * findContainers returns the attempts of one container of the pod, newest first (by restart
 * count, then creation). The pod's uid is the one of its current sandbox unless the ref gives one.
 */
export async function findContainers(cri: CriClient, pod: PodRef, container: string): Promise<Container[]> {
  let uid = pod.uid;
  if (!uid) uid = (await findSandbox(cri, pod).catch(() => undefined))?.labels[PodUIDLabel];
  const selector: Record<string, string> = { [PodNamespaceLabel]: pod.namespace, [PodNameLabel]: pod.name, [ContainerNameLabel]: container };
  if (uid) selector[PodUIDLabel] = uid;
  const list = await cri.listContainers({ label_selector: selector });
  return list.sort((a, b) => restartCountOf(b) - restartCountOf(a) || newestFirst(a, b));
}

/** runningContainer returns the container's running attempt, or throws NotFoundError. */
export async function runningContainer(cri: CriClient, pod: PodRef, container: string): Promise<Container> {
  const attempts = await findContainers(cri, pod, container);
  const running = attempts.find((c) => c.state === 'CONTAINER_RUNNING');
  if (!running) {
    if (!attempts.length) throw new NotFoundError(`container "${container}" in pod "${pod.name}" not found`);
    throw new NotFoundError(`container "${container}" in pod "${pod.name}" is not running`);
  }
  return running;
}
