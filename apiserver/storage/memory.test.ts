// MemoryStorage: the storage conformance suite etcd passes, and what is the memory backend's own
// (delivery order under concurrent writers, bounded history after compaction, copies on read).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../lib/api/meta.js';
import { CompactedError, StorageUnavailableError, type StoreEvent } from './interface.js';
import { MemoryStorage, FutureRevisionError, compareKeys } from './memory.js';
import { runStorageConformance } from './testing/conformance.js';

runStorageConformance('memory', async () => {
  const storage = new MemoryStorage();
  return { storage, close: () => storage.close() };
});

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data,
});

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('MemoryStorage', () => {
  it('gives every watch every revision once, in order, while many writers race on the same keys', async () => {
    const store = new MemoryStorage({ maxEventsPerAnswer: 7 });
    const seen: StoreEvent[][] = [[], [], []];
    const revisions: number[][] = [[], [], []];
    let inside = false;
    const watches = await Promise.all(
      seen.map((events, i) =>
        store.watch('/registry/', 0, {
          onEvents: (evs, rev) => {
            assert.equal(inside, false, 'a sink was called while another call ran');
            inside = true;
            events.push(...evs);
            revisions[i]!.push(rev);
            inside = false;
          },
          onError: (err) => assert.fail(err),
        }),
      ),
    );
    try {
      const from = (await store.currentRevision()) + 1;
      const keys = ['/registry/core/configmaps/ns/a', '/registry/core/configmaps/ns/b', '/registry/core/configmaps/ns/c'];
      for (const k of keys) await store.create(k, cm(k.slice(-1), { n: '0' }));
      // 20 writers, each bumping a counter 10 times on a random key: the compare-and-swap retries
      // make every bump land exactly once.
      await Promise.all(
        Array.from({ length: 20 }, async (_, w) => {
          for (let n = 0; n < 10; n++) {
            const key = keys[(w + n) % keys.length]!;
            await store.guaranteedUpdate(key, async (cur) => {
              await new Promise((r) => setImmediate(r));
              return { ...cur, data: { n: String(Number((cur.data as Record<string, string>).n) + 1) } };
            });
          }
        }),
      );
      const sum = (await store.list('/registry/')).items.reduce((s, o) => s + Number((o.data as Record<string, string>).n), 0);
      assert.equal(sum, 200, 'a concurrent update was lost');
      const last = await store.currentRevision();
      await until('every watch saw the last revision', () => seen.every((evs) => evs.length === 203));
      for (const [i, evs] of seen.entries()) {
        assert.deepEqual(evs.map((e) => e.revision), Array.from({ length: 203 }, (_, j) => from + j), `watch ${i} skipped or repeated a revision`);
        assert.equal(revisions[i]!.at(-1), last);
        // Each MODIFIED's prevObject is the state the previous event on that key left.
        const state = new Map<string, string>();
        for (const e of evs) {
          if (e.type === 'MODIFIED') assert.equal(e.prevObject?.metadata.resourceVersion, state.get(e.key));
          state.set(e.key, e.object.metadata.resourceVersion!);
        }
      }
    } finally {
      for (const w of watches) await w.cancel();
      await store.close();
    }
  });

  it('keeps no more history than the compaction revision needs', async () => {
    const store = new MemoryStorage();
    const prefix = '/registry/core/configmaps/churn/';
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) {
        const key = `${prefix}k${i}`;
        if (round % 2 === 0) await store.create(key, cm(`k${i}`, { round: String(round) }));
        else await store.guaranteedUpdate(key, (c) => ({ ...c, data: { round: String(round) } }));
      }
      // Every fourth round deletes everything, so tombstones and re-created keys are in the history.
      if (round % 2 === 1) for (let i = 0; i < 20; i++) await store.delete(`${prefix}k${i}`);
    }
    await store.create(`${prefix}k0`, cm('k0', { round: 'last' }));
    const before = store.historySize;
    assert.ok(before.versions > 1000 && before.log > 1000, `history before: ${JSON.stringify(before)}`);
    const now = await store.currentRevision();
    await store.compact(now);
    // One live key: one version of it, and the one change at the compaction revision.
    assert.deepEqual(store.historySize, { versions: 1, log: 1, keys: 1 });
    const listed = await store.list(prefix);
    assert.deepEqual(listed.items.map((o) => [o.metadata.name, (o.data as Record<string, string>).round]), [['k0', 'last']]);
    await assert.rejects(store.list(prefix, { revision: now - 1 }), CompactedError);
    await assert.rejects(store.compact(now + 1), FutureRevisionError, 'a compaction to a future revision was accepted');
    await store.close();
  });

  it('reads at an older revision see deleted and since-updated keys as they were', async () => {
    const store = new MemoryStorage();
    const prefix = '/registry/core/configmaps/old/';
    await store.create(`${prefix}a`, cm('a', { v: '1' }));
    await store.create(`${prefix}b`, cm('b', { v: '1' }));
    const at = await store.currentRevision();
    await store.guaranteedUpdate(`${prefix}a`, (c) => ({ ...c, data: { v: '2' } }));
    await store.delete(`${prefix}b`);
    await store.create(`${prefix}b`, cm('b', { v: 're' }));
    await store.compact(at);
    const then = await store.list(prefix, { revision: at });
    assert.deepEqual(then.items.map((o) => (o.data as Record<string, string>).v), ['1', '1']);
    const now = await store.list(prefix);
    assert.deepEqual(now.items.map((o) => (o.data as Record<string, string>).v), ['2', 're']);
    await assert.rejects(store.list(prefix, { revision: now.revision + 1 }), FutureRevisionError);
    await store.close();
  });

  it('hands out copies: mutating what a read or a watch returned changes nothing stored', async () => {
    const store = new MemoryStorage();
    const key = '/registry/core/configmaps/copies/a';
    const events: StoreEvent[] = [];
    const w = await store.watch('/registry/', 0, { onEvents: (evs) => events.push(...evs), onError: () => undefined });
    const input = cm('a', { v: '1' });
    const created = await store.create(key, input);
    (input.data as Record<string, string>).v = 'input';
    (created.data as Record<string, string>).v = 'created';
    const got = (await store.get(key))!;
    (got.data as Record<string, string>).v = 'got';
    await until('the event arrived', () => events.length === 1);
    (events[0]!.object.data as Record<string, string>).v = 'event';
    assert.deepEqual((await store.get(key))?.data, { v: '1' });
    assert.equal(events[0]!.object.metadata.resourceVersion, created.metadata.resourceVersion);
    await w.cancel();
    await store.close();
  });

  it('delivers nothing inside the writing call, and ends its watches on close', async () => {
    const store = new MemoryStorage();
    const events: StoreEvent[] = [];
    const errors: Error[] = [];
    await store.watch('/registry/', 0, { onEvents: (evs) => events.push(...evs), onError: (err) => errors.push(err) });
    const writing = store.create('/registry/core/configmaps/sync/a', cm('a'));
    assert.equal(events.length, 0, 'an event was delivered inside create');
    await writing;
    await until('the event arrived', () => events.length === 1);
    await store.close();
    await until('the watch ended', () => errors.length === 1);
    assert.ok(errors[0] instanceof StorageUnavailableError);
    await assert.rejects(store.get('/registry/core/configmaps/sync/a'), StorageUnavailableError);
  });

  it('ends a watch that lags behind a compaction, and only the watch whose sink threw', async () => {
    const store = new MemoryStorage();
    const from = (await store.currentRevision()) + 1;
    const lagging: Error[] = [];
    const lagEvents: StoreEvent[] = [];
    await store.watch('/registry/', from, { onEvents: (evs) => lagEvents.push(...evs), onError: (err) => lagging.push(err) });
    const thrower: Error[] = [];
    await store.watch('/registry/', from + 1, {
      onEvents: () => {
        throw new Error('sink broke');
      },
      onError: (err) => thrower.push(err),
    });
    // Two writes and a compaction past the first, all before any delivery could run.
    void store.create('/registry/core/configmaps/lag/a', cm('a'));
    void store.create('/registry/core/configmaps/lag/b', cm('b'));
    await store.compact(from + 1);
    await until('both watches ended', () => lagging.length === 1 && thrower.length === 1);
    assert.ok(lagging[0] instanceof CompactedError, String(lagging[0]));
    assert.deepEqual(lagEvents, [], 'a watch behind the compaction was given events');
    assert.equal(thrower[0]!.message, 'sink broke');
    // The store goes on serving a healthy watch.
    const events: StoreEvent[] = [];
    const errors: Error[] = [];
    await store.watch('/registry/', 0, { onEvents: (evs) => events.push(...evs), onError: (err) => errors.push(err) });
    await store.create('/registry/core/configmaps/lag/c', cm('c'));
    await until('the new watch saw the create', () => events.length === 1);
    assert.deepEqual(errors, []);
    await store.close();
  });

  it('holds a watch from a revision not reached yet until it is written', async () => {
    const store = new MemoryStorage();
    const ahead = (await store.currentRevision()) + 2;
    const events: StoreEvent[] = [];
    const errors: Error[] = [];
    await store.watch('/registry/', ahead, { onEvents: (evs) => events.push(...evs), onError: (err) => errors.push(err) });
    await store.create('/registry/core/configmaps/ahead/a', cm('a'));
    await store.create('/registry/core/configmaps/ahead/b', cm('b'));
    await until('the event at the revision asked for arrived', () => events.length === 1);
    assert.deepEqual(events.map((e) => [e.object.metadata.name, e.revision]), [['b', ahead]]);
    assert.deepEqual(errors, []);
    await store.close();
  });

  it('orders keys by their UTF-8 bytes, as etcd does', () => {
    const keys = ['b', 'a\u{1F600}', 'a\uFFFD', 'a', 'ab'];
    const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...keys].sort(compareKeys), bytes);
  });
});
