// Kubeconfig files as kubectl and client-node read them: one cluster, one user, one context,
// every credential embedded as base64 data so the file stands alone when copied elsewhere.

import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** KubeconfigOptions describes the one cluster, user and context a kubeconfig holds. */
export interface KubeconfigOptions {
  /** server is the apiserver URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** caFile is a path to the CA certificate (PEM); caData the PEM itself. One is required. */
  caFile?: string;
  caData?: string;
  /** clientCert and clientKey are PEM text or paths to PEM files. */
  clientCert?: string;
  clientKey?: string;
  /** token is a bearer token, used instead of a client certificate. */
  token?: string;
  /** user names the kubeconfig's user entry (not the identity: that is in the cert or token). */
  user: string;
  cluster?: string;
  context?: string;
  /** namespace sets the context's default namespace. */
  namespace?: string;
}

/** kubeconfigYAML renders a kubeconfig (apiVersion v1, kind Config) for opts. */
export function kubeconfigYAML(opts: KubeconfigOptions): string {
  const cluster = opts.cluster ?? 'skiff';
  const context = opts.context ?? 'skiff';
  const caPEM = opts.caData ?? (opts.caFile ? readFileSync(opts.caFile, 'utf8') : undefined);
  if (!caPEM) throw new Error('kubeconfig: caFile or caData is required');
  const user: Record<string, string> = {};
  if (opts.clientCert || opts.clientKey) {
    if (!opts.clientCert || !opts.clientKey) throw new Error('kubeconfig: clientCert and clientKey go together');
    user['client-certificate-data'] = base64(pemText(opts.clientCert));
    user['client-key-data'] = base64(pemText(opts.clientKey));
  }
  if (opts.token) user.token = opts.token;
  if (Object.keys(user).length === 0) throw new Error('kubeconfig: a client certificate or a token is required');
  const ctx: Record<string, string> = { cluster, user: opts.user };
  if (opts.namespace) ctx.namespace = opts.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: opts.server, 'certificate-authority-data': base64(caPEM) } }],
    users: [{ name: opts.user, user }],
    contexts: [{ name: context, context: ctx }],
    'current-context': context,
    preferences: {},
  });
}

/** writeKubeconfig writes kubeconfigYAML(opts) to path with mode 0600 (it holds credentials). */
export function writeKubeconfig(path: string, opts: KubeconfigOptions): string {
  const text = kubeconfigYAML(opts);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** pemText returns PEM as is, or reads it from the file the value names. */
function pemText(pemOrPath: string): string {
  return pemOrPath.includes('-----BEGIN ') ? pemOrPath : readFileSync(pemOrPath, 'utf8');
}

function base64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}
