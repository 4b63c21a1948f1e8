import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PersistentVolumeClaim } from '../../../lib/api/core/persistentvolume.js';
import type { Pod } from '../../../lib/api/core/pod.js';
import { ApiError } from '../../../lib/client/client.js';
import { PersistentVolumeClaims, Pods } from '../../../lib/client/resources.js';
import { listerOf } from '../../../lib/controller/factory.js';
import { FakeClient } from '../../../lib/testing/fakeclient.js';
import { type PVCProtectionSyncer, claimKeysToCheck, podEventClaimKeys, podUsesClaim, syncClaim } from './sync.js';

const finalizer = 'kubernetes.io/pvc-protection';

function claim(o: { name?: string; protectedBy?: boolean; deleted?: boolean; ownerUID?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: o.name ?? 'pvc1',
      namespace: 'default',
      uid: 'claim-uid',
      resourceVersion: '7',
      ...(o.protectedBy === false ? {} : { finalizers: [finalizer] }),
      ...(o.deleted ? { deletionTimestamp: '2024-05-01T12:00:00Z', deletionGracePeriodSeconds: 0 } : {}),
      ...(o.ownerUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'pod1', uid: o.ownerUID, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
}

interface PodOpts {
  name?: string;
  uid?: string;
  namespace?: string;
  claims?: string[];
  ephemeral?: string[];
  emptyDir?: boolean;
  node?: string | null;
  phase?: string;
  deleting?: { grace: number; running?: boolean };
}

function pod(o: PodOpts = {}): Pod {
  const volumes: NonNullable<Pod['spec']['volumes']> = [
    ...(o.claims ?? []).map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })),
    ...(o.ephemeral ?? []).map((v) => ({ name: v, ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'] } } } })),
    ...(o.emptyDir ? [{ name: 'scratch', emptyDir: {} }] : []),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name ?? 'pod1',
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? 'pod-uid',
      ...(o.deleting ? { deletionTimestamp: '2024-05-01T12:00:00Z', deletionGracePeriodSeconds: o.deleting.grace } : {}),
    },
    spec: { ...(o.node === null ? {} : { nodeName: o.node ?? 'node1' }), containers: [{ name: 'c', image: 'busybox' }], volumes },
    status: {
      phase: o.phase ?? 'Running',
      containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: o.deleting && !o.deleting.running ? { terminated: { exitCode: 0 } } : { running: {} } }],
    },
  } as Pod;
}

/** fixture: cached are the pods the informer knows, live the ones the apiserver lists (cached ones included). */
function fixture(c: PersistentVolumeClaim, cached: Pod[] = [], late: Pod[] = []): { s: PVCProtectionSyncer; client: FakeClient } {
  const client = new FakeClient();
  client.add(PersistentVolumeClaims, c);
  client.add(Pods, ...cached, ...late);
  return { s: { client, claims: listerOf([c]), pods: listerOf(cached) }, client };
}

const summary = (client: FakeClient) => client.actions.map((a) => `${a.verb} ${a.resource} ${a.namespace}${a.name ? `/${a.name}` : ''}`);
const finalizersWritten = (client: FakeClient) => client.writes().map((a) => (a.object as PersistentVolumeClaim).metadata.finalizers ?? []);

describe('pvc-protection syncClaim', () => {
  it('adds the finalizer to a claim created without it', async () => {
    const { s, client } = fixture(claim({ protectedBy: false }));
    await syncClaim(s, 'default/pvc1');
    assert.deepEqual(summary(client), ['update persistentvolumeclaims default/pvc1']);
    assert.deepEqual(finalizersWritten(client), [[finalizer]]);
  });

  it('does nothing for a claim that has the finalizer and is not being deleted, even with no pod', async () => {
    const { s, client } = fixture(claim());
    await syncClaim(s, 'default/pvc1');
    assert.deepEqual(client.actions, []);
  });

  it('removes the finalizer of a deleted claim no pod uses, after a live list of the namespace', async () => {
    const { s, client } = fixture(claim({ deleted: true }), [pod({ claims: ['unrelated'], emptyDir: true }), pod({ name: 'elsewhere', namespace: 'other', claims: ['pvc1'] })]);
    await syncClaim(s, 'default/pvc1');
    assert.deepEqual(summary(client), ['list pods default', 'update persistentvolumeclaims default/pvc1']);
    assert.deepEqual(finalizersWritten(client), [[]]);
  });

  it('keeps a deleted claim a scheduled pod in the cache uses, without asking the apiserver', async () => {
    const { s, client } = fixture(claim({ deleted: true }), [pod({ claims: ['pvc1'] })]);
    await syncClaim(s, 'default/pvc1');
    assert.deepEqual(client.actions, []);
  });

  it('keeps a deleted claim while a pod that used it has finished but still exists', async () => {
    for (const phase of ['Succeeded', 'Failed']) {
      const { s, client } = fixture(claim({ deleted: true }), [pod({ claims: ['pvc1'], phase })]);
      await syncClaim(s, 'default/pvc1');
      assert.deepEqual(client.actions, [], phase);
    }
  });

  it('keeps a deleted claim whose pod the informer has not seen yet: the live list finds it', async () => {
    const { s, client } = fixture(claim({ deleted: true }), [], [pod({ claims: ['pvc1'] })]);
    await syncClaim(s, 'default/pvc1');
    assert.deepEqual(summary(client), ['list pods default']);
  });

  it('an unscheduled pod does not keep a deleted claim', async () => {
    const { s, client } = fixture(claim({ deleted: true }), [pod({ claims: ['pvc1'], node: null })]);
    await syncClaim(s, 'default/pvc1');
    assert.deepEqual(summary(client), ['list pods default', 'update persistentvolumeclaims default/pvc1']);
  });

  it('a failed finalizer removal throws, so the harness retries it', async () => {
    const { s, client } = fixture(claim({ deleted: true }));
    client.failOn('update', 'persistentvolumeclaims', new ApiError({ code: 409, reason: 'Conflict', message: 'conflict' }));
    await assert.rejects(syncClaim(s, 'default/pvc1'));
    assert.deepEqual(summary(client), ['list pods default', 'update persistentvolumeclaims default/pvc1']);
  });

  it('a claim that is gone is done', async () => {
    const { s, client } = fixture(claim());
    await syncClaim(s, 'default/missing');
    assert.deepEqual(client.actions, []);
  });
});

describe('pvc-protection podUsesClaim for ephemeral volumes', () => {
  it('counts the claim <pod>-<volume> only when the pod controls it and is not shut down', () => {
    const owned = claim({ name: 'pod1-scratch', ownerUID: 'pod-uid' });
    assert.equal(podUsesClaim(pod({ ephemeral: ['scratch'] }), owned), true);
    assert.equal(podUsesClaim(pod({ ephemeral: ['scratch'] }), claim({ name: 'pod1-scratch', ownerUID: 'someone-else' })), false, 'a claim of the same name the pod did not create');
    assert.equal(podUsesClaim(pod({ ephemeral: ['scratch'], deleting: { grace: 0 } }), owned), false, 'a pod the kubelet is done with');
    assert.equal(podUsesClaim(pod({ ephemeral: ['scratch'], deleting: { grace: 30, running: true } }), owned), true, 'a pod still terminating');
    assert.equal(podUsesClaim(pod({ claims: ['pvc1'], deleting: { grace: 0 } }), claim()), true, 'a direct claim counts until the pod object is gone');
  });
});

describe('pvc-protection pod events', () => {
  it('a scheduled pod that runs frees nothing; a finished, unscheduled or deleted one rechecks its claims', () => {
    const running = pod({ claims: ['pvc1'], ephemeral: ['scratch'] });
    assert.deepEqual(claimKeysToCheck(running, false), []);
    assert.deepEqual(claimKeysToCheck(running, true), ['default/pvc1', 'default/pod1-scratch']);
    assert.deepEqual(claimKeysToCheck(pod({ claims: ['pvc1'], phase: 'Succeeded' }), false), ['default/pvc1']);
    assert.deepEqual(claimKeysToCheck(pod({ claims: ['pvc1'], node: null }), false), ['default/pvc1']);
    assert.deepEqual(claimKeysToCheck(pod({ claims: ['pvc1'], deleting: { grace: 30 } }), false), ['default/pvc1'], 'deleted and nothing running');
    assert.deepEqual(claimKeysToCheck(pod({ claims: ['pvc1'], deleting: { grace: 30, running: true } }), false), [], 'deleted but still running');
  });

  it('an update that replaces the pod under the same name rechecks the old pod\'s claims', () => {
    const old = pod({ claims: ['pvc1'] });
    assert.deepEqual(podEventClaimKeys(old, pod({ uid: 'uid2' }), false), ['default/pvc1']);
    assert.deepEqual(podEventClaimKeys(old, pod({ claims: ['pvc1'] }), false), [], 'the same pod, still running');
  });
});
