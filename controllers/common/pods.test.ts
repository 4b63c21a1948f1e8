import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../lib/api/core/pod.js';
import {
  PodDeletionCostAnnotation,
  compareActivePodsWithRanks,
  filterActivePods,
  isPodActive,
  isPodAvailable,
  isPodReady,
  podReadyTime,
  ranksByRelatedPodsOnSameNode,
  sortActivePods,
  sortActivePodsWithRanks,
} from './pods.js';

const now = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

interface PodOpts {
  node?: string;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  created?: number;
  restarts?: number;
  cost?: string;
  uid?: string;
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: o.uid ?? `uid-${name}`,
      creationTimestamp: o.created === undefined ? undefined : ago(o.created),
      annotations: o.cost === undefined ? undefined : { [PodDeletionCostAnnotation]: o.cost },
      deletionTimestamp: o.deleting ? ago(0) : undefined,
    },
    spec: { nodeName: o.node, containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase: o.phase,
      conditions: o.ready === undefined ? undefined : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 0) }],
      containerStatuses: [{ name: 'c', ready: !!o.ready, restartCount: o.restarts ?? 0 }],
    },
  };
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata.name);

describe('pod predicates', () => {
  it('isPodReady reads the Ready condition', () => {
    assert.equal(isPodReady(pod('a', { ready: true })), true);
    assert.equal(isPodReady(pod('a', { ready: false })), false);
    assert.equal(isPodReady(pod('a')), false);
  });

  it('isPodAvailable needs Ready for longer than minReadySeconds', () => {
    assert.equal(isPodAvailable(pod('a', { ready: true, readySince: 5 }), 0, now), true);
    assert.equal(isPodAvailable(pod('a', { ready: true, readySince: 5 }), 10, now), false);
    assert.equal(isPodAvailable(pod('a', { ready: true, readySince: 11 }), 10, now), true);
    // Exactly minReadySeconds is not yet available: the ready time must be strictly before now - min.
    assert.equal(isPodAvailable(pod('a', { ready: true, readySince: 10 }), 10, now), false);
    assert.equal(isPodAvailable(pod('a', { ready: false, readySince: 100 }), 10, now), false);
  });

  it('isPodActive excludes finished pods and pods being deleted', () => {
    assert.equal(isPodActive(pod('a', { phase: 'Running' })), true);
    assert.equal(isPodActive(pod('a', { phase: 'Pending' })), true);
    assert.equal(isPodActive(pod('a', { phase: 'Succeeded' })), false);
    assert.equal(isPodActive(pod('a', { phase: 'Failed' })), false);
    assert.equal(isPodActive(pod('a', { phase: 'Running', deleting: true })), false);
    assert.deepEqual(names(filterActivePods([pod('a', { phase: 'Running' }), pod('b', { phase: 'Failed' }), pod('c')])), ['a', 'c']);
  });

  it('podReadyTime is the Ready transition time of a ready pod only', () => {
    assert.equal(podReadyTime(pod('a', { ready: true, readySince: 30 })), Date.parse(ago(30)));
    assert.equal(podReadyTime(pod('a', { ready: false, readySince: 30 })), undefined);
  });
});

describe('least useful pod first', () => {
  it('orders unassigned < assigned, Pending < Unknown < Running, not ready < ready', () => {
    const pods = [
      pod('running-ready', { node: 'n1', phase: 'Running', ready: true, created: 100 }),
      pod('running-notready', { node: 'n1', phase: 'Running', ready: false, created: 100 }),
      pod('unknown', { node: 'n1', phase: 'Unknown', created: 100 }),
      pod('pending-assigned', { node: 'n1', phase: 'Pending', created: 100 }),
      pod('unassigned', { phase: 'Pending', created: 100 }),
    ];
    assert.deepEqual(names(sortActivePods(pods)), ['unassigned', 'pending-assigned', 'unknown', 'running-notready', 'running-ready']);
  });

  it('among ready pods deletes the most recently ready first, then higher restarts, then the newest', () => {
    const base = { node: 'n1', phase: 'Running', ready: true } as const;
    const sorted = sortActivePods([
      pod('ready-long', { ...base, readySince: 500, created: 600 }),
      pod('ready-recent', { ...base, readySince: 5, created: 600 }),
    ]);
    assert.deepEqual(names(sorted), ['ready-recent', 'ready-long']);

    const same = { ...base, readySince: 50 };
    assert.deepEqual(names(sortActivePods([pod('calm', { ...same, restarts: 0, created: 60 }), pod('crashy', { ...same, restarts: 3, created: 60 })])), ['crashy', 'calm']);
    assert.deepEqual(names(sortActivePods([pod('old', { ...same, created: 600 }), pod('new', { ...same, created: 60 }), pod('no-time', same)])), ['no-time', 'new', 'old']);
  });

  it('honours pod-deletion-cost before node rank and ready time', () => {
    const base = { node: 'n1', phase: 'Running', ready: true, readySince: 100, created: 200 } as const;
    const pods = [pod('expensive', { ...base, cost: '100' }), pod('cheap', { ...base, cost: '-5' }), pod('default', base), pod('bad-value', { ...base, cost: 'x' })];
    assert.deepEqual(names(sortActivePods(pods)).slice(0, 1), ['cheap']);
    assert.equal(names(sortActivePods(pods)).at(-1), 'expensive');
  });

  it('deletes doubled-up pods first: rank is the number of related active pods on the node', () => {
    const a = pod('a', { node: 'n1', phase: 'Running', ready: true, readySince: 100, created: 100 });
    const b = pod('b', { node: 'n2', phase: 'Running', ready: true, readySince: 100, created: 100 });
    const related = [a, b, pod('other1', { node: 'n2', phase: 'Running' }), pod('gone', { node: 'n1', phase: 'Failed' })];
    const ranks = ranksByRelatedPodsOnSameNode([a, b], related);
    assert.deepEqual(ranks, [1, 2]);
    assert.deepEqual(names(sortActivePodsWithRanks([a, b], ranks, now)), ['b', 'a']);
  });

  it('with a clock, pods of about the same age fall in one bucket and are ordered by uid', () => {
    const base = { node: 'n1', phase: 'Running', ready: true, readySince: 100 } as const;
    // 100 s and 101 s ago are in the same power-of-two bucket of nanoseconds; 1000 s is not.
    const x = pod('x', { ...base, created: 101, uid: 'a-uid' });
    const y = pod('y', { ...base, created: 100, uid: 'b-uid' });
    const z = pod('z', { ...base, created: 1000, uid: '0-uid' });
    assert.deepEqual(names(sortActivePodsWithRanks([z, y, x], [0, 0, 0], now)), ['x', 'y', 'z']);
    // Without a clock the plain newest-first order applies.
    assert.deepEqual(names(sortActivePods([z, x, y])), ['y', 'x', 'z']);
    assert.ok(compareActivePodsWithRanks(y, x, 0, 0) < 0);
  });
});
