// The serviceaccount controller: wiring. Namespace adds and updates enqueue the namespace; the
// deletion of a ServiceAccount enqueues its namespace so a deleted `default` comes back.
// Reconcile logic is in sync.ts.

import type { Namespace } from '../../lib/api/core/namespace.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import { Namespaces, ServiceAccounts } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { type ServiceAccountsSyncer, syncNamespace } from './sync.js';

/** startServiceAccountController starts the serviceaccount controller. */
export const startServiceAccountController: ControllerStarter = (ctx) => {
  const nsInformer = ctx.informers.informerFor<Namespace>(Namespaces);
  const saInformer = ctx.informers.informerFor<ServiceAccount>(ServiceAccounts);
  const syncer: ServiceAccountsSyncer = {
    client: ctx.client,
    namespaces: nsInformer.lister(),
    serviceAccounts: saInformer.lister(),
    log: ctx.log.with({ controller: 'serviceaccount' }),
  };
  const controller = ctx.runController({
    name: 'serviceaccount',
    informers: [nsInformer, saInformer],
    setup: (c) => {
      nsInformer.on('add', (ns) => c.enqueue(ns));
      nsInformer.on('update', (ns) => c.enqueue(ns));
      saInformer.on('delete', (sa) => {
        if (sa.metadata.namespace) c.enqueueKey(sa.metadata.namespace);
      });
    },
    reconcile: (key) => syncNamespace(syncer, key),
  });
  return [controller];
};
