// RBACAuthorizer: allows a request when a rule bound to the user allows it (kube's
// plugin/pkg/auth/authorizer/rbac), and has no opinion otherwise, so the union of authorizers
// goes on to the next and finally denies.

import type { PolicyRule } from '../../../lib/api/rbac/types.js';
import type { Attributes, Authorizer, Decision } from '../authz.js';
import { ruleAllows } from './rules.js';
import type { RuleResolver, RuleSource } from './resolver.js';

/** describeSource is kube's authorizingVisitor reason: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`. */
function describeSource(s: RuleSource): string {
  const where = s.clusterBinding ? `ClusterRoleBinding "${s.binding.metadata.name}"` : `RoleBinding "${s.binding.metadata.name}/${s.binding.metadata.namespace}"`;
  const subject = s.subject.kind === 'ServiceAccount' ? `ServiceAccount "${s.subject.name}/${s.subject.namespace || s.binding.metadata.namespace}"` : `${s.subject.kind} "${s.subject.name}"`;
  return `RBAC: allowed by ${where} of ${s.binding.roleRef.kind} "${s.binding.roleRef.name}" to ${subject}`;
}

export class RBACAuthorizer implements Authorizer {
  constructor(private readonly resolver: RuleResolver) {}

  authorize(attrs: Attributes): Decision {
    let allowedBy: RuleSource | undefined;
    const errors: string[] = [];
    this.resolver.visitRulesFor(
      attrs.user,
      attrs.namespace ?? '',
      (source: RuleSource, rule: PolicyRule) => {
        if (!ruleAllows(attrs, rule)) return true;
        allowedBy = source;
        return false;
      },
      (e) => errors.push(e),
    );
    if (allowedBy) return { allowed: true, reason: describeSource(allowedBy) };
    // No opinion: with errors, kube puts them in the reason (`RBAC: clusterrole... not found`).
    return { allowed: false, reason: errors.length ? `RBAC: ${errors.join(', ')}` : '' };
  }
}
