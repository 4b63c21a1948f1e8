// Escalation prevention (kube's policybased RBAC storage): creating or changing a Role or
// ClusterRole needs every right it grants, or `escalate` on it; creating or changing a binding
// needs the rights of the role it names, or `bind` on that role. system:masters may do anything.

import type { KubeObject } from '../../../lib/api/meta.js';
import type { ClusterRole, PolicyRule, Role, RoleBinding } from '../../../lib/api/rbac/types.js';
import { rbacGroup } from '../../../lib/api/rbac/types.js';
import type { ResourceDefinition } from '../../../lib/api/resource.js';
import { stringifyJSON } from '../../../lib/machinery/json.js';
import { forbidden } from '../../../lib/machinery/status.js';
import type { AdmissionRequest, RegistryHooks } from '../../registry/store.js';
import { type Authorizer, privilegedGroup } from '../authz.js';
import type { RBACUser, RuleResolver } from './resolver.js';
import { compactRules, compactString, covers, goQuoteList } from './rules.js';

/** fullAuthority is what an aggregationRule may gather: everything. */
const fullAuthority: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** EscalationError is ConfirmNoEscalation's refusal (its message is kube's). */
export class EscalationError extends Error {
  override name = 'EscalationError';
}

/** confirmNoEscalation is ConfirmNoEscalation: the user must hold every one of rules in the namespace. */
export function confirmNoEscalation(resolver: RuleResolver, user: RBACUser, namespace: string, rules: PolicyRule[]): void {
  const owned = resolver.rulesFor(user, namespace);
  const { covered, missing } = covers(owned.rules, rules);
  if (covered) return;
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user "${user.name}" (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (owned.errors.length) msg += `; resolution errors: [${owned.errors.join(' ')}]`;
  throw new EscalationError(msg);
}

/** escalationHooksFor returns the escalation check of the four RBAC kinds, undefined for other kinds. */
export function escalationHooksFor(def: ResourceDefinition<any>, resolver: RuleResolver, authorizer: Authorizer): RegistryHooks | undefined {
  if (def.group !== rbacGroup) return undefined;
  const gr = { group: rbacGroup, resource: def.plural };
  const userOf = (req: AdmissionRequest): RBACUser => req.ctx.user ?? { name: '', groups: [] };
  const escalationAllowed = (u: RBACUser) => u.groups.includes(privilegedGroup);
  /** unchanged: an update that leaves what RBAC reads alone needs no check (kube skips the GC's metadata-only writes). */
  const unchanged = (req: AdmissionRequest, fields: string[]) =>
    req.oldObject !== undefined && fields.every((f) => stringifyJSON((req.object as unknown as Record<string, unknown>)[f]) === stringifyJSON((req.oldObject as unknown as Record<string, unknown>)[f]));

  if (def.plural === 'roles' || def.plural === 'clusterroles') {
    return {
      admit: async (req) => {
        const user = userOf(req);
        const role = req.object as Role & ClusterRole;
        if (escalationAllowed(user) || unchanged(req, ['rules', 'aggregationRule'])) return;
        const namespace = req.namespace ?? '';
        const name = role.metadata.name ?? req.name;
        const escalate = authorizer.authorize({ user: { ...user, via: 'x509' }, verb: 'escalate', group: rbacGroup, resource: def.plural, namespace: namespace || undefined, name: req.operation === 'UPDATE' ? name : undefined, resourceRequest: true });
        if (escalate.allowed) return;
        try {
          if (role.aggregationRule) {
            try {
              confirmNoEscalation(resolver, user, namespace, fullAuthority);
            } catch {
              throw new EscalationError('must have cluster-admin privileges to use the aggregationRule');
            }
          }
          confirmNoEscalation(resolver, user, namespace, role.rules ?? []);
        } catch (err) {
          if (err instanceof EscalationError) throw forbidden(gr, name, err.message);
          throw err;
        }
      },
    };
  }
  return {
    admit: async (req) => {
      const user = userOf(req);
      const binding = req.object as RoleBinding;
      if (escalationAllowed(user) || unchanged(req, ['roleRef', 'subjects'])) return;
      const namespace = req.namespace ?? '';
      const ref = binding.roleRef ?? { apiGroup: '', kind: '', name: '' };
      // BindingAuthorized: `bind` on the role named.
      const bind = authorizer.authorize({
        user: { ...user, via: 'x509' },
        verb: 'bind',
        group: rbacGroup,
        resource: ref.kind === 'Role' ? 'roles' : 'clusterroles',
        namespace: namespace || undefined,
        name: ref.name,
        resourceRequest: true,
      });
      if (bind.allowed) return;
      // A malformed roleRef is validation's to report.
      if (ref.kind !== 'Role' && ref.kind !== 'ClusterRole') return;
      const rules = resolver.roleRefRules(ref, namespace);
      try {
        confirmNoEscalation(resolver, user, namespace, rules);
      } catch (err) {
        if (err instanceof EscalationError) throw forbidden(gr, binding.metadata.name ?? req.name, err.message);
        throw err;
      }
    },
  };
}
