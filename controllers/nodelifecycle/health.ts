// Node health as the node lifecycle controller judges it (kube's tryUpdateNodeHealth): a node is
// alive while its kubelet keeps posting — either a new Ready condition lastHeartbeatTime or a
// renewed Lease in kube-node-lease. What counts is when THIS controller saw either change, by its
// own clock, so clock skew between nodes and the control plane does not matter. A node silent
// for longer than the grace period gets every kubelet-owned condition set to Unknown.

import { type Node, NodeConditionType } from '../../lib/api/core/node.js';
import type { Lease } from '../../lib/api/coordination/lease.js';
import { type Condition, nowRFC3339 } from '../../lib/api/meta.js';

/** NodeHealthData is what the controller remembers of a node between passes (nodeHealthData). */
export interface NodeHealthData {
  /** readyCondition is the Ready condition as last observed. */
  readyCondition?: Condition;
  /** probeTimestamp is when (controller clock, ms) the node last showed a sign of life. */
  probeTimestamp: number;
  /** readyTransitionTimestamp is when (controller clock, ms) the Ready condition last changed. */
  readyTransitionTimestamp: number;
  /** leaseRenewTime is the renewTime of the Lease as last observed. */
  leaseRenewTime?: string;
}

/** kubeletConditionTypes are the conditions a silent kubelet no longer vouches for (NetworkUnavailable is the control plane's). */
export const kubeletConditionTypes: readonly string[] = [NodeConditionType.Ready, NodeConditionType.MemoryPressure, NodeConditionType.DiskPressure, NodeConditionType.PIDPressure];

/** HealthResult is what tryUpdateNodeHealth decided. */
export interface HealthResult {
  gracePeriodMs: number;
  /** observedReady is the Ready condition as the node reported it (a synthetic Unknown when it never did). */
  observedReady: Condition;
  /** currentReady is the Ready condition after this pass (undefined when the node never posted one and is still within its startup grace). */
  currentReady: Condition | undefined;
  /** statusUpdate, when set, is the node with its conditions set to Unknown, to write through nodes/status. */
  statusUpdate?: Node;
}

function timeMs(t: string | undefined): number {
  const v = Date.parse(t ?? '');
  return Number.isNaN(v) ? 0 : v;
}

/** renewed: the Lease's renewTime moved forward since last seen. */
function renewed(saved: string | undefined, observed: string | undefined): boolean {
  if (!observed) return false;
  if (saved === undefined) return true;
  return observed !== saved && timeMs(observed) >= timeMs(saved);
}

/**
 * tryUpdateNodeHealth updates health (the map entry for node, created when missing) from the
 * node and its Lease, and returns the node with Unknown conditions when it has been silent for
 * longer than its grace period (startupGraceMs while it never posted a Ready condition).
 */
export function tryUpdateNodeHealth(
  health: Map<string, NodeHealthData>,
  node: Node,
  lease: Lease | undefined,
  now: number,
  graceMs: number,
  startupGraceMs: number,
): HealthResult {
  const name = node.metadata.name ?? '';
  const created = timeMs(node.metadata.creationTimestamp);
  const currentReadyCond = node.status?.conditions?.find((c) => c.type === NodeConditionType.Ready);
  let observedReady: Condition;
  let gracePeriodMs: number;
  let h = health.get(name);
  if (!currentReadyCond) {
    // Never posted: pretend an Unknown condition from the node's creation, with the longer startup grace.
    const ts = node.metadata.creationTimestamp;
    observedReady = { type: NodeConditionType.Ready, status: 'Unknown', lastHeartbeatTime: ts, lastTransitionTime: ts };
    gracePeriodMs = startupGraceMs;
    // The startup grace counts from creation; only a Lease renewal (below) shows life meanwhile.
    h = h ? { ...h, readyCondition: undefined } : { probeTimestamp: created || now, readyTransitionTimestamp: created || now };
  } else {
    observedReady = { ...currentReadyCond };
    gracePeriodMs = graceMs;
    const saved = h?.readyCondition;
    if (!h || !saved) {
      // First sight (or a controller restart): the node gets a full grace period from now.
      h = { ...h, readyCondition: { ...currentReadyCond }, probeTimestamp: now, readyTransitionTimestamp: now };
    } else if (saved.lastHeartbeatTime !== currentReadyCond.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== currentReadyCond.lastTransitionTime ? now : h.readyTransitionTimestamp;
      h = { ...h, readyCondition: { ...currentReadyCond }, probeTimestamp: now, readyTransitionTimestamp: transition };
    }
  }
  if (lease && renewed(h.leaseRenewTime, lease.spec?.renewTime)) {
    h = { ...h, leaseRenewTime: lease.spec?.renewTime, probeTimestamp: now };
  }
  health.set(name, h);

  if (now <= h.probeTimestamp + gracePeriodMs) return { gracePeriodMs, observedReady, currentReady: currentReadyCond };

  const next = structuredClone(node);
  next.status ??= {};
  const conditions = (next.status.conditions ??= []);
  const ts = nowRFC3339(new Date(now));
  for (const type of kubeletConditionTypes) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: ts });
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = ts;
    }
  }
  const currentReady = conditions.find((c) => c.type === NodeConditionType.Ready);
  const changed = JSON.stringify(currentReady) !== JSON.stringify(currentReadyCond ?? observedReady);
  return { gracePeriodMs, observedReady, currentReady, ...(changed ? { statusUpdate: next } : {}) };
}

/** markStatusWritten records a successful status write: the Ready condition changed now. */
export function markStatusWritten(health: Map<string, NodeHealthData>, node: Node, now: number): void {
  const name = node.metadata.name ?? '';
  const h = health.get(name);
  if (!h) return;
  const ready = node.status?.conditions?.find((c) => c.type === NodeConditionType.Ready);
  health.set(name, { ...h, readyCondition: ready ? { ...ready } : undefined, readyTransitionTimestamp: now });
}
