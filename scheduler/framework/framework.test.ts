import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import { buildFramework, defaultProfile } from '../config.js';
import { CycleState } from './cyclestate.js';
import { FitError, NodeToStatus, NoNodesAvailableError } from './errors.js';
import { Framework, FrameworkError, type FrameworkProfile, numFeasibleNodesToFind, type Registry, schedulePod, type SchedulingOptions, selectHost } from './framework.js';
import type { NodePluginScores, Plugin, PostFilterPlugin } from './interface.js';
import type { NodeInfo } from './nodeinfo.js';
import { newPodInfo, type PodInfo } from './podinfo.js';
import { newSnapshot } from './snapshot.js';
import { asError, Code, skip, type Status, success, unresolvable, unschedulable } from './status.js';
import type { FilterPlugin, PreFilterPlugin, ScorePlugin } from './interface.js';
import { makeNode, makePod } from './testing.js';

/** noPreemption is a PostFilter stand-in: the real DefaultPreemption lives with the scheduler process. */
const noPreemption: Registry = {
  DefaultPreemption: () => ({ name: 'DefaultPreemption', postFilter: () => ({ status: unschedulable('Preemption is not helpful for scheduling') }) }) satisfies PostFilterPlugin,
};

function profile(p: Partial<FrameworkProfile['plugins']>, pct?: number): FrameworkProfile {
  return {
    schedulerName: 'test',
    percentageOfNodesToScore: pct,
    plugins: { preFilter: [], filter: [], postFilter: [], preScore: [], score: [], ...p },
    pluginConfig: {},
  };
}

function opts(o: Partial<SchedulingOptions> = {}): SchedulingOptions {
  return { nextStartNodeIndex: 0, ...o };
}

describe('numFeasibleNodesToFind', () => {
  const cases: [number | undefined, number, number][] = [
    [undefined, 50, 50], // under 100 nodes: all
    [0, 100, 100],
    [0, 1000, 420], // adaptive: 50 - 1000/125 = 42%
    [0, 5000, 500], // 10%
    [0, 6000, 300], // 50 - 48 = 2% → floor of 5%
    [10, 500, 100], // never fewer than 100
    [50, 1000, 500],
    [100, 300, 300],
  ];
  for (const [pct, n, want] of cases) {
    it(`${pct}% of ${n} nodes → ${want}`, () => assert.equal(numFeasibleNodesToFind(pct, n), want));
  }
});

describe('selectHost', () => {
  const scores = (...totals: number[]): NodePluginScores[] => totals.map((t, i) => ({ name: `n${i}`, scores: [], totalScore: t }));
  it('picks the highest total', () => assert.equal(selectHost(scores(10, 30, 20)), 'n1'));
  it('breaks ties by reservoir sampling', () => {
    // rand() = 0 makes every tied node replace the choice; 0.99 keeps the first.
    assert.equal(selectHost(scores(5, 30, 30, 30), () => 0), 'n3');
    assert.equal(selectHost(scores(5, 30, 30, 30), () => 0.99), 'n1');
  });
  it('rejects an empty list', () => assert.throws(() => selectHost([]), /empty priorityList/));
});

describe('schedulePod with the default profile', () => {
  const fwk = buildFramework(defaultProfile(), { registry: noPreemption });

  it("explains a failure with kube's FitError text", () => {
    const snap = newSnapshot([
      makeNode('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      makeNode('n2', { cpu: '1' }),
      makeNode('n3', { cpu: '1' }),
    ]);
    const pod = makePod('p', { cpu: '2' });
    const state = new CycleState();
    let err: unknown;
    try {
      schedulePod(fwk, state, pod, snap, opts());
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof FitError);
    assert.equal(err.message, '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.');
    assert.equal(err.diagnosis.nodeToStatus.get('n1').code, Code.UnschedulableAndUnresolvable);
    assert.equal(err.diagnosis.nodeToStatus.get('n2').code, Code.Unschedulable);
    assert.deepEqual([...err.diagnosis.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
    // The caller runs PostFilter and appends its message.
    const { status } = fwk.runPostFilterPlugins(state, pod, err.diagnosis.nodeToStatus);
    err.diagnosis.postFilterMsg = `preemption: 0/3 nodes are available: ${status.reasons.join(', ')}`;
    assert.match(err.message, /2 Insufficient cpu\. preemption: 0\/3 nodes are available: Preemption is not helpful for scheduling\.$/);
  });

  it('packs: the fuller node wins with MostAllocated, the emptier with LeastAllocated', () => {
    const nodes = [makeNode('empty'), makeNode('half')];
    const pods = [makePod('used', { nodeName: 'half', cpu: '2', memory: '4Gi' })];
    const pod = makePod('p', { cpu: '500m', memory: '1Gi' });
    assert.equal(schedulePod(fwk, new CycleState(), pod, newSnapshot(nodes, pods), opts()).suggestedHost, 'half');
    const least = defaultProfile();
    least.pluginConfig.NodeResourcesFit = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }] } };
    const lf = buildFramework(least, { registry: noPreemption });
    assert.equal(schedulePod(lf, new CycleState(), pod, newSnapshot(nodes, pods), opts()).suggestedHost, 'empty');
  });

  it('throws NoNodesAvailableError for an empty cluster', () => {
    assert.throws(() => schedulePod(fwk, new CycleState(), makePod('p'), newSnapshot([]), opts()), NoNodesAvailableError);
  });

  it('tries the nominated node first', () => {
    const snap = newSnapshot([makeNode('n1'), makeNode('n2'), makeNode('n3')]);
    const r = schedulePod(fwk, new CycleState(), makePod('p', { nominatedNodeName: 'n3' }), snap, opts());
    assert.deepEqual(r, { suggestedHost: 'n3', evaluatedNodes: 1, feasibleNodes: 1 });
  });
});

/** recordingFilter remembers which nodes it saw and rejects those named in reject. */
function recordingFilter(seen: string[], reject: Set<string> = new Set()): FilterPlugin {
  return {
    name: 'Rec',
    filter(_s: CycleState, _p: Pod, ni: NodeInfo): Status {
      seen.push(ni.name);
      return reject.has(ni.name) ? unschedulable('nope') : success();
    },
  } satisfies FilterPlugin;
}

describe('sampling and round robin', () => {
  const nodes = Array.from({ length: 200 }, (_, i) => makeNode(`n${String(i).padStart(3, '0')}`));
  const snap = newSnapshot(nodes);

  it('stops after numFeasibleNodesToFind feasible nodes and starts the next search where this one stopped', () => {
    const seen: string[] = [];
    const fwk = new Framework(profile({ filter: ['Rec'] }), { Rec: () => recordingFilter(seen) });
    const o = opts();
    const r1 = schedulePod(fwk, new CycleState(), makePod('a'), snap, o);
    assert.equal(r1.feasibleNodes, 100); // adaptive 48% of 200 is under the floor of 100
    assert.equal(r1.evaluatedNodes, 100);
    assert.equal(o.nextStartNodeIndex, 100);
    assert.equal(seen[0], 'n000');
    seen.length = 0;
    schedulePod(fwk, new CycleState(), makePod('b'), snap, o);
    assert.equal(seen[0], 'n100');
    assert.equal(o.nextStartNodeIndex, 0);
  });

  it('counts rejected nodes as processed', () => {
    const seen: string[] = [];
    const reject = new Set(nodes.slice(0, 50).map((n) => n.metadata.name!));
    const fwk = new Framework(profile({ filter: ['Rec'] }), { Rec: () => recordingFilter(seen, reject) });
    const o = opts();
    const r = schedulePod(fwk, new CycleState(), makePod('a'), snap, o);
    assert.equal(r.evaluatedNodes, 150);
    assert.equal(r.feasibleNodes, 100);
    assert.equal(o.nextStartNodeIndex, 150);
  });

  it("honours the profile's percentageOfNodesToScore over the global one", () => {
    const big = newSnapshot(Array.from({ length: 1000 }, (_, i) => makeNode(`m${i}`)));
    const fwk = new Framework(profile({ filter: ['Rec'] }, 30), { Rec: () => recordingFilter([]) });
    assert.equal(schedulePod(fwk, new CycleState(), makePod('a'), big, opts({ percentageOfNodesToScore: 80 })).feasibleNodes, 300);
  });
});

describe('extension points', () => {
  const snap = newSnapshot([makeNode('n1'), makeNode('n2'), makeNode('n3')]);

  it('a PreFilter rejection marks every node and becomes the FitError message', () => {
    const pre: PreFilterPlugin = { name: 'Pre', preFilter: () => unresolvable('pod affinity terms conflict') };
    const fwk = new Framework(profile({ preFilter: ['Pre'] }), { Pre: () => pre });
    const err = (() => {
      try {
        schedulePod(fwk, new CycleState(), makePod('p'), snap, opts());
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof FitError);
    assert.equal(err.message, '0/3 nodes are available: pod affinity terms conflict.');
    assert.equal(err.diagnosis.nodeToStatus.get('n2').plugin, 'Pre');
    assert.deepEqual([...err.diagnosis.unschedulablePlugins], ['Pre']);
  });

  it('PreFilter Skip turns off that plugin’s Filter', () => {
    const seen: string[] = [];
    const both = { ...recordingFilter(seen, new Set(['n1', 'n2', 'n3'])), name: 'Both', preFilter: () => skip() };
    const fwk = new Framework(profile({ preFilter: ['Both'], filter: ['Both'] }), { Both: () => both });
    assert.equal(schedulePod(fwk, new CycleState(), makePod('p'), snap, opts()).feasibleNodes, 3);
    assert.deepEqual(seen, []);
  });

  it('a Filter Error aborts the cycle with a FrameworkError naming the plugin', () => {
    const bad: FilterPlugin = { name: 'Bad', filter: () => asError(new Error('boom')) };
    const fwk = new Framework(profile({ filter: ['Bad'] }), { Bad: () => bad });
    assert.throws(() => schedulePod(fwk, new CycleState(), makePod('p'), snap, opts()), (e: unknown) => e instanceof FrameworkError && /running "Bad" filter plugin: boom/.test(e.message));
  });

  it('scores: normalize, weight and sum per node; out-of-range scores are errors', () => {
    const byIndex: ScorePlugin = {
      name: 'ByIndex',
      score: (_s, _p, ni) => [Number(ni.name.slice(1)), success()],
      normalizeScore: (_s, _p, scores) => {
        for (const s of scores) s.score *= 10;
        return success();
      },
    };
    const flat: ScorePlugin = { name: 'Flat', score: () => [7, success()] };
    const fwk = new Framework(profile({ score: [{ name: 'ByIndex', weight: 2 }, { name: 'Flat', weight: 3 }] }), { ByIndex: () => byIndex, Flat: () => flat });
    const [scores, s] = fwk.runScorePlugins(new CycleState(), makePod('p'), snap.nodeInfoList);
    assert.equal(s.code, Code.Success);
    assert.deepEqual(
      scores.map((x) => [x.name, x.totalScore]),
      [
        ['n1', 20 + 21],
        ['n2', 40 + 21],
        ['n3', 60 + 21],
      ],
    );
    const tooBig: ScorePlugin = { name: 'TooBig', score: () => [101, success()] };
    const f2 = new Framework(profile({ score: [{ name: 'TooBig', weight: 1 }] }), { TooBig: () => tooBig });
    const [, s2] = f2.runScorePlugins(new CycleState(), makePod('p'), snap.nodeInfoList);
    assert.equal(s2.code, Code.Error);
    assert.match(s2.reasons[0], /plugin "TooBig" returns an invalid score 101, it should in the range of \[0, 100\] after normalizing/);
  });

  it('PostFilter: the first success wins; otherwise reasons are gathered under the first rejector', () => {
    const a: PostFilterPlugin = { name: 'A', postFilter: () => ({ status: unschedulable('a1') }) };
    const b: PostFilterPlugin = { name: 'B', postFilter: () => ({ status: unschedulable('b1', 'b2') }) };
    const fwk = new Framework(profile({ postFilter: ['A', 'B'] }), { A: () => a, B: () => b });
    const r = fwk.runPostFilterPlugins(new CycleState(), makePod('p'), new NodeToStatus());
    assert.deepEqual([r.status.code, r.status.reasons, r.status.plugin], [Code.Unschedulable, ['a1', 'b1', 'b2'], 'A']);
    assert.ok(fwk.hasPostFilter());
  });

  it('rejects a profile naming a plugin that is missing or lacks the extension point', () => {
    assert.throws(() => new Framework(profile({ filter: ['Nope'] }), {}), /filter plugin "Nope" does not exist/);
    const p: Plugin = { name: 'P' };
    assert.throws(() => new Framework(profile({ filter: ['P'] }), { P: () => p }), /plugin "P" does not extend filter plugin/);
  });
});

describe('runFilterPluginsWithNominatedPods', () => {
  const nominated: PodInfo[] = [];
  const fwk = buildFramework(defaultProfile(), { registry: noPreemption, nominator: { nominatedPodsForNode: (n) => (n === 'n1' ? nominated : []) } });
  const snap = newSnapshot([makeNode('n1', { cpu: '4' })]);
  const pod = makePod('p', { cpu: '2', priority: 10 });

  it('counts nominated pods of equal or higher priority', () => {
    nominated.splice(0, nominated.length, newPodInfo(makePod('big', { cpu: '3', priority: 10 })));
    const state = new CycleState();
    assert.equal(fwk.runPreFilterPlugins(state, pod, snap).code, Code.Success);
    const s = fwk.runFilterPluginsWithNominatedPods(state, pod, snap.get('n1')!);
    assert.deepEqual([s.code, s.reasons], [Code.Unschedulable, ['Insufficient cpu']]);
    // The node itself was not changed by the what-if pass.
    assert.equal(snap.get('n1')!.pods.length, 0);
  });

  it('ignores nominated pods of lower priority', () => {
    nominated.splice(0, nominated.length, newPodInfo(makePod('small', { cpu: '3', priority: 1 })));
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, pod, snap);
    assert.equal(fwk.runFilterPluginsWithNominatedPods(state, pod, snap.get('n1')!).code, Code.Success);
  });
});

describe('schedulePod over 5,000 nodes', () => {
  it('schedules pods one after another on a large snapshot (micro-check, no timing assertion)', (t) => {
    const zones = ['a', 'b', 'c'];
    const nodes = Array.from({ length: 5000 }, (_, i) =>
      makeNode(`node-${i}`, { cpu: '8', memory: '32Gi', labels: { 'topology.kubernetes.io/zone': zones[i % 3] }, taints: i % 10 === 0 ? [{ key: 'spot', effect: 'PreferNoSchedule' }] : undefined }),
    );
    const pods: Pod[] = [];
    for (let i = 0; i < 10_000; i++) pods.push(makePod(`existing-${i}`, { nodeName: `node-${i % 5000}`, cpu: '100m', memory: '128Mi', labels: { app: `a${i % 50}` } }));
    const snap = newSnapshot(nodes, pods);
    const fwk = buildFramework(defaultProfile(), { registry: noPreemption });
    const o = opts();
    const n = 300;
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const pod = makePod(`new-${i}`, { cpu: '250m', memory: '256Mi', labels: { app: 'web' } });
      const r = schedulePod(fwk, new CycleState(), pod, snap, o);
      assert.equal(r.evaluatedNodes, 500);
      // Bind it in the snapshot, as the cache would.
      snap.get(r.suggestedHost)!.addPod({ ...pod, spec: { ...pod.spec, nodeName: r.suggestedHost } });
    }
    const ms = performance.now() - started;
    t.diagnostic(`${n} pods over 5000 nodes in ${ms.toFixed(0)} ms (${((n / ms) * 1000).toFixed(0)} pods/s)`);
  });
});
