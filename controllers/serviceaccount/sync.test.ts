import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Namespace } from '../../lib/api/core/namespace.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import { ApiError } from '../../lib/client/client.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { listerOf } from '../../lib/controller/factory.js';
import { namespaceTerminatingError } from '../common/errors.js';
import { syncNamespace } from './sync.js';

const ns = (name: string, phase?: string): Namespace => ({ metadata: { name }, ...(phase ? { status: { phase } } : {}) });
const sa = (namespace: string, name: string): ServiceAccount => ({ metadata: { name, namespace } });

describe('serviceaccount syncNamespace', () => {
  it('creates the default ServiceAccount in an active namespace that lacks it', async () => {
    const client = new FakeClient();
    await syncNamespace({ client, namespaces: listerOf([ns('team', 'Active')]), serviceAccounts: listerOf([sa('other', 'default')]) }, 'team');
    assert.deepEqual(
      client.writes().map((a) => ({ verb: a.verb, resource: a.resource, namespace: a.namespace, object: a.object })),
      [{ verb: 'create', resource: 'serviceaccounts', namespace: 'team', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'team' } } }],
    );
  });

  it('does nothing when it exists, for terminating namespaces, or for a namespace gone', async () => {
    const client = new FakeClient();
    const s = { client, namespaces: listerOf([ns('team', 'Active'), ns('doomed', 'Terminating')]), serviceAccounts: listerOf([sa('team', 'default')]) };
    await syncNamespace(s, 'team');
    await syncNamespace(s, 'doomed');
    await syncNamespace(s, 'gone');
    assert.deepEqual(client.writes(), []);
  });

  it('treats AlreadyExists and a namespace that began terminating as done, other errors as retryable', async () => {
    const s = (client: FakeClient) => ({ client, namespaces: listerOf([ns('team')]), serviceAccounts: listerOf<ServiceAccount>([]) });
    await syncNamespace(s(new FakeClient().failOn('create', 'serviceaccounts', new ApiError({ code: 409, reason: 'AlreadyExists' }))), 'team');
    await syncNamespace(s(new FakeClient().failOn('create', 'serviceaccounts', namespaceTerminatingError('serviceaccounts', 'team', 'default'))), 'team');
    await assert.rejects(syncNamespace(s(new FakeClient().failOn('create', 'serviceaccounts', new ApiError({ code: 500, message: 'etcd down' }))), 'team'), /etcd down/);
  });
});
