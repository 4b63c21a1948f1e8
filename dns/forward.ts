// Forwarder sends the questions the cluster does not answer to the upstream resolvers, as
// CoreDNS's forward plugin does: the client's query goes out as it came (EDNS0 and all) under a
// fresh id, UDP for UDP clients and TCP for TCP clients, and the upstream's reply goes back
// with the client's id. At most maxInFlight forwards wait at once; the next one is refused at
// once (REFUSED, as forward's max_concurrent), so a flood cannot grow memory without bound.

import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';

/** Upstream is one resolver's address. */
export interface Upstream {
  host: string;
  port: number;
}

/** ForwardBusyError says maxInFlight forwards are already waiting. */
export class ForwardBusyError extends Error {
  override name = 'ForwardBusyError';
}

/** ForwardFailedError says no upstream answered in time. */
export class ForwardFailedError extends Error {
  override name = 'ForwardFailedError';
}

/** parseUpstreams reads `--upstream` (host[:port], [v6]:port, comma-separated). */
export function parseUpstreams(value: string): Upstream[] {
  const out: Upstream[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
    if (v6) {
      out.push({ host: v6[1]!, port: Number(v6[2] ?? 53) });
      continue;
    }
    if (net.isIPv6(raw)) {
      out.push({ host: raw, port: 53 });
      continue;
    }
    const [host, port] = raw.split(':');
    if (!net.isIP(host!) || (port !== undefined && !/^\d+$/.test(port))) throw new Error(`invalid upstream ${JSON.stringify(raw)}: want IP[:port]`);
    out.push({ host: host!, port: Number(port ?? 53) });
  }
  return out;
}

/** resolvConfUpstreams are the nameservers of a resolv.conf (the host's resolvers by default). */
export function resolvConfUpstreams(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1]!.replace(/%.*$/, ''))) out.push({ host: m[1]!.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

/** hostUpstreams reads /etc/resolv.conf. */
export function hostUpstreams(path = '/etc/resolv.conf'): Upstream[] {
  try {
    return resolvConfUpstreams(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

interface Pending {
  resolve(b: Buffer): void;
  timer: NodeJS.Timeout;
  upstream: Upstream;
}

/** ForwarderOptions tune a Forwarder. */
export interface ForwarderOptions {
  upstreams: Upstream[];
  /** maxInFlight bounds the forwards waiting at once (default 1000). */
  maxInFlight?: number;
  /** timeoutMs is each upstream's time to answer before the next is tried (default 2000). */
  timeoutMs?: number;
}

/** Forwarder relays queries to the upstream resolvers. */
export class Forwarder {
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private inFlightCount = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private closed = false;

  constructor(private readonly opts: ForwarderOptions) {
    this.maxInFlight = opts.maxInFlight ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** inFlight is how many forwards are waiting. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** forward relays query over proto and resolves with the reply under the query's id. */
  async forward(query: Buffer, proto: 'udp' | 'tcp'): Promise<Buffer> {
    if (this.opts.upstreams.length === 0) throw new ForwardFailedError('no upstream resolvers');
    if (this.inFlightCount >= this.maxInFlight) throw new ForwardBusyError(`${this.maxInFlight} forwards in flight`);
    this.inFlightCount++;
    try {
      const clientId = query.readUInt16BE(0);
      for (const upstream of this.opts.upstreams) {
        const reply = proto === 'udp' ? await this.viaUDP(query, upstream) : await this.viaTCP(query, upstream);
        if (reply && reply.length >= 12) {
          reply.writeUInt16BE(clientId, 0);
          return reply;
        }
      }
      throw new ForwardFailedError('no upstream answered');
    } finally {
      this.inFlightCount--;
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve(Buffer.alloc(0));
    }
  }

  private socket(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (msg.length < 12) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      // Only the upstream asked may answer (a stray or spoofed packet is dropped).
      if (!p || rinfo.port !== p.upstream.port || !sameHost(rinfo.address, p.upstream.host)) return;
      this.pending.delete(msg.readUInt16BE(0));
      clearTimeout(p.timer);
      p.resolve(msg);
    });
    s.on('error', () => undefined);
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private freeId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  private viaUDP(query: Buffer, upstream: Upstream): Promise<Buffer | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const id = this.freeId();
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer, upstream });
      this.socket(net.isIPv6(upstream.host) ? 6 : 4).send(out, upstream.port, upstream.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(undefined);
      });
    });
  }

  private viaTCP(query: Buffer, upstream: Upstream): Promise<Buffer | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const sock = net.connect({ host: upstream.host, port: upstream.port });
      let buf = Buffer.alloc(0);
      const finish = (b: Buffer | undefined) => {
        sock.destroy();
        resolve(b);
      };
      sock.setTimeout(this.timeoutMs, () => finish(undefined));
      sock.on('error', () => finish(undefined));
      sock.on('close', () => finish(undefined));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
    });
  }
}

function sameHost(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}
