// The node flags a kubelet and the node simulator share: --node-labels (`k=v,…`) and taints to
// register with (`key=value:Effect` or `key:Effect`, kubelet's --register-with-taints syntax),
// each item checked as the API will check it, so a typo stops the process at start.

import type { Taint } from '../api/core/types.js';
import { isQualifiedName, isValidLabelValue } from '../machinery/validation.js';

/** NodeFlagError is a bad --node-labels or taints value. */
export class NodeFlagError extends Error {
  override name = 'NodeFlagError';
}

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function list(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

/** parseLabelsFlag reads `k=v,…` given to the flag named flag. */
export function parseLabelsFlag(s: string, flag = 'node-labels'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list(s)) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new NodeFlagError(`invalid --${flag} entry ${JSON.stringify(item)}: want key=value`);
    const k = item.slice(0, eq);
    const v = item.slice(eq + 1);
    const errs = [...isQualifiedName(k), ...isValidLabelValue(v)];
    if (errs.length) throw new NodeFlagError(`invalid --${flag} entry ${JSON.stringify(item)}: ${errs.join('; ')}`);
    out[k] = v;
  }
  return out;
}

/** parseTaintsFlag reads `key=value:Effect` or `key:Effect` items given to the flag named flag. */
export function parseTaintsFlag(s: string, flag = 'register-with-taints'): Taint[] {
  const out: Taint[] = [];
  for (const item of list(s)) {
    const colon = item.lastIndexOf(':');
    if (colon < 0) throw new NodeFlagError(`invalid --${flag} entry ${JSON.stringify(item)}: want key=value:Effect or key:Effect`);
    const effect = item.slice(colon + 1);
    const kv = item.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    if (!taintEffects.includes(effect)) {
      throw new NodeFlagError(`invalid --${flag} entry ${JSON.stringify(item)}: effect must be one of ${taintEffects.join(', ')}`);
    }
    const errs = [...isQualifiedName(key), ...isValidLabelValue(value)];
    if (errs.length) throw new NodeFlagError(`invalid --${flag} entry ${JSON.stringify(item)}: ${errs.join('; ')}`);
    if (out.some((t) => t.key === key && t.effect === effect)) throw new NodeFlagError(`duplicate --${flag} entry for ${key}:${effect}`);
    out.push(value ? { key, value, effect } : { key, effect });
  }
  return out;
}
