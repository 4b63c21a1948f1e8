// Command-line flags in the Kubernetes style (`--name=value`, `--name value`, `-v=2`), declared
// once per binary so `--help` prints every flag with its default and description.

export interface FlagSpec {
  name: string;
  description: string;
  default?: string;
  boolean?: boolean;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export function parseFlags(argv: string[], specs: FlagSpec[]): { values: Record<string, string>; help: boolean; args: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: Record<string, string> = {};
  for (const s of specs) if (s.default !== undefined) values[s.name] = s.default;
  const args: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (!a.startsWith('-')) {
      args.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`unknown flag: ${a}`);
    if (eq >= 0) values[name] = body.slice(eq + 1);
    else if (spec.boolean) values[name] = 'true';
    else {
      const next = argv[++i];
      if (next === undefined) throw new FlagError(`flag needs an argument: ${a}`);
      values[name] = next;
    }
  }
  return { values, help, args };
}

/**
 * pickFlags picks the values of specs' flags out of argv, leaving every other flag alone (a
 * component checks its own flags this way before runComponent parses the common ones), so a bad
 * value stops the process before it reads its kubeconfig or touches the network. withDefaults
 * fills in the specs' defaults first.
 */
export function pickFlags(argv: string[], specs: FlagSpec[], opts: { withDefaults?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  if (opts.withDefaults) for (const s of specs) if (s.default !== undefined) out[s.name] = s.default;
  const names = new Set(specs.map((s) => s.name));
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m || !names.has(m[1]!)) continue;
    out[m[1]!] = m[2] ?? argv[++i] ?? '';
  }
  return out;
}

export function usage(command: string, summary: string, specs: FlagSpec[]): string {
  const lines = [summary, '', `Usage: ${command} [flags]`, '', 'Flags:'];
  for (const s of specs) {
    const def = s.default !== undefined && s.default !== '' ? ` (default ${JSON.stringify(s.default)})` : '';
    lines.push(`  --${s.name}${s.boolean ? '' : '=<value>'}`);
    lines.push(`      ${s.description}${def}`);
  }
  lines.push('  -h, --help', '      Show this help.');
  return lines.join('\n') + '\n';
}
