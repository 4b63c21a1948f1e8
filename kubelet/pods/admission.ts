// Pod admission on the node (lifecycle/predicate.go, generalFilter → noderesources.Fits): a pod
// the node has no room for is rejected with the kubelet's reason OutOf<resource> and message,
// computed with the same request arithmetic as the scheduler's (lib/pod/resources.ts) against
// the node's allocatable and the pods already admitted.

import type { Pod } from '../../lib/api/core/pod.js';
import { quantityNanos } from '../../lib/api/core/quantity.js';
import { amountOps, podRequests } from '../../lib/pod/resources.js';

/** Rejection is why a pod cannot run here: the event reason and its message. */
export interface Rejection {
  reason: string;
  message: string;
}

/** amountText prints an amount as the kubelet's message does: millicores for cpu, whole units otherwise. */
function amountText(resource: string, nanos: bigint): string {
  return resource === 'cpu' ? String(nanos / 1_000_000n) : String(nanos / 1_000_000_000n);
}

/**
 * admitPod checks that pod fits beside the admitted pods: first the pod count, then every
 * resource the pod requests (cpu, memory, ephemeral-storage, extended resources).
 */
export function admitPod(pod: Pod, admitted: readonly Pod[], allocatable: Record<string, string>): Rejection | undefined {
  const insufficient = (resource: string, requested: string, used: string, capacity: string): Rejection => ({
    reason: `OutOf${resource}`,
    message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`,
  });
  if (allocatable.pods !== undefined) {
    const allowed = Number(quantityNanos(allocatable.pods) / 1_000_000_000n);
    if (admitted.length + 1 > allowed) return insufficient('pods', '1', String(admitted.length), String(allowed));
  }
  const want = podRequests(pod);
  const used = amountOps.zero();
  for (const p of admitted) amountOps.add(used, podRequests(p));
  const order = ['cpu', 'memory', 'ephemeral-storage', ...[...want.keys()].filter((r) => r !== 'cpu' && r !== 'memory' && r !== 'ephemeral-storage').sort()];
  for (const resource of order) {
    const req = want.get(resource) ?? 0n;
    if (req <= 0n) continue;
    const cap = allocatable[resource] !== undefined ? quantityNanos(allocatable[resource]) : 0n;
    const u = used.get(resource) ?? 0n;
    if (req > cap - u) return insufficient(resource, amountText(resource, req), amountText(resource, u), amountText(resource, cap));
  }
  return undefined;
}
