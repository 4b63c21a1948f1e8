// Storage conformance and watch-cache tests against a real etcd started by the harness.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdInstance } from '../../test/harness.js';
import { EtcdStorage } from './etcd.js';
import { WatchCache, TooOldResourceVersionError, type CachedEvent } from './cacher.js';
import { CompactedError, ConflictError, KeyExistsError, KeyNotFoundError } from './interface.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { Logger } from '../../lib/log.js';

const quiet = new Logger('test', 0, () => undefined);
const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', labels },
  data,
});

describe('EtcdStorage', () => {
  let etcd: EtcdInstance;
  let store: EtcdStorage;
  before(async () => {
    etcd = await startEtcd();
    store = new EtcdStorage({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    await store?.close();
    await etcd?.stop();
  });

  it('creates once, with resourceVersion equal to the store revision', async () => {
    const created = await store.create('/registry/core/configmaps/ns/a', cm('a', { k: 'v' }));
    const rev = await store.currentRevision();
    assert.equal(created.metadata.resourceVersion, String(rev));
    await assert.rejects(store.create('/registry/core/configmaps/ns/a', cm('a')), KeyExistsError);
    const got = await store.get('/registry/core/configmaps/ns/a');
    assert.deepEqual(got?.data, { k: 'v' });
    assert.equal(got?.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal(await store.get('/registry/core/configmaps/ns/missing'), undefined);
  });

  it('refuses an update based on a stale resourceVersion and retries one without a precondition', async () => {
    const key = '/registry/core/configmaps/ns/b';
    const v1 = await store.create(key, cm('b', { n: '1' }));
    const v2 = await store.guaranteedUpdate(key, (cur) => ({ ...cur, data: { n: '2' } }));
    assert.ok(Number(v2.metadata.resourceVersion) > Number(v1.metadata.resourceVersion));
    await assert.rejects(
      store.guaranteedUpdate(key, (cur) => ({ ...cur, data: { n: 'stale' } }), { resourceVersion: v1.metadata.resourceVersion }),
      ConflictError,
    );
    // A concurrent writer forces a retry: the update function sees the fresh state.
    let calls = 0;
    const v3 = await store.guaranteedUpdate(key, async (cur) => {
      calls++;
      if (calls === 1) await store.guaranteedUpdate(key, (c) => ({ ...c, data: { ...(c.data as object), other: 'x' } }));
      return { ...cur, data: { ...(cur.data as object), n: '3' } };
    });
    assert.equal(calls, 2);
    assert.deepEqual(v3.data, { n: '3', other: 'x' });
    await assert.rejects(store.guaranteedUpdate('/registry/core/configmaps/ns/nope', (c) => c), KeyNotFoundError);
  });

  it('deletes with uid and resourceVersion preconditions', async () => {
    const key = '/registry/core/configmaps/ns/c';
    const obj = { ...cm('c'), metadata: { ...cm('c').metadata, uid: 'u-1' } };
    const created = await store.create(key, obj);
    await assert.rejects(store.delete(key, { uid: 'other' }), ConflictError);
    await assert.rejects(store.delete(key, { resourceVersion: '1' }), ConflictError);
    const gone = await store.delete(key, { uid: 'u-1', resourceVersion: created.metadata.resourceVersion });
    assert.equal(gone.metadata.name, 'c');
    assert.equal(await store.get(key), undefined);
    await assert.rejects(store.delete(key), KeyNotFoundError);
  });

  it('pages a list consistently at one revision', async () => {
    for (let i = 0; i < 5; i++) await store.create(`/registry/core/configmaps/paged/p${i}`, cm(`p${i}`));
    const first = await store.list('/registry/core/configmaps/paged/', { limit: 2 });
    assert.deepEqual(first.items.map((o) => o.metadata.name), ['p0', 'p1']);
    assert.equal(first.nextKey, '/registry/core/configmaps/paged/p2');
    assert.equal(first.remaining, 3);
    // Writes after the first page do not show up in later pages read at the same revision.
    await store.create('/registry/core/configmaps/paged/p5', cm('p5'));
    await store.delete('/registry/core/configmaps/paged/p3');
    const rest = await store.list('/registry/core/configmaps/paged/', { revision: first.revision, startKey: first.nextKey });
    assert.deepEqual(rest.items.map((o) => o.metadata.name), ['p2', 'p3', 'p4']);
    assert.equal(rest.nextKey, undefined);
    assert.equal(await store.count('/registry/core/configmaps/paged/'), 5);
  });

  it('reports a compacted revision', async () => {
    const old = await store.currentRevision();
    await store.create('/registry/core/configmaps/ns/compact-a', cm('compact-a'));
    await store.compact(await store.currentRevision());
    await assert.rejects(store.list('/registry/core/configmaps/', { revision: old }), CompactedError);
  });
});

describe('WatchCache', () => {
  let etcd: EtcdInstance;
  let store: EtcdStorage;
  let cache: WatchCache;
  before(async () => {
    etcd = await startEtcd();
    store = new EtcdStorage({ endpoints: [etcd.endpoint] });
    await store.create('/registry/core/configmaps/w/existing', cm('existing', {}, { app: 'x' }));
    cache = new WatchCache(store, quiet, { capacity: 5 });
    await cache.start();
  });
  after(async () => {
    await cache?.stop();
    await store?.close();
    await etcd?.stop();
  });

  function collect(prefix: string, matches: (o: KubeObject) => boolean = () => true) {
    const events: { type: string; name?: string; rv?: string }[] = [];
    return {
      events,
      watcher: {
        prefix,
        matches,
        deliver: (type: string, obj: KubeObject, _ev: CachedEvent | undefined) => events.push({ type, name: obj.metadata.name, rv: obj.metadata.resourceVersion }),
        terminate: () => events.push({ type: 'TERMINATED' }),
      },
    };
  }

  async function until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('starts with the current state and delivers it as ADDED to a watch without a resourceVersion', async () => {
    const c = collect('/registry/core/configmaps/w/');
    const stop = await cache.watch(c.watcher, undefined);
    assert.deepEqual(c.events.map((e) => `${e.type} ${e.name}`), ['ADDED existing']);
    const created = await store.create('/registry/core/configmaps/w/new', cm('new'));
    await until(() => c.events.length === 2);
    assert.deepEqual(c.events[1], { type: 'ADDED', name: 'new', rv: created.metadata.resourceVersion });
    stop();
  });

  it('replays events after a resourceVersion and serves lists once fresh', async () => {
    const from = await store.currentRevision();
    await store.guaranteedUpdate('/registry/core/configmaps/w/existing', (o) => ({ ...o, data: { a: '1' } }));
    await store.delete('/registry/core/configmaps/w/new');
    const now = await store.currentRevision();
    assert.equal(await cache.waitUntilFresh(now, 5000), true);
    const c = collect('/registry/core/configmaps/w/');
    const stop = await cache.watch(c.watcher, from);
    assert.deepEqual(c.events.map((e) => `${e.type} ${e.name}`), ['MODIFIED existing', 'DELETED new']);
    assert.equal(c.events[1].rv, String(now), 'a deletion carries the revision of the delete');
    assert.deepEqual(cache.list('/registry/core/configmaps/w/').map((o) => o.metadata.name), ['existing']);
    stop();
  });

  it('turns an object leaving the selector into DELETED', async () => {
    const c = collect('/registry/core/configmaps/w/', (o) => o.metadata.labels?.app === 'x');
    const stop = await cache.watch(c.watcher, await store.currentRevision());
    await store.guaranteedUpdate('/registry/core/configmaps/w/existing', (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: 'y' } } }));
    await until(() => c.events.length === 1);
    assert.equal(c.events[0].type, 'DELETED');
    await store.guaranteedUpdate('/registry/core/configmaps/w/existing', (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: 'x' } } }));
    await until(() => c.events.length === 2);
    assert.equal(c.events[1].type, 'ADDED');
    stop();
  });

  it('survives etcd canceling its watch (a compacted revision) by re-listing, and tells watchers to start over', async () => {
    const c = collect('/registry/core/configmaps/w/');
    await cache.watch(c.watcher, undefined);
    await store.compact(await store.currentRevision());
    // Test-only: resume the etcd watch from a compacted revision, as a long disconnect would.
    await (cache as unknown as { watchFrom(rev: number): Promise<void> }).watchFrom(2).catch(() => undefined);
    await until(() => c.events.some((e) => e.type === 'TERMINATED'));
    await until(() => cache.ready);
    const created = await store.create('/registry/core/configmaps/w/after-relist', cm('after-relist'));
    assert.equal(await cache.waitUntilFresh(Number(created.metadata.resourceVersion), 5000), true);
    assert.ok(cache.list('/registry/core/configmaps/w/').some((o) => o.metadata.name === 'after-relist'));
  });

  it('answers a watch from a revision older than its history with TooOldResourceVersion', async () => {
    const old = await store.currentRevision();
    for (let i = 0; i < 8; i++) await store.create(`/registry/core/configmaps/w/many-${i}`, cm(`many-${i}`));
    assert.equal(await cache.waitUntilFresh(await store.currentRevision(), 5000), true);
    await assert.rejects(cache.watch(collect('/registry/core/configmaps/w/').watcher, old), TooOldResourceVersionError);
  });
});
