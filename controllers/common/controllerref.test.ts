import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import type { ReplicaSet } from '../../lib/api/apps/types.js';
import type { OwnerReference } from '../../lib/api/meta.js';
import { ApiError, Pods, ReplicaSets } from '../../lib/client/index.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { labelSelectorAsSelector } from '../../lib/machinery/labels.js';
import { ClaimError, ControllerRefManager, getControllerOf, newControllerRef } from './controllerref.js';

const rs = (over: Partial<ReplicaSet['metadata']> = {}): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid', ...over },
  spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } } } },
});

const ref = (uid: string, controller = true): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `owner-${uid}`, uid, controller, blockOwnerDeletion: true });

function pod(name: string, labels: Record<string, string>, owners?: OwnerReference[], extra: Partial<Pod['metadata']> = {}): Pod {
  return { metadata: { name, namespace: 'ns', uid: `pod-${name}`, labels, ownerReferences: owners, ...extra }, spec: { containers: [] } };
}

function manager(client: FakeClient, owner = rs()) {
  return new ControllerRefManager({ client, owner, ownerType: ReplicaSets, resource: Pods, selector: labelSelectorAsSelector(owner.spec.selector) });
}

const names = (objs: Array<{ metadata?: { name?: string } }>) => objs.map((o) => o.metadata?.name);

describe('ControllerRefManager', () => {
  it('keeps owned matching children, adopts matching orphans after a fresh GET, ignores others', async () => {
    const owner = rs();
    const orphan = pod('orphan', { app: 'web' });
    const client = new FakeClient().add(ReplicaSets, owner).add(Pods, orphan);
    const pods = [
      pod('mine', { app: 'web' }, [ref('rs-uid')]),
      orphan,
      pod('theirs', { app: 'web' }, [ref('other-uid')]),
      pod('not-controller-ref', { app: 'db' }, [ref('rs-uid', false)]),
      pod('no-match', { app: 'db' }),
      pod('orphan-deleting', { app: 'web' }, undefined, { deletionTimestamp: '2024-01-01T00:00:00Z' }),
    ];
    const claimed = await manager(client, owner).claim(pods);
    assert.deepEqual(names(claimed), ['mine', 'orphan']);
    assert.deepEqual(
      client.actions.map((a) => `${a.verb} ${a.resource}/${a.name}`),
      ['get replicasets/web', 'patch pods/orphan'],
    );
    const patch = client.actions[1]!;
    assert.equal(patch.patchType, 'strategic');
    assert.deepEqual(patch.patch, {
      metadata: {
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
        uid: 'pod-orphan',
      },
    });
    assert.equal(getControllerOf(claimed[1]!)?.uid, 'rs-uid', 'the adopted child is returned as patched');
  });

  it('releases owned children that stopped matching, tolerating 404 and 409', async () => {
    const client = new FakeClient().add(Pods, pod('relabelled', { app: 'other' }, [ref('rs-uid')]));
    const pods = [pod('relabelled', { app: 'other' }, [ref('rs-uid')]), pod('gone', { app: 'other' }, [ref('rs-uid')])];
    const claimed = await manager(client).claim(pods);
    assert.deepEqual(claimed, []);
    assert.deepEqual(client.writes().map((a) => [a.verb, a.name, a.patch]), [
      ['patch', 'relabelled', { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'pod-relabelled' } }],
      ['patch', 'gone', { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }], uid: 'pod-gone' } }],
    ]);

    const conflicted = new FakeClient().failOn('patch', 'pods', new ApiError({ code: 409, reason: 'Conflict', message: 'modified' }));
    assert.deepEqual(await manager(conflicted).claim([pod('x', { app: 'other' }, [ref('rs-uid')])]), []);
  });

  it('neither adopts nor releases while the owner is being deleted', async () => {
    const client = new FakeClient();
    const owner = rs({ deletionTimestamp: '2024-01-01T00:00:00Z' });
    const claimed = await manager(client, owner).claim([pod('orphan', { app: 'web' }), pod('stale', { app: 'db' }, [ref('rs-uid')]), pod('mine', { app: 'web' }, [ref('rs-uid')])]);
    assert.deepEqual(names(claimed), ['mine']);
    assert.deepEqual(client.actions, []);
  });

  it('refuses to adopt when the fresh owner has another uid or is being deleted, and reports it', async () => {
    const recreated = new FakeClient().add(ReplicaSets, rs({ uid: 'new-uid' })).add(Pods, pod('a', { app: 'web' }), pod('b', { app: 'web' }));
    const mine = pod('mine', { app: 'web' }, [ref('rs-uid')]);
    const err = await manager(recreated)
      .claim([pod('a', { app: 'web' }), mine, pod('b', { app: 'web' })])
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ClaimError, `expected a ClaimError, got ${String(err)}`);
    assert.equal(err.errors.length, 2);
    assert.match(err.errors[0]!.message, /^can't adopt Pod ns\/a \(pod-a\): can't recheck DeletionTimestamp: original ReplicaSet ns\/web is gone: got uid new-uid, wanted rs-uid$/);
    assert.deepEqual(names(err.claimed as Pod[]), ['mine']);
    // The owner is read once for both adoptions, and nothing is patched.
    assert.deepEqual(recreated.actions.map((a) => a.verb), ['get']);

    const deleting = new FakeClient().add(ReplicaSets, rs({ deletionTimestamp: '2024-01-01T00:00:00Z' }));
    await assert.rejects(manager(deleting).claim([pod('a', { app: 'web' })]), /can't adopt Pod ns\/a \(pod-a\): ns\/web has just been deleted at 2024-01-01T00:00:00Z/);

    const missing = new FakeClient();
    await assert.rejects(manager(missing).claim([pod('a', { app: 'web' })]), /can't recheck DeletionTimestamp: replicasets.apps "web" not found/);
  });

  it('works for any kind: a Deployment claiming ReplicaSets, with filters', async () => {
    const deploy = { metadata: { name: 'd', namespace: 'ns', uid: 'd-uid' } };
    const Deployments = { ...ReplicaSets, resource: 'deployments', kind: 'Deployment' };
    const orphanRS = rs({ name: 'd-123', uid: 'rs1', ownerReferences: undefined });
    const client = new FakeClient().add(Deployments, deploy).add(ReplicaSets, orphanRS);
    const m = new ControllerRefManager({ client, owner: deploy, ownerType: Deployments, resource: ReplicaSets, selector: labelSelectorAsSelector({ matchLabels: { app: 'web' } }) });
    const skip = rs({ name: 'd-skip', uid: 'rs2' });
    const claimed = await m.claim([{ ...orphanRS, metadata: { ...orphanRS.metadata, labels: { app: 'web' } } }, { ...skip, metadata: { ...skip.metadata, labels: { app: 'web' } } }], (o) => o.metadata.name !== 'd-skip');
    assert.deepEqual(names(claimed), ['d-123']);
    const patch = client.writes()[0]!;
    assert.equal(patch.resource, 'replicasets');
    assert.deepEqual((patch.patch as { metadata: { ownerReferences: OwnerReference[] } }).metadata.ownerReferences, [newControllerRef(deploy, Deployments)]);
    assert.equal(newControllerRef(deploy, Deployments).kind, 'Deployment');
  });
});
