// Bootstrap tokens end to end: `skiff token create` stores the Secret and prints a join command;
// the apiserver authenticates the token as system:bootstrap:<id> and refuses a wrong, expired or
// deleted one (401); the controller manager's bootstrap signer signs the kube-public cluster-info
// ConfigMap with it, which anyone may read; `skiff join --dry-run` verifies signature and CA
// hash, with clear errors when either is wrong; the token cleaner deletes an expired token.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeEntry } from '../lib/process/components.js';
import { run, startCluster, type Cluster, type CommandResult } from './harness.js';

let cluster: Cluster;
const cli = nodeEntry('cli/main.js');

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver', 'controller-manager'] });
});
after(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function skiff(args: string[]): Promise<CommandResult> {
  return run(process.execPath, [cli, ...args], { env: { ...process.env, SKIFF_HOME: cluster.home } });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** whoami posts a SelfSubjectReview with a bearer token: the status code, and the user when 201. */
async function whoami(token: string): Promise<{ status: number; user?: { username: string; groups: string[] } }> {
  const r = await cluster.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    auth: 'none',
    headers: { Authorization: `Bearer ${token}` },
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return { status: r.status, user: r.status === 201 ? (JSON.parse(r.body) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo : undefined };
}

/** createToken runs `skiff token create` and returns the join command's parts. */
async function createToken(extra: string[] = []): Promise<{ endpoint: string; token: string; id: string; hash: string }> {
  const r = await skiff(['token', 'create', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const m = /^skiff join (https:\/\/\S+) --token (([a-z0-9]{6})\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(r.stdout);
  assert.ok(m, `join command: ${r.stdout}`);
  return { endpoint: m[1]!, token: m[2]!, id: m[3]!, hash: m[4]! };
}

async function signedWith(id: string): Promise<boolean> {
  const r = await cluster.request('/api/v1/namespaces/kube-public/configmaps/cluster-info', { auth: 'none' });
  return r.status === 200 && (JSON.parse(r.body) as { data: Record<string, string> }).data[`jws-kubeconfig-${id}`] !== undefined;
}

describe('bootstrap tokens', () => {
  it('token create stores a bootstrap token Secret the apiserver authenticates', async () => {
    const t = await createToken(['--ttl', '2h', '--description', 'e2e']);
    assert.equal(t.endpoint, cluster.server);
    const r = await cluster.request(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${t.id}`);
    assert.equal(r.status, 200, r.body);
    const secret = JSON.parse(r.body) as { type: string; data: Record<string, string> };
    const data = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
    assert.equal(`${data['token-id']}.${data['token-secret']}`, t.token);
    assert.equal(data['usage-bootstrap-authentication'], 'true');
    assert.equal(data['auth-extra-groups'], 'system:bootstrappers:kubeadm:default-node-token');
    const ttl = Date.parse(data.expiration!) - Date.now();
    assert.ok(ttl > 3_500_000 && ttl <= 7_200_000, `expiration ${data.expiration}`);

    const me = await whoami(t.token);
    assert.equal(me.status, 201);
    assert.equal(me.user!.username, `system:bootstrap:${t.id}`);
    assert.deepEqual([...me.user!.groups].sort(), ['system:authenticated', 'system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token']);

    // A bootstrap token may do what kubeadm lets system:bootstrappers do, no more.
    const secrets = await cluster.request('/api/v1/namespaces/kube-system/secrets', { auth: 'none', headers: { Authorization: `Bearer ${t.token}` } });
    assert.equal(secrets.status, 403, secrets.body);
    assert.match(secrets.body, new RegExp(`User \\\\"system:bootstrap:${t.id}\\\\" cannot list resource \\\\"secrets\\\\"`));
    const nodes = await cluster.request('/api/v1/nodes/none', { auth: 'none', headers: { Authorization: `Bearer ${t.token}` } });
    assert.equal(nodes.status, 404, 'get nodes is allowed (kubeadm:get-nodes)');

    const list = await skiff(['token', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${t.token.replace('.', '\\.')}\\s+1h\\s.*authentication,signing\\s+e2e\\s+system:bootstrappers:kubeadm:default-node-token$`, 'm'));
  });

  it('token create publishes kubeadm-config, which a token may read (the join needs no range flags)', async () => {
    const t = await createToken();
    const asToken = (path: string) => cluster.request(path, { auth: 'none', headers: { Authorization: `Bearer ${t.token}` } });
    const r = await asToken('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
    assert.equal(r.status, 200, r.body);
    const cm = JSON.parse(r.body) as { data: Record<string, string> };
    assert.match(cm.data.ClusterConfiguration!, new RegExp(`podSubnet: ${cluster.config.clusterCIDR.replace(/\./g, '\\.')}`));
    assert.match(cm.data.ClusterConfiguration!, new RegExp(`serviceSubnet: ${cluster.config.serviceCIDR.replace(/\./g, '\\.')}`));
    assert.match(cm.data.ClusterConfiguration!, /kind: ClusterConfiguration/);
    // Only that ConfigMap, and kubeadm-certs (404 until uploaded), not its neighbours.
    assert.equal((await asToken('/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).status, 403);
    assert.equal((await asToken('/api/v1/namespaces/kube-system/secrets/kubeadm-certs')).status, 404);
    assert.equal((await asToken(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${t.id}`)).status, 403);

    // skiff certs upload seals the CA keys; the token reads them, encrypted.
    const up = await skiff(['certs', 'upload']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /\[upload-certs\] Using certificate key:\n[0-9a-f]{64}\n$/);
    const certs = await asToken('/api/v1/namespaces/kube-system/secrets/kubeadm-certs');
    assert.equal(certs.status, 200, certs.body);
    const sealed = Buffer.from((JSON.parse(certs.body) as { data: Record<string, string> }).data['ca.key']!, 'base64');
    assert.ok(!sealed.toString('latin1').includes('PRIVATE KEY'), 'the CA key is sealed');
    const bad = await skiff(['certs', 'upload', '--certificate-key', 'xyz']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /the certificate key must be 64 hexadecimal digits/);
  });

  it('refuses a wrong secret, an expired token and a deleted one with 401', async () => {
    const t = await createToken();
    assert.equal((await whoami(`${t.id}.0000000000000000`)).status, 401);
    assert.equal((await whoami('zzzzzz.0000000000000000')).status, 401);

    // Expired: written by hand with an expiration in the past; the token cleaner then deletes it.
    const id = 'exp123';
    const created = await cluster.request('/api/v1/namespaces/kube-system/secrets', {
      method: 'POST',
      body: {
        apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token', metadata: { name: `bootstrap-token-${id}` },
        stringData: { 'token-id': id, 'token-secret': 'abcdefghij012345', 'usage-bootstrap-authentication': 'true', expiration: new Date(Date.now() - 60_000).toISOString() },
      },
    });
    assert.equal(created.status, 201, created.body);
    assert.equal((await whoami(`${id}.abcdefghij012345`)).status, 401, 'an expired token authenticates no one');
    await waitFor('the token cleaner to delete the expired token', async () => {
      const r = await cluster.request(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`);
      return r.status === 404 ? true : undefined;
    });

    assert.equal((await whoami(t.token)).status, 201);
    const del = await skiff(['token', 'delete', t.id]);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, `bootstrap token "${t.id}" deleted\n`);
    await waitFor('the deleted token to stop working', async () => ((await whoami(t.token)).status === 401 ? true : undefined), 10_000);
  });

  it('signs cluster-info, which join --dry-run verifies against the CA hash', async () => {
    const t = await createToken();
    await waitFor('the bootstrap signer to sign cluster-info', async () => ((await signedWith(t.id)) ? true : undefined));
    // Read anonymously; nothing else is open to anonymous clients.
    assert.equal((await cluster.request('/api/v1/namespaces/kube-public/configmaps', { auth: 'none' })).status, 401);

    const ok = await skiff(['join', t.endpoint, '--token', t.token, '--discovery-token-ca-cert-hash', t.hash, '--dry-run']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /The cluster CA matches the pinned public key/);

    const badHash = await skiff(['join', t.endpoint, '--token', t.token, '--discovery-token-ca-cert-hash', `sha256:${'0'.repeat(64)}`, '--dry-run']);
    assert.equal(badHash.code, 1);
    assert.match(badHash.stderr, /cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/);

    const badSecret = await skiff(['join', t.endpoint, '--token', `${t.id}.0000000000000000`, '--discovery-token-ca-cert-hash', t.hash, '--dry-run']);
    assert.equal(badSecret.code, 1);
    assert.match(badSecret.stderr, /failed to verify JWS signature of received cluster info object/);

    const unknown = await skiff(['join', t.endpoint, '--token', 'zzzzzz.0000000000000000', '--discovery-token-ca-cert-hash', t.hash, '--dry-run']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /token id "zzzzzz" is invalid for this cluster or it has expired/);

    const malformed = await skiff(['join', t.endpoint, '--token', 'nope', '--discovery-token-ca-cert-hash', t.hash, '--dry-run']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /was not of the form/);

    // A deleted token's signature goes, and join with it fails.
    assert.equal((await skiff(['token', 'delete', t.token])).code, 0);
    await waitFor('the signature of the deleted token to go', async () => ((await signedWith(t.id)) ? undefined : true));
    const revoked = await skiff(['join', t.endpoint, '--token', t.token, '--discovery-token-ca-cert-hash', t.hash, '--dry-run']);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /invalid for this cluster or it has expired/);
  });
});
