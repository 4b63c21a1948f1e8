// Service link env vars (the kubelet's getServiceEnvVarMap and envvars.FromServices): for each
// Service with a cluster IP, `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` (and one per named
// port) and the Docker link variables `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}`.
// The pod sees the Services of its namespace when enableServiceLinks is on (the default), and the
// master Service `kubernetes` of namespace default always.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import type { ObjectSources } from '../volumes/types.js';

/** masterServiceNamespace is where the API's own Service lives. */
const masterServiceNamespace = 'default';
const masterServices = new Set(['kubernetes']);

/** envVariableName is a Service name as a variable prefix: upper case, '-' → '_'. */
function envVariableName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

function hasClusterIP(s: Service): boolean {
  return !!s.spec.clusterIP && s.spec.clusterIP !== 'None';
}

/** joinHostPort is net.JoinHostPort: IPv6 addresses in brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** fromServices is envvars.FromServices: the variables of each Service, in the order given. */
export function fromServices(services: Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const s of services) {
    if (!hasClusterIP(s) || !s.spec.ports?.length) continue;
    const prefix = envVariableName(s.metadata.name ?? '');
    const ip = s.spec.clusterIP!;
    out.push([`${prefix}_SERVICE_HOST`, ip]);
    out.push([`${prefix}_SERVICE_PORT`, String(s.spec.ports[0].port)]);
    for (const p of s.spec.ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envVariableName(p.name)}`, String(p.port)]);
    s.spec.ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toUpperCase();
      const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const portPrefix = `${prefix}_PORT_${p.port}_${proto}`;
      out.push([portPrefix, url], [`${portPrefix}_PROTO`, proto.toLowerCase()], [`${portPrefix}_PORT`, String(p.port)], [`${portPrefix}_ADDR`, ip]);
    });
  }
  return out;
}

/** ServiceListError is a failure to list Services for the env (the container waits, as on Kubernetes). */
export class ServiceListError extends Error {}

/**
 * serviceEnv is getServiceEnvVarMap: the variables of the Services the pod should see, from
 * sources.listServices (none without it). A Service of the pod's namespace named like a master
 * Service takes its place. Services are taken in name order (the kubelet's order is a map's).
 */
export async function serviceEnv(pod: Pod, sources: ObjectSources): Promise<Map<string, string>> {
  if (!sources.listServices) return new Map();
  const ns = pod.metadata.namespace ?? 'default';
  const enableServiceLinks = pod.spec.enableServiceLinks ?? true;
  const byName = new Map<string, Service>();
  try {
    for (const s of await sources.listServices(masterServiceNamespace)) {
      if (masterServices.has(s.metadata.name ?? '') && hasClusterIP(s)) byName.set(s.metadata.name!, s);
    }
    if (enableServiceLinks) {
      for (const s of await sources.listServices(ns)) if (hasClusterIP(s)) byName.set(s.metadata.name ?? '', s);
    }
  } catch (err) {
    throw new ServiceListError('failed to list services when setting up env vars', { cause: err });
  }
  const services = [...byName.values()].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return new Map(fromServices(services));
}
