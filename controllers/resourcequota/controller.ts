// The resource quota controller: wiring. A quota is recounted when it is added, when its
// spec.hard changes, when an object it may count is deleted or a pod finishes (replenishment),
// and every --resource-quota-sync-period. Pods, services, config maps and secrets are read from
// informers; any other resource a quota counts (claims, replication controllers, count/<r>.<g>)
// is listed through the API, its version found by discovery. Reconcile logic is in sync.ts.

import type { Pod } from '../../lib/api/core/pod.js';
import type { ResourceQuota } from '../../lib/api/core/resourcequota.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import { ConfigMaps, Pods, ResourceQuotas, Secrets, Services } from '../../lib/client/resources.js';
import type { ResourceType } from '../../lib/client/client.js';
import { equalLists } from '../../lib/quota/resources.js';
import type { ControllerStarter } from '../context.js';
import { type ObjectSource, syncResourceQuota } from './sync.js';

/** DefaultResyncMs is kube-controller-manager's --resource-quota-sync-period (5m). */
export const DefaultResyncMs = 5 * 60_000;

interface APIResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/** discoveredType finds r's preferred version and kind through discovery; undefined when it is not served. */
async function discoveredType(client: Client, group: string, resource: string): Promise<ResourceType | undefined> {
  try {
    let version = 'v1';
    if (group) {
      const g = await client.getPath<{ preferredVersion?: { version: string } }>(`/apis/${group}`);
      version = g.preferredVersion?.version ?? '';
      if (!version) return undefined;
    }
    const list = await client.getPath<APIResourceList>(group ? `/apis/${group}/${version}` : '/api/v1');
    const r = list.resources?.find((x) => x.name === resource);
    if (!r || !r.namespaced) return undefined;
    return { group, version, resource, kind: r.kind, namespaced: true };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** startResourceQuotaController starts the resource quota controller. */
export const startResourceQuotaController: ControllerStarter = (ctx) => {
  const quotas = ctx.informers.informerFor<ResourceQuota>(ResourceQuotas);
  const informed = new Map([
    ['/pods', ctx.informers.informerFor<Pod>(Pods)],
    ['/services', ctx.informers.informerFor<KubeObject>(Services)],
    ['/configmaps', ctx.informers.informerFor<KubeObject>(ConfigMaps)],
    ['/secrets', ctx.informers.informerFor<KubeObject>(Secrets)],
    ['/resourcequotas', quotas],
  ]);
  const objects: ObjectSource = async (gr, namespace) => {
    const informer = informed.get(`${gr.group}/${gr.resource}`);
    if (informer) return informer.lister().list(namespace) as KubeObject[];
    const type = await discoveredType(ctx.client, gr.group, gr.resource);
    if (!type) return undefined;
    return (await ctx.client.list<KubeObject>(type, namespace)).items;
  };
  const resyncMs = ctx.config.resourceQuotaSyncPeriodMs ?? DefaultResyncMs;
  const controller = ctx.runController({
    name: 'resourcequota',
    informers: [...new Set([quotas, ...informed.values()])],
    setup: (c) => {
      const enqueueNamespace = (obj: KubeObject) => {
        for (const q of quotas.lister().list(obj.metadata.namespace ?? '')) c.enqueue(q);
      };
      quotas.on('add', (q) => c.enqueue(q));
      quotas.on('update', (q) => {
        // Status writes are this controller's own: only a spec.hard that status does not show yet calls for a recount.
        if (!q.status?.used || !equalLists(q.spec?.hard, q.status?.hard)) c.enqueue(q);
      });
      for (const [name, informer] of informed) {
        if (name === '/resourcequotas') continue;
        informer.on('delete', (obj) => enqueueNamespace(obj as KubeObject));
      }
      // A pod that finished or began terminating frees its compute resources (the queue folds repeats).
      informed.get('/pods')!.on('update', (obj) => {
        const p = obj as Pod;
        if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || p.metadata.deletionTimestamp) enqueueNamespace(p);
      });
    },
    reconcile: (key) => syncResourceQuota({ client: ctx.client, quotas: quotas.lister(), objects, resyncMs, log: ctx.log.with({ controller: 'resourcequota' }) }, key),
  });
  return [controller];
};
