// reconcileBootstrapPolicy is kube-apiserver's rbac/bootstrap-roles post-start hook: every
// bootstrap ClusterRole and ClusterRoleBinding (and the controllers' Roles and RoleBindings in
// kube-system and kube-public) is created when missing; an existing one gains
// the rules, selectors, subjects, labels and annotations it lacks and keeps what users added;
// one annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left alone.

import type { KubeObject } from '../../../lib/api/meta.js';
import type { ClusterRole, Role, RoleBinding, Subject } from '../../../lib/api/rbac/types.js';
import { rbacGroup } from '../../../lib/api/rbac/types.js';
import type { Logger } from '../../../lib/log.js';
import { stringifyJSON } from '../../../lib/machinery/json.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../../lib/machinery/status.js';
import type { APIRegistry } from '../../registry/registry.js';
import type { GenericStore, RequestContext } from '../../registry/store.js';
import { autoupdateAnnotation, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './policy.js';
import { controllerRoleBindings, controllerRoles } from './controllerpolicy.js';
import { covers } from './rules.js';

const sameJSON = (a: unknown, b: unknown) => stringifyJSON(a) === stringifyJSON(b);

/** mergeMeta adds the expected labels and annotations an existing object lacks (kube's merge keeps existing values). */
function mergeMeta(existing: KubeObject, expected: KubeObject): void {
  existing.metadata.labels = { ...expected.metadata.labels, ...existing.metadata.labels };
  existing.metadata.annotations = { ...expected.metadata.annotations, ...existing.metadata.annotations };
}

/** reconcileClusterRole returns the role to write, or undefined when the existing one already has everything. */
export function reconcileClusterRole(existing: ClusterRole, expected: ClusterRole): ClusterRole | undefined {
  if (existing.metadata.annotations?.[autoupdateAnnotation] === 'false') return undefined;
  const out = structuredClone(existing);
  mergeMeta(out, expected);
  const { missing } = covers(out.rules ?? [], expected.rules ?? []);
  if (missing.length && !expected.aggregationRule) out.rules = [...(out.rules ?? []), ...missing];
  if (expected.aggregationRule) {
    const selectors = out.aggregationRule?.clusterRoleSelectors ?? [];
    for (const s of expected.aggregationRule.clusterRoleSelectors ?? []) if (!selectors.some((x) => sameJSON(x, s))) selectors.push(s);
    out.aggregationRule = { clusterRoleSelectors: selectors };
  }
  return sameJSON(out, existing) ? undefined : out;
}

const sameSubject = (a: Subject, b: Subject) => a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '') && (a.apiGroup ?? '') === (b.apiGroup ?? '');

/** reconcileBinding returns the binding to write (recreate when its roleRef differs), or undefined when nothing is missing. */
export function reconcileBinding(existing: RoleBinding, expected: RoleBinding): { binding: RoleBinding; recreate: boolean } | undefined {
  if (existing.metadata.annotations?.[autoupdateAnnotation] === 'false') return undefined;
  const out = structuredClone(existing);
  mergeMeta(out, expected);
  const subjects = out.subjects ?? [];
  for (const s of expected.subjects ?? []) if (!subjects.some((x) => sameSubject(x, s))) subjects.push(s);
  out.subjects = subjects;
  const recreate = !sameJSON(out.roleRef, expected.roleRef);
  if (recreate) out.roleRef = expected.roleRef;
  return sameJSON(out, existing) ? undefined : { binding: out, recreate };
}

async function getOrUndefined(store: GenericStore, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await store.get(namespace, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** reconcileBootstrapPolicy writes what the bootstrap policy lacks; a conflicting write is tried again. */
export async function reconcileBootstrapPolicy(registry: APIRegistry, log: Logger): Promise<void> {
  const ctx = (): RequestContext => ({ now: new Date(), dryRun: false, user: { name: 'system:apiserver', groups: ['system:masters'] } });
  const roles = registry.lookup(rbacGroup, 'v1', 'clusterroles')!;
  const bindings = registry.lookup(rbacGroup, 'v1', 'clusterrolebindings')!;
  const apply = async <T extends KubeObject>(store: GenericStore, expected: T, reconcile: (existing: T) => { obj: T; recreate: boolean } | undefined) => {
    const name = expected.metadata.name!;
    const namespace = expected.metadata.namespace;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const existing = (await getOrUndefined(store, namespace, name)) as T | undefined;
        if (!existing) {
          await store.create(namespace, structuredClone(expected), ctx());
          log.info('Created bootstrap RBAC object', { kind: expected.kind, namespace, name });
          return;
        }
        const next = reconcile(existing);
        if (!next) return;
        if (next.recreate) {
          await store.delete(namespace, name, { preconditions: { uid: existing.metadata.uid } }, ctx());
          const fresh = structuredClone(next.obj);
          delete fresh.metadata.resourceVersion;
          delete fresh.metadata.uid;
          await store.create(namespace, fresh, ctx());
        } else await store.update(namespace, name, next.obj, ctx());
        log.info('Reconciled bootstrap RBAC object', { kind: expected.kind, namespace, name });
        return;
      } catch (err) {
        if (isConflict(err) || isAlreadyExists(err) || isNotFound(err)) continue;
        throw err;
      }
    }
    log.warn('Gave up reconciling bootstrap RBAC object', { kind: expected.kind, namespace, name });
  };
  for (const role of bootstrapClusterRoles()) {
    await apply<ClusterRole>(roles, role, (existing) => {
      const r = reconcileClusterRole(existing, role);
      return r && { obj: r, recreate: false };
    });
  }
  for (const b of bootstrapClusterRoleBindings()) {
    await apply<RoleBinding>(bindings, b, (existing) => {
      const r = reconcileBinding(existing, b);
      return r && { obj: r.binding, recreate: r.recreate };
    });
  }
  // The namespaced controller Roles: as kube's hook, their namespace is created when missing.
  const namespaces = registry.lookup('', 'v1', 'namespaces')!;
  const nsRoles = registry.lookup(rbacGroup, 'v1', 'roles')!;
  const nsBindings = registry.lookup(rbacGroup, 'v1', 'rolebindings')!;
  for (const ns of new Set(controllerRoles().map((r) => r.metadata.namespace!))) {
    await namespaces.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, ctx()).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
  }
  for (const role of controllerRoles()) {
    await apply<Role>(nsRoles, role, (existing) => {
      const r = reconcileClusterRole(existing, role);
      return r && { obj: r, recreate: false };
    });
  }
  for (const b of controllerRoleBindings()) {
    await apply<RoleBinding>(nsBindings, b, (existing) => {
      const r = reconcileBinding(existing, b);
      return r && { obj: r.binding, recreate: r.recreate };
    });
  }
}
