// The controller-manager benchmark (`npm run bench -- controllers`). It starts a whole cluster
// (etcd, apiserver, controller-manager, scheduler and the node simulator with --nodes simulated
// Nodes) through the test harness and measures, in one run:
//
//   1. pods created per second by the ReplicaSet controller (a ReplicaSet of --pods replicas,
//      from its creation to the last pod's ADDED event) against raw pod creates per second
//      through the apiserver (--pods POSTs from this process, 64 at a time), alternated over
//      --rounds rounds. These pods name a scheduler that does not exist, so only creation is
//      timed; target ratio ≥ 0.8.
//   2. a Deployment of --replicas replicas on the simulated nodes: time until every replica is
//      available (scheduler binds, simulator runs them), then a rolling update (a new template
//      annotation) until the rollout is complete; each with the controller manager's CPU time.
//
// Figures are printed, never judged: a missed target does not fail the run. It exits non-zero
// only when something broke (a request failed, a phase did not finish before its deadline).
//
// Options: --pods=N --rounds=N --replicas=N --nodes=N --deadline-seconds=N

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { contextFor, stateFile } from '../lib/process/cluster.js';
import { readState } from '../lib/process/supervisor.js';
import { newSharedInformer } from '../lib/controller/informer.js';
import { RestClient } from '../lib/client/client.js';
import { Deployments, Pods } from '../lib/client/resources.js';
import { startCluster, type Cluster } from '../test/harness.js';
import { APIClient, runConcurrent } from './lib/load.js';
import { cpuSeconds } from './lib/proc.js';
import { fmt, formatTable, rate } from './lib/stats.js';
import { parseOptions, progress as printProgress } from './lib/cli.js';

interface Options {
  pods: number;
  rounds: number;
  replicas: number;
  nodes: number;
  deadlineSeconds: number;
}

const defaults: Options = { pods: 1_000, rounds: 3, replicas: 1_000, nodes: 20, deadlineSeconds: 600 };

/** progress prints to stderr, keeping stdout for the results. */
function progress(msg: string): void {
  printProgress(msg, process.stderr);
}

/** BenchError is a broken run (not a slow one). */
class BenchError extends Error {
  override name = 'BenchError';
}

const unscheduled = 'skiff-bench-nobody';

function podTemplate(labels: Record<string, string>, schedulerName?: string) {
  return {
    metadata: { labels },
    spec: {
      ...(schedulerName ? { schedulerName } : {}),
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  };
}

/** waitFor polls check every intervalMs until it returns true, or throws after the deadline. */
async function waitFor(what: string, deadlineMs: number, check: () => Promise<boolean>, intervalMs = 250): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!(await check())) {
    if (performance.now() > end) throw new BenchError(`${what}: not done within ${deadlineMs / 1000}s`);
    await sleep(intervalMs);
  }
}

async function main(): Promise<void> {
  const o = parseOptions('controllers', process.argv.slice(2), defaults);
  progress(`starting a cluster with ${o.nodes} simulated nodes`);
  const cluster = await startCluster({ simulatedNodes: o.nodes });
  let failed = false;
  try {
    await run(cluster, o);
  } catch (err) {
    failed = true;
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    await cluster.stop();
  }
  process.exit(failed ? 1 : 0);
}

async function run(cluster: Cluster, o: Options): Promise<void> {
  const ctx = contextFor(cluster.config);
  const cmPid = readState(stateFile(ctx, 'controller-manager'))?.pid;
  if (!cmPid) throw new BenchError('controller-manager is not running');
  const tls = { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
  const api = new APIClient(cluster.server, tls, 64);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const client = new RestClient(kc);
  const ns = 'bench';
  await api.expect('create namespace', [201], 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

  // Every pod of the namespace, counted by label as they arrive.
  const added = new Map<string, number>();
  const onAdd: Array<() => void> = [];
  const informer = newSharedInformer<{ metadata?: { labels?: Record<string, string> } }>(kc, `/api/v1/namespaces/${ns}/pods`, () => client.list(Pods, ns));
  informer.on('add', (p) => {
    const run = p.metadata?.labels?.run;
    if (run) added.set(run, (added.get(run) ?? 0) + 1);
    for (const f of onAdd) f();
  });
  informer.start();
  await informer.waitForSync();
  const podsOf = (run: string) => added.get(run) ?? 0;
  const deadline = o.deadlineSeconds * 1000;

  // ---- 1. ReplicaSet creates vs raw creates ----
  progress(`phase 1/2: ${o.pods} pods by the ReplicaSet controller vs ${o.pods} raw creates, ${o.rounds} rounds`);
  const rows: string[][] = [];
  let rawTotalMs = 0;
  let rsTotalMs = 0;
  const cleanup = async (label: string) => {
    await api.expect('delete replicasets', [200], 'DELETE', `/apis/apps/v1/namespaces/${ns}/replicasets?labelSelector=${encodeURIComponent(`run=${label}`)}`, { propagationPolicy: 'Background' });
    await api.expect('delete pods', [200], 'DELETE', `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`run=${label}`)}`, { gracePeriodSeconds: 0 });
  };
  for (let round = 1; round <= o.rounds; round++) {
    const rawLabel = `raw-${round}`;
    const t = performance.now();
    const res = await runConcurrent(o.pods, 64, async (i) => {
      await api.expect('raw pod create', [201], 'POST', `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${rawLabel}-${i}`, ...podTemplate({ run: rawLabel }, unscheduled).metadata },
        spec: podTemplate({}, unscheduled).spec,
      });
    });
    const rawMs = performance.now() - t;
    if (res.errors) throw new BenchError(`raw creates: ${res.errors} failed; first: ${res.firstError}`);
    rawTotalMs += rawMs;
    await cleanup(rawLabel);

    const rsLabel = `rs-${round}`;
    const cpu0 = cpuSeconds(cmPid);
    const t1 = performance.now();
    await api.expect('create replicaset', [201], 'POST', `/apis/apps/v1/namespaces/${ns}/replicasets`, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: rsLabel, labels: { run: rsLabel } },
      spec: { replicas: o.pods, selector: { matchLabels: { run: rsLabel } }, template: podTemplate({ run: rsLabel }, unscheduled) },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchError(`ReplicaSet ${rsLabel}: only ${podsOf(rsLabel)}/${o.pods} pods after ${o.deadlineSeconds}s`)), deadline);
      const check = () => {
        if (podsOf(rsLabel) >= o.pods) {
          clearTimeout(timer);
          resolve();
        }
      };
      onAdd.push(check);
      check();
    });
    const rsMs = performance.now() - t1;
    const rsCpu = cpuSeconds(cmPid) - cpu0;
    rsTotalMs += rsMs;
    rows.push([String(round), `${fmt(rate(o.pods, rawMs))}/s`, `${fmt(rate(o.pods, rsMs))}/s`, (rawMs / rsMs).toFixed(2), `${rsCpu.toFixed(1)}s`]);
    progress(`  round ${round}: raw ${fmt(rate(o.pods, rawMs))}/s, ReplicaSet controller ${fmt(rate(o.pods, rsMs))}/s`);
    await cleanup(rsLabel);
    await waitFor('pods deleted', deadline, async () => {
      const r = await api.expect('count pods', [200], 'GET', `/api/v1/namespaces/${ns}/pods?limit=1`);
      const body = JSON.parse(r.body) as { items: unknown[] };
      return body.items.length === 0;
    }, 500);
  }
  const ratio = rawTotalMs / rsTotalMs;

  // ---- 2. a Deployment on simulated nodes ----
  progress(`phase 2/2: Deployment of ${o.replicas} replicas on ${o.nodes} simulated nodes`);
  const deployPath = `/apis/apps/v1/namespaces/${ns}/deployments`;
  const status = async () => {
    const r = await api.expect('get deployment', [200], 'GET', `${deployPath}/big`);
    return JSON.parse(r.body) as { metadata: { generation: number }; spec: { replicas: number }; status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number } };
  };
  const complete = async () => {
    const d = await status();
    const s = d.status ?? {};
    return s.observedGeneration === d.metadata.generation && s.updatedReplicas === o.replicas && s.replicas === o.replicas && s.availableReplicas === o.replicas;
  };
  let cpu0 = cpuSeconds(cmPid);
  let t2 = performance.now();
  await api.expect('create deployment', [201], 'POST', deployPath, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'big' },
    spec: { replicas: o.replicas, selector: { matchLabels: { run: 'big' } }, template: podTemplate({ run: 'big' }) },
  });
  await waitFor('deployment available', deadline, complete);
  const availableMs = performance.now() - t2;
  const availableCpu = cpuSeconds(cmPid) - cpu0;
  progress(`  ${o.replicas} replicas available after ${(availableMs / 1000).toFixed(1)}s`);

  cpu0 = cpuSeconds(cmPid);
  t2 = performance.now();
  await client.patch(Deployments, ns, 'big', 'merge', { spec: { template: { metadata: { annotations: { 'bench/rollout': '2' } } } } });
  await waitFor('rollout complete', deadline, complete);
  const rolloutMs = performance.now() - t2;
  const rolloutCpu = cpuSeconds(cmPid) - cpu0;
  progress(`  rolling update complete after ${(rolloutMs / 1000).toFixed(1)}s`);
  await informer.stop();
  api.close();

  const out = process.stdout;
  out.write(`\nskiff controller-manager benchmark — ${os.cpus().length} cores, ${o.nodes} simulated nodes, node ${process.version}\n\n`);
  out.write('1. Pod creation: the ReplicaSet controller against raw creates (64 concurrent POSTs), same run\n\n');
  out.write(formatTable(['round', 'raw creates', 'ReplicaSet controller', 'ratio', 'controller-manager CPU'], rows) + '\n');
  out.write(`\n   ratio (total raw time ÷ total controller time): ${ratio.toFixed(2)} (target ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'not met'})\n\n`);
  out.write(`2. Deployment of ${o.replicas} replicas on simulated nodes (scheduler and simulator included)\n\n`);
  out.write(
    formatTable(
      ['phase', 'wall time', 'controller-manager CPU'],
      [
        ['create → all available', `${(availableMs / 1000).toFixed(1)}s`, `${availableCpu.toFixed(1)}s`],
        ['rolling update (25% surge / 25% unavailable)', `${(rolloutMs / 1000).toFixed(1)}s`, `${rolloutCpu.toFixed(1)}s`],
      ],
    ) + '\n',
  );
}

void main();
