// SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1): "can I do this?"
// answered by the apiserver's own authorizer, never stored. `kubectl auth can-i` sends them.

import { defineResource, type VirtualContext } from '../resource.js';
import type { KubeObject } from '../meta.js';
import { type FieldError, Path, invalidValue, required } from '../../machinery/field-errors.js';
import { badRequest } from '../../machinery/status.js';

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

/** decide asks the authorizer about a review's attributes for user. */
function decide(spec: SelfSubjectAccessReview['spec'], user: { name: string; groups: string[] }, ctx: VirtualContext): NonNullable<SelfSubjectAccessReview['status']> {
  const res = spec.resourceAttributes;
  const non = spec.nonResourceAttributes;
  const decision = res
    ? ctx.authorize({
        user,
        verb: res.verb ?? '',
        group: res.group ?? '',
        version: res.version,
        resource: res.resource,
        subresource: res.subresource,
        namespace: res.namespace,
        name: res.name,
        resourceRequest: true,
      })
    : ctx.authorize({ user, verb: non?.verb ?? '', path: non?.path ?? '', resourceRequest: false });
  const status: NonNullable<SelfSubjectAccessReview['status']> = { allowed: decision.allowed };
  if (decision.denied) status.denied = true;
  if (decision.reason) status.reason = decision.reason;
  return status;
}

export function reviewAccess(r: SelfSubjectAccessReview, ctx: VirtualContext): SelfSubjectAccessReview {
  return { ...r, metadata: { ...r.metadata, creationTimestamp: undefined }, status: decide(r.spec, ctx.user, ctx) };
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
 * reviewRules lists what the user may do in a namespace, from the authorizers that can list
 * rules (RBAC's, and everything for system:masters).
 */
export function reviewRules(r: SelfSubjectRulesReview, ctx: VirtualContext): SelfSubjectRulesReview {
  const rules = ctx.rules?.(ctx.user, r.spec?.namespace ?? '') ?? { resourceRules: [], nonResourceRules: [], incomplete: true };
  return { ...r, metadata: { ...r.metadata, creationTimestamp: undefined }, status: rules };
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

/** SubjectAccessReview asks about any user (authorization.k8s.io/v1 SubjectAccessReview and LocalSubjectAccessReview). */
export interface SubjectAccessReview extends KubeObject {
  spec: SelfSubjectAccessReview['spec'] & { user?: string; groups?: string[]; uid?: string; extra?: Record<string, string[]> };
  status?: SelfSubjectAccessReview['status'];
}

/** validateSAR is ValidateSubjectAccessReviewSpec. */
function validateSAR(r: SubjectAccessReview): FieldError[] {
  const spec = new Path('spec');
  const errs: FieldError[] = [];
  const res = r.spec?.resourceAttributes;
  const non = r.spec?.nonResourceAttributes;
  if (res && non) errs.push(invalidValue(spec.child('nonResourceAttributes'), non, 'cannot be specified in combination with resourceAttributes'));
  if (!res && !non) errs.push(invalidValue(spec.child('resourceAttributes'), null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (!r.spec?.user && !r.spec?.groups?.length) errs.push(invalidValue(spec.child('user'), r.spec?.user ?? '', 'at least one of user or group must be specified'));
  return errs;
}

/** validateLSAR is ValidateLocalSubjectAccessReview: a namespaced review never asks about non-resource URLs. */
function validateLSAR(r: SubjectAccessReview): FieldError[] {
  const errs = validateSAR(r);
  if (r.spec?.nonResourceAttributes) errs.push(invalidValue(new Path('spec').child('nonResourceAttributes'), r.spec.nonResourceAttributes, 'disallowed on this kind of request'));
  return errs;
}

function reviewSubjectAccess(r: SubjectAccessReview, ctx: VirtualContext): SubjectAccessReview {
  const user = { name: r.spec.user ?? '', groups: r.spec.groups ?? [] };
  return { ...r, metadata: { ...r.metadata, creationTimestamp: undefined }, status: decide(r.spec, user, ctx) };
}

export const subjectAccessReviews = defineResource<SubjectAccessReview>({
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'SubjectAccessReview',
  plural: 'subjectaccessreviews',
  singular: 'subjectaccessreview',
  namespaced: false,
  verbs: ['create'],
  validate: validateSAR,
  virtualCreate: reviewSubjectAccess,
});

export const localSubjectAccessReviews = defineResource<SubjectAccessReview>({
  group: 'authorization.k8s.io',
  version: 'v1',
  kind: 'LocalSubjectAccessReview',
  plural: 'localsubjectaccessreviews',
  singular: 'localsubjectaccessreview',
  namespaced: true,
  verbs: ['create'],
  validate: validateLSAR,
  virtualCreate(r, ctx) {
    const res = r.spec.resourceAttributes;
    if (res && (res.namespace ?? '') !== (ctx.namespace ?? '')) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ctx.namespace ?? ''}`);
    return { ...reviewSubjectAccess(r, ctx), metadata: { ...r.metadata, namespace: ctx.namespace, creationTimestamp: undefined } };
  },
});
