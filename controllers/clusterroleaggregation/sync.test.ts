// syncClusterRole: the exact write an aggregated ClusterRole gets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole } from '../../lib/api/rbac/types.js';
import type { Client } from '../../lib/client/client.js';
import type { Lister } from '../../lib/controller/lister.js';
import { matches, type LabelSelectorExpr } from '../../lib/machinery/labels.js';
import { syncClusterRole } from './sync.js';

const role = (name: string, labels: Record<string, string>, rules: ClusterRole['rules'], agg?: string): ClusterRole => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules,
  ...(agg ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [agg]: 'true' } }] } } : {}),
});

function fakeLister(roles: ClusterRole[]): Lister<ClusterRole> {
  return {
    get: (key: string) => roles.find((r) => r.metadata.name === key),
    list: (_ns?: string, sel?: LabelSelectorExpr) => roles.filter((r) => !sel || matches(sel, r.metadata.labels)),
  } as unknown as Lister<ClusterRole>;
}

test('an aggregated role gets the picked roles\' rules in name order, each once, and nothing when unchanged', async () => {
  const pods = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
  const cms = { verbs: ['list'], apiGroups: [''], resources: ['configmaps'] };
  const roles = [
    role('view', {}, [], 'agg'),
    role('z-extra', { agg: 'true' }, [cms, pods]),
    role('a-base', { agg: 'true' }, [pods]),
    role('unlabelled', {}, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
  ];
  const writes: ClusterRole[] = [];
  const client = { update: async (_r: unknown, obj: ClusterRole) => (writes.push(obj), obj) } as unknown as Client;
  await syncClusterRole({ client, clusterRoles: fakeLister(roles) }, 'view');
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0]!.rules, [pods, cms]);
  assert.deepEqual(roles[0]!.rules, [], 'the cached object is not modified');
  roles[0] = { ...roles[0]!, rules: [pods, cms] };
  await syncClusterRole({ client, clusterRoles: fakeLister(roles) }, 'view');
  assert.equal(writes.length, 1, 'no write when the rules already match');
  await syncClusterRole({ client, clusterRoles: fakeLister(roles) }, 'a-base');
  assert.equal(writes.length, 1, 'a role without aggregationRule is left alone');
});
