// Leader election against a real apiserver: two candidates over one coordination.k8s.io/v1
// Lease, exactly one leads, and the lease passes to the other when the leader steps down
// (released at once) or dies (after the lease duration).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { newSharedInformer, runController } from '../lib/controller/index.js';
import { LeaderElector, recordOf } from '../lib/leaderelection/index.js';
import { startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let kc: k8s.KubeConfig;
let leases: k8s.CoordinationV1Api;

before(async () => {
  cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  leases = kc.makeApiClient(k8s.CoordinationV1Api);
});
after(async () => {
  await cluster?.stop();
});

// Short durations keep the test quick; their ratios are client-go's defaults (15 s / 10 s / 2 s).
const timing = { leaseDuration: 3000, renewDeadline: 2000, retryPeriod: 400 };

/** Candidate is one elector plus what its callbacks saw. */
interface Candidate {
  identity: string;
  elector: LeaderElector;
  stop: AbortController;
  running: Promise<void>;
  leading: boolean;
  leadingSignal?: AbortSignal;
  startedAt?: number;
  stoppedLeading: boolean;
  newLeaders: string[];
}

function candidate(name: string, identity: string, opts: { releaseOnCancel?: boolean } = {}): Candidate {
  const c = { identity, stop: new AbortController(), leading: false, stoppedLeading: false, newLeaders: [] } as unknown as Candidate;
  c.elector = new LeaderElector({
    kubeConfig: kc,
    namespace: 'default',
    name,
    identity,
    ...timing,
    releaseOnCancel: opts.releaseOnCancel ?? true,
    callbacks: {
      onStartedLeading: (signal) => {
        c.leading = true;
        c.leadingSignal = signal;
        c.startedAt = performance.now();
        signal.addEventListener('abort', () => (c.leading = false));
      },
      onStoppedLeading: () => {
        c.leading = false;
        c.stoppedLeading = true;
      },
      onNewLeader: (id) => c.newLeaders.push(id),
    },
  });
  c.running = c.elector.run(c.stop.signal);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - start;
}

async function readLease(name: string): Promise<k8s.V1Lease> {
  return leases.readNamespacedLease({ name, namespace: 'default' });
}

describe('leader election on a Lease', () => {
  it('elects exactly one leader and hands over within the lease duration when it stops', async () => {
    const a = candidate('election-1', 'candidate-a');
    const b = candidate('election-1', 'candidate-b');
    try {
      await until(() => a.leading || b.leading, 'a leader', 5000);
      // Several renew periods later there is still exactly one leader.
      await sleep(3 * timing.retryPeriod + 200);
      assert.equal(Number(a.leading) + Number(b.leading), 1, 'exactly one candidate leads');
      const [leader, follower] = a.leading ? [a, b] : [b, a];
      assert.equal(follower.elector.getLeader(), leader.identity, 'the follower sees who leads');
      assert.ok(follower.newLeaders.includes(leader.identity), 'onNewLeader reported the leader to the follower');

      const lease = await readLease('election-1');
      const rec = recordOf(lease);
      assert.equal(rec.holderIdentity, leader.identity);
      assert.equal(rec.leaseDurationSeconds, 3);
      assert.equal(rec.leaseTransitions, 0);
      assert.match(rec.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime');
      assert.match(rec.acquireTime ?? '', /\.\d{6}Z$/);
      // The holder renews: renewTime moves while acquireTime stays.
      await sleep(2 * timing.retryPeriod + 100);
      const later = recordOf(await readLease('election-1'));
      assert.notEqual(later.renewTime, rec.renewTime, 'renewTime advances');
      assert.equal(later.acquireTime, rec.acquireTime, 'acquireTime stays while the same holder renews');

      // The leader steps down cleanly: it releases the Lease, so the other takes over at once.
      const stoppedAt = performance.now();
      leader.stop.abort();
      await leader.running;
      assert.equal(leader.leadingSignal?.aborted, true, "the old leader's work was told to stop");
      assert.equal(leader.stoppedLeading, true);
      await until(() => follower.leading, 'the follower to take over', timing.leaseDuration);
      assert.ok(performance.now() - stoppedAt < timing.leaseDuration, 'handover within the lease duration');
      const after = recordOf(await readLease('election-1'));
      assert.equal(after.holderIdentity, follower.identity);
      assert.equal(after.leaseTransitions, 1);
      assert.equal(after.leaseDurationSeconds, 3);
    } finally {
      a.stop.abort();
      b.stop.abort();
      await Promise.all([a.running, b.running]);
    }
  });

  it('takes over from a leader that died only after the lease duration', async () => {
    // A leader that "crashes": it stops without releasing the Lease.
    const dead = candidate('election-2', 'crashed', { releaseOnCancel: false });
    await until(() => dead.leading, 'the first leader', 5000);
    dead.stop.abort();
    await dead.running;
    assert.equal(recordOf(await readLease('election-2')).holderIdentity, 'crashed', 'not released');

    const started = performance.now();
    const next = candidate('election-2', 'successor');
    try {
      await until(() => next.leading, 'the successor', timing.leaseDuration + 3 * timing.retryPeriod + 1000);
      const waited = next.startedAt! - started;
      assert.ok(waited >= timing.leaseDuration - 50, `took over after ${Math.round(waited)} ms, before the lease expired`);
      assert.deepEqual(next.newLeaders.slice(0, 2), ['crashed', 'successor']);
      const rec = recordOf(await readLease('election-2'));
      assert.equal(rec.holderIdentity, 'successor');
      assert.equal(rec.leaseTransitions, 1);
    } finally {
      next.stop.abort();
      await next.running;
    }
    // Released on a clean stop: empty holder, one-second lease.
    const released = recordOf(await readLease('election-2'));
    assert.equal(released.holderIdentity, '');
    assert.equal(released.leaseDurationSeconds, 1);
  });

  it('runs a controller over a real informer only while leading', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before-start' }, data: { a: '1' } } });
    const informer = newSharedInformer<k8s.V1ConfigMap>(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const lister = informer.lister();
    const reconciled: string[] = [];
    const stop = new AbortController();
    let synced: Promise<boolean> | undefined;
    const elector = new LeaderElector({
      kubeConfig: kc,
      namespace: 'default',
      name: 'election-3',
      identity: 'controller-manager-1',
      ...timing,
      callbacks: {
        onStartedLeading: (signal) => {
          const ctl = runController({
            name: 'configmaps',
            informers: [informer],
            signal,
            setup: (c) => informer.on('change', (cm) => c.enqueue(cm)),
            reconcile: (key) => {
              // The cache already holds the object the event was about.
              if (lister.get(key)) reconciled.push(key);
            },
          });
          synced = ctl.synced;
        },
        onStoppedLeading: () => undefined,
      },
    });
    const running = elector.run(stop.signal);
    try {
      await until(() => synced !== undefined, 'leadership', 5000);
      assert.equal(await synced, true);
      await until(() => reconciled.includes('default/before-start'), 'the listed ConfigMap to be reconciled', 5000);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'after-start' } } });
      await until(() => reconciled.includes('default/after-start'), 'the watched ConfigMap to be reconciled', 5000);
      assert.deepEqual(lister.list('default').map((cm) => cm.metadata?.name).sort().filter((n) => n!.endsWith('start')), ['after-start', 'before-start']);
    } finally {
      stop.abort();
      await running;
      await informer.stop();
    }
  });
});
