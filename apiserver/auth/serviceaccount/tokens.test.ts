import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { boundClaims, identityFromClaims, InvalidClaimsError, userFor } from './claims.js';
import { ephemeralServiceAccountKeys, keyID, ServiceAccountTokenAuthenticator, TokenRejectedError, TokenSigner, type BindingGetter, type BoundObject } from './tokens.js';

const issuer = 'https://kubernetes.default.svc.cluster.local';
const t0 = Date.parse('2026-03-01T12:00:00Z');

/** getter is a fake store over objects: `kind/namespace/name` → object; live reads see `live` first. */
function getter(objects: Record<string, BoundObject>, live: Record<string, BoundObject | null> = {}): BindingGetter & { reads: string[] } {
  const reads: string[] = [];
  const read = (kind: string) => async (ns: string, name: string, isLive: boolean) => {
    const key = `${kind}/${ns}/${name}`;
    reads.push(`${isLive ? 'live' : 'cache'} ${key}`);
    if (isLive && key in live) return live[key] ?? undefined;
    return objects[key];
  };
  return { serviceAccount: read('sa'), pod: read('pod'), secret: read('secret'), reads };
}

const keys = ephemeralServiceAccountKeys();
const signer = new TokenSigner(keys, issuer, [issuer]);
const base = { namespace: 'team', serviceAccount: { name: 'robot', uid: 'sa-1' }, audiences: [issuer], expirationSeconds: 3600, now: new Date(t0) };
const present = { 'sa/team/robot': { metadata: { uid: 'sa-1' } }, 'pod/team/web': { metadata: { uid: 'pod-1' } }, 'secret/team/s': { metadata: { uid: 'sec-1' } } };

async function authn(objects: Record<string, BoundObject> = present, nowMs = t0 + 1000, live: Record<string, BoundObject | null> = {}) {
  return ServiceAccountTokenAuthenticator.create(keys, issuer, [issuer], getter(objects, live), () => nowMs);
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TokenRejectedError, String(err));
    return err.message;
  }
  assert.fail('the token was accepted');
}

describe('service-account token claims', () => {
  it('are kube claims: iss, sub, aud, exp, iat, nbf, jti and the kubernetes.io claim', () => {
    const c = boundClaims({ ...base, issuer, pod: { name: 'web', uid: 'pod-1' }, node: { name: 'n1', uid: 'node-1' }, warnAfterSeconds: 3607, expirationSeconds: 31536000, jti: 'j-1' });
    assert.deepEqual(c, {
      iss: issuer,
      sub: 'system:serviceaccount:team:robot',
      aud: [issuer],
      exp: t0 / 1000 + 31536000,
      iat: t0 / 1000,
      nbf: t0 / 1000,
      jti: 'j-1',
      'kubernetes.io': { namespace: 'team', serviceaccount: { name: 'robot', uid: 'sa-1' }, pod: { name: 'web', uid: 'pod-1' }, node: { name: 'n1', uid: 'node-1' }, warnafter: t0 / 1000 + 3607 },
    });
    assert.deepEqual(identityFromClaims(c as unknown as Record<string, unknown>), {
      namespace: 'team', serviceAccount: { name: 'robot', uid: 'sa-1' }, pod: { name: 'web', uid: 'pod-1' }, node: { name: 'n1', uid: 'node-1' }, jti: 'j-1',
    });
  });

  it('give the user the service account, its groups, and the pod, node and credential id as extra', () => {
    assert.deepEqual(userFor({ namespace: 'team', serviceAccount: { name: 'robot', uid: 'sa-1' }, pod: { name: 'web', uid: 'pod-1' }, node: { name: 'n1', uid: 'node-1' }, jti: 'j-1' }), {
      name: 'system:serviceaccount:team:robot',
      uid: 'sa-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['web'],
        'authentication.kubernetes.io/pod-uid': ['pod-1'],
        'authentication.kubernetes.io/node-name': ['n1'],
        'authentication.kubernetes.io/node-uid': ['node-1'],
        'authentication.kubernetes.io/credential-id': ['JTI=j-1'],
      },
    });
  });

  it('refuse a kubernetes.io claim that is missing, partial or contradicts sub', () => {
    const ok = { sub: 'system:serviceaccount:team:robot', 'kubernetes.io': { namespace: 'team', serviceaccount: { name: 'robot', uid: 'u' } } };
    for (const bad of [
      { sub: ok.sub },
      { ...ok, 'kubernetes.io': 'x' },
      { ...ok, 'kubernetes.io': { serviceaccount: { name: 'robot', uid: 'u' } } },
      { ...ok, 'kubernetes.io': { namespace: 'team' } },
      { ...ok, sub: 'system:serviceaccount:other:robot' },
      { ...ok, 'kubernetes.io': { ...ok['kubernetes.io'], pod: { name: 'web' } } },
    ]) {
      assert.throws(() => identityFromClaims(bad as Record<string, unknown>), InvalidClaimsError, JSON.stringify(bad));
    }
  });
});

describe('ServiceAccountTokenAuthenticator', () => {
  it('accepts a token it signed, with the kid of its key', async () => {
    const { token } = await signer.sign({ ...base, pod: { name: 'web', uid: 'pod-1' } });
    const a = await authn();
    assert.equal(a.isOurs(token), true);
    const { user, audiences } = await a.authenticate(token);
    assert.equal(user.name, 'system:serviceaccount:team:robot');
    assert.deepEqual(user.extra['authentication.kubernetes.io/pod-name'], ['web']);
    assert.deepEqual(audiences, [issuer]);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    assert.deepEqual(header, { alg: 'RS256', kid: keyID(keys.signingKey) });
  });

  it('leaves tokens of other issuers and non-JWTs to other authenticators', async () => {
    const a = await authn();
    const other = await new SignJWT({ iss: 'https://elsewhere' }).setProtectedHeader({ alg: 'RS256' }).sign(keys.signingKey);
    for (const t of ['opaque-static-token', 'a.b.c', other]) assert.equal(a.isOurs(t), false, t);
  });

  it('refuses an expired token, one not valid yet, and one of another key', async () => {
    const { token } = await signer.sign(base);
    assert.equal(await rejection((await authn(present, t0 + 3600_000 + 61_000)).authenticate(token)), 'service account token has expired');
    // Within the minute of leeway it still passes.
    await (await authn(present, t0 + 3600_000 + 30_000)).authenticate(token);
    assert.equal(await rejection((await authn(present, t0 - 120_000)).authenticate(token)), 'service account token is not valid yet');
    const stranger = new TokenSigner({ signingKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, publicKeys: [] }, issuer, [issuer]);
    assert.equal(await rejection((await authn()).authenticate((await stranger.sign(base)).token)), 'invalid signature');
  });

  it('refuses a token for audiences it was not issued for', async () => {
    const { token } = await signer.sign({ ...base, audiences: ['vault'] });
    const a = await authn();
    assert.equal(await rejection(a.authenticate(token)), `token audiences ["vault"] is invalid for the target audiences ["${issuer}"]`);
    assert.deepEqual((await a.authenticate(token, ['vault', 'other'])).audiences, ['vault']);
  });

  it('refuses a token whose service account, pod or secret is gone or was replaced', async () => {
    const { token: saOnly } = await signer.sign(base);
    const { token: podBound } = await signer.sign({ ...base, pod: { name: 'web', uid: 'pod-1' } });
    const { token: secretBound } = await signer.sign({ ...base, secret: { name: 's', uid: 'sec-1' } });
    const without = (key: string) => Object.fromEntries(Object.entries(present).filter(([k]) => k !== key));
    assert.equal(await rejection((await authn(without('sa/team/robot'))).authenticate(saOnly)), 'serviceaccounts "robot" not found');
    assert.equal(await rejection((await authn({ ...present, 'sa/team/robot': { metadata: { uid: 'sa-2' } } })).authenticate(saOnly)), 'service account UID (sa-2) does not match claim (sa-1)');
    assert.equal(await rejection((await authn(without('pod/team/web'))).authenticate(podBound)), 'service account token has been invalidated');
    assert.equal(await rejection((await authn({ ...present, 'pod/team/web': { metadata: { uid: 'pod-2' } } })).authenticate(podBound)), 'pod UID (pod-2) does not match service account pod ref claim (pod-1)');
    assert.equal(await rejection((await authn(without('secret/team/s'))).authenticate(secretBound)), 'service account token has been invalidated');
    assert.equal(await rejection((await authn({ ...present, 'secret/team/s': { metadata: { uid: 'sec-9' } } })).authenticate(secretBound)), 'secret UID (sec-9) does not match service account secret ref claim (sec-1)');
  });

  it('keeps a gracefully deleted pod\'s token for a minute past its deletion time', async () => {
    const { token } = await signer.sign({ ...base, pod: { name: 'web', uid: 'pod-1' } });
    const deleting = (at: number) => ({ ...present, 'pod/team/web': { metadata: { uid: 'pod-1', deletionTimestamp: new Date(at).toISOString() } } });
    await (await authn(deleting(t0 - 30_000))).authenticate(token);
    assert.equal(await rejection((await authn(deleting(t0 - 61_000), t0 + 1000)).authenticate(token)), 'service account token has been invalidated');
  });

  it('asks the storage before refusing what the cache does not have yet', async () => {
    const { token } = await signer.sign({ ...base, pod: { name: 'web', uid: 'pod-1' } });
    const g = getter({ 'sa/team/robot': { metadata: { uid: 'sa-1' } } }, { 'pod/team/web': { metadata: { uid: 'pod-1' } } });
    const a = await ServiceAccountTokenAuthenticator.create(keys, issuer, [issuer], g, () => t0);
    await a.authenticate(token);
    assert.deepEqual(g.reads, ['cache sa/team/robot', 'cache pod/team/web', 'live pod/team/web']);
  });
});
