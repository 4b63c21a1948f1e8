// The proxy benchmark (`npm run bench -- proxy`). For 1,000 and 10,000 Services × 3 endpoints
// (ClusterIP + NodePort each), per backend this machine has — iptables-legacy, iptables-nft
// (iptables mode) and nft (nftables mode) — each in throwaway network namespaces (skxb-*):
//
//   1. raw: one iptables-restore (or nft -f) of the same text, timed alone: the floor;
//   2. proxy full sync: what the proxier does on its first sync, from Service objects it has
//      never seen (no cached rule fragments): start the restore (and in iptables mode the jump
//      check, one iptables-save), build the text, hand it over; into another fresh namespace;
//      printed as a ratio to the fastest raw restore of the same rules (the iptables mode's text
//      by either iptables backend, the nftables mode's by nft: the target) and of any mode, and
//      split into the proxy's JavaScript (building the text), its process handling (spawning,
//      feeding the pipe) and its commands (the jump check's save, the restore);
//   3. proxy resync: a full sync again with nothing changed (the periodic --sync-period one: the
//      per-Service fragments are cached);
//   4. one changed Service (one endpoint replaced) with all the others present: the partial sync.
//
// Wall times on a shared machine include waiting for a core, so each figure is also given as CPU
// time: the bench process's own (building the text) plus its commands' (user + system, taken by
// running them under /usr/bin/time), which does not depend on the load. Both ratios are printed,
// with the load average. The raw restore is given exactly the text the proxy's restore gets (in
// iptables mode that includes the jumps from the built-in chains, which a fresh namespace lacks).
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
import { Iptables, type Backend, type PendingRestore, backend, insertJumps, missingJumps } from '../proxy/iptables.js';
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

// Commands run under a wrapper that appends their "user system" CPU seconds to cpuFile: a few
// lines of C (compiled here with gcc, which scripts/setup.sh installs) that fork, exec and wait4,
// to the microsecond; else /usr/bin/time, whose figures are cut to 10 ms each (at 1,000 Services
// that is a tenth of a restore, and the proxy's sync runs two commands to the raw side's one).
const dir = mkdtempSync(join(tmpdir(), 'skxb-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cpuFile = join(dir, 'cpu');
const wrapperSource = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) { execvp(argv[2], argv + 2); _exit(127); }
  int status; struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) return 2;
  FILE *f = fopen(argv[1], "a");
  if (f) { fprintf(f, "%ld.%06ld %ld.%06ld\\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec); fclose(f); }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
`;
writeFileSync(join(dir, 'cputime.c'), wrapperSource);
const wrapper = spawnSync('gcc', ['-O2', '-o', join(dir, 'cputime'), join(dir, 'cputime.c')]).status === 0
  ? [join(dir, 'cputime'), cpuFile]
  : spawnSync('/usr/bin/time', ['-f', '', 'true']).status === 0 ? ['/usr/bin/time', '-a', '-o', cpuFile, '-f', '%U %S'] : undefined;
const haveTime = wrapper !== undefined;

/** Timing is a wall time and a CPU time (this process + its commands), in ms. */
interface Timing {
  wall: number;
  cpu?: number;
  /** own is this process's CPU time; children each command's, in the order they ended. */
  own?: number;
  children?: number[];
  /** build is the CPU time of building the text (the proxy's JavaScript), when measured apart. */
  build?: number;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, Timing]> {
  writeFileSync(cpuFile, '');
  const c = process.cpuUsage();
  const t = performance.now();
  const out = await fn();
  const wall = performance.now() - t;
  const own = process.cpuUsage(c);
  const children = readFileSync(cpuFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').reduce((a, x) => a + Number(x), 0) * 1000);
  const ownMs = (own.user + own.system) / 1000;
  return [out, { wall, cpu: haveTime ? ownMs + children.reduce((a, b) => a + b, 0) : undefined, own: ownMs, children }];
}

/** median is the run with the middle CPU time (its breakdown with it), with the middle wall time of all runs. */
function median(runs: Timing[]): Timing {
  const mid = Math.floor(runs.length / 2);
  const byCpu = [...runs].sort((a, b) => (a.cpu ?? a.wall) - (b.cpu ?? b.wall))[mid]!;
  return { ...byCpu, wall: [...runs].map((r) => r.wall).sort((a, b) => a - b)[mid]! };
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const fmt = (t: Timing) => (t.cpu === undefined ? ms(t.wall) : `${ms(t.wall)} (CPU ${ms(t.cpu)})`);
const inNs = (ns: string) => [...(wrapper ?? []), 'nsenter', `--net=/var/run/netns/${ns}`];

/** Mode is one way to program a node: its raw apply, its proxier engine, and whether it checks jumps. */
interface Mode {
  name: string;
  available: boolean;
  /** text is what the proxy's first restore gets: the rules (and in iptables mode the jumps a fresh namespace lacks). */
  text: (services: ReturnType<typeof syntheticCluster>) => string;
  applier: (ns: string) => { restore(text: string): Promise<void>; begin(withJumps: boolean): PendingRestore };
  engine: () => RuleEngine;
}

const iptablesMode = (b: Backend): Mode => ({
  name: `iptables mode, ${b.restore}`,
  available: spawnSync(b.restore, ['--version']).status === 0,
  text: (c) => insertJumps(buildRules(c.services, c.slices, node).text, missingJumps('')),
  applier: (ns) => new Iptables(b, inNs(ns)),
  engine: () => iptablesEngine(),
});
const nftMode: Mode = {
  name: 'nftables mode, nft -f',
  available: spawnSync('nft', ['--version']).status === 0,
  text: (c) => buildNftRules(c.services, c.slices, node).text,
  applier: (ns) => {
    const nft = new Nftables(inNs(ns));
    return { restore: (t) => nft.apply(t), begin: () => nft.begin() };
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
      // As Proxier.syncProxyRules: the restore (and the jump check) start, the text is built and
      // handed over (in iptables mode chunk by chunk as it is built). buildCpu adds up the CPU
      // time spent making the text, wherever it is made.
      let buildCpu = 0;
      const measured = <T>(fn: () => T): T => {
        const c = process.cpuUsage();
        try {
          return fn();
        } finally {
          const used = process.cpuUsage(c);
          buildCpu += (used.user + used.system) / 1000;
        }
      };
      function* measuredChunks(chunks: Iterable<string>): Generator<string> {
        const it = chunks[Symbol.iterator]();
        for (;;) {
          const next = measured(() => it.next());
          if (next.done) return;
          yield next.value;
        }
      }
      const sync = async (changed: ReadonlySet<string> | undefined, slices = cluster.slices, jumps = false) => {
        buildCpu = 0;
        const pending = applier.begin(jumps);
        const r = measured(() => engine.build(cluster.services, slices, node, changed));
        const source = r.source;
        await pending.write(source ? { chunks: (sectionEnd) => measuredChunks(source.chunks(sectionEnd)) } : measured(() => r.text));
        r.commit();
      };
      const [, first] = await timed(() => sync(undefined, cluster.slices, true));
      fulls.push({ ...first, build: buildCpu });
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
    progress(`${n} Services, ${mode.name}: raw ${fmt(raw)}, proxy full sync ${fmt(full)} (${(full.wall / raw.wall).toFixed(2)}× raw in wall time${raw.cpu ? `, ${(full.cpu! / raw.cpu).toFixed(2)}× in CPU` : ''}; ${split(full)}), resync ${fmt(resync!)}, one changed Service ${fmt(partial!)}`);
    rows.push({ n, mode: mode.name, raw, full, resync: resync!, partial: partial! });
  }
}

/**
 * split is where a full sync's CPU time went: the proxy's JavaScript building the text, the rest
 * of its own process (spawning, the pipe, waiting), and its commands (the jump check's
 * iptables-save, which ends first, and the restore).
 */
function split(t: Timing): string {
  if (t.own === undefined || t.build === undefined || !t.children?.length) return 'no CPU split';
  const cmds = t.children.length === 2 ? `save ${ms(t.children[0]!)} + restore ${ms(t.children[1]!)}` : `restore ${ms(t.children.reduce((a, b) => a + b, 0))}`;
  return `CPU: build ${ms(t.build)} + process ${ms(t.own - t.build)} + ${cmds}`;
}

// Ratios of CPU times (they move little with the load) and of wall times (what a sync takes).
const target = (x: number) => `${x.toFixed(2)}×${x <= 1.2 ? '' : ' (missed)'}`;
const lines = [
  '',
  `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ratios are CPU / wall${haveTime ? '' : ' (no CPU times: no wrapper)'}`,
  '',
  '| Services | mode, backend | raw restore | proxy full sync | ÷ fastest raw of the same rules (target ≤ 1.2×) | ÷ fastest raw of any mode | full sync\'s CPU | resync (cached) | one changed Service (target ≤ 100 ms) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
// The same rules: the iptables mode's text restored by either iptables backend, the nftables
// mode's by nft (the issue's "one raw iptables-restore of the same rules by each available backend").
const family = (mode: string) => (mode.startsWith('iptables') ? 'iptables' : 'nftables');
for (const n of sizes) {
  const mine = rows.filter((r) => r.n === n);
  const measured = mine.filter((r) => r.raw !== undefined);
  const fastest = (rs: Row[]) => ({ cpu: Math.min(...rs.map((r) => r.raw!.cpu ?? Infinity)), wall: Math.min(...rs.map((r) => r.raw!.wall)) });
  const any = fastest(measured);
  for (const r of mine) {
    if (r.note) {
      lines.push(`| ${n} | ${r.mode} | ${r.note} | | | | | | |`);
      continue;
    }
    const same = fastest(measured.filter((x) => family(x.mode) === family(r.mode)));
    const full = r.full!;
    const both = (f: { cpu: number; wall: number }, mark: boolean) => {
      const show = mark ? target : (x: number) => `${x.toFixed(2)}×`;
      return haveTime ? `${show(full.cpu! / f.cpu)} / ${show(full.wall / f.wall)}` : show(full.wall / f.wall);
    };
    const partialOk = (r.partial!.cpu ?? r.partial!.wall) <= 100 ? '' : ' (missed)';
    lines.push(`| ${n} | ${r.mode} | ${fmt(r.raw!)} | ${fmt(full)} | ${both(same, true)} | ${both(any, false)} | ${split(full).replace('CPU: ', '')} | ${fmt(r.resync!)} | ${fmt(r.partial!)}${partialOk} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
