// Validation of the RBAC kinds: Kubernetes' messages for rules, role references and subjects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../../machinery/field-errors.js';
import { defaultBinding } from './rbac.js';
import type { RoleBinding } from './types.js';
import { validateBindingUpdate, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './validation.js';

const msgs = (errs: ReturnType<typeof validateRole>) => errs.map((e) => fieldErrorMessage(e));

test('rules need verbs, and resource rules groups and resources; URLs only cluster-wide', () => {
  assert.deepEqual(msgs(validateRole({ metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: [] }] })), [
    'rules[0].verbs: Required value: verbs must contain at least one value',
    'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[0].resources: Required value: resource rules must supply at least one resource',
  ]);
  assert.deepEqual(msgs(validateRole({ metadata: { name: 'r', namespace: 'a' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] })), [
    'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
  ]);
  assert.deepEqual(msgs(validateClusterRole({ metadata: { name: 'r' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'], resources: ['pods'] }] })), [
    'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs',
  ]);
  assert.deepEqual(msgs(validateClusterRole({ metadata: { name: 'r' }, aggregationRule: {} })), [
    'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
  ]);
  assert.deepEqual(validateClusterRole({ metadata: { name: 'system:a/b' } }).map((e) => e.detail), ["may not contain '/'"]);
});

test('bindings: roleRef kind and group, subjects by kind, roleRef immutable', () => {
  const b = (over: Partial<RoleBinding>): RoleBinding => {
    const out: RoleBinding = { metadata: { name: 'b', namespace: 'a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [], ...over };
    defaultBinding(out);
    return out;
  };
  assert.deepEqual(validateRoleBinding(b({ subjects: [{ kind: 'User', name: 'jane' }] })), []);
  assert.deepEqual(msgs(validateRoleBinding(b({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Pod', name: 'r' } }))), [
    'roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"',
  ]);
  assert.deepEqual(msgs(validateClusterRoleBinding({ ...b({}), metadata: { name: 'b' } })), ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']);
  assert.deepEqual(msgs(validateRoleBinding(b({ subjects: [{ kind: 'Robot', name: 'x' }, { kind: 'ServiceAccount', name: 'Bad_Name', apiGroup: 'x' }] }))), [
    'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    "subjects[1].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    'subjects[1].apiGroup: Unsupported value: "x": supported values: ""',
  ]);
  assert.deepEqual(msgs(validateClusterRoleBinding({ metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] })), [
    'subjects[0].namespace: Required value',
  ]);
  const old = b({});
  const changed = b({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'other' } });
  assert.match(msgs(validateBindingUpdate(changed, old))[0]!, /^roleRef: Invalid value: .*: cannot change roleRef$/);
});
