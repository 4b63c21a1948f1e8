#!/usr/bin/env node
// skiff-apiserver: REST + watch over etcd for every declared resource. Flags follow kube-apiserver.

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { newMetricsRegistry } from '../lib/metrics.js';
import { defaultWorkerCount, isWorker, joinPrimary, runPrimary, type WorkerRole } from './workers.js';
import { newLogger } from '../lib/log.js';
import { parseFlags, usage, FlagError, type FlagSpec } from '../lib/flags.js';
import { parseCIDR } from './registry/services.js';
import { setDeleteCollectionWorkers } from './registry/store.js';
import { parseGoDuration } from './endpoints/options.js';
import { parsePolicy, type Policy } from './audit/policy.js';
import { parseEncryptionConfig, type EncryptionConfiguration } from './storage/encryption.js';
import { disableablePlugins } from './admission/index.js';
import { ephemeralServiceAccountKeys, loadServiceAccountKeys, ServiceAccountKeyError } from './auth/serviceaccount/tokens.js';
import { type RunningAPIServer, type StorageBackend, StorageUnreachableError, startAPIServer, storageBackends } from './app.js';
import { parseAuthorizationModes } from './auth/authz.js';

const flagSpecs: FlagSpec[] = [
  { name: 'storage-backend', description: "The storage backend for persistence. Options: 'etcd3' (default), 'memory' (kept in this process, no etcd needed; everything is lost when the apiserver exits: for tests and throwaway clusters).", default: 'etcd3' },
  { name: 'etcd-servers', description: 'Comma-separated etcd client URLs (with --storage-backend=etcd3).', default: 'http://127.0.0.1:2379' },
  { name: 'etcd-cafile', description: 'SSL Certificate Authority file used to secure etcd communication.' },
  { name: 'etcd-certfile', description: 'SSL certification file used to secure etcd communication.' },
  { name: 'etcd-keyfile', description: 'SSL key file used to secure etcd communication.' },
  { name: 'encryption-provider-config', description: 'The file containing configuration for encryption providers to be used for storing secrets in etcd.' },
  { name: 'audit-policy-file', description: 'Path to the file that defines the audit policy configuration.' },
  { name: 'audit-log-path', description: "If set, all requests coming to the apiserver will be logged to this file. '-' means standard out." },
  { name: 'audit-log-maxsize', description: 'The maximum size in megabytes of the audit log file before it gets rotated (0: never).', default: '0' },
  { name: 'audit-log-maxbackup', description: 'The maximum number of old audit log files to retain (0: all).', default: '0' },
  { name: 'bind-address', description: 'Address to listen on for HTTPS.', default: '0.0.0.0' },
  { name: 'secure-port', description: 'Port to serve HTTPS on.', default: '6443' },
  { name: 'advertise-address', description: 'Address published in the kubernetes Endpoints and discovery.', default: '127.0.0.1' },
  { name: 'endpoint-port', description: 'Port published in the kubernetes Endpoints (default: --secure-port); skiff sets it to its load balancer\'s port when several apiservers run behind one.', default: '' },
  { name: 'tls-cert-file', description: 'Serving certificate (PEM).' },
  { name: 'tls-private-key-file', description: 'Serving certificate key (PEM).' },
  { name: 'client-ca-file', description: 'CA bundle that signs client certificates (PEM).' },
  { name: 'kubelet-client-certificate', description: 'Path to a client certificate file for TLS to kubelets (pods/log, pods/exec, pods/attach, pods/portforward, nodes/proxy).' },
  { name: 'kubelet-client-key', description: 'Path to a client key file for TLS to kubelets.' },
  { name: 'kubelet-certificate-authority', description: "Path to a cert file for the certificate authority of kubelets' serving certificates." },
  { name: 'token-auth-file', description: 'CSV of bearer tokens: token,user,uid,"group1,group2".' },
  { name: 'authorization-mode', description: 'Ordered list of plug-ins to do authorization on secure port: AlwaysAllow, AlwaysDeny, Node, RBAC.', default: 'Node,RBAC' },
  { name: 'service-account-signing-key-file', description: 'Path to the file that contains the current private key of the service account token issuer (PEM, RSA or ECDSA). Without it a key is made in memory and tokens end with the process.' },
  { name: 'service-account-key-file', description: 'Comma-separated PEM files of public (or private) keys that verify service account tokens; the signing key always verifies.' },
  { name: 'service-account-issuer', description: 'Identifier of the service account token issuer: the iss claim of issued tokens, and the only issuer accepted.', default: 'https://kubernetes.default.svc.cluster.local' },
  { name: 'service-account-jwks-uri', description: 'Overrides the URI for the JSON Web Key Set in the discovery doc served at /.well-known/openid-configuration.' },
  { name: 'api-audiences', description: 'Comma-separated identifiers of the API: tokens must carry one of them; TokenRequests that name none get them. Defaults to the issuer.' },
  { name: 'disable-admission-plugins', description: 'Comma-separated admission plugins to turn off, of: ServiceAccount, LimitRanger, ResourceQuota.' },
  { name: 'enable-admission-plugins', description: 'Comma-separated admission plugins to turn on (all of ServiceAccount, LimitRanger, ResourceQuota are on by default).' },
  { name: 'service-cluster-ip-range', description: 'CIDR ClusterIPs are allocated from.', default: '10.96.0.0/12' },
  { name: 'service-node-port-range', description: 'Range NodePorts are allocated from.', default: '30000-32767' },
  { name: 'etcd-compaction-interval', description: 'Seconds between etcd compactions (0 disables).', default: '300' },
  { name: 'watch-cache-size', description: 'Events the watch cache keeps for watches that resume from an older resourceVersion.', default: process.env.SKIFF_WATCH_CACHE_SIZE ?? '50000' },
  { name: 'max-requests-inflight', description: 'The maximum number of non-mutating requests in flight at a given time; beyond it the server answers 429. Zero for no limit.', default: '400' },
  { name: 'max-mutating-requests-inflight', description: 'The maximum number of mutating requests in flight at a given time; beyond it the server answers 429. Zero for no limit.', default: '200' },
  { name: 'metric-resolution', description: "How often metrics.k8s.io reads every kubelet's /metrics/resource (metrics-server's flag; a Go duration).", default: '15s' },
  { name: 'delete-collection-workers', description: 'Number of workers spawned for DeleteCollection call. These are used to speed up namespace cleanup.', default: '16' },
  { name: 'request-timeout', description: 'How long a non-long-running request may take, body included, before the server answers 504 and closes it (a Go duration).', default: '1m0s' },
  { name: 'apiserver-workers', description: 'Number of apiserver processes serving the port, each with its own etcd client and watch cache (skiff\'s own flag; 1 serves from this one process). Defaults to min(2, cores) with --storage-backend=etcd3, 1 with memory.', default: '' },
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
  let log = newLogger('apiserver', Number(f.v));
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
  parseCIDR(f['service-cluster-ip-range']);
  if (!(storageBackends as readonly string[]).includes(f['storage-backend'])) {
    log.error(`--storage-backend invalid, allowed values: ${storageBackends.join(', ')}. If not specified, it will default to 'etcd3'`, { value: f['storage-backend'] });
    process.exit(2);
  }
  const etcdFiles = ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile'].filter((flag) => f[flag]);
  if (etcdFiles.length > 0 && etcdFiles.length < 3) {
    log.error('--etcd-cafile, --etcd-certfile and --etcd-keyfile go together', { given: etcdFiles.join(',') });
    process.exit(2);
  }
  let encryption: EncryptionConfiguration | undefined;
  if (f['encryption-provider-config']) {
    try {
      encryption = parseEncryptionConfig(readFileSync(f['encryption-provider-config'], 'utf8'));
    } catch (err) {
      log.error('Invalid --encryption-provider-config', { file: f['encryption-provider-config'], err: err as Error });
      process.exit(2);
    }
  }
  let audit: { policy: Policy; log: { path: string; maxSizeMB: number; maxBackups: number } } | undefined;
  for (const flag of ['audit-log-maxsize', 'audit-log-maxbackup']) {
    if (!/^\d+$/.test(f[flag])) {
      log.error(`Invalid --${flag}`, { value: f[flag] });
      process.exit(2);
    }
  }
  if (f['audit-policy-file'] && f['audit-log-path']) {
    try {
      audit = {
        policy: parsePolicy(readFileSync(f['audit-policy-file'], 'utf8')),
        log: { path: f['audit-log-path'], maxSizeMB: Number(f['audit-log-maxsize']), maxBackups: Number(f['audit-log-maxbackup']) },
      };
    } catch (err) {
      log.error('Invalid --audit-policy-file', { file: f['audit-policy-file'], err: err as Error });
      process.exit(2);
    }
  }
  let authorizationModes;
  try {
    authorizationModes = parseAuthorizationModes(f['authorization-mode']);
  } catch (err) {
    log.error('Invalid --authorization-mode', { value: f['authorization-mode'], err: (err as Error).message });
    process.exit(2);
  }
  const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const disabledAdmissionPlugins = list(f['disable-admission-plugins']);
  for (const p of list(f['enable-admission-plugins'])) {
    if (!(disableablePlugins as readonly string[]).includes(p)) {
      log.error('Invalid --enable-admission-plugins: skiff knows only these optional plugins', { plugin: p, allowed: disableablePlugins.join(',') });
      process.exit(2);
    }
  }
  for (const p of disabledAdmissionPlugins) {
    if (!(disableablePlugins as readonly string[]).includes(p)) {
      log.error('Invalid --disable-admission-plugins: skiff can turn off only these plugins', { plugin: p, allowed: disableablePlugins.join(',') });
      process.exit(2);
    }
  }
  let serviceAccountKeys;
  if (f['service-account-signing-key-file']) {
    try {
      serviceAccountKeys = loadServiceAccountKeys(f['service-account-signing-key-file'], list(f['service-account-key-file']));
    } catch (err) {
      log.error('Invalid service account keys', { err: err instanceof ServiceAccountKeyError ? err.message : (err as Error) });
      process.exit(2);
    }
  } else if (f['service-account-key-file']) {
    log.error('--service-account-key-file needs --service-account-signing-key-file: skiff issues and verifies tokens with the same keys', {});
    process.exit(2);
  }
  if (!serviceAccountKeys) log.warn('No --service-account-signing-key-file: signing service account tokens with a key kept in memory; they end with this process', {});
  if (!f['service-account-issuer']) {
    log.error('--service-account-issuer must not be empty', {});
    process.exit(2);
  }
  try {
    setDeleteCollectionWorkers(Number(f['delete-collection-workers']));
  } catch (err) {
    log.error('Invalid --delete-collection-workers', { value: f['delete-collection-workers'], err: (err as Error).message });
    process.exit(2);
  }
  let compactionIntervalMs = Number(f['etcd-compaction-interval']) * 1000;
  let metricResolutionMs: number;
  try {
    const ms = parseGoDuration(f['metric-resolution']);
    if (ms === undefined || !(ms >= 1000)) throw new Error('want a duration of at least 1s, such as 15s');
    metricResolutionMs = ms;
  } catch (err) {
    log.error('Invalid --metric-resolution', { value: f['metric-resolution'], err: (err as Error).message });
    process.exit(2);
  }
  const memoryBackend = f['storage-backend'] === 'memory';
  const workers = f['apiserver-workers'] === '' ? (memoryBackend ? 1 : defaultWorkerCount()) : Number(f['apiserver-workers']);
  if (!Number.isInteger(workers) || workers < 1) {
    log.error('Invalid --apiserver-workers: want a whole number of at least 1', { value: f['apiserver-workers'] });
    process.exit(2);
  }
  if (workers > 1 && memoryBackend) {
    log.error('--apiserver-workers above 1 needs --storage-backend=etcd3: each worker would keep a store of its own', { value: workers });
    process.exit(2);
  }
  if (workers > 1 && !isWorker()) {
    // The primary: it serves nothing itself, it holds the port and supervises the workers.
    const ephemeral = serviceAccountKeys ? undefined : ephemeralServiceAccountKeys();
    runPrimary({
      workers,
      log,
      audit: audit?.log,
      serviceAccountKeyPEM: ephemeral?.signingKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    return;
  }
  let worker: WorkerRole | undefined;
  let running: RunningAPIServer | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) =>
    (stopping ??= (async () => {
      log.info('Shutting down', { signal });
      // A stop that hangs must not keep the process (and the port) forever.
      setTimeout(() => process.exit(1), 15_000).unref();
      await running?.stop();
      await worker?.flush();
      process.exit(0);
    })());
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  const metrics = newMetricsRegistry('apiserver');
  if (isWorker()) {
    worker = await joinPrimary(metrics, () => void shutdown('primary gone'));
    log = log.with({ worker: worker.index });
    if (!worker.leader) compactionIntervalMs = 0; // one compactor is enough: the leader's
    if (worker.serviceAccountKeyPEM) {
      const signingKey = createPrivateKey(worker.serviceAccountKeyPEM);
      serviceAccountKeys = { signingKey, publicKeys: [createPublicKey(signingKey)] };
    }
  }
  try {
    running = await startAPIServer({
      storageBackend: f['storage-backend'] as StorageBackend,
      etcdServers: f['etcd-servers'].split(',').map((s) => s.trim()).filter(Boolean),
      etcdTLS: etcdFiles.length === 3 ? { ca: readFileSync(f['etcd-cafile']), cert: readFileSync(f['etcd-certfile']), key: readFileSync(f['etcd-keyfile']) } : undefined,
      encryption,
      audit,
      bindAddress: f['bind-address'],
      port: Number(f['secure-port']),
      advertiseAddress: f['advertise-address'],
      endpointPort: f['endpoint-port'] ? Number(f['endpoint-port']) : undefined,
      tls: { cert: readFileSync(f['tls-cert-file']), key: readFileSync(f['tls-private-key-file']), ca: readFileSync(f['client-ca-file']) },
      tokenAuthFile: f['token-auth-file'] || undefined,
      authorizationModes,
      serviceClusterIPRange: f['service-cluster-ip-range'],
      nodePortRange: { min: pmin!, max: pmax! },
      compactionIntervalMs,
      watchCacheSize: Number(f['watch-cache-size']),
      metricResolutionMs,
      limits,
      kubelet: f['kubelet-client-certificate'] && f['kubelet-client-key']
        ? {
            cert: readFileSync(f['kubelet-client-certificate']),
            key: readFileSync(f['kubelet-client-key']),
            ca: f['kubelet-certificate-authority'] ? readFileSync(f['kubelet-certificate-authority']) : undefined,
          }
        : undefined,
      serviceAccount: { keys: serviceAccountKeys ?? ephemeralServiceAccountKeys(), issuer: f['service-account-issuer'], apiAudiences: list(f['api-audiences']), jwksURI: f['service-account-jwks-uri'] || undefined },
      disabledAdmissionPlugins,
      log,
      metrics,
      worker,
    });
  } catch (err) {
    if (err instanceof StorageUnreachableError) {
      log.error('Could not reach etcd', { err: err.cause as Error });
      process.exit(1);
    }
    log.error('Server failed', { err: err as Error });
    process.exit(1);
  }
  running.server.on('error', (err) => {
    log.error('Server failed', { err });
    process.exit(1);
  });
}

main().catch((err) => {
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'error', component: 'apiserver', msg: 'Fatal', err: String(err?.stack ?? err) }) + '\n');
  process.exit(1);
});
