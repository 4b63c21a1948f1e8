// An upgrade-aware reverse proxy for one request, as k8s.io/apimachinery's UpgradeAwareHandler
// does it: the apiserver uses it to reach a kubelet (pods/exec, pods/log, nodes/proxy…) and the
// kubelet to reach the runtime's stream server. A plain request is sent on and its answer
// streamed back; an upgrade request (WebSocket, SPDY) is sent on, the backend's answer (101 or
// an error) is written to the client's socket as it came, and after a 101 the two connections
// are joined byte for byte until either side closes.

import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** hopByHop are the headers that describe one connection and are never sent on (RFC 9110 7.6.1). */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'proxy-authorization', 'authorization']);

/** ProxyTarget is where a request goes: the URL (path and query included) and TLS options for https. */
export interface ProxyTarget {
  url: URL;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string };
  /** dropHeaders are request headers not to send on (lower case), besides the hop-by-hop ones. */
  dropHeaders?: string[];
}

/** forwardedHeaders copies the request's end-to-end headers, keeping the upgrade ones when upgrading. */
function forwardedHeaders(req: IncomingMessage, upgrade: boolean, drop: string[] = []): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = req.headers.upgrade ?? '';
  }
  return out;
}

function requestTo(target: ProxyTarget, method: string, headers: http.OutgoingHttpHeaders): http.ClientRequest {
  const opts: https.RequestOptions = { method, headers, ...(target.tls ?? {}) };
  return target.url.protocol === 'https:' ? https.request(target.url, opts) : http.request(target.url, { method, headers });
}

/** responseHead renders an answer's head as HTTP/1.1 text. */
function responseHead(res: IncomingMessage, extra: string[] = []): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  lines.push(...extra);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** isUpgradeRequest says whether a request asks for a protocol upgrade. */
export function isUpgradeRequest(req: IncomingMessage): boolean {
  return /\bupgrade\b/i.test(String(req.headers.connection ?? '')) && !!req.headers.upgrade;
}

/**
 * proxyUpgrade sends an upgrade request on and joins the connections after a 101. It resolves
 * once the backend answered (true: joined, false: the backend's refusal was passed on) and
 * rejects, with the client's socket untouched, when the backend cannot be reached.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const up = requestTo(target, req.method ?? 'GET', forwardedHeaders(req, true, target.dropHeaders));
    up.on('upgrade', (res, upSocket, upHead) => {
      socket.write(responseHead(res));
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      join(socket, upSocket);
      resolve(true);
    });
    up.on('response', (res) => {
      // A refusal (a non-101 answer) goes back as it came, then the connection closes.
      const rawHeaders: string[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i]!.toLowerCase();
        if (name === 'connection' || name === 'transfer-encoding' || name === 'content-length') continue;
        rawHeaders.push(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const fake = { ...res, rawHeaders: [...rawHeaders, 'Content-Length', String(body.length), 'Connection', 'close'], statusCode: res.statusCode, statusMessage: res.statusMessage } as IncomingMessage;
        socket.end(Buffer.concat([Buffer.from(responseHead(fake)), body]));
        resolve(false);
      });
    });
    up.on('error', reject);
    up.end();
  });
}

/** join pipes two connections into each other until either closes, then closes both. */
export function join(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const done = () => {
    a.destroy();
    b.destroy();
  };
  a.on('close', done);
  b.on('close', done);
  a.on('error', done);
  b.on('error', done);
}

/**
 * proxyRequest sends a plain request on, body streamed, and streams the answer back with its
 * status and end-to-end headers. It rejects, before anything is written, when the backend
 * cannot be reached.
 */
export function proxyRequest(req: IncomingMessage, res: ServerResponse, target: ProxyTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const up = requestTo(target, req.method ?? 'GET', forwardedHeaders(req, false, target.dropHeaders));
    up.on('response', (upRes) => {
      const headers: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upRes.headers)) if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
      res.writeHead(upRes.statusCode ?? 502, headers);
      res.flushHeaders();
      upRes.pipe(res);
      upRes.on('end', () => resolve());
      upRes.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    up.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else reject(err);
    });
    // The client going away ends the backend request too (kubectl logs -f interrupted).
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
}
