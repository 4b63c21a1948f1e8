// The client half of SPDY/3.1 that the kubelet needs to reach the runtime's stream server
// (containerd's exec and attach URLs): an HTTP upgrade, then streams opened by us, data frames
// both ways and a half-close (FIN) that tells the process its stdin has ended, which the
// runtime's WebSocket (v4.channel.k8s.io) cannot say. Framing follows the SPDY/3 draft: control
// frames `1 | version 3 | type | flags | length(24) | payload`, data frames
// `0 | stream id(31) | flags | length(24) | data`.
//
// Header blocks are zlib streams shared by every frame of a direction. The ones we send are
// stored (uncompressed) deflate blocks behind a zlib header without a preset dictionary, which
// any zlib reader accepts; the ones the runtime sends (its SYN_REPLYs) are skipped unread, as
// nothing in them is needed.

import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** ControlType names the SPDY/3 control frames. */
export const ControlType = { SynStream: 1, SynReply: 2, RstStream: 3, Settings: 4, Ping: 6, GoAway: 7, Headers: 8, WindowUpdate: 9 } as const;

/** FlagFin ends the sender's half of a stream. */
export const FlagFin = 0x01;

const spdyVersion = 3;
// The largest data frame we send; the length field allows 16 MiB, peers read in smaller pieces.
const maxDataFrame = 32 * 1024;

/** encodeHeaderBlock is a SPDY/3 name/value block before compression: count, then length-prefixed names and values. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** decodeHeaderBlock reads an uncompressed name/value block (the inverse of encodeHeaderBlock). */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  const count = block.readUInt32BE(pos);
  pos += 4;
  for (let i = 0; i < count; i++) {
    const nl = block.readUInt32BE(pos);
    const name = block.subarray(pos + 4, pos + 4 + nl).toString();
    pos += 4 + nl;
    const vl = block.readUInt32BE(pos);
    out[name] = block.subarray(pos + 4, pos + 4 + vl).toString();
    pos += 4 + vl;
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/**
 * StoredZlibWriter writes the header-compression stream of one direction as stored deflate
 * blocks: a zlib header (no dictionary) before the first block, never a final block, and each
 * piece ends as a sync flush does.
 */
export class StoredZlibWriter {
  private started = false;

  /** block wraps data (at most 65535 bytes) as the next piece of the stream. */
  block(data: Buffer): Buffer {
    if (data.length > 0xffff) throw new RangeError('header block too large');
    const head = Buffer.alloc(5);
    head[0] = 0x00; // BFINAL 0, BTYPE 00 (stored), padded to the byte
    head.writeUInt16LE(data.length, 1);
    head.writeUInt16LE(~data.length & 0xffff, 3);
    // An empty stored block after the data, as zlib's sync flush writes: a reader hands out what
    // it holds only when it meets one (Go's flate does), and needs no byte of the next frame.
    const parts = [head, data, Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])];
    if (!this.started) {
      this.started = true;
      parts.unshift(Buffer.from([0x78, 0x01]));
    }
    return Buffer.concat(parts);
  }
}

/** controlFrame frames a control payload. */
export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | spdyVersion, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | (payload.length & 0xffffff), 4);
  return Buffer.concat([head, payload]);
}

/** dataFrame frames data for a stream. */
export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | (data.length & 0xffffff), 4);
  return Buffer.concat([head, data]);
}

/** Frame is one frame read off the wire. */
export type Frame =
  | { control: true; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; data: Buffer };

/** FrameReader cuts a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** push feeds bytes and returns the frames they complete. */
  push(bytes: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : bytes;
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const word = this.buf.readUInt32BE(4);
      const length = word & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const flags = word >>> 24;
      const body = Buffer.from(this.buf.subarray(8, 8 + length));
      if (this.buf[0]! & 0x80) out.push({ control: true, type: this.buf.readUInt16BE(2), flags, payload: body });
      else out.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data: body });
      this.buf = this.buf.subarray(8 + length);
    }
    return out;
  }
}

/** SpdyStream is one stream we opened: data arrives as 'data' events, 'end' when the peer's half closes. */
export class SpdyStream extends EventEmitter {
  /** remoteClosed is set when the peer sent FIN or reset the stream. */
  remoteClosed = false;
  private localClosed = false;

  constructor(
    readonly id: number,
    private readonly session: SpdyClientSession,
  ) {
    super();
  }

  /** write sends data on the stream. */
  write(data: Buffer): void {
    if (this.localClosed) return;
    for (let off = 0; off < data.length; off += maxDataFrame) this.session.send(dataFrame(this.id, 0, data.subarray(off, off + maxDataFrame)));
  }

  /** end half-closes the stream: the peer reads EOF. */
  end(): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.session.send(dataFrame(this.id, FlagFin, Buffer.alloc(0)));
  }

  /** deliver is the session's hand-off of a frame's data. */
  deliver(data: Buffer, fin: boolean): void {
    if (data.length) this.emit('data', data);
    if (fin && !this.remoteClosed) {
      this.remoteClosed = true;
      this.emit('end');
    }
  }
}

/**
 * SpdyClientSession runs SPDY/3.1 over an upgraded connection as its client: it opens streams
 * (odd ids), answers pings and hands data to the streams. 'close' fires once when the
 * connection ends.
 */
export class SpdyClientSession extends EventEmitter {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly zlib = new StoredZlibWriter();
  private readonly reader = new FrameReader();
  private closed = false;

  constructor(private readonly socket: Duplex, head?: Buffer) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    if (head?.length) queueMicrotask(() => this.receive(head));
  }

  /** openStream sends SYN_STREAM with headers and returns the stream. */
  openStream(headers: Record<string, string>): SpdyStream {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(id, this);
    this.streams.set(id, stream);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(id, 0);
    fixed.writeUInt32BE(0, 4); // associated-to-stream-id
    fixed.writeUInt16BE(0, 8); // priority 0, slot 0
    this.send(controlFrame(ControlType.SynStream, 0, Buffer.concat([fixed, this.zlib.block(encodeHeaderBlock(headers))])));
    return stream;
  }

  /** send writes a frame unless the connection is gone. */
  send(frame: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(frame);
  }

  /** close ends the connection. */
  close(): void {
    this.socket.end();
    this.socket.destroy();
    this.finish();
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.reader.push(chunk)) {
      if (!frame.control) {
        this.streams.get(frame.streamId)?.deliver(frame.data, (frame.flags & FlagFin) !== 0);
        continue;
      }
      switch (frame.type) {
        case ControlType.Ping:
          this.send(controlFrame(ControlType.Ping, 0, frame.payload));
          break;
        case ControlType.RstStream: {
          const id = frame.payload.readUInt32BE(0) & 0x7fffffff;
          this.streams.get(id)?.deliver(Buffer.alloc(0), true);
          break;
        }
        case ControlType.SynReply:
        case ControlType.Headers:
          // Nothing in the runtime's reply headers is needed; a FIN on them ends the stream.
          if (frame.flags & FlagFin) this.streams.get(frame.payload.readUInt32BE(0) & 0x7fffffff)?.deliver(Buffer.alloc(0), true);
          break;
        case ControlType.GoAway:
          this.emit('goaway');
          break;
        default:
          // SETTINGS, WINDOW_UPDATE: the runtime's stream server does no flow control.
          break;
      }
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.deliver(Buffer.alloc(0), true);
    this.emit('close');
  }
}

/** UpgradeFailure is a stream server that answered an upgrade with something other than 101. */
export class UpgradeFailure extends Error {
  override name = 'UpgradeFailure';
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`upgrade failed with HTTP ${statusCode}: ${body.trim()}`);
  }
}

/** spdyUpgrade asks url for a SPDY/3.1 connection speaking one of protocols (X-Stream-Protocol-Version). */
export function spdyUpgrade(url: string, protocols: string[], method = 'POST'): Promise<{ socket: Duplex; head: Buffer; protocol: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols };
    const req = http.request(url, { method, headers });
    req.on('upgrade', (res, socket, head) => {
      resolve({ socket, head, protocol: String(res.headers['x-stream-protocol-version'] ?? '') });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new UpgradeFailure(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
    });
    req.on('error', reject);
    req.end();
  });
}
