// serve runs one apiserver process from its checked flags: the whole apiserver when it serves
// alone, or one worker of a primary (workers.ts) that holds the port.

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { newMetricsRegistry } from '../lib/metrics.js';
import { parseCIDR } from './registry/services.js';
import { setDeleteCollectionWorkers } from './registry/store.js';
import { parseGoDuration } from './endpoints/options.js';
import { parsePolicy, type Policy } from './audit/policy.js';
import { parseEncryptionConfig, type EncryptionConfiguration } from './storage/encryption.js';
import { disableablePlugins } from './admission/index.js';
import { ephemeralServiceAccountKeys, loadServiceAccountKeys, ServiceAccountKeyError } from './auth/serviceaccount/tokens.js';
import { type RunningAPIServer, type StorageBackend, StorageUnreachableError, startAPIServer, storageBackends } from './app.js';
import { parseAuthorizationModes } from './auth/authz.js';
import type { Logger } from '../lib/log.js';
import { isWorker, joinPrimary, type WorkerRole } from './workers.js';

/** serve checks the flags (exit 2 on a bad one), starts the apiserver and stops it on SIGTERM or SIGINT. */
export async function serve(f: Record<string, string>, baseLog: Logger): Promise<void> {
  let log = baseLog;
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
