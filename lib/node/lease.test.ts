import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseRenewal, nodeLease, nodeLeaseRenewIntervalMs } from './lease.js';

test('a node Lease is held by the node for 40 s, owned by the Node, and renewed every 10 s', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const lease = nodeLease('n1', 'uid-1', now);
  assert.equal(lease.metadata.namespace, 'kube-node-lease');
  assert.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-1' }]);
  assert.equal(lease.spec?.leaseDurationSeconds, 40);
  assert.equal(lease.spec?.renewTime, '2024-05-01T12:00:00.000000Z');
  assert.equal(nodeLease('n1', undefined, now).metadata.ownerReferences, undefined, 'no owner before the Node has a uid');
  assert.equal(leaseRenewal('n1', new Date('2024-05-01T12:00:10Z')).spec?.renewTime, '2024-05-01T12:00:10.000000Z');
  assert.equal(nodeLeaseRenewIntervalMs(), 10_000);
});
