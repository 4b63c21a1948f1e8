// `skiff sim`: choose how many simulated Nodes the cluster runs (and their shape), record it in
// the cluster's config, restart the cluster's node simulator with it, and wait until the Nodes
// are Ready.

import { KubeConfig } from '@kubernetes/client-node';
import type { Node } from '../lib/api/core/node.js';
import { isNodeReady } from '../lib/api/core/node.js';
import { RestClient } from '../lib/client/client.js';
import { Nodes } from '../lib/client/resources.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { contextFor, ensureRunning, loadConfig, saveConfig, stateFile } from '../lib/process/cluster.js';
import { apiserver, sim, type ClusterConfig } from '../lib/process/components.js';
import { probe, readState, removeState, stopProcess } from '../lib/process/supervisor.js';
import { homeFlag, intFlag, parseFlags, resolveHome, UsageError, type CommandSpec } from './options.js';

const usage = `Run simulated Nodes in the skiff cluster, or change how many run.

Usage:
  skiff sim --nodes N [flags]

The node simulator plays the kubelet, without containers, for every Node annotated
skiff.dev/simulated: "true". It creates N of them, named sim-0 … sim-N-1, each with the labels
a kubelet sets (kubernetes.io/hostname, kubernetes.io/os=linux, kubernetes.io/arch=amd64),
node.kubernetes.io/instance-type=skiff-sim and topology.kubernetes.io/zone=zone-a, zone-b or
zone-c (round-robin), renews their Leases and keeps them Ready. Pods bound to them become
Running and Ready with an address from the Node's podCIDR; nothing runs.

This command records the settings in the cluster's config (so \`skiff up\` keeps them),
restarts the simulator and waits until the Nodes are Ready. Lowering --nodes deletes no Node:
the ones left stay simulated until you \`kubectl delete node\` them.

Flags:
      --home DIR                    cluster home (env SKIFF_HOME, default ~/.skiff)
      --nodes N                     simulated Nodes to create (default: the current number)
      --node-cpu Q                  CPU capacity of each Node (default 8)
      --node-memory Q               memory capacity (default 32Gi)
      --node-pods N                 pod capacity (default 110)
      --node-ephemeral-storage Q    ephemeral storage capacity (default 100Gi)
      --node-labels k=v,…           extra labels for new Nodes
      --node-taints k=v:Effect,…    taints for new Nodes (k:Effect without a value)
      --node-name-prefix P          name prefix (default sim-)
      --zones N                     zones to spread new Nodes over; 0 for no zone label (default 3)
      --pod-start-delay D           time from binding to Running (default 1s)
      --max-writes-per-second N     the simulator's API write budget (default 300)
      --reset                       forget node flags recorded earlier
      --timeout D                   how long to wait for the Nodes to be Ready (default 5m)
  -h, --help                        show this help

Labels and taints apply to Nodes when they are created; a Node that already exists keeps its
own. Capacity applies to every Node the simulator created. Nodes you create yourself:

  kubectl apply -f - <<EOF
  apiVersion: v1
  kind: Node
  metadata:
    name: big-1
    labels: {gpu: "true"}
    annotations:
      skiff.dev/simulated: "true"
      skiff.dev/capacity-cpu: "64"        # also -memory, -pods, -ephemeral-storage
  EOF

Pods labelled skiff.dev/sim=fail exit 1, =crashloop go into CrashLoopBackOff, =unready run
without becoming Ready, =succeed exit 0 (the pod's restartPolicy decides what follows).
`;

/** nodeFlags are the simulator flags this command records, in the order they are passed. */
const nodeFlags = [
  'node-cpu',
  'node-memory',
  'node-pods',
  'node-ephemeral-storage',
  'node-labels',
  'node-taints',
  'node-name-prefix',
  'zones',
  'pod-start-delay',
  'max-writes-per-second',
] as const;

const options = {
  ...homeFlag,
  nodes: { type: 'string' },
  reset: { type: 'boolean' },
  timeout: { type: 'string' },
  ...Object.fromEntries(nodeFlags.map((f) => [f, { type: 'string' }])),
} as const;

/** SimRequest is what a `skiff sim` command line asks for. */
export interface SimRequest {
  home: string;
  help: boolean;
  nodes?: number;
  /** flags are the node flags given, by name. */
  flags: Record<string, string>;
  reset: boolean;
  timeoutMs: number;
}

/** parseSimArgs reads a `skiff sim` command line. */
export function parseSimArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SimRequest {
  const { values } = parseFlags(argv, options);
  const v = values as Record<string, string | boolean | undefined>;
  const flags: Record<string, string> = {};
  for (const f of nodeFlags) if (typeof v[f] === 'string') flags[f] = v[f] as string;
  if (flags.zones !== undefined) intFlag('--zones', flags.zones, 0, 676);
  if (flags['max-writes-per-second'] !== undefined) intFlag('--max-writes-per-second', flags['max-writes-per-second'], 1, 100_000);
  let timeoutMs = 300_000;
  if (typeof v.timeout === 'string') {
    try {
      timeoutMs = parseDuration(v.timeout);
    } catch {
      throw new UsageError(`invalid value "${v.timeout}" for --timeout: want a duration such as 90s or 5m`);
    }
  }
  return {
    home: resolveHome(v.home as string | undefined, env),
    help: v.help === true,
    nodes: intFlag('--nodes', v.nodes as string | undefined, 0, 100_000),
    flags,
    reset: v.reset === true,
    timeoutMs,
  };
}

/** mergeSimArgs applies the flags given over those recorded (`--name=value` each), keeping the order of nodeFlags. */
export function mergeSimArgs(recorded: readonly string[], given: Record<string, string>, reset = false): string[] {
  const values = new Map<string, string>();
  if (!reset) {
    for (const a of recorded) {
      const m = /^--([^=]+)=(.*)$/s.exec(a);
      if (m) values.set(m[1]!, m[2]!);
    }
  }
  for (const [k, val] of Object.entries(given)) values.set(k, val);
  return nodeFlags.filter((f) => values.has(f)).map((f) => `--${f}=${values.get(f)}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** restartSim stops the recorded simulator process, if any, and starts one with config. */
async function restartSim(config: ClusterConfig, out: NodeJS.WritableStream): Promise<void> {
  const ctx = contextFor(config);
  const file = stateFile(ctx, sim.name);
  const state = readState(file);
  if (state) {
    out.write(`Stopping sim (pid ${state.pid}) … `);
    const how = await stopProcess(state, { graceMs: sim.stopGraceMs });
    removeState(file);
    out.write(how === 'not-running' ? 'was not running\n' : 'stopped\n');
  }
  await sim.prepare?.(ctx);
  out.write(`Starting sim with ${config.simulatedNodes} node${config.simulatedNodes === 1 ? '' : 's'} … `);
  try {
    const r = await ensureRunning(ctx, sim);
    out.write(`ready (${seconds(r.elapsedMs)}, pid ${r.state.pid})\n`);
  } catch (err) {
    out.write('failed\n');
    throw err;
  }
}

/** waitForNodes polls until the expected simulated Nodes are all Ready, printing progress. */
async function waitForNodes(config: ClusterConfig, prefix: string, timeoutMs: number, out: NodeJS.WritableStream): Promise<boolean> {
  const want = config.simulatedNodes;
  const kc = new KubeConfig();
  kc.loadFromFile(contextFor(config).paths.adminKubeconfig);
  const client = new RestClient(kc, { userAgent: 'skiff-sim-cli' });
  const names = new Set(Array.from({ length: want }, (_, i) => `${prefix}${i}`));
  const t0 = Date.now();
  let lastReported = -1;
  let lastPrint = 0;
  let ready = 0;
  let extra: string[] = [];
  out.write(`Waiting for ${want} node${want === 1 ? '' : 's'} to be Ready …\n`);
  for (;;) {
    try {
      const list = await client.list<Node>(Nodes);
      ready = list.items.filter((n) => names.has(n.metadata.name ?? '') && isNodeReady(n)).length;
      extra = list.items
        .filter((n) => n.metadata.annotations?.['skiff.dev/simulated'] === 'true' && !names.has(n.metadata.name ?? '') && (n.metadata.name ?? '').startsWith(prefix))
        .map((n) => n.metadata.name ?? '');
    } catch (err) {
      if (Date.now() - t0 > timeoutMs) throw err;
    }
    const now = Date.now();
    if (ready === want) {
      out.write(`  ${ready}/${want} Ready (${seconds(now - t0)})\n`);
      if (extra.length) {
        const shown = extra.length > 5 ? `${extra.slice(0, 5).join(', ')}, …` : extra.join(', ');
        out.write(`Note: ${extra.length} more simulated node${extra.length === 1 ? '' : 's'} from earlier (${shown}) still run; remove them with kubectl delete node.\n`);
      }
      return true;
    }
    if (ready !== lastReported && now - lastPrint >= 2000) {
      out.write(`  ${ready}/${want} Ready (${seconds(now - t0)})\n`);
      lastReported = ready;
      lastPrint = now;
    }
    if (now - t0 > timeoutMs) {
      out.write(`  ${ready}/${want} Ready after ${seconds(now - t0)}; giving up waiting\n`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function simCmd(argv: string[]): Promise<number> {
  const req = parseSimArgs(argv);
  if (req.help) {
    process.stdout.write(usage);
    return 0;
  }
  const out = process.stdout;
  const old = loadConfig(req.home);
  if (!old) {
    process.stderr.write(`error: no skiff cluster in ${req.home}; start one with: skiff up --home ${req.home}\n`);
    return 1;
  }
  const config: ClusterConfig = {
    ...old,
    simulatedNodes: req.nodes ?? old.simulatedNodes,
    simArgs: mergeSimArgs(old.simArgs ?? [], req.flags, req.reset),
  };
  const ctx = contextFor(config);
  const health = await probe(apiserver.health(ctx));
  if (!health.ok) {
    process.stderr.write(`error: the apiserver of ${req.home} does not answer (${health.error ?? `HTTP ${health.status}`}); start the cluster with: skiff up --home ${req.home}\n`);
    return 1;
  }
  try {
    await restartSim(config, out);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    if (old.simulatedNodes !== config.simulatedNodes || JSON.stringify(old.simArgs ?? []) !== JSON.stringify(config.simArgs)) {
      out.write('Restarting sim with the previous settings\n');
      try {
        await restartSim(old, out);
      } catch (err2) {
        process.stderr.write(`error: ${(err2 as Error).message}\n`);
      }
    }
    return 1;
  }
  saveConfig(config);
  if (config.simulatedNodes === 0) {
    out.write('The simulator runs no nodes of its own (it still simulates Nodes annotated skiff.dev/simulated=true).\n');
    return 0;
  }
  const prefixArg = config.simArgs?.find((a) => a.startsWith('--node-name-prefix='));
  const prefix = prefixArg ? prefixArg.slice('--node-name-prefix='.length) : 'sim-';
  const ok = await waitForNodes(config, prefix, req.timeoutMs, out);
  if (!ok) return 1;
  out.write(`\nTry: kubectl get nodes -l node.kubernetes.io/instance-type=skiff-sim\n`);
  return 0;
}

/** simCommand is `skiff sim`. */
export const simCommand: CommandSpec = { name: 'sim', summary: 'Run N simulated Nodes (no containers) for scheduling experiments', usage, run: simCmd };
