// The one file that runs iptables: which backend (nft or legacy), one `iptables-restore -w
// --noflush` per sync, the jumps from the built-in chains into the proxy's, reading back which of
// the proxy's chains exist (to take over after a restart), and --cleanup. Everything runs in the
// network namespace of the process, so tests run the proxy under `nsenter --net=…`.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
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

/** Started is a command that runs and waits for its stdin. */
export interface Started {
  /** feed writes stdin and closes it; it resolves the command's stdout, a non-zero exit rejects. */
  feed(stdin: string): Promise<string>;
  /**
   * feedChunks writes each chunk as it is taken from chunks (so a generator's work overlaps the
   * command's reading), waiting whenever the pipe is full; afterFirst runs between the first
   * chunk and the second. It stops early when the command exits; a chunk that throws kills it.
   */
  feedChunks(chunks: Iterable<string>, afterFirst?: () => Promise<void>): Promise<string>;
  /** kill ends the command before it was fed (a restore killed before its input ends applies nothing). */
  kill(): void;
}

/**
 * start starts a command whose stdin comes later: a sync starts its restore before it builds the
 * text, so the process starts (fork, exec, nsenter, loading) while the rules are built.
 */
export function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.on('error', () => undefined);
  let exited = false;
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (e) => reject(new IptablesError(`${command}: ${e.message}`, '')));
    child.on('close', (code, signal) => {
      exited = true;
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new IptablesError(`${command} ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim().split('\n')[0] ?? ''}`, stderr));
    });
  });
  done.catch(() => undefined);
  const ended = done.then(() => undefined, () => undefined);
  return {
    feed: (stdin) => {
      child.stdin.end(stdin);
      return done;
    },
    feedChunks: async (chunks, afterFirst) => {
      let n = 0;
      try {
        for (const chunk of chunks) {
          if (exited) break;
          // A command that exits early (a bad line) fails the pipe: its exit status is the answer.
          if (!child.stdin.write(chunk)) await Promise.race([once(child.stdin, 'drain').catch(() => undefined), ended]);
          if (++n === 1 && afterFirst) await afterFirst();
        }
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
      child.stdin.end();
      return done;
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

/** run runs one command with stdin and resolves its stdout; a non-zero exit rejects. */
export function run(command: string, args: string[], stdin = ''): Promise<string> {
  return start(command, args).feed(stdin);
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

/**
 * ChunkSource is a sync's text to be fed as it is built: chunks(sectionEnd) gives its pieces, and
 * asks sectionEnd (when given) for lines to put before each table's COMMIT.
 */
export interface ChunkSource {
  chunks(sectionEnd?: (table: 'filter' | 'nat') => string): Iterable<string>;
}

/** PendingRestore is a restore that was started and waits for its text (Iptables.begin). */
export interface PendingRestore {
  /** write hands over the text (whole, or built as it is fed) and resolves once it is applied; a failed restore rejects. */
  write(text: string | ChunkSource): Promise<void>;
  /** abort ends the restore unapplied (the text could not be built). */
  abort(): void;
}

/** MissingJumps are, per table, the jumps an iptables-save lacks and the target chains it lacks. */
type MissingJumps = Record<'filter' | 'nat', { decls: string[]; rules: string[] }>;

/**
 * missingJumps reads an iptables-save of every table: which jumps are missing (each an `-I CHAIN
 * 1 …` line, in the order that leaves them in kube-proxy's order) and which of their target
 * chains do not exist.
 */
export function missingJumps(dump: string): MissingJumps {
  // Only the rules of the built-in chains the jumps live in, and the chains declared, per table.
  const builtin = new Set(jumps.map((j) => j.chain));
  const rules = { filter: [] as string[], nat: [] as string[] };
  const chains = { filter: new Set<string>(), nat: new Set<string>() };
  let table: 'filter' | 'nat' | undefined;
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      table = name === 'filter' || name === 'nat' ? name : undefined;
    } else if (!table) continue;
    else if (line.startsWith(':')) chains[table].add(line.slice(1, line.indexOf(' ')));
    else if (line.startsWith('-A ') && builtin.has(line.slice(3, line.indexOf(' ', 3)))) rules[table].push(line);
  }
  const missing: MissingJumps = { filter: { decls: [], rules: [] }, nat: { decls: [], rules: [] } };
  for (const t of ['filter', 'nat'] as const) {
    const declared = new Set<string>();
    for (const j of jumps.filter((x) => x.table === t)) {
      const target = j.args[j.args.length - 1]!;
      const text = j.args[j.args.indexOf('--comment') + 1]!;
      const present = rules[t].some((l) => l.startsWith(`-A ${j.chain} `) && l.endsWith(`-j ${target}`) && l.includes(text));
      if (present) continue;
      if (!declared.has(target) && !chains[t].has(target)) missing[t].decls.unshift(`:${target} - [0:0]`);
      declared.add(target);
      missing[t].rules.push(`-I ${j.chain} 1 ${j.args.map(quoteArg).join(' ')}`);
    }
  }
  return missing;
}

/**
 * insertJumps puts the missing jumps' lines into a sync's text, before the COMMIT of their table
 * (the text declares every target chain); a table the text lacks gets a section of its own.
 */
export function insertJumps(text: string, missing: MissingJumps): string {
  let out = text;
  for (const t of ['filter', 'nat'] as const) {
    const m = missing[t];
    if (m.rules.length === 0) continue;
    const lines = `${m.rules.join('\n')}\n`;
    const head = out.startsWith(`*${t}\n`) ? 0 : out.indexOf(`\n*${t}\n`);
    const commit = head < 0 ? -1 : out.indexOf('\nCOMMIT\n', head);
    if (commit < 0) out += `*${t}\n${m.decls.map((d) => `${d}\n`).join('')}${lines}COMMIT\n`;
    else out = out.slice(0, commit + 1) + lines + out.slice(commit + 1);
  }
  return out;
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

  private start(command: string, args: string[]): Started {
    if (this.prefix.length === 0) return start(command, args);
    return start(this.prefix[0]!, [...this.prefix.slice(1), command, ...args]);
  }

  /** restore applies text with `-w --noflush`: chains it does not declare are left alone. */
  async restore(text: string): Promise<void> {
    await this.run(this.backend.restore, ['-w', '--noflush'], text);
  }

  /**
   * begin starts one sync's restore before its text exists (the proxier builds the text while
   * the process starts). With withJumps, one `iptables-save` (every table) runs beside it, and
   * the jumps it finds missing are inserted by the same restore, at the end of their table's
   * section: one process and one restore fewer than ensureJumps, whose result is the same. The
   * text must declare the jumps' target chains (every full and partial sync does). The restore
   * takes the xtables lock only when it reads its first table, so waiting for the text holds no
   * lock.
   */
  begin(withJumps: boolean): PendingRestore {
    const saved = withJumps ? this.run(this.backend.save, []) : undefined;
    saved?.catch(() => undefined);
    const restore = this.start(this.backend.restore, ['-w', '--noflush']);
    let missing: MissingJumps | undefined;
    const check = async () => {
      if (!saved) return;
      try {
        missing = missingJumps(await saved);
      } catch (err) {
        restore.kill();
        throw err;
      }
    };
    return {
      write: async (text) => {
        if (typeof text !== 'string') {
          // Streamed: the save is read after the first chunk, its jumps go before each COMMIT.
          const section = (table: 'filter' | 'nat') => (missing && missing[table].rules.length ? `${missing[table].rules.join('\n')}\n` : '');
          await restore.feedChunks(text.chunks(saved ? section : undefined), check);
          return;
        }
        await check();
        await restore.feed(missing ? insertJumps(text, missing) : text);
      },
      abort: () => restore.kill(),
    };
  }

  /**
   * ensureJumps inserts each missing jump from a built-in chain (existing ones stay, so no
   * duplicates): one iptables-save to see what is there, one restore for what is not. A jump's
   * target chain that does not exist yet is created empty in the same restore (one that exists
   * is not declared, so its rules stay), so this may run before or after the rules' restore.
   */
  async ensureJumps(): Promise<void> {
    const missing = missingJumps(await this.run(this.backend.save, []));
    let text = '';
    for (const [table, m] of Object.entries(missing)) {
      if (m.rules.length) text += [`*${table}`, ...m.decls, ...m.rules, 'COMMIT'].join('\n') + '\n';
    }
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
