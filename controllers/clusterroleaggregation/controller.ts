// The clusterrole-aggregation controller: wiring. Any ClusterRole change may change what an
// aggregated role picks, so every change enqueues every ClusterRole that has an aggregationRule
// (kube's enqueueAll). Reconcile logic is in sync.ts.

import type { ClusterRole } from '../../lib/api/rbac/types.js';
import type { ControllerStarter } from '../context.js';
import { type AggregationSyncer, ClusterRoles, syncClusterRole } from './sync.js';

/** startClusterRoleAggregationController starts the clusterrole-aggregation controller. */
export const startClusterRoleAggregationController: ControllerStarter = (ctx) => {
  const informer = ctx.informers.informerFor<ClusterRole>(ClusterRoles);
  const syncer: AggregationSyncer = { client: ctx.client, clusterRoles: informer.lister(), log: ctx.log.with({ controller: 'clusterrole-aggregation' }) };
  const controller = ctx.runController({
    name: 'clusterrole-aggregation',
    informers: [informer],
    setup: (c) => {
      const enqueueAll = () => {
        for (const r of syncer.clusterRoles.list()) if (r.aggregationRule) c.enqueue(r);
      };
      informer.on('add', enqueueAll);
      informer.on('update', enqueueAll);
      informer.on('delete', enqueueAll);
    },
    reconcile: (key) => syncClusterRole(syncer, key),
  });
  return [controller];
};
