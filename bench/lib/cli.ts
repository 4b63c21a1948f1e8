// What every benchmark's command line shares: `--name=N` options over a table of defaults, and
// progress lines stamped with the seconds since the benchmark started.

/** optionName is the flag a camelCase option is given as: maxWritesPerSecond → --max-writes-per-second=N. */
export function optionName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=N`;
}

/**
 * parseOptions reads `--name=N` flags (kebab-case names of the defaults' keys) over the defaults.
 * An unknown or malformed flag ends the process with exit code 2 and the list of known ones.
 */
export function parseOptions<T extends { [K in keyof T]: number }>(bench: string, args: readonly string[], defaults: T): T {
  const out: Record<string, number> = { ...(defaults as Record<string, number>) };
  for (const arg of args) {
    const m = /^--([a-z-]+)=(\d+)$/.exec(arg);
    const key = m?.[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!m || !key || !(key in defaults)) {
      process.stderr.write(`bench ${bench}: unknown option ${JSON.stringify(arg)}; known: ${Object.keys(defaults).map(optionName).join(' ')}\n`);
      process.exit(2);
    }
    out[key] = Number(m[2]);
  }
  return out as T;
}

const t0 = performance.now();

/** progress prints one line to out (stdout by default), prefixed with the seconds since the bench started. */
export function progress(msg: string, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}
