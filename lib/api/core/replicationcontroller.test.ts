import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type ReplicationController, replicationControllers, replicationControllerScaleSelector } from './replicationcontroller.js';

const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));
const now = new Date('2024-05-01T12:00:00Z');

function rc(mutate: (rc: ReplicationController) => void = () => {}): ReplicationController {
  const o: ReplicationController = {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'legacy', namespace: 'ns', creationTimestamp: '2024-05-01T11:58:00Z' },
    spec: { template: { metadata: { labels: { app: 'legacy', tier: 'fe' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
  mutate(o);
  replicationControllers.defaults!(o);
  return o;
}

test('an RC defaults its selector and its own labels from the template, and one replica', () => {
  const o = rc();
  assert.deepEqual(o.spec?.selector, { app: 'legacy', tier: 'fe' });
  assert.deepEqual(o.metadata.labels, { app: 'legacy', tier: 'fe' });
  assert.equal(o.spec?.replicas, 1);
  assert.equal(o.spec?.template?.spec?.restartPolicy, 'Always');
  assert.deepEqual(msgs(replicationControllers.validate!(o)), []);
  // Given ones are kept.
  const kept = rc((r) => {
    r.metadata.labels = { owner: 'me' };
    r.spec!.selector = { app: 'legacy' };
  });
  assert.deepEqual([kept.metadata.labels, kept.spec?.selector], [{ owner: 'me' }, { app: 'legacy' }]);
  assert.equal(replicationControllerScaleSelector(kept), 'app=legacy');
});

test('RC validation: the selector must match the template labels, restartPolicy Always, no deadline', () => {
  assert.deepEqual(msgs(replicationControllers.validate!(rc((r) => (r.spec!.selector = { app: 'other' })))), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"legacy", "tier":"fe"}: `selector` does not match template `labels`',
  ]);
  const bad = rc((r) => {
    r.spec!.replicas = -1;
    r.spec!.template!.spec!.restartPolicy = 'Never';
    r.spec!.template!.spec!.activeDeadlineSeconds = 5;
  });
  assert.deepEqual(msgs(replicationControllers.validate!(bad)), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported',
  ]);
  const noTemplate: ReplicationController = { metadata: { name: 'x', namespace: 'ns' }, spec: {} };
  replicationControllers.defaults!(noTemplate);
  assert.deepEqual(msgs(replicationControllers.validate!(noTemplate)), ['spec.selector: Required value', 'spec.template: Required value']);
});

test('RC columns are kubectl\'s, with the selector as a label list', () => {
  const o = { ...rc(), status: { replicas: 2, readyReplicas: 1 } };
  assert.deepEqual(
    replicationControllers.printerColumns!.map((c) => [c.name, c.cell(o, now)]),
    [['Name', 'legacy'], ['Desired', 1], ['Current', 2], ['Ready', 1], ['Age', '2m'], ['Containers', 'c'], ['Images', 'nginx'], ['Selector', 'app=legacy,tier=fe']],
  );
});
