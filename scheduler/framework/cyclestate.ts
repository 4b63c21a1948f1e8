// CycleState (framework.CycleState): the data plugins share within one scheduling attempt,
// written in PreFilter/PreScore and read in Filter/Score.

import type { Pod } from '../../lib/api/core/pod.js';
import { PodInfo } from './podinfo.js';

/**
 * StateData is what plugins keep in CycleState. Data that changes after PreFilter (through
 * AddPod/RemovePod) must have a clone() method (see Cloneable); other data is shared by clones.
 */
export type StateData = object;

/** Cloneable is StateData that copies itself for CycleState.clone(). */
export interface Cloneable {
  clone(): StateData;
}

function isCloneable(v: StateData): v is Cloneable {
  return typeof (v as Partial<Cloneable>).clone === 'function';
}

/**
 * CycleState is framework.CycleState: per-attempt data plugins write in PreFilter/PreScore and
 * read in Filter/Score, plus the plugins a Skip status switched off. clone() (for preemption's
 * what-if runs) clones each value that can clone itself and shares the rest.
 */
export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** skipFilterPlugins are the plugins whose PreFilter returned Skip. */
  skipFilterPlugins = new Set<string>();
  /** skipScorePlugins are the plugins whose PreScore returned Skip. */
  skipScorePlugins = new Set<string>();

  /** read returns the value under key, undefined when absent. */
  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  /** write stores value under key. */
  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  /** delete removes key. */
  delete(key: string): void {
    this.data.delete(key);
  }

  /** clone copies the state for a what-if run. */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, isCloneable(v) ? v.clone() : v);
    c.skipFilterPlugins = new Set(this.skipFilterPlugins);
    c.skipScorePlugins = new Set(this.skipScorePlugins);
    return c;
  }
}

/** SnapshotStateKey is where runPreFilterPlugins keeps the cycle's Snapshot (PreScore plugins read all nodes from it). */
export const SnapshotStateKey = 'Snapshot';

/** PodInfoStateKey is where the cycle keeps the incoming pod's PodInfo (the queue may seed it). */
export const PodInfoStateKey = 'PodInfo';

/** podInfoForCycle is the incoming pod's PodInfo for this cycle, built once and shared by every plugin. */
export function podInfoForCycle(state: CycleState, pod: Pod): PodInfo {
  const cached = state.read<PodInfo>(PodInfoStateKey);
  if (cached && cached.pod === pod) return cached;
  const pi = new PodInfo(pod);
  state.write(PodInfoStateKey, pi);
  return pi;
}
