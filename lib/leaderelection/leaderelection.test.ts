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

describe('leaseClientFor', () => {
  it('GETs, POSTs and PUTs the Lease path, answers undefined for 404, throws 409s with their code, and writes MicroTimes with microseconds', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const https = await import('node:https');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { ensureCA, ensureServingCert } = await import('../pki.js');
    const { ClientConfig } = await import('../client/kubeconfig.js');
    const { kubeconfigYAML } = await import('../kubeconfig.js');
    const { leaseClientFor } = await import('./leaderelection.js');
    const dir = mkdtempSync(join(tmpdir(), 'skiff-lease-'));
    const ca = await ensureCA(dir);
    const serving = await ensureServingCert(dir, { name: 'apiserver', hosts: ['127.0.0.1'] });
    const requests: Array<{ method: string; url: string; auth?: string; body?: Record<string, unknown> }> = [];
    let stored: Record<string, unknown> | undefined;
    const status = (code: number, reason: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: reason });
    const server = https.createServer({ cert: readFileSync(serving.cert), key: readFileSync(serving.key) }, (req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        const send = (code: number, out: string) => res.writeHead(code, { 'content-type': 'application/json' }).end(out);
        if (req.method === 'GET') return stored ? send(200, JSON.stringify(stored)) : send(404, status(404, 'NotFound'));
        const meta = (body!.metadata ?? {}) as { resourceVersion?: string };
        if (req.method === 'POST') {
          if (stored) return send(409, status(409, 'AlreadyExists'));
        } else if (meta.resourceVersion !== (stored?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion) {
          return send(409, status(409, 'Conflict'));
        }
        stored = { ...body, metadata: { ...body!.metadata as object, resourceVersion: String(requests.length) } };
        send(req.method === 'POST' ? 201 : 200, JSON.stringify(stored));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const kc = new ClientConfig();
      kc.loadFromString(kubeconfigYAML({ server: `https://127.0.0.1:${(server.address() as { port: number }).port}`, caFile: ca.cert, token: 'tok', user: 'u' }));
      const leases = leaseClientFor(kc, 'kube-system', 'x');
      assert.equal(await leases.get(), undefined);
      const seen = { leading: false, stopped: false };
      // The elector's own writes, through the real client: create, then renew with the read resourceVersion.
      const e = new LeaderElector({ client: leases, namespace: 'kube-system', name: 'x', identity: 'me', ...timing, callbacks: { onStartedLeading: () => void (seen.leading = true), onStoppedLeading: () => undefined } });
      const stop = new AbortController();
      const run = e.run(stop.signal);
      while (!seen.leading) await sleep(10);
      stop.abort();
      await run;
      assert.deepEqual(requests.slice(0, 3).map((r) => `${r.method} ${r.url}`), [
        'GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x',
        'GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x',
        'POST /apis/coordination.k8s.io/v1/namespaces/kube-system/leases',
      ]);
      assert.equal(requests[0]!.auth, 'Bearer tok');
      const created = requests[2]!.body as { metadata: { name: string; namespace: string }; spec: { holderIdentity: string; acquireTime: string; renewTime: string; leaseDurationSeconds: number } };
      assert.deepEqual(created.metadata, { name: 'x', namespace: 'kube-system' });
      assert.equal(created.spec.holderIdentity, 'me');
      assert.equal(created.spec.leaseDurationSeconds, 2);
      assert.match(created.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$/, 'RFC 3339 with microseconds, as V1MicroTime');
      assert.match(created.spec.acquireTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$/);
      const release = requests[requests.length - 1]!;
      assert.equal(`${release.method} ${release.url}`, 'PUT /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x');
      assert.equal((release.body as { spec: { holderIdentity: string } }).spec.holderIdentity, '', 'released on stop');

      await assert.rejects(leases.create({ metadata: { name: 'x', namespace: 'kube-system' }, spec: {} }), (err: unknown) => (err as { code?: number }).code === 409);
      await assert.rejects(leases.update({ metadata: { name: 'x', namespace: 'kube-system', resourceVersion: 'stale' }, spec: {} }), (err: unknown) => (err as { code?: number }).code === 409);
      assert.equal(recordOf((await leases.get())!).holderIdentity, '');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
