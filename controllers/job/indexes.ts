// Completion indexes of Indexed Jobs (kube's indexed_job_utils.go): status.completedIndexes is
// a compressed list of intervals ("1,3-5,7"), and each pod carries its index in an annotation.

import type { Pod } from '../../lib/api/core/pod.js';
import { JobLabels } from '../../lib/api/batch/types.js';

/** getCompletionIndex is the pod's index annotation, or -1 (unknownCompletionIndex) when missing or invalid. */
export function getCompletionIndex(pod: Pod): number {
  const v = pod.metadata.annotations?.[JobLabels.JobCompletionIndex];
  if (v === undefined || !/^[0-9]+$/.test(v)) return -1;
  return Number.parseInt(v, 10);
}

/** parseIndexes reads an interval list, keeping the indexes below completions. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number.parseInt(a!, 10);
    const hi = b === undefined ? lo : Number.parseInt(b, 10);
    if (Number.isNaN(lo) || Number.isNaN(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** formatIndexes writes indexes as kube's orderedIntervals.String: sorted, runs of 3+ as ranges ("1-3"), pairs as "1,2". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j === i) parts.push(String(sorted[i]));
    else if (j === i + 1) parts.push(String(sorted[i]), String(sorted[j]));
    else parts.push(`${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** firstPendingIndexes is firstPendingIndexes: the lowest indexes neither succeeded nor held by an active pod. */
export function firstPendingIndexes(succeeded: Set<number>, active: readonly Pod[], count: number, completions: number): number[] {
  const taken = new Set(succeeded);
  for (const p of active) {
    const ix = getCompletionIndex(p);
    if (ix >= 0) taken.add(ix);
  }
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** podGenerateNameWithIndex is `<job>-<index>-`, the job name cut so the name stays a valid label-length prefix. */
export function podGenerateNameWithIndex(jobName: string, index: number): string {
  const appendix = `-${index}-`;
  const max = 63 - 5; // room for the random suffix
  const base = jobName.length + appendix.length > max ? jobName.slice(0, max - appendix.length) : jobName;
  return `${base}${appendix}`;
}
