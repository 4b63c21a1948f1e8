import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import { computeDetachedSignature, type TokenSecret } from '../../lib/bootstraptoken.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { syncClusterInfo, syncTokenSecret } from './sync.js';

const now = Date.parse('2026-06-01T00:00:00Z');
const b64 = (s: string) => Buffer.from(s).toString('base64');

function token(id: string, secret: string, extra: Record<string, string> = {}): TokenSecret {
  const data = { 'token-id': id, 'token-secret': secret, 'usage-bootstrap-signing': 'true', ...extra };
  return {
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system', uid: `uid-${id}` },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

const clusterInfo = (data: Record<string, string>): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public', resourceVersion: '7' }, data });

describe('bootstrapsigner syncClusterInfo', () => {
  it('adds a signature per valid signing token and drops the stale ones', async () => {
    const client = new FakeClient();
    const secrets = [
      token('aaaaaa', '0123456789abcdef'),
      token('bbbbbb', '0123456789abcdef', { expiration: '2026-05-31T00:00:00Z' }),
      token('cccccc', '0123456789abcdef', { 'usage-bootstrap-signing': 'false' }),
    ];
    const cm = clusterInfo({ kubeconfig: 'KC', 'jws-kubeconfig-zzzzzz': 'old', other: 'kept' });
    await syncClusterInfo({ client, configMaps: listerOf([cm]), secrets: listerOf(secrets), now: () => now });
    const want = await computeDetachedSignature('KC', { id: 'aaaaaa', secret: '0123456789abcdef' });
    assert.deepEqual(
      client.writes().map((a) => ({ verb: a.verb, resource: a.resource, object: a.object })),
      [{ verb: 'update', resource: 'configmaps', object: { ...cm, data: { kubeconfig: 'KC', other: 'kept', 'jws-kubeconfig-aaaaaa': want } } }],
    );
  });

  it('writes nothing when the signatures are already right, or there is no cluster-info', async () => {
    const sig = await computeDetachedSignature('KC', { id: 'aaaaaa', secret: '0123456789abcdef' });
    const client = new FakeClient();
    await syncClusterInfo({ client, configMaps: listerOf([clusterInfo({ kubeconfig: 'KC', 'jws-kubeconfig-aaaaaa': sig })]), secrets: listerOf([token('aaaaaa', '0123456789abcdef')]), now: () => now });
    await syncClusterInfo({ client, configMaps: listerOf<ConfigMap>([]), secrets: listerOf([token('aaaaaa', '0123456789abcdef')]), now: () => now });
    assert.deepEqual(client.writes(), []);
  });
});

describe('tokencleaner syncTokenSecret', () => {
  it('deletes an expired token with its uid as precondition', async () => {
    const client = new FakeClient();
    await syncTokenSecret({ client, secrets: listerOf([token('aaaaaa', '0123456789abcdef', { expiration: '2026-05-31T00:00:00Z' })]), now: () => now }, 'kube-system/bootstrap-token-aaaaaa');
    assert.deepEqual(
      client.writes().map((a) => ({ verb: a.verb, resource: a.resource, namespace: a.namespace, name: a.name })),
      [{ verb: 'delete', resource: 'secrets', namespace: 'kube-system', name: 'bootstrap-token-aaaaaa' }],
    );
  });

  it('checks a token again when it expires, and leaves one without expiry alone', async () => {
    const client = new FakeClient();
    const secrets = listerOf([token('aaaaaa', '0123456789abcdef', { expiration: '2026-06-01T01:00:00Z' }), token('bbbbbb', '0123456789abcdef')]);
    assert.deepEqual(await syncTokenSecret({ client, secrets, now: () => now }, 'kube-system/bootstrap-token-aaaaaa'), { requeueAfter: 3_600_001 });
    assert.equal(await syncTokenSecret({ client, secrets, now: () => now }, 'kube-system/bootstrap-token-bbbbbb'), undefined);
    assert.deepEqual(client.writes(), []);
  });
});
