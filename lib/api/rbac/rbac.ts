// The four rbac.authorization.k8s.io/v1 kinds as resource definitions: defaults (SetDefaults_*),
// validation and the tables kubectl prints for them (pkg/printers/internalversion).

import type { PrinterColumn } from '../resource.js';
import { defineResource } from '../resource.js';
import { age } from '../../machinery/duration.js';
import { type ClusterRole, type Role, type RoleBinding, rbacGroup } from './types.js';
import { validateBindingUpdate, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './validation.js';

const createdAt = 'CreationTimestamp is a timestamp representing the server time when this object was created.';

function roleColumns<T extends Role>(): PrinterColumn<T>[] {
  return [
    { name: 'Name', type: 'string', format: 'name', cell: (r) => r.metadata.name },
    { name: 'Created At', type: 'date', description: createdAt, cell: (r) => r.metadata.creationTimestamp },
  ];
}

/** subjectNames lists the names of a binding's subjects of one kind (`ns/name` for service accounts), as kubectl's wide columns. */
function subjectNames(b: RoleBinding, kind: string): string {
  return (b.subjects ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

const bindingColumns: PrinterColumn<RoleBinding>[] = [
  { name: 'Name', type: 'string', format: 'name', cell: (b) => b.metadata.name },
  { name: 'Role', type: 'string', description: 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.', cell: (b) => `${b.roleRef?.kind}/${b.roleRef?.name}` },
  { name: 'Age', type: 'string', description: createdAt, cell: (b, now) => age(b.metadata.creationTimestamp, now) },
  { name: 'Users', type: 'string', priority: 1, description: 'Users in the roleBinding', cell: (b) => subjectNames(b, 'User') },
  { name: 'Groups', type: 'string', priority: 1, description: 'Groups in the roleBinding', cell: (b) => subjectNames(b, 'Group') },
  { name: 'ServiceAccounts', type: 'string', priority: 1, description: 'ServiceAccounts in the roleBinding', cell: (b) => subjectNames(b, 'ServiceAccount') },
];

/** defaultBinding is SetDefaults_RoleBinding and SetDefaults_Subject: the RBAC group where it is implied. */
export function defaultBinding(b: RoleBinding): void {
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = rbacGroup;
  for (const s of b.subjects ?? []) {
    if (s && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = rbacGroup;
  }
}

export const roles = defineResource<Role>({
  group: rbacGroup,
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  printerColumns: roleColumns<Role>(),
  validate: validateRole,
});

export const clusterRoles = defineResource<ClusterRole>({
  group: rbacGroup,
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  printerColumns: roleColumns<ClusterRole>(),
  validate: validateClusterRole,
});

export const roleBindings = defineResource<RoleBinding>({
  group: rbacGroup,
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  printerColumns: bindingColumns,
  defaults: defaultBinding,
  validate: validateRoleBinding,
  validateUpdate: validateBindingUpdate,
});

export const clusterRoleBindings = defineResource<RoleBinding>({
  group: rbacGroup,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  printerColumns: bindingColumns,
  defaults: defaultBinding,
  validate: validateClusterRoleBinding,
  validateUpdate: validateBindingUpdate,
});

export const rbacResources = [clusterRoleBindings, clusterRoles, roleBindings, roles];
