// The subresources served by the pod's node's kubelet (kube's LogREST, ExecREST, AttachREST,
// PortForwardREST and the node ProxyREST): the apiserver finds the kubelet from the Node object
// (its InternalIP and status.daemonEndpoints.kubeletEndpoint.Port), then passes the request on
// with its kubelet client certificate, upgraded connections (WebSocket, SPDY) byte for byte.

import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Node } from '../../../lib/api/core/node.js';
import { nodeAddress, NodeAddressType } from '../../../lib/api/core/node.js';
import type { Pod } from '../../../lib/api/core/pod.js';
import { badRequest, notFound, serviceUnavailable, StatusError, StatusReason } from '../../../lib/machinery/status.js';
import { proxyRequest, proxyUpgrade, type ProxyTarget } from '../../../lib/net/upgradeproxy.js';
import type { ConnectRequest, KubeletClientConfig, SubresourceRequest, SubresourceStorage } from './types.js';

/** defaultKubeletPort is the kubelet's port when the Node does not say (ports.KubeletPort). */
const defaultKubeletPort = 10250;

const servesPods = (def: { group: string; plural: string }) => def.group === '' && def.plural === 'pods';

/** kubeletOf finds the kubelet of a node: its InternalIP (else Hostname) and its port. */
async function kubeletOf(req: SubresourceRequest, nodeName: string): Promise<{ host: string; port: number }> {
  const nodes = req.registry?.lookup('', 'v1', 'nodes');
  if (!nodes) throw serviceUnavailable('nodes are not served');
  const node = (await nodes.get(undefined, nodeName)) as Node;
  const host = nodeAddress(node, NodeAddressType.InternalIP) ?? nodeAddress(node, NodeAddressType.Hostname);
  if (!host) throw badRequest(`node ${nodeName} has no address`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || defaultKubeletPort;
  return { host, port };
}

/** kubeletTarget is a URL on a node's kubelet with the apiserver's client certificate. */
async function kubeletTarget(req: SubresourceRequest, nodeName: string, path: string, query?: URLSearchParams): Promise<ProxyTarget> {
  const cfg = req.kubelet;
  if (!cfg) throw serviceUnavailable('the apiserver has no kubelet client certificate (--kubelet-client-certificate, --kubelet-client-key)');
  const { host, port } = await kubeletOf(req, nodeName);
  const url = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}${path}`);
  if (query) url.search = query.toString();
  return { url, tls: tlsOf(cfg), dropHeaders: ['cookie'] };
}

function tlsOf(cfg: KubeletClientConfig): ProxyTarget['tls'] {
  return { cert: cfg.cert, key: cfg.key, ca: cfg.ca, ...(cfg.ca ? {} : { rejectUnauthorized: false }) } as ProxyTarget['tls'];
}

/** unreachable is the error for a kubelet that cannot be reached. */
function unreachable(nodeName: string, err: unknown): StatusError {
  return new StatusError(502, StatusReason.InternalError, `error dialing backend: ${(err as Error)?.message ?? String(err)} (node ${nodeName})`);
}

/** reasonForCode is the Status reason of a kubelet's answer code (apimachinery's NewGenericServerResponse). */
function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400:
      return StatusReason.BadRequest;
    case 401:
      return StatusReason.Unauthorized;
    case 403:
      return StatusReason.Forbidden;
    case 404:
      return StatusReason.NotFound;
    case 405:
      return StatusReason.MethodNotAllowed;
    default:
      return code >= 500 ? StatusReason.InternalError : StatusReason.Unknown;
  }
}

/** podContainer picks the container a request names, or the only one, as LogLocation and streamLocation do. */
function podContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata.name;
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  const ephemeral = (pod.spec as { ephemeralContainers?: { name: string }[] } | undefined)?.ephemeralContainers ?? [];
  if (!requested) {
    if (containers.length === 1) return containers[0]!.name;
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
    if (inits.length) msg += ` or one of the init containers: [${inits.map((c) => c.name).join(' ')}]`;
    if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.map((c) => c.name).join(' ')}]`;
    throw badRequest(msg);
  }
  if (![...containers, ...inits, ...ephemeral].some((c) => c.name === requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** upgradeRequired refuses a streaming subresource asked for without an upgrade. */
function upgradeRequired(): StatusError {
  return badRequest('Upgrade request required');
}

/** passUpgrade hands an upgraded connection to the kubelet; the client's socket is the proxy's from here. */
async function passUpgrade(conn: ConnectRequest, target: ProxyTarget, nodeName: string): Promise<void> {
  const { socket, head } = conn.upgrade!;
  conn.res.detachSocket(socket as Socket);
  try {
    await proxyUpgrade(conn.req, socket, head, target);
  } catch (err) {
    // Nothing was written yet: the Status goes on the raw connection.
    const status = unreachable(nodeName, err).status;
    const body = JSON.stringify(status);
    socket.end(`HTTP/1.1 ${status.code} Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
}

/** passRequest sends a plain request on to the kubelet and streams its answer. */
async function passRequest(conn: ConnectRequest, target: ProxyTarget, nodeName: string): Promise<void> {
  try {
    await proxyRequest(conn.req, conn.res, target);
  } catch (err) {
    throw unreachable(nodeName, err);
  }
}

/** logQueryKeys are the PodLogOptions passed to the kubelet's /containerLogs. */
const logQueryKeys = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes'];

/** validateLogQuery checks PodLogOptions as kube's validation does. */
function validateLogQuery(q: URLSearchParams): void {
  const causes: string[] = [];
  const int = (k: string) => (q.has(k) && q.get(k) !== '' ? Number(q.get(k)) : undefined);
  const tail = int('tailLines');
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) causes.push('tailLines: Invalid value: must be greater than or equal to 0');
  const limit = int('limitBytes');
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) causes.push('limitBytes: Invalid value: must be greater than 0');
  const since = int('sinceSeconds');
  if (since !== undefined && !(Number.isInteger(since) && since >= 1)) causes.push('sinceSeconds: Invalid value: must be greater than 0');
  if (since !== undefined && q.get('sinceTime')) causes.push('sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (causes.length) throw new StatusError(422, StatusReason.Invalid, `PodLogOptions "" is invalid: ${causes.length === 1 ? causes[0] : `[${causes.join(', ')}]`}`);
}

/**
 * logREST serves pods/log: GET streams the container's log from its kubelet. A kubelet's refusal
 * becomes a Status with its code and its text as the message (kube's GenericHttpResponseChecker).
 */
export const logREST: SubresourceStorage = {
  subresource: 'log',
  kind: { kind: 'Pod' },
  serves: servesPods,
  connectVerbs: ['get'],
  async connect(r, conn) {
    if (conn.req.method !== 'GET' && conn.req.method !== 'HEAD') throw new StatusError(405, StatusReason.MethodNotAllowed, `the server does not allow this method on the requested resource`);
    const pod = (await r.store.get(r.namespace, r.name)) as Pod;
    const container = podContainer(pod, conn.query.get('container'));
    validateLogQuery(conn.query);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      // Not scheduled yet: nothing has logged (LogLocation answers no location).
      conn.res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void conn.res.end();
    }
    const query = new URLSearchParams();
    for (const k of logQueryKeys) for (const v of conn.query.getAll(k)) query.append(k, v);
    const target = await kubeletTarget(r, nodeName, `/containerLogs/${enc(pod.metadata.namespace!)}/${enc(pod.metadata.name ?? r.name)}/${enc(container)}`, query);
    const upRes = await kubeletGet(target, conn, nodeName);
    if (upRes.statusCode !== 200) {
      const body = (await readAll(upRes)).toString().trim();
      throw new StatusError(upRes.statusCode ?? 500, reasonForCode(upRes.statusCode ?? 500), body);
    }
    conn.res.writeHead(200, { 'Content-Type': 'text/plain' });
    conn.res.flushHeaders();
    upRes.pipe(conn.res);
    await new Promise<void>((resolve) => {
      upRes.on('end', resolve);
      upRes.on('error', () => {
        conn.res.destroy();
        resolve();
      });
      conn.res.on('close', resolve);
    });
  },
};

/** kubeletGet makes one GET to the kubelet and resolves with its answer (body unread). */
function kubeletGet(target: ProxyTarget, conn: ConnectRequest, nodeName: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const up = https.request(target.url, { method: 'GET', ...(target.tls ?? {}) });
    up.on('response', resolve);
    up.on('error', (err) => reject(unreachable(nodeName, err)));
    conn.res.on('close', () => up.destroy());
    up.end();
  });
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** streamREST is pods/exec or pods/attach: an upgraded connection passed to /exec or /attach on the pod's kubelet. */
function streamREST(subresource: 'exec' | 'attach', kind: string): SubresourceStorage {
  return {
    subresource,
    kind: { kind },
    serves: servesPods,
    connectVerbs: ['create', 'get'],
    async connect(r, conn) {
      const pod = (await r.store.get(r.namespace, r.name)) as Pod;
      const container = podContainer(pod, conn.query.get('container'));
      const nodeName = pod.spec?.nodeName;
      if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot ${subresource === 'exec' ? 'exec into' : 'attach to'} a container in a completed pod; current phase is ${phase}`);
      if (!conn.upgrade) throw upgradeRequired();
      const query = new URLSearchParams(conn.query);
      query.delete('container');
      const target = await kubeletTarget(r, nodeName, `/${subresource}/${enc(pod.metadata.namespace!)}/${enc(pod.metadata.name ?? r.name)}/${enc(container)}`, query);
      await passUpgrade(conn, target, nodeName);
    },
  };
}

/** execREST serves pods/exec. */
export const execREST = streamREST('exec', 'PodExecOptions');
/** attachREST serves pods/attach. */
export const attachREST = streamREST('attach', 'PodAttachOptions');

/** portForwardREST serves pods/portforward: an upgraded connection passed to /portForward on the pod's kubelet. */
export const portForwardREST: SubresourceStorage = {
  subresource: 'portforward',
  kind: { kind: 'PodPortForwardOptions' },
  serves: servesPods,
  connectVerbs: ['create', 'get'],
  async connect(r, conn) {
    const pod = (await r.store.get(r.namespace, r.name)) as Pod;
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    if (!conn.upgrade) throw upgradeRequired();
    const target = await kubeletTarget(r, nodeName, `/portForward/${enc(pod.metadata.namespace!)}/${enc(pod.metadata.name ?? r.name)}`, conn.query);
    await passUpgrade(conn, target, nodeName);
  },
};

/** nodeProxyREST serves nodes/proxy: any request passed on to the node's kubelet at the path after `proxy`. */
export const nodeProxyREST: SubresourceStorage = {
  subresource: 'proxy',
  kind: { kind: 'NodeProxyOptions' },
  serves: (def) => def.group === '' && def.plural === 'nodes',
  connectVerbs: ['create', 'delete', 'get', 'patch', 'update'],
  acceptsPath: true,
  async connect(r, conn) {
    // The Node must exist: its absence is the nodes resource's NotFound.
    const nodes = r.registry?.lookup('', 'v1', 'nodes');
    if (!nodes) throw notFound({ group: '', resource: 'nodes' }, r.name);
    const path = `/${conn.rest.map(enc).join('/')}`;
    const target = await kubeletTarget(r, r.name, path, conn.query);
    if (conn.upgrade) return passUpgrade(conn, target, r.name);
    await passRequest(conn, target, r.name);
  },
};
