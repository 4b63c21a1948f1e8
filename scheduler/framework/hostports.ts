// Host ports (framework.HostPortInfo): which hostIP/protocol/port triples the pods on a node
// hold, and the ones a pod asks for (NodePorts filters on them).

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import { isRestartableInitContainer } from '../../lib/api/core/podspec.js';

/** DefaultBindAllHostIP is the host IP a port without hostIP binds. */
export const DefaultBindAllHostIP = '0.0.0.0';

/**
 * HostPortInfo is framework.HostPortInfo: host IP → set of "protocol/port" in use. A port bound on
 * 0.0.0.0 conflicts with the same protocol/port on any IP, and the other way round.
 */
export class HostPortInfo {
  private readonly byIP = new Map<string, Set<string>>();

  /** add marks ip/protocol/port used. */
  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const key = `${protocol || 'TCP'}/${port}`;
    const h = ip || DefaultBindAllHostIP;
    let set = this.byIP.get(h);
    if (!set) this.byIP.set(h, (set = new Set()));
    set.add(key);
  }

  /** remove frees ip/protocol/port. */
  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    if (port <= 0) return;
    const h = ip || DefaultBindAllHostIP;
    const set = this.byIP.get(h);
    if (!set) return;
    set.delete(`${protocol || 'TCP'}/${port}`);
    if (set.size === 0) this.byIP.delete(h);
  }

  /** checkConflict: ip/protocol/port clashes with a port already in use. */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const key = `${protocol || 'TCP'}/${port}`;
    const h = ip || DefaultBindAllHostIP;
    if (h === DefaultBindAllHostIP) {
      for (const set of this.byIP.values()) if (set.has(key)) return true;
      return false;
    }
    return !!this.byIP.get(h)?.has(key) || !!this.byIP.get(DefaultBindAllHostIP)?.has(key);
  }

  /** len is the number of ip/protocol/port entries. */
  get len(): number {
    let n = 0;
    for (const set of this.byIP.values()) n += set.size;
    return n;
  }

  /** clone copies the table. */
  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, set] of this.byIP) c.byIP.set(ip, new Set(set));
    return c;
  }
}

/** ContainerHostPort is one host port a pod asks for. */
export interface ContainerHostPort {
  hostIP?: string;
  protocol?: string;
  hostPort: number;
}

/**
 * podHostPorts lists the host ports a pod holds (schedutil.GetHostPorts): those of sidecar init
 * containers, which run for the pod's whole life, then those of regular containers.
 */
export function podHostPorts(pod: Pod): ContainerHostPort[] {
  const out: ContainerHostPort[] = [];
  const visit = (cs: Container[] | undefined, sidecarsOnly: boolean) => {
    for (const c of cs ?? []) {
      if (sidecarsOnly && !isRestartableInitContainer(c)) continue;
      for (const p of c.ports ?? []) if (p.hostPort && p.hostPort > 0) out.push({ hostIP: p.hostIP, protocol: p.protocol, hostPort: p.hostPort });
    }
  };
  visit(pod.spec?.initContainers, true);
  visit(pod.spec?.containers, false);
  return out;
}
