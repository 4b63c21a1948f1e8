// The Lease a kubelet keeps for its Node in kube-node-lease (kubelet's nodelease controller):
// created owned by the Node so it goes with it, renewed every renew interval (10 s by default,
// a quarter of the 40 s duration); the node lifecycle controller reads renewTime as the node's
// heartbeat.

import type { Lease } from '../api/coordination/lease.js';
import { nowMicro } from '../api/meta.js';

/** NodeLeaseNamespace holds one Lease per Node. */
export const NodeLeaseNamespace = 'kube-node-lease';

/** NodeLeaseDurationSeconds is the kubelet's default nodeLeaseDurationSeconds. */
export const NodeLeaseDurationSeconds = 40;

/** NodeLeaseRenewIntervalFraction is the kubelet's renew interval as a fraction of the duration (10 s of 40 s). */
export const NodeLeaseRenewIntervalFraction = 0.25;

/** nodeLeaseRenewIntervalMs is how often a Lease of durationSeconds is renewed. */
export function nodeLeaseRenewIntervalMs(durationSeconds: number = NodeLeaseDurationSeconds): number {
  return durationSeconds * NodeLeaseRenewIntervalFraction * 1000;
}

/** nodeLease is the Lease a kubelet creates for its Node, owned by the Node when its uid is known. */
export function nodeLease(nodeName: string, nodeUID: string | undefined, now: Date, durationSeconds: number = NodeLeaseDurationSeconds): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NodeLeaseNamespace,
      ...(nodeUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUID }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: nowMicro(now) },
  };
}

/** leaseRenewal is the merge patch that renews a Node's Lease. */
export function leaseRenewal(nodeName: string, now: Date, durationSeconds: number = NodeLeaseDurationSeconds): { spec: Lease['spec'] } {
  return { spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: nowMicro(now) } };
}
