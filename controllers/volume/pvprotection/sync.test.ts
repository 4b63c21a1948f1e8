import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PersistentVolume } from '../../../lib/api/core/persistentvolume.js';
import { PersistentVolumes } from '../../../lib/client/resources.js';
import { listerOf } from '../../../lib/controller/factory.js';
import { FakeClient } from '../../../lib/testing/fakeclient.js';
import { type PVProtectionSyncer, syncVolume } from './sync.js';

const finalizer = 'kubernetes.io/pv-protection';

function volume(phase: string, o: { protectedBy?: boolean; deleted?: boolean; finalizers?: string[] } = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: 'pv1',
      resourceVersion: '9',
      finalizers: [...(o.finalizers ?? []), ...(o.protectedBy === false ? [] : [finalizer])],
      ...(o.deleted ? { deletionTimestamp: '2024-05-01T12:00:00Z', deletionGracePeriodSeconds: 0 } : {}),
    },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data/pv1' }, claimRef: { namespace: 'default', name: 'pvc1', uid: 'claim-uid' } },
    status: { phase },
  };
}

function fixture(pv: PersistentVolume): { s: PVProtectionSyncer; client: FakeClient } {
  const client = new FakeClient();
  client.add(PersistentVolumes, pv);
  return { s: { client, volumes: listerOf([pv]) }, client };
}

const summary = (client: FakeClient) => client.actions.map((a) => `${a.verb} ${a.resource} ${a.name}`);
const finalizersWritten = (client: FakeClient) => client.writes().map((a) => (a.object as PersistentVolume).metadata.finalizers);

describe('pv-protection syncVolume', () => {
  it('adds the finalizer to a volume created without it, after the ones it has', async () => {
    const { s, client } = fixture(volume('Available', { protectedBy: false, finalizers: ['example.com/keep'] }));
    await syncVolume(s, 'pv1');
    assert.deepEqual(summary(client), ['update persistentvolumes pv1']);
    assert.deepEqual(finalizersWritten(client), [['example.com/keep', finalizer]]);
  });

  it('keeps a deleted volume while it is Bound', async () => {
    const { s, client } = fixture(volume('Bound', { deleted: true }));
    await syncVolume(s, 'pv1');
    assert.deepEqual(client.actions, []);
  });

  it('removes the finalizer of a deleted volume that is not Bound, and only that one', async () => {
    for (const phase of ['Released', 'Available', 'Failed', 'Pending']) {
      const { s, client } = fixture(volume(phase, { deleted: true, finalizers: ['example.com/keep'] }));
      await syncVolume(s, 'pv1');
      assert.deepEqual(summary(client), ['update persistentvolumes pv1'], phase);
      assert.deepEqual(finalizersWritten(client), [['example.com/keep']], phase);
    }
  });

  it('leaves a protected volume that is not being deleted, and one that is gone', async () => {
    const { s, client } = fixture(volume('Bound'));
    await syncVolume(s, 'pv1');
    await syncVolume(s, 'other');
    assert.deepEqual(client.actions, []);
  });
});
