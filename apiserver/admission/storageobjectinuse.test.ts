import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../lib/api/meta.js';
import { persistentVolumes } from '../../lib/api/core/persistentvolume.js';
import { persistentVolumeClaims } from '../../lib/api/core/persistentvolumeclaim.js';
import type { APIRegistry } from '../registry/registry.js';
import type { AdmissionRequest, RequestContext } from '../registry/store.js';
import { admissionHooksFor, disableablePlugins } from './index.js';
import { admitClaimProtection, admitVolumeProtection } from './storageobjectinuse.js';

const ctx: RequestContext = { now: new Date(), dryRun: false };
const req = (operation: AdmissionRequest['operation'], object: KubeObject, subresource?: string): AdmissionRequest => ({ operation, object, name: object.metadata.name ?? '', namespace: object.metadata.namespace, subresource, ctx });

test('StorageObjectInUseProtection: a claim is created with kubernetes.io/pvc-protection, after its own finalizers, once', () => {
  const claim: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', finalizers: ['example.com/keep'] } };
  admitClaimProtection(req('CREATE', claim));
  assert.deepEqual(claim.metadata.finalizers, ['example.com/keep', 'kubernetes.io/pvc-protection']);
  admitClaimProtection(req('CREATE', claim));
  assert.deepEqual(claim.metadata.finalizers, ['example.com/keep', 'kubernetes.io/pvc-protection'], 'not added twice');
});

test('StorageObjectInUseProtection: a volume is created with kubernetes.io/pv-protection', () => {
  const pv: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' } };
  admitVolumeProtection(req('CREATE', pv));
  assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
});

test('StorageObjectInUseProtection: updates and status writes are left alone (the finalizer may be removed)', () => {
  const claim: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' } };
  admitClaimProtection(req('UPDATE', claim));
  admitClaimProtection(req('UPDATE', claim, 'status'));
  const pv: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' } };
  admitVolumeProtection(req('UPDATE', pv));
  assert.equal(claim.metadata.finalizers, undefined);
  assert.equal(pv.metadata.finalizers, undefined);
});

test('StorageObjectInUseProtection: on by default in the admission chain, off with --disable-admission-plugins', async () => {
  // Neither hook reads the registry for these requests, save DefaultStorageClass's class list.
  const registry = { lookup: () => undefined } as unknown as APIRegistry;
  const claim = (): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { storageClassName: 'manual' } });
  const on = claim();
  await admissionHooksFor(persistentVolumeClaims, registry)!.admit!(req('CREATE', on));
  assert.deepEqual(on.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  const pv: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' } };
  await admissionHooksFor(persistentVolumes, registry)!.admit!(req('CREATE', pv));
  assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);

  const disabled = new Set(['StorageObjectInUseProtection']);
  assert.ok(disableablePlugins.includes('StorageObjectInUseProtection'));
  const off = claim();
  await admissionHooksFor(persistentVolumeClaims, registry, { disabled })!.admit!(req('CREATE', off));
  assert.equal(off.metadata.finalizers, undefined);
  assert.equal(admissionHooksFor(persistentVolumes, registry, { disabled }), undefined);
});
