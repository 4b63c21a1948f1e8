// The collection-delete benchmark (`npm run bench -- collection`): how long one deletecollection
// takes with one delete at a time (--delete-collection-workers=1, kube-apiserver's default) and
// with skiff's default (16), side by side in one run on this machine.
//
// For each setting it starts a control plane (etcd + apiserver) through the test harness, creates
// --objects ConfigMaps and --objects Pods with no node (an unscheduled pod is deleted at once, as
// the namespace controller's cleanup finds most pods of a namespace being torn down), then times
// `DELETE /api/v1/namespaces/bench/{configmaps,pods}` and checks that nothing is left. It prints
// the seconds and the speed-up ratio; it exits non-zero when a delete failed or left something.
//
// Options: --objects=N (default 2000) --concurrency=N (creates in flight, default 32)

import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { startCluster } from '../test/harness.js';
import { parseOptions, progress } from './lib/cli.js';
import { APIClient, runConcurrent } from './lib/load.js';
import { cpuSeconds } from './lib/proc.js';

const opts = parseOptions('collection', process.argv.slice(2), { objects: 2000, concurrency: 32 });

interface Figures {
  configmaps: number;
  pods: number;
  /** cpu is the apiserver's and etcd's CPU time per deleted item (ms), by resource. */
  cpu: Record<'configmaps' | 'pods', { apiserver: number; etcd: number }>;
}

/** measure runs the whole scenario against an apiserver with the given --delete-collection-workers. */
async function measure(workers: number): Promise<Figures> {
  const cluster = await startCluster({ components: ['etcd', 'apiserver'], extraArgs: { apiserver: [`--delete-collection-workers=${workers}`] } });
  const api = new APIClient(cluster.server, { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') }, opts.concurrency);
  try {
    await api.expect('create namespace', [201], 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const figures: Figures = { configmaps: 0, pods: 0, cpu: { configmaps: { apiserver: 0, etcd: 0 }, pods: { apiserver: 0, etcd: 0 } } };
    const apiPid = cluster.pid('apiserver')!;
    const etcdPid = cluster.pid('etcd')!;
    for (const resource of ['configmaps', 'pods'] as const) {
      const made = await runConcurrent(opts.objects, opts.concurrency, async (i) => {
        const body =
          resource === 'configmaps'
            ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { bench: 'yes' } }, data: { n: String(i) } }
            : { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, labels: { bench: 'yes' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
        await api.expect(`create ${resource}`, [201], 'POST', `/api/v1/namespaces/bench/${resource}`, body);
      });
      if (made.errors) throw new Error(`creating ${resource}: ${made.errors} failed; first: ${made.firstError}`);
      const t = performance.now();
      const cpu0 = { apiserver: cpuSeconds(apiPid), etcd: cpuSeconds(etcdPid) };
      const r = await api.expect(`deletecollection ${resource}`, [200], 'DELETE', `/api/v1/namespaces/bench/${resource}?labelSelector=bench%3Dyes`);
      const seconds = (performance.now() - t) / 1000;
      figures.cpu[resource] = {
        apiserver: ((cpuSeconds(apiPid) - cpu0.apiserver) * 1000) / opts.objects,
        etcd: ((cpuSeconds(etcdPid) - cpu0.etcd) * 1000) / opts.objects,
      };
      const deleted = (JSON.parse(r.body) as { items: unknown[] }).items.length;
      const left = (JSON.parse((await api.expect('list', [200], 'GET', `/api/v1/namespaces/bench/${resource}`)).body) as { items: unknown[] }).items.length;
      if (deleted !== opts.objects || left !== 0) throw new Error(`${resource}: deletecollection answered ${deleted} of ${opts.objects} and left ${left}`);
      figures[resource] = seconds;
      const c = figures.cpu[resource];
      progress(
        `--delete-collection-workers=${workers}: ${opts.objects} ${resource} deleted in ${seconds.toFixed(2)} s (${Math.round(opts.objects / seconds)}/s; ` +
          `CPU per delete: apiserver ${c.apiserver.toFixed(2)} ms, etcd ${c.etcd.toFixed(2)} ms)`,
      );
    }
    return figures;
  } finally {
    api.close();
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  progress(`collection bench: ${opts.objects} ConfigMaps and ${opts.objects} Pods per run`);
  const one = await measure(1);
  const many = await measure(16);
  progress('');
  progress('| deletecollection | 1 worker (kube default) | 16 workers (skiff default) | speed-up |');
  progress('| --- | --- | --- | --- |');
  for (const r of ['configmaps', 'pods'] as const) progress(`| ${opts.objects} ${r} | ${one[r].toFixed(2)} s | ${many[r].toFixed(2)} s | ${(one[r] / many[r]).toFixed(2)}× |`);
  progress('');
  progress('| CPU per delete (16 workers) | apiserver | etcd |');
  progress('| --- | --- | --- |');
  for (const r of ['configmaps', 'pods'] as const) progress(`| ${r} | ${many.cpu[r].apiserver.toFixed(2)} ms | ${many.cpu[r].etcd.toFixed(2)} ms |`);
}

main().catch((err) => {
  process.stderr.write(`bench collection: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
