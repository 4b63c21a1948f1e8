// GenericStore behaviour against a real etcd, with small test-only declarations so the generic
// mechanics (not any one kind) are under test.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdInstance } from '../../test/harness.js';
import { EtcdStorage } from '../storage/etcd.js';
import { WatchCache } from '../storage/cacher.js';
import { APIRegistry } from './registry.js';
import { defineResource } from '../../lib/api/resource.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { StatusError } from '../../lib/machinery/status.js';
import { invalidValue } from '../../lib/machinery/field-errors.js';
import { validateObjectMeta, nameIsDNSLabel, nameIsDNSSubdomain } from '../../lib/machinery/validation.js';
import { Logger } from '../../lib/log.js';
import type { GenericStore, RequestContext } from './store.js';

const testNamespaces = defineResource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false,
  defaults: (ns) => { ns.spec = { finalizers: ['kubernetes'], ...(ns.spec as object) }; },
  prepareForCreate: (ns) => { ns.status = { phase: 'Active' }; },
  validate: (ns) => validateObjectMeta(ns.metadata, false, nameIsDNSLabel),
});

const widgets = defineResource({
  group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', singular: 'widget', namespaced: true,
  hasGeneration: true, subresources: { status: true },
  prepareForCreate: (w) => { delete w.status; },
  validate: (w) => {
    const errs = validateObjectMeta(w.metadata, true, nameIsDNSSubdomain);
    const size = (w.spec as { size?: number } | undefined)?.size;
    if (size !== undefined && size < 0) errs.push(invalidValue('spec.size', size, 'must be greater than or equal to 0'));
    return errs;
  },
  gracefulDelete: (w, grace) => ({ graceful: !!(w.spec as { slow?: boolean })?.slow, gracePeriodSeconds: grace ?? 30 }),
});

const ctx = (dryRun = false): RequestContext => ({ now: new Date(), dryRun });
const all = { predicate: () => true, selectorActive: false };

async function statusOf(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${err}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('GenericStore', () => {
  let etcd: EtcdInstance;
  let storage: EtcdStorage;
  let cache: WatchCache;
  let ns: GenericStore;
  let w: GenericStore;

  before(async () => {
    etcd = await startEtcd();
    storage = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls });
    cache = new WatchCache(storage, new Logger('test', 0, () => undefined));
    await cache.start();
    const registry = new APIRegistry(storage, cache);
    ns = registry.add(testNamespaces);
    w = registry.add(widgets);
    await ns.create(undefined, { metadata: { name: 'default' } }, ctx());
  });
  after(async () => {
    await cache?.stop();
    await storage?.close();
    await etcd?.stop();
  });

  it('fills server fields on create and refuses a second object of the same name', async () => {
    const out = await w.create('default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 1 }, status: { x: 1 } }, ctx());
    assert.match(out.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.match(out.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(out.metadata.generation, 1);
    assert.equal(out.metadata.namespace, 'default');
    assert.equal(out.status, undefined, 'prepareForCreate cleared status');
    const err = await statusOf(w.create('default', { metadata: { name: 'a' } }, ctx()));
    assert.equal(err.code, 409);
    assert.equal(err.status.reason, 'AlreadyExists');
    assert.equal(err.message, 'widgets.example.com "a" already exists');
  });

  it('generates names from generateName', async () => {
    const out = await w.create('default', { metadata: { generateName: 'gen-' } }, ctx());
    assert.match(out.metadata.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('rejects bad input with the Kubernetes Status and writes nothing', async () => {
    const invalid = await statusOf(w.create('default', { metadata: { name: 'Bad_Name' }, spec: { size: -1 } }, ctx()));
    assert.equal(invalid.code, 422);
    assert.equal(invalid.status.reason, 'Invalid');
    assert.deepEqual(invalid.status.details?.causes?.map((c) => c.field), ['metadata.name', 'spec.size']);
    assert.match(invalid.message, /^Widget.example.com "Bad_Name" is invalid: \[metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    const wrongNs = await statusOf(w.create('default', { metadata: { name: 'x', namespace: 'other' } }, ctx()));
    assert.equal(wrongNs.code, 400);
    assert.equal(wrongNs.message, 'the namespace of the provided object does not match the namespace sent on the request');
    const wrongVersion = await statusOf(w.create('default', { apiVersion: 'v1', metadata: { name: 'x' } }, ctx()));
    assert.equal(wrongVersion.message, 'the API version in the data (v1) does not match the expected API version (example.com/v1)');
    const missingNs = await statusOf(w.create('nowhere', { metadata: { name: 'x' } }, ctx()));
    assert.equal(missingNs.code, 404);
    assert.equal(missingNs.message, 'namespaces "nowhere" not found');
    const list = await w.list({ namespace: 'default', ...all });
    assert.ok(!list.items.some((o) => o.metadata.name === 'x' || o.metadata.name === 'Bad_Name'));
  });

  it('detects a stale resourceVersion with the exact Conflict message', async () => {
    const v1 = await w.create('default', { metadata: { name: 'c' }, spec: { size: 1 } }, ctx());
    await w.update('default', 'c', { ...v1, spec: { size: 2 } }, ctx());
    const err = await statusOf(w.update('default', 'c', { ...v1, spec: { size: 3 } }, ctx()));
    assert.equal(err.code, 409);
    assert.equal(err.status.reason, 'Conflict');
    assert.equal(err.message, 'Operation cannot be fulfilled on widgets.example.com "c": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('bumps generation on spec changes only, and keeps status and spec apart', async () => {
    const v1 = await w.create('default', { metadata: { name: 'g' }, spec: { size: 1 } }, ctx());
    const labelled = (await w.update('default', 'g', { ...v1, metadata: { ...v1.metadata, labels: { a: 'b' } } }, ctx())).object;
    assert.equal(labelled.metadata.generation, 1);
    const withStatus = (await w.update('default', 'g', { ...labelled, spec: { size: 100 }, status: { ready: 1 } }, ctx(), { subresource: 'status' })).object;
    assert.deepEqual(withStatus.status, { ready: 1 });
    assert.deepEqual(withStatus.spec, { size: 1 }, 'a status update ignores spec');
    assert.equal(withStatus.metadata.generation, 1);
    const resized = (await w.update('default', 'g', { ...withStatus, spec: { size: 2 }, status: { ready: 99 } }, ctx())).object;
    assert.equal(resized.metadata.generation, 2);
    assert.deepEqual(resized.status, { ready: 1 }, 'a main update ignores status');
  });

  it('serves dry runs without persisting', async () => {
    const out = await w.create('default', { metadata: { name: 'dry' } }, ctx(true));
    assert.equal(out.metadata.name, 'dry');
    const err = await statusOf(w.get('default', 'dry'));
    assert.equal(err.code, 404);
    assert.equal(err.message, 'widgets.example.com "dry" not found');
  });

  it('keeps an object with finalizers until they are removed', async () => {
    const obj = await w.create('default', { metadata: { name: 'fin', finalizers: ['example.com/hold'] } }, ctx());
    const r = await w.delete('default', 'fin', {}, ctx());
    assert.equal(r.deleted, false);
    assert.ok(r.object.metadata.deletionTimestamp);
    const cur = await w.get('default', 'fin');
    await w.update('default', 'fin', { ...cur, metadata: { ...cur.metadata, finalizers: [] } }, ctx());
    assert.equal((await statusOf(w.get('default', 'fin'))).code, 404);
    assert.ok(obj.metadata.uid);
  });

  it('records orphan and foreground propagation as finalizers', async () => {
    await w.create('default', { metadata: { name: 'orph' } }, ctx());
    const r = await w.delete('default', 'orph', { propagationPolicy: 'Orphan' }, ctx());
    assert.deepEqual(r.object.metadata.finalizers, ['orphan']);
    await w.create('default', { metadata: { name: 'fg' } }, ctx());
    const f = await w.delete('default', 'fg', { propagationPolicy: 'Foreground' }, ctx());
    assert.deepEqual(f.object.metadata.finalizers, ['foregroundDeletion']);
    const bad = await statusOf(w.delete('default', 'fg', { preconditions: { uid: 'nope' } }, ctx()));
    assert.equal(bad.code, 409);
  });

  it('deletes gracefully when the kind asks for it, and at once with a zero grace period', async () => {
    await w.create('default', { metadata: { name: 'slow' }, spec: { slow: true } }, ctx());
    const r = await w.delete('default', 'slow', {}, ctx());
    assert.equal(r.deleted, false);
    assert.equal(r.object.metadata.deletionGracePeriodSeconds, 30);
    const now = await w.delete('default', 'slow', { gracePeriodSeconds: 0 }, ctx());
    assert.equal(now.deleted, true);
  });

  it('marks a namespace Terminating and refuses new content in it', async () => {
    await ns.create(undefined, { metadata: { name: 'doomed' } }, ctx());
    const r = await ns.delete(undefined, 'doomed', {}, ctx());
    assert.equal(r.deleted, false);
    assert.equal((r.object.status as { phase: string }).phase, 'Terminating');
    const err = await statusOf(w.create('doomed', { metadata: { name: 'late' } }, ctx()));
    assert.equal(err.code, 403);
    assert.equal(err.message, 'widgets.example.com is forbidden: unable to create new content in namespace doomed because it is being terminated');
    assert.deepEqual(err.status.details?.causes, [{ reason: 'NamespaceTerminating', message: 'namespace doomed is being terminated', field: 'metadata.namespace' }]);
  });

  it('stores emptied owner references, finalizers, labels and annotations as absent', async () => {
    const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u1', controller: true };
    const made = await w.create('default', { metadata: { name: 'owned', ownerReferences: [owner], labels: {}, finalizers: [] } }, ctx());
    assert.equal(made.metadata.labels, undefined);
    assert.equal(made.metadata.finalizers, undefined);
    const released = await w.update('default', 'owned', { ...made, metadata: { ...made.metadata, ownerReferences: [], annotations: {} } }, ctx());
    assert.equal(released.object.metadata.ownerReferences, undefined);
    assert.equal(released.object.metadata.annotations, undefined);
  });

  it('deletes a collection many at a time: every match goes, in list order, others stay, finalizers hold', async () => {
    await ns.create(undefined, { metadata: { name: 'bulk' } }, ctx());
    const names = Array.from({ length: 60 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) {
      const labels = { doomed: String(i % 3 !== 0) };
      await w.create('bulk', { metadata: { name, labels, ...(i === 4 ? { finalizers: ['example.com/hold'] } : {}) } }, ctx());
    }
    const doomed = names.filter((_, i) => i % 3 !== 0);
    const out = await w.deleteCollection({ namespace: 'bulk', predicate: (o) => o.metadata.labels?.doomed === 'true', selectorActive: true }, {}, ctx());
    assert.deepEqual(out.items.map((o) => o.metadata.name), doomed);
    const left = await w.list({ namespace: 'bulk', ...all });
    // The survivors: every object the selector did not match, and the one a finalizer holds (now deleting).
    assert.deepEqual(left.items.map((o) => o.metadata.name), ['w04', ...names.filter((_, i) => i % 3 === 0)].sort());
    assert.ok(left.items.find((o) => o.metadata.name === 'w04')?.metadata.deletionTimestamp);
  });

  it('deletes with one read and one transaction, and updates from the watch cache with one transaction', async () => {
    // Count the etcd calls that touch the object's own key (the watch cache's progress checks
    // read another key).
    const key = '/registry/example.com/widgets/default/trips';
    const kv = (storage as unknown as { client: { kv: Record<string, (...a: any[]) => Promise<any>> } }).client.kv;
    const calls: string[] = [];
    const real = { range: kv.range!, txn: kv.txn! };
    const touches = (req: { key?: Buffer; compare?: { key: Buffer }[] }) => req.key?.toString() === key || req.compare?.some((c) => c.key.toString() === key);
    kv.range = (req, ...rest) => (touches(req) && calls.push('range'), real.range.call(kv, req, ...rest));
    kv.txn = (req, ...rest) => (touches(req) && calls.push('txn'), real.txn.call(kv, req, ...rest));
    try {
      const made = await w.create('default', { metadata: { name: 'trips' }, spec: { size: 1 } }, ctx());
      assert.ok(await cache.waitUntilFresh(Number(made.metadata.resourceVersion), 5_000));
      calls.length = 0;
      const updated = await w.update('default', 'trips', { ...made, spec: { size: 2 } }, ctx());
      assert.deepEqual(calls, ['txn'], 'an update of an object the cache holds at its current version reads nothing');
      assert.deepEqual(updated.object.spec, { size: 2 });
      // The cache is behind when the update comes: the failed transaction's own read serves the retry.
      calls.length = 0;
      const again = await w.update('default', 'trips', { ...updated.object, spec: { size: 3 } }, ctx());
      assert.ok(calls.length <= 2 && calls.every((c) => c === 'txn'), calls.join(','));
      assert.deepEqual(again.object.spec, { size: 3 });
      calls.length = 0;
      const gone = await w.delete('default', 'trips', {}, ctx());
      assert.equal(gone.deleted, true);
      assert.deepEqual(calls, ['range', 'txn'], 'a delete reads the object once and deletes that state');
      assert.equal((await statusOf(w.get('default', 'trips'))).code, 404);
    } finally {
      kv.range = real.range;
      kv.txn = real.txn;
    }
  });

  it('pages lists with continue tokens and answers a bad token with 400', async () => {
    await ns.create(undefined, { metadata: { name: 'paging' } }, ctx());
    for (let i = 0; i < 5; i++) await w.create('paging', { metadata: { name: `p${i}`, labels: { even: String(i % 2 === 0) } } }, ctx());
    const first = await w.list({ namespace: 'paging', ...all, limit: 2 });
    assert.deepEqual(first.items.map((o) => o.metadata.name), ['p0', 'p1']);
    assert.equal(first.metadata.remainingItemCount, 3);
    const second = await w.list({ namespace: 'paging', ...all, limit: 2, continue: first.metadata.continue });
    assert.deepEqual(second.items.map((o) => o.metadata.name), ['p2', 'p3']);
    const third = await w.list({ namespace: 'paging', ...all, limit: 2, continue: second.metadata.continue });
    assert.deepEqual(third.items.map((o) => o.metadata.name), ['p4']);
    assert.equal(third.metadata.continue, undefined);
    const even = await w.list({ namespace: 'paging', predicate: (o: KubeObject) => o.metadata.labels?.even === 'true', selectorActive: true, limit: 2 });
    assert.deepEqual(even.items.map((o) => o.metadata.name), ['p0', 'p2']);
    assert.ok(even.metadata.continue);
    const bad = await statusOf(w.list({ namespace: 'paging', ...all, continue: 'not-a-token' }));
    assert.equal(bad.code, 400);
    const cached = await w.list({ namespace: 'paging', ...all, resourceVersion: '0' });
    assert.equal(cached.items.length, 5);
  });
});
