// The address a node is reached by when none is given: as the kubelet picks its InternalIP, the
// IPv4 address of the interface the default route leaves by (never a pod bridge's address).

import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** defaultNodeIP is the IPv4 address of the default route's interface, else the first non-loopback one, else 127.0.0.1. */
export function defaultNodeIP(): string {
  let dev: string | undefined;
  try {
    const routes = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'default'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { dev?: string }[];
    dev = routes[0]?.dev;
  } catch {
    // no ip(8), or no default route
  }
  const ifaces = networkInterfaces();
  const v4 = (name: string) => ifaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (dev && v4(dev)) return v4(dev)!;
  for (const name of Object.keys(ifaces)) if (v4(name)) return v4(name)!;
  return '127.0.0.1';
}
