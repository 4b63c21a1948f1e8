// The persistentvolume-binder controller: wiring. Claims enqueue `claim/<ns>/<name>`, volumes
// `volume/<name>`; a volume's change also enqueues the claim it names, and a claim's change the
// volume it names, so each side of a binding sees the other's writes. Sync logic is in sync.ts.

import type { Node } from '../../../lib/api/core/node.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../lib/api/core/persistentvolume.js';
import type { StorageClass } from '../../../lib/api/storage/storageclass.js';
import { Nodes, PersistentVolumeClaims, PersistentVolumes, StorageClasses } from '../../../lib/client/resources.js';
import type { ControllerStarter } from '../../context.js';
import { type VolumeBinder, claimKeyPrefix, syncKey, volumeKeyPrefix } from './sync.js';

/** resyncMs is how often every claim and volume is synced again (kube's --pvclaimbinder-sync-period, 15 s). */
const resyncMs = 15_000;

/** startPersistentVolumeBinderController starts the persistentvolume-binder controller. */
export const startPersistentVolumeBinderController: ControllerStarter = (ctx) => {
  const claimInformer = ctx.informers.informerFor<PersistentVolumeClaim>(PersistentVolumeClaims);
  const volumeInformer = ctx.informers.informerFor<PersistentVolume>(PersistentVolumes);
  const classInformer = ctx.informers.informerFor<StorageClass>(StorageClasses);
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  let enqueueKey: (key: string) => void = () => {};
  const binder: VolumeBinder = {
    client: ctx.client,
    recorder: ctx.recorder('persistentvolume-controller'),
    claims: claimInformer.lister(),
    volumes: volumeInformer.lister(),
    classes: classInformer.lister(),
    nodes: nodeInformer.lister(),
    log: ctx.log.with({ controller: 'persistentvolume-binder' }),
    enqueueClaim: (namespace, name) => enqueueKey(`${claimKeyPrefix}${namespace}/${name}`),
  };
  const controller = ctx.runController({
    name: 'persistentvolume-binder',
    informers: [claimInformer, volumeInformer, classInformer, nodeInformer],
    setup: (c) => {
      enqueueKey = (key) => c.enqueueKey(key);
      const onClaim = (pvc: PersistentVolumeClaim) => {
        c.enqueueKey(`${claimKeyPrefix}${pvc.metadata.namespace}/${pvc.metadata.name}`);
        if (pvc.spec?.volumeName) c.enqueueKey(`${volumeKeyPrefix}${pvc.spec.volumeName}`);
      };
      const onVolume = (pv: PersistentVolume) => {
        c.enqueueKey(`${volumeKeyPrefix}${pv.metadata.name}`);
        const ref = pv.spec?.claimRef;
        if (ref?.namespace && ref.name) c.enqueueKey(`${claimKeyPrefix}${ref.namespace}/${ref.name}`);
      };
      claimInformer.on('add', onClaim);
      claimInformer.on('update', onClaim);
      claimInformer.on('delete', onClaim);
      volumeInformer.on('add', onVolume);
      volumeInformer.on('update', onVolume);
      volumeInformer.on('delete', onVolume);
      // A new class may let waiting claims provision.
      classInformer.on('add', () => {
        for (const pvc of binder.claims.list()) if (!pvc.spec?.volumeName) onClaim(pvc);
      });
      const resync = setInterval(() => {
        for (const pvc of binder.claims.list()) onClaim(pvc);
        for (const pv of binder.volumes.list()) onVolume(pv);
      }, resyncMs);
      resync.unref();
      ctx.signal.addEventListener('abort', () => clearInterval(resync), { once: true });
    },
    reconcile: (key) => syncKey(binder, key),
  });
  return [controller];
};
