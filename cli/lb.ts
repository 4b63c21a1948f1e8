// `skiff lb`: the apiservers' load balancer (lib/net/lb.ts) as a process. `skiff up
// --control-plane N` runs it as the component apiserver-lb; it is not meant to be run by hand,
// so help does not list it.

import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { ConfigMap } from '../lib/api/core/configmap.js';
import { ConfigMaps, isNotFound, RestClient } from '../lib/client/index.js';
import { kubeadmConfigMap, kubeadmNamespace, parseClusterStatus } from '../lib/controlplanejoin.js';
import { newLogger } from '../lib/log.js';
import { parseBackend, startLoadBalancer } from '../lib/net/lb.js';
import { intFlag, parseFlags, UsageError, type CommandSpec } from './options.js';

const usage = `Forward TCP connections to the ready apiservers of a control plane with several members.

Usage:
  skiff lb --listen HOST:PORT --backend HOST:PORT [--backend HOST:PORT …] --ca-file FILE [--discover-kubeconfig FILE --advertise-address IP]

Flags:
      --listen HOST:PORT   where clients connect
      --backend HOST:PORT  an apiserver (repeat for each member)
      --ca-file FILE       CA of the apiservers' serving certificates, for the /readyz checks
      --discover-kubeconfig FILE
                           every 2s, read kube-system/kubeadm-config through this balancer with
                           this kubeconfig and balance the members other machines added too
      --advertise-address IP
                           this machine's members' address (their kubeadm-config entries are the --backend ones)
  -v, --v N                log verbosity
  -h, --help               show this help
`;

const options = {
  listen: { type: 'string' },
  backend: { type: 'string', multiple: true },
  'ca-file': { type: 'string' },
  'discover-kubeconfig': { type: 'string' },
  'advertise-address': { type: 'string' },
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
  let discovery: NodeJS.Timeout | undefined;
  if (values['discover-kubeconfig']) {
    const file = values['discover-kubeconfig'];
    const own = values['advertise-address'];
    let client: RestClient | undefined;
    const discover = async () => {
      try {
        if (!client) {
          const kc = new KubeConfig();
          kc.loadFromFile(file);
          client = new RestClient(kc, { userAgent: 'skiff-apiserver-lb', timeoutMs: 2_000 });
        }
        const cm = await client.get<ConfigMap>(ConfigMaps, kubeadmNamespace, kubeadmConfigMap).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        const members = Object.values(parseClusterStatus(cm?.data).apiEndpoints).filter((m) => m.advertiseAddress && m.advertiseAddress !== own);
        running.setDiscovered(members.map((m) => ({ host: m.advertiseAddress, port: m.bindPort })));
      } catch (err) {
        log.v(2).info('Could not read the control-plane members', { err: (err as Error).message });
      }
    };
    discovery = setInterval(() => void discover(), 2_000);
    void discover();
  }
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  clearInterval(discovery);
  log.info('Shutting down');
  // Open connections are cut; the discovery client's keep-alive sockets and health checks in
  // flight would hold the process a while longer: a balancer told to stop exits within 2 s.
  await Promise.race([running.stop(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  process.exit(0);
}

/** lbCommand is `skiff lb`, started by `skiff up --control-plane N`. */
export const lbCommand: CommandSpec = { name: 'lb', summary: 'Balance the apiservers of a control plane (internal)', usage, run: lb, hidden: true };
