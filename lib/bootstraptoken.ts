// Bootstrap tokens, as k8s.io/cluster-bootstrap defines them: a token `<id>.<secret>` lives in a
// kube-system Secret `bootstrap-token-<id>` of type bootstrap.kubernetes.io/token; the apiserver
// authenticates it as system:bootstrap:<id>, the bootstrap signer signs the kube-public
// cluster-info ConfigMap with it (a detached HS256 JWS under `jws-kubeconfig-<id>`), and the
// token cleaner deletes it once expired. The apiserver, the controllers and `skiff token`/`skiff
// join` all read tokens through this file.

import { createHash, randomInt, X509Certificate } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';

/** bootstrapTokenSecretType and the names below are k8s.io/cluster-bootstrap/token/api's. */
export const bootstrapTokenSecretType = 'bootstrap.kubernetes.io/token';
export const bootstrapTokenSecretPrefix = 'bootstrap-token-';
export const bootstrapTokenNamespace = 'kube-system';
export const tokenIDKey = 'token-id';
export const tokenSecretKey = 'token-secret';
export const expirationKey = 'expiration';
export const descriptionKey = 'description';
export const extraGroupsKey = 'auth-extra-groups';
export const usagePrefix = 'usage-bootstrap-';
export const usageAuthentication = 'usage-bootstrap-authentication';
export const usageSigning = 'usage-bootstrap-signing';
export const bootstrapUserPrefix = 'system:bootstrap:';
export const bootstrapDefaultGroup = 'system:bootstrappers';
/** kubeadmDefaultNodeTokenGroup is the extra group kubeadm gives the tokens `kubeadm token create` makes. */
export const kubeadmDefaultNodeTokenGroup = 'system:bootstrappers:kubeadm:default-node-token';
export const clusterInfoNamespace = 'kube-public';
export const clusterInfoName = 'cluster-info';
export const kubeconfigKey = 'kubeconfig';
export const jwsSignaturePrefix = 'jws-kubeconfig-';

const tokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const tokenIDPattern = /^[a-z0-9]{6}$/;
const groupPattern = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';

/** BootstrapToken is a token split into its public id and its secret. */
export interface BootstrapToken {
  id: string;
  secret: string;
}

/** parseToken splits `<id>.<secret>`, or returns undefined when s is not shaped like a bootstrap token. */
export function parseToken(s: string): BootstrapToken | undefined {
  const m = tokenPattern.exec(s);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** isTokenID says whether s can be a token id. */
export function isTokenID(s: string): boolean {
  return tokenIDPattern.test(s);
}

/** generateToken makes a random token from [a-z0-9] (kubeadm's GenerateBootstrapToken). */
export function generateToken(): BootstrapToken {
  const pick = (n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
  return { id: pick(6), secret: pick(16) };
}

/** secretName is the Secret that holds the token with this id. */
export function secretName(id: string): string {
  return `${bootstrapTokenSecretPrefix}${id}`;
}

/** TokenSecret is the part of a Secret the token code reads. */
export interface TokenSecret {
  metadata: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string };
  type?: string;
  data?: Record<string, string>;
}

/** secretValue is a Secret's data value decoded, or undefined. */
export function secretValue(secret: TokenSecret, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** expiration is when a token Secret expires (undefined: never; NaN: unreadable, which counts as expired). */
export function expiration(secret: TokenSecret): number | undefined {
  const v = secretValue(secret, expirationKey);
  return v === undefined || v === '' ? undefined : Date.parse(v);
}

/** isExpired says whether a token Secret's expiration has passed (an unreadable one has). */
export function isExpired(secret: TokenSecret, now = Date.now()): boolean {
  const at = expiration(secret);
  return at !== undefined && (Number.isNaN(at) || at <= now);
}

/** extraGroups are a token Secret's auth-extra-groups, or an error when one is not a system:bootstrappers: group. */
export function extraGroups(secret: TokenSecret): string[] | Error {
  const v = secretValue(secret, extraGroupsKey);
  if (!v) return [];
  const groups = v.split(',').map((g) => g.trim()).filter(Boolean);
  for (const g of groups) {
    if (!groupPattern.test(g)) return new Error(`bootstrap group "${g}" is invalid (must match ${groupPattern.source})`);
  }
  return groups;
}

/**
 * validSigningToken is the token a Secret holds when it may sign cluster-info (the bootstrap
 * signer's validateSecretForSigning): the right type and name, usage-bootstrap-signing "true",
 * not expired, not being deleted.
 */
export function validSigningToken(secret: TokenSecret, now = Date.now()): BootstrapToken | undefined {
  if (secret.type !== bootstrapTokenSecretType || secret.metadata.deletionTimestamp) return undefined;
  const id = secretValue(secret, tokenIDKey) ?? '';
  const tokenSecret = secretValue(secret, tokenSecretKey) ?? '';
  if (secret.metadata.name !== secretName(id) || !parseToken(`${id}.${tokenSecret}`)) return undefined;
  if (secretValue(secret, usageSigning) !== 'true' || isExpired(secret, now)) return undefined;
  return { id, secret: tokenSecret };
}

/**
 * computeDetachedSignature is cluster-bootstrap's jws.ComputeDetachedSignature: an HS256 JWS of
 * content keyed by the token secret, with the token id as `kid`, in compact form with the payload
 * left out (`header..signature`), so the same bytes come out for the same content and token.
 */
export async function computeDetachedSignature(content: string, token: BootstrapToken): Promise<string> {
  const jws = await new CompactSign(Buffer.from(content, 'utf8')).setProtectedHeader({ alg: 'HS256', kid: token.id }).sign(Buffer.from(token.secret, 'utf8'));
  const [header, , signature] = jws.split('.');
  return `${header}..${signature}`;
}

/** detachedSignatureIsValid checks a detached JWS of content against the token (jws.DetachedTokenIsValid). */
export async function detachedSignatureIsValid(detached: string, content: string, token: BootstrapToken): Promise<boolean> {
  const [header, payload, signature] = detached.split('.');
  if (header === undefined || payload !== '' || signature === undefined) return false;
  try {
    const full = `${header}.${Buffer.from(content, 'utf8').toString('base64url')}.${signature}`;
    const { protectedHeader } = await compactVerify(full, Buffer.from(token.secret, 'utf8'), { algorithms: ['HS256'] });
    return protectedHeader.kid === token.id;
  } catch {
    return false;
  }
}

/** caCertHash is the pin kubeadm's --discovery-token-ca-cert-hash takes: sha256 of the CA's SubjectPublicKeyInfo, hex. */
export function caCertHash(caPEM: string): string {
  const spki = new X509Certificate(caPEM).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
