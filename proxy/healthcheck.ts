// The proxy's health servers, as kube-proxy's pkg/proxy/healthcheck:
//
// - ProxierHealth is the proxy's own health: healthy while no change has waited longer than the
//   health timeout (2 × --sync-period) for a sync, and while its Node is not being deleted or
//   tainted ToBeDeletedByClusterAutoscaler. `--healthz-bind-address` serves it as kube-proxy's
//   plain-HTTP /healthz and /livez.
// - ServiceHealthServer answers on each `spec.healthCheckNodePort` (a LoadBalancer Service with
//   `externalTrafficPolicy: Local`): 200 when this node has a ready endpoint of the Service and the
//   proxy is healthy, 503 otherwise, so a load balancer sends traffic only to nodes that can serve
//   it without leaving the node.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Node } from '../lib/api/core/node.js';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import type { Logger } from '../lib/log.js';
import { serviceKey, slicesByService } from './rules.js';

/** toBeDeletedTaint is the Cluster Autoscaler's taint on a node it is about to remove. */
export const toBeDeletedTaint = 'ToBeDeletedByClusterAutoscaler';

/** ProxierHealth tracks whether the proxy keeps up with the changes it is given (kube's proxierHealthServer). */
export class ProxierHealth {
  private lastUpdated = 0;
  private oldestPendingQueued = 0;
  private nodeEligible = true;

  /** ProxierHealth considers the proxy unhealthy once a queued change has waited healthTimeoutMs. */
  constructor(
    private readonly healthTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** queuedUpdate records that a change waits for a sync (only the oldest waiting one counts). */
  queuedUpdate(): void {
    if (this.oldestPendingQueued === 0) this.oldestPendingQueued = this.now();
  }

  /** updated records a successful sync: nothing waits any more. */
  updated(): void {
    this.oldestPendingQueued = 0;
    this.lastUpdated = this.now();
  }

  /** syncNode makes the node ineligible while it is being deleted or tainted for removal. */
  syncNode(node: Node | undefined): void {
    if (!node) return;
    this.nodeEligible = !node.metadata?.deletionTimestamp && !(node.spec?.taints ?? []).some((t) => t.key === toBeDeletedTaint);
  }

  /** isHealthy is the proxy's health without the node's eligibility (what Service health checks use). */
  isHealthy(): boolean {
    return this.oldestPendingQueued === 0 || this.now() - this.oldestPendingQueued < this.healthTimeoutMs;
  }

  /**
   * response is the answer of /healthz (with the node's eligibility) or /livez (without), in
   * kube-proxy's form: while healthy, lastUpdated is the current time, as kube-proxy reports it.
   */
  response(path: '/healthz' | '/livez'): { status: number; body: string } {
    const current = this.now();
    let healthy = this.isHealthy();
    if (path === '/healthz') healthy &&= this.nodeEligible;
    const last = healthy ? current : this.lastUpdated;
    const ts = (ms: number) => JSON.stringify(goTimeString(ms));
    const body = path === '/healthz'
      ? `{"lastUpdated": ${ts(last)},"currentTime": ${ts(current)}, "nodeEligible": ${this.nodeEligible}}`
      : `{"lastUpdated": ${ts(last)},"currentTime": ${ts(current)}}`;
    return { status: healthy ? 200 : 503, body };
  }

  /** serve answers /healthz and /livez over plain HTTP on host:port (kube-proxy's --healthz-bind-address); 404 for anything else. */
  serve(host: string, port: number): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/healthz' && path !== '/livez') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end('404 page not found\n');
        return;
      }
      const r = this.response(path);
      res.writeHead(r.status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }).end(r.body);
    });
    return listen(server, host, port);
  }
}

/**
 * goTimeString formats epoch milliseconds as Go's time.Time.String() in UTC, which kube-proxy's
 * healthz prints: `2026-12-06 20:07:16.105 +0000 UTC` (fraction without trailing zeros; 0 is Go's
 * zero time, `0001-01-01 00:00:00 +0000 UTC`). Go adds the monotonic clock reading (`m=+…`),
 * which has no meaning outside the process and is left out.
 */
export function goTimeString(ms: number): string {
  if (ms === 0) return '0001-01-01 00:00:00 +0000 UTC';
  const iso = new Date(ms).toISOString(); // 2026-12-06T20:07:16.105Z
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** serviceHealthBody is the JSON a Service's health check answers, laid out as kube-proxy writes it. */
export function serviceHealthBody(namespace: string, name: string, localEndpoints: number, proxyHealthy: boolean): string {
  return [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(namespace)},`,
    `\t\t"name": ${JSON.stringify(name)}`,
    '\t},',
    `\t"localEndpoints": ${localEndpoints},`,
    `\t"serviceProxyHealthy": ${proxyHealthy}`,
    '}',
  ].join('\n');
}

/**
 * healthCheckPorts are the Services that need a health check port on this node (`ns/name` →
 * spec.healthCheckNodePort): LoadBalancer Services with externalTrafficPolicy Local.
 */
export function healthCheckPorts(services: readonly Service[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const svc of services) {
    const port = svc.spec.healthCheckNodePort;
    if (svc.spec.type === 'LoadBalancer' && svc.spec.externalTrafficPolicy === 'Local' && port) out.set(serviceKey(svc), port);
  }
  return out;
}

/**
 * localReadyEndpoints counts, per Service (`ns/name`), the distinct ready endpoint addresses on
 * nodeName over all its IPv4 slices (kube's EndpointsMap.LocalReadyEndpoints).
 */
export function localReadyEndpoints(slices: readonly EndpointSlice[], nodeName: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, list] of slicesByService(slices)) {
    const ips = new Set<string>();
    for (const slice of list) {
      if (slice.addressType !== 'IPv4') continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.nodeName !== nodeName || (ep.conditions?.ready ?? true) !== true) continue;
        for (const ip of ep.addresses ?? []) ips.add(ip);
      }
    }
    if (ips.size > 0) out.set(key, ips.size);
  }
  return out;
}

/** Instance is one Service's open health check: its port, servers and local endpoint count. */
interface Instance {
  port: number;
  servers: http.Server[];
  endpoints: number;
}

/** ServiceHealthServerOptions configure a ServiceHealthServer. */
export interface ServiceHealthServerOptions {
  /** addresses to listen on (the node's addresses matching --nodeport-addresses); default every address. */
  addresses?: readonly string[];
  health: ProxierHealth;
  log: Logger;
  /** onListenError reports a port that could not be opened (an Event FailedToStartServiceHealthcheck in the process). */
  onListenError?: (key: string, port: number, err: Error) => void;
}

/** ServiceHealthServer opens, answers and closes the health check ports of Services (kube's ServiceHealthServer). */
export class ServiceHealthServer {
  private readonly services = new Map<string, Instance>();

  constructor(private readonly opts: ServiceHealthServerOptions) {}

  /**
   * syncServices makes wanted (`ns/name` → port) the open set: ports no longer wanted, or changed,
   * are closed; new ones opened. A port that cannot be opened is reported and tried again next sync.
   */
  async syncServices(wanted: ReadonlyMap<string, number>): Promise<void> {
    for (const [key, inst] of this.services) {
      if (wanted.get(key) === inst.port) continue;
      this.opts.log.v(2).info('Closing healthcheck', { service: key, port: inst.port });
      this.services.delete(key);
      await closeAll(inst.servers);
    }
    for (const [key, port] of wanted) {
      if (this.services.has(key)) continue;
      this.opts.log.v(2).info('Opening healthcheck', { service: key, port });
      const inst: Instance = { port, servers: [], endpoints: 0 };
      try {
        for (const addr of this.opts.addresses?.length ? this.opts.addresses : ['0.0.0.0']) {
          inst.servers.push(await listen(http.createServer((req, res) => this.answer(key, res)), addr, port));
        }
      } catch (err) {
        await closeAll(inst.servers);
        this.opts.log.error('Failed to start healthcheck', { service: key, port, err: (err as Error).message });
        this.opts.onListenError?.(key, port, err as Error);
        continue;
      }
      this.services.set(key, inst);
    }
  }

  /** syncEndpoints sets each open Service's local endpoint count; Services missing from counts have none. */
  syncEndpoints(counts: ReadonlyMap<string, number>): void {
    for (const [key, inst] of this.services) inst.endpoints = counts.get(key) ?? 0;
  }

  /** ports lists the open health check ports by Service (for tests and logs). */
  ports(): Map<string, number> {
    return new Map([...this.services].map(([k, i]) => [k, i.port]));
  }

  /** close closes every open port. */
  async close(): Promise<void> {
    const all = [...this.services.values()];
    this.services.clear();
    for (const inst of all) await closeAll(inst.servers);
  }

  private answer(key: string, res: http.ServerResponse): void {
    const inst = this.services.get(key);
    if (!inst) {
      // A request that raced the port's closing: kube-proxy answers nothing either.
      res.destroy();
      return;
    }
    const healthy = this.opts.health.isHealthy();
    const slash = key.indexOf('/');
    const status = inst.endpoints !== 0 && healthy ? 200 : 503;
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(serviceHealthBody(key.slice(0, slash), key.slice(slash + 1), inst.endpoints, healthy));
  }
}

function listen(server: http.Server, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeAll(servers: readonly http.Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  ).then(() => undefined);
}

/** boundPort is the port a server listens on (for tests that listen on port 0). */
export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
