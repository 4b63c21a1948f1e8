// DnsServer puts resolve() on the wire: UDP and TCP (RFC 1035 two-byte length framing, several
// queries per connection) on one address and port. Each query is decoded with dns-packet;
// what does not decode is answered FORMERR (when at least a header arrived to answer), other
// opcodes NOTIMP. UDP answers larger than the client can take (512 bytes, or the EDNS0 payload
// size it advertised) go back truncated (TC, no records) so the client retries over TCP.
// Names outside the cluster go through the Forwarder. Nothing is cached or queued per client:
// UDP is answered as it arrives, TCP connections are capped in number and idle time.

import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type { Answer, DecodedPacket, Packet, RecordType } from 'dns-packet';
import type { Logger } from '../lib/log.js';
import { Counter, Gauge, type Registry } from '../lib/metrics.js';
import { type Forwarder, ForwardBusyError } from './forward.js';
import type { ClusterView } from './records.js';
import { type QType, type ResolveConfig, resolve } from './resolve.js';

/** Rcode values (RFC 1035 4.1.1). */
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const flagQR = 0x8000;
const flagAA = 0x0400;
const flagTC = 0x0200;
const flagRD = 0x0100;
const flagRA = 0x0080;
/** ednsPayloadSize is the UDP size this server advertises (the DNS flag day 2020 value). */
const ednsPayloadSize = 1232;

/** DnsServerOptions configure a DnsServer. */
export interface DnsServerOptions {
  address: string;
  port: number;
  view: ClusterView;
  config: ResolveConfig;
  forwarder: Forwarder;
  log: Logger;
  metrics?: Registry;
  /** maxTCPConnections caps open TCP connections (default 256). */
  maxTCPConnections?: number;
  /** tcpIdleTimeoutMs closes a quiet TCP connection (default 10 s, as CoreDNS's read timeout). */
  tcpIdleTimeoutMs?: number;
}

/** DnsServer serves the cluster's names over UDP and TCP. */
export class DnsServer {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();
  private readonly requests: Counter<'proto'> | undefined;
  private readonly responses: Counter<'rcode'> | undefined;

  constructor(private readonly opts: DnsServerOptions) {
    if (opts.metrics) {
      this.requests = new Counter({ name: 'skiff_dns_requests_total', help: 'DNS queries received, by transport.', labelNames: ['proto'], registers: [opts.metrics] });
      this.responses = new Counter({ name: 'skiff_dns_responses_total', help: 'DNS responses sent, by rcode (forwarded answers count under "forwarded").', labelNames: ['rcode'], registers: [opts.metrics] });
      const forwarder = opts.forwarder;
      new Gauge({ name: 'skiff_dns_forward_in_flight', help: 'Queries waiting for an upstream resolver.', registers: [opts.metrics], collect() { this.set(forwarder.inFlight); } });
    }
  }

  /** start binds UDP and TCP; it resolves with the port (useful when asked for port 0). */
  async start(): Promise<number> {
    const family = net.isIPv6(this.opts.address) ? 'udp6' : 'udp4';
    // TCP first so that port 0 picks one port both transports can share.
    const tcp = net.createServer((sock) => this.onConnection(sock));
    tcp.maxConnections = this.opts.maxTCPConnections ?? 256;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.opts.port, this.opts.address, () => resolve());
    });
    this.tcp = tcp;
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket({ type: family });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.opts.address, () => resolve());
    });
    udp.on('error', (err) => this.opts.log.error('UDP socket error', { err: String(err) }));
    udp.on('message', (msg, rinfo) => {
      this.requests?.inc({ proto: 'udp' });
      void this.answer(msg, 'udp').then((reply) => {
        // A forward may finish after close(): its reply has nowhere to go (sending on a closed
        // socket throws, and a throw here would be an unhandled rejection).
        if (reply && this.udp === udp) udp.send(reply, rinfo.port, rinfo.address);
      }, (err) => this.opts.log.error('Answering a UDP query failed', { err: String(err) }));
    });
    this.udp = udp;
    return port;
  }

  async close(): Promise<void> {
    const udp = this.udp;
    this.udp = undefined;
    udp?.close();
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }

  private onConnection(sock: net.Socket): void {
    this.connections.add(sock);
    sock.on('close', () => this.connections.delete(sock));
    sock.on('error', () => undefined);
    sock.setTimeout(this.opts.tcpIdleTimeoutMs ?? 10_000, () => sock.destroy());
    let buf = Buffer.alloc(0);
    let busy = false;
    // Queries on one connection are answered in order, one at a time: the socket pauses while a
    // query is answered, so a client that pipelines cannot make us hold more than one frame.
    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      sock.pause();
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.requests?.inc({ proto: 'tcp' });
        const reply = await this.answer(Buffer.from(msg), 'tcp');
        if (sock.destroyed) return;
        if (!reply) {
          sock.destroy();
          return;
        }
        const head = Buffer.alloc(2);
        head.writeUInt16BE(reply.length);
        sock.write(Buffer.concat([head, reply]));
      }
      busy = false;
      sock.resume();
    };
    sock.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      void drain();
    });
  }

  /** answer turns one query into the bytes of its reply (undefined: send nothing). */
  async answer(msg: Buffer, proto: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let q: DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      return this.headerOnly(msg, Rcode.FORMERR);
    }
    if (q.flag_qr) return undefined; // a response sent to us: never answer it (no loops)
    const opcode = ((q.flags ?? 0) >> 11) & 0xf;
    if (opcode !== 0) return this.headerOnly(msg, Rcode.NOTIMP);
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1) return this.headerOnly(msg, Rcode.FORMERR);
    const opt = q.additionals?.find((a) => a.type === 'OPT') as (Answer & { udpPayloadSize?: number }) | undefined;
    const maxUDP = opt ? Math.max(512, opt.udpPayloadSize ?? 512) : 512;

    const res = question.class === 'IN' || question.class === undefined ? resolve(this.opts.view, this.opts.config, question.name, question.type as QType) : ({ forward: true } as const);
    if (res.forward) {
      try {
        const reply = await this.opts.forwarder.forward(msg, proto);
        this.responses?.inc({ rcode: 'forwarded' });
        return reply;
      } catch (err) {
        const rcode = err instanceof ForwardBusyError ? Rcode.REFUSED : Rcode.SERVFAIL;
        this.opts.log.debug('Forward failed', { name: question.name, err: String(err) });
        return this.reply(q, rcode, 0, { answers: [], authorities: [], additionals: [] }, opt !== undefined, proto, maxUDP);
      }
    }
    const last = res.answers.at(-1);
    if (last?.type === 'CNAME' && question.type !== 'CNAME' && question.type !== ('ANY' as string)) {
      res.answers.push(...(await this.chase(last.data, question.type as QType, proto)));
    }
    return this.reply(q, Rcode[res.rcode], flagAA, res, opt !== undefined, proto, maxUDP);
  }

  /**
   * chase follows an ExternalName's CNAME as CoreDNS does, so that a stub resolver that does not
   * chase CNAMEs itself (glibc, musl) still gets an address: a target in the cluster domain is
   * answered from the index, any other goes to the upstreams. When that fails the CNAME stands
   * alone.
   */
  private async chase(target: string, qtype: QType, proto: 'udp' | 'tcp'): Promise<Answer[]> {
    const local = resolve(this.opts.view, this.opts.config, target, qtype);
    if (!local.forward) return local.answers.filter((a) => a.type !== 'CNAME');
    try {
      const query = packet.encode({ id: Math.floor(Math.random() * 0x10000), type: 'query', flags: flagRD, questions: [{ type: qtype as RecordType, name: target }] });
      const reply = packet.decode(await this.opts.forwarder.forward(query, proto));
      return reply.answers ?? [];
    } catch (err) {
      this.opts.log.debug('Following a CNAME failed', { target, err: String(err) });
      return [];
    }
  }

  private reply(q: DecodedPacket, rcode: number, flags: number, sections: Pick<Packet, 'answers' | 'authorities' | 'additionals'>, edns: boolean, proto: 'udp' | 'tcp', maxUDP: number): Buffer {
    const optRR = edns ? [{ type: 'OPT', name: '.', udpPayloadSize: ednsPayloadSize, flags: 0, extendedRcode: 0, ednsVersion: 0, options: [] } as unknown as Answer] : [];
    const header = { id: q.id, type: 'response' as const, flags: flags | ((q.flags ?? 0) & flagRD) | flagRA | rcode, questions: q.questions };
    const full = packet.encode({ ...header, answers: sections.answers, authorities: sections.authorities, additionals: [...(sections.additionals ?? []), ...optRR] });
    this.responses?.inc({ rcode: rcodeName(rcode) });
    if (proto === 'tcp' || full.length <= maxUDP) return full;
    return packet.encode({ ...header, flags: header.flags | flagTC, additionals: optRR });
  }

  /** headerOnly answers a query that cannot be read beyond its header (FORMERR, NOTIMP). */
  private headerOnly(msg: Buffer, rcode: number): Buffer | undefined {
    // Without a full header there is nothing to answer to (and no id to answer with).
    if (msg.length < 12 || msg.readUInt16BE(2) & flagQR) return undefined;
    const opcodeBits = msg.readUInt16BE(2) & 0x7800;
    this.responses?.inc({ rcode: rcodeName(rcode) });
    return packet.encode({ id: msg.readUInt16BE(0), type: 'response', flags: opcodeBits | (msg.readUInt16BE(2) & flagRD) | flagRA | rcode });
  }
}

/** rcodeOf is a decoded message's rcode by name (dns-packet's typings leave it out). */
export function rcodeOf(p: Packet): string {
  return rcodeName((p.flags ?? 0) & 0xf);
}

function rcodeName(rcode: number): string {
  return Object.entries(Rcode).find(([, v]) => v === rcode)?.[0] ?? String(rcode);
}

/** udpQuery sends one query over UDP and waits for its reply (tests and the benchmark). */
export function udpQuery(host: string, port: number, query: Packet, timeoutMs = 2000): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      try {
        resolve(packet.decode(m));
      } catch (err) {
        reject(err as Error);
      }
    });
    s.send(packet.encode(query), port, host);
  });
}

/** tcpQuery sends one query over TCP and waits for its reply (tests and the benchmark). */
export function tcpQuery(host: string, port: number, query: Packet, timeoutMs = 2000): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`));
    });
    sock.on('error', reject);
    // A server past its connection cap closes without a word: that is an error too.
    sock.on('close', () => reject(new Error(`connection to ${host}:${port} closed without an answer`)));
    sock.on('connect', () => sock.write(packet.streamEncode(query)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        try {
          resolve(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        } catch (err) {
          reject(err as Error);
        }
      }
    });
  });
}
