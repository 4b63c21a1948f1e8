// The apiservers' load balancer: one TCP address in front of several apiservers, as the HAProxy
// or kube-vip a kubeadm HA control plane puts there. It forwards bytes, never terminates TLS
// (clients' certificates reach the apiserver untouched), and sends a new connection to the next
// backend whose /readyz answered 200 at the last check. Backends are checked every
// checkIntervalMs; a connection that cannot reach its backend marks it down at once and tries the
// next, so a dead member stops receiving connections within one check interval.

import https from 'node:https';
import net from 'node:net';
import type { Logger } from '../log.js';

/** Backend is one apiserver the balancer forwards to. */
export interface Backend {
  host: string;
  port: number;
}

/** LoadBalancerOptions configure startLoadBalancer. */
export interface LoadBalancerOptions {
  listenHost: string;
  listenPort: number;
  backends: Backend[];
  /** ca verifies the backends' serving certificates in health checks (PEM). */
  ca: string;
  /** checkIntervalMs is the time between health checks of a backend (default 500). */
  checkIntervalMs?: number;
  /** checkTimeoutMs bounds one health check (default 1000). */
  checkTimeoutMs?: number;
  log: Logger;
}

/** RunningLoadBalancer is a started balancer. */
export interface RunningLoadBalancer {
  port: number;
  /**
   * setDiscovered replaces the backends learned at run time (members on other machines) with
   * list; the backends given at start stay. New ones are checked at once.
   */
  setDiscovered(list: Backend[]): void;
  /** backends lists every backend, as host:port. */
  backends(): string[];
  /** healthy lists the backends that answered their last check, as host:port. */
  healthy(): string[];
  stop(): Promise<void>;
}

interface BackendState extends Backend {
  /** discovered marks a backend learned at run time (setDiscovered), not given at start. */
  discovered?: boolean;
  timer?: NodeJS.Timeout;
  up: boolean;
  /** checked is false until the first check has answered either way. */
  checked: boolean;
}

const key = (b: Backend) => `${b.host}:${b.port}`;

/** startLoadBalancer listens and forwards until stop. */
export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<RunningLoadBalancer> {
  const { log } = opts;
  const interval = opts.checkIntervalMs ?? 500;
  const timeout = opts.checkTimeoutMs ?? 1_000;
  // Until the first check answers, every backend is worth trying.
  const backends: BackendState[] = opts.backends.map((b) => ({ ...b, up: true, checked: false }));
  let next = 0;
  const sockets = new Set<net.Socket>();

  const mark = (b: BackendState, up: boolean, why?: string) => {
    const changed = b.up !== up || !b.checked;
    b.up = up;
    b.checked = true;
    if (changed) {
      if (up) log.info('Backend is ready', { backend: key(b) });
      else log.warn('Backend is not ready', { backend: key(b), reason: why });
    }
  };

  const check = (b: BackendState) =>
    new Promise<void>((resolve) => {
      const req = https.get({ host: b.host, port: b.port, path: '/readyz', ca: opts.ca, agent: false, timeout }, (res) => {
        res.resume();
        mark(b, res.statusCode === 200, `readyz answered ${res.statusCode}`);
        resolve();
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.on('error', (err) => {
        mark(b, false, err.message);
        resolve();
      });
    });

  let stopping = false;
  for (const b of backends) {
    void check(b);
    b.timer = setInterval(() => void check(b), interval);
  }

  /** candidates are the backends to try, ready ones first, in round-robin order. */
  const candidates = (): BackendState[] => {
    const start = next++ % backends.length;
    const order = backends.map((_, i) => backends[(start + i) % backends.length]!);
    return [...order.filter((b) => b.up), ...order.filter((b) => !b.up)];
  };

  const forward = (client: net.Socket) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const tries = candidates();
    const attempt = (i: number) => {
      const b = tries[i];
      if (!b || client.destroyed) {
        log.warn('No backend reachable; closing the connection', { remote: client.remoteAddress });
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: b.host, port: b.port });
      upstream.setNoDelay(true);
      const onConnectError = (err: Error) => {
        mark(b, false, err.message);
        upstream.destroy();
        attempt(i + 1);
      };
      upstream.once('error', onConnectError);
      upstream.once('connect', () => {
        upstream.off('error', onConnectError);
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  };

  const server = net.createServer({ noDelay: true }, forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort, opts.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  log.info('Balancing the apiservers', { address: opts.listenHost, port, backends: backends.map(key) });
  return {
    port,
    healthy: () => backends.filter((b) => b.up).map(key),
    backends: () => backends.map(key),
    setDiscovered: (list) => {
      if (stopping) return;
      const want = new Set(list.map(key));
      for (let i = backends.length - 1; i >= 0; i--) {
        const b = backends[i]!;
        if (!b.discovered || want.has(key(b))) continue;
        clearInterval(b.timer);
        backends.splice(i, 1);
        log.info('Removed a backend that left the control plane', { backend: key(b) });
      }
      const have = new Set(backends.map(key));
      for (const d of list) {
        if (have.has(key(d))) continue;
        const b: BackendState = { ...d, discovered: true, up: false, checked: false };
        backends.push(b);
        have.add(key(b));
        log.info('Added a backend that joined the control plane', { backend: key(b) });
        void check(b);
        b.timer = setInterval(() => void check(b), interval);
      }
    },
    stop: async () => {
      if (stopping) return;
      stopping = true;
      for (const b of backends) clearInterval(b.timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** parseBackend reads host:port (an IPv6 host in brackets). */
export function parseBackend(s: string): Backend {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid backend "${s}": want host:port`);
  return { host: m[1]!, port };
}
