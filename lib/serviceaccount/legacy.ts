// Legacy service-account tokens (k8s.io/kubernetes pkg/serviceaccount/legacy.go): the unbound,
// never-expiring JWTs the token controller writes into Secrets of type
// kubernetes.io/service-account-token, and the key helpers both signers share. Kubernetes 1.32
// no longer makes such Secrets by itself, but fills the ones users create.

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/** legacyIssuer is the `iss` of every legacy token. */
export const legacyIssuer = 'kubernetes/serviceaccount';

/** legacyClaimNames are the flat claims a legacy token carries. */
export const legacyClaimNames = {
  namespace: 'kubernetes.io/serviceaccount/namespace',
  secretName: 'kubernetes.io/serviceaccount/secret.name',
  serviceAccountName: 'kubernetes.io/serviceaccount/service-account.name',
  serviceAccountUID: 'kubernetes.io/serviceaccount/service-account.uid',
} as const;

/** LegacyClaims are a legacy token's claims. */
export interface LegacyClaims {
  iss: string;
  sub: string;
  'kubernetes.io/serviceaccount/namespace': string;
  'kubernetes.io/serviceaccount/secret.name': string;
  'kubernetes.io/serviceaccount/service-account.name': string;
  'kubernetes.io/serviceaccount/service-account.uid': string;
}

/** legacyClaims are the claims of the token for a service account's Secret. */
export function legacyClaims(namespace: string, serviceAccount: { name: string; uid: string }, secretName: string): LegacyClaims {
  return {
    iss: legacyIssuer,
    sub: `system:serviceaccount:${namespace}:${serviceAccount.name}`,
    [legacyClaimNames.namespace]: namespace,
    [legacyClaimNames.secretName]: secretName,
    [legacyClaimNames.serviceAccountName]: serviceAccount.name,
    [legacyClaimNames.serviceAccountUID]: serviceAccount.uid,
  } as LegacyClaims;
}

/** algorithmOf is the JWS algorithm kube signs with for a key: RS256, or ES256/384/512 by curve. */
export function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  switch (key.asymmetricKeyDetails?.namedCurve) {
    case 'secp384r1':
      return 'ES384';
    case 'secp521r1':
      return 'ES512';
    default:
      return 'ES256';
  }
}

/** keyID is kube's `kid` for a public key: the unpadded base64url SHA-256 of its PKIX DER. */
export function keyID(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ format: 'der', type: 'spki' })).digest('base64url');
}

/** signJWT signs claims with key, with kube's header ({alg, kid}). */
export function signJWT(key: KeyObject, claims: object): Promise<string> {
  return new SignJWT(claims as Record<string, unknown>).setProtectedHeader({ alg: algorithmOf(key), kid: keyID(key) }).sign(key);
}
