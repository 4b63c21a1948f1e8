// Tests for image pulls with a pod's imagePullSecrets: the matching registry credentials reach
// CRI PullImage (fake runtime), each in turn until one works; no match pulls without credentials;
// a missing secret leaves the pull as before.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Secret } from '../../lib/api/core/secret.js';
import { CriError } from '../cri/client.js';
import type { AuthConfig } from '../cri/types.js';
import { imageLocation, pullCredentials } from './credentials.js';
import { ImagePuller } from './images.js';
import { StartError } from './errors.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function dockerConfigJson(name: string, auths: Record<string, object>): Secret {
  return { metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } };
}

function dockercfg(name: string, entries: Record<string, object>): Secret {
  return { metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(entries)) } };
}

/** fakeRuntime has no image; PullImage records the auth and succeeds only for the accepted username. */
function fakeRuntime(accept?: string) {
  const pulls: { image: string; auth?: AuthConfig }[] = [];
  return {
    pulls,
    runtime: {
      async imageStatus(image: string | { image: string }) {
        const name = typeof image === 'string' ? image : image.image;
        return pulls.length && name.startsWith('sha256:') ? { id: name, repo_tags: [], repo_digests: [], size: '1', uid: null, username: '', spec: null, pinned: false } : undefined;
      },
      async pullImage(image: string | { image: string }, auth?: AuthConfig) {
        const name = typeof image === 'string' ? image : image.image;
        pulls.push({ image: name, auth });
        if (accept !== undefined && auth?.username === accept) return 'sha256:pulled';
        throw new CriError('PullImage', 2, `failed to pull and unpack image "${name}": 401 Unauthorized`);
      },
    },
  };
}

function pod(imagePullSecrets: string[]): Pod {
  return { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { imagePullSecrets: imagePullSecrets.map((name) => ({ name })), containers: [{ name: 'c', image: 'x' }] } } as Pod;
}

test('imageLocation: registry host, port and repository path, Docker Hub by default', () => {
  assert.deepEqual(imageLocation('busybox:1.36'), { host: 'docker.io', port: '', path: '/library/busybox' });
  assert.deepEqual(imageLocation('index.docker.io/me/app@sha256:abc'), { host: 'docker.io', port: '', path: '/me/app' });
  assert.deepEqual(imageLocation('registry.example.com:5000/team/app:v1'), { host: 'registry.example.com', port: '5000', path: '/team/app' });
  assert.deepEqual(imageLocation('localhost/app'), { host: 'localhost', port: '', path: '/app' });
});

test('pullCredentials matches by registry host, port, glob and path prefix, most specific first', () => {
  const secrets = [
    dockerConfigJson('a', {
      'registry.example.com': { auth: b64('host:pw1') },
      'https://registry.example.com/team': { username: 'team', password: 'pw2' },
      '*.example.com': { username: 'glob', password: 'pw3' },
      'registry.example.com:5000': { username: 'port', password: 'pw4' },
      'other.example.org': { username: 'other', password: 'x' },
    }),
    dockercfg('b', { 'https://index.docker.io/v1/': { auth: b64('hub:pw5'), email: 'e@example.com' } }),
    { metadata: { name: 'opaque' }, type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"registry.example.com":{"username":"no"}}}') } },
  ];
  const users = (image: string) => pullCredentials(image, secrets).map((a) => a.username);
  assert.deepEqual(users('registry.example.com/team/app:v1'), ['team', 'host', 'glob']);
  assert.deepEqual(users('registry.example.com/teams/app'), ['host', 'glob']);
  assert.deepEqual(users('registry.example.com:5000/team/app'), ['port']);
  assert.deepEqual(users('a.b.example.com/app'), []);
  assert.deepEqual(users('busybox:1.36'), ['hub']);
  assert.deepEqual(users('docker.io/me/app'), ['hub']);
  assert.deepEqual(pullCredentials('registry.example.com/team/app', secrets)[0], { username: 'team', password: 'pw2', server_address: 'https://registry.example.com/team' });
  assert.deepEqual(pullCredentials('busybox', secrets)[0], { username: 'hub', password: 'pw5', server_address: 'https://index.docker.io/v1/' });
  // Bad JSON in a secret gives no credential, never a throw.
  assert.deepEqual(pullCredentials('busybox', [{ metadata: {}, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } }]), []);
});

test('ImagePuller passes the matching credentials to PullImage, each in turn until one works', async () => {
  const secrets: Record<string, Secret> = {
    first: dockerConfigJson('first', { 'registry.example.com/team': { username: 'wrong', password: 'x' } }),
    second: dockerConfigJson('second', { 'registry.example.com': { auth: b64('right:s3cret') } }),
  };
  const { runtime, pulls } = fakeRuntime('right');
  const events: string[] = [];
  const puller = new ImagePuller({
    runtime,
    event: (_p, _t, reason) => events.push(reason),
    now: () => 0,
    pullSecrets: async (p) => (p.spec?.imagePullSecrets ?? []).map((r) => secrets[r.name!]!).filter(Boolean),
  });
  const id = await puller.ensureImage(pod(['first', 'second']), { name: 'c', image: 'registry.example.com/team/app:v1' });
  assert.equal(id, 'sha256:pulled');
  assert.deepEqual(pulls, [
    { image: 'registry.example.com/team/app:v1', auth: { username: 'wrong', password: 'x', server_address: 'registry.example.com/team' } },
    { image: 'registry.example.com/team/app:v1', auth: { username: 'right', password: 's3cret', server_address: 'registry.example.com' } },
  ]);
  assert.deepEqual(events, ['Pulling', 'Pulled']);

  // No secret matches the image's registry: pulled without credentials.
  pulls.length = 0;
  await assert.rejects(puller.ensureImage(pod(['first', 'second']), { name: 'c', image: 'elsewhere.example.org/app' }), StartError);
  assert.deepEqual(pulls, [{ image: 'elsewhere.example.org/app', auth: undefined }]);
});

test('ImagePuller: every credential failing gives ErrImagePull naming each failure; no pull secrets pull as before', async () => {
  const { runtime, pulls } = fakeRuntime();
  const secrets = [dockerConfigJson('a', { 'r.example.com': { username: 'u1', password: 'p' } }), dockerConfigJson('b', { 'r.example.com': { username: 'u2', password: 'p' } })];
  const puller = new ImagePuller({ runtime, event: () => undefined, now: () => 0, pullSecrets: async () => secrets });
  const err = await puller.ensureImage(pod(['a', 'b']), { name: 'c', image: 'r.example.com/app:1' }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof StartError);
  assert.equal(err.reason, 'ErrImagePull');
  assert.equal(err.message, '[rpc error: code = Unknown desc = failed to pull and unpack image "r.example.com/app:1": 401 Unauthorized, rpc error: code = Unknown desc = failed to pull and unpack image "r.example.com/app:1": 401 Unauthorized]');
  assert.deepEqual(pulls.map((p) => p.auth?.username), ['u1', 'u2']);

  const plain = fakeRuntime();
  const noSecrets = new ImagePuller({ runtime: plain.runtime, event: () => undefined, now: () => 0, pullSecrets: async () => [] });
  const one = await noSecrets.ensureImage(pod([]), { name: 'c', image: 'r.example.com/app:1' }).then(() => undefined, (e: unknown) => e);
  assert.ok(one instanceof StartError);
  assert.equal(one.message, 'rpc error: code = Unknown desc = failed to pull and unpack image "r.example.com/app:1": 401 Unauthorized');
  assert.deepEqual(plain.pulls, [{ image: 'r.example.com/app:1', auth: undefined }]);
});
