import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type StatefulSet, statefulSets } from '../../lib/api/apps/statefulset.js';
import { decodeKubeProtobuf } from './decode.js';
import { encodeKubeProtobuf } from './testing.js';

test('a defaulted StatefulSet with claim templates and a status round-trips through apps.v1.StatefulSet', () => {
  const set: StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 0,
      serviceName: 'nginx',
      podManagementPolicy: 'Parallel',
      ordinals: { start: 3 },
      minReadySeconds: 5,
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    },
  };
  statefulSets.defaults!(set);
  // Pointers keep their zeros (replicas 0, partition 0, collisionCount 0); replicas and availableReplicas are never omitted.
  set.status = { observedGeneration: 2, replicas: 0, availableReplicas: 0, currentRevision: 'web-5d8f7c9b6', updateRevision: 'web-5d8f7c9b6', collisionCount: 0 };
  const json = JSON.parse(JSON.stringify(set));
  // A claim template's apiVersion and kind are no protobuf fields (TypeMeta is not in the message):
  // defaulting writes them back, as apps/v1's conversion does in Kubernetes.
  for (const claim of json.spec.volumeClaimTemplates) {
    delete claim.apiVersion;
    delete claim.kind;
  }
  const decoded = decodeKubeProtobuf(encodeKubeProtobuf(json));
  assert.deepEqual(decoded, json);
  statefulSets.defaults!(decoded as StatefulSet);
  assert.deepEqual(decoded, JSON.parse(JSON.stringify(set)));
});
