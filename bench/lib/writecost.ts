// writecost measures what one write costs the apiserver in CPU time, phase by phase, against a
// fresh etcd and apiserver from the test harness: ConfigMap creates, Pod creates, Lease renewals
// (PUT of the Lease as read, spec.renewTime moved, as a kubelet or the node simulator sends
// it), Node status heartbeats (the simulator's strategic merge patch of status) and watch events
// delivered. Each figure is the apiserver's CPU time (/proc/<pid>/stat) over the phase divided
// by its operations; a watch event's is the CPU of updates with watchers open minus the same
// updates without, divided by the events delivered.
//
//   node dist/bench/lib/writecost.js [--ops=N] [--concurrency=N] [--watchers=N] [--profile=1]
//
// With --profile=1 each phase also records a CPU profile of the apiserver through its
// inspector (written to /tmp/writecost-<phase>.cpuprofile); profiling slows the process, so the
// CPU figures of such a run are not the ones to quote.

import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import WebSocket from 'ws';
import { startCluster, type Cluster } from '../../test/harness.js';
import { freePorts } from '../../lib/process/ports.js';
import { parseOptions, progress } from './cli.js';
import { APIClient, runConcurrent } from './load.js';
import { cpuSeconds } from './proc.js';
import { openWatch, type WatchHandle } from './watch.js';

const opts = parseOptions('writecost', process.argv.slice(2), { ops: 2000, concurrency: 32, watchers: 100, profile: 0 });

/** Profiler drives the V8 profiler of the process behind an inspector port. */
class Profiler {
  private id = 0;
  private constructor(private readonly ws: WebSocket) {}

  static async attach(port: number): Promise<Profiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
    const ws = new WebSocket(targets.find((t) => t.webSocketDebuggerUrl)!.webSocketDebuggerUrl!);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const p = new Profiler(ws);
    await p.call('Profiler.enable');
    await p.call('Profiler.setSamplingInterval', { interval: 200 });
    return p;
  }

  call(method: string, params: object = {}): Promise<any> {
    const my = ++this.id;
    return new Promise((resolve, reject) => {
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
        if (msg.id !== my) return;
        this.ws.off('message', onMessage);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve(msg.result);
      };
      this.ws.on('message', onMessage);
      this.ws.send(JSON.stringify({ id: my, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** strategicPatch sends a strategic merge patch (what the simulator's heartbeats are) and resolves with the status code. */
function strategicPatch(api: APIClient, path: string, patch: unknown): Promise<number> {
  const data = JSON.stringify(patch);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, api.server),
      { method: 'PATCH', agent: api.agent, headers: { Accept: 'application/json', 'Content-Type': 'application/strategic-merge-patch+json', 'Content-Length': Buffer.byteLength(data) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function main(): Promise<void> {
  let inspectPort: number | undefined;
  const saved = process.env.NODE_OPTIONS;
  if (opts.profile) {
    [inspectPort] = await freePorts(1);
    process.env.NODE_OPTIONS = [saved, `--inspect=127.0.0.1:${inspectPort}`].filter(Boolean).join(' ');
  }
  let cluster: Cluster;
  try {
    cluster = await startCluster({ components: ['etcd', 'apiserver'] });
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  const tls = { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
  const api = new APIClient(cluster.server, tls, opts.concurrency);
  const pid = cluster.pid('apiserver')!;
  const profiler = inspectPort ? await Profiler.attach(inspectPort) : undefined;
  const results: string[] = [];
  const n = opts.ops;

  /** phase runs fn and reports the apiserver's CPU per operation (µs). */
  const phase = async (name: string, ops: number, fn: () => Promise<void>): Promise<number> => {
    await new Promise((r) => setTimeout(r, 300));
    if (profiler) await profiler.call('Profiler.start');
    const c0 = cpuSeconds(pid);
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const cpu = cpuSeconds(pid) - c0;
    if (profiler) {
      const { profile } = await profiler.call('Profiler.stop');
      writeFileSync(`/tmp/writecost-${name}.cpuprofile`, JSON.stringify(profile));
    }
    const us = (cpu * 1e6) / ops;
    const line = `${name}: ${ops} ops in ${(ms / 1000).toFixed(2)} s, apiserver CPU ${cpu.toFixed(2)} s = ${us.toFixed(0)} µs/op`;
    progress(line);
    results.push(line);
    return us;
  };
  const must = async (what: string, p: Promise<{ errors: number; firstError?: string }>) => {
    const r = await p;
    if (r.errors) throw new Error(`${what}: ${r.errors} failed; first: ${r.firstError}`);
  };

  try {
    await api.expect('namespace', [201], 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'wc' } });
    // Warm up every path once so the first phase does not pay for V8's compilation.
    await must('warm-up', runConcurrent(200, opts.concurrency, async (i) => {
      await api.expect('cm', [201], 'POST', '/api/v1/namespaces/wc/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `warm-${i}` }, data: { n: String(i) } });
      await api.expect('pod', [201], 'POST', '/api/v1/namespaces/wc/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `warm-${i}` }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    }));

    await phase('configmap-create', n, () =>
      must('configmap creates', runConcurrent(n, opts.concurrency, async (i) => {
        await api.expect('cm', [201], 'POST', '/api/v1/namespaces/wc/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: 'wc' } }, data: { n: String(i), text: 'x'.repeat(400) } });
      })),
    );
    await phase('pod-create', n, () =>
      must('pod creates', runConcurrent(n, opts.concurrency, async (i) => {
        await api.expect('pod', [201], 'POST', '/api/v1/namespaces/wc/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `pod-${i}`, labels: { app: 'wc' } },
          spec: { schedulerName: 'nobody', containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
        });
      })),
    );

    // Leases and Nodes as the simulator keeps them: one per node, renewed by PUT of the last answer.
    const nodes = Math.min(500, n);
    const leases: Record<string, unknown>[] = [];
    await must('lease creates', runConcurrent(nodes, opts.concurrency, async (i) => {
      const r = await api.expect('lease', [201], 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: `node-${i}` },
        spec: { holderIdentity: `node-${i}`, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
      });
      leases[i] = JSON.parse(r.body) as Record<string, unknown>;
      await api.expect('node', [201], 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` } });
    }));
    await phase('lease-renewal', n, () =>
      must('lease renewals', runConcurrent(n, opts.concurrency, async (i) => {
        const k = i % nodes;
        const lease = leases[k] as { spec: { renewTime: string } };
        lease.spec.renewTime = new Date().toISOString().replace('Z', '000Z');
        const r = await api.expect('renew', [200], 'PUT', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-${k}`, lease);
        leases[k] = JSON.parse(r.body) as Record<string, unknown>;
      })),
    );
    await phase('node-heartbeat', n, () =>
      must('heartbeats', runConcurrent(n, opts.concurrency, async (i) => {
        const now = new Date(Date.now() + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        const condition = (type: string, status: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: '2025-01-01T00:00:00Z', reason: `Kubelet${type}`, message: type });
        const status = await strategicPatch(api, `/api/v1/nodes/node-${i % nodes}/status`, {
          status: { conditions: [condition('Ready', 'True'), condition('MemoryPressure', 'False'), condition('DiskPressure', 'False'), condition('PIDPressure', 'False')] },
        });
        if (status !== 200) throw new Error(`heartbeat answered ${status}`);
      })),
    );

    // Watch events: the same updates with no watcher and with opts.watchers watchers.
    const update = (tag: string) =>
      must('updates', runConcurrent(n, opts.concurrency, async (i) => {
        await api.expect('update', [200], 'PUT', `/api/v1/namespaces/wc/configmaps/cm-${i}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: 'wc' } }, data: { n: tag, text: 'y'.repeat(400) } });
      }));
    const bare = await phase('configmap-update', n, () => update('a'));
    let delivered = 0;
    const watches: WatchHandle[] = [];
    const rv = (JSON.parse((await api.expect('rv', [200], 'GET', '/api/v1/namespaces/wc/configmaps?limit=1')).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    for (let w = 0; w < opts.watchers; w++) {
      watches.push(await openWatch(cluster.server, tls, `/api/v1/namespaces/wc/configmaps?resourceVersion=${rv}`, () => void delivered++));
    }
    const watched = await phase('configmap-update-watched', n, async () => {
      await update('b');
      const until = Date.now() + 60_000;
      while (delivered < n * opts.watchers && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    });
    for (const w of watches) w.stop();
    const line = `watch event: ${delivered} delivered of ${n * opts.watchers}, ${(((watched - bare) * n) / Math.max(1, delivered)).toFixed(1)} µs of apiserver CPU per delivered event`;
    progress(line);
    results.push(line);
    progress('');
    for (const r of results) progress(r);
  } finally {
    profiler?.close();
    api.close();
    await cluster.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`writecost: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
