// The proxy benchmark (`npm run bench -- proxy`). For 1,000 and 10,000 Services × 3 endpoints
// (ClusterIP + NodePort each), per backend this machine has — iptables-legacy, iptables-nft
// (iptables mode) and nft (nftables mode) — each in throwaway network namespaces (skxb-*):
//
//   1. raw: one iptables-restore (or nft -f) of the same text, timed alone: the floor;
//   2. proxy full sync: what the proxier does on its first sync, from Service objects it has
//      never seen (no cached rule fragments): the jump check (iptables mode), building the text
//      and the same restore, into another fresh namespace; printed as a ratio to raw and to the
//      fastest backend's raw restore of its own rules;
//   3. proxy resync: a full sync again with nothing changed (the periodic --sync-period one: the
//      per-Service fragments are cached);
//   4. one changed Service (one endpoint replaced) with all the others present: the partial sync.
//
// Wall times on a shared machine include waiting for a core, so each figure is also given as CPU
// time: the bench process's own (building the text) plus its commands' (user + system, taken by
// running them under /usr/bin/time), which does not depend on the load. The load average is printed.
// iptables-nft takes minutes for 10,000 Services (about 530 s measured in NODE-FACTS), so that
// size runs only with --nft-large=1. Options: --services=N (replace the two sizes with one)
// --endpoints=N --nft-large=1 --default-tiers=1 --runs=N (raw and full sync each, median; 3).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { slice, syntheticCluster } from '../proxy/fixtures.js';
import { Iptables, type Backend, backend } from '../proxy/iptables.js';
import { buildNftRules } from '../proxy/nftables.js';
import { Nftables } from '../proxy/nftables-run.js';
import { type RuleEngine, capJitTiers, iptablesEngine, nftablesEngine } from '../proxy/proxier.js';
import { type NodeState, buildRules } from '../proxy/rules.js';
import { parseOptions, progress } from './lib/cli.js';

const opts = parseOptions('proxy', process.argv.slice(2), { services: 0, endpoints: 3, nftLarge: 0, defaultTiers: 0, runs: 3 });
// The bench process builds the rules as the proxy's process does (capJitTiers); --default-tiers=1
// leaves V8's tiers as they are, to see what the cap saves.
if (!opts.defaultTiers) capJitTiers();
const node: NodeState = { nodeName: 'node-a', nodeIPs: ['10.245.0.1'], clusterCIDR: '10.245.0.0/16', masqueradeMark: 0x4000, nodePortAddresses: [] };
const sizes = opts.services > 0 ? [opts.services] : [1000, 10000];

const created: string[] = [];
function newNs(): string {
  const ns = `skxb-${randomBytes(3).toString('hex')}`;
  created.push(ns);
  const r = spawnSync('ip', ['netns', 'add', ns]);
  if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
  return ns;
}
function delNs(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns]);
  created.splice(created.indexOf(ns), 1);
}
process.on('exit', () => created.forEach((ns) => spawnSync('ip', ['netns', 'del', ns])));
process.on('SIGINT', () => process.exit(130));

// Commands run under /usr/bin/time when it is there; each appends "user system" seconds to cpuFile.
const dir = mkdtempSync(join(tmpdir(), 'skxb-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cpuFile = join(dir, 'cpu');
const haveTime = spawnSync('/usr/bin/time', ['-f', '', 'true']).status === 0;

/** Timing is a wall time and a CPU time (this process + its commands), in ms. */
interface Timing {
  wall: number;
  cpu?: number;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, Timing]> {
  writeFileSync(cpuFile, '');
  const c = process.cpuUsage();
  const t = performance.now();
  const out = await fn();
  const wall = performance.now() - t;
  const own = process.cpuUsage(c);
  const children = readFileSync(cpuFile, 'utf8').split('\n').filter(Boolean).reduce((sum, l) => sum + l.split(' ').reduce((a, x) => a + Number(x), 0), 0);
  return [out, { wall, cpu: haveTime ? (own.user + own.system) / 1000 + children * 1000 : undefined }];
}

/** median is the run with the middle CPU time (wall time without /usr/bin/time). */
function median(runs: Timing[]): Timing {
  return [...runs].sort((a, b) => (a.cpu ?? a.wall) - (b.cpu ?? b.wall))[Math.floor(runs.length / 2)]!;
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const fmt = (t: Timing) => (t.cpu === undefined ? ms(t.wall) : `${ms(t.wall)} (CPU ${ms(t.cpu)})`);
const inNs = (ns: string) => [...(haveTime ? ['/usr/bin/time', '-a', '-o', cpuFile, '-f', '%U %S'] : []), 'nsenter', `--net=/var/run/netns/${ns}`];

/** Mode is one way to program a node: its raw apply, its proxier engine, and whether it checks jumps. */
interface Mode {
  name: string;
  available: boolean;
  text: (services: ReturnType<typeof syntheticCluster>) => string;
  applier: (ns: string) => { restore(text: string): Promise<void>; ensureJumps(): Promise<void> };
  engine: () => RuleEngine;
}

const iptablesMode = (b: Backend): Mode => ({
  name: `iptables mode, ${b.restore}`,
  available: spawnSync(b.restore, ['--version']).status === 0,
  text: (c) => buildRules(c.services, c.slices, node).text,
  applier: (ns) => new Iptables(b, inNs(ns)),
  engine: () => iptablesEngine(),
});
const nftMode: Mode = {
  name: 'nftables mode, nft -f',
  available: spawnSync('nft', ['--version']).status === 0,
  text: (c) => buildNftRules(c.services, c.slices, node).text,
  applier: (ns) => {
    const nft = new Nftables(inNs(ns));
    return { restore: (t) => nft.apply(t), ensureJumps: async () => undefined };
  },
  engine: () => nftablesEngine(),
};
const modes = [iptablesMode(backend('legacy')), iptablesMode(backend('nft')), nftMode];

interface Row {
  n: number;
  mode: string;
  raw?: Timing;
  full?: Timing;
  resync?: Timing;
  partial?: Timing;
  note?: string;
}
const rows: Row[] = [];

progress(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const n of sizes) {
  for (const mode of modes) {
    if (!mode.available) {
      progress(`  ${mode.name}: not found; skipped`);
      continue;
    }
    if (mode.name.includes('iptables-nft') && n > 2000 && !opts.nftLarge) {
      progress(`  ${mode.name} at ${n} Services skipped (minutes; pass --nft-large=1)`);
      rows.push({ n, mode: mode.name, note: 'skipped (--nft-large=1)' });
      continue;
    }
    // Raw restore and full sync alternate, --runs times each (fresh namespaces and fresh objects
    // every time), and the median of each is reported: one run of either moves by a third with the load.
    const raws: Timing[] = [];
    const fulls: Timing[] = [];
    let resync: Timing | undefined;
    let partial: Timing | undefined;
    for (let run = 0; run < opts.runs; run++) {
      // 1. The floor: the text alone, into an empty namespace.
      const text = mode.text(syntheticCluster(n, opts.endpoints));
      const rawNs = newNs();
      raws.push((await timed(() => mode.applier(rawNs).restore(text)))[1]);
      delNs(rawNs);

      // 2. The proxier's first sync, from objects it has never seen.
      const cluster = syntheticCluster(n, opts.endpoints);
      const ns = newNs();
      const applier = mode.applier(ns);
      const engine = mode.engine();
      const sync = async (changed: ReadonlySet<string> | undefined, slices = cluster.slices, jumps = false) => {
        const j = jumps ? applier.ensureJumps() : undefined;
        const r = engine.build(cluster.services, slices, node, changed);
        await j;
        await applier.restore(r.text);
        r.commit();
      };
      fulls.push((await timed(() => sync(undefined, cluster.slices, true)))[1]);
      if (run === opts.runs - 1) {
        // 3. The periodic full resync, nothing changed.
        resync = (await timed(() => sync(undefined)))[1];
        // 4. One Service's endpoint replaced, all others present.
        const changed = [...cluster.slices];
        changed[0] = slice('bench', 'svc-0', [{ name: 'http', port: 8080 }], [{ ip: '10.245.250.2', node: 'node-a' }, { ip: '10.245.250.3', node: 'node-a' }, { ip: '10.245.250.4', node: 'node-a' }]);
        partial = (await timed(() => sync(new Set(['bench/svc-0']), changed)))[1];
      }
      delNs(ns);
    }
    const raw = median(raws);
    const full = median(fulls);
    progress(`${n} Services, ${mode.name}: raw ${fmt(raw)}, proxy full sync ${fmt(full)} (${(full.wall / raw.wall).toFixed(2)}× raw), resync ${fmt(resync!)}, one changed Service ${fmt(partial!)}`);
    rows.push({ n, mode: mode.name, raw, full, resync: resync!, partial: partial! });
  }
}

// Ratios of CPU times when there are some (they do not move with the load), else of wall times.
const val = (t: Timing) => t.cpu ?? t.wall;
const lines = [
  '',
  `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ratios are of ${haveTime ? 'CPU' : 'wall'} times`,
  '',
  '| Services | mode, backend | raw restore | proxy full sync | ÷ own raw | ÷ fastest raw (target ≤ 1.2×) | resync (cached) | one changed Service (target ≤ 100 ms) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const n of sizes) {
  const mine = rows.filter((r) => r.n === n);
  const fastest = Math.min(...mine.filter((r) => r.raw !== undefined).map((r) => val(r.raw!)));
  for (const r of mine) {
    if (r.note) {
      lines.push(`| ${n} | ${r.mode} | ${r.note} | | | | | |`);
      continue;
    }
    const toFastest = val(r.full!) / fastest;
    lines.push(`| ${n} | ${r.mode} | ${fmt(r.raw!)} | ${fmt(r.full!)} | ${(val(r.full!) / val(r.raw!)).toFixed(2)}× | ${toFastest.toFixed(2)}×${toFastest <= 1.2 ? '' : ' (missed)'} | ${fmt(r.resync!)} | ${fmt(r.partial!)}${val(r.partial!) <= 100 ? '' : ' (missed)'} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
