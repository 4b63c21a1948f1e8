#!/usr/bin/env node
// skiff-apiserver: REST + watch over etcd for every declared resource. Flags follow kube-apiserver.
// This file reads the flags and picks the shape: one process that serves (serve.ts), or a
// primary that supervises --apiserver-workers worker processes, each of which serves
// (workers.ts). The primary loads none of the apiserver itself, to stay small.

import { newLogger } from '../lib/log.js';
import { parseFlags, usage, FlagError, type FlagSpec } from '../lib/flags.js';
import { defaultWorkerCount, ephemeralSigningKeyPEM, isWorker, runPrimary } from './workers.js';

/** flagSpecs are skiff-apiserver's flags. */
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
  { name: 'apiserver-workers', description: 'Number of apiserver processes serving the port, each with its own etcd client and watch cache (skiff\'s own flag; 1 serves from this one process). Defaults to 2 on a machine of 4 cores or more, else 1 (and 1 with --storage-backend=memory).', default: '' },
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
    // The primary serves nothing itself: it holds the port and supervises the workers, which
    // check every other flag (a worker that exits 2 on a bad flag ends the primary with 2).
    for (const flag of ['audit-log-maxsize', 'audit-log-maxbackup']) {
      if (!/^\d+$/.test(f[flag]!)) {
        log.error(`Invalid --${flag}`, { value: f[flag] });
        process.exit(2);
      }
    }
    runPrimary({
      workers,
      log,
      audit: f['audit-policy-file'] && f['audit-log-path'] ? { path: f['audit-log-path'], maxSizeMB: Number(f['audit-log-maxsize']), maxBackups: Number(f['audit-log-maxbackup']) } : undefined,
      // Without a key file every worker must still sign and verify with one key: the primary makes it.
      serviceAccountKeyPEM: f['service-account-signing-key-file'] ? undefined : ephemeralSigningKeyPEM(),
    });
    return;
  }
  const { serve } = await import('./serve.js');
  await serve(f, log);
}

main().catch((err) => {
  process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: 'error', component: 'apiserver', msg: 'Fatal', err: String(err?.stack ?? err) }) + '\n');
  process.exit(1);
});
