// Authorization sees who asks to do what (the attributes kube-apiserver's authorizers get). Today
// every authenticated user is allowed; RBAC plugs in here with the same attributes, and
// `system:masters` stays the break-glass group.

import type { UserInfo } from './authn.js';
import { allowsAnonymousClusterInfo, bootstrapperDecision } from './bootstrap.js';
import type { AuthorizationAttributes } from '../../lib/api/resource.js';

/** Attributes are the shared authorization attributes, with the authenticated user in full. */
export interface Attributes extends AuthorizationAttributes {
  user: UserInfo;
}

export interface Decision {
  allowed: boolean;
  reason?: string;
}

export interface Authorizer {
  authorize(attrs: Attributes): Decision;
}

/** AuthenticatedAuthorizer allows every authenticated user (the default until RBAC lands). */
export class AuthenticatedAuthorizer implements Authorizer {
  authorize(attrs: Attributes): Decision {
    if (attrs.user.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters' };
    if (allowsAnonymousClusterInfo(attrs)) return { allowed: true, reason: 'kubeadm:bootstrap-signer-clusterinfo' };
    const bootstrapper = bootstrapperDecision(attrs);
    if (bootstrapper !== undefined) return { allowed: bootstrapper, reason: 'system:bootstrappers' };
    return { allowed: attrs.user.groups.includes('system:authenticated'), reason: 'authenticated' };
  }
}

/** forbiddenMessage is kube-apiserver's wording for a denied resource request. */
export function forbiddenMessage(a: Attributes): string {
  if (!a.resourceRequest) return `User "${a.user.name}" cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group ?? ''}" ${scope}`;
}
