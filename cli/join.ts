// `skiff join`: the joining machine's side of a bootstrap token (kubeadm join's token discovery).
// It reads the kube-public cluster-info ConfigMap without trusting the server yet, checks the
// ConfigMap's JWS signature made with the token (only someone who knows the token's secret, the
// cluster, could sign it), checks the CA inside against the pinned hash of its public key, then
// reads cluster-info again over TLS verified with that CA. Only then does it trust the cluster.
//
// Then the kubelet's TLS bootstrap (lib/process/join.ts): a CertificateSigningRequest made with
// the token, approved and signed by the controller manager, gives the kubelet its kubeconfig.

import https from 'node:https';
import { parse } from 'yaml';
import {
  caCertHash,
  clusterInfoName,
  clusterInfoNamespace,
  detachedSignatureIsValid,
  jwsSignaturePrefix,
  kubeconfigKey,
  parseToken,
  type BootstrapToken,
} from '../lib/bootstraptoken.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap } from '../lib/api/core/configmap.js';
import { ConfigMaps, isNotFound } from '../lib/client/index.js';
import { kubeadmConfigMap, kubeadmNamespace, parseClusterConfiguration } from '../lib/controlplanejoin.js';
import { bootstrapClient, JoinError, joinPaths, tlsBootstrap, type TokenClusterAccess } from '../lib/process/join.js';
import type { ControlPlaneRecord } from '../lib/process/joincontrolplane.js';
import { homeFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Join this machine to a skiff cluster with a bootstrap token.

Usage:
  skiff join https://<apiserver>:<port> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<hash> [--node-name NAME] [--home DIR] [--dry-run]
  skiff join https://<apiserver>:<port> --token … --discovery-token-ca-cert-hash … --control-plane --certificate-key KEY [--node-name NAME]
  skiff join reset [--home DIR]

'skiff token create' on the cluster prints this command ('skiff token create --control-plane'
the second form). A worker join starts containerd, the kubelet and the proxy; a control-plane
join starts an etcd member, an apiserver, a controller manager and a scheduler. 'skiff join
reset' stops what this machine runs and removes what the join wrote (kubeadm reset); a
control-plane member also leaves etcd and kubeadm-config.

Flags:
      --token TOKEN                        the bootstrap token
      --discovery-token-ca-cert-hash HASH  sha256:<hex> of the cluster CA's public key (SubjectPublicKeyInfo);
                                           repeat to accept any of several
      --discovery-token-unsafe-skip-ca-verification
                                           trust the CA cluster-info names without a hash (unsafe)
      --node-name NAME                     the Node's name (default: this machine's host name)
      --home DIR                           where the node keeps its credentials (env SKIFF_HOME, default ~/.skiff)
      --cluster-cidr CIDR                  the cluster's pod range (default: kube-system/kubeadm-config's, else 10.244.0.0/16)
      --service-cidr CIDR                  the cluster's Service range (default: kubeadm-config's, else 10.96.0.0/12)
      --control-plane                      join as a control-plane member (etcd, apiserver, controller manager, scheduler)
      --certificate-key KEY                the key the control plane's certificates were uploaded with (skiff certs upload)
      --approval-timeout SECONDS           how long to wait for an admin to approve the kubelet's serving
                                           and the proxy's CertificateSigningRequests (default 600)
      --skip-phases node-start             stop after the TLS bootstrap (the kubelet's kubeconfig is written)
      --dry-run                            discover and verify the cluster, change nothing
  -h, --help                               show this help
`;

const options = {
  token: { type: 'string' },
  'discovery-token-ca-cert-hash': { type: 'string', multiple: true },
  'discovery-token-unsafe-skip-ca-verification': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'node-name': { type: 'string' },
  'skip-phases': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'approval-timeout': { type: 'string' },
  'control-plane': { type: 'boolean' },
  'certificate-key': { type: 'string' },
  ...homeFlag,
} as const;

/** DiscoveryError says why the cluster could not be trusted; its message is for the user. */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

/** DiscoveredCluster is what token discovery establishes: the server to use and the CA to trust. */
export interface DiscoveredCluster {
  server: string;
  caPEM: string;
  caHash: string;
}

interface ClusterInfo {
  data?: Record<string, string>;
}

/** fetchClusterInfo GETs cluster-info anonymously; without ca the server's certificate is not checked (nothing to check it with yet). */
function fetchClusterInfo(endpoint: string, ca?: string): Promise<ClusterInfo> {
  const url = new URL(`/api/v1/namespaces/${clusterInfoNamespace}/configmaps/${clusterInfoName}`, endpoint);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, rejectUnauthorized: ca !== undefined, agent: false, timeout: 10_000, headers: { Accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode === 200) {
          try {
            resolve(JSON.parse(body) as ClusterInfo);
          } catch (err) {
            reject(new DiscoveryError(`the cluster-info ConfigMap from ${endpoint} is not JSON: ${(err as Error).message}`));
          }
        } else if (res.statusCode === 404) {
          reject(new DiscoveryError(`${endpoint} has no ${clusterInfoNamespace}/${clusterInfoName} ConfigMap: run 'skiff token create' on the cluster first`));
        } else {
          reject(new DiscoveryError(`${endpoint} answered ${res.statusCode} to the cluster-info request: ${body.slice(0, 300)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10s')));
    req.on('error', (err) => reject(new DiscoveryError(`failed to request the cluster-info ConfigMap from ${endpoint}: ${err.message}`)));
  });
}

/** parseHashes checks the pins' form: sha256:<64 hex digits>. */
export function parseHashes(hashes: string[]): string[] {
  return hashes.map((h) => {
    const m = /^sha256:([0-9a-fA-F]{64})$/.exec(h.trim());
    if (!m) throw new UsageError(`invalid --discovery-token-ca-cert-hash "${h}": want "sha256:" followed by the 64 hex digits of the SHA-256 of the CA's public key`);
    return `sha256:${m[1]!.toLowerCase()}`;
  });
}

/**
 * discoverCluster runs token discovery against endpoint (kubeadm's discovery/token): the signed
 * cluster-info, its CA pinned by hash (or not, with pins empty and unsafe set), then the same
 * cluster-info again over verified TLS.
 */
export async function discoverCluster(endpoint: string, token: BootstrapToken, pins: string[], progress: (line: string) => void = () => undefined): Promise<DiscoveredCluster> {
  progress(`[discovery] Requesting the cluster-info ConfigMap from ${endpoint} (server not trusted yet)`);
  const insecure = await fetchClusterInfo(endpoint);
  const content = insecure.data?.[kubeconfigKey];
  if (content === undefined) throw new DiscoveryError(`the cluster-info ConfigMap from ${endpoint} holds no ${kubeconfigKey}`);
  const signature = insecure.data?.[`${jwsSignaturePrefix}${token.id}`];
  if (signature === undefined) {
    throw new DiscoveryError(`token id "${token.id}" is invalid for this cluster or it has expired. Use "skiff token create" on the control-plane node to create a new valid token`);
  }
  if (!(await detachedSignatureIsValid(signature, content, token))) {
    throw new DiscoveryError("failed to verify JWS signature of received cluster info object, can't trust this API Server (is the token's secret right?)");
  }
  progress(`[discovery] The cluster-info ConfigMap is signed with token ${token.id}`);
  let caPEM: string;
  let server: string;
  try {
    const kubeconfig = parse(content) as { clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[] };
    const cluster = kubeconfig.clusters?.[0]?.cluster;
    if (!cluster?.server || !cluster['certificate-authority-data']) throw new Error('no cluster with a server and a CA');
    caPEM = Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8');
    server = cluster.server;
  } catch (err) {
    throw new DiscoveryError(`the kubeconfig in cluster-info is invalid: ${(err as Error).message}`);
  }
  let caHash: string;
  try {
    caHash = caCertHash(caPEM);
  } catch (err) {
    throw new DiscoveryError(`the CA in cluster-info is not a certificate: ${(err as Error).message}`);
  }
  if (pins.length > 0 && !pins.includes(caHash)) {
    throw new DiscoveryError(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${caHash}" are pinned (--discovery-token-ca-cert-hash ${pins.join(', ')})`);
  }
  progress(pins.length > 0 ? `[discovery] The cluster CA matches the pinned public key ${caHash}` : `[discovery] Trusting the cluster CA ${caHash} without a pin`);
  // Read it again over TLS that this CA verifies: the server must hold a key the CA certified.
  const secure = await fetchClusterInfo(endpoint, caPEM).catch((err: unknown) => {
    throw new DiscoveryError(`the API server at ${endpoint} does not present a certificate of the cluster CA: ${(err as Error).message}`);
  });
  if (secure.data?.[kubeconfigKey] !== content) throw new DiscoveryError('the cluster-info ConfigMap changed between the two reads; try again');
  progress(`[discovery] Cluster ${server} verified: its API server presents a certificate of the pinned CA`);
  return { server, caPEM, caHash };
}

async function joinCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, options, true);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals[0] === 'reset' && positionals.length === 1) return resetCmd(resolveHome(values.home));
  if (positionals.length !== 1) throw new UsageError('want exactly one API server address, e.g. https://10.0.0.1:6443');
  let endpoint = positionals[0]!;
  if (!/^https:\/\//.test(endpoint)) endpoint = `https://${endpoint}`;
  try {
    new URL(endpoint);
  } catch {
    throw new UsageError(`invalid API server address "${positionals[0]}"`);
  }
  if (!values.token) throw new UsageError('--token is required');
  const token = parseToken(values.token);
  if (!token) throw new UsageError(`the bootstrap token "${values.token}" was not of the form "[a-z0-9]{6}.[a-z0-9]{16}"`);
  const pins = parseHashes(values['discovery-token-ca-cert-hash'] ?? []);
  if (pins.length === 0 && !values['discovery-token-unsafe-skip-ca-verification']) {
    throw new UsageError('give --discovery-token-ca-cert-hash (skiff token create prints it), or --discovery-token-unsafe-skip-ca-verification to trust any CA');
  }
  const nodeName = values['node-name'] ?? hostname().toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 63) {
    throw new UsageError(`invalid node name "${nodeName}": want lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (give --node-name)`);
  }
  const skip = new Set((values['skip-phases'] ?? '').split(',').filter(Boolean));
  for (const p of skip) if (p !== 'node-start') throw new UsageError(`unknown phase "${p}" in --skip-phases (known: node-start)`);
  const home = resolveHome(values.home);
  const approvalSeconds = Number(values['approval-timeout'] ?? 600);
  if (!Number.isInteger(approvalSeconds) || approvalSeconds < 1) throw new UsageError(`invalid --approval-timeout "${values['approval-timeout']}": want a whole number of seconds`);
  const controlPlane = values['control-plane'] === true;
  if (controlPlane && !values['certificate-key']) throw new UsageError('--control-plane needs --certificate-key (skiff token create --control-plane prints the command with it)');
  if (!controlPlane && values['certificate-key']) throw new UsageError('--certificate-key only goes with --control-plane');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const cluster = await discoverCluster(endpoint, token, pins, out);
    if (values['dry-run']) {
      out('[dry-run] Discovery succeeded; nothing was changed on this machine');
      return 0;
    }
    if (controlPlane) {
      const { joinControlPlane } = await import('../lib/process/joincontrolplane.js');
      await joinControlPlane({ server: cluster.server, caPEM: cluster.caPEM, caHash: cluster.caHash, token: values.token }, { certificateKey: values['certificate-key']!, nodeName, home, progress: out });
      out('');
      out('This machine has joined the cluster as a control-plane member:');
      out('* an etcd member was added, and an apiserver, a controller manager and a scheduler run here;');
      out(`* the admin kubeconfig of this member is ${join(home, 'admin.kubeconfig')} (it talks to this member's apiserver);`);
      out("* the cluster's apiserver-lb adds this apiserver as a backend.");
      return 0;
    }
    const ranges = await clusterRanges({ server: cluster.server, caPEM: cluster.caPEM, token: values.token }, values['cluster-cidr'], values['service-cidr'], out);
    const paths = joinPaths(home);
    await tlsBootstrap({ server: cluster.server, caPEM: cluster.caPEM, caHash: cluster.caHash, token: values.token }, nodeName, paths, { progress: out });
    if (skip.has('node-start')) {
      out(`[kubelet-start] Skipping the node's start (--skip-phases node-start); the kubelet's kubeconfig is ${paths.kubeletKubeconfig}`);
      return 0;
    }
    const { resetJoinedNode, startJoinedNode } = await import('../lib/process/joinnode.js');
    try {
      await startJoinedNode({ server: cluster.server, caPEM: cluster.caPEM, token: values.token }, nodeName, home, {
        clusterCIDR: ranges.clusterCIDR,
        serviceCIDR: ranges.serviceCIDR,
        approvalTimeoutMs: 1000 * approvalSeconds,
      }, out);
    } catch (err) {
      // Nothing half-started stays behind: the processes stop and this machine's join files go.
      await resetJoinedNode(home, nodeName).catch(() => undefined);
      throw new JoinError(`${(err as Error).message}; stopped what this join started and removed its files in ${home} (a Node ${nodeName} the kubelet registered stays: kubectl delete node ${nodeName} before joining again under that name)`);
    }
    out('');
    out('This node has joined the cluster:');
    out('* The kubelet got its client certificate through a CertificateSigningRequest.');
    out(`* containerd, the kubelet and the proxy run here (home ${home}).`);
    out('');
    out("Run 'kubectl get nodes' on the control plane to see this node join the cluster.");
    return 0;
  } catch (err) {
    if (err instanceof DiscoveryError || err instanceof JoinError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/**
 * clusterRanges are the cluster's pod and Service ranges: the flags when given, else what
 * kube-system/kubeadm-config publishes (readable with the token), else skiff's defaults.
 */
async function clusterRanges(access: TokenClusterAccess, clusterCIDR: string | undefined, serviceCIDR: string | undefined, out: (line: string) => void): Promise<{ clusterCIDR: string; serviceCIDR: string }> {
  if (clusterCIDR && serviceCIDR) return { clusterCIDR, serviceCIDR };
  const cm = await bootstrapClient(access)
    .get<ConfigMap>(ConfigMaps, kubeadmNamespace, kubeadmConfigMap)
    .catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw new JoinError(`reading ${kubeadmNamespace}/${kubeadmConfigMap} with the bootstrap token: ${(err as Error).message}`);
    });
  const net = parseClusterConfiguration(cm?.data)?.networking;
  if (net?.podSubnet && net.serviceSubnet) out(`[preflight] The cluster's ranges from ${kubeadmNamespace}/${kubeadmConfigMap}: pods ${net.podSubnet}, Services ${net.serviceSubnet}`);
  else out(`[preflight] The cluster publishes no ${kubeadmNamespace}/${kubeadmConfigMap}; using skiff's default ranges unless --cluster-cidr/--service-cidr say otherwise`);
  return { clusterCIDR: clusterCIDR ?? net?.podSubnet ?? '10.244.0.0/16', serviceCIDR: serviceCIDR ?? net?.serviceSubnet ?? '10.96.0.0/12' };
}

/** resetCmd is `skiff join reset`: stop the joined node's processes and remove what the join wrote (kubeadm reset). */
async function resetCmd(home: string): Promise<number> {
  const { resetJoinedNode } = await import('../lib/process/joinnode.js');
  const { joinPaths, readJoinRecord } = await import('../lib/process/join.js');
  const record = readJoinRecord(joinPaths(home)) as ControlPlaneRecord | undefined;
  if (!record) {
    process.stderr.write(`error: ${home} has not joined a cluster (no join.json)\n`);
    return 1;
  }
  if (record.controlPlane) {
    const { resetControlPlaneMember } = await import('../lib/process/joincontrolplane.js');
    await resetControlPlaneMember(home, record, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`[reset] Stopped the etcd member, apiserver, controller manager and scheduler of ${record.nodeName} and removed their files in ${home}\n`);
    return 0;
  }
  await resetJoinedNode(home, record.nodeName);
  process.stdout.write(`[reset] Stopped containerd, the kubelet and the proxy of ${record.nodeName} and removed their files in ${home}\n`);
  process.stdout.write(`[reset] The Node object stays in the cluster: run 'kubectl delete node ${record.nodeName}' there\n`);
  return 0;
}

/** joinCommand is `skiff join`. */
export const joinCommand: CommandSpec = { name: 'join', summary: 'Join this machine to a cluster with a bootstrap token', usage, run: joinCmd };
