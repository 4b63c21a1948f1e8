// The footprint benchmark (`npm run bench -- footprint`): what a single-node cluster costs at rest
// and how long `npm run up` takes to a Ready node, tried as a user would on an installed machine.
// In a temporary SKIFF_HOME whose cluster.json gives every port, CIDR and device name of the
// bench's own (never ~/.skiff, never port 6443), it:
//
//   1. times `bash scripts/setup.sh --quiet` (what `npm run up` runs first) on this installed
//      machine;
//   2. runs `npm run up` on the fresh home (certificates made, images imported), timing from the
//      command's start to each component's "ready" line and to the Node's Ready condition; then
//      `skiff down`;
//   3. runs `npm run up` again on the now-installed home (the everyday case) with the same timings;
//   4. waits --rest-seconds, then reads every process of the home (every process whose command
//      line names it: the supervisor, each component, containerd's shims) from /proc: RSS and PSS
//      (/proc/<pid>/smaps_rollup; PSS splits pages shared between processes, so PSS adds up to what
//      the cluster takes from the machine);
//   5. `skiff down`, and checks nothing of the home is left (processes, links, cgroups, mounts).
//
// Targets (issue 17): the whole cluster at rest ≤ 350 MB (PSS total), `npm run up` to a Ready node
// ≤ 3 s. A missed target is marked, never fatal; the bench exits non-zero only when something
// broke (up failed, the node never Ready, something left behind).
//
// Options: --rest-seconds=N (30), --real-node=0|1 (1; 0 without root), --simulated-nodes=N (0),
// --timeout-seconds=N (120) for each up, --heap=1 to also report each Node process's V8 heap at
// rest, before and after a full collection (bench/lib/heapreport.ts, preloaded through
// NODE_OPTIONS; read after the /proc figures, since the collection changes them).

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cgroupHierarchies, mountsUnder } from '../kubelet/containerd.js';
import { cleanupNode } from '../kubelet/lifecycle.js';
import type { Node } from '../lib/api/core/node.js';
import { contextFor, defaultConfig, saveConfig } from '../lib/process/cluster.js';
import { type ClusterConfig, nodeEntry, nodeLayout, nodeName } from '../lib/process/components.js';
import { freePorts } from '../lib/process/ports.js';
import { acquireHostProxy, reserveNodeRanges } from '../test/harness.js';
import { parseOptions, progress } from './lib/cli.js';
import type { HeapReport } from './lib/heapreport.js';
import { fmt, formatTable } from './lib/stats.js';

interface Options {
  restSeconds: number;
  heap: number;
  realNode: number;
  simulatedNodes: number;
  timeoutSeconds: number;
}

const defaults: Options = { restSeconds: 30, heap: 0, realNode: process.getuid?.() === 0 ? 1 : 0, simulatedNodes: 0, timeoutSeconds: 120 };

/** targetBytes and targetUpMs are issue 17's targets: 350 MB at rest, 3 s to a Ready node. */
const targetBytes = 350e6;
const targetUpMs = 3_000;
const MiB = 1024 * 1024;

const root = fileURLToPath(new URL('../..', import.meta.url));

/** UpTiming is one `npm run up`: when each component's line said ready, when up exited, when the Node was Ready. */
interface UpTiming {
  components: { name: string; atMs: number; how: string }[];
  exitMs: number;
  readyMs: number;
  output: string;
}

/** Footprint is one process's memory. */
interface Footprint {
  pid: number;
  name: string;
  rss: number;
  pss: number;
  /** private is Private_Clean + Private_Dirty: what the process alone holds (USS). */
  private: number;
}

/** memoryOf reads a process's RSS, PSS and private memory (bytes) from /proc/<pid>/smaps_rollup. */
function memoryOf(pid: number): { rss: number; pss: number; private: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: field('Rss'), pss: field('Pss'), private: field('Private_Clean') + field('Private_Dirty') };
}

/**
 * sharedFilePages reads /proc/<pid>/smaps and returns, per mapped file, the bytes of it this
 * process shares with others (Rss − private). Across the cluster's processes the largest figure
 * per file is the file's pages counted once: what they would take with nothing else running that
 * maps the same files (other Node processes on the machine share the node binary and lower PSS).
 */
function sharedFilePages(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return out;
  }
  let file: string | undefined;
  let rss = 0;
  let priv = 0;
  const flush = () => {
    if (file !== undefined) out.set(file, (out.get(file) ?? 0) + (rss - priv) * 1024);
    rss = 0;
    priv = 0;
  };
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      flush();
      // Only file mappings (inode ≠ 0) are shared by name; anonymous memory is private here.
      file = header[1] !== '0' ? header[2]! : undefined;
      continue;
    }
    const m = /^(Rss|Private_Clean|Private_Dirty):\s+(\d+) kB$/.exec(line);
    if (!m) continue;
    if (m[1] === 'Rss') rss += Number(m[2]);
    else priv += Number(m[2]);
  }
  flush();
  return out;
}

/** processesOf lists every process whose command line names home, with a short name for each. */
function processesOf(home: string): { pid: number; name: string }[] {
  const out: { pid: number; name: string }[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    if (Number(p) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue; // gone meanwhile
    }
    if (!argv.some((a) => a.includes(home))) continue;
    out.push({ pid: Number(p), name: processName(argv) });
  }
  return out;
}

/** processName names a process by what it runs: the skiff entry point (apiserver/main.js → apiserver), or the binary. */
function processName(argv: string[]): string {
  if (argv.some((a) => a.endsWith('/cli/supervise-main.js'))) return 'supervisor';
  const entry = argv.find((a) => a.endsWith('/main.js'));
  if (entry) {
    const dir = entry.split('/').at(-2)!;
    if (dir === 'cli') return argv[argv.indexOf(entry) + 1] === 'supervise' ? 'supervisor' : `skiff ${argv[argv.indexOf(entry) + 1] ?? ''}`.trim();
    return { controllers: 'controller-manager' }[dir] ?? dir;
  }
  return argv[0]!.split('/').at(-1)!;
}

/** adminTLS reads the admin's client certificate from the home's PKI. */
function adminTLS(home: string): { ca: string; cert: string; key: string } {
  const pki = join(home, 'pki');
  return { ca: readFileSync(join(pki, 'ca.crt'), 'utf8'), cert: readFileSync(join(pki, 'admin.crt'), 'utf8'), key: readFileSync(join(pki, 'admin.key'), 'utf8') };
}

/** getJSON GETs a path of the apiserver as the admin; undefined on any failure. */
function getJSON<T>(config: ClusterConfig, path: string): Promise<T | undefined> {
  return new Promise((resolve) => {
    let tls: ReturnType<typeof adminTLS>;
    try {
      tls = adminTLS(config.home);
    } catch {
      return resolve(undefined);
    }
    const req = https.get(`https://127.0.0.1:${config.apiserverPort}${path}`, { ...tls, agent: false, timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as T) : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/**
 * isReadySince tells whether a Node's Ready condition is True in a heartbeat from sinceMs on (a
 * Node left Ready in etcd by the previous run does not count: its kubelet of this run said so).
 */
function isReadySince(node: Node | undefined, sinceMs: number): boolean {
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  // Condition times have whole seconds.
  return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime ?? '') >= Math.floor(sinceMs / 1000) * 1000;
}

/**
 * timedUp runs `npm run up` with SKIFF_HOME=home, as a user types it, and times from the spawn to
 * each component's progress line, to its exit, and to the Node (the real one, else sim-0) being
 * Ready as the apiserver reports it (polled every 50 ms once the admin certificate exists).
 */
async function timedUp(config: ClusterConfig, node: string | undefined, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<UpTiming> {
  const t0 = performance.now();
  const wall0 = Date.now();
  const child = spawn('npm', ['run', 'up'], { cwd: root, env: { ...process.env, ...env, SKIFF_HOME: config.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  const timing: UpTiming = { components: [], exitMs: NaN, readyMs: NaN, output: '' };
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const at = performance.now() - t0;
    timing.output += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = /^\[\d+\/\d+\] (\S+) … (ready|already running)/.exec(line);
      if (m) timing.components.push({ name: m[1]!, atMs: at, how: m[2]! });
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (timing.output += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  let code: number | undefined;
  void exited.then((c) => {
    code = c;
    timing.exitMs = performance.now() - t0;
  });
  const deadline = t0 + timeoutMs;
  while (performance.now() < deadline) {
    if (code !== undefined && code !== 0) throw new Error(`npm run up exited with ${code}:\n${timing.output}`);
    if (node === undefined) {
      if (code === 0) break;
    } else if (isReadySince(await getJSON<Node>(config, `/api/v1/nodes/${node}`), wall0)) {
      timing.readyMs = performance.now() - t0;
      break;
    }
    await sleep(50);
  }
  if (node !== undefined && Number.isNaN(timing.readyMs)) {
    child.kill('SIGKILL');
    const seen = (await getJSON<Node>(config, `/api/v1/nodes/${node}`))?.status?.conditions?.find((c) => c.type === 'Ready');
    throw new Error(`node ${node} not Ready ${timeoutMs / 1000} s after npm run up began (at ${new Date(wall0).toISOString()}; Ready condition ${JSON.stringify(seen)}):\n${timing.output}`);
  }
  if ((await exited) !== 0) throw new Error(`npm run up exited with ${code}:\n${timing.output}`);
  return timing;
}

/** skiff runs a `skiff` command against home and returns its output; it throws when it fails. */
function skiff(home: string, args: string[]): string {
  const r = spawnSync(process.execPath, [nodeEntry('cli/main.js'), ...args, '--home', home], { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`skiff ${args.join(' ')} exited with ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** kubeChains lists the KUBE-* chains of the host's iptables (both backends), to tell what a run left. */
function kubeChains(): Set<string> {
  const out = new Set<string>();
  for (const save of ['iptables-save', 'iptables-legacy-save']) {
    const text = spawnSync(save, [], { encoding: 'utf8' }).stdout ?? '';
    for (const line of text.split('\n')) if (/^:KUBE-/.test(line)) out.add(`${save} ${line.split(' ')[0]}`);
  }
  return out;
}

/** leftovers lists what of the home is still on the machine after `skiff down`. */
function leftovers(config: ClusterConfig, chainsBefore: Set<string>): string[] {
  const out = processesOf(config.home).map((p) => `process ${p.pid} (${p.name})`);
  if (!config.realNode) return out;
  for (const link of [config.cniBridge, config.sinkDevice]) {
    if (spawnSync('ip', ['link', 'show', 'dev', link], { stdio: 'ignore' }).status === 0) out.push(`link ${link}`);
  }
  for (const h of cgroupHierarchies()) if (existsSync(join(h, config.cgroupRoot))) out.push(`cgroup ${join(h, config.cgroupRoot)}`);
  for (const m of mountsUnder(config.home)) out.push(`mount ${m}`);
  for (const c of kubeChains()) if (!chainsBefore.has(c)) out.push(`chain ${c}`);
  return out;
}

/** heapReports has every Node process of procs write its heap report (SIGUSR2) and reads them. */
async function heapReports(procs: Footprint[], dir: string): Promise<{ name: string; r: HeapReport }[]> {
  const nodes = procs.filter((p) => {
    try {
      return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0] === process.execPath;
    } catch {
      return false;
    }
  });
  for (const p of nodes) process.kill(p.pid, 'SIGUSR2');
  const out: { name: string; r: HeapReport }[] = [];
  for (const p of nodes) {
    const file = join(dir, `${p.pid}.json`);
    for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
    await sleep(100);
    try {
      out.push({ name: p.name, r: JSON.parse(readFileSync(file, 'utf8')) as HeapReport });
    } catch {
      progress(`no heap report from ${p.name} (pid ${p.pid})`);
    }
  }
  return out;
}

const ms = (v: number) => (Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : 'n/a');
const mib = (v: number) => fmt(v / MiB, ' MiB');

async function main(): Promise<number> {
  const opts = parseOptions('footprint', process.argv.slice(2), defaults);
  const realNode = opts.realNode !== 0;
  if (realNode && process.getuid?.() !== 0) {
    process.stderr.write('bench footprint: a real node needs root (or --real-node=0)\n');
    return 2;
  }
  const home = mkdtempSync(join(tmpdir(), 'skiff-footprint-'));
  const ranges = reserveNodeRanges(home);
  // skiff up runs skiff-proxy in the host's namespace: one such cluster at a time on this machine.
  const releaseProxy = realNode ? await acquireHostProxy(home) : () => undefined;
  const ports = await freePorts(12);
  const suffix = randomBytes(3).toString('hex');
  const config: ClusterConfig = {
    ...defaultConfig(home),
    etcdClientPort: ports[0]!,
    etcdPeerPort: ports[1]!,
    apiserverPort: ports[2]!,
    controllerManagerPort: ports[3]!,
    schedulerPort: ports[4]!,
    simPort: ports[5]!,
    kubeletPort: ports[6]!,
    kubeletHealthPort: ports[7]!,
    containerdStreamPort: ports[8]!,
    containerdMetricsPort: ports[9]!,
    dnsPort: ports[10]!,
    clusterDNSPort: 0,
    proxyPort: ports[11]!,
    // Loopback only; the advertised address stays the host's own (the kubernetes Endpoints refuse loopback).
    bindAddress: '127.0.0.1',
    realNode,
    simulatedNodes: opts.simulatedNodes,
    clusterCIDR: ranges.clusterCIDR,
    serviceCIDR: ranges.serviceCIDR,
    cniBridge: `skfb${suffix}`,
    sinkDevice: `skfs${suffix}`,
    cniNetworkName: `skf-${suffix}`,
    cgroupRoot: `/skf-${suffix}`,
  };
  saveConfig(config);
  const node = realNode ? nodeName(config) : opts.simulatedNodes > 0 ? 'sim-0' : undefined;
  const chainsBefore = realNode ? kubeChains() : new Set<string>();
  let broken = false;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    spawnSync(process.execPath, [nodeEntry('cli/main.js'), 'down', '--home', home], { stdio: 'ignore', timeout: 120_000 });
    if (realNode) {
      const layout = nodeLayout(contextFor(config));
      spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(nodeEntry('kubelet/lifecycle.js'))}); await m.cleanupNode(${JSON.stringify(layout)});`], { stdio: 'ignore', timeout: 60_000 });
    }
    rmSync(home, { recursive: true, force: true });
    ranges.release();
    releaseProxy();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }

  try {
    progress(`home ${home}, apiserver port ${config.apiserverPort}, ${realNode ? `real node ${node}` : 'no real node'}, ${opts.simulatedNodes} simulated`);
    // setup.sh: once so that any real work (a build) is done, then timed on the installed machine.
    let t = performance.now();
    let setup = spawnSync('bash', ['scripts/setup.sh', '--quiet'], { cwd: root, encoding: 'utf8' });
    if (setup.status !== 0) throw new Error(`scripts/setup.sh --quiet failed:\n${setup.stderr}`);
    if (setup.stderr.trim() !== '') {
      progress(`setup.sh did work first: ${setup.stderr.trim().split('\n').join('; ')}`);
      t = performance.now();
      setup = spawnSync('bash', ['scripts/setup.sh', '--quiet'], { cwd: root, encoding: 'utf8' });
    }
    const setupMs = performance.now() - t;
    progress(`setup.sh --quiet on this installed machine: ${ms(setupMs)}`);

    const timeoutMs = opts.timeoutSeconds * 1000;
    progress('npm run up on a fresh home (certificates, image imports)');
    const fresh = await timedUp(config, node, timeoutMs);
    progress(`  up exited after ${ms(fresh.exitMs)}, node Ready after ${ms(fresh.readyMs)}`);
    progress(`  ${skiff(home, ['down']).trim().split('\n').length} lines from skiff down`);
    progress('npm run up on the installed home');
    const heapDir = join(home, 'heap-reports');
    const heapEnv = opts.heap
      ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${join(root, 'dist', 'bench', 'lib', 'heapreport.js')}`.trim(), SKIFF_HEAP_REPORT_DIR: heapDir }
      : {};
    if (opts.heap) mkdirSync(heapDir, { recursive: true });
    const warm = await timedUp(config, node, timeoutMs, heapEnv);
    progress(`  up exited after ${ms(warm.exitMs)}, node Ready after ${ms(warm.readyMs)}`);

    progress(`waiting ${opts.restSeconds} s for rest`);
    await sleep(opts.restSeconds * 1000);
    const procs: Footprint[] = [];
    for (const p of processesOf(home)) {
      const m = memoryOf(p.pid);
      if (m) procs.push({ ...p, ...m });
    }
    const order = ['supervisor', 'etcd', 'apiserver', 'controller-manager', 'scheduler', 'sim', 'dns', 'containerd', 'kubelet', 'proxy'];
    const rank = (n: string) => (order.includes(n) ? order.indexOf(n) : order.length);
    procs.sort((a, b) => rank(a.name) - rank(b.name) || a.pid - b.pid);
    const sum = (f: (p: Footprint) => number) => procs.reduce((a, p) => a + f(p), 0);
    const total = { rss: sum((p) => p.rss), pss: sum((p) => p.pss), private: sum((p) => p.private) };
    const sharedOnce = new Map<string, number>();
    for (const p of procs) for (const [file, bytes] of sharedFilePages(p.pid)) sharedOnce.set(file, Math.max(sharedOnce.get(file) ?? 0, bytes));
    // alone: private memory plus every shared file's pages once (see sharedFilePages).
    const alone = total.private + [...sharedOnce.values()].reduce((a, b) => a + b, 0);

    const heaps = opts.heap ? await heapReports(procs, heapDir) : [];

    const stopT = performance.now();
    skiff(home, ['down']);
    const downMs = performance.now() - stopT;
    const left = leftovers(config, chainsBefore);

    process.stdout.write(`\nMemory at rest (${opts.restSeconds} s after the node was Ready), from /proc/<pid>/smaps_rollup:\n\n`);
    process.stdout.write(
      formatTable(
        ['process', 'pid', 'RSS', 'PSS', 'private'],
        [
          ...procs.map((p) => [p.name, String(p.pid), mib(p.rss), mib(p.pss), mib(p.private)]),
          ['total', '', mib(total.rss), mib(total.pss), mib(total.private)],
        ],
      ) + '\n',
    );
    if (heaps.length > 0) {
      process.stdout.write('\nV8 heap at rest (--heap=1), before → after a full collection, and code:\n\n');
      process.stdout.write(
        formatTable(
          ['process', 'heap used', 'heap committed', 'used after GC', 'committed after GC', 'new space', 'old space', 'code space', 'bytecode', 'external'],
          heaps.map(({ name, r }) => [
            name,
            mib(r.before.heapUsed),
            mib(r.before.heapTotal),
            mib(r.after.heapUsed),
            mib(r.after.heapTotal),
            mib(r.spaces.new_space?.size ?? NaN),
            mib(r.spaces.old_space?.used ?? NaN),
            mib(r.spaces.code_space?.used ?? NaN),
            mib(r.code.bytecode_and_metadata_size),
            mib(r.after.external),
          ]),
        ) + '\n',
      );
    }
    const names = [...new Set([...fresh.components, ...warm.components].map((c) => c.name))];
    const at = (u: UpTiming, n: string) => u.components.find((c) => c.name === n)?.atMs ?? NaN;
    process.stdout.write('\nnpm run up, from the command\'s start (each component: its ready line):\n\n');
    process.stdout.write(
      formatTable(
        ['step', 'fresh home', 'installed home'],
        [
          ...names.map((n) => [`${n} ready`, ms(at(fresh, n)), ms(at(warm, n))]),
          ['up returned', ms(fresh.exitMs), ms(warm.exitMs)],
          ['node Ready', ms(fresh.readyMs), ms(warm.readyMs)],
        ],
      ) + '\n',
    );
    const mark = (ok: boolean) => (ok ? 'met' : 'not met');
    const upMs = node ? warm.readyMs : warm.exitMs;
    process.stdout.write('\n');
    process.stdout.write(
      formatTable(
        ['measurement', 'value', 'target'],
        [
          ['whole cluster at rest (private + shared files once)', `${fmt(alone / 1e6)} MB (${mib(alone)})`, `≤ 350 MB (${mark(alone <= targetBytes)})`],
          ['whole cluster at rest (PSS total)', `${fmt(total.pss / 1e6)} MB (${mib(total.pss)})`, ''],
          ['whole cluster at rest (RSS total, shared pages counted in each)', `${fmt(total.rss / 1e6)} MB`, ''],
          [`npm run up → ${node ? 'node Ready' : 'up returned'}, installed home`, ms(upMs), `≤ 3 s (${mark(upMs <= targetUpMs)})`],
          [`npm run up → ${node ? 'node Ready' : 'up returned'}, fresh home`, ms(node ? fresh.readyMs : fresh.exitMs), ''],
          ['scripts/setup.sh --quiet (inside npm run up)', ms(setupMs), ''],
          ['skiff down', ms(downMs), ''],
          ['left behind after skiff down', left.length === 0 ? 'nothing' : left.join(', '), 'nothing'],
        ],
      ) + '\n',
    );
    if (left.length > 0) broken = true;
  } catch (err) {
    process.stderr.write(`bench footprint: ${(err as Error).stack ?? String(err)}\n`);
    broken = true;
  } finally {
    cleanup();
  }
  return broken ? 1 : 0;
}

process.exitCode = await main();
