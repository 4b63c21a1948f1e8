// Validation of the RBAC kinds with Kubernetes' messages (pkg/apis/rbac/validation).

import { type FieldError, Path, invalidValue, notSupported, required } from '../../machinery/field-errors.js';
import { validateLabelSelector } from '../../machinery/labels.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import { isPathSegmentName } from '../core/validation.js';
import { type ClusterRole, type PolicyRule, type Role, type RoleBinding, type Subject, rbacGroup } from './types.js';

/** validateRBACName is ValidateRBACName: any path segment name. */
export const validateRBACName = isPathSegmentName;

/** validatePolicyRule is ValidatePolicyRule. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs?.length) errs.push(required(path.child('verbs'), 'verbs must contain at least one value'));
  if (rule.nonResourceURLs?.length) {
    if (namespaced) errs.push(invalidValue(path.child('nonResourceURLs'), rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
      errs.push(invalidValue(path.child('nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!rule.apiGroups?.length) errs.push(required(path.child('apiGroups'), 'resource rules must supply at least one api group'));
  if (!rule.resources?.length) errs.push(required(path.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r ?? ({} as PolicyRule), namespaced, new Path('rules').index(i)));
}

/** validateRole is ValidateRole. */
export function validateRole(role: Role): FieldError[] {
  return [...validateObjectMeta(role.metadata, true, validateRBACName), ...validateRules(role.rules, true)];
}

/** validateClusterRole is ValidateClusterRole: metadata, rules and the aggregation rule's selectors. */
export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = [...validateObjectMeta(role.metadata, false, validateRBACName), ...validateRules(role.rules, false)];
  const agg = role.aggregationRule;
  if (agg) {
    const selPath = new Path('aggregationRule').child('clusterRoleSelectors');
    if (!agg.clusterRoleSelectors?.length) errs.push(required(selPath, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    (agg.clusterRoleSelectors ?? []).forEach((s, i) => errs.push(...validateLabelSelector(s, selPath.index(i))));
  }
  return errs;
}

/** validateSubject is ValidateRoleBindingSubject. */
export function validateSubject(s: Subject, namespaced: boolean, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(path.child('name'), ''));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) for (const m of nameIsDNSSubdomain(s.name, false)) errs.push(invalidValue(path.child('name'), s.name, m));
      if (s.apiGroup) errs.push(notSupported(path.child('apiGroup'), s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(path.child('namespace'), ''));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== rbacGroup) errs.push(notSupported(path.child('apiGroup'), s.apiGroup ?? '', [rbacGroup]));
      break;
    default:
      errs.push(notSupported(path.child('kind'), s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(b: RoleBinding, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(b.metadata, namespaced, validateRBACName);
  const ref = b.roleRef ?? ({} as RoleBinding['roleRef']);
  const refPath = new Path('roleRef');
  if (ref.apiGroup !== rbacGroup) errs.push(notSupported(refPath.child('apiGroup'), ref.apiGroup ?? '', [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported(refPath.child('kind'), ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required(refPath.child('name'), ''));
  else for (const m of validateRBACName(ref.name, false)) errs.push(invalidValue(refPath.child('name'), ref.name, m));
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s ?? ({} as Subject), namespaced, new Path('subjects').index(i))));
  return errs;
}

/** validateRoleBinding is ValidateRoleBinding. */
export const validateRoleBinding = (b: RoleBinding) => validateBinding(b, true);
/** validateClusterRoleBinding is ValidateClusterRoleBinding. */
export const validateClusterRoleBinding = (b: RoleBinding) => validateBinding(b, false);

/** validateBindingUpdate is ValidateRoleBindingUpdate's own rule: the roleRef never changes. */
export function validateBindingUpdate(b: RoleBinding, old: RoleBinding): FieldError[] {
  const a = b.roleRef ?? {};
  const o = old.roleRef ?? {};
  if (a.apiGroup !== o.apiGroup || a.kind !== o.kind || a.name !== o.name) return [invalidValue('roleRef', b.roleRef, 'cannot change roleRef')];
  return [];
}
