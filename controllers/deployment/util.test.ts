import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RevisionAnnotation, RevisionHistoryAnnotation } from '../../lib/api/apps/types.js';
import { deployment, replicaSet, template } from './testing.js';
import {
  computeHash,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  maxSurge,
  maxUnavailable,
  newDeploymentCondition,
  newRSNewReplicas,
  resolveFenceposts,
  safeEncodeString,
  setDeploymentCondition,
  setNewReplicaSetAnnotations,
} from './util.js';
import type { DeploymentStatus } from '../../lib/api/apps/types.js';

describe('pod-template hash', () => {
  it('renders digits in the SafeEncodeString alphabet', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
    const h = computeHash(template('web:1'));
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });

  it('is stable, ignores key order and empty fields, and changes with the template and the collision count', () => {
    const a = computeHash(template('web:1'));
    assert.equal(computeHash(template('web:1')), a);
    const reordered = { spec: { containers: [{ image: 'web:1', name: 'web', env: [] }] }, metadata: { annotations: {}, labels: { app: 'web' } } };
    assert.equal(computeHash(reordered), a);
    assert.notEqual(computeHash(template('web:2')), a);
    assert.notEqual(computeHash(template('web:1'), 1), a);
    assert.notEqual(computeHash(template('web:1'), 1), computeHash(template('web:1'), 2));
  });

  it('compares templates without the pod-template-hash label', () => {
    const withHash = template('web:1', { 'pod-template-hash': 'abc' });
    assert.ok(equalIgnoreHash(withHash, template('web:1')));
    assert.ok(!equalIgnoreHash(withHash, template('web:2')));
  });
});

describe('fenceposts', () => {
  it('rounds surge up and unavailable down, and never lets both be 0', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(0, '25%', 3), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(2, 1, 5), { surge: 2, unavailable: 1 });
    assert.deepEqual(resolveFenceposts('50%', '10%', 5), { surge: 3, unavailable: 0 });
  });

  it('caps maxUnavailable at the replicas and has no surge for Recreate', () => {
    assert.equal(maxUnavailable(deployment({ replicas: 2, maxUnavailable: 5, maxSurge: 0 })), 2);
    assert.equal(maxUnavailable(deployment({ replicas: 0 })), 0);
    assert.equal(maxSurge(deployment({ strategy: 'Recreate' })), 0);
    assert.equal(maxUnavailable(deployment({ strategy: 'Recreate' })), 0);
  });

  // kube's TestDeploymentController_reconcileNewReplicaSet table, as sizes.
  const cases = [
    { replicas: 10, surge: 0, old: 10, cur: 0, want: 0 },
    { replicas: 10, surge: 2, old: 10, cur: 0, want: 2 },
    { replicas: 10, surge: 2, old: 5, cur: 0, want: 7 },
    { replicas: 10, surge: 2, old: 10, cur: 2, want: 2 },
  ];
  for (const c of cases) {
    it(`newRSNewReplicas: ${c.replicas} replicas, surge ${c.surge}, old ${c.old}, new ${c.cur} → ${c.want}`, () => {
      const d = deployment({ replicas: c.replicas, maxSurge: c.surge, maxUnavailable: 0, image: 'web:2' });
      const oldRS = replicaSet(d, { replicas: c.old });
      const newRS = replicaSet(d, { image: 'web:2', replicas: c.cur });
      assert.equal(newRSNewReplicas(d, [oldRS, newRS], newRS), c.want);
    });
  }
});

describe('new and old ReplicaSets', () => {
  it('takes the oldest ReplicaSet with the template as the new one, the rest as old', () => {
    const d = deployment({ image: 'web:2' });
    const old = replicaSet(d, { image: 'web:1', replicas: 2, createdAt: 0 });
    const dup1 = replicaSet(d, { image: 'web:2', replicas: 1, createdAt: 2000, name: 'web-b' });
    const dup2 = replicaSet(d, { image: 'web:2', replicas: 0, createdAt: 1000, name: 'web-a' });
    assert.equal(findNewReplicaSet(d, [old, dup1, dup2])?.metadata.name, 'web-a');
    const { oldRSs, allOldRSs } = findOldReplicaSets(d, [old, dup1, dup2]);
    assert.deepEqual(allOldRSs.map((r) => r.metadata.name).sort(), [old.metadata.name, 'web-b'].sort());
    assert.deepEqual(oldRSs.map((r) => r.metadata.name).sort(), [old.metadata.name, 'web-b'].sort());
  });

  it('finds the one active ReplicaSet, or the newest when none is active, or none when several are', () => {
    const d = deployment();
    const a = replicaSet(d, { image: 'a', replicas: 0, createdAt: 0 });
    const b = replicaSet(d, { image: 'b', replicas: 0, createdAt: 1000 });
    const c = replicaSet(d, { image: 'c', replicas: 2, createdAt: 2000 });
    assert.equal(findActiveOrLatest(undefined, [a, b])?.metadata.name, b.metadata.name);
    assert.equal(findActiveOrLatest(a, [b, c])?.metadata.name, c.metadata.name);
    assert.equal(findActiveOrLatest(c, [a, replicaSet(d, { image: 'd', replicas: 1 })]), undefined);
  });
});

describe('revision annotations', () => {
  // kube's TestAnnotationUtils: revisions 11..20 with a 5-character history limit.
  it('raises the revision and keeps a bounded revision-history', () => {
    const d = deployment();
    const rs = replicaSet(d);
    delete rs.metadata.annotations;
    for (let i = 10; i < 20; i++) {
      const next = String(i + 1);
      setNewReplicaSetAnnotations(d, rs, next, true, 5);
      assert.equal(rs.metadata.annotations![RevisionAnnotation], next);
      if (i >= 12) assert.equal(rs.metadata.annotations![RevisionHistoryAnnotation], `${i - 1},${i}`);
    }
  });

  it('never lowers a revision, copies the Deployment annotations but not the skipped ones', () => {
    const d = deployment({
      annotations: {
        'kubernetes.io/change-cause': 'kubectl set image',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        [RevisionAnnotation]: '9',
      },
    });
    const rs = replicaSet(d, { revision: 7 });
    assert.equal(setNewReplicaSetAnnotations(d, rs, '5', true), true);
    assert.equal(rs.metadata.annotations![RevisionAnnotation], '7');
    assert.equal(rs.metadata.annotations!['kubernetes.io/change-cause'], 'kubectl set image');
    assert.equal(rs.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    assert.equal(rs.metadata.annotations![RevisionHistoryAnnotation], undefined);
    assert.equal(setNewReplicaSetAnnotations(d, rs, '5', true), false, 'nothing left to change');
  });
});

describe('conditions', () => {
  it('keeps a condition whose status and reason are unchanged, and lastTransitionTime while status is', () => {
    const s: DeploymentStatus = {};
    const t1 = new Date('2024-01-01T00:00:00Z');
    const t2 = new Date('2024-01-01T00:05:00Z');
    setDeploymentCondition(s, newDeploymentCondition('Progressing', 'True', 'NewReplicaSetCreated', 'a', t1));
    setDeploymentCondition(s, newDeploymentCondition('Progressing', 'True', 'NewReplicaSetCreated', 'b', t2));
    assert.equal(s.conditions![0]!.message, 'a');
    setDeploymentCondition(s, newDeploymentCondition('Progressing', 'True', 'ReplicaSetUpdated', 'c', t2));
    assert.deepEqual(s.conditions, [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'c', lastUpdateTime: '2024-01-01T00:05:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }]);
  });

  it('times out only after progressDeadlineSeconds without progress', () => {
    const d = deployment({ progressDeadlineSeconds: 60 });
    const s: DeploymentStatus = { conditions: [newDeploymentCondition('Progressing', 'True', 'ReplicaSetUpdated', '', new Date('2024-01-01T00:00:00Z'))] };
    assert.equal(deploymentTimedOut(d, s, new Date('2024-01-01T00:00:59Z')), false);
    assert.equal(deploymentTimedOut(d, s, new Date('2024-01-01T00:01:00Z')), false);
    assert.equal(deploymentTimedOut(d, s, new Date('2024-01-01T00:01:01Z')), true);
    s.conditions![0]!.reason = 'NewReplicaSetAvailable';
    assert.equal(deploymentTimedOut(d, s, new Date('2024-01-01T01:00:00Z')), false, 'a completed rollout never times out');
    assert.equal(deploymentTimedOut(deployment({ progressDeadlineSeconds: 2 ** 31 - 1 }), s, new Date('2030-01-01T00:00:00Z')), false);
  });
});
