import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CycleState, podInfoForCycle } from './cyclestate.js';
import { HostPortInfo } from './hostports.js';
import { newNodeInfo, NodeInfo } from './nodeinfo.js';
import { DefaultMemoryRequest } from '../../lib/pod/resources.js';
import { newSnapshot } from './snapshot.js';
import { makeNode, makePod } from './testing.js';

const Gi = 1024 ** 3;

describe('NodeInfo', () => {
  it('sums requests, parses allocatable once, tracks affinity pods, and removes by uid', () => {
    const node = makeNode('n1', { cpu: '4', memory: '8Gi', pods: 10 });
    const a = makePod('a', { cpu: '1', memory: '1Gi', hostPorts: [8080] });
    const b = makePod('b', {
      cpu: '500m',
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } }] } },
    });
    const ni = newNodeInfo(node, [a, b]);
    assert.equal(ni.allocatable.milliCPU, 4000);
    assert.equal(ni.allocatable.memory, 8 * Gi);
    assert.equal(ni.allocatable.allowedPodNumber, 10);
    assert.equal(ni.requested.milliCPU, 1500);
    assert.equal(ni.nonZeroRequested.memory, Gi + DefaultMemoryRequest);
    assert.equal(ni.podsWithAffinity.length, 1);
    assert.equal(ni.podsWithRequiredAntiAffinity.length, 1);
    assert.ok(ni.usedPorts.checkConflict('', 'TCP', 8080));

    const clone = ni.clone();
    const gen = ni.generation;
    ni.removePod(a);
    assert.ok(ni.generation > gen);
    assert.equal(ni.requested.milliCPU, 500);
    assert.equal(ni.usedPorts.checkConflict('', 'TCP', 8080), false);
    // The clone kept its own sums and lists.
    assert.equal(clone.requested.milliCPU, 1500);
    assert.equal(clone.pods.length, 2);
    assert.throws(() => ni.removePod(a), /no corresponding pod/);
  });

  it('a NodeInfo without its node reports that plainly', () => {
    const ni = new NodeInfo();
    assert.equal(ni.hasNode, false);
    assert.throws(() => ni.node, /no node/);
  });
});

describe('HostPortInfo', () => {
  const cases: { name: string; used: [string, string, number][]; want: [string, string, number]; conflict: boolean }[] = [
    { name: 'same ip/protocol/port', used: [['127.0.0.1', 'TCP', 80]], want: ['127.0.0.1', 'TCP', 80], conflict: true },
    { name: 'other protocol', used: [['127.0.0.1', 'TCP', 80]], want: ['127.0.0.1', 'UDP', 80], conflict: false },
    { name: 'other ip', used: [['127.0.0.1', 'TCP', 80]], want: ['127.0.0.2', 'TCP', 80], conflict: false },
    { name: 'wildcard wanted vs specific used', used: [['127.0.0.1', 'TCP', 80]], want: ['0.0.0.0', 'TCP', 80], conflict: true },
    { name: 'specific wanted vs wildcard used', used: [['', '', 80]], want: ['10.0.0.1', 'TCP', 80], conflict: true },
    { name: 'empty protocol means TCP', used: [['', 'TCP', 80]], want: ['', '', 80], conflict: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = new HostPortInfo();
      for (const [ip, proto, port] of c.used) h.add(ip, proto, port);
      assert.equal(h.checkConflict(...c.want), c.conflict);
    });
  }
});

describe('Snapshot and CycleState', () => {
  it('newSnapshot places pods on their nodes and lists nodes with affinity pods', () => {
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: {} }] } };
    const snap = newSnapshot([makeNode('n1'), makeNode('n2')], [makePod('a', { nodeName: 'n2', affinity: anti }), makePod('b', { nodeName: 'gone' })]);
    assert.equal(snap.numNodes(), 2);
    assert.equal(snap.get('n2')?.pods.length, 1);
    assert.deepEqual(
      snap.havePodsWithRequiredAntiAffinityList.map((n) => n.name),
      ['n2'],
    );
  });

  it('clone copies cloneable data and shares the rest', () => {
    const s = new CycleState();
    const counter = { n: 1, clone() { return { ...this }; } };
    const shared = { v: 1 };
    s.write('c', counter);
    s.write('s', shared);
    s.skipFilterPlugins.add('X');
    const c = s.clone();
    c.read<typeof counter>('c')!.n = 5;
    assert.equal(s.read<typeof counter>('c')!.n, 1);
    assert.equal(c.read('s'), shared);
    assert.ok(c.skipFilterPlugins.has('X'));
  });

  it('podInfoForCycle builds the PodInfo once per cycle', () => {
    const s = new CycleState();
    const pod = makePod('p', { cpu: '1' });
    assert.equal(podInfoForCycle(s, pod), podInfoForCycle(s, pod));
  });
});
