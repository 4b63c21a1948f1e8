// syncNamespace for ServiceAccounts (kube's pkg/controller/serviceaccount ServiceAccountsController):
// every active namespace holds the `default` ServiceAccount; one deleted is made again. A
// namespace that is terminating gets nothing new.

import { type Namespace, NamespacePhase } from '../../lib/api/core/namespace.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import { type Client, isAlreadyExists } from '../../lib/client/client.js';
import { ServiceAccounts } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { isNamespaceTerminatingError } from '../common/errors.js';

/** DefaultServiceAccounts are the ServiceAccounts every namespace gets (--service-account-name defaults). */
export const DefaultServiceAccounts: readonly string[] = ['default'];

/** ServiceAccountsSyncer holds what syncNamespace reads and writes. */
export interface ServiceAccountsSyncer {
  client: Client;
  namespaces: Lister<Namespace>;
  serviceAccounts: Lister<ServiceAccount>;
  log?: Logger;
  names?: readonly string[];
}

/** syncNamespace creates the missing default ServiceAccounts of the namespace named key. */
export async function syncNamespace(s: ServiceAccountsSyncer, key: string): Promise<void> {
  const ns = s.namespaces.get(key);
  if (!ns) return;
  // Only an Active namespace takes new objects (a missing phase is Active: the apiserver defaults it).
  if ((ns.status?.phase ?? NamespacePhase.Active) !== NamespacePhase.Active || ns.metadata.deletionTimestamp) return;
  for (const name of s.names ?? DefaultServiceAccounts) {
    if (s.serviceAccounts.get(`${key}/${name}`)) continue;
    try {
      await s.client.create<ServiceAccount>(ServiceAccounts, key, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: key } });
      s.log?.v(2).info('Created ServiceAccount', { namespace: key, name });
    } catch (err) {
      // Already there (the cache lags), or the namespace started terminating: nothing to do.
      if (isAlreadyExists(err) || isNamespaceTerminatingError(err)) continue;
      throw err;
    }
  }
}
