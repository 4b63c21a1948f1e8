import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type Lease, leases } from './lease.js';

const ctx = { now: new Date('2024-05-01T11:00:00Z') };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function lease(spec: Lease['spec'] = {}): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'kube-scheduler', namespace: 'kube-system', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec,
  };
}

test('a leader-election Lease is valid', () => {
  const l = lease({ holderIdentity: 'node-1_3f2a', leaseDurationSeconds: 15, acquireTime: '2024-05-01T10:00:00.000000Z', renewTime: '2024-05-01T10:59:58.123456Z', leaseTransitions: 2 });
  assert.deepEqual(msgs(leases.validate!(l)), []);
});

test('leaseDurationSeconds must be positive and leaseTransitions non-negative', () => {
  assert.deepEqual(msgs(leases.validate!(lease({ leaseDurationSeconds: 0, leaseTransitions: -1 }))), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
  ]);
});

test('preferredHolder needs a strategy; strategies are checked where Kubernetes reports them', () => {
  assert.deepEqual(msgs(leases.validate!(lease({ preferredHolder: 'a' }))), ['spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined']);
  assert.deepEqual(msgs(leases.validate!(lease({ strategy: 'Newest' }))), [
    'spec.strategy.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"',
  ]);
  assert.deepEqual(msgs(leases.validate!(lease({ strategy: 'example.com/custom', preferredHolder: 'a' }))), []);
});

test('the CoordinatedLeaderElection fields are dropped while the gate is off, unless already set', () => {
  const created = lease({ holderIdentity: 'a', strategy: 'OldestEmulationVersion', preferredHolder: 'b' });
  leases.prepareForCreate!(created, ctx);
  assert.deepEqual(created.spec, { holderIdentity: 'a' });

  const old = lease({ strategy: 'OldestEmulationVersion' });
  const next = lease({ strategy: 'OldestEmulationVersion', preferredHolder: 'b' });
  leases.prepareForUpdate!(next, old, ctx);
  assert.deepEqual(next.spec, { strategy: 'OldestEmulationVersion' });
});

test('Lease table: NAME HOLDER AGE', () => {
  const cols = leases.printerColumns!;
  assert.deepEqual(
    cols.map((c) => c.name),
    ['Name', 'Holder', 'Age'],
  );
  assert.deepEqual(
    cols.map((c) => c.cell(lease({ holderIdentity: 'node-1' }), ctx.now)),
    ['kube-scheduler', 'node-1', '60m'],
  );
  assert.equal(cols[1].cell(lease(), ctx.now), '');
});

test('a PUT may create a Lease', () => {
  assert.equal(leases.allowCreateOnUpdate, true);
  assert.equal(leases.group, 'coordination.k8s.io');
  assert.equal(leases.hasGeneration, undefined);
});
