import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TopologySpreadConstraint } from '../../lib/api/core/types.js';
import { newSnapshot } from '../framework/snapshot.js';
import { makeNode, makePod } from '../framework/testing.js';
import { filterResults, scoreResults } from './testing.js';
import type { WorkloadListers } from '../framework/framework.js';
import { selectorToString } from '../../lib/machinery/labels.js';
import { defaultSelector } from './podtopologyspread.js';

const SKEW = "Unschedulable: node(s) didn't match pod topology spread constraints";
const LABEL = "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";

const spread = (maxSkew: number, extra: Partial<TopologySpreadConstraint> = {}, when = 'DoNotSchedule'): TopologySpreadConstraint => ({
  maxSkew,
  topologyKey: 'zone',
  whenUnsatisfiable: when,
  labelSelector: { matchLabels: { app: 'web' } },
  ...extra,
});
const web = (name: string, node: string, extra: Parameters<typeof makePod>[1] = {}) => makePod(name, { nodeName: node, labels: { app: 'web', version: 'v1' }, ...extra });

const nodes = [
  makeNode('a1', { labels: { zone: 'a' } }),
  makeNode('a2', { labels: { zone: 'a' } }),
  makeNode('b1', { labels: { zone: 'b' } }),
  makeNode('c1', { labels: { zone: 'c' }, taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }),
  makeNode('x'),
];
// zone a: 3 matching pods, zone b: 1, zone c: 0.
const existing = [web('w1', 'a1'), web('w2', 'a1'), web('w3', 'a2'), web('w4', 'b1'), web('gone', 'b1', { deleting: true }), web('elsewhere', 'b1', { namespace: 'other' })];
const snap = newSnapshot(nodes, existing);
const incoming = (...c: TopologySpreadConstraint[]) => makePod('p', { labels: { app: 'web', version: 'v2' }, spread: c, tolerations: [] });

describe('PodTopologySpread filter', () => {
  it('matching + self - global minimum must stay within maxSkew; nodes without the key are unresolvable', () => {
    assert.deepEqual(filterResults('PodTopologySpread', incoming(spread(1)), snap), { a1: SKEW, a2: SKEW, b1: SKEW, c1: 'Success', x: LABEL });
    assert.deepEqual(filterResults('PodTopologySpread', incoming(spread(2)), snap), { a1: SKEW, a2: SKEW, b1: 'Success', c1: 'Success', x: LABEL });
  });

  it('a pod that does not match its own selector does not count itself', () => {
    const pod = makePod('p', { labels: { app: 'other' }, spread: [spread(1)] });
    assert.equal(filterResults('PodTopologySpread', pod, snap).b1, 'Success');
  });

  it('nodeAffinityPolicy Honor (default) leaves domains the pod cannot use out of the minimum', () => {
    const avoidC = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['c'] }] }] } } };
    const honor = makePod('p', { labels: { app: 'web' }, spread: [spread(1)], affinity: avoidC });
    // Minimum is zone b's 1: b1 → 1 + 1 - 1 = 1.
    assert.equal(filterResults('PodTopologySpread', honor, snap).b1, 'Success');
    const ignore = makePod('p', { labels: { app: 'web' }, spread: [spread(1, { nodeAffinityPolicy: 'Ignore' })], affinity: avoidC });
    assert.equal(filterResults('PodTopologySpread', ignore, snap).b1, SKEW);
  });

  it('nodeTaintsPolicy Honor leaves tainted domains out', () => {
    assert.equal(filterResults('PodTopologySpread', incoming(spread(1, { nodeTaintsPolicy: 'Honor' })), snap).b1, 'Success');
  });

  it('minDomains: fewer domains than asked makes the global minimum 0', () => {
    const two = newSnapshot(nodes.slice(0, 3), [web('w1', 'a1'), web('w4', 'b1')]);
    assert.equal(filterResults('PodTopologySpread', incoming(spread(1)), two).a1, 'Success');
    assert.equal(filterResults('PodTopologySpread', incoming(spread(1, { minDomains: 3 })), two).a1, SKEW);
  });

  it('matchLabelKeys narrows the selector to pods with the same label values', () => {
    // No existing pod has version v2, so every domain counts 0.
    const r = filterResults('PodTopologySpread', incoming(spread(1, { matchLabelKeys: ['version'] })), snap);
    assert.deepEqual([r.a1, r.b1, r.c1], ['Success', 'Success', 'Success']);
  });

  it('ScheduleAnyway constraints and pods without constraints do not filter', () => {
    const r = filterResults('PodTopologySpread', incoming(spread(1, {}, 'ScheduleAnyway')), snap);
    assert.ok(Object.values(r).every((v) => v === 'Success'));
  });
});

describe('PodTopologySpread score', () => {
  it('fewer matching pods in the domain scores higher; nodes missing the key score 0', () => {
    // Weight log(3 zones + 2); raw a: round(3w)=5, b: round(w)=2, c: 0 → 100*(5+0-raw)/5.
    assert.deepEqual(scoreResults('PodTopologySpread', incoming(spread(1, {}, 'ScheduleAnyway')), snap), { a1: 0, a2: 0, b1: 60, c1: 100, x: 0 });
  });

  it('hostname spreading counts per node', () => {
    const c = spread(1, { topologyKey: 'kubernetes.io/hostname' }, 'ScheduleAnyway');
    // Per node 2, 1, 1, 0, 0 matching pods; weight log(5 + 2); raw 4, 2, 2, 0, 0 → 100*(4-raw)/4.
    assert.deepEqual(scoreResults('PodTopologySpread', incoming(c), snap), { a1: 0, a2: 50, b1: 50, c1: 100, x: 100 });
  });

  it('skips pods without ScheduleAnyway constraints', () => {
    assert.equal(scoreResults('PodTopologySpread', incoming(spread(1)), snap), 'skip');
  });
});

describe('PodTopologySpread default constraints', () => {
  const rsSelector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] };
  const workloads: WorkloadListers = {
    services: (ns) =>
      ns === 'default'
        ? [
            { metadata: { name: 'web' }, spec: { selector: { app: 'web', svc: 'yes' } } },
            { metadata: { name: 'headless-no-selector' }, spec: {} },
            { metadata: { name: 'other' }, spec: { selector: { app: 'other' } } },
          ]
        : [],
    replicaSet: (ns, name) => (ns === 'default' && name === 'web-5d' ? { metadata: { name }, spec: { selector: rsSelector } } : undefined),
    replicationController: (_ns, name) => (name === 'rc' ? { metadata: { name }, spec: { selector: { rc: 'x' } } } : undefined),
  };
  const owned = (name: string, node: string | undefined, kind = 'ReplicaSet', owner = 'web-5d', apiVersion = 'apps/v1') => {
    const p = makePod(name, { nodeName: node, labels: { app: 'web', tier: 'front', svc: 'yes', rc: 'x' } });
    p.metadata.ownerReferences = [{ apiVersion, kind, name: owner, uid: 'u', controller: true }];
    return p;
  };
  const hosts = ['n1', 'n2', 'n3'].map((n) => makeNode(n, { labels: { 'kubernetes.io/hostname': n } }));

  it('defaultSelector merges the selecting Services with the controller selector', () => {
    // As labels.Selector.Add, a key both select on appears twice.
    assert.equal(selectorToString(defaultSelector(owned('p', undefined), workloads)), 'app=web,app=web,svc=yes,tier in (front)');
    assert.equal(selectorToString(defaultSelector(owned('p', undefined, 'ReplicationController', 'rc', 'v1'), workloads)), 'app=web,rc=x,svc=yes');
    // An owner that is not in the listers, or of another kind, adds nothing.
    assert.equal(selectorToString(defaultSelector(owned('p', undefined, 'ReplicaSet', 'gone'), workloads)), 'app=web,svc=yes');
    assert.equal(selectorToString(defaultSelector(owned('p', undefined, 'Job', 'j', 'batch/v1'), workloads)), 'app=web,svc=yes');
    // A pod nothing selects has an empty selector: no default constraints.
    assert.equal(defaultSelector(makePod('lonely', { labels: { x: 'y' } }), workloads).requirements.length, 0);
  });

  it('System defaults spread a ReplicaSet pod over hostnames, nodes without zone labels included', () => {
    const snap3 = newSnapshot(hosts, [owned('w1', 'n1')]);
    // Hostname weight log(3 + 2): raw n1 round(1×1.609 + 2) = 4, others 2 → 100×(4+2−raw)/4.
    assert.deepEqual(scoreResults('PodTopologySpread', owned('p', undefined), snap3, undefined, { workloads }), { n1: 50, n2: 100, n3: 100 });
    // Soft constraints never filter.
    assert.ok(Object.values(filterResults('PodTopologySpread', owned('p', undefined), snap3, undefined, { workloads })).every((v) => v === 'Success'));
  });

  it('no defaults for a pod nothing selects, for a pod with its own constraints, or with List and no constraints', () => {
    const snap3 = newSnapshot(hosts, [owned('w1', 'n1')]);
    assert.equal(scoreResults('PodTopologySpread', makePod('lonely', { labels: { x: 'y' } }), snap3, undefined, { workloads }), 'skip');
    const own = owned('p', undefined);
    own.spec!.topologySpreadConstraints = [spread(1)];
    assert.equal(scoreResults('PodTopologySpread', own, snap3, undefined, { workloads }), 'skip');
    assert.equal(scoreResults('PodTopologySpread', owned('p', undefined), snap3, { defaultingType: 'List' }, { workloads }), 'skip');
  });

  it('List defaults with DoNotSchedule filter with the selector built for the pod', () => {
    const snap3 = newSnapshot(hosts, [owned('w1', 'n1'), owned('w2', 'n2')]);
    const args = { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' }] };
    assert.deepEqual(filterResults('PodTopologySpread', owned('p', undefined), snap3, args, { workloads }), { n1: SKEW, n2: SKEW, n3: 'Success' });
  });
});
