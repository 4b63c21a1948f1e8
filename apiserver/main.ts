#!/usr/bin/env node
// skiff-apiserver: REST + watch over etcd for every declared resource. Flags follow kube-apiserver.

import { readFileSync } from 'node:fs';
import { newLogger } from '../lib/log.js';
import { newMetricsRegistry, Histogram } from '../lib/metrics.js';
import { parseFlags, usage, FlagError, type FlagSpec } from '../lib/flags.js';
import { builtinResources } from '../lib/api/index.js';
import { EtcdStorage } from './storage/etcd.js';
import { MemoryStorage } from './storage/memory.js';
import { WatchCache } from './storage/cacher.js';
import type { Storage } from './storage/interface.js';
import { APIRegistry } from './registry/registry.js';
import { ServiceAllocator, parseCIDR, firstServiceIP } from './registry/services.js';
import { Authenticator } from './auth/authn.js';
import { AuthenticatedAuthorizer } from './auth/authz.js';
import { createAPIServer, versionInfo } from './server.js';
import { parseGoDuration } from './endpoints/options.js';
import { CRDController } from './crd/controller.js';
import { bootstrap } from './bootstrap.js';
import { admissionHooksFor } from './admission/index.js';
import { decodeKubeProtobuf } from './protobuf/decode.js';
import { newFieldValidator, newOpenAPIProvider } from './openapi-wiring.js';
import { OpenAPIV2Service } from './openapi/v2.js';

const flagSpecs: FlagSpec[] = [
  { name: 'storage-backend', description: "The storage backend for persistence. Options: 'etcd3' (default), 'memory' (kept in this process, no etcd needed; everything is lost when the apiserver exits: for tests and throwaway clusters).", default: 'etcd3' },
  { name: 'etcd-servers', description: 'Comma-separated etcd client URLs (with --storage-backend=etcd3).', default: 'http://127.0.0.1:2379' },
  { name: 'bind-address', description: 'Address to listen on for HTTPS.', default: '0.0.0.0' },
  { name: 'secure-port', description: 'Port to serve HTTPS on.', default: '6443' },
  { name: 'advertise-address', description: 'Address published in the kubernetes Endpoints and discovery.', default: '127.0.0.1' },
  { name: 'tls-cert-file', description: 'Serving certificate (PEM).' },
  { name: 'tls-private-key-file', description: 'Serving certificate key (PEM).' },
  { name: 'client-ca-file', description: 'CA bundle that signs client certificates (PEM).' },
  { name: 'kubelet-client-certificate', description: 'Path to a client certificate file for TLS to kubelets (pods/log, pods/exec, pods/attach, pods/portforward, nodes/proxy).' },
  { name: 'kubelet-client-key', description: 'Path to a client key file for TLS to kubelets.' },
  { name: 'kubelet-certificate-authority', description: "Path to a cert file for the certificate authority of kubelets' serving certificates." },
  { name: 'token-auth-file', description: 'CSV of bearer tokens: token,user,uid,"group1,group2".' },
  { name: 'service-cluster-ip-range', description: 'CIDR ClusterIPs are allocated from.', default: '10.96.0.0/12' },
  { name: 'service-node-port-range', description: 'Range NodePorts are allocated from.', default: '30000-32767' },
  { name: 'etcd-compaction-interval', description: 'Seconds between etcd compactions (0 disables).', default: '300' },
  { name: 'watch-cache-size', description: 'Events the watch cache keeps for watches that resume from an older resourceVersion.', default: process.env.SKIFF_WATCH_CACHE_SIZE ?? '50000' },
  { name: 'max-requests-inflight', description: 'The maximum number of non-mutating requests in flight at a given time; beyond it the server answers 429. Zero for no limit.', default: '400' },
  { name: 'max-mutating-requests-inflight', description: 'The maximum number of mutating requests in flight at a given time; beyond it the server answers 429. Zero for no limit.', default: '200' },
  { name: 'request-timeout', description: 'How long a non-long-running request may take, body included, before the server answers 504 and closes it (a Go duration).', default: '1m0s' },
  { name: 'v', description: 'Log verbosity (0-5).', default: '0' },
];

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseFlags(process.argv.slice(2), flagSpecs);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${err.message}\n\n${usage('skiff-apiserver', 'The skiff API server.', flagSpecs)}`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(usage('skiff-apiserver', 'The skiff API server: Kubernetes REST and watch over etcd (or, with --storage-backend=memory, over a store in its own memory that is lost on exit), HTTPS only.', flagSpecs));
    return;
  }
  const f = parsed.values;
  const log = newLogger('apiserver', Number(f.v));
  for (const required of ['tls-cert-file', 'tls-private-key-file', 'client-ca-file']) {
    if (!f[required]) {
      log.error('Missing required flag', { flag: required });
      process.exit(2);
    }
  }
  const [pmin, pmax] = f['service-node-port-range'].split('-').map(Number);
  if (!(pmin > 0 && pmax >= pmin && pmax < 65536)) {
    log.error('Invalid --service-node-port-range', { value: f['service-node-port-range'] });
    process.exit(2);
  }
  const limits = {
    maxRequestsInflight: Number(f['max-requests-inflight']),
    maxMutatingRequestsInflight: Number(f['max-mutating-requests-inflight']),
    requestTimeoutMs: parseGoDuration(f['request-timeout']) ?? NaN,
  };
  for (const [flag, value] of [['max-requests-inflight', limits.maxRequestsInflight], ['max-mutating-requests-inflight', limits.maxMutatingRequestsInflight], ['request-timeout', limits.requestTimeoutMs]] as const) {
    if (!Number.isInteger(value) || value < 0) {
      log.error(`Invalid --${flag}`, { value: f[flag] });
      process.exit(2);
    }
  }
  const cidr = parseCIDR(f['service-cluster-ip-range']);
  const port = Number(f['secure-port']);
  const metrics = newMetricsRegistry('apiserver');
  const etcdLatency = new Histogram({ name: 'etcd_request_duration_seconds', help: 'etcd request latency by operation.', labelNames: ['operation'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [metrics] });

  const storageBackends = ['etcd3', 'memory'];
  if (!storageBackends.includes(f['storage-backend'])) {
    log.error(`--storage-backend invalid, allowed values: ${storageBackends.join(', ')}. If not specified, it will default to 'etcd3'`, { value: f['storage-backend'] });
    process.exit(2);
  }
  const memory = f['storage-backend'] === 'memory';
  if (memory) log.warn('Storing everything in memory: it is lost when the apiserver exits', { storageBackend: 'memory' });
  const storage: Storage = memory ? new MemoryStorage() : new EtcdStorage({ endpoints: f['etcd-servers'].split(',').map((s) => s.trim()).filter(Boolean), log });
  instrumentStorage(storage, etcdLatency);
  const cache = new WatchCache(storage, log, { capacity: Number(f['watch-cache-size']), metrics });
  // etcd may still be starting: retry the first list for a while.
  for (let attempt = 0; ; attempt++) {
    try {
      await cache.start();
      break;
    } catch (err) {
      if (attempt >= 60) {
        log.error('Could not reach etcd', { err: err as Error });
        process.exit(1);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const registry = new APIRegistry(storage, cache);
  const allocator = new ServiceAllocator(storage, cidr, { min: pmin, max: pmax });
  for (const def of builtinResources) registry.add(def, def.group === '' && def.plural === 'services' ? allocator : admissionHooksFor(def, registry));
  await bootstrap(registry, { serviceIP: firstServiceIP(cidr), advertiseAddress: f['advertise-address'], port, log });
  // CustomResourceDefinitions: serve every existing CRD's resources before taking requests.
  const crdController = new CRDController(registry, { log });
  await crdController.start();

  const openapi = newOpenAPIProvider(registry);
  const server = createAPIServer({
    registry,
    authenticator: new Authenticator(f['token-auth-file'] || undefined),
    authorizer: new AuthenticatedAuthorizer(),
    log,
    metrics,
    tls: { cert: readFileSync(f['tls-cert-file']), key: readFileSync(f['tls-private-key-file']), ca: readFileSync(f['client-ca-file']) },
    advertiseAddress: f['advertise-address'],
    port,
    protobuf: decodeKubeProtobuf,
    fieldValidator: newFieldValidator(),
    openapi,
    openapiV2: new OpenAPIV2Service(openapi, { title: 'Kubernetes', version: versionInfo.gitVersion }),
    limits,
    kubelet: f['kubelet-client-certificate'] && f['kubelet-client-key']
      ? {
          cert: readFileSync(f['kubelet-client-certificate']),
          key: readFileSync(f['kubelet-client-key']),
          ca: f['kubelet-certificate-authority'] ? readFileSync(f['kubelet-certificate-authority']) : undefined,
        }
      : undefined,
    readyChecks: {
      // kube-apiserver names this check etcd whatever the backend.
      etcd: async () => {
        try {
          await storage.currentRevision();
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
      'watch-cache': async () => (cache.ready ? undefined : 'watch cache is not initialized'),
    },
  });
  server.listen(port, f['bind-address'], () => log.info('Serving securely', { address: f['bind-address'], port }));
  server.on('error', (err) => {
    log.error('Server failed', { err });
    process.exit(1);
  });

  // Compact the store (etcd or memory) to the revision seen one interval ago, so history is always
  // at least one interval deep and the memory backend's history stays bounded.
  const interval = Number(f['etcd-compaction-interval']) * 1000;
  let previous = 0;
  const compactor = interval > 0 ? setInterval(async () => {
    try {
      const now = await storage.currentRevision();
      if (previous > 0) {
        await storage.compact(previous);
        log.v(2).info('Compacted the store', { revision: previous, storageBackend: f['storage-backend'] });
      }
      previous = now;
    } catch (err) {
      log.warn('Compaction failed', { err: err as Error });
    }
  }, interval) : undefined;

  const shutdown = async (signal: string) => {
    log.info('Shutting down', { signal });
    if (compactor) clearInterval(compactor);
    server.close();
    server.closeAllConnections?.();
    crdController.stop();
    await cache.stop();
    await storage.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** instrumentStorage records etcd latency per operation without the storage knowing about metrics. */
function instrumentStorage(storage: Storage, hist: Histogram<'operation'>): void {
  for (const op of ['create', 'get', 'list', 'count', 'guaranteedUpdate', 'delete', 'currentRevision'] as const) {
    const orig = (storage[op] as (...a: unknown[]) => Promise<unknown>).bind(storage);
    (storage as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
      const end = hist.startTimer({ operation: op });
      try {
        return await orig(...args);
      } finally {
        end();
      }
    };
  }
}

main().catch((err) => {
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'error', component: 'apiserver', msg: 'Fatal', err: String(err?.stack ?? err) }) + '\n');
  process.exit(1);
});
