// Stale UDP flows, as kube-proxy's pkg/proxy/conntrack cleans them after each sync. UDP has no
// connection to close: a conntrack entry that DNATed a client's flow to an endpoint keeps sending
// it there after the endpoint went away (until the entry times out, which never happens while the
// client keeps sending), and a flow that reached a ClusterIP before it had any endpoint stays
// un-NATed. So after each sync every UDP entry whose original destination is a UDP Service's
// address and port (ClusterIP, external IP, load-balancer IP) or NodePort, but whose reply comes
// from an address that is not a serving endpoint of that Service, is deleted; the client's next
// packet makes a new entry through the current rules. Traffic policies and terminating state are
// not considered (a change of them must not break flows, as for TCP), and a Service with no serving
// endpoint is left alone (its traffic is rejected anyway).
//
// kube-proxy lists and deletes through netlink; here the `conntrack` tool does both: one
// `conntrack -L -p udp -f ipv4` per sync and one `conntrack -D` per stale (address, port,
// endpoint) or (NodePort, endpoint) pair.

import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import type { Logger } from '../lib/log.js';
import { run } from './iptables.js';
import { serviceKey, slicesByService } from './rules.js';

/** Tuple is one direction of a conntrack entry. */
export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** Flow is one conntrack entry: its protocol and its original and reply tuples. */
export interface Flow {
  protocol: string;
  original: Tuple;
  reply: Tuple;
}

/**
 * parseFlows reads `conntrack -L` output: each line is `<proto> <num> [<timeout>] [<state>]`
 * followed by the original tuple's src=, dst=, sport=, dport= and then the reply tuple's; lines
 * without two whole tuples (ICMP, the summary line) are skipped.
 */
export function parseFlows(text: string): Flow[] {
  const out: Flow[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].includes(':')) continue;
    const tuples: Partial<Record<keyof Tuple, string>>[] = [{}, {}];
    for (const f of fields) {
      const eq = f.indexOf('=');
      if (eq < 0) continue;
      const key = f.slice(0, eq) as keyof Tuple;
      if (key !== 'src' && key !== 'dst' && key !== 'sport' && key !== 'dport') continue;
      // The first src= starts the original tuple, the second the reply tuple.
      const t = tuples[0]![key] === undefined ? tuples[0]! : tuples[1]!;
      if (t[key] === undefined) t[key] = f.slice(eq + 1);
    }
    const whole = (t: Partial<Record<keyof Tuple, string>>): t is Record<keyof Tuple, string> => t.src !== undefined && t.dst !== undefined && t.sport !== undefined && t.dport !== undefined;
    if (!whole(tuples[0]!) || !whole(tuples[1]!)) continue;
    const tuple = (t: Record<keyof Tuple, string>): Tuple => ({ src: t.src, dst: t.dst, sport: Number(t.sport), dport: Number(t.dport) });
    out.push({ protocol: fields[0], original: tuple(tuples[0]!), reply: tuple(tuples[1]!) });
  }
  return out;
}

/** UDPFrontends maps each UDP Service frontend to the addresses of its serving endpoints. */
export interface UDPFrontends {
  /** byAddress: `ip:port` of a ClusterIP, external IP or load-balancer IP → serving endpoint IPs. */
  byAddress: Map<string, Set<string>>;
  /** byNodePort: a UDP NodePort → serving endpoint IPs. */
  byNodePort: Map<number, Set<string>>;
}

const isIPv4 = (ip: string | undefined): ip is string => !!ip && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/**
 * udpFrontends is the desired state: for each UDP port of each Service with a ClusterIP and at
 * least one serving endpoint (serving, or ready when serving is unset; terminating ones included),
 * its frontends and the endpoints' addresses.
 */
export function udpFrontends(services: readonly Service[], slices: readonly EndpointSlice[]): UDPFrontends {
  const out: UDPFrontends = { byAddress: new Map(), byNodePort: new Map() };
  const bySvc = slicesByService(slices);
  for (const svc of services) {
    const clusterIP = svc.spec.clusterIP;
    if (svc.spec.type === 'ExternalName' || !isIPv4(clusterIP)) continue;
    const svcSlices = (bySvc.get(serviceKey(svc)) ?? []).filter((s) => s.addressType === 'IPv4');
    for (const port of svc.spec.ports ?? []) {
      if ((port.protocol ?? 'TCP') !== 'UDP') continue;
      const ips = new Set<string>();
      for (const slice of svcSlices) {
        if (!(slice.ports ?? []).some((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === 'UDP')) continue;
        for (const ep of slice.endpoints ?? []) {
          if (!(ep.conditions?.serving ?? ep.conditions?.ready ?? true)) continue;
          for (const ip of ep.addresses ?? []) ips.add(ip);
        }
      }
      if (ips.size === 0) continue;
      const addresses = [clusterIP, ...(svc.spec.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)];
      for (const ip of addresses) if (isIPv4(ip)) out.byAddress.set(`${ip}:${port.port}`, ips);
      if (port.nodePort) out.byNodePort.set(port.nodePort, ips);
    }
  }
  return out;
}

/**
 * staleDeletes are the `conntrack -D` argument lists that remove the stale UDP flows among flows,
 * one per distinct (frontend, reply source), in a stable order.
 */
export function staleDeletes(flows: readonly Flow[], want: UDPFrontends): string[][] {
  const out = new Map<string, string[]>();
  for (const f of flows) {
    if (f.protocol !== 'udp') continue;
    const replySrc = f.reply.src;
    const byAddress = want.byAddress.get(`${f.original.dst}:${f.original.dport}`);
    if (byAddress && !byAddress.has(replySrc)) {
      const args = ['-D', '-p', 'udp', '-f', 'ipv4', '--orig-dst', f.original.dst, '--orig-port-dst', String(f.original.dport), '--reply-src', replySrc];
      out.set(args.join(' '), args);
    }
    const byNodePort = want.byNodePort.get(f.original.dport);
    if (byNodePort && !byNodePort.has(replySrc)) {
      const args = ['-D', '-p', 'udp', '-f', 'ipv4', '--orig-port-dst', String(f.original.dport), '--reply-src', replySrc];
      out.set(args.join(' '), args);
    }
  }
  return [...out.values()].sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
}

/** Runner runs one command and resolves its stdout (proxy/iptables.ts's run, or a fake in tests). */
export type Runner = (command: string, args: string[]) => Promise<string>;

/** Conntrack cleans stale UDP flows with the conntrack tool, in the process's network namespace (or prefix's). */
export class Conntrack {
  /** deleted counts the `conntrack -D` runs that removed at least one entry. */
  deleted = 0;

  constructor(
    private readonly log: Logger,
    private readonly runner: Runner = run,
    private readonly prefix: readonly string[] = [],
  ) {}

  private exec(args: string[]): Promise<string> {
    if (this.prefix.length === 0) return this.runner('conntrack', args);
    return this.runner(this.prefix[0]!, [...this.prefix.slice(1), 'conntrack', ...args]);
  }

  /**
   * cleanStaleEntries lists the UDP flows and deletes the stale ones for services and slices. A
   * failure is logged, never thrown: the next sync tries again.
   */
  async cleanStaleEntries(services: readonly Service[], slices: readonly EndpointSlice[]): Promise<number> {
    const want = udpFrontends(services, slices);
    if (want.byAddress.size === 0 && want.byNodePort.size === 0) return 0;
    let flows: Flow[];
    try {
      flows = parseFlows(await this.exec(['-L', '-p', 'udp', '-f', 'ipv4']));
    } catch (err) {
      this.log.error('Failed to list conntrack entries', { err: (err as Error).message });
      return 0;
    }
    let n = 0;
    for (const args of staleDeletes(flows, want)) {
      try {
        await this.exec(args);
        n++;
      } catch (err) {
        // `conntrack -D` exits 1 when nothing matched (the flow ended meanwhile): not a failure.
        if (/0 flow entries have been deleted/.test((err as { stderr?: string }).stderr ?? (err as Error).message)) continue;
        this.log.error('Failed to delete conntrack entries', { args: args.join(' '), err: (err as Error).message });
      }
    }
    this.deleted += n;
    if (n > 0) this.log.v(2).info('Deleted stale UDP conntrack entries', { filters: n });
    return n;
  }
}
