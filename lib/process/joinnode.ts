// A joined machine's node: after the TLS bootstrap (join.ts), `skiff join` starts containerd, the
// kubelet and the proxy on this machine, in its own network namespace (so a machine played by a
// namespace gets its own), the same commands as a lab node's (lab.ts) but with the credentials the
// join obtained: the kubelet's client certificate from its CSR, its serving certificate and the
// proxy's client certificate from admin-approved CSRs, and the proxy's serving certificate (its
// health port, which only the join checks) from a CA of the node's own. Like lab
// nodes, the processes are detached, with state files in <home>/run and logs in <home>/logs;
// resetJoinedNode stops them and removes what they made (kubeadm reset).

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanupContainerd, containerdPaths, writeContainerdConfig } from '../../kubelet/containerd.js';
import { importNodeImages, stopPodSandboxes } from '../../kubelet/lifecycle.js';
import { ensureCA, ensureServingCert } from '../pki.js';
import { clusterDNSIP, nodeEntry, type ClusterConfig } from './components.js';
import { JoinError, joinPaths, proxyCertificate, readJoinRecord, servingCertificate, type TokenClusterAccess } from './join.js';
import { isAlive, readState, removeState, spawnDetached, stopProcess, waitForHealthy, type HealthCheck } from './supervisor.js';

const run = promisify(execFile);

/** joinedComponents in start order. */
export const joinedComponents = ['containerd', 'kubelet', 'proxy'] as const;
type JoinedComponent = (typeof joinedComponents)[number];

/** JoinedNodeOptions are the cluster's ranges, which a joining machine cannot read with a token. */
export interface JoinedNodeOptions {
  clusterCIDR: string;
  serviceCIDR: string;
  /** approvalTimeoutMs is how long the join waits for an admin to approve the kubelet serving and proxy CSRs. */
  approvalTimeoutMs: number;
}

/** ports every joined node's processes use, on its own address. */
const ports = { kubelet: 10250, kubeletHealth: 10248, proxyHealth: 10256, containerdStream: 10010, containerdMetrics: 1338 } as const;

function stateFile(home: string, c: JoinedComponent): string {
  return join(home, 'run', `join.${c}.json`);
}
function logFile(home: string, c: JoinedComponent): string {
  return join(home, 'logs', `join.${c}.log`);
}

/** cgroupRoot is where the joined node's pods live: one of its own, so a shared machine's other nodes are untouched. */
function cgroupRoot(nodeName: string): string {
  return `/skiff-join-${nodeName}`;
}

/** nodeIPFor is this machine's source address towards the apiserver: the node's InternalIP. */
export async function nodeIPFor(server: string): Promise<string> {
  const host = new URL(server).hostname.replace(/^\[|\]$/g, '');
  const out = (await run('ip', ['route', 'get', host])).stdout;
  const src = /\bsrc (\S+)/.exec(out)?.[1];
  if (!src) throw new JoinError(`cannot tell this machine's address towards ${host} (ip route get: ${out.trim()})`);
  return src;
}

/**
 * startJoinedNode starts containerd, the kubelet and the proxy with the credentials in home, waits
 * for each to be healthy, and tells progress one line per step.
 */
export async function startJoinedNode(access: TokenClusterAccess, nodeName: string, home: string, opts: JoinedNodeOptions, progress: (line: string) => void): Promise<void> {
  const paths = joinPaths(home);
  if (!readJoinRecord(paths)) throw new JoinError(`${home} has not joined a cluster (no ${paths.joinFile})`);
  const nodeIP = await nodeIPFor(access.server);
  const pki = join(home, 'pki');
  const local = join(pki, 'node-ca');
  await ensureCA(local, `${nodeName}-ca`);
  const serving = await ensureServingCert(local, { name: 'serving', commonName: nodeName, hosts: ['127.0.0.1', 'localhost', nodeIP, nodeName] });
  const cdDir = join(home, 'containerd');
  const cd = writeContainerdConfig({ dir: cdDir, streamPort: ports.containerdStream, metricsAddress: `${nodeIP}:${ports.containerdMetrics}` });
  const localCA = readFileSync(join(local, 'ca.crt'), 'utf8');
  const tls = (port: number, cert: { cert: string; key: string }) => [`--bind-address=${nodeIP}`, `--secure-port=${port}`, `--tls-cert-file=${cert.cert}`, `--tls-private-key-file=${cert.key}`, `--client-ca-file=${paths.caFile}`];
  const config = { serviceCIDR: opts.serviceCIDR } as ClusterConfig;
  const start = async (component: JoinedComponent, command: string[], health: HealthCheck) => {
    const file = stateFile(home, component);
    const running = readState(file);
    const state = running && isAlive(running) ? running : (removeState(file), spawnDetached({ name: `join.${component}`, command: command[0]!, args: command.slice(1), logFile: logFile(home, component), stateFile: file }));
    await waitForHealthy(health, { timeoutMs: 60_000, process: state }).catch((err: unknown) => {
      throw new JoinError(`${component} did not become healthy: ${(err as Error).message} (log: ${logFile(home, component)})`);
    });
    progress(`[node-start] ${component} is up (pid ${state.pid})`);
  };
  progress(`[node-start] Starting containerd, the kubelet and the proxy for Node ${nodeName} at ${nodeIP}`);
  await start('containerd', [process.env.SKIFF_CONTAINERD_BIN ?? 'containerd', '--config', cd.config], { url: `http://${nodeIP}:${ports.containerdMetrics}/v1/metrics` });
  await importNodeImages(cdDir, (line) => progress(`[node-start] ${line}`));
  // Both certificates wait for an admin: ask for both at once.
  await Promise.all([
    servingCertificate(paths, nodeName, nodeIP, { timeoutMs: opts.approvalTimeoutMs, progress }),
    proxyCertificate(access, paths, { timeoutMs: opts.approvalTimeoutMs, progress }),
  ]);
  await start(
    'kubelet',
    [
      process.execPath, '--enable-source-maps', nodeEntry('kubelet/main.js'),
      `--kubeconfig=${paths.kubeletKubeconfig}`,
      ...tls(ports.kubeletHealth, { cert: paths.servingCert, key: paths.servingKey }),
      `--node-name=${nodeName}`,
      `--node-ip=${nodeIP}`,
      `--root-dir=${join(home, 'kubelet')}`,
      `--pod-logs-dir=${join(home, 'pod-logs')}`,
      `--container-runtime-endpoint=unix://${cd.socket}`,
      `--cni-conf-dir=${cd.cniConfDir}`,
      '--cni-bridge=cni0',
      `--cni-network-name=skiff-${nodeName}`,
      '--sink-device=skiff-sink0',
      `--cluster-cidr=${opts.clusterCIDR}`,
      `--service-cidr=${opts.serviceCIDR}`,
      `--cgroup-root=${cgroupRoot(nodeName)}`,
      `--port=${ports.kubelet}`,
      `--cluster-dns=${clusterDNSIP(config)}`,
      '--cluster-domain=cluster.local',
    ],
    { url: `https://${nodeIP}:${ports.kubeletHealth}/healthz`, ca: readFileSync(paths.caFile, 'utf8') },
  );
  await start(
    'proxy',
    [
      process.execPath, '--enable-source-maps', nodeEntry('proxy/main.js'),
      `--kubeconfig=${paths.proxyKubeconfig}`,
      ...tls(ports.proxyHealth, serving),
      `--cluster-cidr=${opts.clusterCIDR}`,
      `--hostname-override=${nodeName}`,
    ],
    { url: `https://${nodeIP}:${ports.proxyHealth}/healthz`, ca: localCA },
  );
}

/**
 * resetJoinedNode stops the joined node's processes (pod sandboxes first), removes what its
 * containerd left (shims, mounts, pod cgroups) and deletes the home's join files. Safe to repeat.
 */
export async function resetJoinedNode(home: string, nodeName: string): Promise<void> {
  const cdDir = join(home, 'containerd');
  const cdState = readState(stateFile(home, 'containerd'));
  if (cdState && isAlive(cdState) && existsSync(containerdPaths(cdDir).socket)) await stopPodSandboxes(cdDir, 30_000).catch(() => 0);
  for (const c of [...joinedComponents].reverse()) {
    const state = readState(stateFile(home, c));
    if (state) await stopProcess(state, { graceMs: 5_000 });
    removeState(stateFile(home, c));
  }
  if (existsSync(cdDir)) await cleanupContainerd(cdDir, { cgroupParent: cgroupRoot(nodeName) });
  const paths = joinPaths(home);
  for (const f of [paths.kubeletKubeconfig, paths.proxyKubeconfig, paths.bootstrapKubeconfig, paths.joinFile]) rmSync(f, { force: true });
  for (const d of ['pki', 'containerd', 'kubelet', 'pod-logs', 'run']) rmSync(join(home, d), { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
}
