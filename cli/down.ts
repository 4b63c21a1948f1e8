// `skiff down`: stop the home's service manager first (so nothing is restarted), then every
// process this home started, newest first; --purge also deletes the home (etcd data, PKI, logs),
// so the next `up` makes a brand-new cluster.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterPaths, nodeEntry } from '../lib/process/components.js';
import { contextFor, defaultConfig, loadConfig, stopComponents } from '../lib/process/cluster.js';
import { stopSupervisor, supervisorName } from '../lib/process/daemon.js';
import { loadLab, netnsMembers, teardownLab, teardownLabNetwork } from '../lib/process/lab.js';
import { homeFlag, parseFlags, resolveHome, type CommandSpec } from './options.js';

const usage = `Stop the skiff cluster started from a home.

Usage:
  skiff down [flags]

Flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
      --purge      also delete the home: etcd data, certificates, kubeconfigs and logs
  -h, --help       show this help
`;

/**
 * looksLikeHome guards --purge: only a folder skiff made (it has cluster.json or pki/) is removed,
 * so a mistyped --home never deletes someone's files.
 */
export function looksLikeHome(home: string): boolean {
  const p = clusterPaths(home);
  return existsSync(p.configFile) || existsSync(p.pki);
}

async function down(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { ...homeFlag, purge: { type: 'boolean' } } as const);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const home = resolveHome(values.home);
  const ctx = contextFor(loadConfig(home) ?? defaultConfig(home));
  const report = (r: { name: string; pid?: number; outcome: string }) => {
    const how = r.outcome === 'not-running' ? 'was not running' : r.outcome === 'killed' ? 'killed (did not stop on SIGTERM)' : 'stopped';
    process.stdout.write(`${r.name} (pid ${r.pid}) ${how}\n`);
  };
  // A lab's worker nodes first: their namespaces, links and routes go with them.
  const lab = loadLab(home);
  // A lab that cannot be fully taken down still lets the control plane stop; the error is told at the end.
  let labError: Error | undefined;
  if (lab) {
    // Control-plane members in lab namespaces keep their network until the control plane has stopped.
    await teardownLab(ctx, lab, { purge: values.purge, progress: (line) => process.stdout.write(`${line}\n`), nodesOnly: netnsMembers(lab).length > 0 }).catch((err: Error) => {
      labError = err;
      process.stderr.write(`error: taking the lab's nodes down: ${err.message}\n`);
    });
  }
  const manager = await stopSupervisor(ctx);
  if (manager) report({ name: supervisorName, ...manager });
  const results = await stopComponents(ctx, report);
  if (results.length === 0 && !manager) process.stdout.write(`Nothing was running from ${home}\n`);
  if (lab && !labError && netnsMembers(lab).length > 0) {
    await teardownLabNetwork(ctx, lab, { purge: values.purge, progress: (line) => process.stdout.write(`${line}\n`) }).catch((err: Error) => {
      labError = err;
      process.stderr.write(`error: taking the lab's network down: ${err.message}\n`);
    });
  }
  // The proxy's rules outlive it by design; down takes them out (skiff-proxy --cleanup).
  if (existsSync(join(ctx.paths.pki, 'proxy.kubeconfig')) && process.getuid?.() === 0) {
    const r = spawnSync(process.execPath, [nodeEntry('proxy/main.js'), '--cleanup'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) process.stderr.write(`warning: skiff-proxy --cleanup failed: ${r.stderr}\n`);
  }
  if (labError) return 1;
  if (values.purge) {
    if (!existsSync(home)) {
      process.stdout.write(`${home} does not exist; nothing to purge\n`);
    } else if (!looksLikeHome(home)) {
      process.stderr.write(`error: ${home} does not look like a skiff home (no cluster.json or pki/); not deleting it\n`);
      return 1;
    } else {
      rmSync(home, { recursive: true, force: true });
      process.stdout.write(`Deleted ${home}\n`);
    }
  }
  return 0;
}

/** downCommand is `skiff down`. */
export const downCommand: CommandSpec = { name: 'down', summary: 'Stop the cluster (--purge: and delete its data)', usage, run: down };
