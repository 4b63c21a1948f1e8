import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { ReplicaSet } from '../../lib/api/apps/types.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { listerOf } from '../../lib/controller/factory.js';
import { UIDTrackingControllerExpectations } from '../common/expectations.js';
import { ReplicaSetEventHandlers } from './handlers.js';

const rs = (name: string, uid: string, app: string, minReadySeconds?: number): ReplicaSet => ({
  metadata: { name, namespace: 'ns', uid },
  spec: { replicas: 1, minReadySeconds, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } } } },
});

const ref = (name: string, uid: string): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid, controller: true, blockOwnerDeletion: true });

function pod(rv: string, labels: Record<string, string>, owner?: OwnerReference, extra: { ready?: boolean; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid', resourceVersion: rv, labels, ownerReferences: owner ? [owner] : undefined, deletionTimestamp: extra.deleting ? '2024-01-01T00:00:00Z' : undefined },
    spec: { containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: extra.ready ? 'True' : 'False', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
  };
}

describe('ReplicaSetEventHandlers', () => {
  const web = rs('web', 'web-uid', 'web', 5);
  const api = rs('api', 'api-uid', 'api');
  let queued: string[];
  let later: Array<[string, number]>;
  let exp: UIDTrackingControllerExpectations;
  let h: ReplicaSetEventHandlers;
  beforeEach(() => {
    queued = [];
    later = [];
    exp = new UIDTrackingControllerExpectations(() => 0);
    h = new ReplicaSetEventHandlers(listerOf([web, api]), exp, { enqueueKey: (k) => queued.push(k), enqueueAfter: (k, ms) => later.push([k, ms]) });
  });

  it('a created pod lowers its owner\'s expectations; an orphan wakes the ReplicaSets that select it', () => {
    exp.expectCreations('ns/web', 1);
    h.addPod(pod('1', { app: 'web' }, ref('web', 'web-uid')));
    assert.equal(exp.satisfiedExpectations('ns/web'), true);
    assert.deepEqual(queued, ['ns/web']);

    queued = [];
    exp.expectCreations('ns/api', 1);
    h.addPod({ ...pod('1', { app: 'api' }), metadata: { ...pod('1', { app: 'api' }).metadata, name: 'orphan' } });
    assert.deepEqual(queued, ['ns/api']);
    assert.equal(exp.satisfiedExpectations('ns/api'), false, 'no controller waits for an orphan');

    // A controllerRef to a ReplicaSet that no longer exists (other uid) is ignored.
    queued = [];
    h.addPod({ ...pod('1', { app: 'web' }, ref('web', 'old-uid')), metadata: { ...pod('1', {}).metadata, name: 'stale', ownerReferences: [ref('web', 'old-uid')] } });
    assert.deepEqual(queued, []);
  });

  it('a released pod wakes its old owner, and the ReplicaSets that could adopt it', () => {
    const v1 = pod('1', { app: 'web' }, ref('web', 'web-uid'));
    h.addPod(v1);
    queued = [];
    // Same version again (a relist): nothing.
    h.updatePod(v1, pod('1', { app: 'web' }, ref('web', 'web-uid')));
    assert.deepEqual(queued, []);
    // Relabelled: its owner syncs and releases it.
    const v2 = pod('2', { app: 'api' }, ref('web', 'web-uid'));
    h.updatePod(v1, v2);
    assert.deepEqual(queued, ['ns/web']);
    // Released: the old owner syncs (to replace it), and api may adopt it.
    queued = [];
    h.updatePod(v2, pod('3', { app: 'api' }));
    assert.deepEqual(queued, ['ns/web', 'ns/api']);
  });

  it('a pod turning ready re-enqueues its owner after minReadySeconds', () => {
    const v1 = pod('1', { app: 'web' }, ref('web', 'web-uid'));
    h.addPod(v1);
    h.updatePod(v1, pod('2', { app: 'web' }, ref('web', 'web-uid'), { ready: true }));
    assert.deepEqual(later, [['ns/web', 6000]]);
  });

  it('a graceful deletion counts once: the deletionTimestamp update, not the final delete again', () => {
    const v1 = pod('1', { app: 'web' }, ref('web', 'web-uid'));
    h.addPod(v1);
    exp.expectDeletions('ns/web', ['ns/p', 'ns/other']);
    h.updatePod(v1, pod('2', { app: 'web' }, ref('web', 'web-uid'), { deleting: true }));
    assert.equal(exp.getExpectations('ns/web')?.del, 1);
    h.deletePod(pod('3', { app: 'web' }, ref('web', 'web-uid'), { deleting: true }));
    assert.equal(exp.getExpectations('ns/web')?.del, 1);
    assert.deepEqual(queued, ['ns/web', 'ns/web', 'ns/web']);
  });

  it('a ReplicaSet deleted, or recreated under its name, loses its expectations', () => {
    h.addRS(web);
    exp.expectCreations('ns/web', 3);
    h.updateRS(web, web);
    assert.equal(exp.satisfiedExpectations('ns/web'), false);
    h.updateRS(web, { ...web, metadata: { ...web.metadata, uid: 'new-uid' } });
    assert.equal(exp.satisfiedExpectations('ns/web'), true);
    exp.expectCreations('ns/web', 3);
    h.deleteRS(web);
    assert.equal(exp.getExpectations('ns/web'), undefined);
    assert.deepEqual(queued, ['ns/web', 'ns/web', 'ns/web', 'ns/web']);
  });
});
