// WatchCache over EtcdStorage and a real etcd started by the harness. The cache sees its store
// only through the Storage interface, so tests wrap the store to make its watch fail or stall.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdInstance } from '../../test/harness.js';
import { EtcdStorage } from './etcd.js';
import { WatchCache, TooOldResourceVersionError, type CachedEvent } from './cacher.js';
import { WatchTooLargeError, type Storage, type WatchSink } from './interface.js';
import type { KubeObject } from '../../lib/api/meta.js';
import { Logger } from '../../lib/log.js';
import { Registry } from '../../lib/metrics.js';

const quiet = new Logger('test', 0, () => undefined);
const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', labels },
  data,
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

/**
 * controlledStore wraps a Storage so a test decides what its watches do: the sinks of every
 * watch opened are kept (to end one with an error), and the first `stuck` watches deliver nothing.
 */
function controlledStore(inner: Storage, stuck = 0) {
  const sinks: WatchSink[] = [];
  let opened = 0;
  const storage = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'watch') {
        return (prefix: string, from: number, sink: WatchSink) => {
          sinks.push(sink);
          const silent = opened++ < stuck;
          return target.watch(prefix, from, silent ? { onEvents: () => undefined, onError: () => undefined } : sink);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { storage, sinks, opened: () => opened };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return Number(v?.value ?? 0);
}

describe('WatchCache', () => {
  let etcd: EtcdInstance;
  let store: EtcdStorage;
  let cache: WatchCache;
  before(async () => {
    etcd = await startEtcd();
    store = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls });
    await store.create('/registry/core/configmaps/w/existing', cm('existing', {}, { app: 'x' }));
    cache = new WatchCache(store, quiet, { capacity: 5 });
    await cache.start();
  });
  after(async () => {
    await cache?.stop();
    await store?.close();
    await etcd?.stop();
  });

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
    assert.equal(c.events[1]!.rv, String(now), 'a deletion carries the revision of the delete');
    assert.deepEqual(cache.list('/registry/core/configmaps/w/').map((o) => o.metadata.name), ['existing']);
    stop();
  });

  it('turns an object leaving the selector into DELETED', async () => {
    const c = collect('/registry/core/configmaps/w/', (o) => o.metadata.labels?.app === 'x');
    const stop = await cache.watch(c.watcher, await store.currentRevision());
    await store.guaranteedUpdate('/registry/core/configmaps/w/existing', (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: 'y' } } }));
    await until(() => c.events.length === 1);
    assert.equal(c.events[0]!.type, 'DELETED');
    await store.guaranteedUpdate('/registry/core/configmaps/w/existing', (o) => ({ ...o, metadata: { ...o.metadata, labels: { app: 'x' } } }));
    await until(() => c.events.length === 2);
    assert.equal(c.events[1]!.type, 'ADDED');
    stop();
  });

  it('answers a watch from a revision older than its history with TooOldResourceVersion', async () => {
    const old = await store.currentRevision();
    for (let i = 0; i < 8; i++) await store.create(`/registry/core/configmaps/w/many-${i}`, cm(`many-${i}`));
    assert.equal(await cache.waitUntilFresh(await store.currentRevision(), 5000), true);
    await assert.rejects(cache.watch(collect('/registry/core/configmaps/w/').watcher, old), TooOldResourceVersionError);
  });
});

describe('WatchCache repairs itself', () => {
  let etcd: EtcdInstance;
  let store: EtcdStorage;
  before(async () => {
    etcd = await startEtcd();
    store = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls });
    await store.create('/registry/core/configmaps/r/first', cm('first'));
  });
  after(async () => {
    await store?.close();
    await etcd?.stop();
  });

  it('re-lists when its watch ends (a backlog too large, a compacted revision), and tells watchers to start over', async () => {
    const ctl = controlledStore(store);
    const metrics = new Registry();
    const cache = new WatchCache(ctl.storage, quiet, { watchdogIntervalMs: 0, metrics });
    try {
      await cache.start();
      const c = collect('/registry/core/configmaps/r/');
      await cache.watch(c.watcher, undefined);
      const missed = await store.create('/registry/core/configmaps/r/while-down', cm('while-down'));
      ctl.sinks[0]!.onError(new WatchTooLargeError(Number(missed.metadata.resourceVersion)));
      await until(() => c.events.some((e) => e.type === 'TERMINATED'));
      await until(() => cache.ready && ctl.opened() === 2);
      assert.ok(cache.get('/registry/core/configmaps/r/while-down'), 'the re-list has the object');
      const created = await store.create('/registry/core/configmaps/r/after', cm('after'));
      assert.equal(await cache.waitUntilFresh(Number(created.metadata.resourceVersion), 5000), true);
      assert.equal(await metricValue(metrics, 'apiserver_watch_cache_initializations_total', { reason: 'watch-ended' }), 1);
      // A late answer of the ended watch changes nothing.
      ctl.sinks[0]!.onEvents([], Number(created.metadata.resourceVersion) + 100);
      assert.equal(cache.revision, Number(created.metadata.resourceVersion));
    } finally {
      await cache.stop();
    }
  });

  it('has a watchdog that re-lists a cache standing still while the store moves on', async () => {
    // The first watch is stuck: it neither delivers nor fails, as a watch looping on reconnects did.
    const ctl = controlledStore(store, 1);
    const metrics = new Registry();
    const lines: string[] = [];
    const log = new Logger('test', 0, (line) => lines.push(line));
    const cache = new WatchCache(ctl.storage, log, { watchdogIntervalMs: 100, metrics });
    try {
      await cache.start();
      const c = collect('/registry/core/configmaps/r/');
      await cache.watch(c.watcher, undefined);
      const written = await store.create('/registry/core/configmaps/r/unseen', cm('unseen'));
      assert.equal(await cache.waitUntilFresh(Number(written.metadata.resourceVersion), 10_000), true, 'the cache never caught up');
      assert.ok(cache.get('/registry/core/configmaps/r/unseen'));
      assert.ok(c.events.some((e) => e.type === 'TERMINATED'), 'watchers were not told to start over');
      assert.equal(await metricValue(metrics, 'apiserver_watch_cache_initializations_total', { reason: 'stalled' }), 1);
      assert.ok(lines.some((l) => l.includes('Watch cache is stuck behind the store')), lines.join('\n'));
      // Repaired, it follows the store again, and the watchdog leaves a moving cache alone.
      const next = await store.create('/registry/core/configmaps/r/next', cm('next'));
      assert.equal(await cache.waitUntilFresh(Number(next.metadata.resourceVersion), 5000), true);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(ctl.opened(), 2);
      assert.equal(await metricValue(metrics, 'apiserver_watch_cache_lag_revisions'), 0);
    } finally {
      await cache.stop();
    }
  });
});
