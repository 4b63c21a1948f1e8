// SelfSubjectReview (authentication.k8s.io/v1): "who am I?" as the apiserver authenticated the
// request. `kubectl auth whoami` sends it. Never stored.

import { defineResource } from '../resource.js';
import type { KubeObject } from '../meta.js';

export interface SelfSubjectReview extends KubeObject {
  status?: { userInfo: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

export const selfSubjectReviews = defineResource<SelfSubjectReview>({
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'SelfSubjectReview',
  plural: 'selfsubjectreviews',
  singular: 'selfsubjectreview',
  namespaced: false,
  verbs: ['create'],
  validate: () => [],
  virtualCreate: (r, ctx) => {
    const userInfo: NonNullable<SelfSubjectReview['status']>['userInfo'] = { username: ctx.user.name, groups: ctx.user.groups };
    if (ctx.user.uid) userInfo.uid = ctx.user.uid;
    if (ctx.user.extra) userInfo.extra = ctx.user.extra;
    return { ...r, metadata: { ...r.metadata, creationTimestamp: undefined }, status: { userInfo } };
  },
});
