import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Lease } from '@kubernetes/client-node';
import { LeaderElectionConfigError, LeaderElector, type LeaseClient, recordOf } from './leaderelection.js';

/** MemoryLease is one Lease in memory with the apiserver's create/update conflict rules. */
class MemoryLease {
  lease: V1Lease | undefined;
  rv = 0;
  failing = false;

  client(): LeaseClient {
    const check = () => {
      if (this.failing) throw new Error('apiserver unreachable');
    };
    const store = (l: V1Lease): V1Lease => {
      // Round-trip through JSON as the wire would: MicroTimes become strings.
      this.lease = JSON.parse(JSON.stringify({ ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } }));
      return structuredClone(this.lease!);
    };
    return {
      get: async () => {
        check();
        return this.lease && structuredClone(this.lease);
      },
      create: async (l) => {
        check();
        if (this.lease) throw Object.assign(new Error('AlreadyExists'), { code: 409 });
        return store(l);
      },
      update: async (l) => {
        check();
        if (l.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw Object.assign(new Error('Conflict'), { code: 409 });
        return store(l);
      },
    };
  }
}

const timing = { leaseDuration: 2000, renewDeadline: 600, retryPeriod: 100 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function elector(mem: MemoryLease, identity: string, seen: { leading: boolean; stopped: boolean; signal?: AbortSignal }) {
  return new LeaderElector({
    client: mem.client(),
    namespace: 'kube-system',
    name: 'test',
    identity,
    ...timing,
    callbacks: {
      onStartedLeading: (signal) => {
        seen.leading = true;
        seen.signal = signal;
      },
      onStoppedLeading: () => {
        seen.stopped = true;
        seen.leading = false;
      },
    },
  });
}

describe('LeaderElector', () => {
  it('rejects the configs client-go rejects', () => {
    const base = { client: new MemoryLease().client(), namespace: 'ns', name: 'x', identity: 'me', callbacks: { onStartedLeading() {}, onStoppedLeading() {} } };
    assert.throws(() => new LeaderElector({ ...base, leaseDuration: 10_000, renewDeadline: 10_000 }), /leaseDuration must be greater than renewDeadline/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadline: 2_000, retryPeriod: 2_000 }), /renewDeadline must be greater than retryPeriod\*JitterFactor/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), LeaderElectionConfigError);
    assert.ok(new LeaderElector(base), 'the defaults 15 s / 10 s / 2 s are valid');
  });

  it('lets only one of two racing candidates win and counts no transition for the first holder', async () => {
    const mem = new MemoryLease();
    const a = { leading: false, stopped: false };
    const b = { leading: false, stopped: false };
    const stop = new AbortController();
    const runs = [elector(mem, 'a', a).run(stop.signal), elector(mem, 'b', b).run(stop.signal)];
    await sleep(400);
    assert.equal(Number(a.leading) + Number(b.leading), 1);
    const rec = recordOf(mem.lease!);
    assert.equal(rec.holderIdentity, a.leading ? 'a' : 'b');
    assert.equal(rec.leaseTransitions, 0);
    assert.equal(rec.leaseDurationSeconds, 2);
    stop.abort();
    await Promise.all(runs);
    assert.equal(recordOf(mem.lease!).holderIdentity, '', 'released on stop');
  });

  it('stops leading when it cannot renew within renewDeadline', async () => {
    const mem = new MemoryLease();
    const seen = { leading: false, stopped: false } as { leading: boolean; stopped: boolean; signal?: AbortSignal };
    const stop = new AbortController();
    const run = elector(mem, 'a', seen).run(stop.signal);
    while (!seen.leading) await sleep(10);
    mem.failing = true;
    const failedAt = performance.now();
    await run;
    const took = performance.now() - failedAt;
    assert.equal(seen.signal?.aborted, true, "the leader's work is told to stop");
    assert.equal(seen.stopped, true);
    // It gives up after renewDeadline (plus at most one retry period already under way), well
    // before the lease expires for others.
    assert.ok(took >= timing.renewDeadline - timing.retryPeriod, `gave up after ${Math.round(took)} ms`);
    assert.ok(took < timing.leaseDuration, `gave up after ${Math.round(took)} ms, after the lease could expire`);
  });
});

describe('defaultIdentity', () => {
  it('is unique per call and starts with the hostname', async () => {
    const { defaultIdentity } = await import('./leaderelection.js');
    const { hostname } = await import('node:os');
    const a = defaultIdentity();
    assert.ok(a.startsWith(`${hostname()}_`));
    assert.notEqual(a, defaultIdentity());
  });
});
