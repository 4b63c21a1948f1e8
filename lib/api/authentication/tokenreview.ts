// TokenReview (authentication.k8s.io/v1): "who does this token say its bearer is?", answered by
// the apiserver's authenticator for the audiences asked (default: the apiserver's). Never stored.

import { required } from '../../machinery/field-errors.js';
import type { KubeObject } from '../meta.js';
import { defineResource } from '../resource.js';

/** TokenReview is authentication.k8s.io/v1 TokenReview. */
export interface TokenReview extends KubeObject {
  spec: { token?: string; audiences?: string[] };
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    audiences?: string[];
    error?: string;
  };
}

export const tokenReviews = defineResource<TokenReview>({
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenReview',
  plural: 'tokenreviews',
  singular: 'tokenreview',
  namespaced: false,
  verbs: ['create'],
  // kube's TokenReview REST checks only that a token is there.
  validate: (r) => (r.spec?.token ? [] : [required('spec.token', 'token is required for TokenReview')]),
  virtualCreate: async (r, ctx) => {
    const out: TokenReview = { ...r, metadata: { ...r.metadata, creationTimestamp: undefined }, status: { user: {} } };
    if (!ctx.authenticateToken) return { ...out, status: { user: {}, error: 'token authentication is not configured' } };
    const answer = await ctx.authenticateToken(r.spec.token!, r.spec.audiences ?? []);
    if (!answer.user) return { ...out, status: { user: {}, error: answer.error } };
    const user: NonNullable<NonNullable<TokenReview['status']>['user']> = { username: answer.user.name, groups: answer.user.groups };
    if (answer.user.uid) user.uid = answer.user.uid;
    if (answer.user.extra && Object.keys(answer.user.extra).length) user.extra = answer.user.extra;
    return { ...out, status: { authenticated: true, user, audiences: answer.audiences } };
  },
});
