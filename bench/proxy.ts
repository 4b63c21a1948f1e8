// The proxy benchmark (`npm run bench -- proxy`). For 1,000 and 10,000 Services × 3 endpoints
// (ClusterIP + NodePort each), per iptables backend that this machine has (iptables-nft,
// iptables-legacy), each in a throwaway network namespace (skxb-*):
//
//   1. raw: one iptables-restore of the text, timed alone (the floor);
//   2. proxy full sync: buildRules + the same restore + the jumps, through the proxy's own code,
//      into another fresh namespace; printed as a ratio to raw;
//   3. one changed Service (one endpoint replaced) with all the others present: the partial sync
//      the proxy makes after its first full one.
//
// iptables-nft takes minutes for 10,000 Services (about 530 s measured in NODE-FACTS), so that
// size runs only with --nft-large=1. Options: --services=N (replace the two sizes with one)
// --endpoints=N --nft-large=1.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { slice, syntheticCluster } from '../proxy/fixtures.js';
import { Iptables, type Backend, backend } from '../proxy/iptables.js';
import { type NodeState, buildRules } from '../proxy/rules.js';
import { parseOptions, progress } from './lib/cli.js';

const opts = parseOptions('proxy', process.argv.slice(2), { services: 0, endpoints: 3, nftLarge: 0 });
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

function available(b: Backend): boolean {
  return spawnSync(b.restore, ['--version']).status === 0;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const rows: string[] = [];

for (const n of sizes) {
  const { services, slices } = syntheticCluster(n, opts.endpoints);
  const cpu0 = process.cpuUsage();
  const [rules, buildMs] = await timed(() => buildRules(services, slices, node));
  const cpu = process.cpuUsage(cpu0);
  const lines = rules.text.split('\n').length;
  // CPU time beside wall time: on a shared machine the wall time includes waiting for a core.
  progress(`${n} Services × ${opts.endpoints}: buildRules ${ms(buildMs)} wall, ${ms((cpu.user + cpu.system) / 1000)} CPU, ${rules.chains.size} per-Service chains, ${lines} lines`);
  for (const name of ['legacy', 'nft'] as const) {
    const b = backend(name);
    if (!available(b)) {
      progress(`  ${b.restore} not found; skipped`);
      continue;
    }
    if (name === 'nft' && n > 2000 && !opts.nftLarge) {
      progress(`  iptables-nft at ${n} Services skipped (minutes; pass --nft-large=1)`);
      rows.push(`| ${n} | nft | skipped (--nft-large=1) | | | |`);
      continue;
    }
    const rawNs = newNs();
    const raw = new Iptables(b, ['nsenter', `--net=/var/run/netns/${rawNs}`]);
    const [, rawMs] = await timed(() => raw.restore(rules.text));
    delNs(rawNs);

    const ns = newNs();
    const ipt = new Iptables(b, ['nsenter', `--net=/var/run/netns/${ns}`]);
    const [full, fullMs] = await timed(async () => {
      const r = buildRules(services, slices, node);
      await ipt.restore(r.text);
      await ipt.ensureJumps();
      return r;
    });
    // One Service's endpoint replaced, all others present: the partial sync.
    const changed = [...slices];
    changed[0] = slice('bench', 'svc-0', [{ name: 'http', port: 8080 }], [{ ip: '10.245.250.2', node: 'node-a' }, { ip: '10.245.250.3', node: 'node-a' }, { ip: '10.245.250.4', node: 'node-a' }]);
    const [partial, partialMs] = await timed(async () => {
      const r = buildRules(services, changed, node, { changed: new Set(['bench/svc-0']), previousChains: full.chains });
      await ipt.restore(r.text);
      return r;
    });
    delNs(ns);
    const ratio = fullMs / rawMs;
    progress(`  ${b.restore}: raw restore ${ms(rawMs)}, proxy full sync ${ms(fullMs)} (${ratio.toFixed(2)}× raw), one changed Service ${ms(partialMs)} (${partial.text.split('\n').length} lines)`);
    rows.push(`| ${n} | ${name} | ${ms(rawMs)} | ${ms(fullMs)} | ${ratio.toFixed(2)}× | ${ms(partialMs)} |`);
  }
}

process.stdout.write(['', '| Services | backend | raw iptables-restore | proxy full sync | ratio | one changed Service |', '| --- | --- | --- | --- | --- | --- |', ...rows, ''].join('\n'));
