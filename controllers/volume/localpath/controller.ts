// The local-path provisioner: wiring. Claims enqueue `claim/<ns>/<name>`, its volumes
// `volume/<name>`, its helper pods their volume. At start it creates the default StorageClass
// `local-path` when it is missing (as k3s ships it), retrying until the apiserver takes it.
// Sync logic is in sync.ts.

import type { Node } from '../../../lib/api/core/node.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../lib/api/core/persistentvolume.js';
import type { Pod } from '../../../lib/api/core/pod.js';
import { LocalPathHelperLabel, localPathStorageClass } from '../../../lib/api/storage/localpath.js';
import type { StorageClass } from '../../../lib/api/storage/storageclass.js';
import { isAlreadyExists } from '../../../lib/client/client.js';
import { Nodes, PersistentVolumeClaims, PersistentVolumes, Pods, StorageClasses } from '../../../lib/client/resources.js';
import type { ControllerStarter } from '../../context.js';
import { type LocalPathProvisionerSyncer, syncClaim, syncVolume } from './sync.js';

const claimPrefix = 'claim/';
const volumePrefix = 'volume/';

/** startLocalPathProvisioner starts the local-path provisioner and makes sure the default class exists. */
export const startLocalPathProvisioner: ControllerStarter = (ctx) => {
  const claimInformer = ctx.informers.informerFor<PersistentVolumeClaim>(PersistentVolumeClaims);
  const volumeInformer = ctx.informers.informerFor<PersistentVolume>(PersistentVolumes);
  const classInformer = ctx.informers.informerFor<StorageClass>(StorageClasses);
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const log = ctx.log.with({ controller: 'local-path-provisioner' });
  const syncer: LocalPathProvisionerSyncer = {
    client: ctx.client,
    recorder: ctx.recorder('skiff.dev/local-path'),
    claims: claimInformer.lister(),
    volumes: volumeInformer.lister(),
    classes: classInformer.lister(),
    nodes: nodeInformer.lister(),
    pods: podInformer.lister(),
    log,
  };
  const controller = ctx.runController({
    name: 'local-path-provisioner',
    informers: [claimInformer, volumeInformer, classInformer, nodeInformer, podInformer],
    setup: (c) => {
      const onClaim = (pvc: PersistentVolumeClaim) => c.enqueueKey(`${claimPrefix}${pvc.metadata.namespace}/${pvc.metadata.name}`);
      const onVolume = (pv: PersistentVolume) => c.enqueueKey(`${volumePrefix}${pv.metadata.name}`);
      const onPod = (pod: Pod) => {
        const pv = pod.metadata.labels?.[LocalPathHelperLabel];
        if (pv) c.enqueueKey(`${volumePrefix}${pv}`);
      };
      claimInformer.on('add', onClaim);
      claimInformer.on('update', onClaim);
      volumeInformer.on('add', onVolume);
      volumeInformer.on('update', onVolume);
      podInformer.on('add', onPod);
      podInformer.on('update', onPod);
    },
    reconcile: (key) => (key.startsWith(claimPrefix) ? syncClaim(syncer, key.slice(claimPrefix.length)) : syncVolume(syncer, key.slice(volumePrefix.length))),
  });
  void (async () => {
    for (let delay = 500; !ctx.signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        await ctx.client.create<StorageClass>(StorageClasses, '', localPathStorageClass());
        log.info('Created the default StorageClass', { name: localPathStorageClass().metadata.name });
        return;
      } catch (err) {
        if (isAlreadyExists(err)) return;
        log.warn('Could not create the default StorageClass', { err: (err as Error).message, retryMs: delay });
      }
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  })();
  return [controller];
};
