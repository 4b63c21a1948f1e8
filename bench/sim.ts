// The node simulator at scale (`npm run bench -- sim`): a real etcd, apiserver and controller
// manager plus the simulator with --nodes=5,000 (by default). It measures:
//
//   1. registration: time until every Node is registered and Ready, with the write rate and the
//      CPU of each process meanwhile;
//   2. steady state: for --steady-seconds, every Node must stay Ready and every Lease younger than
//      the 40s grace; the simulator's writes/s by kind and each process's CPU;
//   3. optionally (--pods=N), N pods bound round-robin to the Nodes: time until all run.
//
// It prints figures and exits non-zero only when something broke: a Node not Ready, a Lease
// older than 40s, or pods that never ran. Timings depend on the machine.
//
// Options: --nodes=N --pods=N --steady-seconds=N --max-writes-per-second=N

import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Node } from '../lib/api/core/node.js';
import { isNodeReady } from '../lib/api/core/node.js';
import type { Lease } from '../lib/api/coordination/lease.js';
import { RestClient, type ResourceType } from '../lib/client/client.js';
import { Leases, Namespaces, Nodes, Pods } from '../lib/client/resources.js';
import { contextFor, stateFile } from '../lib/process/cluster.js';
import { readState } from '../lib/process/supervisor.js';
import { startCluster, type Cluster } from '../test/harness.js';
import { CPUMeter, rssBytes } from './lib/proc.js';
import { formatBytes, formatTable } from './lib/stats.js';
import { parseOptions, progress } from './lib/cli.js';

interface Options {
  nodes: number;
  pods: number;
  steadySeconds: number;
  maxWritesPerSecond: number;
}

const defaults: Options = { nodes: 5000, pods: 0, steadySeconds: 90, maxWritesPerSecond: 300 };

const rows: string[][] = [];
const problems: string[] = [];

/** scrape reads the simulator's metrics (with the admin client certificate). */
function scrape(cluster: Cluster): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `https://127.0.0.1:${cluster.config.simPort}/metrics`,
      { ca: readFileSync(cluster.caFile), cert: readFileSync(cluster.adminCert), key: readFileSync(cluster.adminKey), agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const out = new Map<string, number>();
          for (const line of body.split('\n')) {
            const m = /^(skiff_sim_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
            if (m) out.set(m[1]!.replace(/,?component="sim"/, '').replace('{}', ''), Number(m[2]));
          }
          resolve(out);
        });
      },
    );
    req.on('error', reject);
  });
}

function writesByKind(m: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of m) {
    const kind = /^skiff_sim_writes_total\{kind="([^"]+)"\}$/.exec(k)?.[1];
    if (kind) out.set(kind, v);
  }
  return out;
}

async function listAll<T>(client: RestClient, r: ResourceType, ns?: string): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const page = await client.list<T>(r, ns, { limit: 1000, continue: cont });
    items.push(...page.items);
    cont = page.metadata.continue || undefined;
  } while (cont);
  return items;
}

async function main(): Promise<void> {
  const opts = parseOptions('sim', process.argv.slice(2), defaults);
  progress(`Starting etcd, apiserver, controller-manager and the simulator with ${opts.nodes} nodes`);
  const cluster = await startCluster({
    components: ['etcd', 'apiserver', 'controller-manager', 'sim'],
    simulatedNodes: opts.nodes,
    extraArgs: {
      sim: [`--max-writes-per-second=${opts.maxWritesPerSecond}`],
      // A /9 holds 32,768 /24 podCIDRs; the default /16 only 256.
      'controller-manager': ['--cluster-cidr=10.128.0.0/9'],
    },
  });
  try {
    const ctx = contextFor(cluster.config);
    const pid = (name: string) => readState(stateFile(ctx, name))!.pid;
    const pids = { apiserver: pid('apiserver'), etcd: pid('etcd'), 'controller-manager': pid('controller-manager'), sim: pid('sim') };
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const client = new RestClient(kc, { userAgent: 'bench-sim', maxSockets: 32 });

    // 1. Registration.
    const cpu = new CPUMeter(pids);
    const regStart = performance.now();
    let last = -1;
    for (;;) {
      const m = await scrape(cluster);
      const n = m.get('skiff_sim_nodes') ?? 0;
      if (n !== last && (n === opts.nodes || Math.floor(n / 500) !== Math.floor(last / 500))) progress(`${n}/${opts.nodes} nodes registered`);
      last = n;
      if (n >= opts.nodes) break;
      if (performance.now() - regStart > 600_000) throw new Error(`only ${n} of ${opts.nodes} nodes registered after 10 minutes`);
      await sleep(1000);
    }
    let ready = 0;
    for (;;) {
      const nodes = await listAll<Node>(client, Nodes);
      ready = nodes.filter((n) => n.metadata.annotations?.['skiff.dev/simulated'] === 'true' && isNodeReady(n)).length;
      if (ready >= opts.nodes || performance.now() - regStart > 600_000) break;
      await sleep(2000);
    }
    const regSeconds = (performance.now() - regStart) / 1000;
    const regCPU = cpu.read();
    const regWrites = writesByKind(await scrape(cluster));
    const regTotal = [...regWrites.values()].reduce((a, b) => a + b, 0);
    progress(`${ready} nodes Ready after ${regSeconds.toFixed(1)}s`);
    rows.push([`time to register ${opts.nodes} nodes, all Ready`, `${regSeconds.toFixed(1)} s`]);
    rows.push(['writes during registration', `${regTotal} (${(regTotal / regSeconds).toFixed(0)}/s)`]);
    rows.push(['CPU during registration (% of a core)', Object.entries(regCPU).map(([k, v]) => `${k} ${Math.round(v)}%`).join(', ')]);
    if (ready < opts.nodes) problems.push(`only ${ready} of ${opts.nodes} nodes Ready`);

    // 2. Steady state.
    progress(`Steady state for ${opts.steadySeconds}s: every node must stay Ready, every Lease fresher than 40s`);
    cpu.reset();
    const before = writesByKind(await scrape(cluster));
    const steadyStart = performance.now();
    let minReady = Infinity;
    let maxLeaseAge = 0;
    while (performance.now() - steadyStart < opts.steadySeconds * 1000) {
      await sleep(10_000);
      const [nodes, leases] = await Promise.all([listAll<Node>(client, Nodes), listAll<Lease>(client, Leases, 'kube-node-lease')]);
      const r = nodes.filter((n) => isNodeReady(n)).length;
      const now = Date.now();
      const age = Math.max(0, ...leases.map((l) => (now - Date.parse(l.spec?.renewTime ?? '')) / 1000));
      minReady = Math.min(minReady, r);
      maxLeaseAge = Math.max(maxLeaseAge, age);
      progress(`${r} Ready, ${leases.length} Leases, oldest renewal ${age.toFixed(1)}s ago`);
    }
    const steadySeconds = (performance.now() - steadyStart) / 1000;
    const steadyCPU = cpu.read();
    const metrics = await scrape(cluster);
    const after = writesByKind(metrics);
    const kinds = [...after.keys()].sort();
    const perKind = kinds.map((k) => `${k} ${(((after.get(k) ?? 0) - (before.get(k) ?? 0)) / steadySeconds).toFixed(0)}/s`);
    const total = kinds.reduce((a, k) => a + (after.get(k) ?? 0) - (before.get(k) ?? 0), 0);
    rows.push(['steady writes/s by kind', `${(total / steadySeconds).toFixed(0)}/s (${perKind.join(', ')})`]);
    rows.push(['lease renew interval in effect', `${metrics.get('skiff_sim_lease_renew_interval_seconds')} s`]);
    rows.push(['min nodes Ready / oldest Lease renewal', `${minReady} / ${maxLeaseAge.toFixed(1)} s`]);
    rows.push(['steady CPU (% of a core)', Object.entries(steadyCPU).map(([k, v]) => `${k} ${Math.round(v)}%`).join(', ')]);
    rows.push(['memory (RSS)', Object.entries(pids).map(([k, p]) => `${k} ${formatBytes(rssBytes(p))}`).join(', ')]);
    if (minReady < opts.nodes) problems.push(`a node turned NotReady (min Ready ${minReady})`);
    if (maxLeaseAge >= 40) problems.push(`a Lease went ${maxLeaseAge.toFixed(1)}s without renewal`);

    // 3. Pods.
    if (opts.pods > 0) {
      progress(`Creating ${opts.pods} pods bound round-robin to the nodes`);
      await client.create(Namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
      cpu.reset();
      const podStart = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < opts.pods) {
            const i = next++;
            await client.create(Pods, 'bench', {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: `p-${i}` },
              spec: { nodeName: `sim-${i % opts.nodes}`, containers: [{ name: 'app', image: 'nginx' }] },
            });
          }
        }),
      );
      const created = (performance.now() - podStart) / 1000;
      progress(`${opts.pods} pods created in ${created.toFixed(1)}s`);
      let running = 0;
      while (performance.now() - podStart < 600_000) {
        running = (await scrape(cluster)).get('skiff_sim_pods_running') ?? 0;
        if (running >= opts.pods) break;
        await sleep(1000);
      }
      const podSeconds = (performance.now() - podStart) / 1000;
      rows.push([`${opts.pods} pods created, then all Running`, `${created.toFixed(1)} s, ${podSeconds.toFixed(1)} s`]);
      rows.push(['CPU during pods (% of a core)', Object.entries(cpu.read()).map(([k, v]) => `${k} ${Math.round(v)}%`).join(', ')]);
      if (running < opts.pods) problems.push(`only ${running} of ${opts.pods} pods Running`);
    }
  } finally {
    await cluster.stop();
  }
  process.stdout.write('\n' + formatTable(['measurement', 'value'], rows) + '\n');
  if (problems.length) {
    process.stderr.write(`\nproblems:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench sim: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
