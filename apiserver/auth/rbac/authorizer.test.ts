// Unit tests of the RBAC authorizer, the rule arithmetic and escalation against tables of rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, PolicyRule, Role, RoleBinding } from '../../../lib/api/rbac/types.js';
import type { Attributes } from '../authz.js';
import { UnionAuthorizer, NoOpinionAuthorizer } from '../authz.js';
import { RBACAuthorizer } from './authorizer.js';
import { confirmNoEscalation, EscalationError } from './escalation.js';
import { RuleResolver } from './resolver.js';
import { compactString, covers, ruleAllows } from './rules.js';
import { reconcileBinding, reconcileClusterRole } from './reconcile.js';

const g = 'rbac.authorization.k8s.io';
const role = (ns: string, name: string, rules: PolicyRule[]): Role => ({ apiVersion: `${g}/v1`, kind: 'Role', metadata: { name, namespace: ns }, rules });
const clusterRole = (name: string, rules: PolicyRule[]): ClusterRole => ({ apiVersion: `${g}/v1`, kind: 'ClusterRole', metadata: { name }, rules });
const binding = (ns: string | undefined, name: string, kind: 'Role' | 'ClusterRole', roleName: string, subjects: RoleBinding['subjects']): RoleBinding => ({
  apiVersion: `${g}/v1`,
  kind: ns ? 'RoleBinding' : 'ClusterRoleBinding',
  metadata: ns ? { name, namespace: ns } : { name },
  roleRef: { apiGroup: g, kind, name: roleName },
  subjects,
});
const user = (name: string, ...groups: string[]): Attributes['user'] => ({ name, groups: [...groups, 'system:authenticated'], via: 'x509' });
const res = (u: Attributes['user'], verb: string, resource: string, ns?: string, extra: Partial<Attributes> = {}): Attributes => ({ user: u, verb, group: '', resource, namespace: ns, resourceRequest: true, ...extra });
const url = (u: Attributes['user'], verb: string, path: string): Attributes => ({ user: u, verb, path, resourceRequest: false });

test('ruleAllows: verbs, groups, resources, subresources, names, wildcards and URLs', () => {
  const u = user('u');
  const table: [PolicyRule, Attributes, boolean][] = [
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res(u, 'get', 'pods', 'a'), true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res(u, 'list', 'pods', 'a'), false],
    [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }, res(u, 'delete', 'pods', 'a'), true],
    [{ verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, res(u, 'get', 'pods', 'a'), false],
    [{ verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] }, res(u, 'get', 'deployments', 'a', { group: 'apps' }), true],
    // a subresource needs its own rule
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, res(u, 'get', 'pods', 'a', { subresource: 'log' }), false],
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, res(u, 'get', 'pods', 'a', { subresource: 'log' }), true],
    [{ verbs: ['update'], apiGroups: ['*'], resources: ['*/scale'] }, res(u, 'update', 'deployments', 'a', { group: 'apps', subresource: 'scale' }), true],
    [{ verbs: ['update'], apiGroups: ['*'], resources: ['*/scale'] }, res(u, 'update', 'deployments', 'a', { group: 'apps' }), false],
    [{ verbs: ['get'], apiGroups: [''], resources: ['*'] }, res(u, 'get', 'pods', 'a', { subresource: 'status' }), true],
    // resourceNames: only named objects; a list has no name
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }, res(u, 'get', 'configmaps', 'a', { name: 'x' }), true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }, res(u, 'get', 'configmaps', 'a', { name: 'y' }), false],
    [{ verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }, res(u, 'list', 'configmaps', 'a'), false],
    // non-resource URLs: exact, prefix*, *
    [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }, url(u, 'get', '/healthz'), true],
    [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }, url(u, 'get', '/healthz/etcd'), false],
    [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url(u, 'get', '/apis/apps/v1'), true],
    [{ verbs: ['get'], nonResourceURLs: ['*'] }, url(u, 'get', '/anything'), true],
    [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }, url(u, 'post', '/metrics'), false],
    // a resource rule never allows a URL and the other way round
    [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, url(u, 'get', '/metrics'), false],
    [{ verbs: ['*'], nonResourceURLs: ['*'] }, res(u, 'get', 'pods', 'a'), false],
  ];
  for (const [rule, attrs, want] of table) assert.equal(ruleAllows(attrs, rule), want, `${JSON.stringify(rule)} ${attrs.verb} ${attrs.resource ?? attrs.path}/${attrs.subresource ?? ''} ${attrs.name ?? ''}`);
});

function fixture(): RuleResolver {
  const r = new RuleResolver();
  r.observe('roles', 'ADDED', role('team', 'pod-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]));
  r.observe('clusterroles', 'ADDED', clusterRole('secret-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]));
  r.observe('clusterroles', 'ADDED', clusterRole('node-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]));
  r.observe('rolebindings', 'ADDED', binding('team', 'jane-pods', 'Role', 'pod-reader', [{ kind: 'User', apiGroup: g, name: 'jane' }]));
  // a RoleBinding to a ClusterRole grants it in its namespace only
  r.observe('rolebindings', 'ADDED', binding('team', 'devs-secrets', 'ClusterRole', 'secret-reader', [{ kind: 'Group', apiGroup: g, name: 'devs' }]));
  r.observe('rolebindings', 'ADDED', binding('team', 'sa-secrets', 'ClusterRole', 'secret-reader', [{ kind: 'ServiceAccount', name: 'builder' }]));
  r.observe('clusterrolebindings', 'ADDED', binding(undefined, 'ops-nodes', 'ClusterRole', 'node-reader', [{ kind: 'Group', apiGroup: g, name: 'ops' }]));
  r.observe('clusterrolebindings', 'ADDED', binding(undefined, 'dangling', 'ClusterRole', 'missing', [{ kind: 'User', apiGroup: g, name: 'jane' }]));
  return r;
}

test('RBACAuthorizer allows through bindings and has no opinion otherwise', () => {
  const a = new RBACAuthorizer(fixture());
  const jane = user('jane');
  const bob = user('bob', 'devs');
  const sa = user('system:serviceaccount:team:builder', 'system:serviceaccounts');
  const ops = user('olga', 'ops');
  const table: [Attributes, boolean][] = [
    [res(jane, 'list', 'pods', 'team'), true],
    [res(jane, 'list', 'pods', 'other'), false],
    [res(jane, 'list', 'pods'), false],
    [res(jane, 'delete', 'pods', 'team'), false],
    [res(bob, 'get', 'secrets', 'team'), true],
    [res(bob, 'get', 'secrets', 'other'), false],
    [res(bob, 'list', 'pods', 'team'), false],
    [res(sa, 'get', 'secrets', 'team'), true],
    [res(user('system:serviceaccount:other:builder'), 'get', 'secrets', 'team'), false],
    [res(ops, 'get', 'nodes'), true],
    [res(ops, 'get', 'nodes', 'any-namespace'), true],
    [url(ops, 'get', '/metrics'), true],
    [url(jane, 'get', '/metrics'), false],
  ];
  for (const [attrs, want] of table) assert.equal(a.authorize(attrs).allowed, want, `${attrs.user.name} ${attrs.verb} ${attrs.resource ?? attrs.path} in ${attrs.namespace}`);
  assert.equal(a.authorize(res(bob, 'get', 'secrets', 'team')).reason, 'RBAC: allowed by RoleBinding "devs-secrets/team" of ClusterRole "secret-reader" to Group "devs"');
  // the missing role of a binding is reported, not fatal
  assert.equal(a.authorize(res(jane, 'get', 'nodes')).reason, 'RBAC: clusterroles.rbac.authorization.k8s.io "missing" not found');
});

test('the rule cache forgets a deleted binding at once', () => {
  const r = fixture();
  const a = new RBACAuthorizer(r);
  assert.equal(a.authorize(res(user('jane'), 'get', 'pods', 'team')).allowed, true);
  r.observe('rolebindings', 'DELETED', binding('team', 'jane-pods', 'Role', 'pod-reader', []));
  assert.equal(a.authorize(res(user('jane'), 'get', 'pods', 'team')).allowed, false);
  assert.equal(r.rulesFor(user('jane'), 'team').rules.length, 0);
});

test('the union lets system:masters through first and denies when no one has an opinion', () => {
  const u = new UnionAuthorizer([new NoOpinionAuthorizer(), new RBACAuthorizer(fixture())]);
  assert.equal(u.authorize(res(user('root', 'system:masters'), 'delete', 'nodes')).allowed, true);
  assert.equal(u.authorize(res(user('jane'), 'get', 'pods', 'team')).allowed, true);
  assert.equal(u.authorize(res(user('nobody'), 'get', 'pods', 'team')).allowed, false);
});

test('covers and escalation: what a user holds bounds what it may grant', () => {
  const owner: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    { verbs: ['get'], nonResourceURLs: ['/logs/*'] },
  ];
  const table: [PolicyRule, boolean][] = [
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, true],
    [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }, false],
    [{ verbs: ['get'], apiGroups: [''], resources: ['deployments/status'] }, true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, false],
    [{ verbs: ['get'], nonResourceURLs: ['/logs/kube'] }, true],
    [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }, false],
  ];
  for (const [rule, want] of table) assert.equal(covers(owner, [rule]).covered, want, JSON.stringify(rule));

  const r = fixture();
  assert.doesNotThrow(() => confirmNoEscalation(r, user('jane'), 'team', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]));
  assert.throws(
    () => confirmNoEscalation(r, user('jane'), 'team', [{ verbs: ['get', 'delete', 'patch'], apiGroups: [''], resources: ['pods', 'secrets'] }]),
    (err: unknown) =>
      err instanceof EscalationError &&
      err.message.startsWith(
        'user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
          '{APIGroups:[""], Resources:["pods"], Verbs:["delete" "patch"]}\n' +
          '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "patch"]}',
      ),
  );
  assert.equal(compactString({ verbs: ['get'], nonResourceURLs: ['/x'] }), '{NonResourceURLs:["/x"], Verbs:["get"]}');
});

test('reconciling the bootstrap policy adds what is missing and keeps what users added', () => {
  const expected = clusterRole('system:x', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  const userAdded = clusterRole('system:x', [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }]);
  const merged = reconcileClusterRole(userAdded, expected)!;
  assert.deepEqual(merged.rules, [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  assert.equal(reconcileClusterRole(merged, expected), undefined);
  const frozen = { ...userAdded, metadata: { name: 'system:x', annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } };
  assert.equal(reconcileClusterRole(frozen, expected), undefined);
  const b = binding(undefined, 'b', 'ClusterRole', 'system:x', [{ kind: 'Group', apiGroup: g, name: 'a' }]);
  const extra = binding(undefined, 'b', 'ClusterRole', 'system:x', [{ kind: 'User', apiGroup: g, name: 'z' }]);
  assert.deepEqual(reconcileBinding(extra, b)?.binding.subjects, [{ kind: 'User', apiGroup: g, name: 'z' }, { kind: 'Group', apiGroup: g, name: 'a' }]);
  assert.equal(reconcileBinding(binding(undefined, 'b', 'ClusterRole', 'other', b.subjects), b)?.recreate, true);
});
