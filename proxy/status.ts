// loadBalancerIngressPatch gives LoadBalancer Services the nodes' addresses as their ingress, the
// way small clusters without a cloud load balancer do it (k3s's ServiceLB): traffic to a node's
// address and the Service port is then proxied like a NodePort.

import type { Service } from '../lib/api/core/service.js';

/**
 * loadBalancerIngressPatch is the merge patch for svc's status, or undefined when nothing is to
 * change: a non-LoadBalancer Service, one with a loadBalancerClass (another controller's), or an
 * ingress that already lists exactly nodeIPs.
 */
export function loadBalancerIngressPatch(svc: Service, nodeIPs: readonly string[]): { status: { loadBalancer: { ingress: { ip: string; ipMode: string }[] } } } | undefined {
  if (svc.spec.type !== 'LoadBalancer' || svc.spec.loadBalancerClass) return undefined;
  const want = [...new Set(nodeIPs)].sort();
  if (want.length === 0) return undefined;
  const have = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').sort();
  if (have.length === want.length && have.every((ip, i) => ip === want[i])) return undefined;
  return { status: { loadBalancer: { ingress: want.map((ip) => ({ ip, ipMode: 'VIP' })) } } };
}
