import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newNodeInfo } from '../framework/nodeinfo.js';
import { newSnapshot } from '../framework/snapshot.js';
import { makeNode, makePod } from '../framework/testing.js';
import { fits } from './noderesourcesfit.js';
import { filterResults, scoreResults } from './testing.js';

describe('NodeResourcesFit filter', () => {
  const snap = newSnapshot(
    [
      makeNode('roomy', { cpu: '4', memory: '8Gi', ephemeral: '10Gi', extra: { 'example.com/gpu': '2' } }),
      makeNode('busy', { cpu: '2', memory: '2Gi', pods: 2 }),
      makeNode('small', { cpu: '1', memory: '8Gi' }),
    ],
    [makePod('x', { nodeName: 'busy', cpu: '1500m', memory: '1Gi' }), makePod('y', { nodeName: 'busy' })],
  );

  it('reports every shortfall, pods first, then cpu, memory', () => {
    assert.deepEqual(filterResults('NodeResourcesFit', makePod('p', { cpu: '1', memory: '1536Mi' }), snap), {
      roomy: 'Success',
      busy: 'Unschedulable: Too many pods, Insufficient cpu, Insufficient memory',
      small: 'Success',
    });
  });

  it('ephemeral storage and extended resources', () => {
    const pod = makePod('p', { requests: { 'ephemeral-storage': '1Gi', 'example.com/gpu': '1' } });
    assert.deepEqual(filterResults('NodeResourcesFit', pod, snap), {
      roomy: 'Success',
      busy: 'Unschedulable: Too many pods, Insufficient ephemeral-storage, Insufficient example.com/gpu',
      small: 'Unschedulable: Insufficient ephemeral-storage, Insufficient example.com/gpu',
    });
  });

  it('ignoredResources and ignoredResourceGroups skip extended resources', () => {
    const pod = makePod('p', { requests: { 'example.com/gpu': '5' } });
    assert.equal(filterResults('NodeResourcesFit', pod, snap, { ignoredResources: ['example.com/gpu'] }).small, 'Success');
    assert.equal(filterResults('NodeResourcesFit', pod, snap, { ignoredResourceGroups: ['example.com'] }).roomy, 'Success');
  });

  it('a pod requesting nothing only needs a pod slot', () => {
    assert.deepEqual(filterResults('NodeResourcesFit', makePod('p'), snap), { roomy: 'Success', busy: 'Unschedulable: Too many pods', small: 'Success' });
  });

  it('fits() answers outside a cycle with the numbers', () => {
    const ni = newNodeInfo(makeNode('n', { cpu: '1' }), [makePod('a', { cpu: '800m' })]);
    assert.deepEqual(fits(makePod('p', { cpu: '300m' }), ni), [{ resourceName: 'cpu', reason: 'Insufficient cpu', requested: 300, used: 800, capacity: 1000 }]);
  });
});

describe('NodeResourcesFit score', () => {
  const nodes = [makeNode('half', { cpu: '10', memory: '10Gi' }), makeNode('tenth', { cpu: '10', memory: '10Gi' }), makeNode('mixed', { cpu: '10', memory: '10Gi' })];
  const existing = [makePod('h', { nodeName: 'half', cpu: '4', memory: '4Gi' }), makePod('m', { nodeName: 'mixed', cpu: '2', memory: '6Gi' })];
  const snap = newSnapshot(nodes, existing);
  const pod = makePod('p', { cpu: '1', memory: '1Gi' });
  const strategy = (type: string, cpu = 1, memory = 1, extra?: object) => ({
    scoringStrategy: { type, resources: [{ name: 'cpu', weight: cpu }, { name: 'memory', weight: memory }], ...extra },
  });

  it('MostAllocated (the default): requested*100/allocatable, averaged; the fuller node wins', () => {
    // With the pod: half 50%/50%, tenth 10%/10%, mixed 30%/70%.
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, snap), { half: 50, tenth: 10, mixed: 50 });
  });

  it('LeastAllocated: (allocatable-requested)*100/allocatable; the emptier node wins', () => {
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, snap, strategy('LeastAllocated')), { half: 50, tenth: 90, mixed: 50 });
  });

  it('resource weights make a weighted mean', () => {
    // mixed: (30*3 + 70*1) / 4 = 40 (Most), (70*3 + 30*1) / 4 = 60 (Least).
    assert.equal((scoreResults('NodeResourcesFit', pod, snap, strategy('MostAllocated', 3, 1)) as Record<string, number>).mixed, 40);
    assert.equal((scoreResults('NodeResourcesFit', pod, snap, strategy('LeastAllocated', 3, 1)) as Record<string, number>).mixed, 60);
  });

  it('integer arithmetic truncates as in kube', () => {
    const s = newSnapshot([makeNode('t', { cpu: '3', memory: '3Gi' })]);
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, s), { t: 33 });
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, s, strategy('LeastAllocated')), { t: 66 });
  });

  it('a pod without requests counts 100m and 200Mi', () => {
    const s = newSnapshot([makeNode('e', { cpu: '10', memory: '10Gi' })]);
    // cpu 1%, memory 200Mi/10240Mi = 1.95% → 1; least: 99 and 98 → 98.
    assert.deepEqual(scoreResults('NodeResourcesFit', makePod('be'), s), { e: 1 });
    assert.deepEqual(scoreResults('NodeResourcesFit', makePod('be'), s, strategy('LeastAllocated')), { e: 98 });
  });

  it('requests over allocatable cap at 100 (Most) and 0 (Least)', () => {
    const s = newSnapshot([makeNode('o', { cpu: '1', memory: '1Gi' })], [makePod('big', { nodeName: 'o', cpu: '2', memory: '2Gi' })]);
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, s), { o: 100 });
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, s, strategy('LeastAllocated')), { o: 0 });
  });

  it('an extended resource the pod does not request is left out', () => {
    const s = newSnapshot([makeNode('g', { cpu: '10', memory: '10Gi', extra: { 'example.com/gpu': '4' } })]);
    const args = { scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'example.com/gpu', weight: 1 }] } };
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, s, args), { g: 10 });
    const gpuPod = makePod('gp', { cpu: '1', requests: { 'example.com/gpu': '2' } });
    assert.deepEqual(scoreResults('NodeResourcesFit', gpuPod, s, args), { g: 30 }); // (10 + 50) / 2
  });

  it('RequestedToCapacityRatio follows the shape (scores 0..10 scaled to 0..100)', () => {
    const args = strategy('RequestedToCapacityRatio', 1, 1, {
      requestedToCapacityRatio: {
        shape: [
          { utilization: 0, score: 10 },
          { utilization: 100, score: 0 },
        ],
      },
    });
    // A decreasing shape spreads: half 50 → 50, tenth 10 → 90, mixed 30 → 70 and 70 → 30 → 50.
    assert.deepEqual(scoreResults('NodeResourcesFit', pod, snap, args), { half: 50, tenth: 90, mixed: 50 });
  });
});

describe('NodeResourcesBalancedAllocation', () => {
  const snap = newSnapshot(
    [makeNode('even', { cpu: '10', memory: '10Gi' }), makeNode('skewed', { cpu: '10', memory: '10Gi' })],
    [makePod('s', { nodeName: 'skewed', cpu: '4', memory: '2Gi' })],
  );
  it('scores (1 - std of the cpu/memory fractions) × 100', () => {
    // even: 10% and 10% → 100; skewed: 50% and 30% → std 0.1 → 90.
    assert.deepEqual(scoreResults('NodeResourcesBalancedAllocation', makePod('p', { cpu: '1', memory: '1Gi' }), snap), { even: 100, skewed: 90 });
  });
  it('skips best-effort pods', () => {
    assert.equal(scoreResults('NodeResourcesBalancedAllocation', makePod('be'), snap), 'skip');
  });
});
