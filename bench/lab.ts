// The lab benchmark (`npm run bench -- lab`). It runs `skiff lab up --nodes N` on a fresh
// temporary home, for N = 1 and then N = --nodes (3), and measures, on this machine:
//
//   1. the time from the command's start to every node Ready (the command returns then: it waits
//      for each Node's Ready condition), split into the control plane's start and the lab nodes'
//      part (namespaces, containerds with their images, kubelets, proxies, routes, Ready);
//   2. the memory of the whole lab at rest, --sample-seconds after it is up: the resident memory
//      (VmRSS) of every process the home recorded (control plane, and per node its containerd,
//      kubelet and proxy), in all and per node.
//
// Every node lives in a network namespace (the host runs the control plane only), as in
// test/lab.test.ts; the pod and service ranges come from the test harness's lock slots. Each lab
// is taken down with `skiff lab down --purge`, also when the run fails. kind's maintainers give
// 12.5–17 s for one node on their machines, for comparison.
//
// Options: --nodes=N (3) --sample-seconds=N (10).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeEntry, type ClusterConfig } from '../lib/process/components.js';
import { loadLab } from '../lib/process/lab.js';
import { isAlive, readState } from '../lib/process/supervisor.js';
import { reachableConfig, reserveNodeRanges, run } from '../test/harness.js';
import { parseOptions, progress } from './lib/cli.js';
import { rssBytes } from './lib/proc.js';
import { formatBytes, formatTable } from './lib/stats.js';

const options = parseOptions('lab', process.argv.slice(2), { nodes: 3, sampleSeconds: 10 });
const cli = nodeEntry('cli/main.js');

/** Measurement is one lab's numbers. */
interface Measurement {
  nodes: number;
  totalMs: number;
  labMs: number;
  controlPlaneRss: number;
  nodeRss: number;
}

/** homes are the labs still up, for the exit handler. */
const homes = new Set<string>();

/** downSync takes a lab down and deletes its home. */
function downSync(home: string): void {
  spawnSync(process.execPath, [cli, 'lab', 'down', '--purge'], { env: { ...process.env, SKIFF_HOME: home }, stdio: 'ignore', timeout: 120_000 });
  rmSync(home, { recursive: true, force: true });
  homes.delete(home);
}
process.on('exit', () => {
  for (const h of homes) downSync(h);
});

/** measure brings up a lab of n nodes, samples its memory at rest and takes it down. */
async function measure(n: number): Promise<Measurement> {
  const home = mkdtempSync(join(tmpdir(), 'skiff-bench-lab-'));
  homes.add(home);
  const ranges = reserveNodeRanges(home);
  try {
    const config: ClusterConfig = {
      ...(await reachableConfig(home, ranges)),
      cgroupRoot: `/skl-bench-${process.pid}`,
    };
    writeFileSync(join(home, 'cluster.json'), JSON.stringify(config, null, 2));
    progress(`lab up --nodes ${n} in ${home}`);
    const t0 = performance.now();
    const r = await run(process.execPath, [cli, 'lab', 'up', '--nodes', String(n), '--node-prefix', `b${process.pid % 10000}`], { env: { ...process.env, SKIFF_HOME: home }, timeoutMs: 600_000 });
    const totalMs = performance.now() - t0;
    if (r.code !== 0) throw new Error(`lab up --nodes ${n} failed: ${r.stderr}\n${r.stdout}`);
    // The command prints each control-plane component's start time; the lab nodes' part is the rest.
    const controlPlaneMs = [...r.stdout.matchAll(/\[\d+\/\d+\] \S+ … ready \(([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 1000, 0);
    progress(`${n} node(s) Ready after ${(totalMs / 1000).toFixed(1)} s (control plane ${(controlPlaneMs / 1000).toFixed(1)} s)`);
    await sleep(options.sampleSeconds * 1000);
    let controlPlaneRss = 0;
    let nodeRss = 0;
    for (const f of readdirSync(join(home, 'run')).filter((x) => x.endsWith('.json'))) {
      const state = readState(join(home, 'run', f));
      if (!state || !isAlive(state)) continue;
      const rss = rssBytes(state.pid);
      if (f.startsWith('lab.')) nodeRss += rss;
      else controlPlaneRss += rss;
    }
    const lab = loadLab(home);
    if (lab?.nodes.length !== n) throw new Error(`lab has ${lab?.nodes.length} nodes, want ${n}`);
    return { nodes: n, totalMs, labMs: totalMs - controlPlaneMs, controlPlaneRss, nodeRss };
  } finally {
    progress(`lab down --purge`);
    if (existsSync(home)) downSync(home);
    ranges.release();
  }
}

const results: Measurement[] = [];
for (const n of [1, options.nodes]) results.push(await measure(n));

process.stdout.write(
  '\n' +
    formatTable(
      ['nodes', 'up → all Ready', 'of which nodes', 'control plane RSS', 'nodes RSS', 'RSS per node', 'whole lab per node'],
      results.map((m) => [
        String(m.nodes),
        `${(m.totalMs / 1000).toFixed(1)} s`,
        `${(m.labMs / 1000).toFixed(1)} s`,
        formatBytes(m.controlPlaneRss),
        formatBytes(m.nodeRss),
        formatBytes(m.nodeRss / m.nodes),
        formatBytes((m.nodeRss + m.controlPlaneRss) / m.nodes),
      ]),
    ) +
    '\nkind: 12.5–17 s for one node (its maintainers\' figures). RSS: resident memory of each recorded process (containerd, kubelet, proxy per node; etcd, apiserver, controller manager, scheduler, sim, dns, supervisor for the control plane), pod shims excluded.\n',
);
