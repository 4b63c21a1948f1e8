// Test-only helpers for plugin table tests: run one in-tree plugin through a one-plugin Framework
// (so PreFilter/PreScore state, Skip and normalization behave as in a real cycle).

import type { Pod } from '../../lib/api/core/pod.js';
import { CycleState } from '../framework/cyclestate.js';
import { Framework, type FrameworkOptions } from '../framework/framework.js';
import type { Snapshot } from '../framework/snapshot.js';
import { Code } from '../framework/status.js';
import { inTreeRegistry, pluginInfo } from './registry.js';

function frameworkFor(name: string, args: unknown, opts: FrameworkOptions = {}): Framework {
  const points = pluginInfo[name].points;
  const has = (p: string) => points.includes(p as never);
  return new Framework(
    {
      schedulerName: 'test',
      plugins: {
        preFilter: has('preFilter') ? [name] : [],
        filter: has('filter') ? [name] : [],
        postFilter: [],
        preScore: has('preScore') ? [name] : [],
        score: has('score') ? [{ name, weight: 1 }] : [],
      },
      pluginConfig: args === undefined ? {} : { [name]: args },
    },
    inTreeRegistry,
    opts,
  );
}

/**
 * filterResults runs PreFilter then Filter of plugin name on every node and returns, per node,
 * "Success" or "<Code>: reason, reason" (a PreFilter rejection shows as "PreFilter <Code>: …"). Test-only.
 */
export function filterResults(name: string, pod: Pod, snap: Snapshot, args?: unknown, opts?: FrameworkOptions): Record<string, string> {
  const fwk = frameworkFor(name, args, opts);
  const state = new CycleState();
  const out: Record<string, string> = {};
  const pre = fwk.runPreFilterPlugins(state, pod, snap);
  for (const ni of snap.nodeInfoList) {
    if (pre.code !== Code.Success) {
      out[ni.name] = `PreFilter ${pre.code}: ${pre.reasons.join(', ')}`;
      continue;
    }
    const s = fwk.runFilterPlugins(state, pod, ni);
    out[ni.name] = s.code === Code.Success ? 'Success' : `${s.code}: ${s.reasons.join(', ')}`;
  }
  return out;
}

/** scoreResults runs PreScore, Score and NormalizeScore of plugin name over all nodes; per node the final score, or "skip". Test-only. */
export function scoreResults(name: string, pod: Pod, snap: Snapshot, args?: unknown, opts?: FrameworkOptions): Record<string, number> | 'skip' {
  const fwk = frameworkFor(name, args, opts);
  const state = new CycleState();
  // PreScore reads the snapshot that PreFilter records.
  fwk.runPreFilterPlugins(state, pod, snap);
  const pre = fwk.runPreScorePlugins(state, pod, snap.nodeInfoList);
  if (pre.code !== Code.Success) throw new Error(`PreScore: ${pre.reasons.join(', ')}`);
  if (state.skipScorePlugins.has(name)) return 'skip';
  const [scores, s] = fwk.runScorePlugins(state, pod, snap.nodeInfoList);
  if (s.code !== Code.Success) throw new Error(`Score: ${s.reasons.join(', ')}`);
  return Object.fromEntries(scores.map((x) => [x.name, x.totalScore]));
}
