// VolumeBinding, as kube-scheduler's plugin of that name does it for skiff's volumes: a pod's
// persistentVolumeClaim volumes decide where it may run.
//
// PreFilter: every claim must exist and not be terminating (UnschedulableAndUnresolvable,
// `persistentvolumeclaim "data" not found`); an unbound claim of an Immediate class makes the pod
// wait for the PV controller (`pod has unbound immediate PersistentVolumeClaims`). A pod without
// claims skips the plugin.
// Filter: a bound claim's volume must be reachable from the node (its required node affinity:
// `node(s) had volume node affinity conflict`); an unbound WaitForFirstConsumer claim needs an
// available volume reachable from the node, or a class with a provisioner
// (`node(s) didn't find available persistent volumes to bind`).
// PreBind (preBindVolumes, run by the scheduler before the binding): the chosen node is written
// on every unbound WaitForFirstConsumer claim (volume.kubernetes.io/selected-node), and the
// pod is bound only once its claims are, as kube's PreBind waits for them.

import type { Pod } from '../../lib/api/core/pod.js';
import {
  type PersistentVolume,
  type PersistentVolumeClaim,
  VolumeAnnotation,
  findMatchingVolume,
  persistentVolumeClaimClass,
  volumeNodeAffinityMatches,
} from '../../lib/api/core/persistentvolume.js';
import { type StorageClass, VolumeBindingMode } from '../../lib/api/storage/storageclass.js';
import { type Client, PersistentVolumeClaims } from '../../lib/client/index.js';
import type { CycleState } from '../framework/cyclestate.js';
import type { FilterPlugin, PreFilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { Snapshot } from '../framework/snapshot.js';
import { asError, skip, type Status, success, unresolvable, unschedulable } from '../framework/status.js';

/** VolumeBindingName is the plugin's name in configuration. */
/** VolumeBindingName is the plugin's name in configuration; the scheduler process registers it over its own caches. */
export const VolumeBindingName = 'VolumeBinding';

export const ErrReasonNodeConflict = 'node(s) had volume node affinity conflict';
export const ErrReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
export const ErrReasonUnboundImmediate = 'pod has unbound immediate PersistentVolumeClaims';

/** VolumeListers are the scheduler's caches of claims, volumes and classes. */
export interface VolumeListers {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

/** noVolumes are empty caches: every claim is missing. */
export const noVolumes: VolumeListers = Object.freeze({ claim: () => undefined, volume: () => undefined, volumes: () => [], storageClass: () => undefined });

const stateKey = 'PreFilter' + VolumeBindingName;

interface PreFilterState {
  /** bound are the volumes of the pod's bound claims. */
  bound: PersistentVolume[];
  /** delayed are the pod's unbound WaitForFirstConsumer claims. */
  delayed: PersistentVolumeClaim[];
}

/** podClaimNames are the claims a pod's volumes name (persistentVolumeClaim and ephemeral volumes). */
export function podClaimNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(`${pod.metadata.name}-${v.name}`);
  }
  return names;
}

function isDelayed(l: VolumeListers, claim: PersistentVolumeClaim): boolean {
  const name = persistentVolumeClaimClass(claim);
  return !!name && l.storageClass(name)?.volumeBindingMode === VolumeBindingMode.WaitForFirstConsumer;
}

/** newVolumeBinding builds the plugin over the scheduler's volume caches. */
export function newVolumeBinding(l: VolumeListers): PreFilterPlugin & FilterPlugin {
  return {
    name: VolumeBindingName,
    preFilter(state: CycleState, pod: Pod, _snapshot: Snapshot): Status {
      const names = podClaimNames(pod);
      if (names.length === 0) return skip();
      const ns = pod.metadata.namespace ?? '';
      const s: PreFilterState = { bound: [], delayed: [] };
      let unboundImmediate = false;
      for (const name of names) {
        const claim = l.claim(ns, name);
        if (!claim) return unresolvable(`persistentvolumeclaim "${name}" not found`);
        if (claim.metadata.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
        const volumeName = claim.spec?.volumeName;
        if (volumeName) {
          const pv = l.volume(volumeName);
          if (!pv) return unresolvable(`pvc(s) bound to non-existent pv(s)`);
          s.bound.push(pv);
        } else if (isDelayed(l, claim)) {
          s.delayed.push(claim);
        } else {
          unboundImmediate = true;
        }
      }
      if (unboundImmediate) return unresolvable(ErrReasonUnboundImmediate);
      state.write(stateKey, s);
      return success();
    },
    filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
      const s = state.read<PreFilterState>(stateKey);
      if (!s) return asError(new Error(`error reading "${stateKey}" from cycleState: not found`));
      const node = nodeInfo.node;
      for (const pv of s.bound) if (!volumeNodeAffinityMatches(pv, node)) return unresolvable(ErrReasonNodeConflict);
      const taken = new Set<string>();
      for (const claim of s.delayed) {
        const free = l.volumes().filter((pv) => !taken.has(pv.metadata.name!));
        const pv = findMatchingVolume(claim, free, node);
        if (pv) {
          taken.add(pv.metadata.name!);
          continue;
        }
        const sc = l.storageClass(persistentVolumeClaimClass(claim));
        if (sc && sc.provisioner && sc.provisioner !== 'kubernetes.io/no-provisioner') continue;
        return unschedulable(ErrReasonBindConflict);
      }
      return success();
    },
  } satisfies PreFilterPlugin & FilterPlugin;
}

/** bindTimeoutMs is how long the binding waits for the pod's claims to be bound (kube's bindTimeoutSeconds is 600). */
export const bindTimeoutMs = 120_000;

/**
 * preBindVolumes is VolumeBinding's PreBind: it writes nodeName on each unbound
 * WaitForFirstConsumer claim of the pod and waits until every claim of the pod is bound. It
 * throws when a claim is gone or the wait times out, and the pod is scheduled again.
 */
export async function preBindVolumes(client: Client, l: VolumeListers, pod: Pod, nodeName: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
  const ns = pod.metadata.namespace ?? '';
  const names = podClaimNames(pod);
  if (names.length === 0) return;
  for (const name of names) {
    const claim = l.claim(ns, name);
    if (!claim) throw new Error(`persistentvolumeclaim "${name}" not found`);
    if (claim.spec?.volumeName || !isDelayed(l, claim)) continue;
    if (claim.metadata.annotations?.[VolumeAnnotation.SelectedNode] === nodeName) continue;
    const patch = { metadata: { annotations: { [VolumeAnnotation.SelectedNode]: nodeName } } };
    await client.patch(PersistentVolumeClaims, ns, name, 'merge', patch);
  }
  const deadline = Date.now() + (opts.timeoutMs ?? bindTimeoutMs);
  for (;;) {
    const pending = names.filter((name) => {
      const c = l.claim(ns, name);
      return !c?.spec?.volumeName || c.metadata.annotations?.[VolumeAnnotation.BindCompleted] !== 'yes';
    });
    if (pending.length === 0) return;
    if (names.some((name) => !l.claim(ns, name))) throw new Error('persistentvolumeclaim of the pod was deleted');
    if (Date.now() > deadline) throw new Error(`binding volumes: context deadline exceeded (claims not bound: ${pending.join(', ')})`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}
