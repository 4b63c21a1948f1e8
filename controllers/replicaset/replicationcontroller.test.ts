import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ReplicationController } from '../../lib/api/core/replicationcontroller.js';
import { Pods, ReplicationControllers } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { ReplicaSetEventHandlers } from './handlers.js';
import { rcFromReplicaSet, rcListerAsReplicaSets, replicaSetFromRC, replicationControllerKind } from './replicationcontroller.js';
import { ReplicaSetSyncer } from './sync.js';

const now = new Date('2024-05-01T12:00:00Z');

function rc(replicas: number): ReplicationController {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'legacy', namespace: 'ns', uid: 'rc-uid', resourceVersion: '3', generation: 2 },
    spec: { replicas, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    status: { replicas: 0 },
  };
}

const rcRef = { apiVersion: 'v1', kind: 'ReplicationController', name: 'legacy', uid: 'rc-uid', controller: true, blockOwnerDeletion: true };

describe('the ReplicationController manager (the ReplicaSet syncer over converted RCs)', () => {
  it('converts the equality-based selector both ways', () => {
    const rs = replicaSetFromRC(rc(2));
    assert.deepEqual(rs.spec.selector, { matchLabels: { app: 'legacy' } });
    assert.deepEqual(rcFromReplicaSet(rs), rc(2));
  });

  it('creates pods the RC controls, with RC events, and writes the RC\'s status as an RC', async () => {
    const client = new FakeClient();
    client.add(ReplicationControllers, rc(2));
    const recorder = new FakeRecorder();
    const syncer = new ReplicaSetSyncer({
      client,
      replicaSets: rcListerAsReplicaSets(listerOf([rc(2)])),
      kind: replicationControllerKind,
      pods: listerOf<Pod>([]),
      recorder,
      expectations: new UIDTrackingControllerExpectations(() => now.getTime()),
      now: () => now,
    });
    await syncer.syncReplicaSet('ns/legacy');
    const writes = client.writes();
    assert.deepEqual(writes.map((a) => `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`), ['create pods', 'create pods', 'update replicationcontrollers/status']);
    assert.deepEqual((writes[0]!.object as Pod).metadata.ownerReferences, [rcRef]);
    assert.deepEqual((writes[0]!.object as Pod).metadata.generateName, 'legacy-');
    for (const e of recorder.events) assert.match(e, /^Normal SuccessfulCreate Created pod: legacy-/);
    const status = writes[2]!.object as ReplicationController;
    assert.equal(status.kind, 'ReplicationController');
    assert.deepEqual(status.spec?.selector, { app: 'legacy' });
    assert.deepEqual(status.status, { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 2 });
  });

  it('the handlers follow pods whose controllerRef names the RC', () => {
    const keys: string[] = [];
    const expectations = new UIDTrackingControllerExpectations(() => now.getTime());
    const h = new ReplicaSetEventHandlers(rcListerAsReplicaSets(listerOf([rc(1)])), expectations, { enqueueKey: (k) => keys.push(k), enqueueAfter: () => {} }, undefined, 'ReplicationController');
    const owned: Pod = { metadata: { name: 'legacy-x', namespace: 'ns', labels: { app: 'legacy' }, ownerReferences: [rcRef] }, spec: { containers: [] } };
    h.addPod(owned);
    const rsOwned: Pod = { ...owned, metadata: { ...owned.metadata, ownerReferences: [{ ...rcRef, apiVersion: 'apps/v1', kind: 'ReplicaSet' }] } };
    h.addPod(rsOwned);
    assert.deepEqual(keys, ['ns/legacy']);
  });
});
