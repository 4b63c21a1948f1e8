// `skiff join --control-plane`: this machine becomes one more control-plane member, as kubeadm's
// control-plane join does it. With the bootstrap token it reads kube-system's kubeadm-config (the
// cluster's ranges and its members) and kubeadm-certs (the CA keys, AES-GCM sealed under the
// certificate key only the admin handed out) and decrypts the keys; nothing is written before
// every value decrypted. From those CAs it issues its own certificates (etcd serving and peer for
// this machine's address, the apiserver's, the controller manager's and scheduler's, an admin's),
// asks an existing etcd member to add a member at this machine's peer URL (etcd's MemberAdd, with
// a client certificate of etcd's CA), starts etcd with the member list MemberAdd returned
// (--initial-cluster-state existing), then the apiserver (on its local etcd), the controller
// manager and the scheduler (leader-elected with the others), and records itself in kubeadm-config's
// ClusterStatus, from which the first machine's apiserver-lb learns the new backend.
//
// resetControlPlaneMember (`skiff join reset`) undoes it: the member leaves ClusterStatus and etcd
// (MemberRemove through another member), its processes stop and its files go.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Secret } from '../api/core/secret.js';
import { ConfigMaps, isConflict, isNotFound, loadClientConfig, RestClient, Secrets } from '../client/index.js';
import {
  type APIEndpoint,
  clusterStatusKey,
  decryptValue,
  kubeadmCertsSecret,
  kubeadmConfigMap,
  kubeadmNamespace,
  parseCertificateKey,
  parseClusterConfiguration,
  parseClusterStatus,
  statusYAML,
  uploadedFiles,
} from '../controlplanejoin.js';
import { ensurePeerCert, ensureServingCert } from '../pki.js';
import { defaultConfig, prepareCluster } from './cluster.js';
import { apiserver, type ClusterConfig, type ComponentContext, clusterPaths, controllerManager, etcd, etcdClientFiles, scheduler } from './components.js';
import { withFlag } from './controlplane.js';
import { bootstrapClient, JoinError, type JoinRecord, joinPaths, type TokenClusterAccess } from './join.js';
import { nodeIPFor } from './joinnode.js';
import { isAlive, readState, removeState, spawnDetached, stopProcess, waitForHealthy, type HealthCheck } from './supervisor.js';

/** controlPlaneProcesses in start order. */
export const controlPlaneProcesses = ['etcd', 'apiserver', 'controller-manager', 'scheduler'] as const;
type MemberProcess = (typeof controlPlaneProcesses)[number];

/** joinedMemberPorts are the ports of a joined member: the standard ones (it is the only member on its machine). */
export const joinedMemberPorts = { etcdClient: 2379, etcdPeer: 2380, etcdMetrics: 2381, apiserver: 6443 } as const;

function stateFile(home: string, c: MemberProcess): string {
  return join(home, 'run', `join.${c}.json`);
}
function logFile(home: string, c: MemberProcess): string {
  return join(home, 'logs', `join.${c}.log`);
}

/** memberConfig is the joined member's ClusterConfig: the cluster's ranges, this machine's address, standard ports. */
export function memberConfig(home: string, nodeIP: string, ranges: { podSubnet: string; serviceSubnet: string }, serverHost: string): ClusterConfig {
  const base = defaultConfig(home);
  return {
    ...base,
    etcdClientPort: joinedMemberPorts.etcdClient,
    etcdPeerPort: joinedMemberPorts.etcdPeer,
    apiserverPort: joinedMemberPorts.apiserver,
    bindAddress: '0.0.0.0',
    advertiseAddress: nodeIP,
    // Clients of the first machine's balancer reach this apiserver under the balancer's address.
    extraSANs: [serverHost],
    clusterCIDR: ranges.podSubnet,
    serviceCIDR: ranges.serviceSubnet,
    realNode: false,
    simulatedNodes: 0,
    controlPlaneMembers: undefined,
    controlPlanePorts: undefined,
  };
}

/** etcdClient is an etcd client of the given members with the home's etcd client certificate. */
function etcdClient(ctx: ComponentContext, hosts: string[]): Etcd3 {
  const files = etcdClientFiles(ctx.paths);
  return new Etcd3({
    hosts,
    credentials: { rootCertificate: readFileSync(files.ca), certChain: readFileSync(files.cert), privateKey: readFileSync(files.key) },
    dialTimeout: 5_000,
  });
}

/** memberEtcdArgs are the joined etcd's flags: the single etcd's with this member's name, URLs and peer TLS, joining an existing cluster. */
function memberEtcdArgs(ctx: ComponentContext, name: string, nodeIP: string, initialCluster: string): string[] {
  const peerDir = join(ctx.paths.pki, 'etcd-peer');
  const p = joinedMemberPorts;
  let args = etcd.command(ctx).args;
  const set: [string, string][] = [
    ['--name', name],
    ['--data-dir', ctx.paths.etcdDataDir],
    ['--listen-client-urls', `https://127.0.0.1:${p.etcdClient},https://${nodeIP}:${p.etcdClient}`],
    ['--advertise-client-urls', `https://${nodeIP}:${p.etcdClient}`],
    ['--listen-peer-urls', `https://${nodeIP}:${p.etcdPeer}`],
    ['--initial-advertise-peer-urls', `https://${nodeIP}:${p.etcdPeer}`],
    ['--initial-cluster', initialCluster],
    ['--initial-cluster-state', 'existing'],
    ['--listen-metrics-urls', `http://127.0.0.1:${p.etcdMetrics}`],
    ['--peer-cert-file', join(peerDir, 'peer.crt')],
    ['--peer-key-file', join(peerDir, 'peer.key')],
    ['--peer-trusted-ca-file', join(peerDir, 'ca.crt')],
  ];
  for (const [flag, value] of set) args = withFlag(args, flag, value);
  return args;
}

/** adminClient is a RestClient with the member's admin kubeconfig (system:masters, issued from the uploaded CA). */
function adminClient(ctx: ComponentContext, server?: string): RestClient {
  const kc = loadClientConfig(ctx.paths.adminKubeconfig);
  if (server) kc.clusters = kc.clusters.map((c) => ({ ...c, server }));
  return new RestClient(kc, { userAgent: 'skiff-join', timeoutMs: 10_000 });
}

/** updateStatus applies change to kubeadm-config's ClusterStatus, retrying on conflicts. */
async function updateStatus(client: RestClient, change: (endpoints: Record<string, APIEndpoint>) => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cm = await client.get<ConfigMap>(ConfigMaps, kubeadmNamespace, kubeadmConfigMap);
    const status = parseClusterStatus(cm.data);
    change(status.apiEndpoints);
    cm.data = { ...cm.data, [clusterStatusKey]: statusYAML(status) };
    try {
      await client.update(ConfigMaps, cm);
      return;
    } catch (err) {
      if (!isConflict(err) || attempt > 5) throw err;
    }
  }
}

/** ControlPlaneJoinOptions are the flags of a control-plane join. */
export interface ControlPlaneJoinOptions {
  certificateKey: string;
  nodeName: string;
  home: string;
  progress: (line: string) => void;
}

/**
 * joinControlPlane makes this machine a control-plane member of the discovered cluster. On a
 * failure after the etcd member was added, the member is removed again and what started stops.
 */
export async function joinControlPlane(access: TokenClusterAccess & { caHash: string }, opts: ControlPlaneJoinOptions): Promise<void> {
  const { progress, nodeName, home } = opts;
  const key = (() => {
    try {
      return parseCertificateKey(opts.certificateKey);
    } catch (err) {
      throw new JoinError((err as Error).message);
    }
  })();
  const client = bootstrapClient(access);
  const cm = await client.get<ConfigMap>(ConfigMaps, kubeadmNamespace, kubeadmConfigMap).catch((err: unknown) => {
    if (isNotFound(err)) throw new JoinError(`the cluster has no ${kubeadmNamespace}/${kubeadmConfigMap} ConfigMap: run 'skiff token create --control-plane' on the cluster`);
    throw new JoinError(`reading ${kubeadmNamespace}/${kubeadmConfigMap} with the bootstrap token: ${(err as Error).message}`);
  });
  const cc = parseClusterConfiguration(cm.data);
  if (!cc?.networking?.podSubnet || !cc.networking.serviceSubnet) throw new JoinError(`${kubeadmNamespace}/${kubeadmConfigMap} has no ClusterConfiguration with the cluster's networking`);
  const members = parseClusterStatus(cm.data).apiEndpoints;
  if (members[nodeName]) throw new JoinError(`a control-plane member named "${nodeName}" is already in ${kubeadmNamespace}/${kubeadmConfigMap}; pick another --node-name`);
  const etcdURLs = Object.values(members).map((m) => m.etcdClientURL).filter((u): u is string => !!u);
  if (etcdURLs.length === 0) throw new JoinError(`${kubeadmNamespace}/${kubeadmConfigMap} names no etcd member to join (only a cluster started with --control-plane N has etcd members that other machines reach)`);
  progress(`[preflight] The cluster's ranges: pods ${cc.networking.podSubnet}, Services ${cc.networking.serviceSubnet}; ${Object.keys(members).length} control-plane members`);

  const secret = await client.get<Secret>(Secrets, kubeadmNamespace, kubeadmCertsSecret).catch((err: unknown) => {
    if (isNotFound(err)) throw new JoinError(`Secret "${kubeadmCertsSecret}" was not found in the "${kubeadmNamespace}" Namespace. This Secret might have expired. Please, run 'skiff certs upload' (or 'skiff token create --control-plane') on a control-plane node to generate a new one`);
    throw new JoinError(`reading ${kubeadmNamespace}/${kubeadmCertsSecret} with the bootstrap token: ${(err as Error).message}`);
  });
  // Every value decrypts before anything is written.
  const files = new Map<string, Buffer>();
  for (const [name, rel] of Object.entries(uploadedFiles)) {
    const v = secret.data?.[name];
    if (v === undefined) continue;
    try {
      files.set(rel, decryptValue(Buffer.from(v, 'base64'), key));
    } catch (err) {
      throw new JoinError(`${(err as Error).message}`);
    }
  }
  for (const need of ['pki/ca.key', 'pki/etcd/ca.key', 'pki/etcd-peer/ca.key']) {
    if (!files.has(need)) throw new JoinError(`${kubeadmNamespace}/${kubeadmCertsSecret} lacks ${need}: upload the certificates again with 'skiff certs upload'`);
  }
  progress(`[download-certs] Decrypted ${files.size} files of the ${kubeadmCertsSecret} Secret with the certificate key`);

  const paths = joinPaths(home);
  if (existsSync(paths.joinFile)) throw new JoinError(`${paths.joinFile} exists: this home has joined already (skiff join reset, or another --home)`);
  const nodeIP = await nodeIPFor(access.server);
  const serverHost = new URL(access.server).hostname.replace(/^\[|\]$/g, '');
  const config = memberConfig(home, nodeIP, cc.networking, serverHost);
  const ctx: ComponentContext = { config, paths: clusterPaths(home) };
  const started: MemberProcess[] = [];
  let memberID: string | undefined;
  const etcd0 = (): Etcd3 => etcdClient(ctx, etcdURLs);
  try {
    for (const [rel, data] of files) {
      const path = join(home, rel);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, data, { mode: rel.endsWith('.crt') || rel.endsWith('.pub') ? 0o644 : 0o600 });
    }
    await prepareCluster(ctx, [apiserver, controllerManager, scheduler, etcd]);
    // etcd's serving and peer certificates for this machine's address.
    await ensureServingCert(ctx.paths.etcdPKI, { name: 'server', commonName: 'etcd-server', hosts: ['127.0.0.1', '::1', 'localhost', nodeIP], clientAuth: true });
    await ensurePeerCert(join(ctx.paths.pki, 'etcd-peer'), { name: 'peer', commonName: 'etcd-peer', hosts: ['127.0.0.1', 'localhost', nodeIP] });
    progress(`[certs] Issued this member's certificates (apiserver, etcd serving and peer for ${nodeIP}, controller manager, scheduler, admin)`);

    // MemberAdd through an existing member; the answer lists every member for --initial-cluster.
    const peerURL = `https://${nodeIP}:${joinedMemberPorts.etcdPeer}`;
    const etcdc = etcd0();
    let initialCluster: string;
    try {
      const added = await etcdc.cluster.memberAdd({ peerURLs: [peerURL] });
      memberID = added.member.ID;
      initialCluster = added.members
        .flatMap((m) => (m.ID === added.member.ID ? [`${nodeName}=${peerURL}`] : m.peerURLs.map((u) => `${m.name}=${u}`)))
        .join(',');
    } catch (err) {
      throw new JoinError(`adding an etcd member at ${peerURL} through ${etcdURLs.join(', ')}: ${(err as Error).message}`);
    } finally {
      etcdc.close();
    }
    progress(`[etcd] Added etcd member ${nodeName} (${memberID}) at ${peerURL}; the cluster is ${initialCluster}`);

    const start = async (c: MemberProcess, command: { command: string; args: string[] }, health: HealthCheck, timeoutMs: number) => {
      const file = stateFile(home, c);
      removeState(file);
      const state = spawnDetached({ name: `join.${c}`, command: command.command, args: command.args, logFile: logFile(home, c), stateFile: file });
      started.push(c);
      await waitForHealthy(health, { timeoutMs, process: state }).catch((err: unknown) => {
        throw new JoinError(`${c} did not become healthy: ${(err as Error).message} (log: ${logFile(home, c)})`);
      });
      progress(`[control-plane] ${c} is up (pid ${state.pid})`);
    };
    await start('etcd', { command: process.env.SKIFF_ETCD_BIN ?? 'etcd', args: memberEtcdArgs(ctx, nodeName, nodeIP, initialCluster) }, etcd.health(ctx), 60_000);
    await start('apiserver', apiserver.command(ctx), apiserver.health(ctx), 90_000);
    await start('controller-manager', controllerManager.command(ctx), controllerManager.health(ctx), 60_000);
    await start('scheduler', scheduler.command(ctx), scheduler.health(ctx), 60_000);

    await updateStatus(adminClient(ctx), (endpoints) => {
      endpoints[nodeName] = { advertiseAddress: nodeIP, bindPort: joinedMemberPorts.apiserver, etcdClientURL: `https://${nodeIP}:${joinedMemberPorts.etcdClient}` };
    });
    progress(`[mark-control-plane] Recorded ${nodeName} (${nodeIP}:${joinedMemberPorts.apiserver}) in ${kubeadmNamespace}/${kubeadmConfigMap}; the cluster's apiserver-lb adds it`);
    const record: JoinRecord & { controlPlane: true; etcdMemberID: string; etcdPeers: string[] } = {
      server: access.server,
      nodeName,
      caHash: access.caHash,
      controlPlane: true,
      etcdMemberID: memberID!,
      etcdPeers: etcdURLs,
    };
    writeFileSync(paths.joinFile, JSON.stringify(record, null, 2) + '\n');
  } catch (err) {
    for (const c of [...started].reverse()) {
      const s = readState(stateFile(home, c));
      if (s) await stopProcess(s, { graceMs: 5_000 });
      removeState(stateFile(home, c));
    }
    if (memberID) {
      const etcdc = etcd0();
      await etcdc.cluster.memberRemove({ ID: memberID }).catch(() => undefined);
      etcdc.close();
    }
    removeMemberFiles(home);
    throw err;
  }
}

/** removeMemberFiles deletes what a control-plane join wrote in home (logs stay). */
function removeMemberFiles(home: string): void {
  const paths = clusterPaths(home);
  for (const d of [paths.pki, paths.etcdDataDir, paths.run]) rmSync(d, { recursive: true, force: true });
  for (const f of [paths.adminKubeconfig, paths.configFile, paths.auditPolicy, joinPaths(home).joinFile]) rmSync(f, { force: true });
}

/** ControlPlaneRecord is join.json of a control-plane member. */
export interface ControlPlaneRecord extends JoinRecord {
  controlPlane?: boolean;
  etcdMemberID?: string;
  etcdPeers?: string[];
}

/**
 * resetControlPlaneMember takes the member out of kubeadm-config's ClusterStatus (so the
 * balancer drops it) and out of etcd (MemberRemove through another member, so the others' quorum
 * no longer counts it), stops its processes and removes its files. Safe to repeat.
 */
export async function resetControlPlaneMember(home: string, record: ControlPlaneRecord, progress: (line: string) => void): Promise<void> {
  const paths = clusterPaths(home);
  const config = existsSync(paths.configFile) ? (JSON.parse(readFileSync(paths.configFile, 'utf8')) as ClusterConfig) : undefined;
  const ctx: ComponentContext | undefined = config ? { config, paths } : undefined;
  if (ctx && existsSync(paths.adminKubeconfig)) {
    await updateStatus(adminClient(ctx, record.server), (endpoints) => {
      delete endpoints[record.nodeName];
    }).then(
      () => progress(`[reset] Removed ${record.nodeName} from ${kubeadmNamespace}/${kubeadmConfigMap}`),
      (err: unknown) => progress(`[reset] Could not update ${kubeadmNamespace}/${kubeadmConfigMap}: ${(err as Error).message}`),
    );
  }
  if (ctx && record.etcdMemberID && existsSync(etcdClientFiles(paths).key)) {
    const etcdc = etcdClient(ctx, record.etcdPeers?.length ? record.etcdPeers : [`https://127.0.0.1:${joinedMemberPorts.etcdClient}`]);
    await etcdc.cluster.memberRemove({ ID: record.etcdMemberID }).then(
      () => progress(`[reset] Removed etcd member ${record.nodeName} (${record.etcdMemberID})`),
      (err: unknown) => progress(`[reset] Could not remove etcd member ${record.etcdMemberID}: ${(err as Error).message}`),
    );
    etcdc.close();
  }
  for (const c of [...controlPlaneProcesses].reverse()) {
    const s = readState(stateFile(home, c));
    if (s && isAlive(s)) await stopProcess(s, { graceMs: 5_000 });
    removeState(stateFile(home, c));
  }
  removeMemberFiles(home);
  mkdirSync(home, { recursive: true });
}
