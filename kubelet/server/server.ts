// The kubelet's HTTPS API on port 10250 (pkg/kubelet/server): container logs, exec, attach and
// port-forward for the apiserver's pods/log, pods/exec, pods/attach and pods/portforward, and
// /pods, /healthz, /metrics and /metrics/resource (./resourcemetrics.ts) for nodes/proxy and the
// apiserver's metrics scraper. Only clients with a certificate from the cluster CA
// whose common name is the apiserver's kubelet client (or one of allowedClients) get in. Pods
// and containers are found in the runtime by the kubelet's CRI labels (./runtime.ts).

import https from 'node:https';
import { access } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Logger } from '../../lib/log.js';
import { Counter, type Registry } from '../../lib/metrics.js';
import { isUpgradeRequest, proxyUpgrade } from '../../lib/net/upgradeproxy.js';
import type { CriClient } from '../cri/client.js';
import { PodUIDLabel } from '../labels.js';
import { LogOptionsError, parseLogOptions, streamContainerLog } from './logs.js';
import { collectResourceMetrics } from './resourcemetrics.js';
import { findContainers, findSandbox, NotFoundError, restartCountOf, runningContainer, type PodRef } from './runtime.js';
import { bridgeRemoteCommand, isWebSocket, offeredProtocols, PortForwardTunnel, RemoteCommandV4, RemoteCommandV5, tunnelPortForward, type RemoteCommandOptions } from './streams.js';

/** apiserverKubeletClientName is the common name of kube-apiserver's kubelet client certificate. */
export const apiserverKubeletClientName = 'kube-apiserver-kubelet-client';

/** KubeletServerOptions configure the kubelet's API server. */
export interface KubeletServerOptions {
  address: string;
  port: number;
  /** tls: serving certificate and key (PEM) and the CA whose client certificates are accepted. */
  tls: { cert: string; key: string; clientCA: string };
  runtime: CriClient;
  log: Logger;
  metrics: Registry;
  /** allowedClients are the certificate common names let in (default: the apiserver's kubelet client). */
  allowedClients?: string[];
  /** pods lists the pods the kubelet runs, for /pods (default: one per sandbox the runtime holds). */
  pods?: () => Pod[];
}

/** KubeletServer is a running kubelet API server. */
export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

/** HttpError is an answer other than success, with the kubelet's plain-text message. */
class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** truthy reads a boolean query parameter as the kubelet's URL decoding does ("1", "true", or present and empty). */
function truthy(query: URLSearchParams, ...names: string[]): boolean {
  for (const n of names) {
    const v = query.get(n);
    if (v !== null && (v === '' || v === '1' || v.toLowerCase() === 'true')) return true;
  }
  return false;
}

/** Route is a parsed kubelet API path. */
export type Route =
  | { kind: 'containerLogs'; pod: PodRef; container: string }
  | { kind: 'exec' | 'attach'; pod: PodRef; container: string }
  | { kind: 'portForward'; pod: PodRef }
  | { kind: 'pods' | 'healthz' | 'metrics' | 'metricsResource' };

/** parseRoute maps a path to a route, or undefined for 404. */
export function parseRoute(pathname: string): Route | undefined {
  let seg: string[];
  try {
    seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [head, ...rest] = seg;
  switch (head) {
    case 'metrics':
      if (rest.length === 1 && rest[0] === 'resource') return { kind: 'metricsResource' };
      return rest.length === 0 ? { kind: head } : undefined;
    case 'healthz':
    case 'pods':
      return rest.length === 0 ? { kind: head } : undefined;
    case 'containerLogs':
      return rest.length === 3 ? { kind: 'containerLogs', pod: { namespace: rest[0]!, name: rest[1]! }, container: rest[2]! } : undefined;
    case 'exec':
    case 'attach':
      if (rest.length === 3) return { kind: head, pod: { namespace: rest[0]!, name: rest[1]! }, container: rest[2]! };
      if (rest.length === 4) return { kind: head, pod: { namespace: rest[0]!, name: rest[1]!, uid: rest[2]! }, container: rest[3]! };
      return undefined;
    case 'portForward':
      if (rest.length === 2) return { kind: 'portForward', pod: { namespace: rest[0]!, name: rest[1]! } };
      if (rest.length === 3) return { kind: 'portForward', pod: { namespace: rest[0]!, name: rest[1]!, uid: rest[2]! } };
      return undefined;
  }
  return undefined;
}

/** remoteCommandOptions reads exec/attach's stream flags (kubectl's names and the older short ones). */
export function remoteCommandOptions(query: URLSearchParams): RemoteCommandOptions {
  return {
    stdin: truthy(query, 'stdin', 'input'),
    stdout: truthy(query, 'stdout', 'output'),
    stderr: truthy(query, 'stderr', 'error'),
    tty: truthy(query, 'tty'),
  };
}

/** portsOf reads port-forward's `ports` query (repeated or comma-separated), refusing bad ports. */
export function portsOf(query: URLSearchParams): number[] {
  const values = query.getAll('ports');
  if (!values.length) throw new HttpError(400, 'query parameter "ports" is required');
  const ports: number[] = [];
  for (const v of values) {
    for (const p of v.split(',')) {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new HttpError(400, `unable to parse "${v}" as a port`);
      ports.push(n);
    }
  }
  return ports;
}

/** startKubeletServer serves /containerLogs, /exec, /attach, /portForward, /pods, /healthz and /metrics. */
export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const { runtime: cri, log } = opts;
  const allowed = new Set(opts.allowedClients ?? [apiserverKubeletClientName]);
  const requests = new Counter({
    name: 'kubelet_http_requests_total',
    help: 'Number of the http requests received since the server started, by method, path and server type.',
    labelNames: ['method', 'path', 'server_type'],
    registers: [opts.metrics],
  });

  /** authenticate returns the client's common name, or throws 401/403. */
  const authenticate = (req: IncomingMessage): string => {
    const socket = req.socket as TLSSocket;
    const cert = socket.getPeerCertificate?.();
    if (!socket.authorized || !cert?.subject) throw new HttpError(401, 'Unauthorized');
    const cn = String(cert.subject.CN ?? '');
    if (!allowed.has(cn)) throw new HttpError(403, `Forbidden (user=${cn}, verb=${(req.method ?? 'get').toLowerCase()}, path=${req.url?.split('?')[0]})`);
    return cn;
  };

  const route = (req: IncomingMessage): { r: Route; query: URLSearchParams } => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const r = parseRoute(url.pathname);
    if (!r) throw new HttpError(404, '404 page not found');
    requests.inc({ method: req.method ?? 'GET', path: r.kind, server_type: isUpgradeRequest(req) ? 'streaming' : 'readwrite' });
    return { r, query: url.searchParams };
  };

  const podsList = async (): Promise<Record<string, unknown>> => {
    if (opts.pods) return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: opts.pods() };
    const sandboxes = await cri.listPodSandbox();
    const items = sandboxes.map((s) => ({
      metadata: { name: s.metadata.name, namespace: s.metadata.namespace, uid: s.labels[PodUIDLabel] ?? s.metadata.uid },
      status: { phase: s.state === 'SANDBOX_READY' ? 'Running' : 'Unknown' },
    }));
    return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items };
  };

  const containerLogs = async (req: IncomingMessage, res: ServerResponse, pod: PodRef, container: string, query: URLSearchParams) => {
    let logOpts;
    try {
      logOpts = parseLogOptions(query);
    } catch (err) {
      if (err instanceof LogOptionsError) throw new HttpError(400, err.message);
      throw err;
    }
    const attempts = await findContainers(cri, pod, container);
    if (!attempts.length) throw new HttpError(400, `container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`);
    const current = attempts[0]!;
    const status = (await cri.containerStatus(current.id)).status;
    let path = status.log_path;
    let target = current;
    if (logOpts.previous) {
      const prev = attempts[1];
      const want = restartCountOf(current) - 1;
      if (prev) {
        target = prev;
        path = (await cri.containerStatus(prev.id)).status.log_path;
      } else if (want >= 0 && path) {
        // The previous attempt may be gone from the runtime while its log file is still there.
        path = path.replace(/\/\d+\.log$/, `/${want}.log`);
      } else path = '';
      if (!path || (!prev && want < 0)) throw new HttpError(400, `previous terminated container "${container}" in pod "${pod.name}" not found`);
    }
    if (!path) throw new HttpError(400, `container "${container}" in pod "${pod.name}" has no log file`);
    try {
      await access(path);
    } catch {
      throw new HttpError(400, logOpts.previous ? `previous terminated container "${container}" in pod "${pod.name}" not found` : `failed to open log file "${path}"`);
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    if (logOpts.follow) res.flushHeaders();
    await streamContainerLog(path, logOpts, res, {
      signal: abort.signal,
      running: async () => {
        if (target !== current) return false;
        const s = await cri.containerStatus(target.id).catch(() => undefined);
        return s?.status.state === 'CONTAINER_RUNNING';
      },
    });
    res.end();
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    authenticate(req);
    const { r, query } = route(req);
    switch (r.kind) {
      case 'healthz':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end('ok');
      case 'metrics':
        res.writeHead(200, { 'Content-Type': opts.metrics.contentType });
        return void res.end(await opts.metrics.metrics());
      case 'metricsResource':
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        return void res.end(await collectResourceMetrics(cri));
      case 'pods':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end(JSON.stringify(await podsList()));
      case 'containerLogs':
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Method Not Allowed');
        return containerLogs(req, res, r.pod, r.container, query);
      default:
        throw new HttpError(400, 'Upgrade request required');
    }
  };

  /** upgrade serves exec, attach and port-forward on an upgraded connection. */
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    authenticate(req);
    const { r, query } = route(req);
    if (r.kind !== 'exec' && r.kind !== 'attach' && r.kind !== 'portForward') throw new HttpError(400, `${r.kind} does not stream`);
    const ws = isWebSocket(req);
    const offered = ws ? offeredProtocols(req) : [];
    if (r.kind === 'portForward') {
      const sandbox = await findSandbox(cri, r.pod);
      if (sandbox.state !== 'SANDBOX_READY') throw new HttpError(400, `pod "${r.pod.name}" is not running`);
      // The runtime's WebSocket port-forward takes its ports from the CRI request, not from the
      // URL; SPDY names them per stream.
      const ports = ws && !offered.includes(PortForwardTunnel) ? portsOf(query) : [];
      const url = await cri.portForward(sandbox.id, ports);
      if (ws && offered.includes(PortForwardTunnel)) return tunnelPortForward(req, socket, head, url);
      // Plain SPDY, or the channel WebSocket with ?ports=: the runtime speaks both.
      const target = new URL(url);
      target.search = query.toString();
      if (!(await proxyUpgrade(req, socket, head, { url: target }))) log.v(2).info('The runtime refused a port-forward upgrade', { uri: req.url?.split('?')[0], upgrade: req.headers.upgrade });
      return;
    }
    const streams = remoteCommandOptions(query);
    const container = await runningContainer(cri, r.pod, r.container);
    let url: string;
    if (r.kind === 'exec') {
      const command = query.getAll('command');
      if (!command.length) throw new HttpError(400, 'you must specify at least 1 command');
      url = await cri.exec({ container_id: container.id, cmd: command, ...streams });
    } else {
      url = await cri.attach({ container_id: container.id, ...streams });
    }
    if (ws) {
      const protocol = offered.find((p) => p === RemoteCommandV5 || p === RemoteCommandV4);
      if (!protocol) throw new HttpError(400, `unable to upgrade: no supported subprotocol among ${JSON.stringify(offered)} (supported: ${RemoteCommandV5}, ${RemoteCommandV4})`);
      return bridgeRemoteCommand(req, socket, head, protocol, url, streams, log);
    }
    // SPDY from the client: the runtime speaks it itself.
    await proxyUpgrade(req, socket, head, { url: new URL(url) });
  };

  const server = https.createServer(
    { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCA, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    (req, res) => {
      handler(req, res).catch((err: unknown) => {
        const { code, message } = describe(err);
        if (code >= 500) log.error('Request failed', { uri: req.url?.split('?')[0], err: err as Error });
        if (res.headersSent) return void res.destroy();
        res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end(`${message}\n`);
      });
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgrade(req, socket, head).catch((err: unknown) => {
      const { code, message } = describe(err);
      if (code >= 500) log.error('Stream failed', { uri: req.url?.split('?')[0], err: err as Error });
      if (!socket.writable) return;
      // An error before the upgrade is a metav1.Status, as kubectl reads it from a refused upgrade.
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reasonFor(code), code });
      socket.end(`HTTP/1.1 ${code} ${statusText(code)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info('Serving the kubelet API', { address: opts.address, port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** describe maps an error to an HTTP code and the message the client sees. */
function describe(err: unknown): { code: number; message: string } {
  if (err instanceof HttpError) return { code: err.code, message: err.message };
  if (err instanceof NotFoundError) return { code: 404, message: err.message };
  return { code: 500, message: (err as Error)?.message ?? String(err) };
}

function reasonFor(code: number): string {
  return { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed' }[code] ?? 'InternalError';
}

function statusText(code: number): string {
  return { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' }[code] ?? 'Internal Server Error';
}
