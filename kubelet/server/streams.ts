// Streaming between kubectl (through the apiserver) and the runtime's stream server.
//
// exec and attach over WebSocket: the client speaks the channel protocol v5.channel.k8s.io or
// v4.channel.k8s.io (each binary message is one channel byte then data: 0 stdin, 1 stdout,
// 2 stderr, 3 the final metav1.Status, 4 terminal resizes; v5 adds 255 CLOSE, whose data byte
// names the channel the client will send no more on). The runtime is reached over SPDY/3.1 with
// v4.channel.k8s.io, one stream per channel, so a CLOSE of stdin becomes a half-close that the
// process reads as end of input (`kubectl cp` into a pod depends on it).
//
// port-forward over WebSocket with SPDY/3.1+portforward.k8s.io (kubectl ≥ 1.31): the binary
// messages carry a SPDY connection byte for byte, which goes on unchanged to the runtime's
// SPDY port-forward server.
//
// Every other upgrade (plain SPDY from an older or falling-back kubectl, the v4 WebSocket
// port-forward of client libraries) is passed to the runtime as it came.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { Logger } from '../../lib/log.js';
import { SpdyClientSession, spdyUpgrade, type SpdyStream } from './spdy.js';

/** Channel numbers of the k8s channel protocols. */
export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;

/** RemoteCommandV5 and RemoteCommandV4 are the remote command WebSocket subprotocols the kubelet speaks, preferred first. */
export const RemoteCommandV5 = 'v5.channel.k8s.io';
export const RemoteCommandV4 = 'v4.channel.k8s.io';
/** PortForwardTunnel is the WebSocket subprotocol that tunnels a SPDY port-forward connection. */
export const PortForwardTunnel = 'SPDY/3.1+portforward.k8s.io';
/** PortForwardSpdy is the SPDY port-forward protocol (X-Stream-Protocol-Version). */
export const PortForwardSpdy = 'portforward.k8s.io';

/** frameMessage prefixes data with its channel byte. */
export function frameMessage(channel: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

/** ChannelMessage is a decoded channel protocol message; close names the channel a v5 CLOSE ends. */
export type ChannelMessage = { channel: number; data: Buffer } | { close: number };

/** parseChannelMessage decodes one binary message of the channel protocol (undefined when empty). */
export function parseChannelMessage(msg: Buffer, protocol: string): ChannelMessage | undefined {
  if (!msg.length) return undefined;
  const channel = msg[0]!;
  if (channel === Channel.Close && protocol === RemoteCommandV5) return msg.length > 1 ? { close: msg[1]! } : undefined;
  return { channel, data: msg.subarray(1) };
}

/** offeredProtocols lists a WebSocket request's subprotocols in the client's order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** isWebSocket says whether an upgrade asks for a WebSocket. */
export function isWebSocket(req: IncomingMessage): boolean {
  return String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** RemoteCommandOptions are what an exec or attach streams. */
export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (set) => [...set][0] ?? false });

/** acceptWebSocket completes a WebSocket handshake with the given subprotocol. */
function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): Promise<WebSocket> {
  // Only the chosen protocol is offered to ws's handshake, so the answer names it.
  req.headers['sec-websocket-protocol'] = protocol;
  return new Promise((resolve) => wss.handleUpgrade(req, socket, head, (ws) => resolve(ws)));
}

/**
 * bridgeRemoteCommand serves an exec or attach WebSocket: it opens the runtime's SPDY stream
 * server at url (a CRI Exec/Attach answer), accepts the client with protocol, then moves data
 * between the channels and the SPDY streams until the runtime closes the connection.
 */
export async function bridgeRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string, url: string, opts: RemoteCommandOptions, log: Logger): Promise<void> {
  const up = await spdyUpgrade(url, [RemoteCommandV4]);
  const session = new SpdyClientSession(up.socket, up.head);
  // The error stream first, as client-go opens it: the server waits for every stream it expects.
  const error = session.openStream({ streamType: 'error' });
  const stdin = opts.stdin ? session.openStream({ streamType: 'stdin' }) : undefined;
  const stdout = opts.stdout ? session.openStream({ streamType: 'stdout' }) : undefined;
  const stderr = opts.stderr && !opts.tty ? session.openStream({ streamType: 'stderr' }) : undefined;
  const resize = opts.tty ? session.openStream({ streamType: 'resize' }) : undefined;
  const ws = await acceptWebSocket(req, socket, head, protocol);

  const forward = (stream: SpdyStream | undefined, channel: number) =>
    stream?.on('data', (data: Buffer) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frameMessage(channel, data));
    });
  forward(stdout, Channel.Stdout);
  forward(stderr, Channel.Stderr);
  forward(error, Channel.Error);

  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const msg = parseChannelMessage(raw, protocol);
    if (!msg) return;
    if ('close' in msg) {
      if (msg.close === Channel.Stdin) stdin?.end();
      return;
    }
    if (msg.channel === Channel.Stdin) stdin?.write(msg.data);
    else if (msg.channel === Channel.Resize) resize?.write(msg.data);
  });
  ws.on('close', () => session.close());
  ws.on('error', () => session.close());
  session.on('close', () => {
    log.v(4).info('Remote command ended', { uri: req.url?.split('?')[0] });
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  });
}

/**
 * tunnelPortForward serves a port-forward WebSocket that tunnels SPDY: the client's SPDY
 * connection goes on to the runtime's port-forward server at url, unchanged.
 */
export async function tunnelPortForward(req: IncomingMessage, socket: Duplex, head: Buffer, url: string): Promise<void> {
  const up = await spdyUpgrade(url, [PortForwardSpdy]);
  const ws = await acceptWebSocket(req, socket, head, PortForwardTunnel);
  if (up.head.length) ws.send(up.head);
  up.socket.on('data', (data: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data);
  });
  ws.on('message', (data: Buffer) => up.socket.write(data));
  const done = () => {
    up.socket.destroy();
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  };
  ws.on('close', done);
  ws.on('error', done);
  up.socket.on('close', done);
  up.socket.on('error', done);
}
