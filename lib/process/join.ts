// The joining machine's side of `skiff join` after discovery: the kubelet's TLS bootstrap, as
// kubeadm and the kubelet do it. With the bootstrap token (user system:bootstrap:<id>, allowed to
// create and read CSRs and to get Nodes) the joining machine checks the node name is free, makes
// the kubelet's key (0600, never leaves the machine) and a certificates.k8s.io/v1
// CertificateSigningRequest for CN=system:node:<name>, O=system:nodes with signer
// kubernetes.io/kube-apiserver-client-kubelet; the controller manager's csrapproving controller
// approves it (a bootstrapper asking for a node client certificate) and csrsigning signs it; the
// issued certificate goes into the kubelet's kubeconfig. The bootstrap kubeconfig (token) is
// written first, as kubeadm's bootstrap-kubelet.conf, and removed once the kubelet has its own.
//
// The proxy's identity: Kubernetes 1.32's system:node rules do not allow listing EndpointSlices,
// so the node's own certificate cannot run a proxy, and a bootstrap token alone must not yield the
// cluster-wide system:kube-proxy identity. The join asks for it with a second CSR
// (kubernetes.io/kube-apiserver-client, CN=system:kube-proxy) that no controller approves: an
// admin does, with `kubectl certificate approve` (the join prints the command and waits).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateSigningRequest } from '../api/certificates/certificatesigningrequest.js';
import type { Node } from '../api/core/node.js';
import { CertificateSigningRequests, ClientConfig, isNotFound, loadClientConfig, Nodes, RestClient } from '../client/index.js';
import { kubeconfigYAML, writeKubeconfig } from '../kubeconfig.js';
import { newKeyAndCSR } from '../pki.js';

/** JoinError is a join step that failed; its message is for the user. */
export class JoinError extends Error {
  override name = 'JoinError';
}

/** JoinPaths are the files a joined machine keeps in its home. */
export interface JoinPaths {
  dir: string;
  caFile: string;
  bootstrapKubeconfig: string;
  kubeletKey: string;
  kubeletCert: string;
  kubeletKubeconfig: string;
  servingKey: string;
  servingCert: string;
  proxyKey: string;
  proxyCert: string;
  proxyKubeconfig: string;
  /** joinFile records what the join established (server, node name), for the node's start. */
  joinFile: string;
}

/** joinPaths lays out a joined machine's home. */
export function joinPaths(home: string): JoinPaths {
  const pki = join(home, 'pki');
  return {
    dir: home,
    caFile: join(pki, 'ca.crt'),
    bootstrapKubeconfig: join(home, 'bootstrap-kubelet.conf'),
    kubeletKey: join(pki, 'kubelet-client.key'),
    kubeletCert: join(pki, 'kubelet-client.crt'),
    kubeletKubeconfig: join(home, 'kubelet.conf'),
    servingKey: join(pki, 'kubelet-serving.key'),
    servingCert: join(pki, 'kubelet-serving.crt'),
    proxyKey: join(pki, 'kube-proxy-client.key'),
    proxyCert: join(pki, 'kube-proxy-client.crt'),
    proxyKubeconfig: join(home, 'proxy.conf'),
    joinFile: join(home, 'join.json'),
  };
}

/** TokenClusterAccess is what discovery established plus the token to talk with. */
export interface TokenClusterAccess {
  server: string;
  caPEM: string;
  token: string;
}

/** bootstrapClient is a RestClient that authenticates with the bootstrap token. */
export function bootstrapClient(access: TokenClusterAccess): RestClient {
  const kc = new ClientConfig();
  kc.loadFromString(kubeconfigYAML({ server: access.server, caData: access.caPEM, token: access.token, user: 'tls-bootstrap-token-user', cluster: 'skiff', context: 'tls-bootstrap-token-user@skiff' }));
  return new RestClient(kc, { userAgent: 'skiff-join', timeoutMs: 10_000 });
}

/** checkNodeNameFree refuses a name whose Node exists (kubeadm's "a Node with name … already exists"). */
export async function checkNodeNameFree(client: RestClient, name: string): Promise<void> {
  const existing = await client.get<Node>(Nodes, '', name).then(
    (n) => n,
    (err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw new JoinError(`cannot check whether Node "${name}" exists with the bootstrap token: ${(err as Error).message}`);
    },
  );
  if (existing) {
    throw new JoinError(`a Node with name "${name}" already exists in the cluster; pick another --node-name, or delete the Node first (kubectl delete node ${name}) if that machine is gone`);
  }
}

/** writePrivate writes a file with mode 0600 atomically. */
function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** csrName is a bootstrap CSR's name: kubelet's is node-csr-<random>, as the kubelet makes it. */
function csrName(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

/**
 * requestCertificate posts a CSR for CN/O with signer and usages and waits until it is issued
 * (or denied, or failed): the key (PKCS#8) and the certificate (PEM).
 */
export async function requestCertificate(
  client: RestClient,
  opts: { name: string; commonName: string; organizations: string[]; sans?: { type: 'dns' | 'ip'; value: string }[]; signerName: string; usages: string[]; timeoutMs: number; onCreated?: (name: string) => void },
): Promise<{ keyPem: string; certPem: string }> {
  const { keyPem, csrPem } = await newKeyAndCSR(opts.commonName, opts.organizations, opts.sans);
  const csr: CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: opts.name },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: opts.signerName, usages: opts.usages },
  } as CertificateSigningRequest;
  await client.create(CertificateSigningRequests, '', csr).catch((err: unknown) => {
    throw new JoinError(`creating the CertificateSigningRequest ${opts.name}: ${(err as Error).message}`);
  });
  opts.onCreated?.(opts.name);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const got = await client.get<CertificateSigningRequest>(CertificateSigningRequests, '', opts.name).catch(() => undefined);
    const conditions = got?.status?.conditions ?? [];
    const bad = conditions.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False');
    if (bad) throw new JoinError(`the CertificateSigningRequest ${opts.name} was ${bad.type.toLowerCase()}: ${bad.reason ?? ''}${bad.message ? `: ${bad.message}` : ''}`);
    if (got?.status?.certificate) return { keyPem, certPem: Buffer.from(got.status.certificate, 'base64').toString('utf8') };
    if (Date.now() > deadline) throw new JoinError(`the CertificateSigningRequest ${opts.name} was not approved and signed within ${Math.round(opts.timeoutMs / 1000)}s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** JoinRecord is <home>/join.json. */
export interface JoinRecord {
  server: string;
  nodeName: string;
  caHash: string;
}

/**
 * tlsBootstrap gets the kubelet its client certificate through a CSR, and writes the CA, the
 * bootstrap kubeconfig (removed at the end), the kubelet's key and certificate and its kubeconfig
 * under paths. Nothing is written before the node name has been checked; on failure, what it
 * wrote is removed again.
 */
export async function tlsBootstrap(
  access: TokenClusterAccess & { caHash: string },
  nodeName: string,
  paths: JoinPaths,
  opts: { timeoutMs?: number; progress?: (line: string) => void } = {},
): Promise<void> {
  const progress = opts.progress ?? (() => undefined);
  const client = bootstrapClient(access);
  await checkNodeNameFree(client, nodeName);
  if (existsSync(paths.kubeletKubeconfig)) throw new JoinError(`${paths.kubeletKubeconfig} exists: this home has joined already (remove it, or use another --home)`);
  const written: string[] = [];
  try {
    mkdirSync(join(paths.dir, 'pki'), { recursive: true });
    writeFileSync(paths.caFile, access.caPEM);
    written.push(paths.caFile);
    writePrivate(paths.bootstrapKubeconfig, kubeconfigYAML({ server: access.server, caData: access.caPEM, token: access.token, user: 'tls-bootstrap-token-user' }));
    written.push(paths.bootstrapKubeconfig);
    progress(`[kubelet-start] Wrote the bootstrap kubeconfig ${paths.bootstrapKubeconfig}`);
    const { keyPem, certPem } = await requestCertificate(client, {
      name: csrName('node-csr'),
      commonName: `system:node:${nodeName}`,
      organizations: ['system:nodes'],
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
      timeoutMs: opts.timeoutMs ?? 60_000,
      onCreated: (name) => progress(`[kubelet-start] Created CertificateSigningRequest ${name} for system:node:${nodeName}; waiting for the controller manager to approve and sign it`),
    });
    writePrivate(paths.kubeletKey, keyPem);
    written.push(paths.kubeletKey);
    writeFileSync(paths.kubeletCert, certPem);
    written.push(paths.kubeletCert);
    writeKubeconfig(paths.kubeletKubeconfig, { server: access.server, caData: access.caPEM, clientCert: paths.kubeletCert, clientKey: paths.kubeletKey, user: `system:node:${nodeName}` });
    written.push(paths.kubeletKubeconfig);
    const record: JoinRecord = { server: access.server, nodeName, caHash: access.caHash };
    writeFileSync(paths.joinFile, JSON.stringify(record, null, 2) + '\n');
    written.push(paths.joinFile);
    rmSync(paths.bootstrapKubeconfig, { force: true });
    progress(`[kubelet-start] The kubelet's client certificate was issued; wrote ${paths.kubeletKubeconfig}`);
  } catch (err) {
    for (const f of written.reverse()) rmSync(f, { force: true });
    throw err;
  }
}

/**
 * proxyCertificate asks for the system:kube-proxy client certificate with the bootstrap token (a
 * kubernetes.io/kube-apiserver-client CSR that only an admin approves) and writes the proxy's
 * kubeconfig once it is issued.
 */
export async function proxyCertificate(access: TokenClusterAccess, paths: JoinPaths, opts: { timeoutMs: number; progress?: (line: string) => void }): Promise<void> {
  if (existsSync(paths.proxyKubeconfig)) return;
  const progress = opts.progress ?? (() => undefined);
  const { keyPem, certPem } = await requestCertificate(bootstrapClient(access), {
    name: csrName('proxy-csr'),
    commonName: 'system:kube-proxy',
    organizations: [],
    signerName: 'kubernetes.io/kube-apiserver-client',
    usages: ['digital signature', 'client auth'],
    timeoutMs: opts.timeoutMs,
    onCreated: (name) => progress(`[proxy] Created CertificateSigningRequest ${name} for system:kube-proxy; an admin approves it with: kubectl certificate approve ${name}`),
  });
  writePrivate(paths.proxyKey, keyPem);
  writeFileSync(paths.proxyCert, certPem);
  writeKubeconfig(paths.proxyKubeconfig, { server: access.server, caData: access.caPEM, clientCert: paths.proxyCert, clientKey: paths.proxyKey, user: 'system:kube-proxy' });
  progress(`[proxy] The proxy's client certificate was issued; wrote ${paths.proxyKubeconfig}`);
}

/** clientFromKubeconfig is a RestClient with a kubeconfig file's credentials. */
function clientFromKubeconfig(path: string): RestClient {
  return new RestClient(loadClientConfig(path), { userAgent: 'skiff-join', timeoutMs: 10_000 });
}

/**
 * servingCertificate gets the kubelet's serving certificate as a kubelet with serverTLSBootstrap
 * does: a kubernetes.io/kubelet-serving CSR made with the node's own credentials for its name
 * and address, which the controller manager signs once an admin has approved it (kube approves
 * no serving CSR by itself). skiff's apiserver verifies kubelets' serving certificates with the
 * cluster CA, so a self-signed one would break logs, exec and port-forward.
 */
export async function servingCertificate(paths: JoinPaths, nodeName: string, nodeIP: string, opts: { timeoutMs: number; progress?: (line: string) => void }): Promise<void> {
  if (existsSync(paths.servingCert) && existsSync(paths.servingKey)) return;
  const progress = opts.progress ?? (() => undefined);
  const { keyPem, certPem } = await requestCertificate(clientFromKubeconfig(paths.kubeletKubeconfig), {
    name: csrName('csr'),
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    sans: [
      { type: 'dns', value: nodeName },
      { type: 'ip', value: nodeIP },
    ],
    signerName: 'kubernetes.io/kubelet-serving',
    usages: ['digital signature', 'server auth'],
    timeoutMs: opts.timeoutMs,
    onCreated: (name) => progress(`[kubelet-start] Created CertificateSigningRequest ${name} for the kubelet's serving certificate (${nodeName}, ${nodeIP}); an admin approves it with: kubectl certificate approve ${name}`),
  });
  writePrivate(paths.servingKey, keyPem);
  writeFileSync(paths.servingCert, certPem);
  progress(`[kubelet-start] The kubelet's serving certificate was issued`);
}

/** readJoinRecord reads <home>/join.json, if the home has joined. */
export function readJoinRecord(paths: JoinPaths): JoinRecord | undefined {
  try {
    return JSON.parse(readFileSync(paths.joinFile, 'utf8')) as JoinRecord;
  } catch {
    return undefined;
  }
}
