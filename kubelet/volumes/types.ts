// The shapes shared by the volume code: what it reads the API through, what it makes, how it
// fails, and the one seam to the host's mount table (so unit tests run without mounting).

import type { Pod } from '../../lib/api/core/pod.js';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Secret } from '../../lib/api/core/secret.js';
import type { Service } from '../../lib/api/core/service.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../lib/api/core/persistentvolume.js';

/** ObjectSources are how volumes and env vars read the API objects a pod refers to (undefined: not found). */
export interface ObjectSources {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** listServices lists a namespace's Services, for the service link env vars (absent: none are made). */
  listServices?(namespace: string): Promise<Service[]>;
  /** getServiceAccountToken issues a token for a projected serviceAccountToken source (absent until the API issues tokens). */
  /** getPersistentVolumeClaim and getPersistentVolume resolve a pod's claim to its volume (absent: claims cannot be mounted). */
  getPersistentVolumeClaim?(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  getPersistentVolume?(name: string): Promise<PersistentVolume | undefined>;
  getServiceAccountToken?(namespace: string, serviceAccountName: string, audience: string | undefined, expirationSeconds: number, pod: Pod): Promise<{ token: string; expirationTimestamp: string }>;
}

/**
 * VolumeError is a volume that cannot be set up: the pod waits (event reason FailedMount) and
 * retries with back-off. Its message is the whole text of the kubelet's event, e.g.
 * `MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found`; volumeName and
 * detail (`configmap "settings" not found`) carry the parts.
 */
export class VolumeError extends Error {
  constructor(
    message: string,
    readonly reason = 'FailedMount',
    readonly volumeName?: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** setUpFailed is the VolumeError for one volume whose SetUp failed with detail. */
export function setUpFailed(volumeName: string, detail: string): VolumeError {
  return new VolumeError(`MountVolume.SetUp failed for volume "${volumeName}" : ${detail}`, 'FailedMount', volumeName, detail);
}

/** Mounter is the host's mount table, as the volume code uses it. */
export interface Mounter {
  /** mountTmpfs mounts a tmpfs on dir, of sizeBytes when given. */
  mountTmpfs(dir: string, sizeBytes?: bigint): Promise<void>;
  /** unmount unmounts the mount on dir. */
  unmount(dir: string): Promise<void>;
  /** mountsUnder lists the mount points at or below dir, deepest first. */
  mountsUnder(dir: string): string[];
}

/** PodVolumeContext is what setting up volumes needs about the node. */
export interface PodVolumeContext {
  /** podDir is the pod's own directory on the node (<kubelet root>/pods/<uid>). */
  podDir: string;
  sources: ObjectSources;
  nodeName: string;
  /** nodeAllocatable backs downward API resource limits a container does not set, and bounds memory-backed volumes. */
  nodeAllocatable?: Record<string, string>;
  /** mounter is the host's mount table (default: the real one, through mount(8) and umount(8)). */
  mounter?: Mounter;
}

/**
 * PodVolumes are a pod's volumes on the node, by volume name. setUpPodVolumes also records the
 * pod's directory on it, where containerMounts writes the etc-hosts and termination-log files.
 */
export type PodVolumes = Map<string, { hostPath: string; readOnly: boolean }> & { podDir?: string };
