import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { Pods } from '../../lib/client/resources.js';
import type { PodDisruptionBudget } from '../../lib/api/policy/poddisruptionbudget.js';
import { CycleState } from '../framework/cyclestate.js';
import { FitError, newDiagnosis, NodeToStatus } from '../framework/errors.js';
import { Framework } from '../framework/framework.js';
import type { FilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import { newSnapshot, type Snapshot } from '../framework/snapshot.js';
import { Code, success, unresolvable, unschedulable } from '../framework/status.js';
import { type Candidate, DefaultPreemption, PreemptionDecision, filterPodsWithPDBViolation, pickOneNodeForPreemption, preemptionDecisionKey, prepareCandidate } from './preemption.js';

// A filter on CPU only, so these tests depend on nothing but the framework.
const cpuFit: FilterPlugin = {
  name: 'CPUFit',
  filter(_state, pod: Pod, ni: NodeInfo) {
    const want = Number(pod.spec.containers[0].resources?.requests?.cpu ?? 0) * 1000;
    return ni.requested.milliCPU + want <= ni.allocatable.milliCPU ? success() : unschedulable('Insufficient cpu');
  },
};
// Nodes labelled hopeless=true can never take the pod (as a node affinity mismatch).
const hopeless: FilterPlugin = {
  name: 'Hopeless',
  filter: (_s, _p, ni: NodeInfo) => (ni.node.metadata.labels?.hopeless ? unresolvable("node(s) didn't match Pod's node affinity/selector") : success()),
};

function setup(nodes: Node[], pods: Pod[], pdbs: PodDisruptionBudget[] = []): { pl: DefaultPreemption; snapshot: Snapshot; fwk: Framework } {
  const snapshot = newSnapshot(nodes, pods);
  let pl!: DefaultPreemption;
  const fwk = new Framework(
    { schedulerName: 'default-scheduler', plugins: { preFilter: [], filter: ['Hopeless', 'CPUFit'], postFilter: ['DefaultPreemption'], preScore: [], score: [] }, pluginConfig: {} },
    {
      CPUFit: () => cpuFit,
      Hopeless: () => hopeless,
      DefaultPreemption: (args, fh) => (pl = new DefaultPreemption(args as never, fh, { snapshot: () => snapshot, rand: () => 0, pdbs: () => pdbs })),
    },
  );
  return { pl, snapshot, fwk };
}

function node(name: string, cpu: number, labels?: Record<string, string>): Node {
  return { metadata: { name, labels }, status: { allocatable: { cpu: String(cpu), pods: '110' } } };
}

let n = 0;
function pod(name: string, nodeName: string | undefined, cpu: number, priority: number, started?: string): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}-${++n}` },
    spec: { nodeName, priority, containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: String(cpu) } } }] },
    status: started ? { startTime: started } : {},
  };
}

/** statuses runs the filters as a failed cycle would have, for the PostFilter input. */
function statuses(fwk: Framework, snapshot: Snapshot, p: Pod): NodeToStatus {
  const m = new NodeToStatus();
  for (const ni of snapshot.nodeInfoList) m.set(ni.name, fwk.runFilterPlugins(new CycleState(), p, ni));
  return m;
}

test('selectVictimsOnNode removes the fewest, least important pods', () => {
  const { pl, snapshot } = setup([node('n1', 4)], [pod('p10', 'n1', 1, 10), pod('p20', 'n1', 1, 20), pod('p30', 'n1', 2, 30), pod('p500', 'n1', 0, 500)]);
  // Needs 2 CPUs, node has 0 free: p30 (2 CPUs) alone would do, but the reprieve keeps the most
  // important pods first: p30 stays, then p20 stays, p10 must go… and one more CPU is needed, so p20 goes too.
  const r = pl.selectVictimsOnNode(new CycleState(), pod('new', undefined, 2, 100), snapshot.get('n1')!.clone());
  assert.equal(r.status.code, Code.Success);
  assert.deepEqual(r.victims.map((v) => v.metadata.name), ['p20', 'p10']);
});

test('selectVictimsOnNode: no lower-priority pods, or not enough room even without them', () => {
  const { pl, snapshot } = setup([node('n1', 2)], [pod('p200', 'n1', 1, 200), pod('p10', 'n1', 1, 10)]);
  const none = pl.selectVictimsOnNode(new CycleState(), pod('x', undefined, 1, 5), snapshot.get('n1')!.clone());
  assert.equal(none.status.code, Code.UnschedulableAndUnresolvable);
  assert.deepEqual(none.status.reasons, ['No preemption victims found for incoming pod']);
  const tooBig = pl.selectVictimsOnNode(new CycleState(), pod('y', undefined, 2, 100), snapshot.get('n1')!.clone());
  assert.equal(tooBig.status.code, Code.Unschedulable);
  assert.deepEqual(tooBig.status.reasons, ['Insufficient cpu']);
});

test('postFilter nominates the node whose victims matter least and leaves the decision in the cycle state', () => {
  const { fwk, snapshot } = setup(
    [node('a', 1), node('b', 1), node('c', 1, { hopeless: 'true' })],
    [pod('on-a', 'a', 1, 50), pod('on-b', 'b', 1, 20), pod('on-c', 'c', 1, 1)],
  );
  const preemptor = pod('big', undefined, 1, 100);
  const state = new CycleState();
  const { result, status } = fwk.runPostFilterPlugins(state, preemptor, statuses(fwk, snapshot, preemptor));
  assert.equal(status.code, Code.Success);
  assert.equal(result?.nominatedNodeName, 'b');
  const decision = state.read<PreemptionDecision>(preemptionDecisionKey);
  assert.deepEqual(decision?.candidate?.victims.map((v) => v.metadata.name), ['on-b']);
});

/** budget guards app=<app> pods in ns with disruptionsAllowed as given. */
function budget(app: string, disruptionsAllowed: number, disruptedPods?: Record<string, string>): PodDisruptionBudget {
  return { metadata: { name: `pdb-${app}`, namespace: 'ns' }, spec: { selector: { matchLabels: { app } } }, status: { disruptionsAllowed, disruptedPods } };
}
const labelled = (p: Pod, app: string): Pod => ({ ...p, metadata: { ...p.metadata, labels: { app } } });

test('filterPodsWithPDBViolation spends each budget once per pod, skipping pods it already let go', () => {
  const pods = [labelled(pod('a1', 'n1', 1, 1), 'a'), labelled(pod('a2', 'n1', 1, 1), 'a'), labelled(pod('a3', 'n1', 1, 1), 'a'), labelled(pod('b1', 'n1', 1, 1), 'b'), pod('free', 'n1', 1, 1)];
  const infos = pods.map((p) => ({ pod: p }));
  const { violating, nonViolating } = filterPodsWithPDBViolation(infos, [budget('a', 1, { a1: '2024-05-01T12:00:00Z' }), { ...budget('b', 0), spec: { selector: {} } }]);
  // a1 was already disrupted (free), a2 spends the one allowed disruption, a3 would violate; an empty selector guards nothing.
  assert.deepEqual(violating.map((i) => i.pod.metadata.name), ['a3']);
  assert.deepEqual(nonViolating.map((i) => i.pod.metadata.name), ['a1', 'a2', 'b1', 'free']);
});

test('selectVictimsOnNode reprieves pods a budget guards first', () => {
  const guarded = labelled(pod('guarded', 'n1', 1, 10), 'db');
  const free = pod('free', 'n1', 1, 20);
  const preemptor = pod('new', undefined, 1, 100);
  // Without budgets the more important pod stays and the guarded one goes.
  const plain = setup([node('n1', 2)], [guarded, free]);
  const r0 = plain.pl.selectVictimsOnNode(new CycleState(), preemptor, plain.snapshot.get('n1')!.clone(), []);
  assert.deepEqual([r0.victims.map((v) => v.metadata.name), r0.numPDBViolations], [['guarded'], 0]);
  // A budget with no disruption left keeps the guarded pod: the other one is the victim.
  const { pl, snapshot } = setup([node('n1', 2)], [guarded, free]);
  const r1 = pl.selectVictimsOnNode(new CycleState(), preemptor, snapshot.get('n1')!.clone(), [budget('db', 0)]);
  assert.deepEqual([r1.victims.map((v) => v.metadata.name), r1.numPDBViolations], [['free'], 0]);
  // When only the guarded pod can make room, it is a victim that counts as a violation.
  const big = pod('big', undefined, 2, 100);
  const r2 = pl.selectVictimsOnNode(new CycleState(), big, snapshot.get('n1')!.clone(), [budget('db', 0)]);
  assert.deepEqual([r2.victims.map((v) => v.metadata.name), r2.numPDBViolations], [['free', 'guarded'], 1]);
});

test('postFilter prefers the node whose preemption violates no budget over one with less important victims', () => {
  const pods = [labelled(pod('on-a', 'a', 1, 10), 'db'), pod('on-b', 'b', 1, 50)];
  const preemptor = pod('big', undefined, 1, 100);
  // Without a budget, a's victim (priority 10) matters least.
  const plain = setup([node('a', 1), node('b', 1)], pods);
  assert.equal(plain.fwk.runPostFilterPlugins(new CycleState(), preemptor, statuses(plain.fwk, plain.snapshot, preemptor)).result?.nominatedNodeName, 'a');
  const { fwk, snapshot } = setup([node('a', 1), node('b', 1)], pods, [budget('db', 0)]);
  const state = new CycleState();
  const { result } = fwk.runPostFilterPlugins(state, preemptor, statuses(fwk, snapshot, preemptor));
  assert.equal(result?.nominatedNodeName, 'b');
  assert.equal(state.read<PreemptionDecision>(preemptionDecisionKey)?.candidate?.numPDBViolations, 0);
});

test('postFilter explains in kube\'s words why nothing can be preempted', () => {
  const { fwk, snapshot } = setup([node('a', 1), node('b', 1), node('c', 1)], [pod('x', 'a', 1, 1000), pod('y', 'b', 1, 1000), pod('z', 'c', 1, 1000)]);
  const preemptor = pod('p', undefined, 1, 10);
  const m = statuses(fwk, snapshot, preemptor);
  const state = new CycleState();
  const { status } = fwk.runPostFilterPlugins(state, preemptor, m);
  assert.equal(status.code, Code.Unschedulable);
  // No candidate: a nomination the pod had is to be cleared.
  const decision = state.read<PreemptionDecision>(preemptionDecisionKey);
  assert.ok(decision);
  assert.equal(decision.candidate, undefined);
  const diagnosis = newDiagnosis();
  for (const [name, s] of m.entries()) diagnosis.nodeToStatus.set(name, s);
  diagnosis.postFilterMsg = status.reasons.join(', ');
  assert.equal(
    new FitError(preemptor, 3, diagnosis).message,
    '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..',
  );
});

test('postFilter: nodes rejected as unresolvable are not helped by preemption', () => {
  const { fwk, snapshot } = setup([node('a', 1, { hopeless: 'true' })], [pod('x', 'a', 1, 1)]);
  const preemptor = pod('p', undefined, 1, 10);
  const { status } = fwk.runPostFilterPlugins(new CycleState(), preemptor, statuses(fwk, snapshot, preemptor));
  assert.deepEqual(status.reasons, ['preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.']);
});

test('postFilter: preemptionPolicy Never, and a victim still terminating on the nominated node', () => {
  const { fwk, snapshot } = setup([node('a', 1)], [pod('x', 'a', 1, 1)]);
  const never = pod('p', undefined, 1, 10);
  never.spec.preemptionPolicy = 'Never';
  let r = fwk.runPostFilterPlugins(new CycleState(), never, statuses(fwk, snapshot, never));
  assert.deepEqual(r.status.reasons, ['preemption: not eligible due to preemptionPolicy=Never.']);

  const victim = pod('v', 'a', 1, 1);
  victim.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  victim.status = { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] };
  const s2 = setup([node('a', 1)], [victim]);
  const waiting = pod('w', undefined, 1, 10);
  waiting.status = { nominatedNodeName: 'a' };
  r = s2.fwk.runPostFilterPlugins(new CycleState(), waiting, statuses(s2.fwk, s2.snapshot, waiting));
  assert.deepEqual(r.status.reasons, ['preemption: not eligible due to a terminating pod on the nominated node.']);
});

test('pickOneNodeForPreemption applies kube\'s criteria in order', () => {
  const v = (name: string, priority: number, started?: string) => pod(name, 'x', 1, priority, started);
  const c = (name: string, victims: Pod[], pdb = 0): Candidate => ({ name, victims, numPDBViolations: pdb });
  const pick = (...cs: Candidate[]) => pickOneNodeForPreemption(cs)?.name;
  assert.equal(pick(c('pdb', [v('a', 1)], 1), c('ok', [v('b', 5)])), 'ok');
  assert.equal(pick(c('high', [v('a', 9)]), c('low', [v('b', 5), v('c', 5)])), 'low');
  assert.equal(pick(c('sum-big', [v('a', 5), v('b', 4)]), c('sum-small', [v('c', 5), v('d', 1)])), 'sum-small');
  assert.equal(pick(c('more', [v('a', 5), v('b', -2147483648)]), c('fewer', [v('c', 5)])), 'fewer');
  assert.equal(pick(c('older', [v('a', 5, '2024-01-01T00:00:00Z')]), c('newer', [v('b', 5, '2024-06-01T00:00:00Z')])), 'newer');
  assert.equal(pick(c('first', [v('a', 5, '2024-01-01T00:00:00Z')]), c('second', [v('b', 5, '2024-01-01T00:00:00Z')])), 'first');
});

test('prepareCandidate marks and deletes the victims, with events, and clears lower nominations', async () => {
  const victim = pod('victim', 'n1', 1, 1);
  const lower = pod('lower', undefined, 1, 5);
  lower.status = { nominatedNodeName: 'n1' };
  const client = new FakeClient().add(Pods, victim, lower);
  const recorder = new FakeRecorder();
  const preemptor = pod('preemptor', undefined, 1, 100);
  await prepareCandidate(preemptor, { name: 'n1', victims: [client.stored<Pod>(Pods, 'ns', 'victim')!], numPDBViolations: 0 }, {
    client,
    recorder,
    schedulerName: 'default-scheduler',
    lowerPriorityNominatedPods: [lower],
  });
  const writes = client.writes().map((a) => `${a.verb} ${a.resource}${a.subresource ? '/' + a.subresource : ''} ${a.name}`);
  assert.deepEqual(writes, ['patch pods/status victim', 'delete pods victim', 'patch pods/status lower']);
  const cond = (client.writes()[0].patch as { status: { conditions: { type: string; reason: string; message: string }[] } }).status.conditions[0];
  assert.deepEqual([cond.type, cond.reason, cond.message], ['DisruptionTarget', 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod']);
  assert.deepEqual(recorder.events, [`Normal Preempted Preempted by pod ${preemptor.metadata.uid} on node n1`]);
  assert.equal(client.stored(Pods, 'ns', 'victim'), undefined);
});
