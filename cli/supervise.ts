// `skiff supervise`: the cluster's service manager (lib/process/daemon.ts). `skiff up` starts it
// detached, one per home; it is not meant to be run by hand, so help does not list it.

import { newLogger } from '../lib/log.js';
import { contextFor, loadConfig } from '../lib/process/cluster.js';
import { components } from '../lib/process/components.js';
import { controlPlaneComponents } from '../lib/process/controlplane.js';
import { serveSupervisor } from '../lib/process/daemon.js';
import { homeFlag, parseFlags, resolveHome, type CommandSpec } from './options.js';

const usage = `Run the service manager of a skiff cluster home (skiff up starts it).

Usage:
  skiff supervise [flags]

It starts the components skiff up asks for as its children and starts a component again
when it exits, after a back-off of 1s, 2s, 4s … up to 60s (reset after 2 minutes of running).

Flags:
      --home DIR   cluster home (env SKIFF_HOME, default ~/.skiff)
  -h, --help       show this help
`;

async function supervise(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, homeFlag);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const home = resolveHome(values.home);
  const config = loadConfig(home);
  if (!config) {
    process.stderr.write(`error: ${home} is not a skiff home (no cluster.json); run skiff up\n`);
    return 1;
  }
  await serveSupervisor(contextFor(config), [...components, ...controlPlaneComponents(config)], newLogger('supervisor', config.verbosity));
  // The children's handles would keep the process alive; they run on without it.
  process.exit(0);
}

/** superviseCommand is `skiff supervise`, started by `skiff up`. */
export const superviseCommand: CommandSpec = { name: 'supervise', summary: 'Run the service manager of a home (internal)', usage, run: supervise, hidden: true };
