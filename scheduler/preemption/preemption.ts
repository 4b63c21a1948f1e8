// DefaultPreemption is the PostFilter plugin that makes room for a pod no node fits, after
// kube-scheduler's framework/preemption (Evaluator) and plugins/defaultpreemption:
//
//   1. the pod must be eligible (preemptionPolicy ≠ Never, no victim of an earlier preemption
//      still terminating on its nominated node);
//   2. only nodes that rejected it as Unschedulable (not UnschedulableAndUnresolvable) may help;
//   3. on each such node (from a random offset, until enough candidates are found), remove every
//      lower-priority pod, check the pod fits, then add the victims back highest priority first
//      while it still fits (selectVictimsOnNode): what cannot come back are the victims;
//      (PodDisruptionBudget-violating victims are reprieved first and counted);
//   4. pick one candidate node (pickOneNodeForPreemption): fewest PDB violations, lowest
//      highest-victim priority, smallest priority sum, fewest victims, latest start time.
//
// The plugin runs inside the synchronous scheduling cycle, so it only decides; the scheduler then
// carries out the decision with API calls (prepareCandidate): mark and delete the victims, clear
// lower-priority nominations on the node, and set the preemptor's status.nominatedNodeName.

import type { Pod } from '../../lib/api/core/pod.js';
import { pdbGuardsPod } from '../../lib/api/policy/helpers.js';
import type { PodDisruptionBudget } from '../../lib/api/policy/poddisruptionbudget.js';
import { type Client, Pods } from '../../lib/client/index.js';
import type { Recorder } from '../../lib/client/events.js';
import type { CycleState, StateData } from '../framework/cyclestate.js';
import { FitError, newDiagnosis, NodeToStatus } from '../framework/errors.js';
import { type Framework, podPriority } from '../framework/framework.js';
import type { PostFilterPlugin, PostFilterResult } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import type { PodInfo } from '../framework/podinfo.js';
import type { Snapshot } from '../framework/snapshot.js';
import { asError, Code, type Status, statusMessage, unresolvable, unschedulable } from '../framework/status.js';

export const DefaultPreemptionName = 'DefaultPreemption';

/** DefaultPreemptionArgs are the plugin's args (config.DefaultPreemptionArgs). */
export interface DefaultPreemptionArgs {
  /** minCandidateNodesPercentage of the nodes are dry-run at least (default 10). */
  minCandidateNodesPercentage?: number;
  /** minCandidateNodesAbsolute nodes are dry-run at least (default 100). */
  minCandidateNodesAbsolute?: number;
}

/** Candidate is a node where preemption would make the pod fit, and the pods it would evict. */
export interface Candidate {
  name: string;
  /** victims, highest priority first. */
  victims: Pod[];
  numPDBViolations: number;
}

/**
 * PreemptionDecision is what the plugin leaves in CycleState for the scheduler to carry out: a
 * candidate to preempt on, or none, which means the pod's current nomination no longer helps
 * and is cleared (the framework's PostFilterResult cannot say "clear").
 */
export class PreemptionDecision implements StateData {
  constructor(readonly candidate: Candidate | undefined) {}
  /** clone shares the decision: it is never changed once made. */
  clone(): PreemptionDecision {
    return this;
  }
}

/** preemptionDecisionKey is the CycleState key of a PreemptionDecision. */
export const preemptionDecisionKey = 'DefaultPreemption/decision';

/** PreemptionDeps are what the plugin reads beyond the framework: the cycle's snapshot. */
export interface PreemptionDeps {
  /** snapshot is the Snapshot of the cycle running now. */
  snapshot(): Snapshot;
  /** rand returns [0,1) for the dry run's random start (tests pin it). */
  rand?: () => number;
  /** pdbs lists every PodDisruptionBudget (the scheduler's informer); none when absent. */
  pdbs?: () => readonly PodDisruptionBudget[];
}

/**
 * filterPodsWithPDBViolation splits would-be victims (most important first) into those whose
 * eviction would take a budget below zero disruptions and the rest, spending each matching
 * budget's disruptionsAllowed as it goes. A pod already in a budget's disruptedPods was let go by
 * the API server and costs nothing more. Here an empty selector matches nothing, as in
 * kube-scheduler.
 */
export function filterPodsWithPDBViolation<T extends { pod: Pod }>(podInfos: readonly T[], pdbs: readonly PodDisruptionBudget[]): { violating: T[]; nonViolating: T[] } {
  const allowed = pdbs.map((pdb) => pdb.status?.disruptionsAllowed ?? 0);
  const violating: T[] = [];
  const nonViolating: T[] = [];
  for (const pi of podInfos) {
    const pod = pi.pod;
    let violated = false;
    if (Object.keys(pod.metadata.labels ?? {}).length) {
      pdbs.forEach((pdb, i) => {
        if (!pdbGuardsPod(pdb, pod, { emptyMatchesAll: false })) return;
        if (pdb.status?.disruptedPods?.[pod.metadata.name ?? ''] !== undefined) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** podStartTime is status.startTime, or now for pods not started yet (GetPodStartTime). */
export function podStartTime(pod: Pod, now = Date.now()): number {
  const t = Date.parse(pod.status?.startTime ?? '');
  return Number.isNaN(t) ? now : t;
}

/** moreImportantPod: higher priority, or equal priority and started earlier (util.MoreImportantPod). */
export function moreImportantPod(a: Pod, b: Pod, now = Date.now()): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return podStartTime(a, now) < podStartTime(b, now);
}

/** isTerminatingByPreemption: the pod is being deleted because the scheduler preempted it. */
export function isTerminatingByPreemption(pod: Pod): boolean {
  if (!pod.metadata.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'PreemptionByScheduler');
}

/** DefaultPreemption is the PostFilter plugin. */
export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DefaultPreemptionName;
  private readonly minPercentage: number;
  private readonly minAbsolute: number;

  constructor(
    args: DefaultPreemptionArgs | undefined,
    private readonly fh: Framework,
    private readonly deps: PreemptionDeps,
  ) {
    this.minPercentage = args?.minCandidateNodesPercentage ?? 10;
    this.minAbsolute = args?.minCandidateNodesAbsolute ?? 100;
    if (this.minPercentage < 0 || this.minPercentage > 100) throw new Error(`minCandidateNodesPercentage is not in the range [0, 100]`);
    if (this.minAbsolute < 0) throw new Error('minCandidateNodesAbsolute is not in the range [0, inf)');
    if (this.minPercentage === 0 && this.minAbsolute === 0) throw new Error('both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero');
  }

  postFilter(state: CycleState, pod: Pod, m: NodeToStatus): { result?: PostFilterResult; status: Status } {
    const { result, status } = this.preempt(state, pod, m);
    const msg = statusMessage(status);
    if (msg) return { result, status: { code: status.code, reasons: [`preemption: ${msg}`], err: status.err } };
    return { result, status };
  }

  /** preempt is Evaluator.Preempt without the API calls (see prepareCandidate). */
  preempt(state: CycleState, pod: Pod, m: NodeToStatus): { result?: PostFilterResult; status: Status } {
    const snapshot = this.deps.snapshot();
    const nominated = pod.status?.nominatedNodeName ?? '';
    const why = this.podEligibleToPreemptOthers(pod, snapshot, nominated ? m.get(nominated) : undefined);
    if (why) return { status: unschedulable(why) };

    const allNodes = snapshot.nodeInfoList;
    if (allNodes.length === 0) return { status: asError(new Error('no nodes available')) };
    const { candidates, nodeStatuses } = this.findCandidates(state, pod, snapshot, m);
    if (candidates.length === 0) {
      const diagnosis = newDiagnosis();
      for (const [name, s] of nodeStatuses.entries()) diagnosis.nodeToStatus.set(name, s);
      const fitError = new FitError(pod, allNodes.length, diagnosis);
      // Clear a nomination the pod may carry: that node no longer helps.
      state.write(preemptionDecisionKey, new PreemptionDecision(undefined));
      return { result: { nominatedNodeName: '' }, status: unschedulable(fitError.message) };
    }
    const best = pickOneNodeForPreemption(candidates);
    if (!best) return { status: unschedulable('no candidate node for preemption') };
    state.write(preemptionDecisionKey, new PreemptionDecision(best));
    return { result: { nominatedNodeName: best.name }, status: { code: Code.Success, reasons: [] } };
  }

  /** podEligibleToPreemptOthers answers why the pod may not preempt, or undefined when it may. */
  podEligibleToPreemptOthers(pod: Pod, snapshot: Snapshot, nominatedNodeStatus: Status | undefined): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.status?.nominatedNodeName;
    if (!nominated) return undefined;
    // A nominated node the filters now find hopeless is no reason to wait: preempt again.
    if (nominatedNodeStatus?.code === Code.UnschedulableAndUnresolvable) return undefined;
    const ni = snapshot.get(nominated);
    if (!ni) return undefined;
    const priority = podPriority(pod);
    for (const p of ni.pods) {
      if (podPriority(p.pod) < priority && isTerminatingByPreemption(p.pod)) return 'not eligible due to a terminating pod on the nominated node.';
    }
    return undefined;
  }

  /** findCandidates dry-runs preemption on the nodes where it might help. */
  findCandidates(state: CycleState, pod: Pod, snapshot: Snapshot, m: NodeToStatus): { candidates: Candidate[]; nodeStatuses: NodeToStatus } {
    const nodeStatuses = new NodeToStatus();
    const potential: NodeInfo[] = [];
    for (const ni of snapshot.nodeInfoList) {
      const s = m.get(ni.name);
      if (s.code === Code.Unschedulable) potential.push(ni);
      else nodeStatuses.set(ni.name, unresolvable('Preemption is not helpful for scheduling'));
    }
    if (potential.length === 0) return { candidates: [], nodeStatuses };
    const rand = this.deps.rand ?? Math.random;
    const offset = Math.floor(rand() * potential.length);
    const numCandidates = this.calculateNumCandidates(potential.length);
    const candidates = this.dryRunPreemption(state, pod, potential, offset, numCandidates, nodeStatuses);
    return { candidates, nodeStatuses };
  }

  /** calculateNumCandidates is how many candidates to look for: a percentage of the nodes, at least the absolute minimum, at most all. */
  calculateNumCandidates(numNodes: number): number {
    let n = Math.trunc((numNodes * this.minPercentage) / 100);
    if (n < this.minAbsolute) n = this.minAbsolute;
    if (n > numNodes) n = numNodes;
    return n;
  }

  /**
   * dryRunPreemption selects victims on each potential node (on copies of the node and the cycle
   * state) from offset round robin, until numCandidates candidates are found. Nodes that cannot
   * become candidates get their status in nodeStatuses.
   */
  dryRunPreemption(state: CycleState, pod: Pod, potential: readonly NodeInfo[], offset: number, numCandidates: number, nodeStatuses: NodeToStatus): Candidate[] {
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    const pdbs = this.deps.pdbs?.() ?? [];
    for (let i = 0; i < potential.length; i++) {
      const ni = potential[(offset + i) % potential.length];
      const r = this.selectVictimsOnNode(state.clone(), pod, ni.clone(), pdbs);
      if (r.status.code === Code.Success && r.victims.length > 0) {
        const c = { name: ni.name, victims: r.victims, numPDBViolations: r.numPDBViolations };
        (r.numPDBViolations === 0 ? nonViolating : violating).push(c);
        // Enough candidates, and at least one that violates no budget.
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      const s = r.status.code === Code.Success ? asError(new Error(`expected at least one victim pod on node "${ni.name}"`)) : r.status;
      nodeStatuses.set(ni.name, s);
    }
    return [...nonViolating, ...violating];
  }

  /**
   * selectVictimsOnNode (SelectVictimsOnNode) finds the fewest, least important pods to remove
   * from nodeInfo (a private copy) so that pod fits: remove every lower-priority pod; if the pod
   * still does not fit, the node cannot help; otherwise reprieve the removed pods from the most
   * important down, keeping each one that leaves the pod fitting. Pods whose eviction would
   * violate a PodDisruptionBudget are reprieved first, so they are victims only when nothing else
   * makes room; numPDBViolations counts those that still are.
   */
  selectVictimsOnNode(state: CycleState, pod: Pod, nodeInfo: NodeInfo, pdbs: readonly PodDisruptionBudget[] = []): { victims: Pod[]; numPDBViolations: number; status: Status } {
    const fail = (s: Status) => ({ victims: [], numPDBViolations: 0, status: s });
    const removePod = (pi: PodInfo): Status => {
      nodeInfo.removePod(pi);
      return this.fh.runPreFilterExtensionRemovePod(state, pod, pi, nodeInfo);
    };
    const addPod = (pi: PodInfo): Status => {
      nodeInfo.addPod(pi);
      return this.fh.runPreFilterExtensionAddPod(state, pod, pi, nodeInfo);
    };
    const priority = podPriority(pod);
    const potentialVictims = nodeInfo.pods.filter((pi) => podPriority(pi.pod) < priority);
    if (potentialVictims.length === 0) return fail(unresolvable('No preemption victims found for incoming pod'));
    for (const pi of potentialVictims) {
      const s = removePod(pi);
      if (s.code !== Code.Success) return fail(s);
    }
    const fits = this.fh.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (fits.code !== Code.Success) return fail(fits);
    const now = Date.now();
    potentialVictims.sort((a, b) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0));
    const victims: Pod[] = [];
    /** reprieve puts pi back if the pod still fits with it; false (and pi a victim) when not. */
    const reprieve = (pi: PodInfo): { fits: boolean; status?: Status } => {
      const added = addPod(pi);
      if (added.code !== Code.Success) return { fits: false, status: added };
      if (this.fh.runFilterPluginsWithNominatedPods(state, pod, nodeInfo).code === Code.Success) return { fits: true };
      const removed = removePod(pi);
      if (removed.code !== Code.Success) return { fits: false, status: removed };
      victims.push(pi.pod);
      return { fits: false };
    };
    const { violating, nonViolating } = filterPodsWithPDBViolation(potentialVictims, pdbs);
    let numPDBViolations = 0;
    for (const pi of violating) {
      const r = reprieve(pi);
      if (r.status) return fail(r.status);
      if (!r.fits) numPDBViolations++;
    }
    for (const pi of nonViolating) {
      const r = reprieve(pi);
      if (r.status) return fail(r.status);
    }
    // Keep victims most important first (pickOneNodeForPreemption reads victims[0]).
    if (violating.length && nonViolating.length) victims.sort((a, b) => (moreImportantPod(a, b, now) ? -1 : moreImportantPod(b, a, now) ? 1 : 0));
    return { victims, numPDBViolations, status: { code: Code.Success, reasons: [] } };
  }
}

/**
 * pickOneNodeForPreemption picks the candidate whose preemption disturbs least: fewest PDB
 * violations, then the lowest highest-victim priority, the smallest sum of victim priorities,
 * the fewest victims, and the latest start among the highest-priority victims; ties go to the
 * first candidate.
 */
export function pickOneNodeForPreemption(candidates: readonly Candidate[], now = Date.now()): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const minBy = (list: readonly Candidate[], score: (c: Candidate) => number): Candidate[] => {
    let best = Infinity;
    let out: Candidate[] = [];
    for (const c of list) {
      const s = score(c);
      if (s < best) {
        best = s;
        out = [c];
      } else if (s === best) out.push(c);
    }
    return out;
  };
  let list = minBy(candidates, (c) => c.numPDBViolations);
  if (list.length === 1) return list[0];
  // Victims are sorted most important first: victims[0] has the highest priority.
  list = minBy(list, (c) => (c.victims.length ? podPriority(c.victims[0]) : -Infinity));
  if (list.length === 1) return list[0];
  // Priorities can be negative; shift each into the non-negative range as kube does (+2^31).
  list = minBy(list, (c) => c.victims.reduce((sum, v) => sum + podPriority(v) + 2147483648, 0));
  if (list.length === 1) return list[0];
  list = minBy(list, (c) => c.victims.length);
  if (list.length === 1) return list[0];
  // The latest start time among each node's highest-priority victims wins (minimise its negation).
  list = minBy(list, (c) => -earliestStartOfHighestPriority(c.victims, now));
  return list[0];
}

function earliestStartOfHighestPriority(victims: readonly Pod[], now: number): number {
  if (victims.length === 0) return now;
  let maxPriority = podPriority(victims[0]);
  let earliest = podStartTime(victims[0], now);
  for (const v of victims) {
    const p = podPriority(v);
    const t = podStartTime(v, now);
    if (p === maxPriority && t < earliest) earliest = t;
    else if (p > maxPriority) {
      maxPriority = p;
      earliest = t;
    }
  }
  return earliest;
}

/** PrepareCandidateOptions are what carrying out a preemption needs. */
export interface PrepareCandidateOptions {
  client: Client;
  recorder: Recorder;
  schedulerName: string;
  /** lowerPriorityNominatedPods are pods nominated to the candidate node with lower priority than the preemptor. */
  lowerPriorityNominatedPods: readonly Pod[];
  now?: () => Date;
}

/**
 * prepareCandidate carries out a preemption decision (Evaluator.prepareCandidate): each victim
 * gets a DisruptionTarget condition and is deleted, with a Preempted event; pods of lower
 * priority nominated to the node lose their nomination (they would not fit any more). It throws
 * the first failure; the preemptor is retried either way.
 */
export async function prepareCandidate(pod: Pod, candidate: Candidate, opts: PrepareCandidateOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());
  const errors: unknown[] = [];
  await Promise.all(
    candidate.victims.map(async (victim) => {
      const ns = victim.metadata.namespace ?? '';
      const name = victim.metadata.name ?? '';
      try {
        if (!isTerminatingByPreemption(victim)) {
          await opts.client
            .patch(Pods, ns, name, 'strategic', {
              status: {
                conditions: [
                  {
                    type: 'DisruptionTarget',
                    status: 'True',
                    reason: 'PreemptionByScheduler',
                    message: `${opts.schedulerName}: preempting to accommodate a higher priority pod`,
                    lastTransitionTime: now().toISOString().replace(/\.\d+Z$/, 'Z'),
                  },
                ],
              },
            }, { subresource: 'status' })
            .catch((err: unknown) => {
              // The condition is advice; the deletion is what makes room.
              if (!isNotFoundError(err)) throw err;
            });
        }
        await opts.client.delete(Pods, ns, name, { preconditions: victim.metadata.uid ? { uid: victim.metadata.uid } : undefined });
        opts.recorder.event(victim, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${candidate.name}`);
      } catch (err) {
        if (isNotFoundError(err)) return; // already gone: room made all the same
        errors.push(err);
      }
    }),
  );
  if (errors.length) throw errors[0];
  await Promise.all(
    opts.lowerPriorityNominatedPods.map((p) =>
      opts.client
        .patch(Pods, p.metadata.namespace ?? '', p.metadata.name ?? '', 'merge', { status: { nominatedNodeName: null } }, { subresource: 'status' })
        .catch((err: unknown) => {
          if (!isNotFoundError(err)) throw err;
        }),
    ),
  );
}

function isNotFoundError(err: unknown): boolean {
  return (err as { code?: number } | undefined)?.code === 404;
}
