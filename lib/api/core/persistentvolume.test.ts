// Tests for PersistentVolume, PersistentVolumeClaim and StorageClass: defaults, validation
// messages, update rules and the table cells kubectl prints.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, type FieldError } from '../../machinery/field-errors.js';
import type { KubeObject } from '../meta.js';
import type { ResourceDefinition } from '../resource.js';
import { type PersistentVolume, persistentVolumes } from './persistentvolume.js';
import { type PersistentVolumeClaim, persistentVolumeClaims } from './persistentvolumeclaim.js';
import { type StorageClass, storageClasses } from '../storage/storageclass.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now };
const created = '2024-05-01T11:30:00Z';
const msgs = (errs: FieldError[]) => errs.map((e) => fieldErrorMessage(e));

function create<T extends KubeObject>(def: ResourceDefinition<T>, obj: T): { obj: T; errs: string[] } {
  const o = structuredClone(obj);
  def.defaults?.(o);
  def.prepareForCreate?.(o, ctx);
  return { obj: o, errs: msgs(def.validate?.(o) ?? []) };
}

function update<T extends KubeObject>(def: ResourceDefinition<T>, old: T, next: T): string[] {
  const o = structuredClone(next);
  def.defaults?.(o);
  def.prepareForUpdate?.(o, old, ctx);
  return msgs([...(def.validate?.(o) ?? []), ...(def.validateUpdate?.(o, old) ?? [])]);
}

const cells = <T extends KubeObject>(def: ResourceDefinition<T>, obj: T) => def.printerColumns!.map((c) => c.cell(obj, now));

const pv = (spec: Partial<PersistentVolume['spec']> = {}): PersistentVolume => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv-1', creationTimestamp: created },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data/pv-1' }, ...spec },
});

const pvc = (spec: Partial<PersistentVolumeClaim['spec']> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default', creationTimestamp: created },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } }, ...spec },
});

test('persistentvolume: defaults Retain, Filesystem and phase Pending; table cells as kubectl prints them', () => {
  const { obj, errs } = create(persistentVolumes, pv());
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(obj.spec.volumeMode, 'Filesystem');
  assert.equal(obj.spec.hostPath!.type, '');
  assert.deepEqual(obj.status, { phase: 'Pending', lastPhaseTransitionTime: '2024-05-01T12:00:00Z' });
  assert.deepEqual(cells(persistentVolumes, obj), ['pv-1', '1Gi', 'RWO', 'Retain', 'Pending', '', '', '<unset>', '', '30m', 'Filesystem']);
  obj.spec.claimRef = { namespace: 'default', name: 'data' };
  obj.spec.accessModes = ['ReadWriteMany', 'ReadWriteOnce', 'ReadOnlyMany'];
  obj.spec.storageClassName = 'fast';
  obj.status = { phase: 'Bound' };
  assert.deepEqual(cells(persistentVolumes, obj).slice(1, 7), ['1Gi', 'RWO,ROX,RWX', 'Retain', 'Bound', 'default/data', 'fast']);
  obj.metadata.deletionTimestamp = created;
  assert.equal(cells(persistentVolumes, obj)[4], 'Terminating');
});

test('persistentvolume: accessModes, capacity and exactly one volume source are required', () => {
  const { errs } = create(persistentVolumes, { metadata: { name: 'pv-1' }, spec: {} } as PersistentVolume);
  assert.deepEqual(errs, ['spec.accessModes: Required value', 'spec.capacity: Required value', 'spec.capacity: Unsupported value: map[string]string{}: supported values: "storage"', 'spec: Required value: must specify a volume type']);
  const two = create(persistentVolumes, pv({ nfs: { server: 'nfs', path: '/x' } })).errs;
  assert.deepEqual(two, ['spec.nfs: Forbidden: may not specify more than 1 volume type']);
  const local = create(persistentVolumes, pv({ hostPath: undefined, local: { path: '/mnt/disk' } })).errs;
  assert.deepEqual(local, ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  const bad = create(persistentVolumes, pv({ capacity: { storage: '0' }, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Keep' })).errs;
  assert.deepEqual(bad, [
    'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
    'spec.capacity[storage]: Invalid value: "0": must be greater than zero',
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
  ]);
  const affinity = create(persistentVolumes, pv({ nodeAffinity: { required: { nodeSelectorTerms: [] } } })).errs;
  assert.deepEqual(affinity, ['spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term']);
});

test('persistentvolume: the volume source and volumeMode are immutable; claimRef and capacity may change', () => {
  const old = create(persistentVolumes, pv()).obj;
  const next = structuredClone(old);
  next.spec.claimRef = { namespace: 'default', name: 'data' };
  next.spec.capacity = { storage: '2Gi' };
  assert.deepEqual(update(persistentVolumes, old, next), []);
  next.spec.hostPath = { path: '/elsewhere', type: '' };
  next.spec.volumeMode = 'Block';
  const errs = update(persistentVolumes, old, next);
  assert.equal(errs.length, 2);
  assert.match(errs[0], /^spec\.persistentvolumesource: Forbidden: spec\.persistentvolumesource is immutable after creation/);
  assert.equal(errs[1], 'volumeMode: Invalid value: "Block": field is immutable');
});

test('persistentvolume: a status update stamps lastPhaseTransitionTime when the phase changes', () => {
  const old = create(persistentVolumes, pv()).obj;
  old.status!.lastPhaseTransitionTime = '2024-05-01T11:00:00Z';
  const next = structuredClone(old);
  next.status!.phase = 'Available';
  persistentVolumes.prepareForStatusUpdate!(next, old, ctx);
  assert.equal(next.status!.lastPhaseTransitionTime, '2024-05-01T12:00:00Z');
  const same = structuredClone(old);
  same.status!.message = 'x';
  persistentVolumes.prepareForStatusUpdate!(same, old, ctx);
  assert.equal(same.status!.lastPhaseTransitionTime, '2024-05-01T11:00:00Z');
});

test('persistentvolumeclaim: defaults, and the messages for missing access modes and storage request', () => {
  const { obj, errs } = create(persistentVolumeClaims, pvc());
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.volumeMode, 'Filesystem');
  assert.deepEqual(obj.status, { phase: 'Pending' });
  assert.deepEqual(cells(persistentVolumeClaims, obj), ['data', 'Pending', '', '', '', '', '<unset>', '30m', 'Filesystem']);
  const bad = create(persistentVolumeClaims, pvc({ accessModes: [], resources: {}, storageClassName: 'Fast_Disk' })).errs;
  assert.deepEqual(bad, [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
    `spec.storageClassName: Invalid value: "Fast_Disk": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  ]);
  assert.deepEqual(create(persistentVolumeClaims, pvc({ accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '-1' } } })).errs, [
    'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    'spec.resources[storage]: Invalid value: "-1": must be greater than zero',
  ]);
});

test('persistentvolumeclaim: a bound claim shows volume, capacity and access modes from status', () => {
  const c = create(persistentVolumeClaims, pvc({ volumeName: 'pv-1', storageClassName: 'local-path' })).obj;
  c.status = { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] };
  assert.deepEqual(cells(persistentVolumeClaims, c), ['data', 'Bound', 'pv-1', '1Gi', 'RWO', 'local-path', '<unset>', '30m', 'Filesystem']);
});

test('persistentvolumeclaim: the spec is immutable except volumeName once, the class from nil, and a bound claim growing', () => {
  const old = create(persistentVolumeClaims, pvc()).obj;
  const bind = structuredClone(old);
  bind.spec.volumeName = 'pv-1';
  bind.spec.storageClassName = 'local-path';
  assert.deepEqual(update(persistentVolumeClaims, old, bind), []);
  const grow = structuredClone(old);
  grow.spec.resources = { requests: { storage: '1Gi' } };
  const errs = update(persistentVolumeClaims, old, grow);
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims\n/);
  const bound = structuredClone(old);
  bound.spec.volumeName = 'pv-1';
  bound.status = { phase: 'Bound', capacity: { storage: '500Mi' } };
  const grown = structuredClone(bound);
  grown.spec.resources = { requests: { storage: '1Gi' } };
  assert.deepEqual(update(persistentVolumeClaims, bound, grown), []);
  const shrunk = structuredClone(bound);
  shrunk.spec.resources = { requests: { storage: '100Mi' } };
  assert.deepEqual(update(persistentVolumeClaims, bound, shrunk), ['spec.resources.requests.storage: Forbidden: field can not be less than status.capacity']);
  const rebind = structuredClone(bound);
  rebind.spec.volumeName = 'pv-2';
  assert.match(update(persistentVolumeClaims, bound, rebind)[0], /^spec: Forbidden: spec is immutable/);
});

test('storageclass: defaults Delete and Immediate; "(default)" after the default class name', () => {
  const { obj, errs } = create(storageClasses, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local-path', creationTimestamp: created, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'skiff.dev/local-path',
  });
  assert.deepEqual(errs, []);
  assert.equal(obj.reclaimPolicy, 'Delete');
  assert.equal(obj.volumeBindingMode, 'Immediate');
  assert.deepEqual(cells(storageClasses, obj), ['local-path (default)', 'skiff.dev/local-path', 'Delete', 'Immediate', 'false', '30m']);
});

test('storageclass: validation and the fields that may not change', () => {
  const bad = create(storageClasses, { metadata: { name: 'x' }, provisioner: '', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' } as StorageClass).errs;
  assert.deepEqual(bad, [
    'provisioner: Required value',
    'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
  ]);
  const old = create(storageClasses, { metadata: { name: 'x' }, provisioner: 'a.io/b' } as StorageClass).obj;
  const next = { ...structuredClone(old), provisioner: 'c.io/d', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true };
  assert.deepEqual(update(storageClasses, old, next), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
  ]);
});
