// Pod volumes on a real node: the contract between the pod workers (kubelet/pods) and the volume
// code. Each volume lives under the pod's directory the way the kubelet lays it out,
//
//   <podDir>/volumes/kubernetes.io~empty-dir/<name>     emptyDir (a tmpfs for medium: Memory)
//   <podDir>/volumes/kubernetes.io~configmap/<name>     configMap (on disk)
//   <podDir>/volumes/kubernetes.io~secret/<name>        secret (a tmpfs)
//   <podDir>/volumes/kubernetes.io~downward-api/<name>  downwardAPI (a tmpfs)
//   <podDir>/volumes/kubernetes.io~projected/<name>     projected (a tmpfs)
//   <podDir>/etc-hosts, <podDir>/containers/<container>/<id>   (written by containerMounts)
//
// and hostPath volumes are the host's own path. configMap, secret, downwardAPI and projected
// contents go through the atomic writer, so setting them up again swaps in a new version that
// running containers see at once.

import { chmod, lstat, mkdir, open, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Pod } from '../../lib/api/core/pod.js';
import { parseQuantity } from '../../lib/api/core/quantity.js';
import { pvSourceOf } from '../../lib/api/core/persistentvolume.js';
import type { Container, Volume } from '../../lib/api/core/types.js';
import type { Mount } from '../cri/types.js';
import { notFoundMessage } from '../env/errors.js';
import { type Payload, atomicWrite } from './atomicwriter.js';
import { checkHostPath } from './hostpath.js';
import { hostMounter } from './mounter.js';
import { ownershipMatches, setVolumeOwnership } from './ownership.js';
import { type ContainerMountOptions, makeMounts } from './mounts.js';
import { configMapPayload, defaultVolumeMode, downwardAPIPayload, forgetPodTokens, projectedPayload, secretPayload } from './payload.js';
import { type Mounter, type ObjectSources, type PodVolumeContext, type PodVolumes, VolumeError, setUpFailed } from './types.js';

export { type ContainerMountOptions, podHostnameAndDomain } from './mounts.js';
export { type Mounter, type ObjectSources, type PodVolumeContext, type PodVolumes, VolumeError } from './types.js';

/** pluginDirs are the kubelet's directory names of the volume plugins, escaped for disk ('/' → '~'). */
const pluginDirs = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

/** supportedSources are the volume sources this kubelet sets up. */
const supportedSources = ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected', 'persistentVolumeClaim'] as const;

/** volumeDir is where the kubelet keeps a volume of a plugin for a pod. */
export function volumeDir(podDir: string, plugin: keyof typeof pluginDirs, name: string): string {
  return join(podDir, 'volumes', pluginDirs[plugin], name);
}

/** podMemoryLimitBytes is the pod's memory limit as its cgroup gets it, or undefined when a container has none. */
function podMemoryLimitBytes(pod: Pod): bigint | undefined {
  const limit = (c: Container): bigint | undefined => {
    const q = parseQuantity(c.resources?.limits?.memory);
    return q && q.nanos > 0n ? q.nanos / 1_000_000_000n : undefined;
  };
  let sum = 0n;
  for (const c of pod.spec.containers) {
    const l = limit(c);
    if (l === undefined) return undefined;
    sum += l;
  }
  for (const c of pod.spec.initContainers ?? []) {
    const l = limit(c);
    if (l === undefined) return undefined;
    if (l > sum) sum = l;
  }
  return sum;
}

/**
 * memoryVolumeSize is calculateEmptyDirMemorySize: the node's allocatable memory, lowered to the
 * pod's memory limit and then to the volume's sizeLimit when they are smaller; undefined (the
 * tmpfs default) when none is known.
 */
export function memoryVolumeSize(pod: Pod, sizeLimit: string | number | undefined, nodeAllocatable: Record<string, string> | undefined): bigint | undefined {
  const bytes = (q: string | number | undefined): bigint | undefined => {
    const p = parseQuantity(q);
    return p && p.nanos > 0n ? (p.nanos + 999_999_999n) / 1_000_000_000n : undefined;
  };
  let size = bytes(nodeAllocatable?.memory);
  const podLimit = podMemoryLimitBytes(pod);
  if (podLimit !== undefined && podLimit > 0n && (size === undefined || podLimit <= size)) size = podLimit;
  const volLimit = bytes(sizeLimit);
  if (volLimit !== undefined && (size === undefined || volLimit <= size)) size = volLimit;
  return size;
}

/** setUpDir makes a volume's directory (0777, as the emptyDir plugin does), and mounts a tmpfs on it when memory-backed. */
async function setUpDir(dir: string, memory: boolean, sizeBytes: bigint | undefined, mounter: Mounter): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o777 });
  if (!memory) {
    const st = await stat(dir);
    if ((st.mode & 0o777) !== 0o777) await chmod(dir, 0o777);
    return;
  }
  if (!mounter.mountsUnder(dir).includes(dir)) await mounter.mountTmpfs(dir, sizeBytes);
}

/** setUpVolume sets up (or refreshes) one volume and says where it is on the node. */
async function setUpVolume(pod: Pod, v: Volume, ctx: PodVolumeContext, mounter: Mounter): Promise<{ hostPath: string; readOnly: boolean }> {
  const ns = pod.metadata.namespace ?? 'default';
  const allocatable = ctx.nodeAllocatable ?? {};
  const memorySize = (sizeLimit?: string | number): bigint | undefined => memoryVolumeSize(pod, sizeLimit, ctx.nodeAllocatable);
  const fsGroup = pod.spec.securityContext?.fsGroup;
  const written = async (plugin: keyof typeof pluginDirs, memory: boolean, payload: () => Promise<Payload>): Promise<{ hostPath: string; readOnly: boolean }> => {
    const dir = volumeDir(ctx.podDir, plugin, v.name);
    await setUpDir(dir, memory, memory ? memorySize() : undefined, mounter);
    const wrote = await atomicWrite(dir, await payload());
    // A new version is made by root: give it to the pod's group again (read-only volumes).
    if (fsGroup !== undefined && (wrote || !(await ownershipMatches(dir, fsGroup, true)))) await setVolumeOwnership(dir, fsGroup, true);
    return { hostPath: dir, readOnly: true };
  };

  if (v.emptyDir) {
    const medium = v.emptyDir.medium ?? '';
    if (medium !== '' && medium !== 'Memory') {
      throw new VolumeError(`unknown storage medium "${medium}"`);
    }
    const dir = volumeDir(ctx.podDir, 'emptyDir', v.name);
    await setUpDir(dir, medium === 'Memory', medium === 'Memory' ? memorySize(v.emptyDir.sizeLimit) : undefined, mounter);
    // The walk runs only while the root does not match (fsGroupChangePolicy OnRootMismatch):
    // what the containers write later is theirs.
    if (fsGroup !== undefined && !(await ownershipMatches(dir, fsGroup, false))) await setVolumeOwnership(dir, fsGroup, false);
    return { hostPath: dir, readOnly: false };
  }
  if (v.hostPath) {
    await checkHostPath(v.hostPath.path, v.hostPath.type);
    return { hostPath: v.hostPath.path, readOnly: false };
  }
  if (v.persistentVolumeClaim) {
    const path = await persistentVolumePath(ns, v.persistentVolumeClaim.claimName, ctx);
    return { hostPath: path, readOnly: v.persistentVolumeClaim.readOnly === true };
  }
  if (v.configMap) {
    const { name = '', items, defaultMode = defaultVolumeMode, optional = false } = v.configMap;
    return written('configMap', false, async () => {
      const cm = await ctx.sources.getConfigMap(ns, name);
      if (!cm && !optional) throw new VolumeError(notFoundMessage('configmap', name));
      return configMapPayload(items, cm ?? { metadata: { name, namespace: ns } }, defaultMode, optional);
    });
  }
  if (v.secret) {
    const { secretName = '', items, defaultMode = defaultVolumeMode, optional = false } = v.secret;
    return written('secret', true, async () => {
      const secret = await ctx.sources.getSecret(ns, secretName);
      if (!secret && !optional) throw new VolumeError(notFoundMessage('secret', secretName));
      return secretPayload(items, secret ?? { metadata: { name: secretName, namespace: ns } }, defaultMode, optional);
    });
  }
  if (v.downwardAPI) {
    const { items, defaultMode = defaultVolumeMode } = v.downwardAPI;
    return written('downwardAPI', true, async () => downwardAPIPayload(items, pod, defaultMode, allocatable));
  }
  if (v.projected) {
    const { sources, defaultMode = defaultVolumeMode } = v.projected;
    return written('projected', true, () => projectedPayload(sources, pod, defaultMode, ctx.sources, allocatable));
  }
  const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
  throw new VolumeError(`volume type ${kind} is not supported by this kubelet (it supports ${supportedSources.join(', ')})`);
}

/**
 * persistentVolumePath resolves a claim to the node path of its volume, as the kubelet's volume
 * manager finds the PV behind a persistentVolumeClaim volume: the claim must be bound, and its
 * volume a hostPath (type-checked, so DirectoryOrCreate makes a provisioned volume's directory
 * on first use) or a local volume (which must exist). The containers bind-mount that path, so
 * what they write outlives the pod.
 */
async function persistentVolumePath(namespace: string, claimName: string, ctx: PodVolumeContext): Promise<string> {
  const { getPersistentVolumeClaim, getPersistentVolume } = ctx.sources;
  if (!getPersistentVolumeClaim || !getPersistentVolume) throw new VolumeError('persistentVolumeClaim volumes are not supported without an API source');
  const claim = await getPersistentVolumeClaim.call(ctx.sources, namespace, claimName);
  if (!claim) throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
  const volumeName = claim.spec?.volumeName ?? '';
  if (!volumeName || claim.status?.phase !== 'Bound') {
    throw new VolumeError(`PVC ${namespace}/${claimName} has non-bound phase ("${claim.status?.phase ?? ''}") or empty pvc.Spec.VolumeName ("${volumeName}")`);
  }
  const pv = await getPersistentVolume.call(ctx.sources, volumeName);
  if (!pv) throw new VolumeError(`persistentvolume "${volumeName}" not found`);
  const ref = pv.spec?.claimRef;
  if (ref?.uid && claim.metadata.uid && ref.uid !== claim.metadata.uid) throw new VolumeError(`the PV ${volumeName} is bound to another claim`);
  if (pv.spec?.hostPath) {
    await checkHostPath(pv.spec.hostPath.path, pv.spec.hostPath.type);
    return pv.spec.hostPath.path;
  }
  if (pv.spec?.local) {
    await checkHostPath(pv.spec.local.path, 'Directory');
    return pv.spec.local.path;
  }
  const kind = Object.keys(pvSourceOf(pv.spec))[0] ?? 'unknown';
  throw new VolumeError(`persistent volume ${volumeName} of type ${kind} is not supported by this kubelet (it mounts hostPath and local volumes)`);
}

/** podLocks serializes set-ups of one pod: a periodic refresh must not interleave with the worker's own. */
const podLocks = new Map<string, Promise<unknown>>();

async function withPodLock<T>(podDir: string, fn: () => Promise<T>): Promise<T> {
  const prev = podLocks.get(podDir) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  podLocks.set(podDir, tail);
  try {
    return await run;
  } finally {
    if (podLocks.get(podDir) === tail) podLocks.delete(podDir);
  }
}

/**
 * setUpPodVolumes creates (or refreshes: it is idempotent, and configMap/secret/projected
 * contents follow the API objects on each call) every volume of the pod under ctx.podDir.
 * A volume that fails does not keep the others from being set up; the first failure is then
 * thrown as a VolumeError with Kubernetes' message
 * (`MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found`).
 */
export async function setUpPodVolumes(pod: Pod, ctx: PodVolumeContext): Promise<PodVolumes> {
  if (!isAbsolute(ctx.podDir)) throw new VolumeError(`pod directory ${ctx.podDir} is not an absolute path`);
  const mounter = ctx.mounter ?? hostMounter;
  return withPodLock(ctx.podDir, async () => {
    await mkdir(join(ctx.podDir, 'volumes'), { recursive: true, mode: 0o750 });
    const volumes: PodVolumes = Object.assign(new Map<string, { hostPath: string; readOnly: boolean }>(), { podDir: ctx.podDir });
    const failures: VolumeError[] = [];
    for (const v of pod.spec.volumes ?? []) {
      try {
        volumes.set(v.name, await setUpVolume(pod, v, ctx, mounter));
      } catch (err) {
        failures.push(setUpFailed(v.name, (err as Error).message));
      }
    }
    if (failures.length > 0) throw failures[0];
    return volumes;
  });
}

/**
 * containerMounts are the CRI mounts for one container: its volumeMounts (subPath and
 * subPathExpr resolved), the pod's /etc/hosts (written once into the pod's directory, when the
 * pod has an IP or uses the host network; skipped when a volumeMount covers /etc/hosts), and
 * the termination-message file of this container instance. The pod's directory comes from
 * volumes (as setUpPodVolumes returned them) or opts.podDir; without one, only the
 * volumeMounts are made. Throws ConfigError (CreateContainerConfigError) with the kubelet's
 * messages. Each call makes a new termination-message file: call it once per CreateContainer.
 */
export function containerMounts(pod: Pod, container: Container, volumes: PodVolumes, opts: ContainerMountOptions = {}): Mount[] {
  return makeMounts(pod, container, volumes, opts.podDir ?? volumes.podDir, opts);
}

/** PodDirError is a pod directory that cannot be removed safely (a mount that will not go). */
export class PodDirError extends Error {}

/**
 * tearDownPodVolumes unmounts (tmpfs) and removes everything setUpPodVolumes made for the pod:
 * every mount under podDir is unmounted, deepest first, then the directory is removed. It is
 * idempotent (a missing podDir is done), and it removes nothing while a mount under podDir
 * remains, so nothing mounted into it is ever deleted through it.
 */
export async function tearDownPodVolumes(podDir: string, mounter: Mounter = hostMounter): Promise<void> {
  if (!isAbsolute(podDir) || podDir.split('/').filter(Boolean).length < 2) throw new PodDirError(`refusing to tear down pod directory ${podDir}`);
  // After any set-up of the pod in flight, so that it cannot mount a tmpfs behind the teardown.
  return withPodLock(podDir, () => tearDown(podDir, mounter));
}

async function tearDown(podDir: string, mounter: Mounter): Promise<void> {
  try {
    await lstat(podDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const errors: string[] = [];
  for (const m of mounter.mountsUnder(podDir)) {
    try {
      await mounter.unmount(m);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  const left = mounter.mountsUnder(podDir);
  if (left.length > 0) throw new PodDirError(`cannot remove pod directory ${podDir}: still mounted: ${left.join(', ')}${errors.length ? ` (${errors.join('; ')})` : ''}`);
  forgetPodTokens(podDir.split('/').filter(Boolean).pop());
  await rm(podDir, { recursive: true, force: true });
}

/** maxTerminationMessageLength is how much of a termination message the kubelet reports (its last 4096 bytes). */
export const maxTerminationMessageLength = 4096;

/**
 * readTerminationMessage reads what a container wrote to its terminationMessagePath: the file
 * behind the mount whose container path it is (as CRI ContainerStatus lists the mounts), at most
 * its last 4096 bytes, as the kubelet's getTerminationMessage does. Undefined when there is no
 * such mount or file.
 */
export async function readTerminationMessage(mounts: readonly Mount[], terminationMessagePath: string): Promise<string | undefined> {
  const m = mounts.find((x) => x.container_path === terminationMessagePath);
  if (!m) return undefined;
  let fh;
  try {
    fh = await open(m.host_path, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxTerminationMessageLength);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}
