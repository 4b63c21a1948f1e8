// `skiff lb`: the apiservers' load balancer (lib/net/lb.ts) as a process. `skiff up
// --control-plane N` runs it as the component apiserver-lb; it is not meant to be run by hand,
// so help does not list it.

import { readFileSync } from 'node:fs';
import { newLogger } from '../lib/log.js';
import { parseBackend, startLoadBalancer } from '../lib/net/lb.js';
import { intFlag, parseFlags, UsageError, type CommandSpec } from './options.js';

const usage = `Forward TCP connections to the ready apiservers of a control plane with several members.

Usage:
  skiff lb --listen HOST:PORT --backend HOST:PORT [--backend HOST:PORT …] --ca-file FILE

Flags:
      --listen HOST:PORT   where clients connect
      --backend HOST:PORT  an apiserver (repeat for each member)
      --ca-file FILE       CA of the apiservers' serving certificates, for the /readyz checks
  -v, --v N                log verbosity
  -h, --help               show this help
`;

const options = {
  listen: { type: 'string' },
  backend: { type: 'string', multiple: true },
  'ca-file': { type: 'string' },
  v: { type: 'string', short: 'v' },
} as const;

async function lb(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, options);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.listen || !values.backend?.length || !values['ca-file']) throw new UsageError('--listen, --backend and --ca-file are required');
  const listen = parseBackend(values.listen);
  const log = newLogger('apiserver-lb', intFlag('-v', values.v, 0, 10) ?? 0);
  const running = await startLoadBalancer({
    listenHost: listen.host,
    listenPort: listen.port,
    backends: values.backend.map(parseBackend),
    ca: readFileSync(values['ca-file'], 'utf8'),
    log,
  });
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  log.info('Shutting down');
  await running.stop();
  return 0;
}

/** lbCommand is `skiff lb`, started by `skiff up --control-plane N`. */
export const lbCommand: CommandSpec = { name: 'lb', summary: 'Balance the apiservers of a control plane (internal)', usage, run: lb, hidden: true };
