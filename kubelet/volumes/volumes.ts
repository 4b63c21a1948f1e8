// Pod volumes on a real node. INTERFACE STUB: the signatures below are the contract between the
// pod workers (kubelet/pods) and the volume code; the bodies are filled in by the volume work.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Secret } from '../../lib/api/core/secret.js';
import type { Mount } from '../cri/types.js';

/** ObjectSources are how volumes and env vars read the API objects a pod refers to (undefined: not found). */
export interface ObjectSources {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** getServiceAccountToken issues a token for a projected serviceAccountToken source (absent until the API issues tokens). */
  getServiceAccountToken?(namespace: string, serviceAccountName: string, audience: string | undefined, expirationSeconds: number, pod: Pod): Promise<{ token: string; expirationTimestamp: string }>;
}

/** VolumeError is a volume that cannot be set up: the pod waits (event reason FailedMount) and retries with back-off. */
export class VolumeError extends Error {
  constructor(message: string, readonly reason = 'FailedMount') {
    super(message);
  }
}

/** PodVolumeContext is what setting up volumes needs about the node. */
export interface PodVolumeContext {
  /** podDir is the pod's own directory on the node (<kubelet root>/pods/<uid>). */
  podDir: string;
  sources: ObjectSources;
  nodeName: string;
}

/** PodVolumes are a pod's volumes on the node, by volume name. */
export type PodVolumes = Map<string, { hostPath: string; readOnly: boolean }>;

/**
 * setUpPodVolumes creates (or refreshes: it is idempotent, and configMap/secret/projected
 * contents follow the API objects on each call) every volume of the pod under ctx.podDir.
 * A missing object or an impossible volume throws VolumeError with Kubernetes' message.
 */
export async function setUpPodVolumes(pod: Pod, ctx: PodVolumeContext): Promise<PodVolumes> {
  void pod;
  void ctx;
  return new Map();
}

/** containerMounts are the CRI mounts for one container (its volumeMounts, subPath resolved). */
export function containerMounts(pod: Pod, container: Container, volumes: PodVolumes): Mount[] {
  void pod;
  void container;
  void volumes;
  return [];
}

/** tearDownPodVolumes unmounts (tmpfs) and removes everything setUpPodVolumes made for the pod. */
export async function tearDownPodVolumes(podDir: string): Promise<void> {
  void podDir;
}
