// buildAuthorization turns --authorization-mode into the apiserver's authorizer (a union behind
// the privileged-group check), the RBAC rule resolver behind it, the escalation checks of the
// RBAC kinds and the rules SelfSubjectRulesReview reports.

import type { ResourceDefinition, ResolvedRules } from '../../lib/api/resource.js';
import type { Logger } from '../../lib/log.js';
import type { APIRegistry } from '../registry/registry.js';
import type { RegistryHooks } from '../registry/store.js';
import { AlwaysAllowAuthorizer, type AuthorizationMode, type Authorizer, privilegedGroup, UnionAuthorizer } from './authz.js';
import { allowsAnonymousClusterInfo, bootstrapperDecision } from './bootstrap.js';
import { NodeAuthorizer } from './node/authorizer.js';
import { Graph } from './node/graph.js';
import { startGraphPopulator } from './node/populator.js';
import { RBACAuthorizer } from './rbac/authorizer.js';
import { escalationHooksFor } from './rbac/escalation.js';
import { reconcileBootstrapPolicy } from './rbac/reconcile.js';
import { RuleResolver } from './rbac/resolver.js';
import { retryStartupStep } from '../startup.js';

/** Authorization is what the apiserver wires from its modes. */
export interface Authorization {
  authorizer: Authorizer;
  /** resolver is RBAC's, when RBAC is a mode. */
  resolver?: RuleResolver;
  /** hooksFor returns the escalation checks of an RBAC kind (RBAC mode only). */
  hooksFor(def: ResourceDefinition<any>): RegistryHooks | undefined;
  /** start fills the resolver from the registry and reconciles the bootstrap policy. */
  start(registry: APIRegistry, log: Logger): Promise<void>;
  stop(): void;
  /** rules answers SelfSubjectRulesReview. */
  rules(user: { name: string; groups: string[] }, namespace: string): ResolvedRules;
}

const alwaysDeny: Authorizer = { authorize: () => ({ allowed: false, denied: true, reason: '' }) };

/**
 * bootstrapGrants are what kubeadm's bindings give before any mode is asked: system:anonymous may
 * read kube-public's cluster-info (the kubeadm:bootstrap-signer-clusterinfo Role), and a bootstrap
 * token may create and read CertificateSigningRequests, get nodes and review itself
 * (system:node-bootstrapper, kubeadm:get-nodes, system:basic-user). Anything else has no opinion here.
 */
const bootstrapGrants: Authorizer = {
  authorize(a) {
    if (allowsAnonymousClusterInfo(a)) return { allowed: true, reason: 'kubeadm:bootstrap-signer-clusterinfo' };
    if (bootstrapperDecision(a) === true) return { allowed: true, reason: 'system:bootstrappers' };
    return { allowed: false, reason: '' };
  },
};

/** buildAuthorization builds the authorizers of modes, in order. */
export function buildAuthorization(modes: readonly AuthorizationMode[]): Authorization {
  const resolver = modes.includes('RBAC') ? new RuleResolver() : undefined;
  const graph = modes.includes('Node') ? new Graph() : undefined;
  let stopGraph: (() => void) | undefined;
  const authorizers = modes.map((m): Authorizer => {
    switch (m) {
      case 'AlwaysAllow':
        return new AlwaysAllowAuthorizer();
      case 'AlwaysDeny':
        return alwaysDeny;
      case 'RBAC':
        return new RBACAuthorizer(resolver!);
      case 'Node':
        return new NodeAuthorizer(graph!);
    }
  });
  const authorizer = new UnionAuthorizer([bootstrapGrants, ...authorizers]);
  return {
    authorizer,
    resolver,
    hooksFor: (def) => (resolver ? escalationHooksFor(def, resolver, authorizer) : undefined),
    async start(registry, log) {
      if (graph) stopGraph = await startGraphPopulator(registry.lookup('', 'v1', 'pods')!, graph, log, registry.lookup('', 'v1', 'persistentvolumes'));
      if (!resolver) return;
      await resolver.start(registry, log);
      await retryStartupStep('rbac/bootstrap-roles', () => reconcileBootstrapPolicy(registry, log), log);
    },
    stop: () => {
      stopGraph?.();
      resolver?.stop();
    },
    rules(user, namespace) {
      const everything: ResolvedRules = { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
      if (user.groups.includes(privilegedGroup) || modes.includes('AlwaysAllow')) return everything;
      const out: ResolvedRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
      if (!resolver) return { ...out, incomplete: true };
      const { rules, errors } = resolver.rulesFor(user, namespace);
      for (const r of rules) {
        if (r.nonResourceURLs?.length) out.nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
        else out.resourceRules.push({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) });
      }
      // The Node authorizer cannot list a node's rules: kube marks the answer incomplete.
      const isNode = user.name.startsWith('system:node:') && user.groups.includes('system:nodes');
      if (modes.includes('Node') && isNode) {
        out.incomplete = true;
        errors.push('node authorizer does not support user rule resolution');
      }
      if (errors.length) out.evaluationError = errors.join(', ');
      return out;
    },
  };
}
