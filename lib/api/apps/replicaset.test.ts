import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { replicaSets } from './replicaset.js';
import type { ReplicaSet } from './types.js';

const ctx = { now: new Date('2024-05-01T12:00:00Z') };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function replicaSet(mutate: (rs: ReplicaSet) => void = () => {}): ReplicaSet {
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-7d9f8b6c5', namespace: 'default', creationTimestamp: '2024-05-01T09:00:00Z' },
    spec: {
      selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d9f8b6c5' } },
      template: {
        metadata: { labels: { app: 'web', 'pod-template-hash': '7d9f8b6c5' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    },
  };
  mutate(rs);
  replicaSets.defaults!(rs);
  return rs;
}

test('a ReplicaSet defaults to one replica and a defaulted template', () => {
  const rs = replicaSet();
  assert.equal(rs.spec.replicas, 1);
  assert.equal(rs.spec.template?.spec?.restartPolicy, 'Always');
  assert.deepEqual(msgs(replicaSets.validate!(rs)), []);
});

test('ReplicaSet validation: replicas, minReadySeconds, selector', () => {
  assert.deepEqual(
    msgs(
      replicaSets.validate!(
        replicaSet((rs) => {
          rs.spec.replicas = -2;
          rs.spec.minReadySeconds = -1;
        }),
      ),
    ),
    ['spec.replicas: Invalid value: -2: must be greater than or equal to 0', 'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0'],
  );
  // Kubernetes reuses the Deployment wording for ReplicaSets.
  const errs = replicaSets.validate!(replicaSet((rs) => (rs.spec.selector = { matchLabels: {} })));
  assert.deepEqual(
    errs.map((e) => [e.field, e.detail]),
    [['spec.selector', 'empty selector is invalid for deployment']],
  );
});

test('the ReplicaSet selector is immutable', () => {
  const old = replicaSet();
  const next = replicaSet((rs) => (rs.spec.selector = { matchLabels: { app: 'web' } }));
  assert.deepEqual(
    replicaSets.validateUpdate!(next, old).map((e) => [e.field, e.detail]),
    [['spec.selector', 'field is immutable']],
  );
});

test('create resets status to the apps/v1 zero status, which keeps replicas', () => {
  const rs = replicaSet((rs) => (rs.status = { replicas: 4, readyReplicas: 4 }));
  replicaSets.prepareForCreate!(rs, ctx);
  assert.deepEqual(rs.status, { replicas: 0 });
  const update = replicaSet((rs) => (rs.status = { readyReplicas: 0 }));
  replicaSets.prepareForStatusUpdate!(update, rs, ctx);
  assert.deepEqual(update.status, { readyReplicas: 0, replicas: 0 });
});

test('status validation compares against status.replicas', () => {
  const rs = replicaSet((rs) => (rs.status = { replicas: 1, fullyLabeledReplicas: 2, readyReplicas: 1, availableReplicas: 1 }));
  assert.deepEqual(msgs(replicaSets.validateStatusUpdate!(rs, rs)), ['status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas']);
});

test('the table prints DESIRED CURRENT READY and, wide, FormatLabelSelector', () => {
  const cols = replicaSets.printerColumns!;
  assert.deepEqual(
    cols.map((c) => [c.name, c.type, c.priority ?? 0]),
    [
      ['Name', 'string', 0],
      ['Desired', 'integer', 0],
      ['Current', 'integer', 0],
      ['Ready', 'integer', 0],
      ['Age', 'string', 0],
      ['Containers', 'string', 1],
      ['Images', 'string', 1],
      ['Selector', 'string', 1],
    ],
  );
  const rs = replicaSet((rs) => {
    rs.spec.replicas = 3;
    rs.status = { replicas: 3, readyReplicas: 1 };
  });
  assert.deepEqual(
    cols.map((c) => c.cell(rs, ctx.now)),
    ['web-7d9f8b6c5', 3, 3, 1, '3h', 'web', 'nginx:1.27', 'app=web,pod-template-hash=7d9f8b6c5'],
  );
  const empty = replicaSet((rs) => (rs.spec.selector = {}));
  assert.equal(cols[7].cell(empty, ctx.now), '<none>');
});

test('the status.replicas field selector', () => {
  const sel = replicaSets.fieldSelectors!['status.replicas'];
  assert.equal(sel(replicaSet()), '0');
  assert.equal(sel(replicaSet((rs) => (rs.status = { replicas: 3 }))), '3');
});

test('ReplicaSet names', () => {
  assert.deepEqual([replicaSets.plural, replicaSets.singular, replicaSets.shortNames, replicaSets.categories], ['replicasets', 'replicaset', ['rs'], ['all']]);
  assert.equal(replicaSets.subresources?.scale?.selector?.(replicaSet()), 'app=web,pod-template-hash=7d9f8b6c5');
});
