// The HTTPS server and its one front door. Every request takes the same way in: its path is
// decoded safely (a bad escape is a 400, dot segments are never resolved), health and version
// answer anyone, then authentication, the in-flight limits and the request deadline, routing
// (metrics, discovery, OpenAPI, resources), authorization, and the generic resource handler.
// Whatever fails anywhere leaves as a metav1.Status.

import https from 'node:https';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry as MetricsRegistry } from 'prom-client';
import { Counter, Gauge, Histogram } from '../lib/metrics.js';
import type { Logger } from '../lib/log.js';
import type { VirtualContext } from '../lib/api/resource.js';
import { forbidden, internalError, notFoundPath, StatusError, StatusReason, unauthorized } from '../lib/machinery/status.js';
import type { AuditContext, Auditor } from './audit/audit.js';
import type { Authenticator, UserInfo } from './auth/authn.js';
import { forbiddenText, type Authorizer } from './auth/authz.js';
import { anonymousClusterInfoReader } from './auth/bootstrap.js';
import { impersonate } from './auth/impersonation.js';
import { aggregatedContentType, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import { ResourceHandler, type FieldValidator } from './endpoints/resources.js';
import { markPretty, writeJSON, writeStatus } from './endpoints/response.js';
import { checkPathNames, parseRequestInfo, type ProtobufDecoder, type RequestInfo } from './endpoints/request.js';
import { parseRequestPath, type RequestPath } from './endpoints/path.js';
import { parseRequestOptions } from './endpoints/options.js';
import { markUpgrade } from './endpoints/upgrade.js';
import type { KubeletClientConfig } from './registry/subresources/index.js';
import { InflightLimiter, isLongRunning, RequestDeadline, requestKind, requestTimeoutError, type RequestKind } from './endpoints/filters.js';
import type { APIRegistry } from './registry/registry.js';
import type { TokenSigner } from './auth/serviceaccount/tokens.js';
import { serveOIDC, type OIDCDocuments } from './auth/serviceaccount/oidc.js';
import { openAPIV3Response, type OpenAPIV3Service } from './openapi.js';
import { openAPIV2Response, type OpenAPIV2Service } from './openapi/v2.js';
import { workerHeader } from './workers.js';

/** FrontDoorLimits are kube-apiserver's --max-requests-inflight, --max-mutating-requests-inflight and --request-timeout. */
export interface FrontDoorLimits {
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  requestTimeoutMs: number;
}

/** defaultLimits are kube-apiserver's defaults. */
export const defaultLimits: FrontDoorLimits = { maxRequestsInflight: 400, maxMutatingRequestsInflight: 200, requestTimeoutMs: 60_000 };

export interface ServerOptions {
  registry: APIRegistry;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** rules resolves what a user may do in a namespace, for SelfSubjectRulesReview (RBAC's resolver). */
  rules?: VirtualContext['rules'];
  log: Logger;
  metrics: MetricsRegistry;
  tls: { cert: Buffer; key: Buffer; ca: Buffer };
  advertiseAddress: string;
  port: number;
  protobuf?: ProtobufDecoder;
  fieldValidator?: FieldValidator;
  openapi?: OpenAPIV3Service;
  /** openapiV2 serves /openapi/v2 (built from the v3 documents). */
  openapiV2?: OpenAPIV2Service;
  /** readyChecks run for /readyz; each returns an error message or undefined. */
  readyChecks: Record<string, () => Promise<string | undefined>>;
  limits?: FrontDoorLimits;
  /** kubelet is the client certificate (and CA) for reaching kubelets: pods/log, pods/exec, nodes/proxy. */
  kubelet?: KubeletClientConfig;
  /** auditor writes the audit log (--audit-policy-file, --audit-log-path); none when undefined. */
  auditor?: Auditor;
  /** tokenSigner signs the tokens of serviceaccounts/token. */
  tokenSigner?: TokenSigner;
  /** oidc are the service-account issuer's discovery documents (/.well-known/openid-configuration, /openid/v1/jwks). */
  oidc?: OIDCDocuments;
  /** workerId names this process among --apiserver-workers, in every response's X-Skiff-Apiserver-Worker header. */
  workerId?: string;
  /** metricsText is what /metrics serves when not this process's registry alone (every worker's, summed). */
  metricsText?: () => Promise<string>;
}

/** anonymousPaths are where a request without credentials is let in as system:anonymous (then authorized as any other). */
const anonymousPaths = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

/** anonymousUser is kube's anonymous identity. */
const anonymousUser = (): UserInfo => ({ name: 'system:anonymous', groups: ['system:unauthenticated'], via: 'anonymous' });

/** versionInfo is what /version answers; kubectl's dispatcher picks its binary from `minor`. */
export const versionInfo = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-skiff',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export function createAPIServer(opts: ServerOptions): https.Server {
  const { registry, log } = opts;
  const requests = new Counter({ name: 'apiserver_request_total', help: 'Requests by verb, resource and HTTP code.', labelNames: ['verb', 'resource', 'code'], registers: [opts.metrics] });
  const latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Request latency by verb and resource (watches excluded).',
    labelNames: ['verb', 'resource'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [opts.metrics],
  });
  const watchers = new Gauge({ name: 'apiserver_registered_watchers', help: 'Open watches by resource.', labelNames: ['resource'], registers: [opts.metrics] });
  const handler = new ResourceHandler({
    registry,
    authorize: (attrs) => opts.authorizer.authorize({ ...attrs, user: { ...attrs.user, via: 'x509' } }),
    rules: opts.rules,
    log,
    protobuf: opts.protobuf,
    fieldValidator: opts.fieldValidator,
    watchMetrics: { inc: (r) => watchers.inc({ resource: r }), dec: (r) => watchers.dec({ resource: r }) },
    kubelet: opts.kubelet,
    tokenSigner: opts.tokenSigner,
    authenticateToken: (token, audiences) => opts.authenticator.authenticateToken(token, audiences),
  });

  const limits = opts.limits ?? defaultLimits;
  const inflightGauge = new Gauge({ name: 'apiserver_current_inflight_requests', help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.', labelNames: ['request_kind'], registers: [opts.metrics] });
  const dropped = new Counter({ name: 'apiserver_dropped_requests_total', help: "Number of requests dropped with 'Try again later' response.", labelNames: ['request_kind'], registers: [opts.metrics] });
  const terminations = new Counter({ name: 'apiserver_request_terminations_total', help: 'Number of requests which apiserver terminated in self-defense, by verb, resource and code.', labelNames: ['verb', 'resource', 'code'], registers: [opts.metrics] });
  for (const kind of ['readOnly', 'mutating'] as RequestKind[]) inflightGauge.set({ request_kind: kind }, 0);
  const limiter = new InflightLimiter(limits, {
    set: (kind, value) => inflightGauge.set({ request_kind: kind }, value),
    dropped: (kind) => dropped.inc({ request_kind: kind }),
  });

  const health = async (query: URLSearchParams, res: ServerResponse, what: string, checks: Record<string, () => Promise<string | undefined>>) => {
    const verbose = query.has('verbose');
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of Object.entries(checks)) {
      const err = await check().catch((e: Error) => e.message);
      if (err) {
        ok = false;
        log.warn('Health check failed', { endpoint: what, check: name, err });
      }
      // The reason goes to the log, not to callers who may be anonymous.
      lines.push(err ? `[-]${name} failed: reason withheld` : `[+]${name} ok`);
    }
    const body = verbose ? `${lines.join('\n')}\n${what} check ${ok ? 'passed' : 'failed'}\n` : ok ? 'ok' : `${lines.filter((l) => l.startsWith('[-]')).join('\n')}\n${what} check failed\n`;
    res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  };
  const live = { ping: async () => undefined };

  /** servePublic answers what anyone may ask (health, version); false when the path is not one of those. */
  const servePublic = async (method: string, path: RequestPath, res: ServerResponse): Promise<boolean> => {
    if ((method !== 'GET' && method !== 'HEAD') || path.segments.length !== 1) return false;
    switch (path.segments[0]) {
      case 'healthz':
        await health(path.query, res, 'healthz', live);
        return true;
      case 'livez':
        await health(path.query, res, 'livez', live);
        return true;
      case 'readyz':
        await health(path.query, res, 'readyz', { ping: live.ping, ...opts.readyChecks });
        return true;
      case 'version':
        writeJSON(res, 200, versionInfo);
        return true;
    }
    return false;
  };

  /** serveNonResource answers metrics, discovery and OpenAPI; false when the path is none of those. */
  const serveNonResource = async (req: IncomingMessage, method: string, path: RequestPath, res: ServerResponse): Promise<boolean> => {
    if (method !== 'GET' && method !== 'HEAD') return false;
    const seg = path.segments;
    const agg = () => wantsAggregated(req.headers.accept);
    if (opts.oidc && serveOIDC(opts.oidc, seg, res)) return true;
    if (seg.length === 1 && seg[0] === 'metrics') {
      const text = opts.metricsText ? await opts.metricsText() : await opts.metrics.metrics();
      res.writeHead(200, { 'Content-Type': opts.metrics.contentType });
      res.end(text);
      return true;
    }
    if (seg[0] === 'api' && seg.length === 1) {
      const a = agg();
      if (a) writeJSON(res, 200, aggregatedDiscovery(registry, true, a), { 'Content-Type': aggregatedContentType(a), Vary: 'Accept' });
      else writeJSON(res, 200, apiVersions(`${opts.advertiseAddress}:${opts.port}`));
      return true;
    }
    if (seg[0] === 'api' && seg.length === 2 && seg[1] === 'v1') {
      writeJSON(res, 200, apiResourceList(registry, '', 'v1'));
      return true;
    }
    if (seg[0] === 'apis' && seg.length === 1) {
      const a = agg();
      if (a) writeJSON(res, 200, aggregatedDiscovery(registry, false, a), { 'Content-Type': aggregatedContentType(a), Vary: 'Accept' });
      else writeJSON(res, 200, apiGroupList(registry));
      return true;
    }
    if (seg[0] === 'apis' && seg.length === 2) {
      const g = apiGroup(registry, seg[1]!);
      if (!g) throw notFoundPath();
      writeJSON(res, 200, g);
      return true;
    }
    if (seg[0] === 'apis' && seg.length === 3) {
      const list = apiResourceList(registry, seg[1]!, seg[2]!);
      if (!list) throw notFoundPath();
      writeJSON(res, 200, list);
      return true;
    }
    if (seg[0] === 'openapi' && seg[1] === 'v2' && seg.length === 2) {
      if (!opts.openapiV2) throw notFoundPath();
      const r = openAPIV2Response(opts.openapiV2, {
        accept: req.headers.accept,
        ifNoneMatch: req.headers['if-none-match'],
        ifModifiedSince: req.headers['if-modified-since'],
      });
      res.writeHead(r.status, r.body !== undefined ? { ...r.headers, 'Content-Length': String(r.body.length) } : r.headers);
      res.end(r.body);
      return true;
    }
    if (seg[0] === 'openapi' && seg[1] === 'v3') {
      if (!opts.openapi) throw notFoundPath();
      if (seg.length === 2) {
        writeJSON(res, 200, opts.openapi.index());
        return true;
      }
      const r = openAPIV3Response(opts.openapi, seg.slice(2).join('/'), path.query, {
        accept: req.headers.accept,
        ifNoneMatch: req.headers['if-none-match'],
      });
      if (r.status === 404) throw notFoundPath();
      res.writeHead(r.status, r.body !== undefined ? { ...r.headers, 'Content-Length': String(Buffer.byteLength(r.body)) } : r.headers);
      res.end(r.body);
      return true;
    }
    return false;
  };

  /** observe records a resource request's count, latency and log line when its answer is out. */
  const observe = (info: RequestInfo, res: ServerResponse, user: UserInfo, started: bigint) => {
    const resourceLabel = info.resource ? (info.subresource ? `${info.resource}/${info.subresource}` : info.resource) : '';
    res.on('finish', () => {
      const verb = info.verb.toUpperCase();
      requests.inc({ verb, resource: resourceLabel, code: String(res.statusCode) });
      if (res.statusCode === 429 || res.statusCode === 504) terminations.inc({ verb, resource: resourceLabel, code: String(res.statusCode) });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (info.verb !== 'watch') latency.observe({ verb, resource: resourceLabel }, seconds);
      if (log.enabled(3)) log.info('HTTP', { verb: info.verb, uri: info.path, code: res.statusCode, user: user.name, ms: seconds * 1000 });
    });
  };

  /** frontDoor is the one way in for every request. */
  const frontDoor = async (req: IncomingMessage, res: ServerResponse, deadline: RequestDeadline, audit: AuditContext | undefined): Promise<void> => {
    const started = process.hrtime.bigint();
    const method = (req.method ?? 'GET').toUpperCase();
    const path = parseRequestPath(req.url ?? '/');

    // Without credentials a request is system:anonymous, for the public paths and kube-public's
    // cluster-info only (kube's anonymous authenticator limited to them); everything else is 401,
    // and so is a bearer token nobody knows, wherever it is sent.
    const authenticated = await opts.authenticator.authenticate(req);
    if (!authenticated && (req.headers.authorization !== undefined || !(anonymousPaths.has(path.pathname) || anonymousClusterInfoReader(req, method, path.pathname)))) {
      audit?.authenticationFailed();
      throw unauthorized();
    }
    audit?.authenticated(authenticated ?? anonymousUser());
    const user = impersonate(req, authenticated ?? anonymousUser(), opts.authorizer);
    if (user !== authenticated && authenticated) audit?.impersonated(user);
    const info = parseRequestInfo(method, path);
    if (!info.isResourceRequest) {
      const attrs = { user, verb: info.verb, path: path.pathname, resourceRequest: false };
      const d = opts.authorizer.authorize(attrs);
      if (!d.allowed) throw new StatusError(403, StatusReason.Forbidden, `forbidden: ${forbiddenText(attrs, d.reason)}`, {});
    }
    if (await servePublic(method, path, res)) return;
    if (info.isResourceRequest) observe(info, res, user, started);
    checkPathNames(info);

    if (isLongRunning(info)) deadline.exempt();
    else limiter.admit(requestKind(info.verb), user.groups, res);
    const requestOpts = info.isResourceRequest ? parseRequestOptions(info, path.query) : undefined;
    if (requestOpts?.timeoutMs !== undefined && !isLongRunning(info)) deadline.shorten(requestOpts.timeoutMs, Number(process.hrtime.bigint() - started) / 1e6);

    if (!info.isResourceRequest) {
      if (await serveNonResource(req, method, path, res)) return;
      throw notFoundPath();
    }
    const decision = opts.authorizer.authorize({
      user,
      verb: info.verb,
      group: info.group,
      version: info.version,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      fieldSelector: requestOpts?.fieldSelector || undefined,
      resourceRequest: true,
    });
    audit?.authorized(decision);
    if (!decision.allowed) {
      throw forbidden({ group: info.group, resource: info.resource ?? '' }, info.name ?? '', forbiddenText({ user, verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, resourceRequest: true }, decision.reason));
    }
    await handler.handle(req, res, info, requestOpts!, path.query, user);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    // kube-apiserver marks every response uncacheable (WithCacheControl); the kubectl dispatcher
    // relies on it for /version. Hashed OpenAPI documents override it.
    res.setHeader('Cache-Control', 'no-cache, private');
    if (opts.workerId !== undefined) res.setHeader(workerHeader, opts.workerId);
    markPretty(req, res);
    const audit = opts.auditor?.begin(req, res);
    const deadline = new RequestDeadline(req, res, limits.requestTimeoutMs, (answered) => {
      log.v(2).info('Request timed out', { method: req.method, uri: req.url?.split('?')[0], answered });
      if (!answered) writeStatus(res, requestTimeoutError(), { Connection: 'close' });
    });
    frontDoor(req, res, deadline, audit).catch((err: unknown) => {
      if (deadline.expired) return;
      const status = err instanceof StatusError ? err : internalError(err);
      if (!(err instanceof StatusError)) audit?.panicked(err);
      if (!(err instanceof StatusError)) log.error('Request failed', { method: req.method, uri: req.url?.split('?')[0], err: err as Error, stack: (err as Error)?.stack });
      if (res.headersSent) {
        res.end();
        return;
      }
      writeStatus(res, status);
    });
  };

  const server = https.createServer(
    {
      cert: opts.tls.cert,
      key: opts.tls.key,
      ca: opts.tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    listener,
  );
  // An upgrade request (kubectl exec, attach, port-forward) takes the same front door, answered
  // on its socket; a handler that upgrades takes the socket over (apiserver/endpoints/upgrade.ts).
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.end());
    markUpgrade(req, socket, head);
    listener(req, res);
  });
  server.keepAliveTimeout = 60_000;
  // Headers that never finish are cut off on the same clock as a body that never finishes.
  server.headersTimeout = limits.requestTimeoutMs > 0 ? Math.min(limits.requestTimeoutMs + 5_000, 65_000) : 65_000;
  server.requestTimeout = 0; // watches are long-lived; the front door's RequestDeadline bounds the rest
  // A client error (a malformed request line or header) gets a Status too, then the connection ends.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const [code, text, reason, message]: [number, string, StatusReason, string] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', StatusReason.Unknown, 'the request headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', StatusReason.Timeout, 'the request headers did not arrive in time']
          : [400, 'Bad Request', StatusReason.BadRequest, 'the request could not be parsed'];
    const body = JSON.stringify(new StatusError(code, reason, message).status);
    socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  return server;
}
