// EtcdStorage against a real etcd started by the harness: the storage conformance suite, and what
// is etcd's own (answers larger than the client accepts).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdInstance } from '../../test/harness.js';
import { EtcdStorage } from './etcd.js';
import { ResourceTransformers } from './encryption.js';
import { WatchTooLargeError, type StoreEvent } from './interface.js';
import { runStorageConformance } from './testing/conformance.js';
import type { KubeObject } from '../../lib/api/meta.js';

runStorageConformance('etcd', async () => {
  const etcd = await startEtcd();
  const storage = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls });
  return {
    storage,
    close: async () => {
      await storage.close();
      await etcd.stop();
    },
  };
});

// The same contract with every value encrypted (aesgcm: the etcd key is authenticated data, so a
// value read under any other key fails), through gets, lists, updates and watches.
runStorageConformance('etcd, encrypted at rest', async () => {
  const etcd = await startEtcd();
  const transformer = new ResourceTransformers({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['*.*'], providers: [{ aesgcm: { keys: [{ name: 'k', secret: Buffer.alloc(32, 7).toString('base64') }] } }] }],
  });
  const storage = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls, transformer });
  return {
    storage,
    close: async () => {
      await storage.close();
      await etcd.stop();
    },
  };
});

const blob = (name: string, size: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'big' },
  data: { filler: 'x'.repeat(size) },
});

describe('EtcdStorage with answers larger than the client accepts', () => {
  let etcd: EtcdInstance;
  let writer: EtcdStorage;
  let small: EtcdStorage;
  let before10: number;
  before(async () => {
    etcd = await startEtcd();
    writer = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls });
    // 64 KiB stands in for gRPC's 4 MiB default: ten 20 KiB objects do not fit one answer.
    small = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls, maxReceiveBytes: 64 * 1024 });
    before10 = await writer.currentRevision();
    for (let i = 0; i < 10; i++) await writer.create(`/registry/core/configmaps/big/b${i}`, blob(`b${i}`, 20 * 1024));
  });
  after(async () => {
    await small?.close();
    await writer?.close();
    await etcd?.stop();
  });

  it('lists everything in pages that fit, and answers a paged list with a shorter page', async () => {
    const all = await small.list('/registry/core/configmaps/big/');
    assert.deepEqual(all.items.map((o) => o.metadata.name), Array.from({ length: 10 }, (_, i) => `b${i}`));
    const page = await small.list('/registry/core/configmaps/big/', { limit: 10 });
    assert.ok(page.items.length > 0 && page.items.length < 10, `a page of ${page.items.length}`);
    assert.equal(page.nextKey, `/registry/core/configmaps/big/b${page.items.length}`);
    // The store stays usable: the failed reads did not open the circuit breaker.
    assert.equal((await small.get('/registry/core/configmaps/big/b0'))?.metadata.name, 'b0');
  });

  it('ends a watch whose backlog does not fit one answer instead of reconnecting at the same revision', async () => {
    const events: StoreEvent[] = [];
    let ended: Error | undefined;
    const w = await small.watch('/registry/core/configmaps/big/', before10 + 1, {
      onEvents: (evs) => events.push(...evs),
      onError: (err) => (ended = err),
    });
    try {
      for (let i = 0; i < 500 && !ended; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(ended instanceof WatchTooLargeError, `the watch did not end: ${String(ended)}`);
      assert.equal(ended.revision, before10 + 1);
      assert.deepEqual(events, []);
    } finally {
      await w.cancel();
    }
  });
});
