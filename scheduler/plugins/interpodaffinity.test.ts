import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Affinity, PodAffinityTerm } from '../../lib/api/core/types.js';
import { buildFramework } from '../config.js';
import { CycleState, SnapshotStateKey } from '../framework/cyclestate.js';
import type { NodeInfo } from '../framework/nodeinfo.js';
import { newInterPodAffinity } from './interpodaffinity.js';
import { newPodInfo } from '../framework/podinfo.js';
import { Code } from '../framework/status.js';
import { newSnapshot } from '../framework/snapshot.js';
import { makeNode, makePod } from '../framework/testing.js';
import { filterResults, scoreResults } from './testing.js';

const term = (app: string, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });
const affinity = (...t: PodAffinityTerm[]): Affinity => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t } });
const anti = (...t: PodAffinityTerm[]): Affinity => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t } });

const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const ANTI = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const EXISTING = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

const nodes = [makeNode('n1', { labels: { zone: 'a' } }), makeNode('n2', { labels: { zone: 'a' } }), makeNode('n3', { labels: { zone: 'b' } }), makeNode('n4')];
const db = makePod('db', { nodeName: 'n1', labels: { app: 'db' } });

describe('InterPodAffinity filter', () => {
  const snap = newSnapshot(nodes, [db]);

  it('required affinity: the node’s domain must hold a matching pod', () => {
    assert.deepEqual(filterResults('InterPodAffinity', makePod('p', { affinity: affinity(term('db', 'zone')) }), snap), { n1: 'Success', n2: 'Success', n3: AFF, n4: AFF });
  });

  it('required anti-affinity: the node’s domain must hold no matching pod', () => {
    assert.deepEqual(filterResults('InterPodAffinity', makePod('p', { affinity: anti(term('db', 'zone')) }), snap), { n1: ANTI, n2: ANTI, n3: 'Success', n4: 'Success' });
  });

  it("existing pods' anti-affinity keeps matching pods out of their domain", () => {
    const hater = makePod('hater', { nodeName: 'n3', affinity: anti(term('web', 'kubernetes.io/hostname')) });
    const s = newSnapshot(nodes, [db, hater]);
    assert.deepEqual(filterResults('InterPodAffinity', makePod('web', { labels: { app: 'web' } }), s), { n1: 'Success', n2: 'Success', n3: EXISTING, n4: 'Success' });
    assert.equal(filterResults('InterPodAffinity', makePod('other', { labels: { app: 'other' } }), s).n3, 'Success');
  });

  it('the first pod of a self-affine group may go wherever the topology exists', () => {
    const pod = makePod('c', { labels: { app: 'cache' }, affinity: affinity(term('cache', 'zone')) });
    assert.deepEqual(filterResults('InterPodAffinity', pod, snap), { n1: 'Success', n2: 'Success', n3: 'Success', n4: AFF });
  });

  it('terms look in the pod’s own namespace unless they name others', () => {
    const other = (t: PodAffinityTerm) => makePod('p', { namespace: 'other', affinity: affinity(t) });
    assert.equal(filterResults('InterPodAffinity', other(term('db', 'zone')), snap).n1, AFF);
    assert.equal(filterResults('InterPodAffinity', other(term('db', 'zone', { namespaces: ['default'] })), snap).n1, 'Success');
    assert.equal(filterResults('InterPodAffinity', other(term('db', 'zone', { namespaceSelector: {} })), snap).n1, 'Success');
    const byLabel = other(term('db', 'zone', { namespaceSelector: { matchLabels: { team: 'data' } } }));
    assert.equal(filterResults('InterPodAffinity', byLabel, snap).n1, AFF);
    const namespaceLabels = (ns: string) => (ns === 'default' ? { team: 'data' } : undefined);
    assert.equal(filterResults('InterPodAffinity', byLabel, snap, undefined, { namespaceLabels }).n1, 'Success');
  });

  it('RemovePod/AddPod update the PreFilter state for preemption', () => {
    const fwk = buildFramework({
      schedulerName: 't',
      plugins: { preFilter: ['InterPodAffinity'], filter: ['InterPodAffinity'], postFilter: [], preScore: [], score: [] },
      pluginConfig: {},
    });
    const pod = makePod('p', { affinity: anti(term('db', 'zone')) });
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, pod, snap);
    const n2 = snap.get('n2')!;
    assert.equal(fwk.runFilterPlugins(state, pod, n2).code, Code.Unschedulable);
    const what = state.clone();
    const n1 = snap.get('n1')!.clone();
    assert.equal(fwk.runPreFilterExtensionRemovePod(what, pod, n1.pods[0], n1).code, Code.Success);
    assert.equal(fwk.runFilterPlugins(what, pod, n2).code, Code.Success);
    // The original state is untouched by the what-if.
    assert.equal(fwk.runFilterPlugins(state, pod, n2).code, Code.Unschedulable);
    fwk.runPreFilterExtensionAddPod(what, pod, newPodInfo(makePod('db2', { labels: { app: 'db' } })), snap.get('n3')!);
    assert.equal(fwk.runFilterPlugins(what, pod, snap.get('n3')!).code, Code.Unschedulable);
  });

  it('pods without terms, in a cluster without anti-affinity, skip the plugin', () => {
    assert.ok(Object.values(filterResults('InterPodAffinity', makePod('p'), snap)).every((v) => v === 'Success'));
  });
});

describe('InterPodAffinity score', () => {
  const four = [...nodes.slice(0, 3), makeNode('n4', { labels: { zone: 'b' } })];
  const cache = makePod('cache', { nodeName: 'n3', labels: { app: 'cache' } });

  it("the pod's preferred terms add and subtract weight per domain, then min-max normalize", () => {
    const pod = makePod('p', {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db', 'zone') }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term('cache', 'zone') }] },
      },
    });
    // zone a: +10, zone b: -5.
    assert.deepEqual(scoreResults('InterPodAffinity', pod, newSnapshot(four, [db, cache])), { n1: 100, n2: 100, n3: 0, n4: 0 });
  });

  it("existing pods' terms count too, required affinity with hardPodAffinityWeight", () => {
    const fan = makePod('fan', { nodeName: 'n3', affinity: affinity(term('web', 'kubernetes.io/hostname')) });
    const hater = makePod('hater', {
      nodeName: 'n2',
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: term('web', 'zone') }] } },
    });
    const snap = newSnapshot(four, [fan, hater]);
    const web = makePod('web', { labels: { app: 'web' } });
    // zone a: -3; host n3: +1 → raw -3, -3, 1, 0 → (raw+3)*100/4.
    assert.deepEqual(scoreResults('InterPodAffinity', web, snap), { n1: 0, n2: 0, n3: 100, n4: 75 });
    // hardPodAffinityWeight 5: raw -3, -3, 5, 0 → (raw+3)*100/8.
    assert.deepEqual(scoreResults('InterPodAffinity', web, snap, { hardPodAffinityWeight: 5 }), { n1: 0, n2: 0, n3: 100, n4: 37 });
  });

  it('skips when no term anywhere applies', () => {
    assert.equal(scoreResults('InterPodAffinity', makePod('p'), newSnapshot(four, [db])), 'skip');
  });
});

describe('InterPodAffinity scoring over some of the nodes', () => {
  it('gives each scored node the score it gets when every node is scored', () => {
    const six = ['a', 'a', 'b', 'b', 'c', 'c'].map((z, i) => makeNode(`n${i + 1}`, { labels: { zone: z } }));
    const pref = (weight: number, t: PodAffinityTerm) => [{ weight, podAffinityTerm: t }];
    const existing = [
      makePod('w1', { nodeName: 'n1', labels: { app: 'web' } }),
      makePod('w2', { nodeName: 'n3', labels: { app: 'web' } }),
      makePod('d1', { nodeName: 'n2', labels: { app: 'db' } }),
      makePod('fan', { nodeName: 'n5', labels: { app: 'fan' }, affinity: affinity(term('web', 'kubernetes.io/hostname')) }),
      makePod('hater', { nodeName: 'n4', affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(3, term('web', 'zone')) } } }),
      makePod('friend', { nodeName: 'n6', affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(2, term('web', 'kubernetes.io/hostname')) } } }),
    ];
    const snap = newSnapshot(six, existing);
    const web = makePod('web', {
      labels: { app: 'web' },
      affinity: {
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(5, term('web', 'kubernetes.io/hostname')) },
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: pref(1, term('db', 'zone')) },
      },
    });
    const raw = (pod: typeof web, scored: readonly NodeInfo[]): Record<string, number> => {
      const pl = newInterPodAffinity({}, undefined);
      const state = new CycleState();
      state.write(SnapshotStateKey, snap);
      const pre = pl.preScore(state, pod, scored);
      if (pre.code === Code.Skip) return Object.fromEntries(scored.map((ni) => [ni.name, 0]));
      return Object.fromEntries(scored.map((ni) => [ni.name, pl.score(state, pod, ni)[0]]));
    };
    for (const pod of [web, makePod('plain', { labels: { app: 'web' } })]) {
      const all = raw(pod, snap.nodeInfoList);
      assert.ok(Object.values(all).some((v) => v !== 0), 'the case scores something');
      for (const names of [['n1'], ['n2', 'n5'], ['n4', 'n6'], ['n3', 'n6', 'n1']]) {
        const some = raw(pod, names.map((n) => snap.get(n)!));
        assert.deepEqual(some, Object.fromEntries(names.map((n) => [n, all[n]])), `${pod.metadata.name} scored on ${names.join(',')}`);
      }
    }
  });
});
