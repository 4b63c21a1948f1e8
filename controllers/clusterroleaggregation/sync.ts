// syncClusterRole (kube's pkg/controller/clusterroleaggregation): a ClusterRole with an
// aggregationRule holds exactly the rules of the ClusterRoles its selectors pick, in name order,
// each rule once. Its own rules are replaced; a role without an aggregationRule is left alone.

import type { ClusterRole, PolicyRule } from '../../lib/api/rbac/types.js';
import type { Client } from '../../lib/client/client.js';
import { isNotFound } from '../../lib/client/client.js';
import type { ResourceType } from '../../lib/client/client.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { labelSelectorAsSelector } from '../../lib/machinery/labels.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

/** ClusterRoles is the REST name of rbac.authorization.k8s.io/v1 clusterroles. */
export const ClusterRoles: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false };

/** AggregationSyncer holds what syncClusterRole reads and writes. */
export interface AggregationSyncer {
  client: Client;
  clusterRoles: Lister<ClusterRole>;
  log?: Logger;
}

const sameRule = (a: PolicyRule, b: PolicyRule) => stringifyJSON(a) === stringifyJSON(b);

/** aggregatedRules computes the rules an aggregated role should hold (pure). */
export function aggregatedRules(role: ClusterRole, lister: Pick<Lister<ClusterRole>, 'list'>): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const s of role.aggregationRule?.clusterRoleSelectors ?? []) {
    const picked = lister.list(undefined, labelSelectorAsSelector(s)).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
    for (const r of picked) {
      if (r.metadata.name === role.metadata.name) continue;
      for (const rule of r.rules ?? []) if (!out.some((x) => sameRule(x, rule))) out.push(rule);
    }
  }
  return out;
}

/** syncClusterRole writes the aggregated rules of the ClusterRole named key when they differ. */
export async function syncClusterRole(s: AggregationSyncer, key: string): Promise<void> {
  const role = s.clusterRoles.get(key);
  if (!role?.aggregationRule) return;
  const rules = aggregatedRules(role, s.clusterRoles);
  if (stringifyJSON(rules) === stringifyJSON(role.rules ?? [])) return;
  // Never modify the cached object: write a copy.
  const next: ClusterRole = { ...structuredClone(role), rules };
  try {
    await s.client.update<ClusterRole>(ClusterRoles, next, { fieldManager: 'clusterrole-aggregation-controller' });
    s.log?.v(2).info('Aggregated ClusterRole rules', { name: key, rules: rules.length });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
}
