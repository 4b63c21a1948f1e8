import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../../lib/api/core/node.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../../lib/api/core/persistentvolume.js';
import type { StorageClass } from '../../../lib/api/storage/storageclass.js';
import { listerOf } from '../../../lib/controller/factory.js';
import { PersistentVolumeClaims, PersistentVolumes } from '../../../lib/client/resources.js';
import { FakeClient } from '../../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../../lib/testing/fakerecorder.js';
import { type VolumeBinder, externalProvisioningMessage, syncClaim, syncVolume } from './sync.js';

const pv = (name: string, size: string, extra: Partial<PersistentVolume['spec']> = {}, phase = 'Available'): PersistentVolume => ({
  metadata: { name, resourceVersion: '10' },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem', hostPath: { path: `/data/${name}` }, ...extra },
  status: { phase },
});

const pvc = (name: string, extra: Partial<PersistentVolumeClaim['spec']> = {}, annotations?: Record<string, string>): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'team', uid: `uid-${name}`, resourceVersion: '20', ...(annotations ? { annotations } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', storageClassName: '', ...extra },
  status: { phase: 'Pending' },
});

const wffc: StorageClass = { metadata: { name: 'local-path' }, provisioner: 'skiff.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' };
const nodeA: Node = { metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } } };

function binder(objs: { claims?: PersistentVolumeClaim[]; volumes?: PersistentVolume[]; classes?: StorageClass[] }): { b: VolumeBinder; client: FakeClient; recorder: FakeRecorder } {
  const client = new FakeClient();
  client.add(PersistentVolumeClaims, ...(objs.claims ?? []));
  client.add(PersistentVolumes, ...(objs.volumes ?? []));
  const recorder = new FakeRecorder();
  const b: VolumeBinder = { client, recorder, claims: listerOf(objs.claims ?? []), volumes: listerOf(objs.volumes ?? []), classes: listerOf(objs.classes ?? []), nodes: listerOf([nodeA]) };
  return { b, client, recorder };
}

const summary = (client: FakeClient) => client.writes().map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.name}`);

describe('persistentvolume binder syncClaim', () => {
  it('binds an unbound claim to the smallest volume that fits, in kube\'s four writes', async () => {
    const { b, client } = binder({ claims: [pvc('data')], volumes: [pv('big', '10Gi'), pv('small', '2Gi'), pv('tiny', '500Mi'), pv('rwx', '1Gi', { accessModes: ['ReadWriteMany'] })] });
    await syncClaim(b, 'team/data');
    assert.deepEqual(summary(client), ['update persistentvolumes small', 'update persistentvolumes/status small', 'update persistentvolumeclaims data', 'update persistentvolumeclaims/status data']);
    const [volume, volumeStatus, claim, claimStatus] = client.writes().map((a) => a.object) as [PersistentVolume, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaim];
    assert.deepEqual(volume.spec.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'team', name: 'data', uid: 'uid-data', apiVersion: 'v1', resourceVersion: '20' });
    assert.equal(volume.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(volumeStatus.status?.phase, 'Bound');
    assert.equal(claim.spec.volumeName, 'small');
    assert.deepEqual(claim.metadata.annotations, { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    assert.deepEqual(claimStatus.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
  });

  it('takes the volume the claim names, and says why it cannot', async () => {
    const named = binder({ claims: [pvc('data', { volumeName: 'big' })], volumes: [pv('small', '2Gi'), pv('big', '10Gi')] });
    await syncClaim(named.b, 'team/data');
    assert.equal(named.client.writes()[0]!.name, 'big');
    const claim = named.client.writes()[2]!.object as PersistentVolumeClaim;
    assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined, 'the user named the volume');
    const tooSmall = binder({ claims: [pvc('data', { volumeName: 'tiny' })], volumes: [pv('tiny', '100Mi')] });
    await syncClaim(tooSmall.b, 'team/data');
    assert.deepEqual(tooSmall.client.writes(), []);
    assert.deepEqual(tooSmall.recorder.events, ['Warning VolumeMismatch Cannot bind to requested volume "tiny": requested PV is too small']);
  });

  it('leaves a claim Pending with kube\'s event when nothing fits and no class is set', async () => {
    const { b, client, recorder } = binder({ claims: [pvc('data')], volumes: [pv('tiny', '100Mi'), pv('taken', '5Gi', { claimRef: { namespace: 'team', name: 'other', uid: 'u' } }, 'Bound')] });
    await syncClaim(b, 'team/data');
    assert.deepEqual(client.writes(), []);
    assert.deepEqual(recorder.events, ['Normal FailedBinding no persistent volumes available for this claim and no storage class is set']);
  });

  it('waits for the first consumer, then annotates the claim for the provisioner of its class', async () => {
    const waiting = binder({ claims: [pvc('data', { storageClassName: 'local-path' })], classes: [wffc] });
    await syncClaim(waiting.b, 'team/data');
    assert.deepEqual(waiting.client.writes(), []);
    assert.deepEqual(waiting.recorder.events, ['Normal WaitForFirstConsumer waiting for first consumer to be created before binding']);

    const selected = binder({ claims: [pvc('data', { storageClassName: 'local-path' }, { 'volume.kubernetes.io/selected-node': 'node-a' })], classes: [wffc] });
    await syncClaim(selected.b, 'team/data');
    assert.deepEqual(summary(selected.client), ['update persistentvolumeclaims data']);
    const claim = selected.client.writes()[0]!.object as PersistentVolumeClaim;
    assert.equal(claim.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'skiff.dev/local-path');
    assert.equal(claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-provisioner'], 'skiff.dev/local-path');
    assert.deepEqual(selected.recorder.events, [`Normal ExternalProvisioning ${externalProvisioningMessage('skiff.dev/local-path')}`]);
  });

  it('binds a delayed claim only to a volume reachable from the selected node', async () => {
    const onB = pv('on-b', '1Gi', { storageClassName: 'local-path', nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b'] }] }] } } });
    const onA = pv('on-a', '5Gi', { storageClassName: 'local-path', nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] }] } } });
    const { b, client } = binder({ claims: [pvc('data', { storageClassName: 'local-path' }, { 'volume.kubernetes.io/selected-node': 'node-a' })], volumes: [onB, onA], classes: [wffc] });
    await syncClaim(b, 'team/data');
    assert.equal(client.writes()[0]!.name, 'on-a');
  });

  it('calls a bound claim Lost when its volume is gone', async () => {
    const { b, client, recorder } = binder({ claims: [{ ...pvc('data', { volumeName: 'gone' }, { 'pv.kubernetes.io/bind-completed': 'yes' }), status: { phase: 'Bound' } }] });
    await syncClaim(b, 'team/data');
    assert.deepEqual(summary(client), ['update persistentvolumeclaims/status data']);
    assert.equal((client.writes()[0]!.object as PersistentVolumeClaim).status?.phase, 'Lost');
    assert.deepEqual(recorder.events, ['Warning ClaimLost Bound claim has lost its PersistentVolume. Data on the volume is lost!']);
  });

  it('writes nothing for a claim whose binding is complete', async () => {
    const claim: PersistentVolumeClaim = { ...pvc('data', { volumeName: 'v' }, { 'pv.kubernetes.io/bind-completed': 'yes' }), status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } };
    const volume = pv('v', '1Gi', { claimRef: { namespace: 'team', name: 'data', uid: 'uid-data' } }, 'Bound');
    const { b, client } = binder({ claims: [claim], volumes: [volume] });
    await syncClaim(b, 'team/data');
    assert.deepEqual(client.writes(), []);
  });
});

describe('persistentvolume binder syncVolume', () => {
  it('makes a volume without claimRef Available', async () => {
    const { b, client } = binder({ volumes: [pv('v', '1Gi', {}, 'Pending')] });
    await syncVolume(b, 'v');
    assert.deepEqual(summary(client), ['update persistentvolumes/status v']);
    assert.equal((client.writes()[0]!.object as PersistentVolume).status?.phase, 'Available');
  });

  it('releases a volume whose claim is gone: Retain keeps it, Delete without a provisioner fails it', async () => {
    const retained = binder({ volumes: [pv('v', '1Gi', { claimRef: { namespace: 'team', name: 'data', uid: 'uid-data' } }, 'Bound')] });
    await syncVolume(retained.b, 'v');
    assert.deepEqual(summary(retained.client), ['update persistentvolumes/status v']);
    assert.equal((retained.client.writes()[0]!.object as PersistentVolume).status?.phase, 'Released');

    const deleted = binder({ volumes: [pv('v', '1Gi', { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'team', name: 'data', uid: 'uid-data' } }, 'Released')] });
    await syncVolume(deleted.b, 'v');
    const st = (deleted.client.writes()[0]!.object as PersistentVolume).status;
    assert.equal(st?.phase, 'Failed');
    assert.deepEqual(deleted.recorder.events, ['Warning VolumeFailedDelete error getting deleter volume plugin for volume "v": no deletable volume plugin matched']);

    const provisioned = binder({ volumes: [{ ...pv('v', '1Gi', { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'team', name: 'data', uid: 'uid-data' } }, 'Released'), metadata: { name: 'v', annotations: { 'pv.kubernetes.io/provisioned-by': 'skiff.dev/local-path' } } }] });
    await syncVolume(provisioned.b, 'v');
    assert.deepEqual(provisioned.client.writes(), [], 'its provisioner deletes it');
  });

  it('a volume marked for deletion stays Bound while its claim exists and is Released once it is gone', async () => {
    const deleting = (phase: string): PersistentVolume => {
      const v = pv('v', '1Gi', { claimRef: { namespace: 'team', name: 'data', uid: 'uid-data' } }, phase);
      v.metadata = { ...v.metadata, deletionTimestamp: '2024-05-01T12:00:00Z', finalizers: ['kubernetes.io/pv-protection'] };
      return v;
    };
    const bound: PersistentVolumeClaim = { ...pvc('data', { volumeName: 'v' }, { 'pv.kubernetes.io/bind-completed': 'yes' }), status: { phase: 'Bound' } };
    const kept = binder({ claims: [bound], volumes: [deleting('Bound')] });
    await syncVolume(kept.b, 'v');
    assert.deepEqual(kept.client.writes(), []);

    const released = binder({ volumes: [deleting('Bound')] });
    await syncVolume(released.b, 'v');
    assert.deepEqual(summary(released.client), ['update persistentvolumes/status v']);
    assert.equal((released.client.writes()[0]!.object as PersistentVolume).status?.phase, 'Released', 'pv-protection lets it go now');
  });

  it('a claim does not bind to a volume marked for deletion', async () => {
    const v = pv('v', '1Gi', { storageClassName: '' });
    v.metadata = { ...v.metadata, deletionTimestamp: '2024-05-01T12:00:00Z', finalizers: ['kubernetes.io/pv-protection'] };
    const named = binder({ claims: [pvc('data', { volumeName: 'v' })], volumes: [v] });
    await syncClaim(named.b, 'team/data');
    assert.deepEqual(named.client.writes(), []);
    assert.deepEqual(named.recorder.events, ['Warning VolumeMismatch Cannot bind to requested volume "v": the volume is marked for deletion "v"']);
    const any = binder({ claims: [pvc('data')], volumes: [v] });
    await syncClaim(any.b, 'team/data');
    assert.deepEqual(any.client.writes(), []);
  });

  it('a claim re-created under the same name does not take a Released volume back', async () => {
    const volume = pv('v', '1Gi', { storageClassName: 'manual', claimRef: { namespace: 'team', name: 'data', uid: 'uid-old' } }, 'Released');
    const { b, client } = binder({ claims: [pvc('data', { storageClassName: 'manual' })], volumes: [volume] });
    await syncVolume(b, 'v');
    await syncClaim(b, 'team/data');
    assert.deepEqual(client.writes(), []);
  });
});
