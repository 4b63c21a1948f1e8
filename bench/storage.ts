// The storage benchmark (`npm run bench -- storage`). It drives the two Storage backends through
// the same calls in one run on this machine, straight through the interface (no apiserver):
//
//   1. creates/s: --objects ConfigMaps of ~1 KiB, --concurrency at a time;
//   2. updates/s: one guaranteedUpdate per object, --concurrency at a time;
//   3. one list of everything (ms), and one paged list of --page-size (ms);
//   4. watch delivery: a watch from before phase 1 on every backend, and the time until it has
//      seen every create and update (it runs during phases 1 and 2).
//
// Then it starts an apiserver through the test harness twice, --storage-backend=memory with no
// etcd and etcd3 beside its etcd, and prints the time until each answers /readyz: the start
// issue 18's kit is about. Figures only; it exits non-zero when something broke (a watch missed
// an event, a count is wrong, a start failed).
//
// Options: --objects=N --concurrency=N --page-size=N --skip-cluster=1

import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../lib/api/meta.js';
import { EtcdStorage } from '../apiserver/storage/etcd.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import type { Storage } from '../apiserver/storage/interface.js';
import { startCluster, startEtcd } from '../test/harness.js';
import { parseOptions, progress } from './lib/cli.js';

const opts = parseOptions('storage', process.argv.slice(2), { objects: 5000, concurrency: 64, pageSize: 500, skipCluster: 0 });

const prefix = '/registry/core/configmaps/bench/';
const filler = 'x'.repeat(1024);
const cm = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench' }, data: { filler, n: '0' } });

/** pool runs fn(i) for i in [0, n) with at most width in flight, and returns the seconds it took. */
async function pool(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

/** run measures one backend and prints its figures. */
async function run(name: string, store: Storage): Promise<void> {
  const n = opts.objects;
  let seen = 0;
  let failed: Error | undefined;
  const watchStart = performance.now();
  let allSeenAt = 0;
  const w = await store.watch(prefix, (await store.currentRevision()) + 1, {
    onEvents: (events) => {
      seen += events.length;
      if (seen === 2 * n) allSeenAt = performance.now();
    },
    onError: (err) => (failed = err),
  });
  const createS = await pool(n, opts.concurrency, (i) => store.create(`${prefix}cm-${String(i).padStart(6, '0')}`, cm(i)));
  progress(`${name}: ${n} creates in ${createS.toFixed(2)} s: ${Math.round(n / createS)} creates/s`);
  const updateS = await pool(n, opts.concurrency, (i) =>
    store.guaranteedUpdate(`${prefix}cm-${String(i).padStart(6, '0')}`, (cur) => ({ ...cur, data: { ...(cur.data as object), n: '1' } })),
  );
  progress(`${name}: ${n} updates in ${updateS.toFixed(2)} s: ${Math.round(n / updateS)} updates/s`);
  let t = performance.now();
  const all = await store.list(prefix);
  const listMs = performance.now() - t;
  t = performance.now();
  const page = await store.list(prefix, { limit: opts.pageSize });
  const pageMs = performance.now() - t;
  if (all.items.length !== n || page.items.length !== Math.min(n, opts.pageSize)) throw new Error(`${name}: listed ${all.items.length} and a page of ${page.items.length}`);
  progress(`${name}: list of ${n} in ${listMs.toFixed(0)} ms, a page of ${opts.pageSize} in ${pageMs.toFixed(1)} ms`);
  const deadline = performance.now() + 60_000;
  while (!allSeenAt && !failed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await w.cancel();
  if (failed || !allSeenAt) throw new Error(`${name}: the watch saw ${seen} of ${2 * n} events${failed ? `: ${failed.message}` : ''}`);
  progress(`${name}: the watch had all ${2 * n} events ${((allSeenAt - watchStart) / 1000).toFixed(2)} s after it started`);
}

async function timeToReady(label: string, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  const t = performance.now();
  const cluster = await start();
  progress(`${label}: ready in ${((performance.now() - t) / 1000).toFixed(2)} s`);
  await cluster.stop();
}

async function main(): Promise<void> {
  progress(`storage bench: ${opts.objects} objects, ${opts.concurrency} in flight`);
  const memory = new MemoryStorage();
  try {
    await run('memory', memory);
  } finally {
    await memory.close();
  }
  const etcd = await startEtcd();
  const store = new EtcdStorage({ endpoints: [etcd.endpoint], tls: etcd.tls });
  try {
    await run('etcd', store);
  } finally {
    await store.close();
    await etcd.stop();
  }
  if (opts.skipCluster) return;
  await timeToReady('apiserver --storage-backend=memory (no etcd)', () => startCluster({ components: ['apiserver'], extraArgs: { apiserver: ['--storage-backend=memory'] } }));
  await timeToReady('etcd + apiserver --storage-backend=etcd3', () => startCluster({ components: ['etcd', 'apiserver'] }));
}

main().catch((err) => {
  process.stderr.write(`bench storage: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
