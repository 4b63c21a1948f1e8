// The fault benchmark (`npm run bench -- faults`): the longer version of test/faults.test.ts. It
// starts a whole cluster (etcd, apiserver, controller manager, scheduler, simulated nodes) and,
// under write load, kills each process with SIGKILL `--rounds` times, restarts etcd cleanly, then
// carries a big state across an apiserver restart. It prints what it measured: how long each
// process took to come back and the Deployment to converge, how many writes were acknowledged,
// refused or left without an answer, what the watcher saw, and the big state's write, restart
// and list times.
//
// Timings are figures, not targets. It exits non-zero only when something broke: an
// acknowledged write lost, a revision the watcher missed or saw out of order, a cluster that did
// not converge, a big state that did not come back.
//
// Options (all optional): --rounds=N --concurrency=N --payload-bytes=N --nodes=N
// --big-objects=N --big-object-kib=N --converge-seconds=N

import { performance } from 'node:perf_hooks';
import {
  APIClient,
  ServiceManager,
  Watcher,
  Writer,
  deploymentManifest,
  listAll,
  lostWrites,
  missedRevisions,
  readStored,
  retry,
  scaleDeployment,
  sleep,
  waitConverged,
} from '../test/fault-load.js';
import { startCluster, type Cluster } from '../test/harness.js';
import { rssBytes } from './lib/proc.js';
import { fmt, formatBytes, formatTable, summarize } from './lib/stats.js';
import { parseOptions, progress } from './lib/cli.js';

/** BenchOptions size the run; the defaults take a few minutes on a 2-core machine. */
interface BenchOptions {
  rounds: number;
  concurrency: number;
  payloadBytes: number;
  nodes: number;
  bigObjects: number;
  bigObjectKib: number;
  convergeSeconds: number;
}

const defaults: BenchOptions = {
  rounds: 3,
  concurrency: 8,
  payloadBytes: 1024,
  nodes: 5,
  bigObjects: 4_000,
  bigObjectKib: 8,
  convergeSeconds: 120,
};

/** problems are failures that make the run exit non-zero. */
const problems: string[] = [];

const leaderArgs = ['--leader-elect-lease-duration=6', '--leader-elect-renew-deadline=5', '--leader-elect-retry-period=1'];

/** FaultRow is one injected fault and what followed it. */
interface FaultRow {
  fault: string;
  backMs: number;
  convergedMs: number;
  acknowledgedBetween: number;
}

async function faultRounds(cluster: Cluster, client: APIClient, opts: BenchOptions): Promise<void> {
  const ns = 'faults';
  await client.json('POST', '/api/v1/namespaces', [201], { metadata: { name: ns } });
  await client.json('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, [201], deploymentManifest('web', 2));
  await waitConverged(client, ns, 'web', opts.convergeSeconds * 1000);
  const watcher = new Watcher(client, cluster, ns);
  await watcher.start();
  const writer = new Writer(client, ns, { concurrency: opts.concurrency, payloadBytes: opts.payloadBytes });
  await writer.start();
  const services = new ServiceManager(cluster, ['controller-manager', 'scheduler', 'sim']);
  services.start();
  const rows: FaultRow[] = [];
  const tWrites = performance.now();
  let replicas = 2;
  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (const component of ['apiserver', 'etcd', 'controller-manager', 'scheduler', 'sim', 'etcd restart']) {
        const before = writer.stats.acknowledged;
        await retry(`writes before ${component}`, 60_000, async () => {
          if (writer.stats.acknowledged < before + 50) throw new Error(`${writer.stats.acknowledged - before} writes so far`);
        });
        const clean = component === 'etcd restart';
        const name = clean ? 'etcd' : component;
        replicas = name === 'controller-manager' ? replicas - 1 : replicas >= 8 ? 2 : replicas + 1;
        const tKill = performance.now();
        if (clean) {
          await cluster.restart('etcd');
        } else {
          await services.pause(name);
          await cluster.killHard(name);
          if (name !== 'apiserver' && name !== 'etcd') await scaleDeployment(client, ns, 'web', replicas);
          await sleep(500);
          await cluster.restart(name);
          services.paused = undefined;
        }
        const backMs = performance.now() - tKill;
        if (name === 'apiserver' || name === 'etcd') await scaleDeployment(client, ns, 'web', replicas);
        let convergedMs = NaN;
        try {
          convergedMs = await waitConverged(client, ns, 'web', opts.convergeSeconds * 1000);
        } catch (err) {
          problems.push(`round ${round + 1}, ${clean ? component : `kill -9 ${name}`}: ${(err as Error).message}`);
        }
        const fault = clean ? `etcd restart (SIGTERM)` : `kill -9 ${name}`;
        rows.push({ fault: `${round + 1}: ${fault}`, backMs, convergedMs, acknowledgedBetween: writer.stats.acknowledged - before });
        progress(`round ${round + 1}: ${fault}: back in ${fmt(backMs)} ms, ${replicas} replicas converged ${fmt(convergedMs)} ms later`);
      }
    }
  } finally {
    await writer.stop();
    await services.stop();
  }
  const writeSeconds = (performance.now() - tWrites) / 1000;
  const marker = await retry('the final write', 60_000, () => client.json<{ metadata: { resourceVersion: string } }>('POST', `/api/v1/namespaces/${ns}/configmaps`, [201], { metadata: { name: 'final' } }));
  await retry('the watcher to catch up', 120_000, async () => {
    if (!watcher.seen(Number(marker.metadata.resourceVersion))) throw new Error('behind');
  });
  await watcher.stop();
  const stored = await readStored(client, ns);
  const lost = lostWrites(writer, stored.objects);
  const missed = missedRevisions(writer, watcher, stored.objects);
  for (const l of lost.slice(0, 20)) problems.push(`lost: ${l}`);
  for (const m of missed.slice(0, 20)) problems.push(`watcher: ${m}`);

  process.stdout.write(`\n${formatTable(
    ['fault', 'back (ms)', 'converged (ms)', 'writes acknowledged since the last fault'],
    rows.map((r) => [r.fault, fmt(Math.round(r.backMs)), fmt(Math.round(r.convergedMs)), fmt(r.acknowledgedBetween)]),
  )}\n\n`);
  for (const kind of ['apiserver', 'etcd', 'controller-manager', 'scheduler', 'sim']) {
    const s = summarize(rows.filter((r) => r.fault.endsWith(`kill -9 ${kind}`)).map((r) => r.convergedMs).filter(Number.isFinite));
    progress(`kill -9 ${kind}: convergence p50 ${fmt(s.p50)} ms, max ${fmt(s.max)} ms over ${s.count} kills`);
  }
  const w = writer.stats;
  progress(`writes: ${fmt(w.attempts)} attempted in ${fmt(writeSeconds)} s (${fmt(w.acknowledged / writeSeconds)}/s acknowledged): ${fmt(w.acknowledged)} acknowledged, ${fmt(w.refused)} refused, ${fmt(w.unknown)} without an answer`);
  progress(`lost acknowledged writes: ${lost.length}; watcher: ${fmt(watcher.events.length)} events, ${watcher.reconnects} reconnects, ${watcher.relists.length} re-lists after 410, ${missed.length} revisions missed or out of order`);
  progress(`components restarted after exiting on their own (lost leases): ${services.restarts.join(', ') || 'none'}`);
}

async function bigState(cluster: Cluster, client: APIClient, opts: BenchOptions): Promise<void> {
  const ns = 'bigstate';
  await client.json('POST', '/api/v1/namespaces', [201], { metadata: { name: ns } });
  const value = 'y'.repeat(opts.bigObjectKib * 1024);
  let next = 0;
  const tWrite = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < opts.bigObjects) {
        const name = `big-${String(next++).padStart(6, '0')}`;
        await retry(`create ${name}`, 60_000, () => client.json('POST', `/api/v1/namespaces/${ns}/configmaps`, [201], { metadata: { name }, data: { v: value } }));
      }
    }),
  );
  const bytes = opts.bigObjects * opts.bigObjectKib * 1024;
  progress(`big state: ${fmt(opts.bigObjects)} ConfigMaps of ${opts.bigObjectKib} KiB (${formatBytes(bytes)}) written in ${fmt((performance.now() - tWrite) / 1000)} s`);
  const lists = async (when: string) => {
    const tFull = performance.now();
    const full = await client.request('GET', `/api/v1/namespaces/${ns}/configmaps`, undefined, undefined, 120_000);
    const fullMs = performance.now() - tFull;
    const n = full.status === 200 ? (JSON.parse(full.body) as { items: unknown[] }).items.length : 0;
    if (n !== opts.bigObjects) problems.push(`${when}: full list answered ${full.status} with ${n} of ${opts.bigObjects} items: ${full.body.slice(0, 200)}`);
    const tPaged = performance.now();
    let paged = 0;
    try {
      paged = (await listAll(client, `/api/v1/namespaces/${ns}/configmaps`, 500)).items.length;
    } catch (err) {
      problems.push(`${when}: paged list: ${(err as Error).message}`);
    }
    if (paged !== opts.bigObjects) problems.push(`${when}: paged list found ${paged} of ${opts.bigObjects}`);
    progress(`big state ${when}: full list ${fmt(fullMs)} ms (HTTP ${full.status}), paged list (limit 500) ${fmt(performance.now() - tPaged)} ms; apiserver RSS ${formatBytes(rssBytes(cluster.pid('apiserver') ?? 0))}`);
  };
  await lists('before the restart');
  const tRestart = performance.now();
  try {
    await cluster.killHard('apiserver');
    await cluster.restart('apiserver');
    progress(`big state: apiserver back after kill -9 in ${fmt(performance.now() - tRestart)} ms`);
  } catch (err) {
    problems.push(`the apiserver did not come back over ${formatBytes(bytes)}: ${(err as Error).message}`);
    return;
  }
  await lists('after the restart');
}

async function main(): Promise<void> {
  const opts = parseOptions('faults', process.argv.slice(2), defaults);
  progress(`options: ${JSON.stringify(opts)}`);
  const cluster = await startCluster({
    simulatedNodes: opts.nodes,
    extraArgs: { 'controller-manager': leaderArgs, scheduler: leaderArgs, sim: ['--lease-renew-interval=2s'] },
  });
  const client = new APIClient(cluster, 32);
  const stop = async () => {
    client.close();
    await cluster.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    progress(`cluster up: ${cluster.server}`);
    await faultRounds(cluster, client, opts);
    await bigState(cluster, client, opts);
  } catch (err) {
    problems.push(`the run broke: ${(err as Error).stack ?? err}`);
  } finally {
    await stop();
  }
  if (problems.length) {
    process.stdout.write(`\nPROBLEMS (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('\nno acknowledged write lost, no revision missed, every fault converged\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
