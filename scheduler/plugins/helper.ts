// Helpers several plugins share, after k8s.io/component-helpers/scheduling/corev1 (nodeaffinity's
// NodeSelector / RequiredNodeAffinity / PreferredSchedulingTerms) and the scheduler's
// plugins/helper (DefaultNormalizeScore); taints and tolerations are lib/node/taints.ts, node
// selectors lib/node/nodeaffinity.ts (re-exported here: the DaemonSet controller reads them too).

export { NodeSelector, PreferredSchedulingTerms, RequiredNodeAffinity } from '../../lib/node/nodeaffinity.js';
import type { NodeScore } from '../framework/interface.js';
import { type Status, success } from '../framework/status.js';

/** LabelHostname is the well-known hostname label (topology key of per-node spreading). */
export const LabelHostname = 'kubernetes.io/hostname';

// ---------------------------------------------------------------------------------------------
// Scores

/**
 * defaultNormalizeScore is helper.DefaultNormalizeScore: scale scores so the highest becomes
 * maxPriority (integer division, as Go's int64); with reverse, flip them (maxPriority - score).
 * All-zero scores become 0, or maxPriority when reversed.
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): Status {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return success();
  }
  for (const s of scores) {
    let v = Math.trunc((maxPriority * s.score) / max);
    if (reverse) v = maxPriority - v;
    s.score = v;
  }
  return success();
}
