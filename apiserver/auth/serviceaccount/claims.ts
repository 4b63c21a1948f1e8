// The claims of a service-account token (k8s.io/kubernetes pkg/serviceaccount/claims.go): what a
// TokenRequest puts in a token, and what the authenticator reads back out of one. Pure functions:
// signing, verifying and the object lookups live in tokens.ts.

import { randomUUID } from 'node:crypto';

/** defaultIssuer is kube-apiserver's usual --service-account-issuer. */
export const defaultIssuer = 'https://kubernetes.default.svc.cluster.local';

/** warnOnlyBoundTokenExpirationSeconds is the kubelet's projected token lifetime (1h7s), the one kube extends. */
export const warnOnlyBoundTokenExpirationSeconds = 60 * 60 + 7;

/** expirationExtensionSeconds is how long an extended kubelet token really lives (one year). */
export const expirationExtensionSeconds = 24 * 365 * 60 * 60;

/** serviceAccountUserPrefix starts every service account's user name. */
export const serviceAccountUserPrefix = 'system:serviceaccount:';

/** extraKeys are the extra keys a service-account user carries (k8s.io/apiserver serviceaccount). */
export const extraKeys = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUID: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUID: 'authentication.kubernetes.io/node-uid',
  credentialID: 'authentication.kubernetes.io/credential-id',
} as const;

/** ObjectRef is a name and uid, as the `kubernetes.io` claim holds a bound object. */
export interface ObjectRef {
  name: string;
  uid: string;
}

/** KubernetesClaim is the private `kubernetes.io` claim of a bound token. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  /** warnafter: past this time the apiserver warns that an extended token is in use. */
  warnafter?: number;
}

/** BoundClaims are every claim of a bound service-account token. */
export interface BoundClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': KubernetesClaim;
}

/** ClaimsInput is what a token is made for. */
export interface ClaimsInput {
  issuer: string;
  namespace: string;
  serviceAccount: ObjectRef;
  audiences: string[];
  /** expirationSeconds is how long the token lives. */
  expirationSeconds: number;
  /** warnAfterSeconds, for an extended token, is the lifetime the client asked for. */
  warnAfterSeconds?: number;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  now: Date;
  /** jti is the token's id (default: a random UUID). */
  jti?: string;
}

/** serviceAccountUsername is `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${serviceAccountUserPrefix}${namespace}:${name}`;
}

/** boundClaims are the claims of a token for in (kube's serviceaccount.Claims). */
export function boundClaims(input: ClaimsInput): BoundClaims {
  const iat = Math.floor(input.now.getTime() / 1000);
  const kube: KubernetesClaim = { namespace: input.namespace, serviceaccount: { ...input.serviceAccount } };
  if (input.pod) kube.pod = { ...input.pod };
  if (input.secret) kube.secret = { ...input.secret };
  if (input.node) kube.node = { ...input.node };
  if (input.warnAfterSeconds !== undefined) kube.warnafter = iat + input.warnAfterSeconds;
  return {
    iss: input.issuer,
    sub: serviceAccountUsername(input.namespace, input.serviceAccount.name),
    aud: [...input.audiences],
    exp: iat + input.expirationSeconds,
    iat,
    nbf: iat,
    jti: input.jti ?? randomUUID(),
    'kubernetes.io': kube,
  };
}

/** TokenIdentity is who a token's claims say its bearer is, before the binding is checked. */
export interface TokenIdentity {
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  jti?: string;
}

/** InvalidClaimsError is a token whose claims are malformed or contradict each other. */
export class InvalidClaimsError extends Error {
  override name = 'InvalidClaimsError';
}

const isRef = (v: unknown): v is ObjectRef => typeof v === 'object' && v !== null && typeof (v as ObjectRef).name === 'string' && typeof (v as ObjectRef).uid === 'string';

/**
 * identityFromClaims reads the bearer's identity from a verified token's payload (kube's
 * validator.Validate before its lookups): the `kubernetes.io` claim must name a namespace and a
 * service account, and `sub` must agree with them.
 */
export function identityFromClaims(payload: Record<string, unknown>): TokenIdentity {
  const kube = payload['kubernetes.io'] as Partial<KubernetesClaim> | undefined;
  if (typeof kube !== 'object' || kube === null) throw new InvalidClaimsError('service account token claims could not be parsed');
  if (!kube.namespace || typeof kube.namespace !== 'string') throw new InvalidClaimsError('service account token does not have a namespace claim');
  if (!isRef(kube.serviceaccount) || !kube.serviceaccount.name) throw new InvalidClaimsError('service account token does not have a service account claim');
  if (payload.sub !== serviceAccountUsername(kube.namespace, kube.serviceaccount.name)) throw new InvalidClaimsError('service account token subject does not match its claims');
  if (kube.pod !== undefined && !isRef(kube.pod)) throw new InvalidClaimsError('service account token pod claim could not be parsed');
  if (kube.secret !== undefined && !isRef(kube.secret)) throw new InvalidClaimsError('service account token secret claim could not be parsed');
  if (kube.node !== undefined && !isRef(kube.node)) throw new InvalidClaimsError('service account token node claim could not be parsed');
  const out: TokenIdentity = { namespace: kube.namespace, serviceAccount: { name: kube.serviceaccount.name, uid: kube.serviceaccount.uid } };
  if (kube.pod) out.pod = { name: kube.pod.name, uid: kube.pod.uid };
  if (kube.secret) out.secret = { name: kube.secret.name, uid: kube.secret.uid };
  if (kube.node) out.node = { name: kube.node.name, uid: kube.node.uid };
  if (typeof payload.jti === 'string' && payload.jti) out.jti = payload.jti;
  return out;
}

/** ServiceAccountUser is the user a valid token authenticates as. */
export interface ServiceAccountUser {
  name: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** userFor is the user of a token's identity: the service account's name and uid, its groups, and the bound pod and node as extra. */
export function userFor(id: TokenIdentity): ServiceAccountUser {
  const extra: Record<string, string[]> = {};
  if (id.pod) {
    extra[extraKeys.podName] = [id.pod.name];
    extra[extraKeys.podUID] = [id.pod.uid];
  }
  if (id.node) {
    extra[extraKeys.nodeName] = [id.node.name];
    if (id.node.uid) extra[extraKeys.nodeUID] = [id.node.uid];
  }
  if (id.jti) extra[extraKeys.credentialID] = [`JTI=${id.jti}`];
  return {
    name: serviceAccountUsername(id.namespace, id.serviceAccount.name),
    uid: id.serviceAccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${id.namespace}`],
    extra,
  };
}
