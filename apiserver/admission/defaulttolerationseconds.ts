// The DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds):
// a pod tolerates a not-ready or unreachable node for 300 s before the taint manager evicts it,
// unless it already says how it tolerates those taints. It admits creates and updates alike: a
// replacement body from the same file as the create (kubectl replace) lacks the two tolerations
// the create added, and pod validation forbids removing an existing toleration.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Toleration } from '../../lib/api/core/types.js';
import type { AdmissionRequest } from '../registry/store.js';

export const TaintNodeNotReady = 'node.kubernetes.io/not-ready';
export const TaintNodeUnreachable = 'node.kubernetes.io/unreachable';
/** defaultTolerationSeconds is kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const defaultTolerationSeconds = 300;

/** toleratesNoExecute: t already covers key's NoExecute taint (an empty key or effect matches any). */
function toleratesNoExecute(t: Toleration, key: string): boolean {
  return (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect);
}

/** admitDefaultTolerationSeconds adds the two NoExecute tolerations to a pod being created or updated. */
export function admitDefaultTolerationSeconds(req: AdmissionRequest): void {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
  const pod = req.object as Pod;
  if (!pod.spec) return;
  const tolerations = pod.spec.tolerations ?? [];
  const add: Toleration[] = [];
  for (const key of [TaintNodeNotReady, TaintNodeUnreachable]) {
    if (!tolerations.some((t) => toleratesNoExecute(t, key))) {
      add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultTolerationSeconds });
    }
  }
  if (add.length) pod.spec.tolerations = [...tolerations, ...add];
}
