// `skiff lab`: a cluster of several real nodes on this machine. `lab up` starts the control plane
// and the host's node as `skiff up` does, then N-1 worker nodes, each in a network namespace of
// its own (lib/process/lab.ts); `lab node add|remove|stop|start` changes one node; `lab down`
// stops the whole lab and removes everything it made on the machine.

import { nodeName } from '../lib/process/components.js';
import { contextFor, loadConfig } from '../lib/process/cluster.js';
import { memberCount } from '../lib/process/controlplane.js';
import {
  addLabNode,
  findMember,
  findNode,
  labAPIServerHost,
  LabError,
  loadLab,
  memberNetnsConfig,
  netnsMembers,
  netnsName,
  nodeNameProblem,
  prepareLabControlPlane,
  removeLabNode,
  startLabMember,
  startLabNode,
  stopLabMember,
  stopLabNode,
  upLab,
  type LabLayout,
} from '../lib/process/lab.js';
import { downCommand } from './down.js';
import { homeFlag, intFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';
import { startCluster, upConfig } from './up.js';

const usage = `Run a cluster of several real nodes on this machine.

Usage:
  skiff lab up --nodes N [--zones a,b,c] [--control-plane M] [skiff up flags]
  skiff lab node add|remove|stop|start NAME
  skiff lab down [--purge]

Each node beyond the host's own lives in a network namespace (skiff-<node>) with a veth to the
lab's bridge (skl…, a /24 of 172.31.0.0/16), and runs its own containerd, kubelet and proxy.
Pods reach each other across nodes by their IPs (host-gw routes, no NAT). Names, addresses and
podCIDRs are kept in <home>/lab.json: the same nodes come back after down and up.

With --control-plane M (2 to 7), the control plane has M members: member 1 on this machine,
members 2..M each in a namespace of their own (<prefix>-cp-<n>, at the lab subnet's .n) running
an etcd (peer TLS), an apiserver, a controller manager and a scheduler; the admin kubeconfig
reaches every apiserver through one balancer (apiserver-lb). lab node stop|start work on members.

lab up flags (and every flag of skiff up):
      --nodes N            nodes in all, the host's own included (default: the lab's, or 3; 0 is
                           allowed with --control-plane)
      --control-plane M    control-plane members, 2..M in namespaces (skiff up's flag)
      --zones LIST         topology.kubernetes.io/zone values given to the nodes round-robin
      --node-prefix NAME   new nodes are named NAME-1, NAME-2 … (default lab)

lab node:
  add NAME     make a new node and start it
  remove NAME  stop it, delete its Node object, its namespace, routes and data
  stop NAME    what a power cut does: SIGKILL to its kubelet, proxy and containerd, its veth cut
               (a control-plane member <prefix>-cp-<n>: its etcd, apiserver, controller manager
               and scheduler)
  start NAME   bring a stopped node or member back

lab down flags:
      --purge      also delete the lab's data and the home (as skiff down --purge)

Common flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
  -h, --help       show this help
`;

/** labFlagNames are lab up's own flags; the rest go to skiff up. */
const labFlagNames = ['nodes', 'zones', 'node-prefix'] as const;

/** splitLabFlags takes lab up's own flags out of argv (`--nodes 3` or `--nodes=3`). */
export function splitLabFlags(argv: string[]): { lab: Partial<Record<(typeof labFlagNames)[number], string>>; rest: string[] } {
  const lab: Partial<Record<(typeof labFlagNames)[number], string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(a);
    const name = m?.[1] as (typeof labFlagNames)[number] | undefined;
    if (m && name && (labFlagNames as readonly string[]).includes(name)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
      lab[name] = value;
      continue;
    }
    rest.push(a);
  }
  return { lab, rest };
}

/** parseZones checks --zones: label values, at least one. */
export function parseZones(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const zones = v.split(',').map((z) => z.trim()).filter(Boolean);
  if (zones.length === 0) throw new UsageError('--zones needs at least one zone');
  for (const z of zones) {
    if (z.length > 63 || !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(z)) throw new UsageError(`invalid zone "${z}": want a label value (at most 63 letters, digits, '-', '_' or '.')`);
  }
  return zones;
}

/**
 * upIsLabUp says whether `skiff up ARGS` is a lab's up: it asks for nodes or zones, or its home
 * has a lab already (so `skiff up` brings the lab's nodes back too).
 */
export function upIsLabUp(argv: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (argv.some((a) => /^--(nodes|zones|node-prefix)(=|$)/.test(a))) return true;
  const i = argv.findIndex((a) => a === '--home' || a.startsWith('--home='));
  const flag = i < 0 ? undefined : argv[i]!.startsWith('--home=') ? argv[i]!.slice('--home='.length) : argv[i + 1];
  return loadLab(resolveHome(flag, env)) !== undefined;
}

const say = (line: string) => process.stdout.write(`  ${line}\n`);

async function labUp(argv: string[]): Promise<number> {
  const { lab: flags, rest } = splitLabFlags(argv);
  const { config, only, help } = upConfig(rest);
  if (help) {
    process.stdout.write(usage);
    return 0;
  }
  const existing = loadLab(config.home);
  const members = memberCount(config);
  const nodes = intFlag('--nodes', flags.nodes, members > 1 ? 0 : 1, 200) ?? (existing ? undefined : 3);
  const zones = parseZones(flags.zones);
  const prefix = flags['node-prefix'];
  if (prefix !== undefined && nodeNameProblem(`${prefix}-cp-1`)) throw new UsageError(`invalid --node-prefix "${prefix}": ${nodeNameProblem(`${prefix}-cp-1`)}`);
  if (process.getuid?.() !== 0) throw new LabError('a lab needs root (network namespaces, veths, routes)');
  labAPIServerHost(config);
  const t0 = Date.now();
  if (members > 1) {
    // The members' namespaces are on the lab bridge before the control plane starts in them.
    process.stdout.write('Control-plane members:\n');
    const lab = await prepareLabControlPlane(config, members, { prefix, zones }, say);
    config.controlPlaneNetns = memberNetnsConfig(lab);
  }
  process.stdout.write('Control plane and host node:\n');
  const code = await startCluster(config, only, { quiet: true });
  if (code !== 0) return code;
  const ctx = contextFor(config);
  process.stdout.write('\nLab nodes:\n');
  const lab = await upLab(ctx, { nodes, zones, prefix, hostNode: config.realNode ? nodeName(config) : undefined }, say);
  const count = lab.nodes.length + (config.realNode ? 1 : 0);
  const cp = lab.controlPlane ? ` and ${lab.controlPlane.length} control-plane members (${netnsMembers(lab).length} in namespaces)` : '';
  process.stdout.write(
    `\nThe lab is up: ${count} node${count === 1 ? '' : 's'} Ready${cp} in ${((Date.now() - t0) / 1000).toFixed(1)}s.\n\n` +
      `  export KUBECONFIG=${ctx.paths.adminKubeconfig}\n  kubectl get nodes -o wide\n\n` +
      `A node's shell: nsenter --net=/run/netns/${lab.nodes[0] ? netnsName(lab.nodes[0]) : 'skiff-<node>'} sh\n`,
  );
  return 0;
}

/** labContext loads a home that has a lab, or fails saying how to make one. */
function labContext(home: string): { ctx: ReturnType<typeof contextFor>; lab: LabLayout } {
  const config = loadConfig(home);
  const lab = loadLab(home);
  if (!config || !lab) throw new LabError(`${home} has no lab; make one with: skiff lab up --nodes 3`);
  return { ctx: contextFor(config), lab };
}

async function labNode(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, homeFlag, true);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [verb, name, ...extra] = positionals;
  if (!verb || !['add', 'remove', 'stop', 'start'].includes(verb)) throw new UsageError(`want one of add, remove, stop, start, not ${JSON.stringify(verb ?? '')}`);
  if (!name || extra.length > 0) throw new UsageError(`skiff lab node ${verb} takes one node name`);
  const { ctx, lab } = labContext(resolveHome(values.home));
  const hostNode = ctx.config.realNode ? nodeName(ctx.config) : undefined;
  if (name === hostNode) throw new LabError(`${name} is the host's own node: stop it with skiff down`);
  const member = findMember(lab, name);
  if (member) {
    switch (verb) {
      case 'stop':
        await stopLabMember(ctx, lab, member);
        process.stdout.write(`control-plane member ${name} stopped: its etcd, apiserver, controller manager and scheduler killed${member.ip ? ', its veth cut' : ''}\n`);
        return 0;
      case 'start':
        await startLabMember(ctx, lab, member, say);
        process.stdout.write(`control-plane member ${name} started\n`);
        return 0;
      default:
        throw new LabError(`${name} is a control-plane member: a lab's members are fixed at lab up (stop and start work on it)`);
    }
  }
  switch (verb) {
    case 'add': {
      const node = await addLabNode(ctx, lab, name, { hostNode }, say);
      process.stdout.write(`node ${node.name} added (${node.ip}, podCIDR ${node.podCIDR})\n`);
      return 0;
    }
    case 'remove':
      await removeLabNode(ctx, lab, findNode(lab, name));
      process.stdout.write(`node ${name} removed\n`);
      return 0;
    case 'stop':
      await stopLabNode(lab, ctx, findNode(lab, name));
      process.stdout.write(`node ${name} stopped: its kubelet, proxy and containerd killed, its veth cut; its pods keep running, unreachable\n`);
      return 0;
    default:
      await startLabNode(ctx, lab, findNode(lab, name), say);
      process.stdout.write(`node ${name} started\n`);
      return 0;
  }
}

async function labDown(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { ...homeFlag, purge: { type: 'boolean' } } as const);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const home = resolveHome(values.home);
  // skiff down takes the lab's nodes down before the control plane.
  return downCommand.run(['--home', home, ...(values.purge ? ['--purge'] : [])]);
}

async function lab(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up':
      return labUp(rest);
    case 'node':
      return labNode(rest);
    case 'down':
      return labDown(rest);
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(usage);
      return 0;
    default:
      throw new UsageError(`unknown lab command "${sub}" (want up, node or down)`);
  }
}

/** labCommand is `skiff lab`. */
export const labCommand: CommandSpec = { name: 'lab', summary: 'Run a cluster of several real nodes on this machine', usage, run: lab };
