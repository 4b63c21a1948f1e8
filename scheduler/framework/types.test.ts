import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CycleState,
  DefaultMemoryRequest,
  FitError,
  HostPortInfo,
  NodeInfo,
  computePodNonZeroRequest,
  computePodResourceRequest,
  newDiagnosis,
  newNodeInfo,
  newSnapshot,
  podInfoForCycle,
  unresolvable,
  unschedulable,
} from './types.js';
import { makeNode, makePod } from './testing.js';

const Gi = 1024 ** 3;
const Mi = 1024 ** 2;

describe('computePodResourceRequest', () => {
  const cases: { name: string; pod: ReturnType<typeof makePod>; cpu: number; memory: number; gpu?: number }[] = [
    { name: 'one container', pod: makePod('a', { cpu: '500m', memory: '1Gi' }), cpu: 500, memory: Gi },
    {
      // kube's doc example: init containers run one at a time, regular ones together.
      name: 'max(sum of containers, largest init container)',
      pod: makePod('b', {
        initContainers: [
          { name: 'i1', resources: { requests: { cpu: '2', memory: '1G' } } },
          { name: 'i2', resources: { requests: { cpu: '2', memory: '3G' } } },
        ],
        containers: [
          { name: 'c1', resources: { requests: { cpu: '2', memory: '1G' } } },
          { name: 'c2', resources: { requests: { cpu: '1', memory: '1G' } } },
        ],
      }),
      cpu: 3000,
      memory: 3e9,
    },
    {
      name: 'sidecar counts with the containers and under later init containers',
      pod: makePod('c', {
        initContainers: [
          { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '1' } } },
          { name: 'init', resources: { requests: { cpu: '3' } } },
        ],
        containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
      }),
      // regular + sidecar = 2; init after sidecar needs 3 + 1 = 4.
      cpu: 4000,
      memory: 0,
    },
    {
      name: 'overhead is added',
      pod: makePod('d', { cpu: '100m', overhead: { cpu: '250m', memory: '120Mi' } }),
      cpu: 350,
      memory: 120 * Mi,
    },
    { name: 'extended resources are scalars', pod: makePod('e', { requests: { 'example.com/gpu': '2' } }), cpu: 0, memory: 0, gpu: 2 },
    { name: 'milli rounds up', pod: makePod('f', { cpu: '0.0001' }), cpu: 1, memory: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = computePodResourceRequest(c.pod);
      assert.equal(r.milliCPU, c.cpu);
      assert.equal(r.memory, c.memory);
      assert.equal(r.scalar['example.com/gpu'], c.gpu);
    });
  }

  it('non-zero requests default missing cpu/memory per container, keep explicit zeros', () => {
    const pod = makePod('g', {
      containers: [
        { name: 'none', resources: {} },
        { name: 'zero', resources: { requests: { cpu: '0', memory: '0' } } },
        { name: 'some', resources: { requests: { cpu: '250m' } } },
      ],
    });
    const r = computePodNonZeroRequest(pod);
    assert.equal(r.milliCPU, 100 + 0 + 250);
    assert.equal(r.memory, DefaultMemoryRequest * 2);
    assert.equal(computePodResourceRequest(pod).milliCPU, 250);
  });
});

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

describe('FitError', () => {
  it("counts reasons across nodes and sorts them as kube's sort.Strings does", () => {
    const d = newDiagnosis();
    d.nodeToStatus.set('n1', unresolvable('node(s) had untolerated taint {dedicated: gpu}'));
    d.nodeToStatus.set('n2', unschedulable('Insufficient cpu'));
    d.nodeToStatus.set('n3', unschedulable('Insufficient cpu', 'Insufficient memory'));
    const err = new FitError(makePod('p'), 3, d);
    assert.equal(err.message, '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.');
    d.postFilterMsg = 'preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod';
    assert.equal(
      err.message,
      '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
  });

  it('a PreFilter rejection replaces the per-node histogram', () => {
    const d = newDiagnosis();
    d.preFilterMsg = 'pod affinity terms conflict';
    d.nodeToStatus.set('n1', unschedulable('ignored'));
    assert.equal(new FitError(makePod('p'), 2, d).message, '0/2 nodes are available: pod affinity terms conflict.');
  });
});
