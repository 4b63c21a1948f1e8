// Service-account tokens end to end with a real etcd, apiserver and controller manager and the
// real kubectl: `kubectl create token` issues a bound JWT that `kubectl auth whoami` presents;
// audiences, expiry, signatures and bindings are checked (a deleted pod, secret or service
// account revokes its tokens with a 401); TokenReview, OIDC discovery, the ServiceAccount
// admission plugin and the root CA publisher behave as on Kubernetes.

import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose';
import { type Cluster, startCluster } from './harness.js';
import { kubectlHelpers, until } from './kubectl-helpers.js';

let cluster: Cluster;
const { k, ok } = kubectlHelpers(() => cluster);
const issuer = 'https://kubernetes.default.svc.cluster.local';

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver', 'controller-manager'] });
  await until(async () => (await k(['get', 'sa', 'default', '-n', 'default'])).code === 0, 30_000, 'the default ServiceAccount');
});

after(async () => {
  await cluster?.stop();
});

/** tokenKubeconfig writes a kubeconfig that authenticates with token only (no client certificate). */
function tokenKubeconfig(name: string, token: string): string {
  const path = join(cluster.home, `${name}.kubeconfig`);
  const ca = readFileSync(cluster.caFile).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${cluster.server}\n    certificate-authority-data: ${ca}\nusers:\n- name: u\n  user:\n    token: ${token}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n`,
    { mode: 0o600 },
  );
  return path;
}

/** whoami runs `kubectl auth whoami -o json` with token; it answers the userInfo, or the failure's stderr. */
async function whoami(token: string): Promise<{ code: number; user?: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }; stderr: string }> {
  const r = await k(['auth', 'whoami', '-o', 'json', '--kubeconfig', tokenKubeconfig('whoami', token)]);
  return { code: r.code, user: r.code === 0 ? JSON.parse(r.stdout).status.userInfo : undefined, stderr: r.stderr };
}

/**
 * asBearer asks "who am I?" (a SelfSubjectReview, which every authenticated user may create, with
 * RBAC too) with token and no client certificate: 201 when the token holds, 401 when not.
 */
function asBearer(token: string) {
  return cluster.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    auth: 'none',
    headers: { Authorization: `Bearer ${token}` },
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
}

describe('kubectl create token', () => {
  it('issues a token that authenticates as the service account, with kube claims', async () => {
    await ok(['create', 'serviceaccount', 'robot']);
    const uid = (await ok(['get', 'sa', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const token = (await ok(['create', 'token', 'robot'])).trim();
    const claims = decodeJwt(token) as Record<string, any>;
    assert.equal(claims.iss, issuer);
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.deepEqual(claims.aud, [issuer]);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.equal(claims.nbf, claims.iat);
    assert.match(claims.jti, /^[0-9a-f-]{36}$/);
    assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'robot', uid } });

    const me = await whoami(token);
    assert.equal(me.code, 0, me.stderr);
    assert.deepEqual(me.user, {
      username: 'system:serviceaccount:default:robot',
      uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] },
    });
  });

  it('takes --duration and refuses less than 10 minutes', async () => {
    const token = (await ok(['create', 'token', 'robot', '--duration=2h'])).trim();
    const claims = decodeJwt(token);
    assert.equal(claims.exp! - claims.iat!, 7200);
    const r = await k(['create', 'token', 'robot', '--duration=5m']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/);
  });

  it('answers 404 for a service account that does not exist', async () => {
    const r = await k(['create', 'token', 'ghost']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /serviceaccounts "ghost" not found/);
  });

  it('refuses a token for another audience with 401, and TokenReview accepts it for that audience', async () => {
    const token = (await ok(['create', 'token', 'robot', '--audience=vault'])).trim();
    const r = await asBearer(token);
    assert.equal(r.status, 401, r.body);
    assert.equal(JSON.parse(r.body).reason, 'Unauthorized');

    const review = async (audiences?: string[]) => {
      const res = await cluster.request('/apis/authentication.k8s.io/v1/tokenreviews', {
        method: 'POST',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } },
      });
      assert.equal(res.status, 201, res.body);
      return JSON.parse(res.body).status;
    };
    const forVault = await review(['vault']);
    assert.equal(forVault.authenticated, true);
    assert.equal(forVault.user.username, 'system:serviceaccount:default:robot');
    assert.deepEqual(forVault.audiences, ['vault']);
    const forAPI = await review();
    assert.equal(forAPI.authenticated, undefined);
    assert.match(forAPI.error, /token audiences \["vault"\] is invalid for the target audiences \["https:\/\/kubernetes.default.svc.cluster.local"\]/);
  });

  it('refuses malformed, forged and expired tokens with 401, never a 500', async () => {
    const key = createPrivateKey(readFileSync(join(cluster.home, 'pki', 'sa.key')));
    const uid = (await ok(['get', 'sa', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, sub: 'system:serviceaccount:default:robot', aud: [issuer], 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'robot', uid } } };
    const sign = (extra: Record<string, unknown>, signer = key) => new SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg: 'RS256' }).sign(signer);
    // A token signed with the cluster's key by hand works, so the failures below are each one fault.
    assert.equal((await asBearer(await sign({ iat: now, exp: now + 600 }))).status, 201);
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const bad = {
      garbage: 'not-a-token',
      'three dots': 'a.b.c',
      expired: await sign({ iat: now - 7200, exp: now - 3600 }),
      'other key': await sign({ iat: now, exp: now + 600 }, other),
      'no exp': await sign({ iat: now }),
      'subject mismatch': await sign({ iat: now, exp: now + 600, sub: 'system:serviceaccount:kube-system:robot' }),
      'wrong uid': await sign({ iat: now, exp: now + 600, 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'robot', uid: 'nope' } } }),
      'no kubernetes claim': await sign({ iat: now, exp: now + 600, 'kubernetes.io': 'x' }),
    };
    for (const [what, token] of Object.entries(bad)) {
      const r = await asBearer(token);
      assert.equal(r.status, 401, `${what}: ${r.body}`);
    }
  });

  it('binds a token to a Secret: deleting the secret revokes it', async () => {
    await ok(['create', 'secret', 'generic', 'binder', '--from-literal=a=b']);
    const token = (await ok(['create', 'token', 'robot', '--bound-object-kind=Secret', '--bound-object-name=binder'])).trim();
    const secretUID = (await ok(['get', 'secret', 'binder', '-o', 'jsonpath={.metadata.uid}'])).trim();
    assert.deepEqual((decodeJwt(token) as any)['kubernetes.io'].secret, { name: 'binder', uid: secretUID });
    assert.equal((await asBearer(token)).status, 201);
    await ok(['delete', 'secret', 'binder']);
    assert.equal((await asBearer(token)).status, 401);
  });

  it('revokes every token of a deleted service account', async () => {
    await ok(['create', 'serviceaccount', 'temp']);
    const token = (await ok(['create', 'token', 'temp'])).trim();
    assert.equal((await asBearer(token)).status, 201);
    await ok(['delete', 'serviceaccount', 'temp']);
    assert.equal((await asBearer(token)).status, 401);
    // A new service account of the same name has another uid: the old token stays refused.
    await ok(['create', 'serviceaccount', 'temp']);
    assert.equal((await asBearer(token)).status, 401);
  });
});

describe('pods and service accounts', () => {
  it('defaults serviceAccountName and mounts the kube-api-access volume in every container', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'mounted' },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [
          { name: 'app', image: 'busybox' },
          { name: 'own', image: 'busybox', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] },
        ],
        volumes: [{ name: 'mine', emptyDir: {} }],
      },
    };
    await ok(['create', '-f', '-'], JSON.stringify(pod));
    const got = JSON.parse(await ok(['get', 'pod', 'mounted', '-o', 'json']));
    assert.equal(got.spec.serviceAccountName, 'default');
    assert.equal(got.spec.serviceAccount, 'default');
    // An update of a pod that was given its service account is not a change of its spec.
    await ok(['label', 'pod', 'mounted', 'checked=yes']);
    const vol = got.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
    assert.ok(vol, JSON.stringify(got.spec.volumes));
    assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(vol.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
      ],
    });
    const mount = { name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    assert.deepEqual(got.spec.initContainers[0].volumeMounts, [mount]);
    assert.deepEqual(got.spec.containers[0].volumeMounts, [mount]);
    assert.deepEqual(got.spec.containers[1].volumeMounts, [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  });

  it('mounts nothing when the pod or its service account opts out', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false }));
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'quiet' }, spec: { serviceAccountName: 'quiet', containers: [{ name: 'a', image: 'busybox' }] } }));
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'optout' }, spec: { automountServiceAccountToken: false, containers: [{ name: 'a', image: 'busybox' }] } }));
    for (const name of ['quiet', 'optout']) {
      const got = JSON.parse(await ok(['get', 'pod', name, '-o', 'json']));
      assert.equal(got.spec.volumes, undefined, name);
      assert.equal(got.spec.containers[0].volumeMounts, undefined, name);
    }
  });

  it('refuses a pod whose service account does not exist, with kube message', async () => {
    const r = await k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan' }, spec: { serviceAccountName: 'ghost', containers: [{ name: 'a', image: 'busybox' }] } }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pods "orphan" is forbidden: error looking up service account default\/ghost: serviceaccount "ghost" not found/);
  });

  it('binds a token to a pod: the pod shows in the user, deleting the pod revokes it', async () => {
    await ok(['create', 'serviceaccount', 'worker']);
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job' }, spec: { serviceAccountName: 'worker', containers: [{ name: 'a', image: 'busybox' }] } }));
    const podUID = (await ok(['get', 'pod', 'job', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const wrong = await k(['create', 'token', 'robot', '--bound-object-kind=Pod', '--bound-object-name=job']);
    assert.match(wrong.stderr, /cannot bind token for serviceaccount "robot" to pod running with serviceaccount "worker"/);
    const token = (await ok(['create', 'token', 'worker', '--bound-object-kind=Pod', '--bound-object-name=job', `--bound-object-uid=${podUID}`])).trim();
    const me = await whoami(token);
    assert.equal(me.code, 0, me.stderr);
    assert.deepEqual(me.user?.extra?.['authentication.kubernetes.io/pod-name'], ['job']);
    assert.deepEqual(me.user?.extra?.['authentication.kubernetes.io/pod-uid'], [podUID]);
    await ok(['delete', 'pod', 'job', '--grace-period=0', '--force']);
    assert.equal((await asBearer(token)).status, 401);
    const after = await whoami(token);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /Unauthorized|provide credentials/);
  });
});

describe('legacy service-account token Secrets', () => {
  it('fills a kubernetes.io/service-account-token Secret users create; the token lives as long as the Secret', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'robot-token', annotations: { 'kubernetes.io/service-account.name': 'robot' } } };
    await ok(['create', '-f', '-'], JSON.stringify(secret));
    const read = async () => JSON.parse(await ok(['get', 'secret', 'robot-token', '-o', 'json']));
    await until(async () => !!(await read()).data?.token, 20_000, 'the token controller to fill robot-token');
    const got = await read();
    const saUID = (await ok(['get', 'sa', 'robot', '-o', 'jsonpath={.metadata.uid}'])).trim();
    assert.equal(got.metadata.annotations['kubernetes.io/service-account.uid'], saUID);
    assert.equal(Buffer.from(got.data['ca.crt'], 'base64').toString(), readFileSync(cluster.caFile, 'utf8'));
    assert.equal(Buffer.from(got.data.namespace, 'base64').toString(), 'default');
    const token = Buffer.from(got.data.token, 'base64').toString();
    const claims = decodeJwt(token) as Record<string, unknown>;
    assert.equal(claims.iss, 'kubernetes/serviceaccount');
    assert.equal(claims.exp, undefined);
    assert.equal(claims['kubernetes.io/serviceaccount/secret.name'], 'robot-token');
    const me = await whoami(token);
    assert.equal(me.code, 0, me.stderr);
    assert.equal(me.user?.username, 'system:serviceaccount:default:robot');
    await ok(['delete', 'secret', 'robot-token']);
    assert.equal((await asBearer(token)).status, 401);
  });

  it('deletes a token Secret whose service account does not exist', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'stray-token', annotations: { 'kubernetes.io/service-account.name': 'nobody' } } };
    await ok(['create', '-f', '-'], JSON.stringify(secret));
    await until(async () => (await k(['get', 'secret', 'stray-token'])).code !== 0, 20_000, 'stray-token deleted');
  });
});

describe('root CA publisher', () => {
  it('keeps kube-root-ca.crt with the cluster CA in every namespace, recreated and restored', async () => {
    const ca = readFileSync(cluster.caFile, 'utf8');
    await ok(['create', 'namespace', 'fresh']);
    const read = async () => {
      const r = await k(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    };
    await until(async () => (await read()) !== undefined, 20_000, 'kube-root-ca.crt in fresh');
    const cm = await read();
    assert.deepEqual(cm.data, { 'ca.crt': ca });
    assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    await ok(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'fresh']);
    await until(async () => (await read())?.data?.['ca.crt'] === ca, 20_000, 'kube-root-ca.crt recreated');
    await ok(['patch', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '--type=merge', '-p', '{"data":{"ca.crt":"forged"}}']);
    await until(async () => (await read())?.data?.['ca.crt'] === ca, 20_000, 'kube-root-ca.crt restored');
  });
});

describe('OIDC discovery', () => {
  it('serves the provider configuration and a key set that verifies issued tokens', async () => {
    const conf = await cluster.request('/.well-known/openid-configuration');
    assert.equal(conf.status, 200, conf.body);
    const doc = JSON.parse(conf.body);
    assert.equal(doc.issuer, issuer);
    assert.match(doc.jwks_uri, /^https:\/\/.+\/openid\/v1\/jwks$/);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
    const jwks = await cluster.request('/openid/v1/jwks');
    assert.equal(jwks.status, 200);
    assert.equal(jwks.headers['content-type'], 'application/jwk-set+json');
    const set = JSON.parse(jwks.body);
    assert.equal(set.keys[0].kty, 'RSA');
    assert.equal(set.keys[0].use, 'sig');
    const token = (await ok(['create', 'token', 'robot'])).trim();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(set), { issuer });
    assert.equal(payload.sub, 'system:serviceaccount:default:robot');
    assert.equal(protectedHeader.kid, set.keys[0].kid);
    assert.equal((await cluster.request('/openid/v1/jwks', { auth: 'none' })).status, 401);
  });
});
