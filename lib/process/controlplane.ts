// A control plane with several members on one machine: `skiff up --control-plane 3` runs an etcd,
// an apiserver, a controller manager and a scheduler per member, and one TCP load balancer in
// front of the apiservers (lib/net/lb.ts) that every client (kubectl, the node's components, the
// members' own controller managers and schedulers) reaches them through.
//
// Members share this machine's loopback and differ by port, not by address: the load balancer
// holds the apiserver port on bindAddress (0.0.0.0 by default), and Linux refuses a listener on
// 127.0.0.x:6443 while a wildcard listener holds 6443, so the members' apiservers need ports of
// their own anyway; ports also let the test harness give each member free ports. Member n (from 1)
// uses, unless config.controlPlanePorts says otherwise:
//   etcd client 2379+10(n-1), peer 2380+10(n-1), metrics 2381+10(n-1) (kubeadm's metrics port),
//   apiserver 6443+n (the LB keeps 6443),
//   controller manager 10257+100(n-1), scheduler 10259+100(n-1).
// etcd members talk to each other over mutual TLS with certificates from a CA of their own
// (pki/etcd-peer/), so no certificate the cluster CA issues can pose as a peer.
//
// In a lab (`skiff lab up --control-plane N`, lib/process/lab.ts) members 2..N run in network
// namespaces of their own instead (config.controlPlaneNetns): every process is started with
// `nsenter --net=/run/netns/<netns>`, listens on the namespace's address with the standard ports
// (the namespace has its ports to itself), and has certificates for that address of its own
// (etcd serving and peer, apiserver serving, the controller manager's and scheduler's health).
// Member 1 stays on this machine's network, as with `skiff up --control-plane N`.

import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { writeKubeconfig } from '../kubeconfig.js';
import { apiserverHosts, ensureCA, ensurePeerCert, ensureServingCert } from '../pki.js';
import {
  apiserver,
  apiserverURL,
  controllerManager,
  etcd,
  etcdEndpoint,
  nodeEntry,
  scheduler,
  type ClusterConfig,
  type Component,
  type ComponentContext,
  components,
  containerd,
  kubelet,
  kubernetesServiceIP,
  proxy,
  type MemberNetns,
  type MemberPorts,
} from './components.js';

export type { MemberNetns, MemberPorts };


/** maxControlPlaneMembers bounds --control-plane (etcd's advice: seven members at most). */
export const maxControlPlaneMembers = 7;

/** loadBalancerName is the component name of the apiservers' load balancer. */
export const loadBalancerName = 'apiserver-lb';

/** memberCount is how many control-plane members config asks for (1: the classic single control plane). */
export function memberCount(config: ClusterConfig): number {
  return Math.max(1, config.controlPlaneMembers ?? 1);
}

/** netnsMemberPorts are the ports of a member in a namespace of its own: the standard ones. */
export const netnsMemberPorts: MemberPorts = { etcdClientPort: 2379, etcdPeerPort: 2380, etcdMetricsPort: 2381, apiserverPort: 6443, controllerManagerPort: 10257, schedulerPort: 10259 };

/** memberNetns is where member n runs when a lab put it in a network namespace, else undefined (this machine's network). */
export function memberNetns(config: ClusterConfig, n: number): MemberNetns | undefined {
  return config.controlPlaneNetns?.find((m) => m.member === n);
}

/** inMemberNetns runs cmd in member n's namespace when it has one (nsenter --net keeps the host's mounts, unlike ip netns exec). */
function inMemberNetns(config: ClusterConfig, n: number, cmd: { command: string; args: string[]; env?: NodeJS.ProcessEnv }): { command: string; args: string[]; env?: NodeJS.ProcessEnv } {
  const ns = memberNetns(config, n);
  return ns ? { ...cmd, command: 'nsenter', args: [`--net=/run/netns/${ns.netns}`, cmd.command, ...cmd.args] } : cmd;
}

/**
 * reachableHost is the address this machine's listeners are reached at from a lab namespace:
 * the bind address, or the advertise address when the apiserver binds every interface.
 */
export function reachableHost(config: ClusterConfig): string {
  const any = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' || config.bindAddress === '';
  return any ? config.advertiseAddress : config.bindAddress;
}

/** memberPorts are member n's ports (n from 1): the standard ones in a namespace, config.controlPlanePorts, else the defaults above. */
export function memberPorts(config: ClusterConfig, n: number): MemberPorts {
  if (memberNetns(config, n)) return netnsMemberPorts;
  const given = config.controlPlanePorts?.[n - 1];
  if (given) return given;
  const i = n - 1;
  return {
    etcdClientPort: config.etcdClientPort + 10 * i,
    etcdPeerPort: config.etcdPeerPort + 10 * i,
    etcdMetricsPort: config.etcdClientPort + 2 + 10 * i,
    apiserverPort: config.apiserverPort + n,
    controllerManagerPort: config.controllerManagerPort + 100 * i,
    schedulerPort: config.schedulerPort + 100 * i,
  };
}

/** etcdMemberName is member n's etcd --name (and the prefix of its data dir). */
export function etcdMemberName(n: number): string {
  return `etcd-${n}`;
}

/** etcdMemberDataDir is where member n's etcd keeps its data: <home>/etcd-<n>. */
export function etcdMemberDataDir(ctx: ComponentContext, n: number): string {
  return join(ctx.paths.home, etcdMemberName(n));
}

/**
 * etcdMemberEndpoints are the client URLs of every etcd member as a process of member `from`
 * reaches them, the apiservers' --etcd-servers: a member in a namespace at its address; one on
 * this machine at loopback, or at the advertise address from inside a namespace.
 */
export function etcdMemberEndpoints(config: ClusterConfig, from = 1): string[] {
  const inside = memberNetns(config, from) !== undefined;
  return Array.from({ length: memberCount(config) }, (_, i) => {
    const ns = memberNetns(config, i + 1);
    const port = memberPorts(config, i + 1).etcdClientPort;
    if (ns) return `https://${ns.ip}:${port}`;
    return inside ? `https://${config.advertiseAddress}:${port}` : etcdEndpoint({ ...config, etcdClientPort: port });
  });
}

/** memberContext is ctx as member n sees it: its own ports in place of the cluster's. */
function memberContext(ctx: ComponentContext, n: number): ComponentContext {
  const p = memberPorts(ctx.config, n);
  return {
    config: { ...ctx.config, etcdClientPort: p.etcdClientPort, etcdPeerPort: p.etcdPeerPort, apiserverPort: p.apiserverPort, controllerManagerPort: p.controllerManagerPort, schedulerPort: p.schedulerPort },
    paths: { ...ctx.paths, etcdDataDir: etcdMemberDataDir(ctx, n) },
  };
}

/** etcdPeerDir holds the peer CA and the peer certificate every etcd member presents. */
function etcdPeerDir(ctx: ComponentContext): string {
  return join(ctx.paths.pki, 'etcd-peer');
}

/**
 * etcdMemberArgs are member n's etcd flags: the single etcd's (lib/process/components.ts, so its
 * client-side settings, TLS included, carry over) with the member's name, data dir and URLs, a
 * static initial cluster of every member (ignored by etcd once the data dir holds a member, so a
 * restarted member rejoins with its own data), and peer URLs over mutual TLS.
 */
export function etcdMemberArgs(ctx: ComponentContext, n: number): string[] {
  const { config } = ctx;
  const member = memberContext(ctx, n);
  // Peers and clients of other machines (a member that `skiff join --control-plane` adds) reach
  // the members at the advertise address; loopback stays for the local clients and for members
  // whose data dir recorded loopback peer URLs.
  const adv = config.advertiseAddress;
  const ns = memberNetns(config, n);
  // In a namespace a member has its address only (its loopback is no one else's).
  const both = (port: number) => (ns ? `https://${ns.ip}:${port}` : adv === '127.0.0.1' ? `https://127.0.0.1:${port}` : `https://127.0.0.1:${port},https://${adv}:${port}`);
  const peerURL = (m: number) => `https://${memberNetns(config, m)?.ip ?? adv}:${memberPorts(config, m).etcdPeerPort}`;
  const initialCluster = Array.from({ length: memberCount(config) }, (_, i) => `${etcdMemberName(i + 1)}=${peerURL(i + 1)}`).join(',');
  const peer = etcdPeerDir(ctx);
  const clientPort = memberPorts(config, n).etcdClientPort;
  let args = etcd.command(member).args;
  const set: [string, string][] = [
    ['--name', etcdMemberName(n)],
    ['--data-dir', etcdMemberDataDir(ctx, n)],
    ['--listen-client-urls', both(clientPort)],
    ['--advertise-client-urls', `https://${ns?.ip ?? adv}:${clientPort}`],
    ['--listen-peer-urls', both(memberPorts(config, n).etcdPeerPort)],
    ['--initial-advertise-peer-urls', peerURL(n)],
    ['--initial-cluster', initialCluster],
    ['--initial-cluster-state', 'new'],
    // A token of the home's own: members of another cluster on this machine can never join ours.
    ['--initial-cluster-token', `skiff-${Buffer.from(ctx.paths.home).toString('base64url').slice(-24)}`],
    ['--listen-metrics-urls', `http://${ns?.ip ?? '127.0.0.1'}:${memberPorts(config, n).etcdMetricsPort}`],
    ['--peer-cert-file', join(peer, `${peerCertName(config, n)}.crt`)],
    ['--peer-key-file', join(peer, `${peerCertName(config, n)}.key`)],
    ['--peer-trusted-ca-file', join(peer, 'ca.crt')],
    ['--peer-client-cert-auth', 'true'],
  ];
  if (ns) {
    // The member's own serving certificate, for its address (etcd's CA, as the shared one).
    set.push(['--cert-file', join(ctx.paths.etcdPKI, `server-${n}.crt`)], ['--key-file', join(ctx.paths.etcdPKI, `server-${n}.key`)]);
  }
  for (const [flag, value] of set) args = withFlag(args, flag, value);
  return args;
}

/** peerCertName is the file name (without .crt/.key) of member n's etcd peer certificate: its own in a namespace, else the one every member on this machine shares. */
function peerCertName(config: ClusterConfig, n: number): string {
  return memberNetns(config, n) ? `peer-${n}` : 'peer';
}

/** withFlag sets a flag in args, given as `--flag value` or `--flag=value`, replacing any value it had. */
export function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) {
      // `--flag value` (a boolean flag may stand alone: its next word is another flag).
      if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) i++;
      continue;
    }
    if (args[i]!.startsWith(`${flag}=`)) continue;
    out.push(args[i]!);
  }
  return [...out, `${flag}=${value}`];
}

const etcdMembers = new Map<number, Component>();
const apiserverMembers = new Map<number, Component>();
const controllerManagerMembers = new Map<number, Component>();
const schedulerMembers = new Map<number, Component>();

/** etcdMember is member n's etcd. */
export function etcdMember(n: number): Component {
  let c = etcdMembers.get(n);
  if (c) return c;
  c = {
    name: etcdMemberName(n),
    prepare: async (ctx) => {
      await etcd.prepare!(ctx);
      await ensureCA(etcdPeerDir(ctx));
      const ns = memberNetns(ctx.config, n);
      if (ns) {
        // Peers check the address a peer dials from against its certificate: the namespace's own.
        await ensurePeerCert(etcdPeerDir(ctx), { name: peerCertName(ctx.config, n), commonName: `etcd-peer-${n}`, hosts: [ns.ip] });
        await ensureServingCert(ctx.paths.etcdPKI, { name: `server-${n}`, commonName: `etcd-server-${n}`, hosts: [ns.ip, '127.0.0.1', 'localhost'], clientAuth: true });
        return;
      }
      // Members on this machine reach the ones in lab namespaces from the lab bridge's address.
      const gateways = (ctx.config.controlPlaneNetns ?? []).map((m) => m.gateway);
      const hosts = ['127.0.0.1', 'localhost', ctx.config.advertiseAddress, ...gateways];
      await ensurePeerCert(etcdPeerDir(ctx), { name: 'peer', commonName: 'etcd-peer', hosts });
      // etcd's serving certificate also covers the advertise address, where joining members call MemberAdd.
      await ensureServingCert(ctx.paths.etcdPKI, { name: 'server', commonName: 'etcd-server', hosts: ['::1', ...hosts], clientAuth: true });
    },
    command: (ctx) => inMemberNetns(ctx.config, n, { command: process.env.SKIFF_ETCD_BIN ?? 'etcd', args: etcdMemberArgs(ctx, n) }),
    // etcd answers on its client port only once a quorum of members runs, and members start one
    // after another: a member counts as up once its metrics listener serves; the apiservers'
    // readiness shows whether the store has a quorum.
    health: ({ config }) => ({ url: `http://${memberNetns(config, n)?.ip ?? '127.0.0.1'}:${memberPorts(config, n).etcdMetricsPort}/metrics` }),
    startTimeoutMs: 30_000,
    stopGraceMs: 10_000,
  };
  etcdMembers.set(n, c);
  return c;
}

/**
 * apiserverMember is member n's apiserver: connected to every etcd member (the etcd client fails
 * over between them), on its own port, publishing the load balancer's port in the `kubernetes`
 * Endpoints (pods reach the apiservers through it, as clients on the machine do).
 */
export function apiserverMember(n: number): Component {
  let c = apiserverMembers.get(n);
  if (c) return c;
  c = {
    name: `apiserver-${n}`,
    prepare: async (ctx) => {
      await apiserver.prepare!(ctx);
      const ns = memberNetns(ctx.config, n);
      if (ns) {
        // What the shared certificate covers (clients reach every member through the balancer) and the namespace's address.
        const { config } = ctx;
        await ensureServingCert(ctx.paths.pki, { name: `apiserver-${n}`, commonName: 'kube-apiserver', hosts: apiserverHosts([config.advertiseAddress, kubernetesServiceIP(config), ...config.extraSANs, ns.ip]) });
      }
    },
    command: (ctx) => {
      const cmd = apiserver.command(memberContext(ctx, n));
      let args = cmd.args.map((a) => (a.startsWith('--etcd-servers=') ? `--etcd-servers=${etcdMemberEndpoints(ctx.config, n).join(',')}` : a));
      const ns = memberNetns(ctx.config, n);
      if (ns) {
        // It serves on the namespace's address; the kubernetes Endpoints keep naming the balancer
        // (--advertise-address stays the machine's): skiff's endpoint reconciler writes one address.
        args = withFlag(args, '--bind-address', ns.ip);
        args = withFlag(args, '--tls-cert-file', join(ctx.paths.pki, `apiserver-${n}.crt`));
        args = withFlag(args, '--tls-private-key-file', join(ctx.paths.pki, `apiserver-${n}.key`));
      }
      return inMemberNetns(ctx.config, n, { ...cmd, args: [...args, `--endpoint-port=${ctx.config.apiserverPort}`] });
    },
    health: (ctx) => {
      const ns = memberNetns(ctx.config, n);
      const check = apiserver.health(memberContext(ctx, n));
      return ns ? { ...check, url: `https://${ns.ip}:${netnsMemberPorts.apiserverPort}/readyz` } : check;
    },
    startTimeoutMs: apiserver.startTimeoutMs,
    stopGraceMs: apiserver.stopGraceMs,
  };
  apiserverMembers.set(n, c);
  return c;
}

/**
 * memberClient runs one more replica of an API client (controller manager, scheduler) for member
 * n: the same identity and kubeconfig (through the load balancer), its own health port; the
 * replicas hold the component's Lease in turn.
 */
function memberClient(base: Component, cache: Map<number, Component>, n: number): Component {
  let c = cache.get(n);
  if (c) return c;
  c = {
    name: `${base.name}-${n}`,
    prepare: async (ctx) => {
      await base.prepare!(ctx);
      const ns = memberNetns(ctx.config, n);
      if (!ns) return;
      // In a namespace: the balancer at this machine's address (loopback is the namespace's own),
      // and a health port on the namespace's address.
      const { config, paths } = ctx;
      await ensureServingCert(paths.pki, { name: `${base.name}-${n}-serving`, commonName: `${base.name}-${n}`, hosts: [ns.ip, '127.0.0.1', 'localhost'] });
      const identity = base.name === 'scheduler' ? 'system:kube-scheduler' : 'system:kube-controller-manager';
      writeKubeconfig(join(paths.pki, `${base.name}-${n}.kubeconfig`), {
        server: `https://${reachableHost(config)}:${config.apiserverPort}`,
        caFile: join(paths.pki, 'ca.crt'),
        clientCert: join(paths.pki, `${base.name}-client.crt`),
        clientKey: join(paths.pki, `${base.name}-client.key`),
        user: identity,
      });
    },
    command: (ctx) => {
      const cmd = base.command(memberContext(ctx, n));
      const ns = memberNetns(ctx.config, n);
      if (!ns) return cmd;
      let args = cmd.args;
      args = withFlag(args, '--kubeconfig', join(ctx.paths.pki, `${base.name}-${n}.kubeconfig`));
      args = withFlag(args, '--bind-address', ns.ip);
      args = withFlag(args, '--tls-cert-file', join(ctx.paths.pki, `${base.name}-${n}-serving.crt`));
      args = withFlag(args, '--tls-private-key-file', join(ctx.paths.pki, `${base.name}-${n}-serving.key`));
      return inMemberNetns(ctx.config, n, { ...cmd, args });
    },
    health: (ctx) => {
      const check = base.health(memberContext(ctx, n));
      const ns = memberNetns(ctx.config, n);
      return ns ? { ...check, url: check.url.replace('//127.0.0.1:', `//${ns.ip}:`) } : check;
    },
    startTimeoutMs: base.startTimeoutMs,
    stopGraceMs: base.stopGraceMs,
  };
  cache.set(n, c);
  return c;
}

/** loadBalancer is the one address of the apiservers: `skiff lb`, health-checking each by /readyz. */
export const loadBalancer: Component = {
  name: loadBalancerName,
  command: (ctx) => {
    const { config, paths } = ctx;
    const local = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' || config.bindAddress === '' ? '127.0.0.1' : config.bindAddress;
    const backends = Array.from({ length: memberCount(config) }, (_, i) => `${memberNetns(config, i + 1)?.ip ?? local}:${memberPorts(config, i + 1).apiserverPort}`);
    return {
      command: process.execPath,
      args: [
        '--enable-source-maps',
        nodeEntry('cli/main.js'),
        'lb',
        `--listen=${config.bindAddress}:${config.apiserverPort}`,
        ...backends.map((b) => `--backend=${b}`),
        `--ca-file=${join(paths.pki, 'ca.crt')}`,
        // Members other machines add (skiff join --control-plane) are learned from kubeadm-config.
        `--discover-kubeconfig=${paths.adminKubeconfig}`,
        `--advertise-address=${config.advertiseAddress}`,
        `-v=${config.verbosity}`,
      ],
    };
  },
  // Through the balancer: healthy once it forwards to a ready apiserver.
  health: ({ config, paths }) => ({ url: `${apiserverURL(config)}/readyz`, ca: readFileSync(join(paths.pki, 'ca.crt'), 'utf8') }),
  startTimeoutMs: 30_000,
  stopGraceMs: 5_000,
};

/**
 * controlPlaneComponents are the processes of a control plane with several members, in start
 * order: every etcd (they only reach a quorum together), every apiserver, the load balancer, then
 * the controller managers and schedulers. Empty for a single member.
 */
export function controlPlaneComponents(config: ClusterConfig): Component[] {
  const count = memberCount(config);
  if (count < 2) return [];
  const each = (f: (n: number) => Component) => Array.from({ length: count }, (_, i) => f(i + 1));
  return [
    ...each(etcdMember),
    ...each(apiserverMember),
    loadBalancer,
    ...each((n) => memberClient(controllerManager, controllerManagerMembers, n)),
    ...each((n) => memberClient(scheduler, schedulerMembers, n)),
  ];
}

/** replacedBySingleMember are the single control plane's components that controlPlaneComponents replaces. */
export const replacedBySingleMember = ['etcd', 'apiserver', 'controller-manager', 'scheduler'];

/** clusterComponents are the processes a cluster with config runs: all of them, the real node's (containerd, kubelet, proxy) only when it has one. */
export function clusterComponents(config: ClusterConfig): readonly Component[] {
  const node = config.realNode ? components : components.filter((c) => c !== containerd && c !== kubelet && c !== proxy);
  const members = controlPlaneComponents(config);
  return members.length === 0 ? node : [...members, ...node.filter((c) => !replacedBySingleMember.includes(c.name))];
}

/** componentNamed finds a component by name. */
export function componentNamed(name: string, config?: ClusterConfig): Component | undefined {
  return components.find((c) => c.name === name) ?? (config ? controlPlaneComponents(config).find((c) => c.name === name) : undefined);
}
