// Impersonation (kube's WithImpersonation filter): the Impersonate-User, -Group, -Uid and
// -Extra-<key> headers make a request act as someone else, once the requestor is authorized to
// `impersonate` each of them (users, groups, uids, serviceaccounts, userextras).

import type { IncomingMessage } from 'node:http';
import { badRequest, forbidden } from '../../lib/machinery/status.js';
import type { UserInfo } from './authn.js';
import { type Attributes, type Authorizer, forbiddenText } from './authz.js';

const serviceAccountPrefix = 'system:serviceaccount:';

/** ImpersonationRequest is one thing asked for (kube builds v1.ObjectReferences). */
interface ImpersonationRequest {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID';
  namespace?: string;
  name: string;
  /** fieldPath is the extra key of a UserExtra. */
  fieldPath?: string;
}

/** describe prints requests as Go prints a []v1.ObjectReference (%v), for the error text. */
function describe(reqs: ImpersonationRequest[]): string {
  const apiVersion = (r: ImpersonationRequest) => (r.kind === 'UserExtra' || r.kind === 'UID' ? 'authentication.k8s.io/v1' : '');
  return `[${reqs.map((r) => `{${[r.kind, r.namespace ?? '', r.name, '', apiVersion(r), '', r.fieldPath ?? ''].join(' ')}}`).join(' ')}]`;
}

/** impersonationRequests reads the headers; undefined when the request impersonates no one. */
function impersonationRequests(req: IncomingMessage): ImpersonationRequest[] | undefined {
  const h = req.headersDistinct;
  const out: ImpersonationRequest[] = [];
  const user = h['impersonate-user']?.[0];
  if (user) {
    if (user.startsWith(serviceAccountPrefix)) {
      const [ns, name] = user.slice(serviceAccountPrefix.length).split(':');
      if (ns && name) out.push({ kind: 'ServiceAccount', namespace: ns, name });
      else out.push({ kind: 'User', name: user });
    } else out.push({ kind: 'User', name: user });
  }
  let other = false;
  for (const g of h['impersonate-group'] ?? []) {
    out.push({ kind: 'Group', name: g });
    other = true;
  }
  for (const [header, values] of Object.entries(h)) {
    if (!header.startsWith('impersonate-extra-')) continue;
    let key = header.slice('impersonate-extra-'.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      // kube keeps a key it cannot unescape as it came
    }
    for (const v of values ?? []) out.push({ kind: 'UserExtra', name: v, fieldPath: key });
    other = true;
  }
  const uid = h['impersonate-uid']?.[0];
  if (uid) {
    out.push({ kind: 'UID', name: uid });
    other = true;
  }
  if (!out.length) return undefined;
  if (!user && other) throw badRequest(`requested ${describe(out)} without impersonating a user`);
  return out;
}

/**
 * impersonate returns the user a request acts as: the requestor itself, or whom the
 * Impersonate-* headers name once each is authorized. A refusal is a 403 naming the first
 * thing refused, as kube-apiserver words it.
 */
export function impersonate(req: IncomingMessage, requestor: UserInfo, authorizer: Authorizer): UserInfo {
  const reqs = impersonationRequests(req);
  if (!reqs) return requestor;
  let name = '';
  let uid: string | undefined;
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  const groupsSpecified = reqs.some((r) => r.kind === 'Group');
  for (const r of reqs) {
    const attrs: Attributes = { user: requestor, verb: 'impersonate', group: '', namespace: r.namespace, name: r.name, resourceRequest: true };
    switch (r.kind) {
      case 'ServiceAccount':
        attrs.resource = 'serviceaccounts';
        name = `${serviceAccountPrefix}${r.namespace}:${r.name}`;
        if (!groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'User':
        attrs.resource = 'users';
        name = r.name;
        break;
      case 'Group':
        attrs.resource = 'groups';
        groups.push(r.name);
        break;
      case 'UserExtra':
        attrs.group = 'authentication.k8s.io';
        attrs.resource = 'userextras';
        attrs.subresource = r.fieldPath;
        (extra[r.fieldPath!] ??= []).push(r.name);
        break;
      case 'UID':
        attrs.group = 'authentication.k8s.io';
        attrs.resource = 'uids';
        uid = r.name;
        break;
    }
    const d = authorizer.authorize(attrs);
    if (!d.allowed) throw forbidden({ group: attrs.group ?? '', resource: attrs.resource! }, r.name, forbiddenText(attrs, d.reason));
  }
  const everyone = name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated';
  if (!groups.includes(everyone)) groups.push(everyone);
  const out: UserInfo = { name, groups, via: requestor.via };
  if (uid !== undefined) out.uid = uid;
  if (Object.keys(extra).length) out.extra = extra;
  return out;
}
