// The apiserver as a function: startAPIServer builds the storage, the watch cache, the registry
// and the HTTPS server from checked options and serves until its signal aborts. main.ts turns
// flags into these options for the skiff-apiserver process; the test kit (kit/) calls it
// directly to run an apiserver inside a test process.

import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { builtinResources } from '../lib/api/index.js';
import type { Logger } from '../lib/log.js';
import { isNotFound } from '../lib/machinery/status.js';
import { retryStartupStep } from './startup.js';
import { Histogram, newMetricsRegistry, type Registry } from '../lib/metrics.js';
import { admissionHooksFor, validatingAdmission } from './admission/index.js';
import { Auditor } from './audit/audit.js';
import type { Policy } from './audit/policy.js';
import type { AuditLogOptions } from './audit/writer.js';
import { Authenticator } from './auth/authn.js';
import { type AuthorizationMode, defaultAuthorizationModes } from './auth/authz.js';
import { buildAuthorization } from './auth/modes.js';
import { BootstrapTokenAuthenticator } from './auth/bootstrap.js';
import { secrets } from '../lib/api/core/secret.js';
import type { TokenSecret } from '../lib/bootstraptoken.js';
import { objectKey } from './registry/keys.js';
import { defaultIssuer } from './auth/serviceaccount/claims.js';
import { oidcDocuments } from './auth/serviceaccount/oidc.js';
import { ephemeralServiceAccountKeys, ServiceAccountTokenAuthenticator, TokenSigner, type BindingGetter, type ServiceAccountKeys } from './auth/serviceaccount/tokens.js';
import { bootstrap } from './bootstrap.js';
import { CRDController } from './crd/controller.js';
import { OpenAPIV2Service } from './openapi/v2.js';
import { newFieldValidator, newOpenAPIProvider } from './openapi-wiring.js';
import { decodeKubeProtobuf } from './protobuf/decode.js';
import { APIRegistry } from './registry/registry.js';
import { NodeMetricsStore, PodMetricsStore } from './metrics/store.js';
import { kubeletFetcher, ResourceMetricsScraper } from './metrics/scraper.js';
import type { Node } from '../lib/api/core/node.js';
import { ServiceAllocator, firstServiceIP, parseCIDR } from './registry/services.js';
import { createAPIServer, versionInfo } from './server.js';
import type { WorkerRole } from './workers.js';
import { WatchCache } from './storage/cacher.js';
import { EtcdStorage, type EtcdTLS } from './storage/etcd.js';
import { ResourceTransformers, type EncryptionConfiguration } from './storage/encryption.js';
import type { Storage } from './storage/interface.js';
import { MemoryStorage } from './storage/memory.js';

/** storageBackends are the values --storage-backend takes. */
export const storageBackends = ['etcd3', 'memory'] as const;

/** StorageBackend is one of storageBackends. */
export type StorageBackend = (typeof storageBackends)[number];

/** APIServerOptions are an apiserver's settings, already checked (main.ts checks the flags). */
export interface APIServerOptions {
  storageBackend: StorageBackend;
  /** etcdServers are etcd client URLs, for storageBackend etcd3. */
  etcdServers: string[];
  /** etcdTLS is etcd's CA and the client certificate etcd asks for (--etcd-cafile, --etcd-certfile, --etcd-keyfile). */
  etcdTLS?: EtcdTLS;
  /** encryption is the --encryption-provider-config: which resources are encrypted at rest, and how. */
  encryption?: EncryptionConfiguration;
  /** audit is the --audit-policy-file's policy and the --audit-log-* settings; no audit log when undefined. */
  audit?: { policy: Policy; log: Omit<AuditLogOptions, 'log'> };
  bindAddress: string;
  /** port to serve HTTPS on; 0 lets the kernel pick one (see RunningAPIServer.port). */
  port: number;
  advertiseAddress: string;
  /** endpointPort is the port the `kubernetes` Endpoints publish (default: port): a load balancer's, in front of several apiservers. */
  endpointPort?: number;
  /** tls holds PEM text: the serving certificate, its key, and the CA of client certificates. */
  tls: { cert: Buffer; key: Buffer; ca: Buffer };
  /** tokenAuthFile is a CSV of bearer tokens (token,user,uid,"groups"), or undefined for none. */
  tokenAuthFile?: string;
  /** authorizationModes is --authorization-mode (default Node,RBAC). */
  authorizationModes?: AuthorizationMode[];
  serviceClusterIPRange: string;
  nodePortRange: { min: number; max: number };
  /** compactionIntervalMs is the time between store compactions (0 disables). */
  compactionIntervalMs: number;
  watchCacheSize: number;
  /** metricResolutionMs is how often metrics.k8s.io reads the kubelets (--metric-resolution, default 15 s as metrics-server). */
  metricResolutionMs?: number;
  limits: { maxRequestsInflight: number; maxMutatingRequestsInflight: number; requestTimeoutMs: number };
  /** kubelet is the client certificate (and the kubelets' CA) for proxying pods/log, exec, attach, portforward and nodes/proxy. */
  kubelet?: { cert: Buffer; key: Buffer; ca?: Buffer };
  /**
   * serviceAccount signs and verifies service-account tokens (--service-account-signing-key-file,
   * --service-account-key-file, --service-account-issuer, --api-audiences). Without it a key
   * pair is made in memory: tokens then die with the process.
   */
  serviceAccount?: ServiceAccountOptions;
  /** disabledAdmissionPlugins are --disable-admission-plugins (ServiceAccount, LimitRanger, ResourceQuota). */
  disabledAdmissionPlugins?: string[];
  log: Logger;
  /** metrics is the registry /metrics serves (default: a new one with the process's default metrics). */
  metrics?: Registry;
  /** storageStartAttempts bounds the first list (etcd may still be starting), 500 ms apart. */
  storageStartAttempts?: number;
  /** worker is this process's place among --apiserver-workers (apiserver/workers.ts); undefined when it serves alone. */
  worker?: WorkerRole;
}

/** ServiceAccountOptions are the service-account token settings of an apiserver. */
export interface ServiceAccountOptions {
  keys: ServiceAccountKeys;
  /** issuer is the tokens' `iss` (default https://kubernetes.default.svc.cluster.local). */
  issuer?: string;
  /** apiAudiences are the audiences the apiserver accepts (default: the issuer). */
  apiAudiences?: string[];
  /** jwksURI overrides the jwks_uri of the discovery document (--service-account-jwks-uri). */
  jwksURI?: string;
}

/** RunningAPIServer is a started apiserver. */
export interface RunningAPIServer {
  /** port is the port it serves on (the kernel's pick when options.port was 0). */
  port: number;
  server: https.Server;
  metrics: Registry;
  /** stop closes the server and every connection, then the watch cache and the storage. */
  stop(): Promise<void>;
}

/** StorageUnreachableError says the first list from the storage kept failing. */
export class StorageUnreachableError extends Error {
  override name = 'StorageUnreachableError';
}

/**
 * startAPIServer starts an apiserver and resolves once it listens and serves every existing
 * CRD's resources. It stops when signal aborts (or stop() is called); a listen error rejects.
 */
export async function startAPIServer(opts: APIServerOptions, signal?: AbortSignal): Promise<RunningAPIServer> {
  const { log } = opts;
  const cidr = parseCIDR(opts.serviceClusterIPRange);
  const metrics = opts.metrics ?? newMetricsRegistry('apiserver');
  const etcdLatency = new Histogram({ name: 'etcd_request_duration_seconds', help: 'etcd request latency by operation.', labelNames: ['operation'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [metrics] });

  const memory = opts.storageBackend === 'memory';
  if (memory) log.warn('Storing everything in memory: it is lost when the apiserver exits', { storageBackend: 'memory' });
  const storage: Storage = memory ? new MemoryStorage() : new EtcdStorage({
    endpoints: opts.etcdServers,
    tls: opts.etcdTLS,
    transformer: opts.encryption ? new ResourceTransformers(opts.encryption) : undefined,
    log,
  });
  instrumentStorage(storage, etcdLatency);
  const cache = new WatchCache(storage, log, { capacity: opts.watchCacheSize, metrics });
  // Everything started below stops through this one controller, whoever asks first.
  const lifetime = new AbortController();
  // etcd may still be starting: retry the first list for a while.
  const attempts = opts.storageStartAttempts ?? 60;
  for (let attempt = 0; ; attempt++) {
    try {
      await cache.start();
      break;
    } catch (err) {
      if (attempt >= attempts || signal?.aborted) {
        await storage.close().catch(() => undefined);
        throw new StorageUnreachableError('Could not reach etcd', { cause: err });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const registry = new APIRegistry(storage, cache);
  const allocator = new ServiceAllocator(storage, cidr, { min: opts.nodePortRange.min, max: opts.nodePortRange.max });
  const disabled = new Set(opts.disabledAdmissionPlugins ?? []);
  const authz = buildAuthorization(opts.authorizationModes ?? defaultAuthorizationModes);
  registry.validating = validatingAdmission(registry, { disabled, log });
  for (const def of builtinResources) registry.add(def, def.group === '' && def.plural === 'services' ? allocator : (authz.hooksFor(def) ?? admissionHooksFor(def, registry, { disabled })));
  // metrics.k8s.io: the apiserver plays metrics-server, from the kubelets' /metrics/resource.
  const metricsScraper = new ResourceMetricsScraper({
    listNodes: async () => (await registry.lookup('', 'v1', 'nodes')!.list({ predicate: () => true, selectorActive: false, resourceVersion: '0' })).items as Node[],
    fetch: opts.kubelet ? kubeletFetcher(opts.kubelet) : async () => Promise.reject(new Error('the apiserver has no kubelet client certificate')),
    intervalMs: opts.metricResolutionMs,
    log,
  });
  registry.register(new NodeMetricsStore(registry, metricsScraper));
  registry.register(new PodMetricsStore(registry, metricsScraper));
  await authz.start(registry, log);
  lifetime.signal.addEventListener('abort', () => authz.stop(), { once: true });
  // Among several workers the leader alone bootstraps; the others listen once it has.
  if (!opts.worker || opts.worker.leader) {
    await retryStartupStep('bootstrap', () => bootstrap(registry, { serviceIP: firstServiceIP(cidr), advertiseAddress: opts.advertiseAddress, port: opts.endpointPort ?? opts.port, log, signal: lifetime.signal }), log);
  }
  // CustomResourceDefinitions: serve every existing CRD's resources before taking requests.
  const crdController = new CRDController(registry, { log });
  await crdController.start();
  metricsScraper.start();

  const saKeys = opts.serviceAccount?.keys ?? ephemeralServiceAccountKeys();
  if (!opts.serviceAccount) log.warn('No service account signing key: using one kept in memory; tokens end with this process', {});
  const issuer = opts.serviceAccount?.issuer ?? defaultIssuer;
  const apiAudiences = opts.serviceAccount?.apiAudiences?.length ? opts.serviceAccount.apiAudiences : [issuer];
  const saTokens = await ServiceAccountTokenAuthenticator.create(saKeys, issuer, apiAudiences, registryBindingGetter(registry));

  const openapi = newOpenAPIProvider(registry);
  const auditor = !opts.audit ? undefined
    : opts.worker ? new Auditor(opts.audit.policy, opts.worker.auditSink, decodeKubeProtobuf)
    : Auditor.toFile(opts.audit.policy, { ...opts.audit.log, log }, decodeKubeProtobuf);
  const server = createAPIServer({
    auditor,
    registry,
    authenticator: new Authenticator(
      opts.tokenAuthFile,
      new BootstrapTokenAuthenticator((ns, name) => cache.get(objectKey(secrets, ns, name)) as TokenSecret | undefined, log),
      saTokens,
    ),
    tokenSigner: new TokenSigner(saKeys, issuer, apiAudiences),
    oidc: await oidcDocuments(issuer, saKeys, `${opts.advertiseAddress}:${opts.port}`, opts.serviceAccount?.jwksURI),
    authorizer: authz.authorizer,
    rules: authz.rules,
    log,
    metrics,
    tls: opts.tls,
    advertiseAddress: opts.advertiseAddress,
    port: opts.port,
    protobuf: decodeKubeProtobuf,
    fieldValidator: newFieldValidator(),
    openapi,
    openapiV2: new OpenAPIV2Service(openapi, { title: 'Kubernetes', version: versionInfo.gitVersion }),
    limits: opts.limits,
    kubelet: opts.kubelet,
    workerId: opts.worker ? String(opts.worker.index) : undefined,
    metricsText: opts.worker?.metricsText,
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

  // Compact the store (etcd or memory) to the revision seen one interval ago, so history is always
  // at least one interval deep and the memory backend's history stays bounded.
  let previous = 0;
  const compactor = opts.compactionIntervalMs > 0 ? setInterval(async () => {
    try {
      const now = await storage.currentRevision();
      if (previous > 0) {
        await storage.compact(previous);
        log.v(2).info('Compacted the store', { revision: previous, storageBackend: opts.storageBackend });
      }
      previous = now;
    } catch (err) {
      log.warn('Compaction failed', { err: err as Error });
    }
  }, opts.compactionIntervalMs) : undefined;

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      lifetime.abort();
      if (compactor) clearInterval(compactor);
      // Closing waits for open connections; closeAllConnections ends them, and a stuck one is
      // not waited on for long.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      crdController.stop();
      metricsScraper.stop();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      await cache.stop();
      await storage.close();
      auditor?.stop();
    })());
  signal?.addEventListener('abort', () => void stop(), { once: true });

  try {
    await opts.worker?.beforeListen();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  log.info('Serving securely', { address: opts.bindAddress, port });
  return { port, server, metrics, stop };
}

/**
 * registryBindingGetter reads the objects tokens are bound to from the registry: from the watch
 * cache, or from storage when asked for a live read.
 */
function registryBindingGetter(registry: APIRegistry): BindingGetter {
  const read = (resource: string) => async (namespace: string, name: string, live: boolean) => {
    const store = registry.lookup('', 'v1', resource);
    if (!store) return undefined;
    try {
      return await store.get(namespace, name, live ? undefined : '0');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return { serviceAccount: read('serviceaccounts'), pod: read('pods'), secret: read('secrets') };
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

