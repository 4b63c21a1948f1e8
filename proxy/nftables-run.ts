// The one file of the nftables mode that runs nft: one `nft -f -` transaction per sync, reading
// back which of the proxy's chains and sets exist (to take over after a restart), and --cleanup
// (the table goes, and with it everything the mode wrote). Everything runs in the network
// namespace of the process; tests pass an `nsenter --net=…` prefix.

import { type PendingRestore, type Started, run, start } from './iptables.js';
import { type NftState, emptyNftState, isServiceChain, nftTable } from './nftables.js';

/** Nftables runs nft for the proxy's table. */
export class Nftables {
  /** Nftables runs nft; prefix (e.g. `nsenter --net=…`) runs it in another namespace. */
  constructor(private readonly prefix: readonly string[] = []) {}

  private nft(args: string[], stdin?: string): Promise<string> {
    if (this.prefix.length === 0) return run('nft', args, stdin);
    return run(this.prefix[0]!, [...this.prefix.slice(1), 'nft', ...args], stdin);
  }

  private start(args: string[]): Started {
    if (this.prefix.length === 0) return start('nft', args);
    return start(this.prefix[0]!, [...this.prefix.slice(1), 'nft', ...args]);
  }

  /** apply runs text as one transaction: all of it or, on any error, none of it. */
  async apply(text: string): Promise<void> {
    if (text) await this.nft(['-f', '-'], text);
  }

  /**
   * begin starts one sync's `nft -f -` before its text exists, so the process starts while the
   * proxier builds the transaction. nft sends nothing to the kernel before its input ends, so an
   * aborted (killed) one applies nothing, and an empty text is not applied.
   */
  begin(): PendingRestore {
    const nft = this.start(['-f', '-']);
    return {
      write: async (source) => {
        const text = typeof source === 'string' ? source : [...source.chunks()].join('');
        if (!text) {
          nft.kill();
          return;
        }
        await nft.feed(text);
      },
      abort: () => nft.kill(),
    };
  }

  /** exists tells whether the proxy's table is there. */
  async exists(): Promise<boolean> {
    const tables = await this.nft(['list', 'tables', 'ip']).catch(() => '');
    return tables.split('\n').some((l) => l.trim() === `table ip ${nftTable}`);
  }

  /**
   * existing reads the per-Service chains and affinity sets in the table (elements are not read:
   * the first sync is a full one, which flushes the maps).
   */
  async existing(): Promise<NftState> {
    const state = emptyNftState();
    if (!(await this.exists())) return state;
    const [chains, sets] = await Promise.all([this.nft(['list', 'chains', 'ip']), this.nft(['list', 'sets', 'ip'])]);
    const own = (text: string, kind: 'chain' | 'set', add: (name: string) => void) => {
      let inTable = false;
      for (const line of text.split('\n')) {
        const t = line.trim();
        if (t.startsWith('table ')) inTable = t === `table ip ${nftTable} {`;
        else if (inTable && t.startsWith(`${kind} `)) add(t.slice(kind.length + 1).replace(/ \{$/, ''));
      }
    };
    own(chains, 'chain', (c) => isServiceChain(c) && state.leftovers.chains.add(c));
    own(sets, 'set', (s) => s.startsWith('affinity-') && state.leftovers.sets.add(s));
    return state;
  }

  /** cleanup deletes the proxy's table (every chain, map and set of the mode); it tells whether there was one. */
  async cleanup(): Promise<boolean> {
    if (!(await this.exists())) return false;
    await this.nft(['delete', 'table', 'ip', nftTable]);
    return true;
  }
}
