// runComponent is the main() every client process of the cluster shares (controller-manager,
// scheduler, node simulator): Kubernetes-style flags with --help, one structured logger, a
// client from --kubeconfig, an HTTPS server for /healthz /livez /readyz (anonymous, as
// kube-controller-manager allows) and /metrics (client certificate from the cluster CA
// required), Lease leader election when asked, and a clean stop on SIGTERM/SIGINT.
//
// Leader election follows kube-controller-manager: the work starts only once this process holds
// the Lease, and losing it ends the process (exit 1) so a restarted one starts from a clean
// cache instead of acting on a stale one.

import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { RestClient } from '../client/client.js';
import { type ClusterAccess, loadClientConfig } from '../client/kubeconfig.js';
import { type FlagSpec, FlagError, parseFlags, usage } from '../flags.js';
import { defaultIdentity, runLeaderElection } from '../leaderelection/leaderelection.js';
import { type Logger, newLogger } from '../log.js';
import { Registry, newMetricsRegistry } from '../metrics.js';

/** RunContext is what a component's run function gets. */
export interface RunContext {
  flags: Record<string, string>;
  log: Logger;
  metrics: Registry;
  /** kubeConfig is the process's kubeconfig (client-node's KubeConfig when the test kit runs a component in process). */
  kubeConfig: ClusterAccess;
  client: RestClient;
  /** signal aborts when the process is stopping or leadership is lost. */
  signal: AbortSignal;
  /** addReadyCheck adds a /readyz check: it answers undefined when ready, else why not. */
  addReadyCheck(name: string, check: () => string | undefined): void;
  /**
   * addHandler serves path on the health port to clients with a certificate from the cluster CA
   * (as /metrics); it returns the URL it is served at, or undefined when nothing serves (no
   * --secure-port, or in process).
   */
  addHandler(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): string | undefined;
}

/** Handlers are the paths a component added to its health server. */
type Handlers = Map<string, (req: IncomingMessage, res: ServerResponse) => void>;

/** ComponentSpec declares one client process. */
export interface ComponentSpec {
  /** name is the binary's name (skiff-controller-manager) and the log component. */
  name: string;
  summary: string;
  /** flags are the component's own, beside the common ones below. */
  flags: FlagSpec[];
  /** defaultPort is --secure-port's default. */
  defaultPort: number;
  /** leaseName enables --leader-elect (default on) with this Lease in kube-system. */
  leaseName?: string;
  /** userAgent for API requests. */
  userAgent: string;
  /** run does the work; it should return (or reject) once ctx.signal aborts. */
  run(ctx: RunContext): Promise<void>;
}

function commonFlags(spec: ComponentSpec): FlagSpec[] {
  const flags: FlagSpec[] = [
    { name: 'kubeconfig', description: 'Kubeconfig with the apiserver URL and this component\'s credentials.' },
    { name: 'bind-address', description: 'Address to serve /healthz, /readyz and /metrics on.', default: '127.0.0.1' },
    { name: 'secure-port', description: 'HTTPS port for /healthz, /readyz and /metrics (0 disables).', default: String(spec.defaultPort) },
    { name: 'tls-cert-file', description: 'Serving certificate for the health port (PEM).' },
    { name: 'tls-private-key-file', description: 'Key of --tls-cert-file (PEM).' },
    { name: 'client-ca-file', description: 'CA that signs client certificates allowed to read /metrics (PEM).' },
    { name: 'v', description: 'Log verbosity (0-5).', default: '0' },
  ];
  if (spec.leaseName) {
    flags.push(
      { name: 'leader-elect', description: `Hold the kube-system/${spec.leaseName} Lease before acting, so only one replica works at a time.`, default: 'true' },
      { name: 'leader-elect-lease-duration', description: 'Seconds non-leaders wait after the last renewal before taking over.', default: '15' },
      { name: 'leader-elect-renew-deadline', description: 'Seconds the leader retries renewing before it gives up.', default: '10' },
      { name: 'leader-elect-retry-period', description: 'Seconds between leader election attempts.', default: '2' },
    );
  }
  return flags;
}

/** runComponent parses flags and runs spec until SIGTERM; it never returns normally. */
export function runComponent(spec: ComponentSpec): void {
  main(spec).catch((err: unknown) => {
    process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'error', component: spec.name, msg: 'Fatal', err: String((err as Error)?.stack ?? err) }) + '\n');
    process.exit(1);
  });
}

async function main(spec: ComponentSpec): Promise<void> {
  const specs = [...commonFlags(spec), ...spec.flags];
  let parsed;
  try {
    parsed = parseFlags(process.argv.slice(2), specs);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n\n${usage(spec.name, spec.summary, specs)}`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(usage(spec.name, spec.summary, specs));
    process.exit(0);
  }
  const f = parsed.values;
  const log = newLogger(spec.name.replace(/^skiff-/, ''), Number(f.v));
  if (!f.kubeconfig) {
    log.error('Missing required flag', { flag: 'kubeconfig' });
    process.exit(2);
  }
  const kubeConfig = loadClientConfig(f.kubeconfig);
  const client = new RestClient(kubeConfig, { userAgent: spec.userAgent, maxSockets: 32 });
  const metrics = newMetricsRegistry(spec.name.replace(/^skiff-/, ''));

  const stop = new AbortController();
  const readyChecks = new Map<string, () => string | undefined>();
  const handlers: Handlers = new Map();
  const server = serveHealth(f, log, metrics, readyChecks, handlers);

  let exiting = false;
  const shutdown = (signal: string, code: number) => {
    if (exiting) return;
    exiting = true;
    log.info('Shutting down', { signal });
    stop.abort();
    // Give the work (and a Lease release) a moment, then go regardless.
    const t = setTimeout(() => process.exit(code), 3_000);
    t.unref();
    void done.finally(() => {
      server?.close();
      process.exit(code);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));

  // Every controller, informer and queue of the process listens on the same signal.
  setMaxListeners(0, stop.signal);
  const run = (signal: AbortSignal) => {
    setMaxListeners(0, signal);
    return spec.run({
      flags: f,
      log,
      metrics,
      kubeConfig,
      client,
      signal,
      addReadyCheck: (name, check) => readyChecks.set(name, check),
      addHandler: (path, handler) => {
        if (!server) return undefined;
        handlers.set(path, handler);
        const host = ['0.0.0.0', '::', ''].includes(f['bind-address']!) ? '127.0.0.1' : f['bind-address']!;
        return `https://${host.includes(':') ? `[${host}]` : host}:${f['secure-port']}${path}`;
      },
    });
  };

  let done: Promise<void>;
  if (spec.leaseName && f['leader-elect'] !== 'false') {
    const identity = defaultIdentity();
    let leading = false;
    readyChecks.set('leader-election', () => undefined);
    done = runLeaderElection(
      {
        kubeConfig,
        namespace: 'kube-system',
        name: spec.leaseName,
        identity,
        leaseDuration: Number(f['leader-elect-lease-duration']) * 1000,
        renewDeadline: Number(f['leader-elect-renew-deadline']) * 1000,
        retryPeriod: Number(f['leader-elect-retry-period']) * 1000,
        log,
        callbacks: {
          onStartedLeading: async (signal) => {
            leading = true;
            log.info('Started leading', { lease: `kube-system/${spec.leaseName}`, identity });
            try {
              await run(signal);
            } catch (err) {
              if (!signal.aborted) {
                log.error('Work failed', { err: err instanceof Error ? err : String(err) });
                process.exit(1);
              }
            }
          },
          onStoppedLeading: () => {
            if (leading && !stop.signal.aborted) {
              log.error('Leader election lost', { lease: `kube-system/${spec.leaseName}` });
              // Exit without waiting on anything: another replica may already be acting.
              process.exit(1);
            }
          },
          onNewLeader: (holder) => {
            if (holder !== identity) log.info('New leader elected', { holder });
          },
        },
      },
      stop.signal,
    );
  } else {
    done = run(stop.signal);
  }
  await done.catch((err: unknown) => {
    if (!stop.signal.aborted) throw err;
  });
  if (!stop.signal.aborted) {
    log.error('Work ended unexpectedly');
    process.exit(1);
  }
}

/** InProcessOptions start a component inside the calling process (the test kit's way). */
export interface InProcessOptions {
  /** kubeConfig has the apiserver URL and this component's credentials. */
  kubeConfig: ClusterAccess;
  /** args are the component's own flags (`--nodes=3`); the common ones are ignored, unset flags take their defaults. */
  args?: string[];
  log: Logger;
  /** signal stops the component: its run function returns soon after. */
  signal: AbortSignal;
}

/** InProcessComponent is a component started by startComponentInProcess. */
export interface InProcessComponent {
  /** notReady lists the /readyz checks that fail now, as "name: why"; empty once ready (never before the first check is added). */
  notReady(): string[];
  /** done settles when the run function does: it rejects if the work failed before the signal aborted. */
  done: Promise<void>;
}

/**
 * startComponentInProcess runs spec's work in this process without a health server or leader
 * election: the one instance acts at once. It is how the test kit puts the controller manager,
 * scheduler and node simulator beside the apiserver in a test; the processes use runComponent.
 */
export function startComponentInProcess(spec: ComponentSpec, opts: InProcessOptions): InProcessComponent {
  const flags = parseFlags(opts.args ?? [], [...commonFlags(spec), ...spec.flags]).values;
  const readyChecks = new Map<string, () => string | undefined>();
  setMaxListeners(0, opts.signal);
  const done = spec.run({
    flags,
    log: opts.log,
    // Nothing serves these: a bare registry, without the process-wide default metrics and their observers.
    metrics: new Registry(),
    kubeConfig: opts.kubeConfig,
    client: new RestClient(opts.kubeConfig, { userAgent: spec.userAgent, maxSockets: 32 }),
    signal: opts.signal,
    addReadyCheck: (name, check) => readyChecks.set(name, check),
    addHandler: () => undefined,
  }).catch((err: unknown) => {
    if (!opts.signal.aborted) throw err;
  });
  return {
    // No check yet means the run function has not got as far as saying what ready means.
    notReady: () => readyChecks.size === 0 ? ['starting: no readiness checks yet'] : [...readyChecks].flatMap(([name, check]) => {
      const why = check();
      return why === undefined ? [] : [`${name}: ${why}`];
    }),
    done,
  };
}

function serveHealth(f: Record<string, string>, log: Logger, metrics: Registry, readyChecks: Map<string, () => string | undefined>, handlers: Handlers): https.Server | undefined {
  const port = Number(f['secure-port']);
  if (!port) return undefined;
  if (!f['tls-cert-file'] || !f['tls-private-key-file']) {
    log.error('--secure-port needs --tls-cert-file and --tls-private-key-file');
    process.exit(2);
  }
  const server = https.createServer(
    {
      cert: readFileSync(f['tls-cert-file']),
      key: readFileSync(f['tls-private-key-file']),
      ...(f['client-ca-file'] ? { ca: readFileSync(f['client-ca-file']), requestCert: true, rejectUnauthorized: false } : {}),
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const text = (code: number, body: string) => {
        res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
        res.end(body);
      };
      if (path === '/healthz' || path === '/livez') return text(200, 'ok');
      if (path === '/readyz') {
        const failed = [...readyChecks].map(([name, check]) => [name, check()] as const).filter(([, why]) => why !== undefined);
        if (failed.length === 0) return text(200, 'ok');
        return text(500, failed.map(([name, why]) => `[-]${name} failed: ${why}`).join('\n') + '\nreadyz check failed\n');
      }
      if (path === '/metrics') {
        if (!(req.socket as TLSSocket).authorized) return text(401, 'Unauthorized: /metrics needs a client certificate signed by the cluster CA\n');
        void metrics.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': metrics.contentType });
            res.end(body);
          },
          (err: unknown) => text(500, String(err)),
        );
        return;
      }
      const handler = handlers.get(path);
      if (handler) {
        if (!(req.socket as TLSSocket).authorized) return text(401, `Unauthorized: ${path} needs a client certificate signed by the cluster CA\n`);
        return handler(req, res);
      }
      text(404, '404 page not found\n');
    },
  );
  server.listen(port, f['bind-address'], () => log.info('Serving health and metrics', { address: f['bind-address'], port }));
  server.on('error', (err) => {
    log.error('Health server failed', { err });
    process.exit(1);
  });
  return server;
}
