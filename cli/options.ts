// Flag handling shared by the skiff commands: every command takes --home and --help, and a usage
// error exits 2 with the command's help, as kubectl does.

import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** UsageError is a mistake in the command line; main prints it with the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** CommandSpec describes one skiff command for dispatch and help. */
export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  run: (argv: string[]) => Promise<number>;
  /** hidden commands are run by skiff itself and left out of the help. */
  hidden?: boolean;
}

/** homeFlag is the --home option every command takes. */
export const homeFlag = { home: { type: 'string' } } as const;

/** resolveHome picks the cluster home: --home, then $SKIFF_HOME, then ~/.skiff. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.SKIFF_HOME ?? `${homedir()}/.skiff`);
}

/**
 * parseFlags parses argv strictly. Go-style single-dash long flags with a value (`-v=2`) are
 * accepted as their double-dash form, since kube components spell verbosity that way.
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  const normalized = argv.map((a) => (/^-[a-z][a-z-]*=/.test(a) ? `-${a}` : a));
  try {
    return parseArgs({ args: normalized, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** intFlag reads a port-like integer from a flag or an environment variable. */
export function intFlag(name: string, value: string | undefined, min = 1, max = 65535): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`invalid value "${value}" for ${name}: want an integer in [${min}, ${max}]`);
  return n;
}
