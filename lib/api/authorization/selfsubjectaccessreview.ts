// SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1): "can I do this?"
// answered by the apiserver's own authorizer, never stored. `kubectl auth can-i` sends them.

import { defineResource, type VirtualContext } from '../resource.js';
import type { KubeObject } from '../meta.js';
import { type FieldError, Path, invalidValue, required } from '../../machinery/field-errors.js';

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface SelfSubjectAccessReview extends KubeObject {
  spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: { path?: string; verb?: string } };
  status?: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** validateSSAR: exactly one of resourceAttributes and nonResourceAttributes. */
function validateSSAR(r: SelfSubjectAccessReview): FieldError[] {
  const spec = new Path('spec');
  const res = r.spec?.resourceAttributes;
  const non = r.spec?.nonResourceAttributes;
  if (!res && !non) return [required(spec.child('resourceAttributes'), 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  if (res && non) return [invalidValue(spec.child('nonResourceAttributes'), non, 'cannot be specified in combination with resourceAttributes')];
  return [];
}

export function reviewAccess(r: SelfSubjectAccessReview, ctx: VirtualContext): SelfSubjectAccessReview {
  const res = r.spec.resourceAttributes;
  const non = r.spec.nonResourceAttributes;
  const decision = res
    ? ctx.authorize({
        user: ctx.user,
        verb: res.verb ?? '',
        group: res.group ?? '',
        version: res.version,
        resource: res.resource,
        subresource: res.subresource,
        namespace: res.namespace,
        name: res.name,
        resourceRequest: true,
      })
    : ctx.authorize({ user: ctx.user, verb: non?.verb ?? '', path: non?.path ?? '', resourceRequest: false });
  const status: NonNullable<SelfSubjectAccessReview['status']> = { allowed: decision.allowed };
  if (decision.reason) status.reason = decision.reason;
  return { ...r, metadata: { ...r.metadata, creationTimestamp: undefined }, status };
}

export const selfSubjectAccessReviews = defineResource<SelfSubjectAccessReview>({
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectAccessReview',
  plural: 'selfsubjectaccessreviews',
  singular: 'selfsubjectaccessreview',
  namespaced: false,
  verbs: ['create'],
  validate: validateSSAR,
  virtualCreate: reviewAccess,
});

export interface SelfSubjectRulesReview extends KubeObject {
  spec: { namespace?: string };
  status?: {
    resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
    nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
    incomplete: boolean;
    evaluationError?: string;
  };
}

/**
 * reviewRules lists what the user may do in a namespace. The authorizer today grants
 * authenticated users everything, so the answer is the wildcard rule kube-apiserver gives
 * system:masters; RBAC will compute real rules here.
 */
export function reviewRules(r: SelfSubjectRulesReview, ctx: VirtualContext): SelfSubjectRulesReview {
  const all = ctx.authorize({ user: ctx.user, verb: '*', group: '*', resource: '*', namespace: r.spec?.namespace, resourceRequest: true }).allowed;
  return {
    ...r,
    status: {
      resourceRules: all ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] : [],
      nonResourceRules: all ? [{ verbs: ['*'], nonResourceURLs: ['*'] }] : [],
      incomplete: false,
    },
  };
}

export const selfSubjectRulesReviews = defineResource<SelfSubjectRulesReview>({
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectRulesReview',
  plural: 'selfsubjectrulesreviews',
  singular: 'selfsubjectrulesreview',
  namespaced: false,
  verbs: ['create'],
  validate: () => [],
  virtualCreate: reviewRules,
});
