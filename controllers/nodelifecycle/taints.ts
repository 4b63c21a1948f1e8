// Taint helpers only the node lifecycle and taint eviction controllers use (kube's
// pkg/util/taints, controllerutil.SwapNodeControllerTaint, the taint manager's timing); the
// toleration matching every process shares is lib/node/taints.ts.

import type { Node } from '../../lib/api/core/node.js';
import type { Taint, Toleration } from '../../lib/api/core/types.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { type Client, isConflict } from '../../lib/client/client.js';
import { Nodes } from '../../lib/client/resources.js';
import { TaintEffect, TaintNodeNotReady, TaintNodeUnreachable, matchTaint } from '../../lib/node/taints.js';

/** UnreachableTaintTemplate is the NoExecute taint of a node whose Ready condition is Unknown. */
export const UnreachableTaintTemplate: Taint = { key: TaintNodeUnreachable, effect: TaintEffect.NoExecute };
/** NotReadyTaintTemplate is the NoExecute taint of a node whose Ready condition is False. */
export const NotReadyTaintTemplate: Taint = { key: TaintNodeNotReady, effect: TaintEffect.NoExecute };

/**
 * getMinTolerationTime is the taint manager's getMinTolerationTime in ms: the smallest
 * tolerationSeconds (0 for none or a non-positive one), or -1 when every toleration is forever.
 * An int64 beyond 2^53 (a BigInt) counts as its nearest double: millennia either way.
 */
export function getMinTolerationTime(tolerations: readonly Toleration[]): number {
  if (tolerations.length === 0) return 0;
  let min = Infinity;
  for (const t of tolerations) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    const seconds = Number(t.tolerationSeconds);
    if (seconds <= 0) return 0;
    min = Math.min(min, seconds);
  }
  return min === Infinity ? -1 : min * 1000;
}

/** noExecuteTaints are a node's NoExecute taints. */
export function noExecuteTaints(node: Node | undefined): Taint[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === TaintEffect.NoExecute);
}

/**
 * applyTaintSwap is the pure half of SwapNodeControllerTaint: taints minus those matching
 * remove, plus add (stamped with timeAdded) where no taint with that key and effect exists yet.
 * An existing taint keeps its timeAdded, which tolerationSeconds count from.
 */
export function applyTaintSwap(taints: readonly Taint[] | undefined, add: readonly Taint[], remove: readonly Taint[], now: Date): { taints: Taint[]; changed: boolean } {
  let changed = false;
  const out: Taint[] = [];
  for (const t of taints ?? []) {
    if (remove.some((r) => matchTaint(r, t))) {
      changed = true;
      continue;
    }
    out.push(t);
  }
  for (const a of add) {
    const i = out.findIndex((t) => matchTaint(t, a));
    if (i >= 0 && (out[i]!.value ?? '') === (a.value ?? '')) continue;
    const stamped: Taint = { ...a, timeAdded: nowRFC3339(now) };
    if (i >= 0) out[i] = stamped;
    else out.push(stamped);
    changed = true;
  }
  return { taints: out, changed };
}

/**
 * swapNodeControllerTaint is SwapNodeControllerTaint: one PATCH of spec.taints with the node's
 * resourceVersion as precondition (taints have no merge key, so only a whole-list write with a
 * precondition removes one safely); on a conflict it reads the node again, up to five times.
 * It resolves to whether the node now has the wanted taints.
 */
export async function swapNodeControllerTaint(client: Client, node: Node, add: readonly Taint[], remove: readonly Taint[], now: () => Date = () => new Date()): Promise<boolean> {
  let cur = node;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) cur = await client.get<Node>(Nodes, '', node.metadata.name!);
    const { taints, changed } = applyTaintSwap(cur.spec?.taints, add, remove, now());
    if (!changed) return true;
    try {
      await client.patch(Nodes, '', node.metadata.name!, 'merge', { metadata: { resourceVersion: cur.metadata.resourceVersion }, spec: { taints: taints.length ? taints : null } });
      return true;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  return false;
}
