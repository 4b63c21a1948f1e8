import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, IntOrString, ReplicaSet } from '../../lib/api/apps/types.js';
import { Deployments } from '../../lib/client/resources.js';
import { World, deployment, replicaSet } from './testing.js';
import { maxSurge, maxUnavailable } from './util.js';

/** rollout starts a Deployment at web:1 (settled, all available) and changes its image to web:2. */
function rollout(replicas: number, surge: IntOrString, unavailable: IntOrString) {
  const d1 = deployment({ replicas, maxSurge: surge, maxUnavailable: unavailable });
  const old = replicaSet(d1, { replicas, revision: 1 });
  const d2 = deployment({ replicas, maxSurge: surge, maxUnavailable: unavailable, image: 'web:2', generation: 2, status: { observedGeneration: 1 } });
  return { world: new World(d2, [old]), old, d: d2 };
}

const total = (rss: ReplicaSet[]) => rss.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
const available = (rss: ReplicaSet[]) => rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);

describe('RollingUpdate, step by step', () => {
  it('replicas 4, maxSurge 1, maxUnavailable 1: the exact scale writes of each sync', async () => {
    const { world, old } = rollout(4, 1, 1);
    const steps: string[][] = [];
    for (let i = 0; i < 8; i++) {
      const { writes } = await world.sync();
      steps.push(World.rsWrites(writes));
      await world.settle();
    }
    const n = (await world.replicaSets()).find((rs) => rs.metadata.name !== old.metadata.name)!.metadata.name;
    const o = old.metadata.name;
    assert.deepEqual(steps, [
      [`create ${n} 1`, `update ${o} 3`], // surge one new pod; old may drop one (maxUnavailable 1)
      [`update ${n} 2`], // new pod available: surge again
      [`update ${o} 1`], // 5 pods, 5 available, minAvailable 3: old down by 2
      [`update ${n} 4`],
      [`update ${o} 0`],
      [], // complete: status only
      [],
      [],
    ]);
  });

  it('emits kube 1.32 ScalingReplicaSet events', async () => {
    const { world, old } = rollout(4, 1, 1);
    const { events } = await world.sync();
    const n = (await world.replicaSets()).find((rs) => rs.metadata.name !== old.metadata.name)!.metadata.name;
    assert.deepEqual(events, [`Normal ScalingReplicaSet Scaled up replica set ${n} from 0 to 1`, `Normal ScalingReplicaSet Scaled down replica set ${old.metadata.name} from 4 to 3`]);
  });

  it('with maxUnavailable 0 never scales old pods down before new ones are available', async () => {
    const { world, old } = rollout(3, 1, 0);
    await world.sync();
    // The new pod never becomes ready: nothing may happen beyond the one surge pod.
    for (let i = 0; i < 3; i++) {
      await world.settle((rs) => (rs.metadata.name === old.metadata.name ? 3 : 0));
      const { writes } = await world.sync();
      assert.deepEqual(World.rsWrites(writes), []);
    }
    const rss = await world.replicaSets();
    assert.deepEqual(rss.map((rs) => rs.spec.replicas), [3, 1]);
  });

  it('scales unhealthy old replicas down first (kube: cleanupUnhealthyReplicas)', async () => {
    // 10 old replicas of which only 9 are available, maxUnavailable 2, no surge.
    const d1 = deployment({ replicas: 10, maxSurge: 0, maxUnavailable: 2 });
    const old = replicaSet(d1, { replicas: 10, available: 9 });
    const d2 = deployment({ replicas: 10, maxSurge: 0, maxUnavailable: 2, image: 'web:2', generation: 2, status: { observedGeneration: 1 } });
    const world = new World(d2, [old]);
    const { writes } = await world.sync();
    // The new RS starts at 0 (no surge); the unhealthy replica goes, then one available one.
    const rsw = World.rsWrites(writes);
    assert.equal(rsw[0]!.startsWith('create '), true);
    assert.match(rsw[0]!, / 0$/);
    assert.deepEqual(rsw.slice(1), [`update ${old.metadata.name} 9`, `update ${old.metadata.name} 8`]);
  });

  // Every combination keeps the rollout inside its bounds at every step, with pods of the new
  // ReplicaSet becoming available one settle later than they are created.
  const combos: Array<[number, IntOrString, IntOrString]> = [
    [4, 1, 1],
    [4, 0, 1],
    [4, 1, 0],
    [5, '25%', '25%'],
    [10, '50%', '10%'],
    [10, 3, 0],
    [3, 0, 0], // both 0 resolve to unavailable 1
    [1, 0, '25%'],
    [7, '100%', 0],
  ];
  for (const [replicas, surge, unavailable] of combos) {
    it(`replicas ${replicas}, maxSurge ${surge}, maxUnavailable ${unavailable}: stays within bounds and completes`, async () => {
      const { world, d } = rollout(replicas, surge, unavailable);
      const maxTotal = replicas + maxSurge(d);
      const minAvailable = replicas - maxUnavailable(d);
      // Pods of each ReplicaSet that passed readiness: new pods become ready one settle later.
      const readyNext = new Map<string, number>();
      let done = false;
      for (let i = 0; i < 60 && !done; i++) {
        await world.sync();
        const rss = await world.replicaSets();
        assert.ok(total(rss) <= maxTotal, `step ${i}: ${total(rss)} pods wanted, more than ${maxTotal}`);
        await world.settle((rs) => readyNext.get(rs.metadata.name!) ?? rs.spec.replicas ?? 0);
        const settled = await world.replicaSets();
        assert.ok(available(settled) >= minAvailable, `step ${i}: ${available(settled)} available, fewer than ${minAvailable}`);
        for (const rs of settled) readyNext.set(rs.metadata.name!, rs.spec.replicas ?? 0);
        const dd = world.deployment();
        done = settled.length === 2 && settled[0]!.spec.replicas === 0 && settled[1]!.status?.availableReplicas === replicas && dd.status?.conditions?.some((c) => c.reason === 'NewReplicaSetAvailable') === true;
      }
      assert.ok(done, 'rollout did not complete');
      const status = world.deployment().status!;
      assert.equal(status.updatedReplicas, replicas);
      assert.equal(status.availableReplicas, replicas);
      assert.equal(status.replicas, replicas);
    });
  }
});

describe('proportional scaling mid-rollout (kube TestScale cases)', () => {
  // Each ReplicaSet is annotated as sized for `from` replicas (and its surge); the Deployment is
  // now `to`. Sizes are [new, ...old (newest first)].
  const cases: Array<{ name: string; from: number; to: number; surgeFrom?: number; surgeTo?: number; sizes: number[]; want: number[] }> = [
    { name: '5 -> 10', from: 5, to: 10, sizes: [2, 3], want: [4, 6] },
    { name: '5 -> 3', from: 5, to: 3, sizes: [2, 3], want: [1, 2] },
    { name: '9 -> 4', from: 9, to: 4, sizes: [8, 1], want: [4, 0] },
    { name: '7 -> 10', from: 7, to: 10, sizes: [2, 3, 2], want: [3, 4, 3] },
    { name: '13 -> 8', from: 13, to: 8, sizes: [2, 8, 3], want: [1, 5, 2] },
    { name: 'leftover 3 -> 4', from: 3, to: 4, sizes: [1, 1, 1], want: [2, 1, 1] },
    { name: 'leftover 3 -> 2', from: 3, to: 2, sizes: [1, 1, 1], want: [1, 1, 0] },
    { name: '6 -> 0', from: 6, to: 0, sizes: [3, 2, 1], want: [0, 0, 0] },
    { name: 'surge pods 10 -> 20', from: 10, to: 20, surgeFrom: 2, surgeTo: 2, sizes: [6, 6], want: [11, 11] },
    { name: 'surge and size 10 -> 50', from: 10, to: 50, surgeFrom: 3, surgeTo: 6, sizes: [5, 8], want: [22, 34] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const before = deployment({ replicas: c.from, maxSurge: c.surgeFrom ?? 0, maxUnavailable: 0 });
      const d = deployment({ replicas: c.to, maxSurge: c.surgeTo ?? 0, maxUnavailable: 0, image: 'img-0' });
      const rss = c.sizes.map((n, i) =>
        replicaSet(d, { image: `img-${i}`, replicas: n, available: 0, createdAt: (10 - i) * 1000, revision: 10 - i, desired: c.from, max: c.from + maxSurge(before) }),
      );
      const world = new World(d, rss);
      const { writes } = await world.sync();
      const got = await world.replicaSets();
      const size = (name: string) => got.find((rs) => rs.metadata.name === name)!.spec.replicas;
      assert.deepEqual(rss.map((rs) => size(rs.metadata.name!)), c.want);
      // Scaling writes the new size and the new replica annotations in one update per ReplicaSet.
      for (const w of writes.filter((a) => a.resource === 'replicasets')) {
        const ann = (w.object as ReplicaSet).metadata.annotations!;
        assert.equal(ann['deployment.kubernetes.io/desired-replicas'], String(c.to));
        assert.equal(ann['deployment.kubernetes.io/max-replicas'], String(c.to + (c.surgeTo ?? 0)));
      }
    });
  }

  it('a saturated but broken new ReplicaSet leaves old pods alone', async () => {
    const d = deployment({ replicas: 2, maxSurge: 1, maxUnavailable: 1, image: 'img-0' });
    const world = new World(d, [replicaSet(d, { image: 'img-0', replicas: 2, available: 0, createdAt: 2000, revision: 2 }), replicaSet(d, { image: 'img-1', replicas: 1, createdAt: 1000, revision: 1 })]);
    const { writes } = await world.sync();
    assert.deepEqual(World.rsWrites(writes), []);
  });
});

describe('scaling a finished Deployment', () => {
  it('scales its only active ReplicaSet and records the new size in its annotations', async () => {
    const d0 = deployment({ replicas: 3 });
    const rs = replicaSet(d0, { replicas: 3 });
    const d = deployment({ replicas: 5, generation: 2, status: { observedGeneration: 1 } });
    const world = new World(d, [rs]);
    const { writes, events } = await world.sync();
    assert.deepEqual(World.rsWrites(writes), [`update ${rs.metadata.name} 5`]);
    assert.deepEqual(events, [`Normal ScalingReplicaSet Scaled up replica set ${rs.metadata.name} from 3 to 5`]);
    const stored = world.client.stored<Deployment>(Deployments, 'default', 'web')!;
    assert.equal(stored.status?.observedGeneration, 2);
  });
});
