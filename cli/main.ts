#!/usr/bin/env node
// main is the `skiff` command: it dispatches to one subcommand per file in this folder. Each
// command's module is loaded only when it runs (or when help lists them all): the commands that
// talk to the API load @kubernetes/client-node, which alone costs about 0.3 s of CPU, and `skiff
// up` should not pay for them (the whole CLI took 0.53 s to load, `up` alone 0.23 s).

import { UsageError, type CommandSpec } from './options.js';

/** commandLoaders load each subcommand by name, in the order help lists them. */
const commandLoaders: Readonly<Record<string, () => Promise<CommandSpec>>> = {
  up: async () => (await import('./up.js')).upCommand,
  down: async () => (await import('./down.js')).downCommand,
  status: async () => (await import('./status.js')).statusCommand,
  logs: async () => (await import('./logs.js')).logsCommand,
  image: async () => (await import('./image.js')).imageCommandSpec,
  sim: async () => (await import('./sim.js')).simCommand,
  lab: async () => (await import('./lab.js')).labCommand,
  user: async () => (await import('./user.js')).userCommand,
  token: async () => (await import('./token.js')).tokenCommand,
  certs: async () => (await import('./certs.js')).certsCommand,
  join: async () => (await import('./join.js')).joinCommand,
  supervise: async () => (await import('./supervise.js')).superviseCommand,
  lb: async () => (await import('./lb.js')).lbCommand,
};

/** loadCommand loads the named subcommand, or answers undefined for an unknown name. */
function loadCommand(name: string | undefined): Promise<CommandSpec | undefined> {
  const load = name !== undefined && Object.hasOwn(commandLoaders, name) ? commandLoaders[name] : undefined;
  return load ? load() : Promise.resolve(undefined);
}

/** allCommands loads every subcommand, for the command list of the help. */
function allCommands(): Promise<CommandSpec[]> {
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}

async function mainUsage(): Promise<string> {
  const listed = (await allCommands()).filter((c) => !c.hidden);
  const width = Math.max(...listed.map((c) => c.name.length));
  return `skiff runs a small Kubernetes control plane on this machine.

Usage:
  skiff COMMAND [flags]

Commands:
${listed.map((c) => `  ${c.name.padEnd(width + 2)}${c.summary}`).join('\n')}

Run 'skiff COMMAND --help' for a command's flags.
`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? await loadCommand(rest[0]) : undefined;
    process.stdout.write(target ? target.usage : await mainUsage());
    return 0;
  }
  // `skiff up --nodes 3` (and `npm run up -- --nodes 3`), or `skiff up` on a lab's home, is `skiff lab up`.
  const lab = name === 'up' && (await import('./lab.js')).upIsLabUp(rest);
  const cmd = await loadCommand(lab ? 'lab' : name);
  if (lab) rest.unshift('up');
  if (!cmd) {
    process.stderr.write(`error: unknown command "${name}"\n\n${await mainUsage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${cmd.usage}`);
      return 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
