// Lab clusters: more real nodes on one machine. Each extra worker node lives in a network
// namespace of its own (`skiff-<node>`) with a veth to the lab's bridge on the host (a /24 of
// 172.31.0.0/16), and runs its own containerd, kubelet and proxy there, started with
// `nsenter --net=…` (`ip netns exec` remounts /sys and hides the cgroup v1 mounts). Pods reach
// each other across nodes without NAT: every node routes every other node's podCIDR through that
// node's InternalIP (host-gw), and the kubelet's masquerade exception keeps pod-to-pod traffic
// within the cluster CIDR unmasqueraded. The layout (node names, addresses, podCIDRs, zones) is
// kept in <home>/lab.json, so a lab comes back the same after `skiff lab down` and `up`.
//
// `skiff lab up --control-plane N` also puts control-plane members 2..N in namespaces of their
// own (`skiff-<prefix>-cp-<n>`, at the subnet's .n), on the same bridge: their etcd, apiserver,
// controller manager and scheduler are the cluster's supervised components
// (lib/process/controlplane.ts starts them with nsenter), member 1 stays on this machine, and the
// balancer on this machine forwards to every member's apiserver. `lab node stop` of a member
// SIGKILLs its four processes, has the supervisor forget them and cuts its veth.
//
// A lab node's processes are not supervised: `skiff lab node stop` must be able to kill them and
// have them stay down, as a machine that lost power. Their state files are in the home's run/
// folder (lab.<node>.<component>.json), so `skiff status` and `skiff down` see them.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import { cleanupContainerd, containerdPaths, mountsUnder, writeContainerdConfig } from '../../kubelet/containerd.js';
import { importNodeImages, stopPodSandboxes } from '../../kubelet/lifecycle.js';
import type { Node } from '../api/core/node.js';
import { isNotFound, loadClientConfig, Nodes, RestClient } from '../client/index.js';
import { writeKubeconfig } from '../kubeconfig.js';
import { ensureClientCert, ensureServingCert } from '../pki.js';
import { logFile, stateFile, type ComponentStatus } from './cluster.js';
import { clusterDNSIP, nodeEntry, type ClusterConfig, type Component, type ComponentContext, type MemberNetns } from './components.js';
import { controlPlaneComponents, maxControlPlaneMembers } from './controlplane.js';
import { ensureSupervisor, supervisorLauncher } from './daemon.js';
import { isAlive, killNow, probe, readState, removeState, sleep, spawnDetached, stopProcess, waitForHealthy, type HealthCheck, type ProcessState } from './supervisor.js';

const run = promisify(execFile);

/** ZoneLabel is the well-known label `--zones` sets on each node. */
export const ZoneLabel = 'topology.kubernetes.io/zone';

/** LabNode is one extra worker node of a lab: the parts of it that stay the same across down and up. */
export interface LabNode {
  name: string;
  /** index numbers the node within the lab (1, 2 …); its address is the subnet's .(10 + index). */
  index: number;
  /** ip is its InternalIP, on the lab bridge. */
  ip: string;
  zone?: string;
  /** podCIDR is what the controller manager gave its Node (recorded once known). */
  podCIDR?: string;
}

/** LabMember is a control-plane member of a lab: member 1 on this machine, the others each in a namespace of their own. */
export interface LabMember {
  /** name is what `skiff lab node stop|start` calls it: <prefix>-cp-<member>. */
  name: string;
  /** member numbers it among the control plane's members (its processes are etcd-<member>, apiserver-<member> …). */
  member: number;
  /** ip is its address on the lab bridge (the subnet's .member); none for member 1, on this machine's network. */
  ip?: string;
}

/** LabLayout is <home>/lab.json. */
export interface LabLayout {
  /** subnet is the lab bridge's /24 of 172.31.0.0/16; gateway (.1) is the host's address on it. */
  subnet: string;
  gateway: string;
  /** bridge is the host-side bridge (`skl` + 4 hex digits); each node's host veth is bridge + 'v' + index. */
  bridge: string;
  /** prefix names new nodes (<prefix>-<index>). */
  prefix: string;
  /** zones are spread round-robin over the nodes (the host node first), when given. */
  zones: string[];
  nodes: LabNode[];
  /** hostPodCIDR is the host node's podCIDR, when the cluster runs one. */
  hostPodCIDR?: string;
  /** controlPlane are the control-plane members when the lab has more than one (`lab up --control-plane N`). */
  controlPlane?: LabMember[];
}

/** LabError is a lab step that failed, with what was being done. */
export class LabError extends Error {
  override name = 'LabError';
}

/** labFile is where a home's lab layout is saved. */
export function labFile(home: string): string {
  return join(home, 'lab.json');
}

/** loadLab reads the home's lab layout, if it has one. */
export function loadLab(home: string): LabLayout | undefined {
  try {
    return JSON.parse(readFileSync(labFile(home), 'utf8')) as LabLayout;
  } catch {
    return undefined;
  }
}

/** saveLab writes the layout atomically. */
export function saveLab(home: string, lab: LabLayout): void {
  mkdirSync(home, { recursive: true });
  const path = labFile(home);
  writeFileSync(`${path}.tmp`, JSON.stringify(lab, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** netnsName is a lab node's network namespace. */
export function netnsName(node: Pick<LabNode, 'name'>): string {
  return `skiff-${node.name}`;
}

/** hostVeth is the host end of a node's veth. */
export function hostVeth(lab: LabLayout, node: Pick<LabNode, 'index'>): string {
  return `${lab.bridge}v${node.index}`;
}

/** nodeAddress is the InternalIP of node index in subnet (.10 + index). */
export function nodeAddress(subnet: string, index: number): string {
  const [base] = ipaddr.IPv4.parseCIDR(subnet);
  const b = base.toByteArray();
  return `${b[0]}.${b[1]}.${b[2]}.${10 + index}`;
}

/** nodeNameProblem checks a lab node name: a DNS label short enough for `skiff-<name>` netns and cgroup names. */
export function nodeNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) return `invalid node name "${name}": want a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit)`;
  if (name.length > 40) return `invalid node name "${name}": at most 40 characters`;
  return undefined;
}

/** zoneOf is the zone of the i-th node of the lab (0 is the host node), round-robin over zones. */
export function zoneOf(zones: readonly string[], i: number): string | undefined {
  return zones.length === 0 ? undefined : zones[i % zones.length];
}

const subnetLocks = join(tmpdir(), 'skiff-lab-subnets');

/** overlaps says whether any address or route of this machine overlaps 172.31.x.0/24. */
export function overlaps(routesAndAddrs: string, subnet: string): boolean {
  const [net, bits] = ipaddr.IPv4.parseCIDR(subnet);
  for (const m of routesAndAddrs.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const addr = ipaddr.IPv4.parse(m[1]!);
    const len = m[2] !== undefined ? Number(m[2]) : 32;
    if (addr.match(net, bits) || net.match(addr, len)) return true;
  }
  return false;
}

/**
 * reserveSubnet takes a /24 of 172.31.0.0/16 for home's bridge: the first one that no address or
 * route of this machine touches and no other home holds (a lock directory per /24 under the
 * temp dir, whose owner file names the home; a lock whose home has no lab.json is stale).
 * A subnet given (from lab.json) is re-taken if free.
 */
export async function reserveSubnet(home: string, want?: string): Promise<string> {
  mkdirSync(subnetLocks, { recursive: true });
  const seen = (await run('ip', ['-4', 'addr'])).stdout + (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  const candidates = want ? [Number(want.split('.')[2])] : Array.from({ length: 254 }, (_, i) => i + 1);
  for (const x of candidates) {
    const subnet = `172.31.${x}.0/24`;
    const lock = join(subnetLocks, String(x));
    let owner: string | undefined;
    try {
      owner = readFileSync(join(lock, 'owner'), 'utf8');
    } catch {
      owner = undefined;
    }
    if (owner !== undefined && owner !== home && existsSync(labFile(owner))) continue;
    if (owner !== home && overlaps(seen, subnet)) continue;
    try {
      mkdirSync(lock, { recursive: true });
      writeFileSync(join(lock, 'owner'), home);
      return subnet;
    } catch {
      continue;
    }
  }
  throw new LabError(want ? `the lab subnet ${want} is used by something else on this machine` : 'no free /24 in 172.31.0.0/16 for the lab bridge');
}

/** releaseSubnet frees home's subnet lock. */
function releaseSubnet(home: string, subnet: string): void {
  const lock = join(subnetLocks, subnet.split('.')[2]!);
  try {
    if (readFileSync(join(lock, 'owner'), 'utf8') === home) rmSync(lock, { recursive: true, force: true });
  } catch {
    // not ours, or gone
  }
}

/** newLab makes a layout for home with a free subnet and a fresh bridge name. */
export async function newLab(home: string, prefix: string, zones: string[]): Promise<LabLayout> {
  const subnet = await reserveSubnet(home);
  const hex = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return { subnet, gateway: subnet.replace(/\.0\/24$/, '.1'), bridge: `skl${hex}`, prefix, zones, nodes: [] };
}

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { timeout: 60_000 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new LabError(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

async function ok(cmd: string, args: string[]): Promise<boolean> {
  return run(cmd, args, { timeout: 60_000 }).then(
    () => true,
    () => false,
  );
}

/** netnsPath is where `ip netns` mounts a namespace. */
function netnsPath(node: Pick<LabNode, 'name'>): string {
  return `/run/netns/${netnsName(node)}`;
}

/** inNetns runs a command in node's network namespace (nsenter --net: the mounts stay the host's). */
function inNetns(node: Pick<LabNode, 'name'>, cmd: string, args: string[]): Promise<string> {
  return sh('nsenter', [`--net=${netnsPath(node)}`, cmd, ...args]);
}

/** ensureBridge creates the lab bridge with the gateway address, once. */
export async function ensureBridge(lab: LabLayout): Promise<void> {
  if (!(await ok('ip', ['link', 'show', 'dev', lab.bridge])) && !(await ok('ip', ['link', 'add', lab.bridge, 'type', 'bridge']))) {
    // Another start of this lab may have made it in the meantime.
    if (!(await ok('ip', ['link', 'show', 'dev', lab.bridge]))) throw new LabError(`cannot create the lab bridge ${lab.bridge}`);
  }
  await sh('ip', ['addr', 'replace', `${lab.gateway}/24`, 'dev', lab.bridge]);
  await sh('ip', ['link', 'set', lab.bridge, 'up']);
}

/** ensureNodeNetwork creates node's namespace and its veth to the bridge (eth0 inside, with its InternalIP), once. */
export function ensureNodeNetwork(lab: LabLayout, node: LabNode, apiHost: string): Promise<void> {
  return ensureNetns(lab, node, hostVeth(lab, node), apiHost);
}

/** ensureNetns creates a namespace for node (a worker or a control-plane member) and its veth (host end veth) to the bridge, once. */
async function ensureNetns(lab: LabLayout, node: { name: string; ip: string }, veth: string, apiHost: string): Promise<void> {
  const ns = netnsName(node);
  if (!existsSync(netnsPath(node))) await sh('ip', ['netns', 'add', ns]);
  // A veth whose other end never reached the namespace (an interrupted start) is made again.
  if ((await ok('ip', ['link', 'show', 'dev', veth])) && !(await ok('ip', ['-n', ns, 'link', 'show', 'dev', 'eth0']))) await sh('ip', ['link', 'del', veth]);
  if (!(await ok('ip', ['link', 'show', 'dev', veth]))) {
    const peer = `${veth}p`;
    await sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', peer]);
    await sh('ip', ['link', 'set', peer, 'netns', ns]);
    await sh('ip', ['-n', ns, 'link', 'set', peer, 'name', 'eth0']);
  }
  await sh('ip', ['link', 'set', veth, 'master', lab.bridge]);
  await sh('ip', ['link', 'set', veth, 'up']);
  await sh('ip', ['-n', ns, 'addr', 'replace', `${node.ip}/24`, 'dev', 'eth0']);
  await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  // The kubelet and the proxy register through it before the other routes are known.
  await sh('ip', ['-n', ns, 'route', 'replace', `${apiHost}/32`, 'via', lab.gateway, 'dev', 'eth0']);
  // A new namespace does not forward: NodePorts and Service traffic to pods on other nodes need it.
  await inNetns(node, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
}

/** LabRoute is one route a lab member needs: dst via gw. */
export interface LabRoute {
  dst: string;
  via: string;
}

/**
 * desiredRoutes are the host-gw routes: on the host, each lab node's podCIDR via its InternalIP;
 * in each node, every other node's podCIDR via that node's InternalIP (the host node's via the
 * gateway) and the apiserver's address via the gateway (it serves the API and cluster DNS).
 */
export function desiredRoutes(lab: LabLayout, apiHost: string): { host: LabRoute[]; nodes: Map<string, LabRoute[]> } {
  const host = lab.nodes.filter((n) => n.podCIDR).map((n) => ({ dst: n.podCIDR!, via: n.ip }));
  const nodes = new Map<string, LabRoute[]>();
  for (const node of lab.nodes) {
    const routes: LabRoute[] = [{ dst: `${apiHost}/32`, via: lab.gateway }];
    if (lab.hostPodCIDR) routes.push({ dst: lab.hostPodCIDR, via: lab.gateway });
    for (const other of lab.nodes) if (other !== node && other.podCIDR) routes.push({ dst: other.podCIDR, via: other.ip });
    nodes.set(node.name, routes);
  }
  return { host, nodes };
}

/** syncRoutes installs the host-gw routes on the host and in every node whose namespace exists. */
export async function syncRoutes(lab: LabLayout, apiHost: string): Promise<void> {
  const { host, nodes } = desiredRoutes(lab, apiHost);
  for (const r of host) await sh('ip', ['route', 'replace', r.dst, 'via', r.via, 'dev', lab.bridge]);
  for (const node of lab.nodes) {
    if (!existsSync(netnsPath(node))) continue;
    for (const r of nodes.get(node.name) ?? []) {
      // A stopped node's eth0 is up inside (only the host end is cut), so its routes still load.
      await sh('ip', ['-n', netnsName(node), 'route', 'replace', r.dst, 'via', r.via, 'dev', 'eth0']);
    }
  }
}

/**
 * labAPIServerHost is the address lab nodes reach the apiserver (and skiff-dns) at: the one it
 * binds, or the advertised one when it binds every interface; never loopback, which is each
 * namespace's own.
 */
export function labAPIServerHost(config: ClusterConfig): string {
  const any = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' || config.bindAddress === '';
  const host = any ? config.advertiseAddress : config.bindAddress;
  if (ipaddr.parse(host).range() === 'loopback') {
    throw new LabError(`lab nodes cannot reach an apiserver on ${host} (loopback is each network namespace's own): start the cluster with --bind-address 0.0.0.0 and a non-loopback --advertise-address`);
  }
  return host;
}

/** labPorts are the ports every lab node's processes use, inside its own namespace (so every node has the same). */
const labPorts = { kubelet: 10250, kubeletHealth: 10248, proxyHealth: 10256, containerdStream: 10010, containerdMetrics: 1338 } as const;

/** nodeDir is where a lab node keeps its containerd, kubelet, logs and credentials. */
export function nodeDir(home: string, node: Pick<LabNode, 'name'>): string {
  return join(home, 'lab', node.name);
}

/** LabComponentName is one of a lab node's processes. */
export type LabComponentName = 'containerd' | 'kubelet' | 'proxy';

/** labComponentNames in start order. */
export const labComponentNames: readonly LabComponentName[] = ['containerd', 'kubelet', 'proxy'];

/** processName is a lab node process's name in the home's run/ and logs/ folders. */
export function processName(node: Pick<LabNode, 'name'>, component: LabComponentName): string {
  return `lab.${node.name}.${component}`;
}

/** cgroupRootOf is the cgroup a lab node's pods live under. */
export function cgroupRootOf(config: ClusterConfig, node: Pick<LabNode, 'name'>): string {
  return `${config.cgroupRoot}-${node.name}`;
}

/** LabProcess is how one of a lab node's processes is started and checked. */
interface LabProcess {
  component: LabComponentName;
  command: string[];
  health: HealthCheck;
  timeoutMs: number;
}

/** prepareNode writes the node's certificates, kubeconfigs and containerd config. */
async function prepareNode(ctx: ComponentContext, node: LabNode): Promise<void> {
  const { config, paths } = ctx;
  const dir = nodeDir(config.home, node);
  mkdirSync(dir, { recursive: true });
  const server = `https://${labAPIServerHost(config)}:${config.apiserverPort}`;
  const caFile = join(paths.pki, 'ca.crt');
  const identities = {
    kubelet: { commonName: `system:node:${node.name}`, organizations: ['system:nodes'] },
    proxy: { commonName: 'system:kube-proxy', organizations: [] as string[] },
  };
  for (const [name, identity] of Object.entries(identities) as ['kubelet' | 'proxy', { commonName: string; organizations: string[] }][]) {
    // Signed by the cluster's CA, which lives in (and signs from) the home's pki/ folder.
    const cert = await ensureClientCert(paths.pki, { name: `${certPrefix(node, name)}-client`, ...identity });
    await ensureServingCert(paths.pki, { name: `${certPrefix(node, name)}-serving`, commonName: `${name}@${node.name}`, hosts: ['127.0.0.1', 'localhost', node.ip, node.name] });
    writeKubeconfig(labKubeconfig(ctx, node, name), { server, caFile, clientCert: cert.cert, clientKey: cert.key, user: identity.commonName });
  }
  writeContainerdConfig({
    dir: join(dir, 'containerd'),
    streamPort: labPorts.containerdStream,
    metricsAddress: `${node.ip}:${labPorts.containerdMetrics}`,
  });
}

/** certPrefix names a lab node component's files in the home's pki/ folder. */
function certPrefix(node: Pick<LabNode, 'name'>, component: 'kubelet' | 'proxy'): string {
  return `lab-${node.name}-${component}`;
}

/** labKubeconfig is a lab node component's kubeconfig. */
function labKubeconfig(ctx: ComponentContext, node: Pick<LabNode, 'name'>, component: 'kubelet' | 'proxy'): string {
  return join(ctx.paths.pki, `${certPrefix(node, component)}.kubeconfig`);
}

/** removeNodeCredentials deletes a removed node's keys, certificates and kubeconfigs. */
function removeNodeCredentials(ctx: ComponentContext, node: Pick<LabNode, 'name'>): void {
  for (const c of ['kubelet', 'proxy'] as const) {
    for (const suffix of ['-client.crt', '-client.key', '-serving.crt', '-serving.key', '.kubeconfig']) rmSync(join(ctx.paths.pki, certPrefix(node, c) + suffix), { force: true });
  }
}

/** nodeProcesses are the commands of a lab node, each run in its namespace. */
function nodeProcesses(ctx: ComponentContext, node: LabNode): LabProcess[] {
  const { config, paths } = ctx;
  const dir = nodeDir(config.home, node);
  const ca = readFileSync(join(paths.pki, 'ca.crt'), 'utf8');
  const cd = containerdPaths(join(dir, 'containerd'));
  const nsenter = ['nsenter', `--net=${netnsPath(node)}`];
  const common = (name: 'kubelet' | 'proxy', port: number) => [
    `--kubeconfig=${labKubeconfig(ctx, node, name)}`,
    `--bind-address=${node.ip}`,
    `--secure-port=${port}`,
    `--tls-cert-file=${join(paths.pki, `${certPrefix(node, name)}-serving.crt`)}`,
    `--tls-private-key-file=${join(paths.pki, `${certPrefix(node, name)}-serving.key`)}`,
    `--client-ca-file=${join(paths.pki, 'ca.crt')}`,
    `-v=${config.verbosity}`,
  ];
  const node_ = process.execPath;
  return [
    {
      component: 'containerd',
      command: [...nsenter, process.env.SKIFF_CONTAINERD_BIN ?? 'containerd', '--config', cd.config],
      health: { url: `http://${node.ip}:${labPorts.containerdMetrics}/v1/metrics` },
      timeoutMs: 60_000,
    },
    {
      component: 'kubelet',
      command: [
        ...nsenter, node_, '--enable-source-maps', nodeEntry('kubelet/main.js'),
        ...common('kubelet', labPorts.kubeletHealth),
        `--node-name=${node.name}`,
        `--node-ip=${node.ip}`,
        `--root-dir=${join(dir, 'kubelet')}`,
        `--pod-logs-dir=${join(dir, 'pod-logs')}`,
        `--container-runtime-endpoint=unix://${cd.socket}`,
        `--cni-conf-dir=${cd.cniConfDir}`,
        // The bridge and the sink are the namespace's own: the same names on every node.
        '--cni-bridge=cni0',
        `--cni-network-name=skiff-${node.name}`,
        '--sink-device=skiff-sink0',
        `--cluster-cidr=${config.clusterCIDR}`,
        `--service-cidr=${config.serviceCIDR}`,
        `--cgroup-root=${cgroupRootOf(config, node)}`,
        `--port=${labPorts.kubelet}`,
        `--cluster-dns=${clusterDNSIP(config)}`,
        '--cluster-domain=cluster.local',
        ...(node.zone ? [`--node-labels=${ZoneLabel}=${node.zone}`] : []),
        ...(config.extraArgs?.kubelet ?? []),
      ],
      health: { url: `https://${node.ip}:${labPorts.kubeletHealth}/healthz`, ca },
      timeoutMs: 30_000,
    },
    {
      component: 'proxy',
      command: [
        ...nsenter, node_, '--enable-source-maps', nodeEntry('proxy/main.js'),
        ...common('proxy', labPorts.proxyHealth),
        `--cluster-cidr=${config.clusterCIDR}`,
        `--hostname-override=${node.name}`,
        ...(config.extraArgs?.proxy ?? []),
      ],
      health: { url: `https://${node.ip}:${labPorts.proxyHealth}/healthz`, ca },
      timeoutMs: 30_000,
    },
  ];
}

/** Progress gets one line per step of a lab command. */
export type Progress = (line: string) => void;

/** runningState is a lab process's recorded state when it runs. */
function runningState(ctx: ComponentContext, node: LabNode, component: LabComponentName): ProcessState | undefined {
  const state = readState(stateFile(ctx, processName(node, component)));
  return state && isAlive(state) ? state : undefined;
}

/**
 * startNode makes sure node's namespace, veth, credentials and processes exist and run, and
 * waits for each to be healthy. Processes already running are left alone.
 */
export async function startNode(ctx: ComponentContext, lab: LabLayout, node: LabNode, progress: Progress = () => {}): Promise<void> {
  const t0 = Date.now();
  await ensureBridge(lab);
  await ensureNodeNetwork(lab, node, labAPIServerHost(ctx.config));
  await prepareNode(ctx, node);
  for (const p of nodeProcesses(ctx, node)) {
    const name = processName(node, p.component);
    const file = stateFile(ctx, name);
    let state = runningState(ctx, node, p.component);
    if (!state) {
      removeState(file);
      state = spawnDetached({ name, command: p.command[0]!, args: p.command.slice(1), logFile: logFile(ctx, name), stateFile: file });
    }
    await waitForHealthy(p.health, { timeoutMs: p.timeoutMs, process: state });
    if (p.component === 'containerd') await importNodeImages(join(nodeDir(ctx.config.home, node), 'containerd'));
  }
  progress(`${node.name}: containerd, kubelet and proxy up in ${netnsName(node)} at ${node.ip} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

/** adminClient is a RestClient with the home's admin kubeconfig. */
export function adminClient(ctx: ComponentContext): RestClient {
  return new RestClient(loadClientConfig(ctx.paths.adminKubeconfig), { userAgent: 'skiff-lab', timeoutMs: 10_000 });
}

/** isNodeReady says whether a Node's Ready condition is True. */
export function isNodeReady(node: Node | undefined): boolean {
  return node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** waitForNode polls the Node until check passes. */
export async function waitForNode(ctx: ComponentContext, name: string, what: string, check: (n: Node) => boolean, timeoutMs = 120_000): Promise<Node> {
  const client = adminClient(ctx);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const node = await client.get<Node>(Nodes, '', name).catch(() => undefined);
    if (node && check(node)) return node;
    if (Date.now() > deadline) throw new LabError(`Node ${name} did not become ${what} in ${timeoutMs / 1000}s`);
    await sleep(500);
  }
}

/** recordPodCIDRs waits for each lab node (and the host node) to have a podCIDR and records them. */
export async function recordPodCIDRs(ctx: ComponentContext, lab: LabLayout, hostNode: string | undefined, nodes: readonly LabNode[] = lab.nodes): Promise<void> {
  for (const node of nodes) {
    const n = await waitForNode(ctx, node.name, 'registered with a podCIDR', (x) => !!x.spec?.podCIDR);
    node.podCIDR = n.spec!.podCIDR!;
  }
  if (hostNode) {
    const n = await waitForNode(ctx, hostNode, 'registered with a podCIDR', (x) => !!x.spec?.podCIDR);
    lab.hostPodCIDR = n.spec!.podCIDR!;
  }
  saveLab(ctx.config.home, lab);
}

/** labelZone sets the zone label on a Node (the host node's; lab nodes register with theirs). */
export async function labelZone(ctx: ComponentContext, name: string, zone: string): Promise<void> {
  await adminClient(ctx).patch(Nodes, '', name, 'merge', { metadata: { labels: { [ZoneLabel]: zone } } });
}

/** killNode SIGKILLs node's proxy, kubelet and containerd (what `lab node stop` does to a machine). */
export async function killNode(ctx: ComponentContext, node: LabNode): Promise<void> {
  for (const c of [...labComponentNames].reverse()) {
    const file = stateFile(ctx, processName(node, c));
    const state = readState(file);
    if (state && isAlive(state)) {
      killNow(state);
      for (let i = 0; i < 200 && isAlive(state); i++) await sleep(25);
    }
    removeState(file);
  }
}

/** setNodeLink sets the host end of node's veth down (or up again). */
export async function setNodeLink(lab: LabLayout, node: LabNode, up: boolean): Promise<void> {
  if (await ok('ip', ['link', 'show', 'dev', hostVeth(lab, node)])) await sh('ip', ['link', 'set', hostVeth(lab, node), up ? 'up' : 'down']);
}

/**
 * teardownNode stops node's processes (pod sandboxes first, through CRI, when its containerd
 * still answers), removes what its containerd left (shims, mounts, pod cgroups) and deletes its
 * namespace (its veth, pod bridge, sink, routes and iptables rules go with it) and the host's
 * route to its pods. Safe to repeat.
 */
export async function teardownNode(ctx: ComponentContext, lab: LabLayout, node: LabNode): Promise<void> {
  const dir = join(nodeDir(ctx.config.home, node), 'containerd');
  const containerd = runningState(ctx, node, 'containerd');
  if (containerd && existsSync(containerdPaths(dir).socket)) await stopPodSandboxes(dir, 30_000).catch(() => 0);
  for (const c of [...labComponentNames].reverse()) {
    const file = stateFile(ctx, processName(node, c));
    const state = readState(file);
    if (state) await stopProcess(state, { graceMs: 5_000 });
    removeState(file);
  }
  if (existsSync(dir)) await cleanupContainerd(dir, { cgroupParent: cgroupRootOf(ctx.config, node) });
  // Pods' secret, configMap and projected (service-account token) volumes are tmpfs mounts under
  // the node's kubelet dir, in the machine's mount namespace: a stopped node leaves none mounted.
  for (const m of mountsUnder(join(nodeDir(ctx.config.home, node), 'kubelet'))) {
    if (!(await ok('umount', [m]))) await ok('umount', ['-l', m]);
  }
  if (node.podCIDR) await ok('ip', ['route', 'del', node.podCIDR, 'via', node.ip]);
  if (await ok('ip', ['link', 'show', 'dev', hostVeth(lab, node)])) await ok('ip', ['link', 'del', hostVeth(lab, node)]);
  if (existsSync(netnsPath(node))) await sh('ip', ['netns', 'del', netnsName(node)]);
  // The kubelet's conflist and host-local's allocations belong to the namespace that is gone.
  rmSync(containerdPaths(dir).cniConfDir, { recursive: true, force: true });
  rmSync(join(nodeDir(ctx.config.home, node), 'kubelet', 'cni'), { recursive: true, force: true });
}

/** hostSinkRoutes route the cluster and service CIDRs to nowhere on a host with no node of its own. */
function hostSinkRoutes(config: ClusterConfig): string[] {
  return config.realNode ? [] : [config.clusterCIDR, config.serviceCIDR];
}

/** ensureHostSink keeps unknown pod and Service addresses on this machine when the host runs no node (whose kubelet would route them to its sink). */
export async function ensureHostSink(config: ClusterConfig): Promise<void> {
  for (const cidr of hostSinkRoutes(config)) await sh('ip', ['route', 'replace', 'blackhole', cidr]);
}

/**
 * teardownLab removes every node, the control-plane members' namespaces and veths (their
 * processes are the cluster's components: `skiff down` stops them), the bridge, the host's routes
 * and the subnet lock; purge also the lab's data. nodesOnly removes the worker nodes alone (a
 * failed `lab up` whose control plane lives on the bridge).
 */
export async function teardownLab(ctx: ComponentContext, lab: LabLayout, opts: { purge?: boolean; progress?: Progress; nodesOnly?: boolean } = {}): Promise<void> {
  for (const node of lab.nodes) {
    await teardownNode(ctx, lab, node);
    opts.progress?.(`${node.name}: stopped; namespace ${netnsName(node)} and veth removed`);
  }
  if (opts.nodesOnly) return;
  await teardownLabNetwork(ctx, lab, opts);
}

/**
 * teardownLabNetwork removes what the lab made beside its nodes: the control-plane members'
 * namespaces and veths, the host's sink routes, the bridge and the subnet lock; purge also the
 * lab's data. `skiff down` runs it once the control plane has stopped, so that members stop
 * with their network (etcd and the apiservers of a member cut off would wait out their grace).
 */
export async function teardownLabNetwork(ctx: ComponentContext, lab: LabLayout, opts: { purge?: boolean; progress?: Progress } = {}): Promise<void> {
  for (const m of netnsMembers(lab)) {
    if (await ok('ip', ['link', 'show', 'dev', memberVeth(lab, m)])) await ok('ip', ['link', 'del', memberVeth(lab, m)]);
    if (existsSync(netnsPath(m))) await sh('ip', ['netns', 'del', netnsName(m)]);
    opts.progress?.(`${m.name}: namespace ${netnsName(m)} and veth removed`);
  }
  for (const cidr of hostSinkRoutes(ctx.config)) await ok('ip', ['route', 'del', 'blackhole', cidr]);
  if (await ok('ip', ['link', 'show', 'dev', lab.bridge])) await sh('ip', ['link', 'del', lab.bridge]);
  opts.progress?.(`bridge ${lab.bridge} (${lab.subnet}) removed`);
  releaseSubnet(ctx.config.home, lab.subnet);
  if (opts.purge) {
    rmSync(join(ctx.config.home, 'lab'), { recursive: true, force: true });
    rmSync(labFile(ctx.config.home), { force: true });
  }
}

/** removeNodeObject deletes a Node from the API (gone already is fine). */
export async function removeNodeObject(ctx: ComponentContext, name: string): Promise<void> {
  await adminClient(ctx)
    .delete(Nodes, '', name)
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
}

/** labStatus is a `skiff status` row per lab node process. */
export async function labStatus(ctx: ComponentContext): Promise<ComponentStatus[]> {
  const lab = loadLab(ctx.config.home);
  if (!lab) return [];
  const rows: ComponentStatus[] = [];
  for (const node of lab.nodes) {
    for (const p of existsSync(join(ctx.paths.pki, 'ca.crt')) ? nodeProcesses(ctx, node) : []) {
      const state = readState(stateFile(ctx, processName(node, p.component)));
      const running = state !== undefined && isAlive(state);
      const health = running ? await probe(p.health).catch((err: Error) => ({ ok: false, status: 0, body: '', error: err.message })) : undefined;
      rows.push({
        name: `${node.name}/${p.component}`,
        pid: running ? state.pid : undefined,
        running,
        health,
        uptimeMs: running ? Date.now() - state.startedAt : undefined,
        restarts: 0,
      });
    }
  }
  return rows;
}

/** leftovers lists what of the lab still exists on the machine (for checks after down): namespaces, links, routes. */
export async function leftovers(lab: LabLayout): Promise<string[]> {
  const out: string[] = [];
  const netns = await sh('ip', ['netns', 'list']).catch(() => '');
  for (const m of netnsMembers(lab)) if (netns.split('\n').some((l) => l.split(' ')[0] === netnsName(m))) out.push(`netns ${netnsName(m)}`);
  for (const node of lab.nodes) if (netns.split('\n').some((l) => l.split(' ')[0] === netnsName(node))) out.push(`netns ${netnsName(node)}`);
  const links = await sh('ip', ['-o', 'link']).catch(() => '');
  for (const l of links.split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(l)?.[1];
    if (name?.startsWith(lab.bridge)) out.push(`link ${name}`);
  }
  const routes = await sh('ip', ['-4', 'route']).catch(() => '');
  for (const l of routes.split('\n')) if (l.includes(lab.bridge) || lab.nodes.some((n) => n.podCIDR && l.startsWith(`${n.podCIDR} `))) out.push(`route ${l}`);
  return out;
}

/** labNodeDirs lists node folders on disk (for --purge and checks). */
export function labNodeDirs(home: string): string[] {
  try {
    return readdirSync(join(home, 'lab'));
  } catch {
    return [];
  }
}

/** LabUpOptions say how many nodes a lab has (the host node counts, when the cluster runs one) and their zones. */
export interface LabUpOptions {
  nodes?: number;
  zones?: string[];
  prefix?: string;
  /** hostNode is the host's own Node's name, when the cluster runs one. */
  hostNode?: string;
}

/** nextIndex is the index a new node gets. */
function nextIndex(lab: LabLayout): number {
  return Math.max(0, ...lab.nodes.map((n) => n.index)) + 1;
}

/** addNodeToLayout adds a node named name (or <prefix>-<index>) to the layout. */
export function addNodeToLayout(lab: LabLayout, name?: string): LabNode {
  const index = nextIndex(lab);
  if (10 + index > 254) throw new LabError(`the lab's subnet ${lab.subnet} has no address left for another node`);
  const node: LabNode = { name: name ?? `${lab.prefix}-${index}`, index, ip: nodeAddress(lab.subnet, index) };
  lab.nodes.push(node);
  return node;
}

/** assignZones gives every node its round-robin zone (the host node is number 0 when there is one). */
function assignZones(lab: LabLayout, hasHost: boolean): void {
  lab.nodes.forEach((n, i) => {
    n.zone = zoneOf(lab.zones, i + (hasHost ? 1 : 0));
  });
}

/**
 * finishNodes waits for nodes to register with a podCIDR, records it, installs the routes,
 * labels zones and waits for every node to be Ready.
 */
async function finishNodes(ctx: ComponentContext, lab: LabLayout, opts: { hostNode?: string; nodes: readonly LabNode[]; progress: Progress }): Promise<void> {
  const apiHost = labAPIServerHost(ctx.config);
  await recordPodCIDRs(ctx, lab, opts.hostNode, opts.nodes);
  await syncRoutes(lab, apiHost);
  opts.progress(`host-gw routes: ${[...(lab.hostPodCIDR ? [`${opts.hostNode} ${lab.hostPodCIDR}`] : []), ...lab.nodes.map((n) => `${n.name} ${n.podCIDR} via ${n.ip}`)].join(', ')}`);
  if (lab.zones.length > 0) {
    if (opts.hostNode) await labelZone(ctx, opts.hostNode, zoneOf(lab.zones, 0)!);
    for (const n of lab.nodes) if (n.zone) await labelZone(ctx, n.name, n.zone);
  }
  for (const n of opts.nodes) {
    const t0 = Date.now();
    await waitForNode(ctx, n.name, 'Ready', isNodeReady);
    opts.progress(`${n.name}: Ready (${((Date.now() - t0) / 1000).toFixed(1)}s)${n.zone ? ` in zone ${n.zone}` : ''}`);
  }
}

/**
 * upLab brings the lab's worker nodes up (the control plane and the host node already run):
 * the layout from lab.json, grown to opts.nodes; on a failure, what this call made is removed
 * again (the layout stays, so the next attempt makes the same nodes).
 */
export async function upLab(ctx: ComponentContext, opts: LabUpOptions, progress: Progress = () => {}): Promise<LabLayout> {
  const home = ctx.config.home;
  const apiHost = labAPIServerHost(ctx.config);
  const existing = loadLab(home);
  const lab = existing ?? (await newLab(home, opts.prefix ?? 'lab', opts.zones ?? []));
  if (existing) await reserveSubnet(home, existing.subnet);
  const hasHost = opts.hostNode !== undefined;
  const want = opts.nodes === undefined ? lab.nodes.length : opts.nodes - (hasHost ? 1 : 0);
  if (want < lab.nodes.length) {
    releaseSubnet(home, lab.subnet);
    throw new LabError(`the lab already has ${lab.nodes.length + (hasHost ? 1 : 0)} nodes; remove one with: skiff lab node remove NAME`);
  }
  while (lab.nodes.length < want) addNodeToLayout(lab);
  if (opts.zones) lab.zones = opts.zones;
  assignZones(lab, hasHost);
  saveLab(home, lab);
  progress(`Lab bridge ${lab.bridge} on ${lab.subnet} (host ${lab.gateway}); nodes reach the apiserver at ${apiHost}:${ctx.config.apiserverPort}`);
  try {
    await ensureHostSink(ctx.config);
    await ensureBridge(lab);
    // In parallel: most of a node's start is containerd's and the kubelet's own start-up.
    const starts = await Promise.allSettled(lab.nodes.map((n) => startNode(ctx, lab, n, progress)));
    // Every start has ended before a failure's cleanup runs: none makes a link behind it.
    const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    await finishNodes(ctx, lab, { hostNode: opts.hostNode, nodes: lab.nodes, progress });
  } catch (err) {
    // Control-plane members on the bridge keep running: `skiff lab down` removes them.
    const nodesOnly = netnsMembers(lab).length > 0;
    progress(`failed: ${(err as Error).message}; removing the lab's ${nodesOnly ? "nodes'" : ''} namespaces, links and routes`);
    await teardownLab(ctx, lab, { nodesOnly }).catch((e: unknown) => progress(`cleanup: ${(e as Error).message}`));
    throw err;
  }
  return lab;
}

/** findNode is the lab node named name, or a LabError listing the lab's nodes. */
export function findNode(lab: LabLayout, name: string): LabNode {
  const node = lab.nodes.find((n) => n.name === name);
  if (!node) throw new LabError(`no lab node "${name}" (the lab's nodes: ${lab.nodes.map((n) => n.name).join(', ') || 'none'})`);
  return node;
}

/** addLabNode makes and starts a new node named name (a name that is taken is refused); on failure nothing of it stays. */
export async function addLabNode(ctx: ComponentContext, lab: LabLayout, name: string, opts: { hostNode?: string }, progress: Progress = () => {}): Promise<LabNode> {
  const problem = nodeNameProblem(name);
  if (problem) throw new LabError(problem);
  if (lab.nodes.some((n) => n.name === name) || lab.controlPlane?.some((m) => m.name === name) || name === opts.hostNode) throw new LabError(`node "${name}" already exists in the lab`);
  const taken = await adminClient(ctx).get<Node>(Nodes, '', name).then(() => true, (err: unknown) => (isNotFound(err) ? false : Promise.reject(err)));
  if (taken) throw new LabError(`a Node named "${name}" already exists in the cluster`);
  const node = addNodeToLayout(lab, name);
  node.zone = zoneOf(lab.zones, lab.nodes.length - 1 + (opts.hostNode ? 1 : 0));
  try {
    await ensureHostSink(ctx.config);
    await startNode(ctx, lab, node, progress);
    await finishNodes(ctx, lab, { hostNode: opts.hostNode, nodes: [node], progress });
  } catch (err) {
    progress(`failed: ${(err as Error).message}; removing ${name}`);
    await removeLabNode(ctx, lab, node).catch(() => undefined);
    throw err;
  }
  saveLab(ctx.config.home, lab);
  return node;
}

/** removeLabNode tears node down, deletes its Node object, its routes on other nodes, its data and credentials. */
export async function removeLabNode(ctx: ComponentContext, lab: LabLayout, node: LabNode): Promise<void> {
  await teardownNode(ctx, lab, node);
  if (node.podCIDR) {
    for (const other of lab.nodes) {
      if (other !== node && existsSync(netnsPath(other))) await ok('ip', ['-n', netnsName(other), 'route', 'del', node.podCIDR]);
    }
  }
  await removeNodeObject(ctx, node.name).catch(() => undefined);
  removeNodeCredentials(ctx, node);
  rmSync(nodeDir(ctx.config.home, node), { recursive: true, force: true });
  for (const p of labComponentNames) rmSync(logFile(ctx, processName(node, p)), { force: true });
  lab.nodes = lab.nodes.filter((n) => n !== node);
  saveLab(ctx.config.home, lab);
}

/** stopLabNode is a node losing power: SIGKILL for its processes, its veth cut. */
export async function stopLabNode(lab: LabLayout, ctx: ComponentContext, node: LabNode): Promise<void> {
  await killNode(ctx, node);
  await setNodeLink(lab, node, false);
}

/** startLabNode brings a stopped node back: its veth up, its processes started, its routes in place. */
export async function startLabNode(ctx: ComponentContext, lab: LabLayout, node: LabNode, progress: Progress = () => {}): Promise<void> {
  await setNodeLink(lab, node, true);
  await startNode(ctx, lab, node, progress);
  await syncRoutes(lab, labAPIServerHost(ctx.config));
}

/** memberName is the lab's name of control-plane member n. */
export function memberName(prefix: string, n: number): string {
  return `${prefix}-cp-${n}`;
}

/** memberAddress is member n's address in subnet (.n: below the nodes' .11 and up, the host being .1). */
export function memberAddress(subnet: string, n: number): string {
  return subnet.replace(/\.0\/24$/, `.${n}`);
}

/** memberVeth is the host end of a namespaced member's veth. */
export function memberVeth(lab: LabLayout, m: Pick<LabMember, 'member'>): string {
  return `${lab.bridge}c${m.member}`;
}

/** netnsMembers are the lab's control-plane members that live in a namespace. */
export function netnsMembers(lab: LabLayout): (LabMember & { ip: string })[] {
  return (lab.controlPlane ?? []).filter((m): m is LabMember & { ip: string } => m.ip !== undefined);
}

/**
 * planControlPlane gives the lab count control-plane members (member 1 on this machine, the
 * others in namespaces) once; a lab whose members are recorded keeps them: their etcd data
 * names its peers, so the count cannot change.
 */
export function planControlPlane(lab: LabLayout, count: number): LabMember[] {
  if (count < 2 || count > maxControlPlaneMembers) throw new LabError(`a lab's control plane has 2 to ${maxControlPlaneMembers} members, not ${count}`);
  if (lab.controlPlane) {
    if (lab.controlPlane.length !== count) throw new LabError(`the lab's control plane has ${lab.controlPlane.length} members; it cannot become ${count}: skiff lab down --purge, then up again`);
    return lab.controlPlane;
  }
  const taken = new Set(lab.nodes.map((n) => n.name));
  lab.controlPlane = Array.from({ length: count }, (_, i) => {
    const m: LabMember = { name: memberName(lab.prefix, i + 1), member: i + 1 };
    if (taken.has(m.name)) throw new LabError(`node "${m.name}" already exists in the lab`);
    if (i > 0) m.ip = memberAddress(lab.subnet, i + 1);
    return m;
  });
  return lab.controlPlane;
}

/** memberNetnsConfig is the lab's members as the cluster config places them (ClusterConfig.controlPlaneNetns). */
export function memberNetnsConfig(lab: LabLayout): MemberNetns[] {
  return netnsMembers(lab).map((m) => ({ member: m.member, netns: netnsName(m), ip: m.ip, gateway: lab.gateway }));
}

/**
 * prepareLabControlPlane makes (or loads) home's lab layout with count control-plane members and
 * their namespaces and veths on the bridge, before the control plane starts; it returns the
 * placement for the cluster config. A failure removes the networks it made.
 */
export async function prepareLabControlPlane(config: ClusterConfig, count: number, opts: { prefix?: string; zones?: string[] }, progress: Progress = () => {}): Promise<LabLayout> {
  const home = config.home;
  const apiHost = labAPIServerHost(config);
  const existing = loadLab(home);
  const lab = existing ?? (await newLab(home, opts.prefix ?? 'lab', opts.zones ?? []));
  if (existing) await reserveSubnet(home, existing.subnet);
  try {
    planControlPlane(lab, count);
    saveLab(home, lab);
    await ensureBridge(lab);
    for (const m of netnsMembers(lab)) await ensureNetns(lab, m, memberVeth(lab, m), apiHost);
  } catch (err) {
    await teardownLab({ config, paths: { home } } as ComponentContext, { ...lab, nodes: [] }).catch(() => undefined);
    if (!existing) rmSync(labFile(home), { force: true });
    throw err;
  }
  progress(`Lab bridge ${lab.bridge} on ${lab.subnet} (host ${lab.gateway}); control-plane members ${netnsMembers(lab).map((m) => `${m.name} at ${m.ip} in ${netnsName(m)}`).join(', ')}`);
  return lab;
}

/** findMember is the lab's control-plane member named name, if any. */
export function findMember(lab: LabLayout, name: string): LabMember | undefined {
  return lab.controlPlane?.find((m) => m.name === name);
}

/** memberComponents are member m's processes (etcd, apiserver, controller manager, scheduler) in start order. */
export function memberComponents(config: ClusterConfig, m: Pick<LabMember, 'member'>): Component[] {
  const names = ['etcd', 'apiserver', 'controller-manager', 'scheduler'].map((c) => `${c}-${m.member}`);
  return names.map((n) => controlPlaneComponents(config).find((c) => c.name === n)).filter((c): c is Component => c !== undefined);
}

/**
 * stopLabMember is a control-plane machine losing power: SIGKILL for its etcd, apiserver,
 * controller manager and scheduler at once, the supervisor told to forget them (so they stay
 * down), and its veth cut.
 */
export async function stopLabMember(ctx: ComponentContext, lab: LabLayout, m: LabMember): Promise<void> {
  const parts = memberComponents(ctx.config, m);
  const states = parts.map((c) => readState(stateFile(ctx, c.name)));
  for (const s of states) if (s) killNow(s);
  // The supervisor restarts an exited component after a back-off (1 s at first): forgetting them
  // now keeps them down; a process it restarted in between is stopped by the same request.
  const launcher = supervisorLauncher(ctx);
  await Promise.all(parts.map((c) => launcher.stop(c).catch(() => undefined)));
  for (const s of states) for (let i = 0; s && i < 200 && isAlive(s); i++) await sleep(25);
  if (m.ip && (await ok('ip', ['link', 'show', 'dev', memberVeth(lab, m)]))) await sh('ip', ['link', 'set', memberVeth(lab, m), 'down']);
}

/**
 * startLabMember brings a stopped member back: its veth up, then its processes under the
 * supervisor: etcd first (it rejoins on its data and catches up from the leader), then its
 * apiserver, controller manager and scheduler together (the latter two reach the API through the
 * balancer, not through their own member's apiserver), each waited for.
 */
export async function startLabMember(ctx: ComponentContext, lab: LabLayout, m: LabMember, progress: Progress = () => {}): Promise<void> {
  const t0 = Date.now();
  if (m.ip) await ensureNetns(lab, { name: m.name, ip: m.ip }, memberVeth(lab, m), labAPIServerHost(ctx.config));
  await ensureSupervisor(ctx);
  const launcher = supervisorLauncher(ctx);
  const parts = memberComponents(ctx.config, m);
  for (const c of parts) await c.prepare?.(ctx);
  const start = async (c: Component) => {
    const state = await launcher.start(c);
    await waitForHealthy(c.health(ctx), { timeoutMs: c.startTimeoutMs, process: state });
  };
  const [etcd, ...rest] = parts;
  if (etcd) await start(etcd);
  const started = await Promise.allSettled(rest.map(start));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  progress(`${m.name}: etcd, apiserver, controller manager and scheduler up${m.ip ? ` in ${netnsName(m)} at ${m.ip}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

/** membersNote says where each of a lab's control-plane members runs, for `skiff status` (its processes are the rows <component>-<member>). */
export function membersNote(lab: LabLayout | undefined): string {
  if (!lab?.controlPlane) return '';
  const lines = lab.controlPlane.map((m) => `  ${m.name}: etcd-${m.member}, apiserver-${m.member}, controller-manager-${m.member}, scheduler-${m.member} ${m.ip ? `in ${netnsName(m)} at ${m.ip}` : "on this machine's network"}`);
  return `\nControl-plane members (skiff lab node stop|start NAME):\n${lines.join('\n')}\n`;
}
