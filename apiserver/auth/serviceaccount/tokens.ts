// Service-account tokens: the key material (--service-account-signing-key-file and
// --service-account-key-file), the signer TokenRequest uses, and the authenticator that accepts
// the tokens back. JWTs are signed and verified by jose; what is Kubernetes' own is here and in
// claims.ts: which claims, which keys, and the binding to objects that must still exist.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, exportJWK, jwtVerify, type JWK } from 'jose';
import { algorithmOf, keyID, legacyClaimNames, legacyIssuer, signJWT } from '../../../lib/serviceaccount/legacy.js';

export { algorithmOf, keyID } from '../../../lib/serviceaccount/legacy.js';
import { boundClaims, identityFromClaims, InvalidClaimsError, userFor, type BoundClaims, type ClaimsInput, type ServiceAccountUser, type TokenIdentity } from './claims.js';

/** ServiceAccountKeys are the key that signs tokens and every public key that verifies them. */
export interface ServiceAccountKeys {
  signingKey: KeyObject;
  /** publicKeys verify tokens: the signing key's own, then those of --service-account-key-file. */
  publicKeys: KeyObject[];
}

/** ServiceAccountKeyError is a key file that cannot be used. */
export class ServiceAccountKeyError extends Error {
  override name = 'ServiceAccountKeyError';
}

/**
 * loadServiceAccountKeys reads the signing key (a private key PEM) and the verifying key files
 * (PEMs with public or private keys; a private key stands for its public half), as
 * kube-apiserver reads its flags.
 */
export function loadServiceAccountKeys(signingKeyFile: string, keyFiles: string[]): ServiceAccountKeys {
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(readFileSync(signingKeyFile));
  } catch (err) {
    throw new ServiceAccountKeyError(`failed to parse service-account-signing-key-file ${signingKeyFile}: ${(err as Error).message}`, { cause: err });
  }
  checkKeyType(signingKey, signingKeyFile);
  const publicKeys = [createPublicKey(signingKey)];
  for (const file of keyFiles) {
    const pem = readFileSync(file, 'utf8');
    // A file may hold several PEM blocks; each key in it verifies.
    const blocks = pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
    if (blocks.length === 0) throw new ServiceAccountKeyError(`failed to parse service-account-key-file ${file}: no PEM blocks`);
    for (const block of blocks) {
      if (block.includes('CERTIFICATE')) continue;
      try {
        const key = block.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(block)) : createPublicKey(block);
        checkKeyType(key, file);
        if (!publicKeys.some((k) => keyID(k) === keyID(key))) publicKeys.push(key);
      } catch (err) {
        if (err instanceof ServiceAccountKeyError) throw err;
        throw new ServiceAccountKeyError(`failed to parse service-account-key-file ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  return { signingKey, publicKeys };
}

/** ephemeralServiceAccountKeys is a fresh RSA pair kept in memory, for an apiserver started without key files. */
export function ephemeralServiceAccountKeys(): ServiceAccountKeys {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { signingKey: privateKey, publicKeys: [createPublicKey(privateKey)] };
}

function checkKeyType(key: KeyObject, file: string): void {
  if (key.asymmetricKeyType === 'rsa') return;
  if (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(key.asymmetricKeyDetails?.namedCurve ?? '')) return;
  throw new ServiceAccountKeyError(`${file}: service account keys must be RSA or ECDSA (P-256, P-384, P-521), not ${key.asymmetricKeyType}`);
}

/** publicJWKS is the JSON Web Key Set of the verifying keys, as /openid/v1/jwks serves it. */
export async function publicJWKS(keys: ServiceAccountKeys): Promise<{ keys: JWK[] }> {
  return {
    keys: await Promise.all(
      keys.publicKeys.map(async (k) => ({ use: 'sig', ...(await exportJWK(k)), kid: keyID(k), alg: algorithmOf(k) })),
    ),
  };
}

/** TokenSigner signs bound service-account tokens (kube's TokenGenerator). */
export class TokenSigner {
  constructor(
    private readonly keys: ServiceAccountKeys,
    readonly issuer: string,
    /** apiAudiences are the audiences of a token that names none (--api-audiences). */
    readonly apiAudiences: string[],
  ) {}

  /** sign makes the claims for input and signs them; it answers the token and its claims. */
  async sign(input: Omit<ClaimsInput, 'issuer'>): Promise<{ token: string; claims: BoundClaims }> {
    const claims = boundClaims({ ...input, issuer: this.issuer });
    const token = await signJWT(this.keys.signingKey, claims);
    return { token, claims };
  }
}

/** BoundObject is what the binding check reads of an object: its uid and deletion time. */
export interface BoundObject {
  metadata: { uid?: string; deletionTimestamp?: string };
  /** data is a Secret's data (base64 values), for legacy tokens. */
  data?: Record<string, string>;
}

/**
 * BindingGetter reads the objects a token is bound to (undefined: not found). Reads may come
 * from a cache; the authenticator asks again with live=true before refusing a token whose
 * object is missing or has another uid, as kube's getter falls back to a live lookup.
 */
export interface BindingGetter {
  serviceAccount(namespace: string, name: string, live: boolean): Promise<BoundObject | undefined>;
  pod(namespace: string, name: string, live: boolean): Promise<BoundObject | undefined>;
  secret(namespace: string, name: string, live: boolean): Promise<BoundObject | undefined>;
}

/** TokenRejectedError says why a token that claims to be a service-account token is refused. */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
}

/** AuthenticatedToken is the user a token authenticated as, with the audiences it matched. */
export interface AuthenticatedToken {
  user: ServiceAccountUser;
  audiences: string[];
}

/** deletionGraceMs: a bound object deleted longer ago than this no longer backs tokens. */
const deletionGraceMs = 60_000;

/** clockToleranceSeconds is the leeway on exp and nbf, as go-jose's default. */
const clockToleranceSeconds = 60;

/**
 * ServiceAccountTokenAuthenticator accepts the tokens of this apiserver's issuer: signature by
 * one of the public keys, issuer, an audience in common with the ones asked for, time, and the
 * binding (the service account and the bound pod or secret still exist with the same uid).
 */
export class ServiceAccountTokenAuthenticator {
  private readonly jwks: ReturnType<typeof createLocalJWKSet>;

  private constructor(
    readonly issuer: string,
    readonly apiAudiences: string[],
    jwks: { keys: JWK[] },
    private readonly getter: BindingGetter,
    private readonly now: () => number,
  ) {
    this.jwks = createLocalJWKSet(jwks);
  }

  /** create builds the authenticator over keys' public half. */
  static async create(keys: ServiceAccountKeys, issuer: string, apiAudiences: string[], getter: BindingGetter, now: () => number = Date.now): Promise<ServiceAccountTokenAuthenticator> {
    return new ServiceAccountTokenAuthenticator(issuer, apiAudiences, await publicJWKS(keys), getter, now);
  }

  /** isOurs says whether token looks like a JWT from this issuer or a legacy token (without verifying it). */
  isOurs(token: string): boolean {
    const iss = peekIssuer(token);
    return iss === this.issuer || iss === legacyIssuer;
  }

  /**
   * authenticate verifies token for audiences (default: the apiserver's own). It throws
   * TokenRejectedError with the reason when the token is ours but not valid.
   */
  async authenticate(token: string, audiences: string[] = this.apiAudiences): Promise<AuthenticatedToken> {
    if (peekIssuer(token) === legacyIssuer && this.issuer !== legacyIssuer) return this.authenticateLegacy(token, audiences);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.issuer,
        clockTolerance: clockToleranceSeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw new TokenRejectedError(verifyFailure(err), { cause: err });
    }
    const tokenAudiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? (payload.aud as string[]) : [];
    const matched = audiences.filter((a) => tokenAudiences.includes(a));
    if (matched.length === 0) throw new TokenRejectedError(`token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(audiences)}`);
    let id: TokenIdentity;
    try {
      id = identityFromClaims(payload);
    } catch (err) {
      if (err instanceof InvalidClaimsError) throw new TokenRejectedError(err.message);
      throw err;
    }
    await this.checkBinding(id);
    return { user: userFor(id), audiences: matched };
  }

  /**
   * authenticateLegacy accepts a token from a kubernetes.io/service-account-token Secret: it
   * never expires and names no audience (any audience asked is implied), but holds only while
   * the Secret holds this very token and the service account is the same.
   */
  private async authenticateLegacy(token: string, audiences: string[]): Promise<AuthenticatedToken> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: legacyIssuer, currentDate: new Date(this.now()) }));
    } catch (err) {
      throw new TokenRejectedError(verifyFailure(err), { cause: err });
    }
    const str = (name: string) => (typeof payload[name] === 'string' ? (payload[name] as string) : '');
    const namespace = str(legacyClaimNames.namespace);
    const saName = str(legacyClaimNames.serviceAccountName);
    const saUID = str(legacyClaimNames.serviceAccountUID);
    const secretName = str(legacyClaimNames.secretName);
    if (!namespace || !saName || !saUID || !secretName) throw new TokenRejectedError('service account token claims are incomplete');
    if (payload.sub !== `system:serviceaccount:${namespace}:${saName}`) throw new TokenRejectedError('service account token subject does not match its claims');
    const secret = await this.getter.secret(namespace, secretName, true);
    if (!secret || secret.metadata.deletionTimestamp) throw new TokenRejectedError('service account token has been invalidated');
    if (Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8') !== token) throw new TokenRejectedError("Token does not match server's copy");
    const id: TokenIdentity = { namespace, serviceAccount: { name: saName, uid: saUID } };
    await this.checkBinding(id);
    return { user: userFor(id), audiences };
  }

  private async checkBinding(id: TokenIdentity): Promise<void> {
    const { namespace } = id;
    const deletedTooLongAgo = (o: BoundObject) => o.metadata.deletionTimestamp !== undefined && Date.parse(o.metadata.deletionTimestamp) < this.now() - deletionGraceMs;
    const current = async (read: (live: boolean) => Promise<BoundObject | undefined>, uid: string) => {
      const cached = await read(false);
      return cached && cached.metadata.uid === uid ? cached : read(true);
    };
    const sa = await current((live) => this.getter.serviceAccount(namespace, id.serviceAccount.name, live), id.serviceAccount.uid);
    if (!sa) throw new TokenRejectedError(`serviceaccounts "${id.serviceAccount.name}" not found`);
    if (sa.metadata.uid !== id.serviceAccount.uid) throw new TokenRejectedError(`service account UID (${sa.metadata.uid}) does not match claim (${id.serviceAccount.uid})`);
    if (id.secret) {
      const secret = await current((live) => this.getter.secret(namespace, id.secret!.name, live), id.secret.uid);
      if (!secret || deletedTooLongAgo(secret)) throw new TokenRejectedError('service account token has been invalidated');
      if (secret.metadata.uid !== id.secret.uid) throw new TokenRejectedError(`secret UID (${secret.metadata.uid}) does not match service account secret ref claim (${id.secret.uid})`);
    }
    if (id.pod) {
      const pod = await current((live) => this.getter.pod(namespace, id.pod!.name, live), id.pod.uid);
      if (!pod || deletedTooLongAgo(pod)) throw new TokenRejectedError('service account token has been invalidated');
      if (pod.metadata.uid !== id.pod.uid) throw new TokenRejectedError(`pod UID (${pod.metadata.uid}) does not match service account pod ref claim (${id.pod.uid})`);
    }
  }
}

/** peekIssuer is a JWT's unverified `iss`, or undefined for anything else. */
function peekIssuer(token: string): string | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** verifyFailure words jose's verification errors as kube's validator does. */
function verifyFailure(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'service account token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'service account token is not valid yet';
    if (err.claim === 'iat') return 'service account token was issued in the future';
    return `service account token claim "${err.claim}" is invalid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) return 'invalid signature';
  if (err instanceof joseErrors.JOSEError) return `service account token is malformed: ${err.message}`;
  return `service account token could not be verified: ${(err as Error)?.message ?? String(err)}`;
}
