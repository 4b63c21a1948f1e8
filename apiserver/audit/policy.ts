// The audit policy, as kube-apiserver's --audit-policy-file: an audit.k8s.io/v1 Policy whose
// rules are tried in order, the first that matches a request deciding its level (None, Metadata,
// Request, RequestResponse) and the stages left out. Matching follows k8s.io/apiserver's
// policy checker: users, userGroups and verbs narrow any rule; a rule with resources or
// namespaces matches resource requests only, one with nonResourceURLs the others only.

import { parse as parseYAML } from 'yaml';

/** levels in increasing order of detail. */
export const levels = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof levels)[number];

/** stages of an audit event. */
export const stages = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof stages)[number];

/** GroupResources selects resources of one API group ("" is core), optionally by name. */
export interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

/** PolicyRule is one rule of a Policy. */
export interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

/** Policy is audit.k8s.io/v1 Policy. */
export interface Policy {
  apiVersion: 'audit.k8s.io/v1';
  kind: 'Policy';
  rules: PolicyRule[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

/** PolicyAttributes are what a rule looks at: the authorizer's attributes of a request. */
export interface PolicyAttributes {
  /** user is undefined when authentication failed. */
  user?: { name: string; groups: string[] };
  verb: string;
  resourceRequest: boolean;
  /** path is the request path, for nonResourceURLs. */
  path: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** RequestAuditConfig is what the policy decided for one request. */
export interface RequestAuditConfig {
  level: Level;
  omitStages: Stage[];
  omitManagedFields: boolean;
}

/** PolicyError says a policy file is malformed; the apiserver refuses to start. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

/** parsePolicy reads a Policy (YAML or JSON) and checks it as kube-apiserver's policy validation does. */
export function parsePolicy(text: string): Policy {
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch (err) {
    throw new PolicyError(`failed decoding: ${(err as Error).message}`);
  }
  const p = doc as Partial<Policy> | null;
  if (!p || typeof p !== 'object') throw new PolicyError('policy file is empty');
  if (p.kind !== 'Policy' || p.apiVersion !== 'audit.k8s.io/v1') {
    throw new PolicyError(`no kind "${p.kind ?? ''}" is registered for version "${p.apiVersion ?? ''}": want kind Policy, apiVersion audit.k8s.io/v1`);
  }
  if (!Array.isArray(p.rules) || p.rules.length === 0) throw new PolicyError('loaded illegal policy with 0 rules');
  checkStages('omitStages', p.omitStages);
  p.rules.forEach((r, i) => {
    const at = `rules[${i}]`;
    if (!(levels as readonly string[]).includes(r?.level)) throw new PolicyError(`${at}.level: Unsupported value: "${r?.level ?? ''}": supported values: "${levels.join('", "')}"`);
    checkStages(`${at}.omitStages`, r.omitStages);
    if (r.nonResourceURLs?.length && (r.resources?.length || r.namespaces?.length)) {
      throw new PolicyError(`${at}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`);
    }
    r.nonResourceURLs?.forEach((url, j) => {
      if (url.slice(0, -1).includes('*')) throw new PolicyError(`${at}.nonResourceURLs[${j}]: Invalid value: "${url}": non-resource URL rules may only use wildcards ('*') at the end`);
    });
  });
  return p as Policy;
}

function checkStages(at: string, list: unknown): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new PolicyError(`${at}: Invalid value: must be a list`);
  for (const s of list) if (!(stages as readonly string[]).includes(s)) throw new PolicyError(`${at}: Unsupported value: "${s}": supported values: "${stages.join('", "')}"`);
}

/** PolicyEvaluator decides the audit level of requests by a policy. */
export class PolicyEvaluator {
  constructor(private readonly policy: Policy) {}

  /** evaluate returns the first matching rule's level and stages to omit (level None when no rule matches). */
  evaluate(attrs: PolicyAttributes): RequestAuditConfig {
    const policyStages = this.policy.omitStages ?? [];
    for (const rule of this.policy.rules) {
      if (!ruleMatches(rule, attrs)) continue;
      return {
        level: rule.level,
        omitStages: [...new Set([...policyStages, ...(rule.omitStages ?? [])])],
        omitManagedFields: rule.omitManagedFields ?? this.policy.omitManagedFields ?? false,
      };
    }
    return { level: 'None', omitStages: policyStages, omitManagedFields: this.policy.omitManagedFields ?? false };
  }
}

/** ruleMatches says whether a rule applies to a request (k8s.io/apiserver audit/policy/checker.go). */
export function ruleMatches(r: PolicyRule, a: PolicyAttributes): boolean {
  if (r.users?.length && (!a.user || !r.users.includes(a.user.name))) return false;
  if (r.userGroups?.length && (!a.user || !a.user.groups.some((g) => r.userGroups!.includes(g)))) return false;
  if (r.verbs?.length && !r.verbs.includes(a.verb)) return false;
  if (r.namespaces?.length || r.resources?.length) return matchesResource(r, a);
  if (r.nonResourceURLs?.length) return !a.resourceRequest && r.nonResourceURLs.some((spec) => pathMatches(a.path, spec));
  return true;
}

function matchesResource(r: PolicyRule, a: PolicyAttributes): boolean {
  if (!a.resourceRequest) return false;
  // A namespace list of [""] selects cluster-scoped requests.
  if (r.namespaces?.length && !r.namespaces.includes(a.namespace ?? '')) return false;
  if (!r.resources?.length) return true;
  const resource = a.resource ?? '';
  const subresource = a.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const gr of r.resources) {
    if ((gr.group ?? '') !== (a.group ?? '')) continue;
    if (!gr.resources?.length) return true;
    if (gr.resourceNames?.length && !gr.resourceNames.includes(a.name ?? '')) continue;
    for (const res of gr.resources) {
      if (res === combined || res === '*') return true;
      if (subresource && res.startsWith('*/') && res.slice(2) === subresource) return true;
      if (res.endsWith('/*') && res.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.slice(0, -1));
}

/** atLeast says whether level is level `min` or more detailed. */
export function atLeast(level: Level, min: Level): boolean {
  return levels.indexOf(level) >= levels.indexOf(min);
}
