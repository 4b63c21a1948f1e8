// rbac.authorization.k8s.io/v1 types: Role, ClusterRole, RoleBinding, ClusterRoleBinding.

import type { KubeObject } from '../meta.js';
import type { LabelSelector } from '../meta.js';

/** rbacGroup is the API group of the four kinds (rbac.GroupName). */
export const rbacGroup = 'rbac.authorization.k8s.io';

/** PolicyRule is one rule of a Role or ClusterRole. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Role extends KubeObject {
  rules?: PolicyRule[];
}

export interface AggregationRule {
  clusterRoleSelectors?: LabelSelector[];
}

export interface ClusterRole extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: AggregationRule;
}

/** Subject is who a binding names: a User, a Group or a ServiceAccount. */
export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface RoleBinding extends KubeObject {
  subjects?: Subject[];
  roleRef: RoleRef;
}

export type ClusterRoleBinding = RoleBinding;

/** VerbAll and the names below are the well-known wildcards and names of the RBAC group. */
export const VerbAll = '*';
export const APIGroupAll = '*';
export const ResourceAll = '*';
export const NonResourceAll = '*';
