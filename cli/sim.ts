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
import { supervisorLauncher, supervisorState } from '../lib/process/daemon.js';
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
  // With the service manager running, it stops and starts the simulator: a stop behind its back would be restarted with the old flags.
  const launcher = supervisorState(ctx) ? supervisorLauncher(ctx) : undefined;
  if (state) {
    out.write(`Stopping sim (pid ${state.pid}) … `);
    const how = launcher ? await launcher.stop(sim) : await stopProcess(state, { graceMs: sim.stopGraceMs });
    removeState(file);
    out.write(how === 'not-running' ? 'was not running\n' : 'stopped\n');
  }
  await sim.prepare?.(ctx);
  out.write(`Starting sim with ${config.simulatedNodes} node${config.simulatedNodes === 1 ? '' : 's'} … `);
  try {
    const r = await ensureRunning(ctx, sim, launcher);
    out.write(`ready (${seconds(r.elapsedMs)}, pid ${r.state.pid})\n`);
  } catch (err) {
    out.write('failed\n');
    throw err;
  }
}

/**
 * waitForNodes waits until the expected simulated Nodes are all Ready, printing progress. It
 * follows registration through the simulator's /readyz (cheap, whatever the count), then
 * checks the Nodes themselves.
 */
async function waitForNodes(config: ClusterConfig, prefix: string, timeoutMs: number, out: NodeJS.WritableStream): Promise<boolean> {
  const want = config.simulatedNodes;
  const ctx = contextFor(config);
  const t0 = Date.now();
  const expired = () => Date.now() - t0 > timeoutMs;
  out.write(`Waiting for ${want} node${want === 1 ? '' : 's'} to be Ready …\n`);
  const health = sim.health(ctx);
  const readyz = { ...health, url: health.url.replace(/\/healthz$/, '/readyz') };
  let lastPrint = 0;
  for (;;) {
    const r = await probe(readyz);
    if (r.ok) break;
    const m = /(\d+) of (\d+) nodes registered/.exec(r.body);
    if (m && Date.now() - lastPrint >= 2000) {
      out.write(`  ${m[1]}/${m[2]} registered (${seconds(Date.now() - t0)})\n`);
      lastPrint = Date.now();
    }
    if (expired()) {
      out.write(`  not all registered after ${seconds(Date.now() - t0)}; giving up waiting\n`);
      return false;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  const kc = new KubeConfig();
  kc.loadFromFile(ctx.paths.adminKubeconfig);
  const client = new RestClient(kc, { userAgent: 'skiff-sim-cli' });
  const names = new Set(Array.from({ length: want }, (_, i) => `${prefix}${i}`));
  for (;;) {
    let ready = 0;
    const leftover: string[] = [];
    let cont: string | undefined;
    do {
      const page = await client.list<Node>(Nodes, undefined, { limit: 1000, continue: cont });
      for (const n of page.items) {
        const name = n.metadata.name ?? '';
        if (names.has(name)) {
          if (isNodeReady(n)) ready++;
        } else if (n.metadata.annotations?.['skiff.dev/simulated'] === 'true' && name.startsWith(prefix)) {
          leftover.push(name);
        }
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
    if (ready === want) {
      out.write(`  ${ready}/${want} Ready (${seconds(Date.now() - t0)})\n`);
      if (leftover.length) {
        const shown = leftover.length > 5 ? `${leftover.slice(0, 5).join(', ')}, …` : leftover.join(', ');
        out.write(`Note: ${leftover.length} more simulated node${leftover.length === 1 ? '' : 's'} from earlier (${shown}) still run; remove them with kubectl delete node.\n`);
      }
      return true;
    }
    if (expired()) {
      out.write(`  ${ready}/${want} Ready after ${seconds(Date.now() - t0)}; giving up waiting\n`);
      return false;
    }
    await new Promise((res) => setTimeout(res, 2000));
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
