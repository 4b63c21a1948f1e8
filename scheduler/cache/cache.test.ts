import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { FakeClock } from '../../lib/testing/fakeclock.js';
import { Snapshot } from '../framework/snapshot.js';
import { Cache, CacheError } from './cache.js';

function node(name: string, cpu = '4'): Node {
  return { metadata: { name }, status: { allocatable: { cpu, memory: '8Gi', pods: '110' } } };
}

function pod(name: string, nodeName: string, cpu = '1'): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: { nodeName, containers: [{ name: 'c', image: 'i', resources: { requests: { cpu } } }] },
  };
}

const requestedCPU = (c: Cache, n: string) => c.dump().nodes.get(n)?.requested.milliCPU ?? 0;

test('assume counts a pod on its node at once; the informer confirms it', () => {
  const c = new Cache(30_000, new FakeClock());
  c.addNode(node('n1'));
  const p = pod('a', 'n1');
  c.assumePod(p);
  assert.equal(requestedCPU(c, 'n1'), 1000);
  assert.ok(c.isAssumedPod(p));
  c.finishBinding(p);
  c.addPod(p);
  assert.equal(c.isAssumedPod(p), false);
  assert.equal(requestedCPU(c, 'n1'), 1000, 'confirmation does not count the pod twice');
  assert.throws(() => c.assumePod(p), CacheError);
});

test('forget drops an assumed pod whose binding failed', () => {
  const c = new Cache(30_000, new FakeClock());
  c.addNode(node('n1'));
  const p = pod('a', 'n1');
  c.assumePod(p);
  c.forgetPod(p);
  assert.equal(requestedCPU(c, 'n1'), 0);
  assert.equal(c.getPod(p), undefined);
  // Forgetting a pod the informer reported (not assumed) is a bug in the caller.
  c.addPod(p);
  assert.throws(() => c.forgetPod(p), CacheError);
});

test('a bound assumed pod that is never confirmed expires after the TTL; an unbound one never does', () => {
  const clock = new FakeClock();
  const c = new Cache(30_000, clock);
  c.addNode(node('n1'));
  const bound = pod('a', 'n1');
  const binding = pod('b', 'n1');
  c.assumePod(bound);
  c.assumePod(binding);
  c.finishBinding(bound);
  clock.step(29_999);
  assert.equal(c.cleanupAssumedPods(), 0);
  clock.step(1);
  assert.equal(c.cleanupAssumedPods(), 1);
  assert.equal(requestedCPU(c, 'n1'), 1000);
  assert.ok(c.isAssumedPod(binding));
  assert.equal(c.getPod(bound), undefined);
});

test('the informer may place a pod elsewhere than assumed: the cache follows it', () => {
  const c = new Cache(30_000, new FakeClock());
  c.addNode(node('n1'));
  c.addNode(node('n2'));
  c.assumePod(pod('a', 'n1'));
  c.addPod(pod('a', 'n2'));
  assert.equal(requestedCPU(c, 'n1'), 0);
  assert.equal(requestedCPU(c, 'n2'), 1000);
});

test('pods update and go; pods may arrive before their node', () => {
  const c = new Cache(30_000, new FakeClock());
  c.addPod(pod('a', 'n1'));
  assert.equal(c.nodeCount(), 0);
  c.addNode(node('n1'));
  assert.equal(requestedCPU(c, 'n1'), 1000);
  c.updatePod(undefined, pod('a', 'n1', '2'));
  assert.equal(requestedCPU(c, 'n1'), 2000);
  c.removePod(pod('a', 'n1'));
  assert.equal(requestedCPU(c, 'n1'), 0);
  assert.equal(c.podCount(), 0);
});

test('updateSnapshot clones only what changed and follows nodes coming and going', () => {
  const c = new Cache(30_000, new FakeClock());
  c.addNode(node('n1'));
  c.addNode(node('n2'));
  c.addPod(pod('a', 'n1'));
  const snap = new Snapshot();
  c.updateSnapshot(snap);
  assert.deepEqual(snap.nodeInfoList.map((n) => n.name), ['n1', 'n2']);
  const n1 = snap.get('n1')!;
  const n2 = snap.get('n2')!;
  assert.equal(n1.requested.milliCPU, 1000);

  c.assumePod(pod('b', 'n2'));
  c.updateSnapshot(snap);
  assert.equal(snap.get('n1'), n1, 'an unchanged node keeps its snapshot copy');
  assert.notEqual(snap.get('n2'), n2);
  assert.equal(snap.get('n2')!.requested.milliCPU, 1000);
  assert.equal(n2.requested.milliCPU, 0, 'an earlier snapshot copy is not changed');

  c.addNode(node('n3'));
  c.removeNode(node('n1'));
  c.updateSnapshot(snap);
  assert.deepEqual(snap.nodeInfoList.map((n) => n.name), ['n2', 'n3']);
  assert.equal(snap.get('n1'), undefined);
  // The removed node's pod is still counted until its deletion arrives; the node comes back with it.
  c.addNode(node('n1'));
  c.updateSnapshot(snap);
  assert.equal(snap.get('n1')!.requested.milliCPU, 1000);
  assert.equal(snap.numNodes(), 3);
});

test('a snapshot taken from a fresh Snapshot object sees everything', () => {
  const c = new Cache(0, new FakeClock());
  c.addNode(node('n1'));
  c.updateSnapshot(new Snapshot());
  const s2 = new Snapshot();
  c.updateSnapshot(s2);
  assert.equal(s2.numNodes(), 1);
});

test('a snapshot kept up to date through many changes equals one made from scratch', () => {
  // Deterministic pseudo-random operations over 30 nodes: the incremental path (only the nodes
  // changed since the last update) must end where a fresh snapshot does, every time.
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const c = new Cache(0, new FakeClock());
  for (let i = 0; i < 30; i++) c.addNode(node(`n${i}`, '64'));
  const kept = new Snapshot();
  const bound = new Map<string, Pod>();
  const assumed = new Map<string, Pod>();
  const withAffinity = (p: Pod): Pod => ({
    ...p,
    spec: { ...p.spec, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { a: 'b' } } }] } } },
  });
  const view = (s: Snapshot) =>
    s.nodeInfoList
      .map((ni) => `${ni.name}:${ni.pods.length}:${ni.requested.milliCPU}:${ni.allocatable.milliCPU}`)
      .sort()
      .join(',') +
    '|' +
    s.havePodsWithRequiredAntiAffinityList.map((ni) => ni.name).sort().join(',');
  for (let step = 0; step < 600; step++) {
    const n = `n${rand(30)}`;
    switch (rand(7)) {
      case 0: {
        const p = pod(`p${step}`, n);
        c.assumePod(rand(3) === 0 ? withAffinity(p) : p);
        assumed.set(p.metadata.name!, c.getPod(p)!);
        break;
      }
      case 1: {
        const [name, p] = [...assumed][0] ?? [];
        if (!p) break;
        assumed.delete(name!);
        if (rand(2) === 0) c.forgetPod(p);
        else {
          c.addPod(p);
          bound.set(name!, p);
        }
        break;
      }
      case 2: {
        const [name, p] = [...bound][rand(Math.max(1, bound.size))] ?? [];
        if (!p) break;
        bound.delete(name!);
        c.removePod(p);
        break;
      }
      case 3:
        c.updateNode(c.getNode(n), node(n, String(32 + rand(64))));
        break;
      case 4:
        if (c.getNode(n) && rand(4) === 0) c.removeNode(c.getNode(n)!);
        else c.addNode(node(n, '64'));
        break;
      default:
        c.addPod(pod(`q${step}`, n, '100m'));
        bound.set(`q${step}`, pod(`q${step}`, n, '100m'));
    }
    if (rand(3) === 0) {
      c.updateSnapshot(kept);
      const fresh = new Snapshot();
      c.updateSnapshot(fresh);
      assert.equal(view(kept), view(fresh), `after step ${step}`);
    }
  }
});
