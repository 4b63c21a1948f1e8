// The HTTPS server: authentication on every request, health and metrics, version, discovery,
// OpenAPI, then the generic resource handler. Errors leave as metav1.Status bodies.

import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Registry as MetricsRegistry } from 'prom-client';
import { Counter, Gauge, Histogram } from '../lib/metrics.js';
import type { Logger } from '../lib/log.js';
import { forbidden, internalError, notFoundPath, StatusError, unauthorized } from '../lib/machinery/status.js';
import type { Authenticator, UserInfo } from './auth/authn.js';
import { forbiddenMessage, type Authorizer } from './auth/authz.js';
import { aggregatedContentType, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import { ResourceHandler, writeJSON, writeStatus, type FieldValidator } from './endpoints/resources.js';
import { parseRequestInfo, type ProtobufDecoder } from './endpoints/request.js';
import type { APIRegistry } from './registry/registry.js';
import { openAPIV3Response, type OpenAPIV3Service } from './openapi.js';


export interface ServerOptions {
  registry: APIRegistry;
  authenticator: Authenticator;
  authorizer: Authorizer;
  log: Logger;
  metrics: MetricsRegistry;
  tls: { cert: Buffer; key: Buffer; ca: Buffer };
  advertiseAddress: string;
  port: number;
  protobuf?: ProtobufDecoder;
  fieldValidator?: FieldValidator;
  openapi?: OpenAPIV3Service;
  /** readyChecks run for /readyz; each returns an error message or undefined. */
  readyChecks: Record<string, () => Promise<string | undefined>>;
}

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

/** isResourcePath: /api/v1/<resource…> or /apis/<group>/<version>/<resource…> (not discovery documents). */
export function isResourcePath(path: string): boolean {
  if (path.startsWith('/api/')) return path.split('/').filter(Boolean).length >= 3;
  if (path.startsWith('/apis/')) return path.split('/').filter(Boolean).length >= 4;
  return false;
}

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
    log,
    protobuf: opts.protobuf,
    fieldValidator: opts.fieldValidator,
    watchMetrics: { inc: (r) => watchers.inc({ resource: r }), dec: (r) => watchers.dec({ resource: r }) },
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // kube-apiserver marks every response uncacheable (WithCacheControl); the kubectl dispatcher
  // relies on it for /version. Hashed OpenAPI documents override it below.
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-cache, private');
    next();
  });

  const health = async (req: IncomingMessage, res: ServerResponse, what: string, checks: Record<string, () => Promise<string | undefined>>) => {
    const verbose = new URL(req.url ?? '/', 'https://x').searchParams.has('verbose');
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
  app.get('/healthz', (req, res) => void health(req, res, 'healthz', live));
  app.get('/livez', (req, res) => void health(req, res, 'livez', live));
  app.get('/readyz', (req, res) => void health(req, res, 'readyz', { ping: live.ping, ...opts.readyChecks }));
  app.get(['/version', '/version/'], (_req, res) => writeJSON(res, 200, versionInfo));

  // Everything below requires an authenticated, authorized user.
  app.use((req, res, next) => {
    const user = opts.authenticator.authenticate(req);
    if (!user) return writeStatus(res, unauthorized());
    (req as IncomingMessage & { user?: UserInfo }).user = user;
    next();
  });
  app.get('/metrics', async (_req, res) => {
    res.writeHead(200, { 'Content-Type': opts.metrics.contentType });
    res.end(await opts.metrics.metrics());
  });
  app.get('/api', (req, res) => {
    const agg = wantsAggregated(req.headers.accept);
    if (agg) return writeJSON(res, 200, aggregatedDiscovery(registry, true, agg), { 'Content-Type': aggregatedContentType(agg), Vary: 'Accept' });
    writeJSON(res, 200, apiVersions(`${opts.advertiseAddress}:${opts.port}`));
  });
  app.get('/apis', (req, res) => {
    const agg = wantsAggregated(req.headers.accept);
    if (agg) return writeJSON(res, 200, aggregatedDiscovery(registry, false, agg), { 'Content-Type': aggregatedContentType(agg), Vary: 'Accept' });
    writeJSON(res, 200, apiGroupList(registry));
  });
  app.get('/apis/:group', (req, res) => {
    const g = apiGroup(registry, req.params.group);
    if (!g) return writeStatus(res, notFoundPath());
    writeJSON(res, 200, g);
  });
  app.get('/api/v1', (_req, res) => writeJSON(res, 200, apiResourceList(registry, '', 'v1')));
  app.get('/apis/:group/:version', (req, res) => {
    const list = apiResourceList(registry, req.params.group, req.params.version);
    if (!list) return writeStatus(res, notFoundPath());
    writeJSON(res, 200, list);
  });
  app.get('/openapi/v3', (_req, res) => {
    if (!opts.openapi) return writeStatus(res, notFoundPath());
    writeJSON(res, 200, opts.openapi.index());
  });
  app.get(/^\/openapi\/v3\/(.+)$/, (req, res) => {
    if (!opts.openapi) return writeStatus(res, notFoundPath());
    const url = new URL(req.originalUrl, 'https://x');
    const r = openAPIV3Response(opts.openapi, url.pathname.slice('/openapi/v3/'.length), url.searchParams, {
      accept: req.headers.accept,
      ifNoneMatch: req.headers['if-none-match'],
    });
    if (r.status === 404) return writeStatus(res, notFoundPath());
    res.writeHead(r.status, r.body !== undefined ? { ...r.headers, 'Content-Length': String(Buffer.byteLength(r.body)) } : r.headers);
    res.end(r.body);
  });

  // handleResource serves every /api/v1/… and /apis/<group>/<version>/… resource request.
  const handleResource = (req: IncomingMessage, res: ServerResponse, url: URL, user: UserInfo) => {
    const started = process.hrtime.bigint();
    const info = parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    const resourceLabel = info.resource ? (info.subresource ? `${info.resource}/${info.subresource}` : info.resource) : '';
    res.on('finish', () => {
      const verb = info.verb.toUpperCase();
      requests.inc({ verb, resource: resourceLabel, code: String(res.statusCode) });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (info.verb !== 'watch') latency.observe({ verb, resource: resourceLabel }, seconds);
      if (log.enabled(3)) log.info('HTTP', { verb: info.verb, uri: url.pathname, code: res.statusCode, user: user.name, ms: seconds * 1000 });
    });
    const run = async () => {
      if (!info.isResourceRequest) throw notFoundPath();
      const decision = opts.authorizer.authorize({
        user,
        verb: info.verb,
        group: info.group,
        version: info.version,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
        resourceRequest: true,
      });
      if (!decision.allowed) {
        throw forbidden({ group: info.group, resource: info.resource ?? '' }, info.name ?? '', forbiddenMessage({ user, verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, resourceRequest: true }));
      }
      await handler.handle(req, res, info, url.searchParams, user);
    };
    run().catch((err: unknown) => {
      const status = err instanceof StatusError ? err : internalError(err);
      if (!(err instanceof StatusError)) log.error('Request failed', { verb: info.verb, uri: url.pathname, err: err as Error, stack: (err as Error)?.stack });
      if (res.headersSent) {
        res.end();
        return;
      }
      writeStatus(res, status);
    });
  };

  app.use((req, res) => handleResource(req, res, new URL(req.originalUrl ?? req.url ?? '/', 'https://x'), (req as IncomingMessage & { user?: UserInfo }).user!));

  /**
   * listener sends resource requests straight to the generic handler and everything else
   * (health, version, discovery, OpenAPI, metrics) through express: the resource path is the hot
   * one, and its routing is the request-info parse it needs anyway.
   */
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (!isResourcePath(url.pathname)) return app(req, res);
    res.setHeader('Cache-Control', 'no-cache, private');
    const user = opts.authenticator.authenticate(req);
    if (!user) return writeStatus(res, unauthorized());
    handleResource(req, res, url, user);
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
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0; // watches are long-lived; per-request deadlines are our own
  return server;
}
