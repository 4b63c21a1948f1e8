// The kube-dns Service and its endpoints. skiff-dns runs on the host, not in a pod, so its
// Service has no selector (the endpointslice controller leaves it alone) and skiff-dns keeps
// the endpoints itself: one EndpointSlice under its own managed-by label, and the Endpoints
// marked skip-mirror so the mirroring controller does not copy them into a second slice. The
// proxy then carries <cluster DNS IP>:53 to <node address>:<listen port>, as for any Service.

import type { Endpoints } from '../lib/api/core/endpoints.js';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { type Client, isAlreadyExists, isNotFound } from '../lib/client/client.js';
import { EndpointSlices, Endpoints as EndpointsType, Services } from '../lib/client/resources.js';
import type { Logger } from '../lib/log.js';

/** kubeDNSName is the Service name every Kubernetes cluster gives its DNS. */
export const kubeDNSName = 'kube-dns';
/** managedBy is the endpointslice.kubernetes.io/managed-by value of the slice skiff-dns keeps. */
export const managedBy = 'skiff-dns.skiff.dev';
const namespace = 'kube-system';

/** KubeDNSObjects are the Service, Endpoints and EndpointSlice skiff-dns keeps. */
export interface KubeDNSObjects {
  service: Service;
  endpoints: Endpoints;
  slice: EndpointSlice;
}

/** desiredKubeDNS is what the kube-dns objects should hold for a server at address:port. */
export function desiredKubeDNS(opts: { clusterIP: string; address: string; port: number }): KubeDNSObjects {
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'skiff-dns' };
  return {
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: kubeDNSName, namespace, labels },
      spec: {
        type: 'ClusterIP',
        clusterIP: opts.clusterIP,
        clusterIPs: [opts.clusterIP],
        ports: [
          { name: 'dns', protocol: 'UDP', port: 53, targetPort: opts.port },
          { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: opts.port },
        ],
      },
    },
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: kubeDNSName, namespace, labels: { ...labels, 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: opts.address }], ports: [{ name: 'dns', port: opts.port, protocol: 'UDP' }, { name: 'dns-tcp', port: opts.port, protocol: 'TCP' }] }],
    },
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${kubeDNSName}-skiff-dns`, namespace, labels: { ...labels, 'kubernetes.io/service-name': kubeDNSName, 'endpointslice.kubernetes.io/managed-by': managedBy } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [opts.address], conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'dns', protocol: 'UDP', port: opts.port }, { name: 'dns-tcp', protocol: 'TCP', port: opts.port }],
    },
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * ensureKubeDNS creates the kube-dns objects or brings them to want, writing only on a real
 * difference. An existing Service keeps its ClusterIP (it is immutable); only its ports and
 * selector are set.
 */
export async function ensureKubeDNS(client: Client, want: KubeDNSObjects, log: Logger, opts: { endpoints: boolean } = { endpoints: true }): Promise<void> {
  await ensure<Service>(client, Services, want.service, log, (cur) => {
    if (cur.spec.clusterIP !== want.service.spec.clusterIP) log.info('kube-dns Service has another ClusterIP; keeping it', { clusterIP: cur.spec.clusterIP, want: want.service.spec.clusterIP });
    if (same(cur.spec.ports?.map((p) => [p.name, p.protocol, p.port, p.targetPort]), want.service.spec.ports?.map((p) => [p.name, p.protocol, p.port, p.targetPort])) && !cur.spec.selector) return undefined;
    const { selector: _selector, ...spec } = cur.spec;
    return { ...cur, spec: { ...spec, ports: want.service.spec.ports } };
  });
  if (!opts.endpoints) return;
  await ensure<Endpoints>(client, EndpointsType, want.endpoints, log, (cur) =>
    same(cur.subsets, want.endpoints.subsets) && same(cur.metadata?.labels, want.endpoints.metadata?.labels) ? undefined : { ...cur, metadata: { ...cur.metadata, labels: want.endpoints.metadata?.labels }, subsets: want.endpoints.subsets },
  );
  await ensure<EndpointSlice>(client, EndpointSlices, want.slice, log, (cur) =>
    same([cur.endpoints, cur.ports, cur.metadata?.labels], [want.slice.endpoints, want.slice.ports, want.slice.metadata?.labels])
      ? undefined
      : { ...cur, metadata: { ...cur.metadata, labels: want.slice.metadata?.labels }, endpoints: want.slice.endpoints, ports: want.slice.ports },
  );
}

async function ensure<T extends { metadata?: { name?: string; namespace?: string } }>(
  client: Client,
  r: Parameters<Client['get']>[0],
  want: T,
  log: Logger,
  update: (cur: T) => T | undefined,
): Promise<void> {
  const name = want.metadata!.name!;
  let cur: T | undefined;
  try {
    cur = await client.get<T>(r, namespace, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!cur) {
    try {
      await client.create<T>(r, namespace, want);
      log.info('Created', { resource: r.resource, name });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return;
  }
  const next = update(cur);
  if (!next) return;
  await client.update<T>(r, next);
  log.info('Updated', { resource: r.resource, name });
}
