// The bootstrap token authenticator (kube-apiserver's --enable-bootstrap-token-auth, always on in
// skiff): a bearer token shaped `<id>.<secret>` authenticates as system:bootstrap:<id>, in
// system:bootstrappers and its Secret's auth-extra-groups, while the kube-system Secret
// bootstrap-token-<id> exists, is not being deleted, holds that secret, allows authentication and
// has not expired. Anything else is no user (401). Secrets are read from the watch cache, so a
// token works as soon as its Secret is stored and stops as soon as it is deleted.
//
// Also here: the one request an unauthenticated client may make, reading the kube-public
// cluster-info ConfigMap (kubeadm grants system:anonymous exactly that), so a joining machine can
// find the cluster's CA before it trusts anything.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  bootstrapDefaultGroup,
  kubeadmDefaultNodeTokenGroup,
  bootstrapTokenNamespace,
  bootstrapTokenSecretType,
  bootstrapUserPrefix,
  clusterInfoName,
  clusterInfoNamespace,
  extraGroups,
  isExpired,
  parseToken,
  secretName,
  secretValue,
  tokenIDKey,
  tokenSecretKey,
  usageAuthentication,
  type TokenSecret,
} from '../../lib/bootstraptoken.js';
import type { Logger } from '../../lib/log.js';
import type { UserInfo } from './authn.js';

/** SecretGetter reads a Secret by namespace and name, synchronously (the watch cache). */
export type SecretGetter = (namespace: string, name: string) => TokenSecret | undefined;

/** BootstrapTokenAuthenticator authenticates bootstrap tokens against their Secrets. */
export class BootstrapTokenAuthenticator {
  constructor(
    private readonly getSecret: SecretGetter,
    private readonly log?: Logger,
  ) {}

  /** authenticate returns the token's user, or undefined when the bearer token is not a valid bootstrap token. */
  authenticate(bearer: string): UserInfo | undefined {
    const token = parseToken(bearer);
    if (!token) return undefined;
    const name = secretName(token.id);
    const secret = this.getSecret(bootstrapTokenNamespace, name);
    const reject = (why: string) => {
      this.log?.v(3).info('Bootstrap token rejected', { secret: `${bootstrapTokenNamespace}/${name}`, reason: why });
      return undefined;
    };
    if (!secret) return reject('no secret of that name');
    if (secret.metadata.deletionTimestamp) return reject('secret is being deleted');
    if (secret.type !== bootstrapTokenSecretType) return reject(`secret has type ${secret.type}, not ${bootstrapTokenSecretType}`);
    const stored = Buffer.from(secretValue(secret, tokenSecretKey) ?? '');
    const presented = Buffer.from(token.secret);
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return reject('token secret does not match');
    if (secretValue(secret, tokenIDKey) !== token.id) return reject('token id does not match');
    if (isExpired(secret)) return reject('token has expired');
    if (secretValue(secret, usageAuthentication) !== 'true') return reject('token is not for authentication');
    const groups = extraGroups(secret);
    if (groups instanceof Error) return reject(groups.message);
    return { name: `${bootstrapUserPrefix}${token.id}`, groups: [bootstrapDefaultGroup, ...groups, 'system:authenticated'], via: 'token' };
  }
}

/** anonymousUser is who a request without credentials is (kube-apiserver's anonymous authenticator). */
export const anonymousUser = 'system:anonymous';

/**
 * anonymousClusterInfoReader is system:anonymous for a request that presents no credentials and
 * reads the kube-public cluster-info ConfigMap, the only thing skiff lets anonymous clients read;
 * undefined for every other request, which then needs credentials (401 without).
 */
export function anonymousClusterInfoReader(req: IncomingMessage, method: string, pathname: string): UserInfo | undefined {
  if (method !== 'GET' || pathname !== `/api/v1/namespaces/${clusterInfoNamespace}/configmaps/${clusterInfoName}`) return undefined;
  if (req.headers.authorization !== undefined || (req.socket as TLSSocket).authorized) return undefined;
  return { name: anonymousUser, groups: ['system:unauthenticated'], via: 'anonymous' };
}

/** allowsAnonymousClusterInfo is the grant kubeadm's kubeadm:bootstrap-signer-clusterinfo Role gives system:anonymous. */
export function allowsAnonymousClusterInfo(a: { user: UserInfo; verb: string; resource?: string; namespace?: string; name?: string }): boolean {
  return a.user.name === anonymousUser && a.verb === 'get' && a.resource === 'configmaps' && a.namespace === clusterInfoNamespace && a.name === clusterInfoName;
}

/**
 * bootstrapperGrants are what a bootstrap token may do, the roles kubeadm binds to
 * system:bootstrappers: system:node-bootstrapper (CertificateSigningRequests: create, get, list,
 * watch), kubeadm:get-nodes (get nodes), system:basic-user (self reviews), and reading cluster-info,
 * kube-system/kubeadm-config and (default-node-token group only) kube-system/kubeadm-certs.
 */
const bootstrapperGrants: { group: string; resource: string; verbs: string[] }[] = [
  { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verbs: ['create', 'get', 'list', 'watch'] },
  { group: '', resource: 'nodes', verbs: ['get'] },
  { group: 'authentication.k8s.io', resource: 'selfsubjectreviews', verbs: ['create'] },
  { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', verbs: ['create'] },
  { group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews', verbs: ['create'] },
];

/**
 * bootstrapperDecision confines a bootstrap token's user to bootstrapperGrants: undefined for any
 * other user (other rules decide), else allowed or not. Without it a token holder would have what
 * every authenticated user has until RBAC lands, which is everything.
 */
export function bootstrapperDecision(a: { user: UserInfo; verb: string; group?: string; resource?: string; subresource?: string; namespace?: string; name?: string }): boolean | undefined {
  if (!a.user.groups.includes(bootstrapDefaultGroup) || a.user.groups.includes('system:masters')) return undefined;
  if (a.verb === 'get' && a.resource === 'configmaps' && a.namespace === clusterInfoNamespace && a.name === clusterInfoName) return true;
  // kubeadm's kubeadm:nodes-kubeadm-config Role (the cluster's ranges and members) and
  // kubeadm:kubeadm-certs Role (the CA keys, sealed under a certificate key the token does not give).
  if (a.verb === 'get' && !a.subresource && (a.group ?? '') === '' && a.namespace === 'kube-system') {
    if (a.resource === 'configmaps' && a.name === 'kubeadm-config') return true;
    if (a.resource === 'secrets' && a.name === 'kubeadm-certs' && a.user.groups.includes(kubeadmDefaultNodeTokenGroup)) return true;
  }
  return bootstrapperGrants.some((g) => g.group === (a.group ?? '') && g.resource === a.resource && !a.subresource && g.verbs.includes(a.verb));
}
