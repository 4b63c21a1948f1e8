#!/usr/bin/env node
// main is the `skiff` command: it dispatches to one subcommand per file in this folder.

import { downCommand } from './down.js';
import { imageCommandSpec } from './image.js';
import { certsCommand } from './certs.js';
import { joinCommand } from './join.js';
import { lbCommand } from './lb.js';
import { labCommand, upIsLabUp } from './lab.js';
import { logsCommand } from './logs.js';
import { UsageError, type CommandSpec } from './options.js';
import { simCommand } from './sim.js';
import { statusCommand } from './status.js';
import { superviseCommand } from './supervise.js';
import { tokenCommand } from './token.js';
import { upCommand } from './up.js';
import { userCommand } from './user.js';

/** commands are the subcommands, in the order help lists them. */
const commands: readonly CommandSpec[] = [upCommand, downCommand, statusCommand, logsCommand, imageCommandSpec, simCommand, labCommand, userCommand, tokenCommand, certsCommand, joinCommand, superviseCommand, lbCommand];

function mainUsage(): string {
  const listed = commands.filter((c) => !c.hidden);
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
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(target ? target.usage : mainUsage());
    return 0;
  }
  // `skiff up --nodes 3` (and `npm run up -- --nodes 3`), or `skiff up` on a lab's home, is `skiff lab up`.
  const lab = name === 'up' && upIsLabUp(rest);
  const cmd = lab ? labCommand : commands.find((c) => c.name === name);
  if (lab) rest.unshift('up');
  if (!cmd) {
    process.stderr.write(`error: unknown command "${name}"\n\n${mainUsage()}`);
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
