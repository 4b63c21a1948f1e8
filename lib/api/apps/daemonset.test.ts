import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type DaemonSet, daemonSets } from './daemonset.js';

const ctx = { now: new Date('2024-05-01T10:05:00Z') };
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function daemonSet(mutate: (d: DaemonSet) => void = () => {}): DaemonSet {
  const d: DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', creationTimestamp: '2024-05-01T10:00:00Z', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1' }] } },
    },
  };
  mutate(d);
  daemonSets.defaults!(d);
  return d;
}

const validate = (d: DaemonSet) => msgs(daemonSets.validate!(d));

test('a minimal DaemonSet gets the apps/v1 defaults: RollingUpdate 1/0, history 10', () => {
  const d = daemonSet();
  assert.deepEqual(d.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.template!.spec!.restartPolicy, 'Always');
  assert.equal(d.spec.template!.spec!.dnsPolicy, 'ClusterFirst');
  assert.deepEqual(validate(d), []);
  // OnDelete gets no rollingUpdate.
  assert.deepEqual(daemonSet((d) => (d.spec.updateStrategy = { type: 'OnDelete' })).spec.updateStrategy, { type: 'OnDelete' });
});

test('the selector must match the template labels, with Kubernetes message', () => {
  assert.deepEqual(validate(daemonSet((d) => (d.spec.template!.metadata!.labels = { app: 'other' }))), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
  ]);
  // No selector selects nothing: the template cannot match it.
  assert.deepEqual(validate(daemonSet((d) => delete d.spec.selector)), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"agent"}: `selector` does not match template `labels`',
  ]);
  const empty = daemonSets.validate!(daemonSet((d) => (d.spec.selector = {})));
  assert.deepEqual(
    empty.map((e) => [e.field, e.detail]),
    [['spec.selector', 'empty selector is invalid for daemonset']],
  );
});

test('restartPolicy must be Always and activeDeadlineSeconds is forbidden', () => {
  assert.deepEqual(validate(daemonSet((d) => (d.spec.template!.spec!.restartPolicy = 'OnFailure'))), [
    'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
  ]);
  assert.deepEqual(validate(daemonSet((d) => (d.spec.template!.spec!.activeDeadlineSeconds = 5))), [
    'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported',
  ]);
});

test('exactly one of maxUnavailable and maxSurge is non-zero, each at most 100%', () => {
  const withRU = (ru: Record<string, unknown>) => daemonSets.validate!(daemonSet((d) => (d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: ru })));
  assert.deepEqual(
    withRU({ maxUnavailable: 1, maxSurge: 1 }).map((e) => [e.field, e.type, e.detail]),
    [['spec.updateStrategy.rollingUpdate.maxSurge', 'FieldValueInvalid', 'may not be set when maxUnavailable is non-zero']],
  );
  assert.deepEqual(
    withRU({ maxUnavailable: 0, maxSurge: '0%' }).map((e) => [e.field, e.type, e.detail]),
    [['spec.updateStrategy.rollingUpdate.maxUnavailable', 'FieldValueRequired', 'cannot be 0 when maxSurge is 0']],
  );
  assert.deepEqual(withRU({ maxUnavailable: 0, maxSurge: '20%' }), []);
  assert.deepEqual(
    withRU({ maxUnavailable: '150%', maxSurge: 0 }).map((e) => [e.field, e.detail]),
    [['spec.updateStrategy.rollingUpdate.maxUnavailable', 'must not be greater than 100%']],
  );
  const unknown = daemonSets.validate!(daemonSet((d) => (d.spec.updateStrategy = { type: 'Sometimes' })));
  assert.deepEqual(
    unknown.map((e) => [e.field, e.type]),
    [['spec.updateStrategy', 'FieldValueNotSupported']],
  );
  assert.match(fieldErrorMessage(unknown[0]!), /supported values: "RollingUpdate", "OnDelete"$/);
});

test('revisionHistoryLimit and minReadySeconds must not be negative', () => {
  assert.deepEqual(
    validate(
      daemonSet((d) => {
        d.spec.revisionHistoryLimit = -1;
        d.spec.minReadySeconds = -2;
      }),
    ),
    ['spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0', 'spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0'],
  );
});

test('the template generation annotation starts at 1 and moves only with the template; the selector is immutable', () => {
  const created = daemonSet();
  daemonSets.prepareForCreate!(created, ctx);
  assert.equal(created.metadata.annotations?.['deprecated.daemonset.template.generation'], '1');
  assert.deepEqual(created.status, {});

  const scaled = structuredClone(created);
  scaled.spec.minReadySeconds = 5;
  // A client cannot set it.
  scaled.metadata.annotations!['deprecated.daemonset.template.generation'] = '9';
  daemonSets.prepareForUpdate!(scaled, created, ctx);
  assert.equal(scaled.metadata.annotations?.['deprecated.daemonset.template.generation'], '1');

  const updated = structuredClone(created);
  updated.spec.template!.spec!.containers![0]!.image = 'busybox:2';
  daemonSets.prepareForUpdate!(updated, created, ctx);
  assert.equal(updated.metadata.annotations?.['deprecated.daemonset.template.generation'], '2');

  const moved = structuredClone(created);
  moved.spec.selector = { matchLabels: { app: 'agent', tier: 'x' } };
  assert.deepEqual(
    daemonSets.validateUpdate!(moved, created).map((e) => [e.field, e.detail]),
    [['spec.selector', 'field is immutable']],
  );
});

test('status counts must not be negative and collisionCount never goes down', () => {
  const old = daemonSet((d) => (d.status = { collisionCount: 2 }));
  const next = structuredClone(old);
  next.status = { numberReady: -1, collisionCount: 1 };
  assert.deepEqual(msgs(daemonSets.validateStatusUpdate!(next, old)), ['status.numberReady: Invalid value: -1: must be greater than or equal to 0', 'status.collisionCount: Invalid value: 1: cannot be decremented']);
});

test('kubectl get ds columns: desired, current, ready, up-to-date, available, node selector; wide adds containers, images, selector', () => {
  const d = daemonSet((d) => {
    d.spec.template!.spec!.nodeSelector = { zone: 'a', role: 'edge' };
    d.status = { desiredNumberScheduled: 3, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 };
  });
  const cols = daemonSets.printerColumns!;
  assert.deepEqual(
    cols.map((c) => [c.name, c.priority ?? 0]),
    [
      ['Name', 0],
      ['Desired', 0],
      ['Current', 0],
      ['Ready', 0],
      ['Up-to-date', 0],
      ['Available', 0],
      ['Node Selector', 0],
      ['Age', 0],
      ['Containers', 1],
      ['Images', 1],
      ['Selector', 1],
    ],
  );
  assert.deepEqual(
    cols.map((c) => c.cell(d, ctx.now)),
    ['agent', 3, 2, 1, 2, 1, 'role=edge,zone=a', '5m', 'agent', 'busybox:1', 'app=agent'],
  );
  assert.deepEqual(daemonSets.shortNames, ['ds']);
  assert.deepEqual(daemonSets.categories, ['all']);
});
