// Unit tests of the controller roles: every controller the controller manager runs as its own
// account has a role and a binding, and the roles allow what kube 1.32's allow and no more.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerAccounts, controllerNames } from '../../../controllers/app.js';
import type { Attributes } from '../authz.js';
import { RBACAuthorizer } from './authorizer.js';
import { controllerNamespacedRoleRules, controllerRoleBindings, controllerRoles, controllerRolePrefix } from './controllerpolicy.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './policy.js';
import { RuleResolver } from './resolver.js';

function bootstrapAuthorizer(): RBACAuthorizer {
  const r = new RuleResolver();
  for (const role of bootstrapClusterRoles()) r.observe('clusterroles', 'ADDED', role);
  for (const b of bootstrapClusterRoleBindings()) r.observe('clusterrolebindings', 'ADDED', b);
  for (const role of controllerRoles()) r.observe('roles', 'ADDED', role);
  for (const b of controllerRoleBindings()) r.observe('rolebindings', 'ADDED', b);
  return new RBACAuthorizer(r);
}

const account = (name: string): Attributes['user'] => ({
  name: `system:serviceaccount:kube-system:${name}`,
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
  via: 'token',
});

const ask = (who: string, verb: string, group: string, resource: string, opts: { ns?: string; sub?: string; name?: string } = {}): Attributes => ({
  user: account(who),
  verb,
  group,
  resource,
  subresource: opts.sub,
  namespace: opts.ns,
  name: opts.name,
  resourceRequest: true,
});

test('every controller with an account has its role and a binding to kube-system/<account>', () => {
  // The serviceaccount-token controller writes every account's token Secrets: it keeps the
  // controller manager's own identity, as kube's tokens controller does.
  const own = controllerNames.filter((n) => !controllerAccounts[n]);
  assert.deepEqual(own, ['serviceaccount-token']);
  const roles = new Map([...bootstrapClusterRoles(), ...controllerRoles()].map((r) => [`${r.metadata.namespace ?? ''}/${r.metadata.name}`, r]));
  const bindings = [...bootstrapClusterRoleBindings(), ...controllerRoleBindings()];
  for (const name of controllerNames) {
    const sa = controllerAccounts[name];
    if (!sa) continue;
    const namespaces = Object.keys(controllerNamespacedRoleRules).filter((ns) => controllerNamespacedRoleRules[ns]![sa]);
    const where = namespaces.length ? namespaces : [''];
    for (const ns of where) {
      assert.ok(roles.has(`${ns}/${controllerRolePrefix}${sa}`), `${name}: role ${controllerRolePrefix}${sa} in "${ns}"`);
      const bound = bindings.filter((b) => (b.metadata.namespace ?? '') === ns && b.roleRef.name === `${controllerRolePrefix}${sa}`);
      assert.equal(bound.length, 1, `${name}: one binding of ${controllerRolePrefix}${sa} in "${ns}"`);
      assert.deepEqual(bound[0]!.subjects, [{ kind: 'ServiceAccount', name: sa, namespace: 'kube-system' }]);
    }
  }
});

test('the controller roles allow what kube 1.32 gives each controller, and nothing of the others', () => {
  const a = bootstrapAuthorizer();
  const table: [Attributes, boolean][] = [
    // deployment-controller: its ReplicaSets, never pods' creation
    [ask('deployment-controller', 'create', 'apps', 'replicasets', { ns: 'default' }), true],
    [ask('deployment-controller', 'update', 'apps', 'deployments', { ns: 'default', sub: 'status' }), true],
    [ask('deployment-controller', 'create', '', 'pods', { ns: 'default' }), false],
    [ask('deployment-controller', 'delete', 'apps', 'deployments', { ns: 'default' }), false],
    // replicaset-controller: pods, and not the Deployments above it
    [ask('replicaset-controller', 'create', '', 'pods', { ns: 'default' }), true],
    [ask('replicaset-controller', 'delete', '', 'pods', { ns: 'default' }), true],
    [ask('replicaset-controller', 'update', 'apps', 'deployments', { ns: 'default' }), false],
    [ask('replicaset-controller', 'get', '', 'secrets', { ns: 'default' }), false],
    // job-controller patches pods' tracking finalizers; cronjob-controller makes Jobs
    [ask('job-controller', 'patch', '', 'pods', { ns: 'default' }), true],
    [ask('cronjob-controller', 'create', 'batch', 'jobs', { ns: 'default' }), true],
    [ask('job-controller', 'create', 'batch', 'jobs', { ns: 'default' }), false],
    // namespace-controller empties a namespace of any kind but creates nothing
    [ask('namespace-controller', 'deletecollection', 'apps', 'deployments', { ns: 'gone' }), true],
    [ask('namespace-controller', 'update', '', 'namespaces', { name: 'gone', sub: 'finalize' }), true],
    [ask('namespace-controller', 'create', '', 'pods', { ns: 'gone' }), false],
    // generic-garbage-collector: any kind, but no deletecollection
    [ask('generic-garbage-collector', 'delete', 'example.com', 'widgets', { ns: 'default' }), true],
    [ask('generic-garbage-collector', 'deletecollection', '', 'pods', { ns: 'default' }), false],
    // disruption-controller reads any scale; horizontal-pod-autoscaler also writes it
    [ask('disruption-controller', 'get', 'apps', 'deployments', { ns: 'default', sub: 'scale' }), true],
    [ask('disruption-controller', 'update', 'apps', 'deployments', { ns: 'default', sub: 'scale' }), false],
    [ask('horizontal-pod-autoscaler', 'update', 'apps', 'deployments', { ns: 'default', sub: 'scale' }), true],
    [ask('horizontal-pod-autoscaler', 'list', 'metrics.k8s.io', 'pods', { ns: 'default' }), true],
    // certificate-controller signs for the kubernetes.io signers only
    [ask('certificate-controller', 'sign', 'certificates.k8s.io', 'signers', { name: 'kubernetes.io/kube-apiserver-client' }), true],
    [ask('certificate-controller', 'sign', 'certificates.k8s.io', 'signers', { name: 'example.com/mine' }), false],
    [ask('clusterrole-aggregation-controller', 'escalate', 'rbac.authorization.k8s.io', 'clusterroles', { name: 'admin' }), true],
    [ask('service-account-controller', 'create', '', 'serviceaccounts', { ns: 'default' }), true],
    [ask('service-account-controller', 'delete', '', 'serviceaccounts', { ns: 'default' }), false],
    [ask('root-ca-cert-publisher', 'update', '', 'configmaps', { ns: 'default', name: 'kube-root-ca.crt' }), true],
    [ask('pod-garbage-collector', 'patch', '', 'pods', { ns: 'default', sub: 'status' }), true],
    [ask('pod-garbage-collector', 'create', '', 'pods', { ns: 'default' }), false],
    [ask('node-controller', 'update', '', 'nodes', { name: 'n1', sub: 'status' }), true],
    [ask('persistent-volume-binder', 'create', '', 'persistentvolumes', { name: 'pv1' }), true],
    // the namespaced roles: bootstrap-signer signs only kube-public's cluster-info, token-cleaner deletes kube-system's tokens
    [ask('bootstrap-signer', 'update', '', 'configmaps', { ns: 'kube-public', name: 'cluster-info' }), true],
    [ask('bootstrap-signer', 'update', '', 'configmaps', { ns: 'kube-public', name: 'other' }), false],
    [ask('bootstrap-signer', 'list', '', 'secrets', { ns: 'kube-system' }), true],
    [ask('bootstrap-signer', 'list', '', 'secrets', { ns: 'default' }), false],
    [ask('token-cleaner', 'delete', '', 'secrets', { ns: 'kube-system', name: 'bootstrap-token-abcdef' }), true],
    [ask('token-cleaner', 'delete', '', 'secrets', { ns: 'default', name: 'x' }), false],
  ];
  for (const [attrs, want] of table) {
    assert.equal(a.authorize(attrs).allowed, want, `${attrs.user.name} ${attrs.verb} ${attrs.group}/${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''} ${attrs.name ?? ''} in "${attrs.namespace ?? ''}"`);
  }
});
