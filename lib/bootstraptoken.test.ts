import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeDetachedSignature,
  detachedSignatureIsValid,
  extraGroups,
  generateToken,
  isExpired,
  parseToken,
  validSigningToken,
  type TokenSecret,
} from './bootstraptoken.js';

const content = 'Hello from the other side. I must have called a thousand times.';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('bootstrap token JWS', () => {
  it('computes the same detached signatures as cluster-bootstrap', async () => {
    // The vectors of k8s.io/cluster-bootstrap's jws tests (a kubeadm joiner compares strings).
    assert.equal(await computeDetachedSignature(content, { id: 'joshua', secret: 'my voice is my passcode' }), 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8');
    assert.equal(await computeDetachedSignature('', { id: 'joshua', secret: 'my voice is my passcode' }), 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk');
    assert.equal(await computeDetachedSignature(content, { id: 'joshua', secret: 'my voice is my passcode. my voice is my passcode' }), 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..SFoKn0-YxqnvpSExt4LuCZ_7pvIBdX3SoUO_NsTpkdg');
  });

  it('verifies a signature only with the right token and content', async () => {
    const token = { id: 'abcdef', secret: '0123456789abcdef' };
    const sig = await computeDetachedSignature(content, token);
    assert.equal(await detachedSignatureIsValid(sig, content, token), true);
    assert.equal(await detachedSignatureIsValid(sig, content + ' ', token), false);
    assert.equal(await detachedSignatureIsValid(sig, content, { ...token, secret: '0123456789abcdeX' }), false);
    assert.equal(await detachedSignatureIsValid(sig, content, { ...token, id: 'zzzzzz' }), false);
    assert.equal(await detachedSignatureIsValid('garbage', content, token), false);
  });
});

describe('bootstrap token secrets', () => {
  const secret = (data: Record<string, string>, extra: Partial<TokenSecret> = {}): TokenSecret => ({
    metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
    ...extra,
  });
  const base = { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-signing': 'true' };

  it('parses and generates tokens of the pattern', () => {
    assert.deepEqual(parseToken('abcdef.0123456789abcdef'), { id: 'abcdef', secret: '0123456789abcdef' });
    for (const bad of ['abcdef0123456789abcdef', 'ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcdef ']) assert.equal(parseToken(bad), undefined, bad);
    const t = generateToken();
    assert.ok(parseToken(`${t.id}.${t.secret}`));
  });

  it('reads expiration, groups and signing validity', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(isExpired(secret(base), now), false, 'no expiration: never');
    assert.equal(isExpired(secret({ ...base, expiration: '2025-12-31T23:59:59Z' }), now), true);
    assert.equal(isExpired(secret({ ...base, expiration: 'soon' }), now), true, 'unreadable counts as expired');
    assert.ok(validSigningToken(secret(base), now));
    assert.equal(validSigningToken(secret({ ...base, 'usage-bootstrap-signing': 'false' }), now), undefined);
    assert.equal(validSigningToken(secret({ ...base, 'token-id': 'zzzzzz' }), now), undefined, 'name and id disagree');
    assert.equal(validSigningToken(secret(base, { metadata: { name: 'bootstrap-token-abcdef', deletionTimestamp: '2026-01-01T00:00:00Z' } }), now), undefined);
    assert.deepEqual(extraGroups(secret({ ...base, 'auth-extra-groups': 'system:bootstrappers:a, system:bootstrappers:b' })), ['system:bootstrappers:a', 'system:bootstrappers:b']);
    assert.ok(extraGroups(secret({ ...base, 'auth-extra-groups': 'system:masters' })) instanceof Error);
  });
});
