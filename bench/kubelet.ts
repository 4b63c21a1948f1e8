// The kubelet benchmark (`npm run bench -- kubelet`). It starts a cluster with a real node through
// the test harness (etcd, apiserver, controller manager, scheduler, containerd, kubelet; needs
// root, containerd, runc and the CNI plugins) and measures, in one run on this machine:
//
//   1. raw CRI: the same pods (busybox `sleep`, one container) brought up by this process with
//      RunPodSandbox + CreateContainer + StartContainer on the node's containerd, the kubelet
//      stopped meanwhile so that it neither competes nor adopts them: 1 pod, --sequential pods one
//      after another, and --burst pods started at --rate per second; time = first call to the
//      return of StartContainer;
//   2. the kubelet: the same three shapes as Pods created through the apiserver (bound by the
//      scheduler), time = the create request sent to the pod first seen with phase Running through
//      a watch;
//   3. the kubelet's own cost: its CPU time per pod started, and its CPU (share of one core, from /proc/<pid>/stat over
//      --sample-seconds) and resident memory (VmRSS) with no pod and with the burst's pods
//      running, and the difference per running pod.
//
// It prints p50 and p99 of each, the ratio kubelet ÷ raw (target ≤ 1.3×) and the burst's p99
// against 2 s (the Kubernetes pod-startup SLO is 5 s); a missed target never fails the run. It
// exits non-zero only when something broke (a pod never Running, a CRI call failing).
//
// Options: --sequential=N (20) --burst=N (100) --rate=N pods/s (5) --sample-seconds=N (20)
// --timeout-seconds=N per phase (300); --quick is --sequential=5 --burst=20 --sample-seconds=5.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerdPaths } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import type { PodSandboxConfig } from '../kubelet/cri/types.js';
import type { Node } from '../lib/api/core/node.js';
import type { Pod } from '../lib/api/core/pod.js';
import { nodeName } from '../lib/process/components.js';
import { startCluster, type Cluster } from '../test/harness.js';
import { parseOptions, progress } from './lib/cli.js';
import { APIClient, type TLSFiles } from './lib/load.js';
import { cpuSeconds, rssBytes } from './lib/proc.js';
import { fmt, formatBytes, formatTable, type LatencySummary, summarize } from './lib/stats.js';
import { openWatch } from './lib/watch.js';

interface Options {
  sequential: number;
  burst: number;
  rate: number;
  sampleSeconds: number;
  timeoutSeconds: number;
}

const defaults: Options = { sequential: 20, burst: 100, rate: 5, sampleSeconds: 20, timeoutSeconds: 300 };
const quick: Partial<Options> = { sequential: 5, burst: 20, sampleSeconds: 5 };

/** targetRatio and targetBurstP99Ms are the targets. */
const targetRatio = 1.3;
const targetBurstP99Ms = 2_000;
const namespace = 'bench-kubelet';
const image = 'busybox:1.36';

/** Shape is one way of bringing pods up: how many, and how they are spaced. */
interface Shape {
  name: string;
  count: number;
  /** intervalMs between starts; 0: each waits for the one before to be Running. */
  intervalMs: number;
}

function shapes(o: Options): Shape[] {
  return [
    { name: '1 pod', count: 1, intervalMs: 0 },
    { name: `${o.sequential} in sequence`, count: o.sequential, intervalMs: 0 },
    { name: `${o.burst} at ${o.rate}/s`, count: o.burst, intervalMs: 1000 / o.rate },
  ];
}

/** runShape starts count pods with start(i) as the shape says and returns each one's latency (ms). */
async function runShape(shape: Shape, start: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  if (shape.intervalMs === 0) {
    for (let i = 0; i < shape.count; i++) out.push(await start(i));
    return out;
  }
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < shape.count; i++) {
    const due = t0 + i * shape.intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    all.push(start(i).then((ms) => void out.push(ms)));
  }
  await Promise.all(all);
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** RawPods brings pods up and down through CRI only, as a kubelet's minimum. */
class RawPods {
  private readonly sandboxes: string[] = [];
  constructor(
    private readonly cri: CriClient,
    private readonly cgroupRoot: string,
    private readonly logsDir: string,
  ) {}

  /** up runs one pod and returns the time from RunPodSandbox to StartContainer's return (ms). */
  async up(name: string): Promise<number> {
    const uid = `raw-${randomBytes(6).toString('hex')}`;
    const config: PodSandboxConfig = {
      metadata: { name, uid, namespace, attempt: 0 },
      hostname: name,
      log_directory: join(this.logsDir, `${namespace}_${name}_${uid}`),
      labels: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.uid': uid },
      linux: { cgroup_parent: `${this.cgroupRoot}/pod${uid}` },
    };
    const t0 = performance.now();
    const sandbox = await this.cri.runPodSandbox(config);
    this.sandboxes.push(sandbox);
    const id = await this.cri.createContainer(sandbox, { metadata: { name: 'sleep', attempt: 0 }, image: { image }, command: ['sleep', '3600'], log_path: 'sleep/0.log' }, config);
    await this.cri.startContainer(id);
    return performance.now() - t0;
  }

  /** down stops and removes every pod up() made. */
  async down(): Promise<void> {
    const ids = this.sandboxes.splice(0);
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(ids.slice(i, i + 10).map(async (id) => {
        await this.cri.stopPodSandbox(id);
        await this.cri.removePodSandbox(id);
      }));
    }
  }
}

/** KubeletPods creates pods through the apiserver and times them to Running through one watch. */
class KubeletPods {
  private readonly created = new Map<string, number>();
  /** bound are the times from create to spec.nodeName first seen (ms): the scheduler's share. */
  readonly bound: number[] = [];
  private readonly boundSeen = new Set<string>();
  private readonly running = new Map<string, (ms: number) => void>();
  private serial = 0;

  constructor(
    private readonly api: APIClient,
    private readonly node: string,
  ) {}

  async open(tls: TLSFiles): Promise<() => void> {
    const w = await openWatch<Pod>(this.api.server, tls, `/api/v1/namespaces/${namespace}/pods`, (ev) => {
      const name = ev.object.metadata?.name ?? '';
      const t = this.created.get(name);
      if (t === undefined) return;
      if (ev.object.spec?.nodeName && !this.boundSeen.has(name)) {
        this.boundSeen.add(name);
        this.bound.push(performance.now() - t);
      }
      if (ev.object.status?.phase !== 'Running') return;
      this.created.delete(name);
      this.running.get(name)?.(performance.now() - t);
    });
    return () => w.stop();
  }

  /** up creates one pod and resolves with the time from its create request to Running seen (ms). */
  up(prefix: string): Promise<number> {
    const name = `${prefix}-${this.serial++}`;
    const done = new Promise<number>((resolve) => this.running.set(name, resolve));
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { bench: 'kubelet' } },
      spec: {
        containers: [{ name: 'sleep', image, command: ['sleep', '3600'] }],
        // sleep as PID 1 ignores SIGTERM: one second's grace keeps the clean-up short.
        terminationGracePeriodSeconds: 1,
        nodeSelector: { 'kubernetes.io/hostname': this.node },
      },
    };
    this.created.set(name, performance.now());
    return this.api.expect(`create pod ${name}`, [201], 'POST', `/api/v1/namespaces/${namespace}/pods`, pod).then(() => done);
  }

  /** down deletes every pod of the namespace and waits until the list is empty. */
  async down(timeoutMs: number): Promise<void> {
    await this.api.expect('delete pods', [200], 'DELETE', `/api/v1/namespaces/${namespace}/pods?labelSelector=bench%3Dkubelet`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.api.expect('list pods', [200], 'GET', `/api/v1/namespaces/${namespace}/pods`);
      if ((JSON.parse(r.body) as { items: unknown[] }).items.length === 0) return;
      if (Date.now() > deadline) throw new Error('the benchmark\'s pods were not deleted in time');
      await sleep(500);
    }
  }
}

/** sampleKubelet reads the kubelet's CPU (% of one core) over seconds, and its RSS at the end. */
async function sampleKubelet(pid: number, seconds: number): Promise<{ cpuPct: number; rss: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpuPct = ((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
  return { cpuPct, rss: rssBytes(pid) };
}

async function waitNodeReady(api: APIClient, name: string): Promise<Node> {
  for (let i = 0; ; i++) {
    const r = await api.request('GET', `/api/v1/nodes/${name}`);
    if (r.status === 200) {
      const n = JSON.parse(r.body) as Node;
      if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && n.spec?.podCIDR) return n;
    }
    if (i > 240) throw new Error(`node ${name} not Ready after 2 minutes`);
    await sleep(500);
  }
}

const ms = (v: number) => fmt(v, ' ms');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const o = parseOptions('kubelet', args.filter((a) => a !== '--quick'), { ...defaults, ...(args.includes('--quick') ? quick : {}) });
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench kubelet: needs root (containerd, runc, CNI)\n');
    process.exit(2);
  }
  const timeoutMs = o.timeoutSeconds * 1000;
  progress(`starting a cluster with a real node (${o.sequential} in sequence, ${o.burst} at ${o.rate}/s)`);
  let cluster: Cluster | undefined;
  let cri: CriClient | undefined;
  try {
    cluster = await startCluster({ realNode: true });
    const c = cluster;
    const tls: TLSFiles = { ca: readFileSync(c.caFile, 'utf8'), cert: readFileSync(c.adminCert, 'utf8'), key: readFileSync(c.adminKey, 'utf8') };
    const api = new APIClient(c.server, tls, 16);
    const node = nodeName(c.config);
    const n = await waitNodeReady(api, node);
    progress(`node ${node} Ready, podCIDR ${n.spec!.podCIDR}`);
    await api.expect('create namespace', [201], 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });

    // 1. Raw CRI, the kubelet stopped.
    await c.kill('kubelet');
    cri = new CriClient(containerdPaths(join(c.home, 'containerd')).socket);
    const logsDir = join(c.home, 'bench-pod-logs');
    mkdirSync(logsDir, { recursive: true });
    const raw = new RawPods(cri, c.config.cgroupRoot, logsDir);
    const rawResults: LatencySummary[] = [];
    for (const shape of shapes(o)) {
      const times = await withTimeout(runShape(shape, (i) => raw.up(`raw-${i}`)), timeoutMs, `raw ${shape.name}`);
      rawResults.push(summarize(times));
      progress(`raw CRI, ${shape.name}: p50 ${ms(rawResults.at(-1)!.p50)}, p99 ${ms(rawResults.at(-1)!.p99)}`);
      await raw.down();
    }

    // 2. The kubelet: idle cost, then the same shapes through the apiserver.
    await c.restart('kubelet');
    await waitNodeReady(api, node);
    const pid = c.pid('kubelet');
    if (!pid) throw new Error('the kubelet is not running');
    await sleep(10_000); // past the restart's own work (registration, adoption, first syncs)
    const idle = await sampleKubelet(pid, o.sampleSeconds);
    progress(`kubelet idle: CPU ${fmt(idle.cpuPct)}%, RSS ${formatBytes(idle.rss)}`);
    const pods = new KubeletPods(api, node);
    const stopWatch = await pods.open(tls);
    const kubeletResults: LatencySummary[] = [];
    /** startCPU is the kubelet's CPU time per pod started, by shape (ms). */
    const startCPU: number[] = [];
    let loaded = idle;
    const all = shapes(o);
    for (const [i, shape] of all.entries()) {
      const cpu0 = cpuSeconds(pid);
      const times = await withTimeout(runShape(shape, () => pods.up(`p${i}`)), timeoutMs, `kubelet ${shape.name}`);
      const cpuPerStartMs = ((cpuSeconds(pid) - cpu0) * 1000) / shape.count;
      kubeletResults.push(summarize(times));
      startCPU.push(cpuPerStartMs);
      const bound = summarize(pods.bound.splice(0));
      progress(`kubelet, ${shape.name}: p50 ${ms(kubeletResults.at(-1)!.p50)}, p99 ${ms(kubeletResults.at(-1)!.p99)} (of which create → bound p50 ${ms(bound.p50)}), kubelet CPU ${ms(cpuPerStartMs)} per pod start`);
      if (i === all.length - 1) {
        await sleep(2_000); // let the last starts' status writes settle
        loaded = await sampleKubelet(pid, o.sampleSeconds);
        progress(`kubelet with ${shape.count} pods running: CPU ${fmt(loaded.cpuPct)}%, RSS ${formatBytes(loaded.rss)}`);
      }
      await pods.down(timeoutMs);
    }
    stopWatch();
    api.close();

    // 3. The report.
    const rows = all.map((shape, i) => {
      const r = rawResults[i]!;
      const k = kubeletResults[i]!;
      return [shape.name, ms(r.p50), ms(r.p99), ms(k.p50), ms(k.p99), `${fmt(k.p50 / r.p50)}×`, `${fmt(k.p99 / r.p99)}×`, ms(startCPU[i]!)];
    });
    process.stdout.write('\nTime from start to Running (raw CRI: RunPodSandbox → StartContainer returned; kubelet: pod create → Running seen through a watch)\n');
    process.stdout.write(formatTable(['pods', 'raw p50', 'raw p99', 'kubelet p50', 'kubelet p99', 'ratio p50', 'ratio p99', 'kubelet CPU/pod'], rows) + '\n');
    const burst = kubeletResults.at(-1)!;
    const worstRatio = Math.max(...all.map((_, i) => kubeletResults[i]!.p50 / rawResults[i]!.p50));
    process.stdout.write(`\nratio (p50, worst shape): ${fmt(worstRatio)}× — target ≤ ${targetRatio}×: ${worstRatio <= targetRatio ? 'met' : 'not met'}\n`);
    process.stdout.write(`burst p99: ${ms(burst.p99)} — target ≤ ${targetBurstP99Ms} ms: ${burst.p99 <= targetBurstP99Ms ? 'met' : 'not met'}\n`);
    const count = all.at(-1)!.count;
    process.stdout.write(
      `kubelet cost: idle CPU ${fmt(idle.cpuPct)}% of a core, RSS ${formatBytes(idle.rss)}; with ${count} pods CPU ${fmt(loaded.cpuPct)}%, RSS ${formatBytes(loaded.rss)}; ` +
        `per running pod ${fmt(((loaded.cpuPct - idle.cpuPct) / count) * 10)} millicores and ${formatBytes((loaded.rss - idle.rss) / count)}\n`,
    );
  } finally {
    cri?.close();
    progress('stopping the cluster');
    await cluster?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench kubelet: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
