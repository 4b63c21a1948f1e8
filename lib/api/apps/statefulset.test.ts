import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type FieldError, fieldErrorMessage } from '../../machinery/field-errors.js';
import { type StatefulSet, statefulSets } from './statefulset.js';

const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function statefulSet(mutate: (s: StatefulSet) => void = () => {}): StatefulSet {
  const s: StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T09:00:00Z' },
    spec: {
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
  mutate(s);
  statefulSets.defaults!(s);
  return s;
}

test('a StatefulSet gets kube 1.32 defaults', () => {
  const s = statefulSet();
  assert.equal(s.spec.replicas, 1);
  assert.equal(s.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.equal(s.spec.revisionHistoryLimit, 10);
  assert.deepEqual(s.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.spec.template?.spec?.restartPolicy, 'Always');
  const claim = s.spec.volumeClaimTemplates![0]!;
  assert.equal(claim.apiVersion, 'v1');
  assert.equal(claim.kind, 'PersistentVolumeClaim');
  assert.equal(claim.spec?.volumeMode, 'Filesystem');
  assert.equal((claim.status as { phase?: string } | undefined)?.phase, 'Pending');
  assert.deepEqual(msgs(statefulSets.validate!(s)), []);
  // OnDelete gets no rollingUpdate.
  assert.deepEqual(statefulSet((x) => (x.spec.updateStrategy = { type: 'OnDelete' })).spec.updateStrategy, { type: 'OnDelete' });
});

test('StatefulSet validation speaks kube’s messages', () => {
  assert.deepEqual(msgs(statefulSets.validate!(statefulSet((s) => (s.spec.selector = { matchLabels: { app: 'other' } })))), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
  ]);
  assert.deepEqual(
    msgs(
      statefulSets.validate!(
        statefulSet((s) => {
          s.spec.replicas = -1;
          s.spec.podManagementPolicy = 'Sometimes';
          s.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: -2 } };
          s.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep', whenScaled: 'Delete' };
          s.spec.ordinals = { start: -1 };
          s.spec.template!.spec!.restartPolicy = 'OnFailure';
        }),
      ),
    ),
    [
      `spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`,
      'spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0',
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    ],
  );
  assert.deepEqual(msgs(statefulSets.validate!(statefulSet((s) => (s.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 1 } })))), [
    `spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy 'RollingUpdate'`,
  ]);
  assert.deepEqual(
    statefulSets.validate!(statefulSet((s) => (s.spec.selector = {}))).map((e) => [e.field, e.detail]),
    [['spec.selector', 'empty selector is invalid for statefulset']],
  );
  // Pods are named after the set, so its name must be a DNS label.
  assert.deepEqual(
    statefulSets.validate!(statefulSet((s) => (s.metadata.name = 'web.v2'))).map((e) => e.field),
    ['metadata.name'],
  );
});

test('only replicas, ordinals, template, updateStrategy, the retention policy and minReadySeconds may change', () => {
  const old = statefulSet();
  const ok = statefulSet((s) => {
    s.spec.replicas = 5;
    s.spec.template!.spec!.containers![0]!.image = 'nginx:1.28';
    s.spec.updateStrategy = { type: 'OnDelete' };
    s.spec.minReadySeconds = 3;
    s.spec.ordinals = { start: 2 };
    s.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Delete' };
  });
  assert.deepEqual(msgs(statefulSets.validateUpdate!(ok, old)), []);
  const bad = statefulSet((s) => (s.spec.volumeClaimTemplates![0]!.spec!.resources = { requests: { storage: '2Gi' } }));
  assert.deepEqual(msgs(statefulSets.validateUpdate!(bad, old)), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
  assert.equal(statefulSets.validateUpdate!(statefulSet((s) => (s.spec.serviceName = 'other')), old).length, 1);
});

test('StatefulSet status: counts bounded by replicas, collisionCount never decremented', () => {
  const old = statefulSet((s) => (s.status = { replicas: 2, collisionCount: 2 }));
  const next = statefulSet((s) => (s.status = { replicas: 2, readyReplicas: 3, availableReplicas: 1, collisionCount: 1 }));
  assert.deepEqual(msgs(statefulSets.validateStatusUpdate!(next, old)), [
    'status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas',
    'status.collisionCount: Invalid value: 1: cannot be decremented',
  ]);
});

test('kubectl get statefulsets prints Name, Ready, Age (+ Containers, Images wide)', () => {
  const s = statefulSet((x) => {
    x.spec.replicas = 3;
    x.status = { replicas: 3, readyReplicas: 2 };
  });
  const now = new Date('2024-05-01T12:00:00Z');
  const cols = statefulSets.printerColumns!;
  assert.deepEqual(
    cols.map((c) => c.name),
    ['Name', 'Ready', 'Age', 'Containers', 'Images'],
  );
  assert.deepEqual(
    cols.map((c) => c.cell(s, now)),
    ['web', '2/3', '3h', 'nginx', 'nginx:1.27'],
  );
  assert.deepEqual(statefulSets.shortNames, ['sts']);
  assert.deepEqual(statefulSets.categories, ['all']);
});
