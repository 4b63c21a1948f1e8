// The one file that runs iptables: which backend (nft or legacy), one `iptables-restore -w
// --noflush` per sync, the jumps from the built-in chains into the proxy's, reading back which of
// the proxy's chains exist (to take over after a restart), and --cleanup. Everything runs in the
// network namespace of the process, so tests run the proxy under `nsenter --net=…`.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { isPerServiceChain } from './names.js';
import { cleanupText, topChains } from './rules.js';

/** BackendName is an iptables flavour: the nf_tables-backed one or the legacy x_tables one. */
export type BackendName = 'nft' | 'legacy';

/** Backend is the binaries of one flavour. */
export interface Backend {
  name: BackendName;
  iptables: string;
  restore: string;
  save: string;
}

/** backend gives the binaries of a flavour (Debian's names). */
export function backend(name: BackendName): Backend {
  return { name, iptables: `iptables-${name}`, restore: `iptables-${name}-restore`, save: `iptables-${name}-save` };
}

/** IptablesError is a failed iptables command, with its stderr. */
export class IptablesError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'IptablesError';
  }
}

/** run runs one command with stdin and resolves its stdout; a non-zero exit rejects. */
export function run(command: string, args: string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new IptablesError(`${command}: ${e.message}`, '')));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new IptablesError(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}`, stderr));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/**
 * detectBackend picks the flavour the system already uses, as kube-proxy's image does
 * (iptables-wrapper): the one holding the kubelet's hint chains, else the one with more rules,
 * else nft (Debian 12's default `iptables`).
 */
export async function detectBackend(): Promise<Backend> {
  const dump = async (b: Backend) => run(b.save, []).catch(() => '');
  const [legacy, nft] = await Promise.all([dump(backend('legacy')), dump(backend('nft'))]);
  const hint = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) /m;
  if (hint.test(legacy) && !hint.test(nft)) return backend('legacy');
  if (hint.test(nft)) return backend('nft');
  const rules = (s: string) => s.split('\n').filter((l) => l.startsWith('-A ')).length;
  return rules(legacy) > rules(nft) ? backend('legacy') : backend('nft');
}

/** Jump is a rule in a built-in chain that sends traffic into one of the proxy's chains. */
interface Jump {
  table: 'filter' | 'nat';
  chain: string;
  args: string[];
}

const comment = (text: string) => ['-m', 'comment', '--comment', text];

/** jumps are kube-proxy's jumps from the built-in chains, each ensured first in its chain. */
export const jumps: readonly Jump[] = [
  { table: 'filter', chain: 'INPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes load balancer firewall'), '-j', 'KUBE-PROXY-FIREWALL'] },
  { table: 'filter', chain: 'INPUT', args: [...comment('kubernetes health check service ports'), '-j', 'KUBE-NODEPORTS'] },
  { table: 'filter', chain: 'INPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes externally-visible service portals'), '-j', 'KUBE-EXTERNAL-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes load balancer firewall'), '-j', 'KUBE-PROXY-FIREWALL'] },
  { table: 'filter', chain: 'FORWARD', args: [...comment('kubernetes forwarding rules'), '-j', 'KUBE-FORWARD'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes service portals'), '-j', 'KUBE-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes externally-visible service portals'), '-j', 'KUBE-EXTERNAL-SERVICES'] },
  { table: 'filter', chain: 'OUTPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes load balancer firewall'), '-j', 'KUBE-PROXY-FIREWALL'] },
  { table: 'filter', chain: 'OUTPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', ...comment('kubernetes service portals'), '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'OUTPUT', args: [...comment('kubernetes service portals'), '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'PREROUTING', args: [...comment('kubernetes service portals'), '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'POSTROUTING', args: [...comment('kubernetes postrouting rules'), '-j', 'KUBE-POSTROUTING'] },
];

function quoteArg(a: string): string {
  return /\s/.test(a) ? `"${a}"` : a;
}

/** Iptables runs one backend's commands. */
export class Iptables {
  /**
   * Iptables runs backend's commands; prefix (e.g. `nsenter --net=…`) runs them in another
   * namespace, for tests and the benchmark.
   */
  constructor(
    readonly backend: Backend,
    private readonly prefix: readonly string[] = [],
  ) {}

  private run(command: string, args: string[], stdin?: string): Promise<string> {
    if (this.prefix.length === 0) return run(command, args, stdin);
    return run(this.prefix[0]!, [...this.prefix.slice(1), command, ...args], stdin);
  }

  /** restore applies text with `-w --noflush`: chains it does not declare are left alone. */
  async restore(text: string): Promise<void> {
    await this.run(this.backend.restore, ['-w', '--noflush'], text);
  }

  /**
   * ensureJumps inserts each missing jump from a built-in chain (existing ones stay, so no
   * duplicates): one iptables-save per table (both at once) to see what is there, one restore for
   * what is not. A jump's target chain that does not exist yet is created empty in the same
   * restore (one that exists is not declared, so its rules stay), so this may run before the
   * sync's restore: on a new node while the tables are still small.
   */
  async ensureJumps(): Promise<void> {
    const missing: Record<string, string[]> = { filter: [], nat: [] };
    const saves = await Promise.all((['filter', 'nat'] as const).map((table) => this.run(this.backend.save, ['-t', table])));
    for (const table of ['filter', 'nat'] as const) {
      const saved = saves[table === 'filter' ? 0 : 1]!.split('\n');
      const declared = new Set<string>();
      for (const j of jumps.filter((x) => x.table === table)) {
        const target = j.args[j.args.length - 1]!;
        const text = j.args[j.args.indexOf('--comment') + 1]!;
        const present = saved.some((l) => l.startsWith(`-A ${j.chain} `) && l.endsWith(`-j ${target}`) && l.includes(text));
        if (present) continue;
        if (!declared.has(target) && !saved.some((l) => l.startsWith(`:${target} `))) missing[table]!.unshift(`:${target} - [0:0]`);
        declared.add(target);
        missing[table]!.push(`-I ${j.chain} 1 ${j.args.map(quoteArg).join(' ')}`);
      }
    }
    let text = '';
    for (const [table, lines] of Object.entries(missing)) if (lines.length) text += [`*${table}`, ...lines, 'COMMIT'].join('\n') + '\n';
    if (text) await this.restore(text);
  }

  /** ownChains lists the proxy's chains that exist now, per table. */
  async ownChains(): Promise<{ filter: string[]; nat: string[] }> {
    const list = async (table: 'filter' | 'nat') => {
      const text = await this.run(this.backend.save, ['-t', table]).catch(() => '');
      const own = new Set<string>(topChains[table]);
      return [...text.matchAll(/^:(\S+) /gm)].map((m) => m[1]!).filter((c) => own.has(c) || (table === 'nat' && isPerServiceChain(c)));
    };
    return { filter: await list('filter'), nat: await list('nat') };
  }

  /** cleanup removes every jump and chain the proxy writes, and nothing else; it reports how many chains went. */
  async cleanup(): Promise<number> {
    // Nothing of ours: touch nothing (a jump cannot exist without its chain).
    const found = await this.ownChains();
    if (found.filter.length + found.nat.length === 0) return 0;
    for (const j of jumps) {
      // A jump may have been inserted more than once by an older proxy: delete until none is left.
      for (let i = 0; i < 10; i++) {
        const ok = await this.run(this.backend.iptables, ['-w', '-t', j.table, '-D', j.chain, ...j.args]).then(() => true, () => false);
        if (!ok) break;
      }
    }
    const chains = await this.ownChains();
    const text = cleanupText(chains);
    if (text) await this.restore(text);
    return chains.filter.length + chains.nat.length;
  }
}

/** enableRouteLocalnet lets NodePorts answer on 127.0.0.1 (kube-proxy sets the same sysctl). */
export function enableRouteLocalnet(): void {
  writeFileSync('/proc/sys/net/ipv4/conf/all/route_localnet', '1');
}
