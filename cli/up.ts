// `skiff up`: make the cluster's PKI and kubeconfig, make sure the home's service manager runs,
// then have it start each component in order and wait for it to be healthy. Components already
// running from this home are left alone. The service manager stays when `up` returns: it starts
// a component that exits again, with back-off (lib/process/servicemanager.ts).

import { isIP } from 'node:net';
import { validateNonSpecialIP } from '../lib/api/core/validation.js';
import { hostAddresses } from '../lib/pki.js';
import { logFile } from '../lib/process/cluster.js';
import { ensureSupervisor, supervisorLauncher, supervisorName } from '../lib/process/daemon.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clusterPaths, components, startDependencies, type ClusterConfig, type Component, type ComponentContext } from '../lib/process/components.js';
import { controlPlaneComponents, maxControlPlaneMembers, memberCount, clusterComponents } from '../lib/process/controlplane.js';
import { contextFor, defaultConfig, ensureRunning, loadConfig, prepareCluster, type Launcher, type StartResult } from '../lib/process/cluster.js';
import { homeFlag, intFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Start a skiff cluster on this machine (or make sure it runs).

Usage:
  skiff up [flags]

Flags:
      --home DIR               cluster home (env SKIFF_HOME, default ~/.skiff)
      --etcd-port PORT         etcd client port (env SKIFF_ETCD_PORT, default 2379)
      --etcd-peer-port PORT    etcd peer port (env SKIFF_ETCD_PEER_PORT, default 2380)
      --secure-port PORT       apiserver HTTPS port (env SKIFF_APISERVER_PORT, default 6443)
      --bind-address IP        apiserver listen address (default 0.0.0.0)
      --advertise-address IP   address the apiserver advertises (default: first host IPv4)
      --apiserver-cert-extra-sans LIST
                               extra hosts (comma-separated) for the apiserver certificate
      --simulated-nodes N      run N simulated Nodes (sim-0 … sim-N-1) with no containers,
                               for scheduling and controller experiments (default 0)
      --cluster-cidr CIDR      pod network Nodes' podCIDRs are cut from (default 10.244.0.0/16)
      --service-cidr CIDR      range ClusterIPs are allocated from (default 10.96.0.0/12)
      --proxy-mode MODE        skiff-proxy's mode: iptables (default) or nftables
      --control-plane N        run N control-plane members (etcd, apiserver, controller
                               manager, scheduler each) behind one load balancer on the
                               apiserver port (default 1; at most 7; see README)
      --apiserver-workers N    apiserver processes serving its port (default 2 from
                               4 cores, else 1; see README)
      --real-node BOOL         run a containerd and a kubelet here: one real Node that runs
                               pods (default true; needs root and scripts/setup.sh's packages)
      --nodes N, --zones LIST  make it a lab of N nodes (see skiff lab up --help)
  -v, --v N                    log verbosity of the components (default 0)
      --only LIST              start only these components (comma-separated; for debugging)
  -h, --help                   show this help

Ports and addresses given once are remembered in <home>/cluster.json for later commands.
`;

const options = {
  ...homeFlag,
  'etcd-port': { type: 'string' },
  'etcd-peer-port': { type: 'string' },
  'secure-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'advertise-address': { type: 'string' },
  'apiserver-cert-extra-sans': { type: 'string' },
  'simulated-nodes': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'real-node': { type: 'string' },
  'proxy-mode': { type: 'string' },
  'control-plane': { type: 'string' },
  'apiserver-workers': { type: 'string' },
  v: { type: 'string', short: 'v' },
  only: { type: 'string' },
} as const;

/** upConfig merges flags over the environment over the saved config over the defaults. */
export function upConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): { config: ClusterConfig; only?: string[]; help: boolean } {
  const { values } = parseFlags(argv, options);
  const home = resolveHome(values.home, env);
  const base = loadConfig(home) ?? defaultConfig(home);
  const pick = <T>(...xs: (T | undefined)[]): T | undefined => xs.find((x) => x !== undefined);
  const address = (flag: string, v: string | undefined) => {
    if (v !== undefined && isIP(v) === 0) throw new UsageError(`invalid value "${v}" for --${flag}: want an IP address`);
    return v;
  };
  const config: ClusterConfig = {
    ...base,
    etcdClientPort: pick(intFlag('--etcd-port', values['etcd-port']), intFlag('SKIFF_ETCD_PORT', env.SKIFF_ETCD_PORT)) ?? base.etcdClientPort,
    etcdPeerPort: pick(intFlag('--etcd-peer-port', values['etcd-peer-port']), intFlag('SKIFF_ETCD_PEER_PORT', env.SKIFF_ETCD_PEER_PORT)) ?? base.etcdPeerPort,
    apiserverPort: pick(intFlag('--secure-port', values['secure-port']), intFlag('SKIFF_APISERVER_PORT', env.SKIFF_APISERVER_PORT)) ?? base.apiserverPort,
    bindAddress: address('bind-address', values['bind-address']) ?? base.bindAddress,
    advertiseAddress: address('advertise-address', values['advertise-address']) ?? base.advertiseAddress,
    verbosity: intFlag('-v', values.v, 0, 10) ?? base.verbosity,
    extraSANs: values['apiserver-cert-extra-sans'] !== undefined ? splitList(values['apiserver-cert-extra-sans']) : base.extraSANs,
    simulatedNodes: intFlag('--simulated-nodes', values['simulated-nodes'], 0, 100_000) ?? base.simulatedNodes,
    clusterCIDR: values['cluster-cidr'] ?? base.clusterCIDR,
    serviceCIDR: values['service-cidr'] ?? base.serviceCIDR,
    realNode: boolFlag('--real-node', values['real-node']) ?? base.realNode,
    proxyMode: proxyModeFlag(values['proxy-mode']) ?? base.proxyMode,
    controlPlaneMembers: intFlag('--control-plane', values['control-plane'], 1, maxControlPlaneMembers) ?? base.controlPlaneMembers,
    apiserverWorkers: intFlag('--apiserver-workers', values['apiserver-workers'], 1, 64) ?? base.apiserverWorkers,
  };
  checkMemberChange(base, config);
  const only = values.only !== undefined ? splitList(values.only) : undefined;
  for (const name of only ?? []) {
    const known = [...components, ...controlPlaneComponents(config)];
    if (!known.some((c) => c.name === name)) {
      throw new UsageError(`unknown component "${name}" in --only (known: ${known.map((c) => c.name).join(', ')})`);
    }
  }
  return { config, only, help: values.help === true };
}

function proxyModeFlag(v: string | undefined): 'iptables' | 'nftables' | undefined {
  if (v === undefined || v === 'iptables' || v === 'nftables') return v;
  throw new UsageError(`invalid value "${v}" for --proxy-mode: want iptables or nftables`);
}

/**
 * checkMemberChange refuses to change the number of control-plane members of a home whose etcd
 * already holds data: members join a static initial cluster once, and a different count would
 * leave the data behind (or split it). The way there is skiff down, then removing the home.
 */
function checkMemberChange(base: ClusterConfig, config: ClusterConfig): void {
  const before = memberCount(base);
  const after = memberCount(config);
  if (before === after) return;
  const paths = clusterPaths(config.home);
  const data = before === 1 ? paths.etcdDataDir : join(config.home, 'etcd-1');
  if (existsSync(join(data, 'member'))) {
    throw new UsageError(
      `${config.home} already holds a control plane of ${before} member(s) (${data}); ` +
        `it cannot become ${after}: stop it with skiff down and use a new --home (or remove this one)`,
    );
  }
}

function boolFlag(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`invalid value "${v}" for ${name}: want true or false`);
}

function splitList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

async function up(argv: string[]): Promise<number> {
  const { config, only, help } = upConfig(argv);
  if (help) {
    process.stdout.write(usage);
    return 0;
  }
  return startCluster(config, only);
}

/** startCluster is `skiff up` once its flags are read (`skiff lab up` starts the control plane with it). */
export async function startCluster(config: ClusterConfig, only?: string[], opts: { quiet?: boolean } = {}): Promise<number> {
  const ctx = contextFor(config);
  const all = clusterComponents(config);
  const selected = only ? all.filter((c) => only.includes(c.name)) : all;
  const out = process.stdout;
  out.write(`Cluster home: ${config.home}\n`);
  await prepareCluster(ctx);
  out.write(`Certificates and kubeconfig ready in ${ctx.paths.pki}\n`);
  const note = advertiseNote(config.advertiseAddress);
  if (note) out.write(note);
  try {
    const manager = await ensureSupervisor(ctx);
    out.write(
      `Supervisor ${manager.started ? 'started' : 'already running'} (pid ${manager.state.pid}): ` +
        `restarts components that exit, with back-off; log ${logFile(ctx, supervisorName)}\n`,
    );
    await startConcurrently(ctx, selected, {
      end: (r, i, total) =>
        out.write(
          `[${i}/${total}] ${r.name} … ` +
            (r.outcome === 'started' ? `ready (${(r.elapsedMs / 1000).toFixed(1)}s, pid ${r.state.pid})\n` : `already running (pid ${r.state.pid})\n`),
        ),
      failed: (name, i, total) => out.write(`[${i}/${total}] ${name} … failed\n`),
      note: (_name, line) => out.write(`      ${line}\n`),
    }, supervisorLauncher(ctx));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.stderr.write(
      `Logs are in ${ctx.paths.logs}. The supervisor keeps starting what exits, with back-off; ` +
        `stop it and what did start with: skiff down --home ${config.home}\n`,
    );
    return 1;
  }
  if (!opts.quiet) {
    // `skiff user add` finds this home by itself when it is the default (or $SKIFF_HOME).
    const homeArg = config.home === resolveHome(undefined) ? '' : ` --home ${config.home}`;
    out.write(`\nskiff is up. To use it with kubectl:\n\n  export KUBECONFIG=${ctx.paths.adminKubeconfig}\n  kubectl get ns\n\n`);
    out.write(
      'That kubeconfig is a cluster admin (group system:masters); every other user gets only what RBAC grants. To add one:\n\n' +
        `  skiff user add jane${homeArg}\n  kubectl create rolebinding jane-edit --clusterrole=edit --user=jane --namespace=default\n\n`,
    );
  }
  return 0;
}

/** ConcurrentProgress receives one call per component as it is ready (or fails), in that order, numbered 1…total. */
export interface ConcurrentProgress {
  end?: (result: StartResult, index: number, total: number) => void;
  failed?: (name: string, index: number, total: number) => void;
  /** note gets the lines of a component's afterStart step (image imports). */
  note?: (name: string, line: string) => void;
}

/**
 * startConcurrently ensures each component runs, each as soon as the components it depends on
 * (startDependencies) are healthy and past their afterStart: etcd and containerd together, then
 * the apiserver, then every API client at once. What depends on a failed component is not
 * started; once the rest has settled it rejects with the first failure in list order.
 */
export async function startConcurrently(ctx: ComponentContext, list: readonly Component[], progress: ConcurrentProgress = {}, launcher?: Launcher): Promise<StartResult[]> {
  const deps = startDependencies(list);
  const started = new Map<string, Promise<StartResult>>();
  let reported = 0;
  let failed = false;
  const start = async (c: Component): Promise<StartResult> => {
    await Promise.all(deps.get(c.name)!.map((d) => started.get(d)!));
    let r: StartResult;
    try {
      r = await ensureRunning(ctx, c, launcher);
    } catch (err) {
      // Only the first failure is told: the rest follow from it or are the same cause.
      if (!failed) progress.failed?.(c.name, ++reported, list.length);
      failed = true;
      throw err;
    }
    progress.end?.(r, ++reported, list.length);
    await c.afterStart?.(ctx, (line) => progress.note?.(c.name, line));
    return r;
  };
  // Each waits only for components earlier in the list, so they are all in the map when it looks.
  for (const c of list) started.set(c.name, start(c));
  // Everything settles before the error is told, so no progress line follows it.
  const settled = await Promise.allSettled(started.values());
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<StartResult>).value);
}

/**
 * advertiseNote explains, before the apiserver starts, what an advertise address that may not be
 * an endpoint (loopback, as on a machine whose only interface is lo) means for the cluster.
 */
export function advertiseNote(address: string): string | undefined {
  const errs = validateNonSpecialIP(address, 'advertiseAddress');
  if (errs.length === 0) return undefined;
  const why = hostAddresses().length === 0 ? ' (this machine has no other IPv4 address)' : '';
  return (
    `Warning: the advertise address ${address}${why} cannot be an endpoint address: it ${errs.map((e) => e.detail).join('; ')}.\n` +
    '  The apiserver serves as usual, but publishes no Endpoints for the kubernetes Service:\n' +
    '  clients on this machine work; pods and other machines cannot reach the apiserver through it.\n' +
    '  Give a routable IP of this machine with --advertise-address to change that.\n'
  );
}

/** upCommand is `skiff up`. */
export const upCommand: CommandSpec = { name: 'up', summary: 'Start the cluster (idempotent)', usage, run: up };
