// The test kit benchmark (`npm run bench -- kit`): how long a controller's test waits for its
// cluster. In one run, --runs times each, it starts
//
//   in-process: skiff/testing's startCluster() (apiserver on the memory store, controller
//               manager, scheduler and --nodes simulated nodes in this process), and the same
//               with storage 'etcd' (an etcd process beside it);
//   processes:  the test harness's cluster (test/harness.ts, as `skiff up` starts it): etcd, the
//               apiserver, controller manager, scheduler and simulator as separate processes;
//
// and times, from the call, (1) a usable API with every controller running: the API answers
// and every component's readiness says its caches are synced and its Nodes registered, and (2) a
// Deployment of --replicas replicas available on the simulated nodes. Pods start at once on both
// (--pod-start-delay=0s), so the figures are the control plane's own. It prints each run, the
// medians, and the ratio processes ÷ in-process on memory. Figures only: it exits non-zero when a start fails.
//
// Options: --runs=N --nodes=N --replicas=N

import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { startCluster as startHarnessCluster } from '../test/harness.js';
import { startCluster } from '../kit/index.js';
import { parseOptions, progress } from './lib/cli.js';
import { formatTable, percentile } from './lib/stats.js';

const opts = parseOptions('kit', process.argv.slice(2), { runs: 3, nodes: 3, replicas: 10 });

/** Timing is one start: ms from the call to a usable API with every controller running, and to the Deployment available. */
interface Timing {
  readyMs: number;
  deploymentMs: number;
}

/** deploymentAvailable creates a Deployment of opts.replicas and resolves once all are available. */
async function deploymentAvailable(kubeConfig: KubeConfig): Promise<void> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'bench' },
      spec: {
        replicas: opts.replicas,
        selector: { matchLabels: { app: 'bench' } },
        template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m' } } }] } },
      },
    },
  });
  const deadline = performance.now() + 120_000;
  for (;;) {
    const d = await apps.readNamespacedDeployment({ namespace: 'default', name: 'bench' });
    if ((d.status?.availableReplicas ?? 0) >= opts.replicas) return;
    if (performance.now() > deadline) throw new Error(`Deployment not available after 120 s: ${JSON.stringify(d.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function inProcess(storage: 'memory' | 'etcd'): Promise<Timing> {
  const t0 = performance.now();
  const cluster = await startCluster({ nodes: opts.nodes, storage });
  try {
    await cluster.kubeConfig.makeApiClient(CoreV1Api).listNamespace();
    const readyMs = performance.now() - t0;
    await deploymentAvailable(cluster.kubeConfig);
    return { readyMs, deploymentMs: performance.now() - t0 };
  } finally {
    await cluster.stop();
  }
}

/** readyz polls a component's /readyz until it answers 200. */
async function readyz(port: number, ca: string): Promise<void> {
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/readyz', ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
    });
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function processes(): Promise<Timing> {
  const t0 = performance.now();
  const cluster = await startHarnessCluster({ simulatedNodes: opts.nodes, extraArgs: { sim: ['--pod-start-delay=0s'] } });
  try {
    // The harness waits for each client's /healthz; /readyz says its caches are synced (and, for the simulator, its Nodes registered).
    const ca = readFileSync(cluster.caFile, 'utf8');
    await Promise.all([cluster.config.controllerManagerPort, cluster.config.schedulerPort, cluster.config.simPort].map((port) => readyz(port, ca)));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfig);
    await kubeConfig.makeApiClient(CoreV1Api).listNamespace();
    const readyMs = performance.now() - t0;
    await deploymentAvailable(kubeConfig);
    return { readyMs, deploymentMs: performance.now() - t0 };
  } finally {
    await cluster.stop();
  }
}

const results: Record<'in-process' | 'in-process-etcd' | 'processes', Timing[]> = { 'in-process': [], 'in-process-etcd': [], processes: [] };
const modes = [
  ['in-process', () => inProcess('memory')],
  ['in-process-etcd', () => inProcess('etcd')],
  ['processes', processes],
] as const;
for (let run = 1; run <= opts.runs; run++) {
  for (const [name, start] of modes) {
    const t = await start();
    results[name].push(t);
    progress(`run ${run} ${name}: ready in ${(t.readyMs / 1000).toFixed(2)} s, ${opts.replicas} replicas available at ${(t.deploymentMs / 1000).toFixed(2)} s`);
  }
}

const med = (name: keyof typeof results, key: keyof Timing) => percentile(results[name].map((t) => t[key]).sort((a, b) => a - b), 50);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rows = (['readyMs', 'deploymentMs'] as const).map((key) => {
  const a = med('in-process', key);
  const e = med('in-process-etcd', key);
  const b = med('processes', key);
  const label = key === 'readyMs' ? 'start → usable API, every controller running' : `start → Deployment of ${opts.replicas} available`;
  return [label, seconds(a), seconds(e), seconds(b), `${(b / a).toFixed(1)}×`];
});
process.stdout.write(`\nMedian of ${opts.runs} runs each, ${opts.nodes} simulated nodes:\n\n`);
process.stdout.write(formatTable(['measurement', 'in-process (memory)', 'in-process (etcd)', 'processes (etcd)', 'processes ÷ in-process (memory)'], rows) + '\n');
