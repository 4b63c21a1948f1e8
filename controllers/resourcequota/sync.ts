// syncResourceQuota (kube's pkg/controller/resourcequota ResourceQuotaController): a quota's
// status.hard is its spec.hard, and status.used is recounted from the objects of its namespace
// (those its scopes select) for every resource it limits. The recount corrects whatever
// admission charged for a create that then failed, and what deletes and finished pods freed.

import type { ResourceQuota } from '../../lib/api/core/resourcequota.js';
import type { KubeObject } from '../../lib/api/meta.js';
import type { Client } from '../../lib/client/client.js';
import { ResourceQuotas } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { type GroupResource, calculateUsage, evaluatorsForQuota } from '../../lib/quota/evaluators.js';
import { type Amounts, equalLists, fromList, mask, toList } from '../../lib/quota/resources.js';

/** ObjectSource lists a namespace's objects of one resource; undefined when the resource is not served. */
export type ObjectSource = (gr: GroupResource, namespace: string) => Promise<readonly KubeObject[] | undefined>;

/** QuotaSyncer holds what syncResourceQuota reads and writes. */
export interface QuotaSyncer {
  client: Client;
  quotas: Lister<ResourceQuota>;
  objects: ObjectSource;
  /** resyncMs is the full recount period (--resource-quota-sync-period); 0 for none. */
  resyncMs: number;
  now?: () => Date;
  log?: Logger;
}

/** quotaUsage recomputes status.used for q: the old values, overwritten by every resource counted now, kept to spec.hard's names. */
export async function quotaUsage(q: ResourceQuota, objects: ObjectSource, now: Date): Promise<Amounts> {
  const hardNames = Object.keys(q.spec?.hard ?? {}).sort();
  const used: Amounts = fromList(q.status?.used);
  const ns = q.metadata.namespace ?? '';
  for (const e of evaluatorsForQuota(hardNames)) {
    const items = await objects(e.gr, ns);
    if (!items) continue;
    for (const [k, v] of calculateUsage(q, hardNames, e, items, now)) used.set(k, v);
  }
  return mask(used, hardNames);
}

/** syncResourceQuota brings one quota's status up to date; it writes only when status changes. */
export async function syncResourceQuota(s: QuotaSyncer, key: string): Promise<ReconcileResult | void> {
  const cached = s.quotas.get(key);
  if (!cached) return;
  const used = await quotaUsage(cached, s.objects, s.now?.() ?? new Date());
  const hard = toList(fromList(cached.spec?.hard));
  const next = { hard, used: toList(used) };
  const dirty = !cached.status?.hard || !cached.status?.used || !equalLists(cached.status.hard, next.hard) || !equalLists(cached.status.used, next.used);
  if (dirty) {
    // Never modify the cached object: the write carries a copy with the cached resourceVersion.
    await s.client.update<ResourceQuota>(ResourceQuotas, { ...cached, status: next }, { subresource: 'status' });
    s.log?.v(2).info('Updated quota usage', { namespace: cached.metadata.namespace, name: cached.metadata.name });
  }
  return s.resyncMs > 0 ? { requeueAfter: s.resyncMs } : undefined;
}
