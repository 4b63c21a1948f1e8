// The root CA publisher: wiring. Namespace adds and updates enqueue the namespace; a change to
// or the deletion of a kube-root-ca.crt ConfigMap enqueues its namespace. Reconcile logic is in
// sync.ts. The CA comes from the controller manager's own kubeconfig, as kube-controller-manager
// does without --root-ca-file.

import { readFileSync } from 'node:fs';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Namespace } from '../../lib/api/core/namespace.js';
import { ConfigMaps, Namespaces } from '../../lib/client/resources.js';
import type { ControllerContext, ControllerStarter } from '../context.js';
import { rootCACertConfigMapName, syncNamespace, type PublisherSyncer } from './sync.js';

/** rootCAOf reads the CA bundle of the context's kubeconfig. */
export function rootCAOf(ctx: ControllerContext): string {
  const cluster = ctx.kubeConfig.getCurrentCluster();
  if (cluster?.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster?.caFile) return readFileSync(cluster.caFile, 'utf8');
  throw new Error('root-ca-cert-publisher: the kubeconfig has no certificate authority to publish');
}

/** startRootCACertPublisher starts the root CA publisher. */
export const startRootCACertPublisher: ControllerStarter = (ctx) => {
  const nsInformer = ctx.informers.informerFor<Namespace>(Namespaces);
  const cmInformer = ctx.informers.informerFor<ConfigMap>(ConfigMaps);
  const syncer: PublisherSyncer = {
    client: ctx.client,
    namespaces: nsInformer.lister(),
    configMaps: cmInformer.lister(),
    rootCA: rootCAOf(ctx),
    log: ctx.log.with({ controller: 'root-ca-cert-publisher' }),
  };
  const controller = ctx.runController({
    name: 'root-ca-cert-publisher',
    informers: [nsInformer, cmInformer],
    setup: (c) => {
      nsInformer.on('add', (ns) => c.enqueue(ns));
      nsInformer.on('update', (ns) => c.enqueue(ns));
      const onConfigMap = (cm: ConfigMap) => {
        if (cm.metadata.name === rootCACertConfigMapName && cm.metadata.namespace) c.enqueueKey(cm.metadata.namespace);
      };
      cmInformer.on('update', onConfigMap);
      cmInformer.on('delete', onConfigMap);
    },
    reconcile: (key) => syncNamespace(syncer, key),
  });
  return [controller];
};
