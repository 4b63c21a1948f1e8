// Authorization sees who asks to do what (the attributes kube-apiserver's authorizers get).
// kube-apiserver's --authorization-mode picks the authorizers, asked in order after the
// privileged-group check (`system:masters` is always allowed): the first that allows or denies
// decides, and when none has an opinion the request is denied.

import type { UserInfo } from './authn.js';
import type { AuthorizationAttributes } from '../../lib/api/resource.js';

/** Attributes are the shared authorization attributes, with the authenticated user in full. */
export interface Attributes extends AuthorizationAttributes {
  user: UserInfo;
}

/**
 * Decision is an authorizer's answer: allowed; denied (an explicit deny that stops the union);
 * or neither, which is "no opinion".
 */
export interface Decision {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
}

export interface Authorizer {
  authorize(attrs: Attributes): Decision;
}

/** privilegedGroup is user.SystemPrivilegedGroup, allowed everything before any mode is asked. */
export const privilegedGroup = 'system:masters';

/** AuthenticatedAuthorizer allows every authenticated user (skiff's default before RBAC; kept for tests). */
export class AuthenticatedAuthorizer implements Authorizer {
  authorize(attrs: Attributes): Decision {
    if (attrs.user.groups.includes(privilegedGroup)) return { allowed: true, reason: privilegedGroup };
    return { allowed: attrs.user.groups.includes('system:authenticated'), reason: 'authenticated' };
  }
}

/** AlwaysAllowAuthorizer is mode AlwaysAllow. */
export class AlwaysAllowAuthorizer implements Authorizer {
  authorize(): Decision {
    return { allowed: true };
  }
}

/** NoOpinionAuthorizer has no opinion on anything (a mode whose authorizer is not built in). */
export class NoOpinionAuthorizer implements Authorizer {
  authorize(): Decision {
    return { allowed: false, reason: '' };
  }
}

/** UnionAuthorizer is kube's union authorizer, with the privileged group first. */
export class UnionAuthorizer implements Authorizer {
  constructor(private readonly authorizers: Authorizer[]) {}

  authorize(attrs: Attributes): Decision {
    if (attrs.user.groups.includes(privilegedGroup)) return { allowed: true, reason: '' };
    const reasons: string[] = [];
    for (const a of this.authorizers) {
      const d = a.authorize(attrs);
      if (d.allowed || d.denied) return d;
      if (d.reason) reasons.push(d.reason);
    }
    return { allowed: false, reason: reasons.join('\n') };
  }
}

/** authorizationModes are the values --authorization-mode takes. */
export const authorizationModes = ['AlwaysAllow', 'AlwaysDeny', 'RBAC', 'Node'] as const;
export type AuthorizationMode = (typeof authorizationModes)[number];

/** defaultAuthorizationModes is what kubeadm configures: Node,RBAC. */
export const defaultAuthorizationModes: AuthorizationMode[] = ['Node', 'RBAC'];

/** parseAuthorizationModes checks a comma list of modes; it throws on an unknown or repeated one. */
export function parseAuthorizationModes(value: string): AuthorizationMode[] {
  const modes = value.split(',').map((m) => m.trim()).filter(Boolean);
  if (!modes.length) throw new Error('at least one authorization-mode must be passed');
  const seen = new Set<string>();
  for (const m of modes) {
    if (!(authorizationModes as readonly string[]).includes(m)) throw new Error(`authorization-mode "${m}" is not a valid mode`);
    if (seen.has(m)) throw new Error(`authorization-mode "${m}" has mode specified more than once`);
    seen.add(m);
  }
  return modes as AuthorizationMode[];
}

/** forbiddenMessage is kube-apiserver's wording for a denied request. */
export function forbiddenMessage(a: Attributes | AuthorizationAttributes): string {
  if (!a.resourceRequest) return `User "${a.user.name}" cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group ?? ''}" ${scope}`;
}

/** forbiddenText is the message of a 403: forbiddenMessage, then the authorizers' reason when there is one. */
export function forbiddenText(a: Attributes | AuthorizationAttributes, reason: string | undefined): string {
  const msg = forbiddenMessage(a);
  return reason ? `${msg}: ${reason}` : msg;
}
