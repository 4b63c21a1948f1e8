import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Namespace } from '../../lib/api/core/namespace.js';
import { ApiError } from '../../lib/client/client.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { namespaceTerminatingError } from '../common/errors.js';
import { description, syncNamespace } from './sync.js';

const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const ns = (name: string, deleting = false): Namespace => ({ metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) } });
const cm = (namespace: string, data: Record<string, string>, annotations?: Record<string, string>): ConfigMap => ({
  metadata: { name: 'kube-root-ca.crt', namespace, resourceVersion: '7', ...(annotations ? { annotations } : {}) },
  data,
});
const annotated = { 'kubernetes.io/description': description };

describe('root CA publisher syncNamespace', () => {
  it('creates kube-root-ca.crt with the CA and kube description where it is missing', async () => {
    const client = new FakeClient();
    await syncNamespace({ client, namespaces: listerOf([ns('team')]), configMaps: listerOf<ConfigMap>([]), rootCA: ca }, 'team');
    assert.deepEqual(
      client.writes().map((a) => ({ verb: a.verb, namespace: a.namespace, object: a.object })),
      [{ verb: 'create', namespace: 'team', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'team', annotations: annotated }, data: { 'ca.crt': ca } } }],
    );
  });

  it('puts back changed data and a missing description, keeping other annotations', async () => {
    const client = new FakeClient();
    const stored = cm('team', { 'ca.crt': 'forged', extra: 'x' }, { mine: 'yes' });
    await syncNamespace({ client, namespaces: listerOf([ns('team')]), configMaps: listerOf([stored]), rootCA: ca }, 'team');
    assert.deepEqual(
      client.writes().map((a) => ({ verb: a.verb, object: a.object })),
      [{ verb: 'update', object: { metadata: { name: 'kube-root-ca.crt', namespace: 'team', resourceVersion: '7', annotations: { mine: 'yes', ...annotated } }, data: { 'ca.crt': ca } } }],
    );
    assert.deepEqual(stored.data, { 'ca.crt': 'forged', extra: 'x' }, 'the cached object is not changed');
  });

  it('writes nothing when all is in place, for a namespace being deleted, or gone', async () => {
    const client = new FakeClient();
    const s = { client, namespaces: listerOf([ns('team'), ns('doomed', true)]), configMaps: listerOf([cm('team', { 'ca.crt': ca }, annotated)]), rootCA: ca };
    for (const key of ['team', 'doomed', 'gone']) await syncNamespace(s, key);
    assert.deepEqual(client.writes(), []);
  });

  it('treats a namespace that began terminating as done, other errors as retryable', async () => {
    const s = (client: FakeClient) => ({ client, namespaces: listerOf([ns('team')]), configMaps: listerOf<ConfigMap>([]), rootCA: ca });
    await syncNamespace(s(new FakeClient().failOn('create', 'configmaps', namespaceTerminatingError('configmaps', 'team', 'kube-root-ca.crt'))), 'team');
    await assert.rejects(syncNamespace(s(new FakeClient().failOn('create', 'configmaps', new ApiError({ code: 500, message: 'etcd down' }))), 'team'), /etcd down/);
  });
});
