// RuleResolver: which rules apply to a user in a namespace (kube's DefaultRuleResolver), from an
// in-memory copy of the four RBAC kinds that watches the apiserver's own watch cache, so an
// authorization decision never reads etcd. Resolved rules are memoized per user and namespace and
// forgotten on any change to roles or bindings.

import type { KubeObject } from '../../../lib/api/meta.js';
import type { ClusterRole, PolicyRule, Role, RoleBinding, RoleRef, Subject } from '../../../lib/api/rbac/types.js';
import { rbacGroup } from '../../../lib/api/rbac/types.js';
import type { Logger } from '../../../lib/log.js';
import { notFound } from '../../../lib/machinery/status.js';
import type { APIRegistry } from '../../registry/registry.js';

/** RBACUser is who rules are resolved for. */
export interface RBACUser {
  name: string;
  groups: string[];
}

/** RuleSource says which binding gave a rule, for the authorizer's reason text. */
export interface RuleSource {
  binding: RoleBinding;
  clusterBinding: boolean;
  subject: Subject;
}

/** serviceAccountUserPrefix is how a service account's user name starts. */
export const serviceAccountUserPrefix = 'system:serviceaccount:';

/** appliesTo is kube's appliesToUser: whether a binding's subject names this user. */
export function appliesTo(user: RBACUser, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.name === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.name === `${serviceAccountUserPrefix}${s.namespace || bindingNamespace}:${s.name}`;
  }
  return false;
}

/** RoleNotFoundError is a binding's missing role; resolution goes on and reports it. */
export class RoleNotFoundError extends Error {
  override name = 'RoleNotFoundError';
}

const memoLimit = 10_000;

/** RuleResolver answers rule questions from the watched copy of roles and bindings. */
export class RuleResolver {
  private readonly roles = new Map<string, Role>();
  private readonly clusterRoles = new Map<string, ClusterRole>();
  private readonly roleBindings = new Map<string, Map<string, RoleBinding>>();
  private readonly clusterRoleBindings = new Map<string, RoleBinding>();
  private memo = new Map<string, { rules: PolicyRule[]; errors: string[] }>();
  private readonly stops: (() => void)[] = [];

  /** start watches the four kinds through the registry's stores (their watch cache); the current state arrives before it resolves. */
  async start(registry: APIRegistry, log: Logger): Promise<void> {
    const kinds = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;
    for (const plural of kinds) {
      const store = registry.lookup(rbacGroup, 'v1', plural);
      if (!store) throw new Error(`${plural}.${rbacGroup} are not served`);
      const watch = async (): Promise<void> => {
        const stop = await store.watch(undefined, undefined, {
          matches: () => true,
          deliver: (type, obj) => this.observe(plural, type, obj),
          terminate: (reason) => {
            // The cache re-listed: forget this kind and take its state again.
            log.info('RBAC watch ended, watching again', { resource: plural, reason });
            if (plural === 'rolebindings') this.roleBindings.clear();
            else ({ roles: this.roles, clusterroles: this.clusterRoles, clusterrolebindings: this.clusterRoleBindings } as Record<string, Map<string, unknown>>)[plural]!.clear();
            this.memo.clear();
            watch().catch((err: unknown) => log.error('Unable to watch RBAC objects', { resource: plural, err: err as Error }));
          },
        });
        this.stops.push(stop);
      };
      await watch();
    }
  }

  /** observe applies one watch event of one of the four kinds (by plural) to the copy; tests feed it directly. */
  observe(plural: 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings', type: string, o: KubeObject): void {
    switch (plural) {
      case 'roles':
        return this.put(this.roles, `${o.metadata.namespace}/${o.metadata.name}`, type, o as Role);
      case 'clusterroles':
        return this.put(this.clusterRoles, o.metadata.name!, type, o as ClusterRole);
      case 'rolebindings': {
        const ns = o.metadata.namespace!;
        let m = this.roleBindings.get(ns);
        if (!m) this.roleBindings.set(ns, (m = new Map()));
        return this.put(m, o.metadata.name!, type, o as RoleBinding);
      }
      case 'clusterrolebindings':
        return this.put(this.clusterRoleBindings, o.metadata.name!, type, o as RoleBinding);
    }
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  private put<T>(m: Map<string, T>, key: string, type: string, obj: T): void {
    if (type === 'DELETED') m.delete(key);
    else m.set(key, obj);
    this.memo = new Map();
  }

  /** getRole returns a namespaced Role from the copy (for tests and the escalation check). */
  getRole(namespace: string, name: string): Role | undefined {
    return this.roles.get(`${namespace}/${name}`);
  }

  getClusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get(name);
  }

  /** listClusterRoles lists every ClusterRole of the copy. */
  listClusterRoles(): ClusterRole[] {
    return [...this.clusterRoles.values()];
  }

  /** roleRefRules is GetRoleReferenceRules: the rules a binding's roleRef names, or a NotFound StatusError. */
  roleRefRules(ref: RoleRef, namespace: string): PolicyRule[] {
    if (ref.kind === 'Role') {
      const r = this.roles.get(`${namespace}/${ref.name}`);
      if (!r) throw notFound({ group: rbacGroup, resource: 'roles' }, ref.name);
      return r.rules ?? [];
    }
    if (ref.kind === 'ClusterRole') {
      const r = this.clusterRoles.get(ref.name);
      if (!r) throw notFound({ group: rbacGroup, resource: 'clusterroles' }, ref.name);
      return r.rules ?? [];
    }
    throw new Error(`unsupported role reference kind: "${ref.kind}"`);
  }

  /**
   * visitRulesFor is VisitRulesFor: every rule bound to the user, cluster-wide bindings first,
   * then the namespace's; the visitor returns false to stop. Missing roles are reported to
   * onError (the walk goes on).
   */
  visitRulesFor(user: RBACUser, namespace: string, visit: (source: RuleSource, rule: PolicyRule) => boolean, onError?: (msg: string) => void): void {
    for (const b of this.clusterRoleBindings.values()) {
      const subject = (b.subjects ?? []).find((s) => appliesTo(user, s, ''));
      if (!subject) continue;
      const rules = this.rulesOf(b, '', onError);
      for (const rule of rules) if (!visit({ binding: b, clusterBinding: true, subject }, rule)) return;
    }
    if (!namespace) return;
    for (const b of this.roleBindings.get(namespace)?.values() ?? []) {
      const subject = (b.subjects ?? []).find((s) => appliesTo(user, s, namespace));
      if (!subject) continue;
      const rules = this.rulesOf(b, namespace, onError);
      for (const rule of rules) if (!visit({ binding: b, clusterBinding: false, subject }, rule)) return;
    }
  }

  private rulesOf(b: RoleBinding, namespace: string, onError?: (msg: string) => void): PolicyRule[] {
    try {
      return this.roleRefRules(b.roleRef, namespace);
    } catch (err) {
      onError?.((err as Error).message);
      return [];
    }
  }

  /** rulesFor is RulesFor: every rule the user holds in the namespace (cluster-wide ones included), memoized, with resolution errors. */
  rulesFor(user: RBACUser, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const key = `${user.name}\0${[...user.groups].sort().join('\0')}\0${namespace}`;
    const known = this.memo.get(key);
    if (known) return known;
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (_s, r) => (rules.push(r), true), (e) => errors.push(e));
    const out = { rules, errors };
    if (this.memo.size >= memoLimit) this.memo = new Map();
    this.memo.set(key, out);
    return out;
  }
}
