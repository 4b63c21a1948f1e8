// The local-path provisioner skiff runs, as k3s runs rancher's local-path-provisioner: a claim
// of a class whose provisioner is skiff.dev/local-path becomes a directory on the node the
// scheduler picked for its first pod.
//
// Provision: once the binder has annotated a claim for this provisioner and the scheduler has
// set volume.kubernetes.io/selected-node, create the volume `pvc-<claim uid>`: a hostPath
// (DirectoryOrCreate) under the node's local-path directory (the Node's skiff.dev/local-path-dir
// annotation, which the kubelet sets to <root-dir>/local-path), with required node affinity to
// that node, pre-bound to the claim; the binder then binds it. The directory itself is made by
// the kubelet when the first pod mounts it, on real and simulated nodes alike.
//
// Delete: a Released volume of this provisioner with reclaimPolicy Delete gets a helper pod on
// its node (busybox, a hostPath mount of the parent directory, `rm -rf` of the volume's
// directory); when the pod has Succeeded, the pod and then the volume are deleted. A simulated
// node runs the helper to success too (label skiff.dev/sim=succeed).

import { basename, dirname, join } from 'node:path';
import type { Node } from '../../../lib/api/core/node.js';
import {
  ClaimPhase,
  type PersistentVolume,
  type PersistentVolumeClaim,
  VolumeAnnotation,
  VolumePhase,
  persistentVolumeClaimClass,
} from '../../../lib/api/core/persistentvolume.js';
import type { Pod } from '../../../lib/api/core/pod.js';
import { DefaultLocalPathDir, LocalPathDirAnnotation, LocalPathHelperLabel, LocalPathProvisioner } from '../../../lib/api/storage/localpath.js';
import type { StorageClass } from '../../../lib/api/storage/storageclass.js';
import { type Client, isAlreadyExists, isNotFound } from '../../../lib/client/client.js';
import type { Recorder } from '../../../lib/client/events.js';
import { PersistentVolumes, Pods } from '../../../lib/client/resources.js';
import type { Lister } from '../../../lib/controller/lister.js';
import type { ReconcileResult } from '../../../lib/controller/controller.js';
import type { Logger } from '../../../lib/log.js';

/** LocalPathProvisionerSyncer holds what the provisioner reads and writes. */
export interface LocalPathProvisionerSyncer {
  client: Client;
  recorder: Recorder;
  claims: Lister<PersistentVolumeClaim>;
  volumes: Lister<PersistentVolume>;
  classes: Lister<StorageClass>;
  nodes: Lister<Node>;
  pods: Lister<Pod>;
  log?: Logger;
  /** helperImage runs the helper pods (a busybox every node has). */
  helperImage?: string;
}

/** helperNamespace holds the helper pods, as k3s keeps its own in kube-system. */
export const helperNamespace = 'kube-system';
const hostnameLabel = 'kubernetes.io/hostname';

/** volumeNameFor is the volume a claim gets: `pvc-<claim uid>`, as every provisioner names it. */
export function volumeNameFor(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid}`;
}

/** helperPodName is the name of the helper pod that removes a volume's directory. */
export function helperPodName(pvName: string): string {
  return `helper-pod-delete-${pvName}`;
}

/** syncClaim provisions a volume for the claim `namespace/name` when it waits for this provisioner. */
export async function syncClaim(s: LocalPathProvisionerSyncer, key: string): Promise<void> {
  const claim = s.claims.get(key);
  if (!claim || claim.metadata.deletionTimestamp) return;
  const ann = claim.metadata.annotations ?? {};
  if (ann[VolumeAnnotation.StorageProvisioner] !== LocalPathProvisioner && ann[VolumeAnnotation.BetaStorageProvisioner] !== LocalPathProvisioner) return;
  if (claim.spec?.volumeName || claim.status?.phase !== ClaimPhase.Pending) return;
  const pvName = volumeNameFor(claim);
  if (s.volumes.get(pvName)) return;
  const sc = s.classes.get(persistentVolumeClaimClass(claim));
  if (!sc || sc.provisioner !== LocalPathProvisioner) return;
  const nodeName = ann[VolumeAnnotation.SelectedNode];
  if (!nodeName) {
    s.recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": configuration error, no node was specified`);
    return;
  }
  const node = s.nodes.get(nodeName);
  if (!node) {
    s.recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": nodes "${nodeName}" not found`);
    throw new Error(`node ${nodeName} of claim ${key} not found`);
  }
  s.recorder.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`);
  const pv = provisionedVolume(claim, sc, node);
  try {
    await s.client.create<PersistentVolume>(PersistentVolumes, '', pv);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return;
  }
  s.log?.info('Provisioned volume', { volume: pvName, claim: key, node: nodeName, path: pv.spec.hostPath!.path });
  s.recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
}

/** provisionedVolume is the volume made for claim on node: a hostPath directory named after the volume, reachable only from that node. */
export function provisionedVolume(claim: PersistentVolumeClaim, sc: StorageClass, node: Node): PersistentVolume {
  const pvName = volumeNameFor(claim);
  const dir = node.metadata.annotations?.[LocalPathDirAnnotation] || DefaultLocalPathDir;
  const hostname = node.metadata.labels?.[hostnameLabel] ?? node.metadata.name!;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: pvName, annotations: { [VolumeAnnotation.ProvisionedBy]: LocalPathProvisioner } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '0' },
      accessModes: [...(claim.spec.accessModes ?? [])],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      ...(sc.mountOptions ? { mountOptions: [...sc.mountOptions] } : {}),
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
      hostPath: { path: join(dir, pvName), type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: hostnameLabel, operator: 'In', values: [hostname] }] }] } },
    },
  };
}

/** volumeNode is the node a local-path volume lives on (its node affinity's hostname). */
function volumeNode(s: LocalPathProvisionerSyncer, pv: PersistentVolume): string | undefined {
  const expr = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e) => e.key === hostnameLabel && e.operator === 'In');
  const hostname = expr?.values?.[0];
  if (!hostname) return undefined;
  if (s.nodes.get(hostname)) return hostname;
  return s.nodes.list().find((n) => n.metadata.labels?.[hostnameLabel] === hostname)?.metadata.name;
}

/**
 * syncVolume deletes a Released volume of this provisioner whose policy is Delete: first its
 * directory (by a helper pod on its node), then the volume. It polls the helper pod through
 * requeueAfter as well as through the pod informer.
 */
export async function syncVolume(s: LocalPathProvisionerSyncer, name: string): Promise<void | ReconcileResult> {
  const pv = s.volumes.get(name);
  if (!pv || pv.metadata.deletionTimestamp) return;
  if (pv.metadata.annotations?.[VolumeAnnotation.ProvisionedBy] !== LocalPathProvisioner) return;
  if (pv.status?.phase !== VolumePhase.Released || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
  const path = pv.spec.hostPath?.path ?? pv.spec.local?.path;
  const nodeName = volumeNode(s, pv);
  const podName = helperPodName(name);
  // Only a directory named after the volume is removed, never the path of a volume someone else wrote.
  if (path && nodeName && basename(path) === name) {
    const pod = s.pods.get(`${helperNamespace}/${podName}`);
    if (!pod) {
      try {
        await s.client.create<Pod>(Pods, helperNamespace, helperPod(name, dirname(path), nodeName, s.helperImage ?? 'busybox:1.36'));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return { requeueAfter: 2_000 };
    }
    if (pod.status?.phase === 'Failed') {
      s.recorder.event(pv, 'Warning', 'VolumeFailedDelete', `failed to delete volume ${name}: helper pod ${podName} failed`);
      await deleteIgnoringNotFound(s.client, Pods, helperNamespace, podName);
      return { requeueAfter: 10_000 };
    }
    if (pod.status?.phase !== 'Succeeded') return { requeueAfter: 2_000 };
    await deleteIgnoringNotFound(s.client, Pods, helperNamespace, podName);
  } else if (nodeName === undefined && path) {
    // The node is gone, and its directory with it.
    s.log?.info('Deleting a volume whose node is gone', { volume: name });
  }
  await deleteIgnoringNotFound(s.client, PersistentVolumes, '', name);
  s.log?.info('Deleted volume', { volume: name, path });
}

async function deleteIgnoringNotFound(client: Client, r: Parameters<Client['delete']>[0], namespace: string, name: string): Promise<void> {
  try {
    await client.delete(r, namespace, name, { gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** helperPod removes `<parent>/<pvName>` on nodeName; it tolerates every taint, as k3s' helper does. */
export function helperPod(pvName: string, parent: string, nodeName: string, image: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: helperPodName(pvName), namespace: helperNamespace, labels: { [LocalPathHelperLabel]: pvName, 'skiff.dev/sim': 'succeed' } },
    spec: {
      nodeName,
      restartPolicy: 'Never',
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'helper-pod',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['rm', '-rf', `/data/${pvName}`],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', hostPath: { path: parent, type: 'DirectoryOrCreate' } }],
    },
  } as Pod;
}
