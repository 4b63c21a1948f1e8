// Builders of Services and EndpointSlices for the proxy's tests and benchmark (test-only): short
// to write, complete enough to be what the apiserver would hand an informer.

import type { Service, ServicePort } from '../lib/api/core/service.js';
import type { Endpoint, EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import type { NodeState } from './rules.js';

/** testNode is the node state the golden tests use (test-only). */
export const testNode: NodeState = {
  nodeName: 'node-a',
  nodeIPs: ['10.245.0.1'],
  clusterCIDR: '10.245.0.0/16',
  masqueradeMark: 0x4000,
  nodePortAddresses: [],
  serviceCIDRs: ['10.116.0.0/16'],
};

/** service makes a Service (test-only). */
export function service(ns: string, name: string, clusterIP: string, ports: ServicePort[], spec: Partial<Service['spec']> = {}, status?: Service['status']): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name, uid: `uid-${ns}-${name}` },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports, ...spec },
    ...(status ? { status } : {}),
  };
}

/** EndpointSpec is one endpoint of slice(): an address, its node and its conditions. */
export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** slice makes an IPv4 EndpointSlice of Service ns/svc (test-only). */
export function slice(ns: string, svc: string, ports: { name?: string; port: number; protocol?: string }[], eps: EndpointSpec[], name = `${svc}-abcde`): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: eps.map((e): Endpoint => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.node ? { nodeName: e.node } : {}),
    })),
  };
}

/**
 * syntheticCluster is n ClusterIP+NodePort Services with k endpoints each, in 10.116.0.0/16 and
 * 10.245.0.0/16 (the benchmark's Service set; test-only).
 */
export function syntheticCluster(n: number, k: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.116.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    services.push(service('bench', `svc-${i}`, ip, [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }]));
    const eps: EndpointSpec[] = [];
    for (let j = 0; j < k; j++) {
      const e = i * k + j;
      eps.push({ ip: `10.245.${Math.floor(e / 250) % 256}.${(e % 250) + 2}`, node: 'node-a' });
    }
    slices.push(slice('bench', `svc-${i}`, [{ name: 'http', port: 8080 }], eps));
  }
  return { services, slices };
}
