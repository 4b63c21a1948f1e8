// runStorageConformance is the contract every Storage backend keeps, as a node:test suite (as
// k8s.io/apiserver's storage/testing runs one suite against every store). A backend's own test
// file calls it with a factory; nothing here knows which backend it runs against.
//
// Test-only: imported by *.test.ts files, never by production code.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../lib/api/meta.js';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  KeyNotFoundError,
  type Storage,
  type StoreEvent,
} from '../interface.js';

/** BackendUnderTest is one fresh, empty backend for the suite, and how to dispose of it. */
export interface BackendUnderTest {
  storage: Storage;
  /** close releases the backend (and whatever process serves it). */
  close(): Promise<void>;
}

/** BackendFactory makes a fresh, empty backend. */
export type BackendFactory = () => Promise<BackendUnderTest>;

const cm = (name: string, data: Record<string, string> = {}, uid?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', ...(uid ? { uid } : {}) },
  data,
});

/** recorder is a WatchSink that keeps what it was given. */
function recorder() {
  const events: StoreEvent[] = [];
  const errors: Error[] = [];
  let revision = 0;
  return {
    events,
    errors,
    get revision() {
      return revision;
    },
    sink: {
      onEvents: (evs: StoreEvent[], rev: number) => {
        events.push(...evs);
        revision = rev;
      },
      onError: (err: Error) => errors.push(err),
    },
  };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** runStorageConformance declares the conformance suite for one backend. */
export function runStorageConformance(name: string, factory: BackendFactory): void {
  describe(`Storage conformance: ${name}`, () => {
    let backend: BackendUnderTest;
    let store: Storage;
    before(async () => {
      backend = await factory();
      store = backend.storage;
    });
    after(async () => {
      await backend?.close();
    });

    it('creates once, with resourceVersion equal to the store revision', async () => {
      const key = '/registry/core/configmaps/create/a';
      const created = await store.create(key, cm('a', { k: 'v' }));
      assert.equal(created.metadata.resourceVersion, String(await store.currentRevision()));
      assert.equal(store.lastWriteRevision, Number(created.metadata.resourceVersion));
      await assert.rejects(store.create(key, cm('a')), KeyExistsError);
      const got = await store.get(key);
      assert.deepEqual(got?.data, { k: 'v' });
      assert.equal(got?.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(await store.get('/registry/core/configmaps/create/missing'), undefined);
    });

    it('refuses an update from a stale resourceVersion, retries one without, and skips one that changes nothing', async () => {
      const key = '/registry/core/configmaps/update/b';
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
      const same = await store.guaranteedUpdate(key, (cur) => ({ ...cur }));
      assert.equal(same.metadata.resourceVersion, v3.metadata.resourceVersion, 'an update that changes nothing writes nothing');
      await assert.rejects(store.guaranteedUpdate('/registry/core/configmaps/update/nope', (c) => c), KeyNotFoundError);
    });

    it('deletes only when the uid and resourceVersion preconditions hold', async () => {
      const key = '/registry/core/configmaps/delete/c';
      const created = await store.create(key, cm('c', {}, 'u-1'));
      await assert.rejects(store.delete(key, { uid: 'other' }), (err: unknown) => err instanceof ConflictError && err.reason === 'uid');
      await assert.rejects(store.delete(key, { resourceVersion: '1' }), (err: unknown) => err instanceof ConflictError && err.reason === 'resourceVersion');
      assert.ok(await store.get(key), 'a refused delete removed the object');
      const gone = await store.delete(key, { uid: 'u-1', resourceVersion: created.metadata.resourceVersion });
      assert.equal(gone.metadata.name, 'c');
      assert.equal(gone.metadata.resourceVersion, String(await store.currentRevision()), 'the last state carries the revision of the delete');
      assert.equal(await store.get(key), undefined);
      await assert.rejects(store.delete(key), KeyNotFoundError);
    });

    it('deletes and updates against a stale cached state as against the current one', async () => {
      const key = '/registry/core/configmaps/cached/d';
      const copy = (o: KubeObject): KubeObject => structuredClone(o);
      // A delete given a state that was current deletes in one go and returns it.
      const fresh = await store.create(key, cm('d', { n: '1' }, 'u-d1'));
      const gone = await store.delete(key, { uid: 'u-d1', resourceVersion: fresh.metadata.resourceVersion }, copy(fresh));
      assert.deepEqual(gone.data, { n: '1' });
      assert.equal(gone.metadata.resourceVersion, String(await store.currentRevision()));
      assert.equal(await store.get(key), undefined);

      // The state moved on since the caller read it: the delete is decided on the current state.
      const v1 = await store.create(key, cm('d', { n: '1' }, 'u-d2'));
      const v2 = await store.guaranteedUpdate(key, (c) => ({ ...c, data: { n: '2' } }));
      await assert.rejects(
        store.delete(key, { resourceVersion: v1.metadata.resourceVersion }, copy(v1)),
        (err: unknown) => err instanceof ConflictError && err.reason === 'resourceVersion' && err.actual === v2.metadata.resourceVersion,
        'a stale resourceVersion precondition conflicts, naming the current version',
      );
      assert.deepEqual((await store.get(key))?.data, { n: '2' }, 'a conflicting delete removed the object');
      await assert.rejects(store.delete(key, { uid: 'u-other' }, copy(v1)), (err: unknown) => err instanceof ConflictError && err.reason === 'uid');
      const last = await store.delete(key, { uid: 'u-d2' }, copy(v1));
      assert.deepEqual(last.data, { n: '2' }, 'the delete returns the state it deleted, not the stale one');
      assert.equal(await store.get(key), undefined);
      await assert.rejects(store.delete(key, undefined, copy(v1)), KeyNotFoundError);

      // An update from a stale state computes from the current one; a no-op is judged on it too.
      const w1 = await store.create(key, cm('d', { n: '1' }, 'u-d3'));
      const w2 = await store.guaranteedUpdate(key, (c) => ({ ...c, data: { n: '2' } }));
      const seen: unknown[] = [];
      const w3 = await store.guaranteedUpdate(
        key,
        (c) => {
          seen.push((c.data as { n: string }).n);
          return { ...c, data: { n: `${(c.data as { n: string }).n}+` } };
        },
        undefined,
        copy(w1),
      );
      assert.deepEqual(w3.data, { n: '2+' });
      assert.equal(seen[seen.length - 1], '2', 'the last try saw the current state');
      const same = await store.guaranteedUpdate(key, (c) => ({ ...c, data: { n: '2+' } }), undefined, copy(w2));
      assert.equal(same.metadata.resourceVersion, w3.metadata.resourceVersion, 'a no-op against the current state writes nothing');
      await assert.rejects(
        store.guaranteedUpdate(key, (c) => ({ ...c, data: { n: 'x' } }), { resourceVersion: w2.metadata.resourceVersion }, copy(w2)),
        (err: unknown) => err instanceof ConflictError && err.reason === 'resourceVersion',
      );
      const w4 = await store.guaranteedUpdate(key, (c) => ({ ...c, data: { n: '4' } }), { resourceVersion: w3.metadata.resourceVersion }, copy(w2));
      assert.deepEqual(w4.data, { n: '4' }, "a precondition that fails only on the stale state is checked again on the current one");
      assert.deepEqual((await store.get(key))?.data, { n: '4' });
    });

    it('pages a list consistently at one revision, and lists everything without a limit', async () => {
      const prefix = '/registry/core/configmaps/paged/';
      for (let i = 0; i < 5; i++) await store.create(`${prefix}p${i}`, cm(`p${i}`));
      const first = await store.list(prefix, { limit: 2 });
      assert.deepEqual(first.items.map((o) => o.metadata.name), ['p0', 'p1']);
      assert.deepEqual(first.keys, [`${prefix}p0`, `${prefix}p1`]);
      assert.equal(first.nextKey, `${prefix}p2`);
      assert.equal(first.remaining, 3);
      // Writes after the first page do not show in later pages read at the same revision.
      await store.create(`${prefix}p5`, cm('p5'));
      await store.delete(`${prefix}p3`);
      const rest = await store.list(prefix, { revision: first.revision, startKey: first.nextKey });
      assert.deepEqual(rest.items.map((o) => o.metadata.name), ['p2', 'p3', 'p4']);
      assert.equal(rest.nextKey, undefined);
      assert.equal(rest.revision, first.revision);
      const now = await store.list(prefix);
      assert.deepEqual(now.items.map((o) => o.metadata.name), ['p0', 'p1', 'p2', 'p4', 'p5']);
      assert.equal(now.revision, await store.currentRevision());
      assert.equal(await store.count(prefix), 5);
      // A neighbouring prefix is not part of the list.
      await store.create('/registry/core/configmaps/paged-other/x', cm('x'));
      assert.equal((await store.list(prefix)).items.length, 5);
    });

    it('watches from a revision: every change in order, with the previous state and the revision of a delete', async () => {
      const prefix = '/registry/core/configmaps/watched/';
      const from = (await store.currentRevision()) + 1;
      const a = await store.create(`${prefix}a`, cm('a', { n: '1' }));
      const a2 = await store.guaranteedUpdate(`${prefix}a`, (c) => ({ ...c, data: { n: '2' } }));
      await store.create('/registry/core/configmaps/unwatched/z', cm('z'));
      const gone = await store.delete(`${prefix}a`);
      const rec = recorder();
      const w = await store.watch(prefix, from, rec.sink);
      try {
        await until('three events arrived', () => rec.events.length >= 3);
        assert.deepEqual(rec.events.map((e) => `${e.type} ${e.object.metadata.name} ${e.revision}`), [
          `ADDED a ${a.metadata.resourceVersion}`,
          `MODIFIED a ${a2.metadata.resourceVersion}`,
          `DELETED a ${gone.metadata.resourceVersion}`,
        ]);
        assert.equal(rec.events[1]!.prevObject?.metadata.resourceVersion, a.metadata.resourceVersion);
        assert.deepEqual(rec.events[2]!.object.data, { n: '2' }, 'a delete carries the last state');
        assert.equal(rec.events[2]!.object.metadata.resourceVersion, gone.metadata.resourceVersion);
        // Later changes keep coming on the same watch.
        const b = await store.create(`${prefix}b`, cm('b'));
        await until('the live event arrived', () => rec.events.length >= 4);
        assert.equal(rec.events[3]!.object.metadata.resourceVersion, b.metadata.resourceVersion);
        assert.ok(rec.revision >= Number(b.metadata.resourceVersion));
        assert.deepEqual(rec.errors, []);
      } finally {
        await w.cancel();
      }
      const after = rec.events.length;
      await store.create(`${prefix}c`, cm('c'));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(rec.events.length, after, 'a canceled watch delivered an event');
    });

    it('keeps every digit of an int64 beyond 2^53 through create, get, update and list', async () => {
      // An integer beyond 2^53 is a BigInt in an object (lib/machinery/json.ts); the value stored
      // must hold its digits, not the nearest double.
      const key = '/registry/stable.example.com/counters/int64/big';
      const max = 2n ** 63n - 1n;
      await store.create(key, { apiVersion: 'stable.example.com/v1', kind: 'Counter', metadata: { name: 'big', namespace: 'int64' }, spec: { count: max, list: [-max - 1n, 1] } });
      assert.deepEqual((await store.get(key))?.spec, { count: max, list: [-max - 1n, 1] });
      await store.guaranteedUpdate(key, (c) => ({ ...c, spec: { count: max - 1n } }));
      assert.deepEqual((await store.get(key))?.spec, { count: max - 1n });
      const listed = await store.list('/registry/stable.example.com/counters/int64/');
      assert.deepEqual(listed.items.map((o) => o.spec), [{ count: max - 1n }]);
    });

    it('leaves a key alone when the update function returns null, and refuses a stale uid', async () => {
      const key = '/registry/core/configmaps/update-null/d';
      const created = await store.create(key, cm('d', { n: '1' }, 'u-d'));
      const same = await store.guaranteedUpdate(key, () => null);
      assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(await store.currentRevision(), Number(created.metadata.resourceVersion), 'an update returning null wrote');
      await assert.rejects(
        store.guaranteedUpdate(key, (c) => ({ ...c, data: { n: '2' } }), { uid: 'u-other' }),
        (err: unknown) => err instanceof ConflictError && err.reason === 'uid' && err.message === `precondition failed for ${key}: uid u-other != u-d`,
      );
      assert.deepEqual((await store.get(key))?.data, { n: '1' });
    });

    it('watches a key deleted and created again as ADDED, and from the next revision sees nothing older', async () => {
      const prefix = '/registry/core/configmaps/recreated/';
      await store.create(`${prefix}a`, cm('a', { gen: '1' }));
      const from = (await store.currentRevision()) + 1;
      const rec = recorder();
      const w = await store.watch(prefix, from, rec.sink);
      try {
        await store.delete(`${prefix}a`);
        const again = await store.create(`${prefix}a`, cm('a', { gen: '2' }));
        await until('two events arrived', () => rec.events.length >= 2);
        assert.deepEqual(rec.events.map((e) => e.type), ['DELETED', 'ADDED']);
        assert.equal(rec.events[1]!.prevObject, undefined, 'a create carries no previous state');
        assert.deepEqual(rec.events[1]!.object.data, { gen: '2' });
        assert.equal(rec.events[1]!.object.metadata.resourceVersion, again.metadata.resourceVersion);
      } finally {
        await w.cancel();
      }
    });

    it('pages from a start key past every key to an empty answer, and refuses to compact a future revision', async () => {
      const prefix = '/registry/core/configmaps/edges/';
      await store.create(`${prefix}a`, cm('a'));
      const empty = await store.list(prefix, { startKey: `${prefix}b`, limit: 10 });
      assert.deepEqual(empty.items, []);
      assert.equal(empty.nextKey, undefined);
      const now = await store.currentRevision();
      await assert.rejects(store.compact(now + 1000));
      // The refused compaction dropped nothing.
      assert.equal((await store.list(prefix, { revision: now })).items.length, 1);
    });

    it('reports a compacted revision to a list (410 upstream) and to a watch', async () => {
      const old = await store.currentRevision();
      await store.create('/registry/core/configmaps/compact/a', cm('a'));
      await store.create('/registry/core/configmaps/compact/b', cm('b'));
      const now = await store.currentRevision();
      await store.compact(now);
      await store.compact(now); // compacting again to the same revision is not an error
      await assert.rejects(store.list('/registry/core/configmaps/compact/', { revision: old, limit: 1 }), CompactedError);
      // A watch from before the compaction ends with CompactedError, at once or through its sink.
      const rec = recorder();
      const ended = await store.watch('/registry/core/configmaps/compact/', old, rec.sink).then(
        async (w) => {
          await until('the watch ended', () => rec.errors.length > 0);
          await w.cancel();
          return rec.errors[0];
        },
        (err: unknown) => err,
      );
      assert.ok(ended instanceof CompactedError, `the watch ended with ${String(ended)}`);
      assert.deepEqual(rec.events, [], 'a watch from a compacted revision delivered events');
      // The latest state is still there, and a watch from the compaction revision on works.
      assert.equal((await store.list('/registry/core/configmaps/compact/')).items.length, 2);
      const live = recorder();
      const w = await store.watch('/registry/core/configmaps/compact/', now, live.sink);
      try {
        await until('the event at the compaction revision arrived', () => live.events.length === 1);
        assert.equal(live.events[0]!.object.metadata.name, 'b');
        assert.deepEqual(live.errors, []);
      } finally {
        await w.cancel();
      }
    });
  });
}
