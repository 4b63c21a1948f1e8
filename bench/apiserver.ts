// The API server benchmark (`npm run bench -- apiserver`). It starts a real etcd and a real
// apiserver through the test harness, once with one apiserver process and once with --workers
// apiserver workers (--apiserver-workers, default 2), and measures for each, side by side:
//
//   1. ConfigMap creates/s through the apiserver (HTTPS POST, 64 concurrent clients) against raw
//      etcd puts/s of the same stored bytes through etcd3 with the same concurrency;
//   2. watch fan-out: 1,000 HTTPS watches on configmaps in one namespace while 100 objects/s are
//      written: write-to-delivery latency, events lost, apiserver memory per watcher;
//   3. LIST of 10,000 pods with a label selector matching 100 of them, against a full LIST.
//
// It prints figures and targets and marks each target met or not; a missed target never fails
// the run (timings depend on the machine). It exits non-zero only when something broke: a
// request failed, a list returned the wrong items, or a watcher lost events.
//
// Phase 3 runs in the last shape only. Apiserver CPU is the sum over every apiserver process
// (the primary and its workers), from /proc.
//
// Options (all optional): --creates=N --concurrency=N --watchers=N --watch-rate=N
// --watch-seconds=N --pods=N --selector-lists=N --full-lists=N --deadline-seconds=N
// --workers=N (the multi-worker shape; default 2)

import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { contextFor, stateFile } from '../lib/process/cluster.js';
import { isAlive, probe, readState, type ProcessState } from '../lib/process/supervisor.js';
import { startCluster, type Cluster } from '../test/harness.js';
import { freePorts } from '../lib/process/ports.js';
import { collectGarbage } from './lib/inspector.js';
import { APIClient, runConcurrent, type LoadResult, type TLSFiles } from './lib/load.js';
import { CPUMeter, cpuPercent, describeCPU, rssBytes, type CPUSample } from './lib/proc.js';
import { fmt, formatBytes, formatTable, rate, summarize, type LatencySummary } from './lib/stats.js';
import { parseOptions, progress } from './lib/cli.js';
import { defaultWorkerCount } from '../apiserver/workers.js';

/** BenchOptions size the run; the defaults keep it to a few minutes on a 2-core machine. */
interface BenchOptions {
  creates: number;
  concurrency: number;
  watchers: number;
  watchRate: number;
  watchSeconds: number;
  pods: number;
  selectorLists: number;
  fullLists: number;
  deadlineSeconds: number;
  workers: number;
}

const defaults: BenchOptions = {
  creates: 4_000,
  concurrency: 64,
  watchers: 1_000,
  watchRate: 100,
  watchSeconds: 10,
  pods: 10_000,
  selectorLists: 50,
  fullLists: 20,
  deadlineSeconds: 1_500,
  // The apiserver's default is one worker on this 2-core machine: compare two against it.
  workers: Math.max(2, defaultWorkerCount()),
};

// ---- output ----

/** ResultRow is one figure of one shape. */
interface ResultRow {
  shape: string;
  measurement: string;
  value: string;
  target: string;
  met: string;
}

const results: ResultRow[] = [];

/** shape labels the figures recorded now: "1 worker", "2 workers". */
let shape = '';

function record(measurement: string, value: string, target?: { text: string; met: boolean }): void {
  results.push({ shape, measurement, value, target: target?.text ?? '', met: target ? (target.met ? 'yes' : 'NO') : '' });
}

/** resultTable is one row per measurement, one value column per shape, in the order first recorded. */
function resultTable(shapes: string[]): string {
  const rows: string[][] = [];
  for (const m of [...new Set(results.map((r) => r.measurement))]) {
    const of = shapes.map((sh) => results.find((r) => r.measurement === m && r.shape === sh));
    const target = of.find((r) => r?.target)?.target ?? '';
    rows.push([m, ...of.map((r) => r?.value ?? '—'), target, target ? of.map((r) => r?.met || '—').join(' / ') : '']);
  }
  return formatTable(['measurement', ...shapes, 'target', 'met'], rows);
}

/** foldSample adds the CPU of every apiserver process (apiserver, apiserver-w0, …) into one "apiserver" figure. */
function foldSample(s: CPUSample): CPUSample {
  const cpu: Record<string, number> = {};
  for (const [name, sec] of Object.entries(s.cpu)) {
    const key = name.startsWith('apiserver') ? 'apiserver' : name;
    cpu[key] = (cpu[key] ?? 0) + sec;
  }
  return { wallSeconds: s.wallSeconds, cpu };
}

/** describeMeter is the meter's reading since its reset, the apiserver processes as one. */
function describeMeter(meter: CPUMeter): string {
  return describeCPU(cpuPercent([foldSample(meter.sample())]));
}

/** notes explain the figures (which process was the limit); printed under the table. */
const notes: string[] = [];

/** problems are failures that make the run exit non-zero (not missed targets). */
const problems: string[] = [];

function latencyText(s: LatencySummary): string {
  return `p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms`;
}

// ---- objects ----

const pad = (i: number) => String(i).padStart(6, '0');

/** payload makes a ConfigMap's stored JSON about 500 bytes. */
const payload = 'x'.repeat(268);

function configMap(name: string): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'bench' } }, data: { payload } };
}

function pod(name: string, selected: boolean): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: selected ? { app: 'bench', tier: 'selected' } : { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };
}

async function createNamespace(api: APIClient, name: string): Promise<void> {
  await api.expect(`create namespace ${name}`, [201], 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** loadProgress prints a closed-loop run's progress as done/total and the rate so far. */
function loadProgress(what: string, total: number, meter?: CPUMeter) {
  return (done: number, ms: number) => progress(`  ${what}: ${fmt(done)}/${fmt(total)} (${fmt(rate(done, ms))}/s)${meter ? `; cpu: ${describeMeter(meter)}` : ''}`);
}

function checkLoad(what: string, r: LoadResult): void {
  if (r.errors) problems.push(`${what}: ${r.errors} of ${r.ok + r.errors} failed; first: ${r.firstError}`);
}

// ---- machine ----

async function etcdVersion(endpoint: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<string> {
  // etcd answers only a client with a certificate of its own CA, /version included.
  const res = await probe({ url: `${endpoint}/version`, ca: tls.ca.toString(), cert: tls.cert.toString(), key: tls.key.toString() });
  const v = JSON.parse(res.body || '{}') as { etcdserver?: string; etcdcluster?: string };
  return `${v.etcdserver ?? '?'} (cluster ${v.etcdcluster ?? '?'})`;
}

function machineFacts(): string[] {
  const cpus = os.cpus();
  return [
    `cores: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    `memory: ${formatBytes(os.totalmem())} total, ${formatBytes(os.freemem())} free`,
    `os: ${os.type()} ${os.release()} ${os.arch()}`,
    `node: ${process.version}`,
    `load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine also competes)`,
  ];
}

// ---- 1. creates vs puts ----

async function benchCreates(api: APIClient, etcd: Etcd3, o: BenchOptions, meter: CPUMeter): Promise<void> {
  progress('phase 1/3: ConfigMap creates through the apiserver vs raw etcd puts');
  // Warm both paths (JIT, TLS sessions, gRPC channel) so neither measurement pays for it.
  const warm = Math.min(1_000, o.creates);
  await createNamespace(api, 'bench-warmup');
  checkLoad('warmup creates', await runConcurrent(warm, o.concurrency, (i) => api.expect('warmup create', [201], 'POST', '/api/v1/namespaces/bench-warmup/configmaps', configMap(`cm-${pad(i)}`)).then(() => undefined)));
  // The raw puts store exactly the bytes the apiserver stored for one ConfigMap, at a fresh key each.
  const stored = await etcd.get('/registry/core/configmaps/bench-warmup/cm-000000').buffer();
  if (!stored) throw new Error('the warmup ConfigMap is not in etcd at /registry/core/configmaps/bench-warmup/cm-000000');
  checkLoad('warmup puts', await runConcurrent(warm, o.concurrency, (i) => etcd.put(`/bench/warmup/${pad(i)}`).value(stored).then(() => undefined)));
  progress(`  value size: ${stored.length} bytes (the JSON the apiserver stores for one ConfigMap; each raw put writes these bytes to a fresh key)`);

  await createNamespace(api, 'bench-create');
  // Alternate the two in ABBA order (puts, creates, creates, puts), half the operations per
  // round, so drift and other load on the machine weigh on both sides alike.
  const half = Math.ceil(o.creates / 2);
  const rounds: { kind: 'puts' | 'creates'; from: number }[] = [
    { kind: 'puts', from: 0 },
    { kind: 'creates', from: 0 },
    { kind: 'creates', from: half },
    { kind: 'puts', from: half },
  ];
  const runs = { puts: [] as LoadResult[], creates: [] as LoadResult[] };
  const cpu = { puts: [] as CPUSample[], creates: [] as CPUSample[] };
  for (const [n, r] of rounds.entries()) {
    const count = Math.min(half, o.creates - r.from);
    const op: (i: number) => Promise<void> =
      r.kind === 'puts'
        ? (i: number) => etcd.put(`/bench/raw/${pad(r.from + i)}`).value(stored).then(() => undefined)
        : (i: number) => api.expect('create', [201], 'POST', '/api/v1/namespaces/bench-create/configmaps', configMap(`cm-${pad(r.from + i)}`)).then(() => undefined);
    const what = r.kind === 'puts' ? 'raw etcd puts' : 'apiserver creates';
    meter.reset();
    const res = await runConcurrent(count, o.concurrency, op, { progress: loadProgress(`round ${n + 1}/4 ${what}`, count, meter) });
    const sample = foldSample(meter.sample());
    runs[r.kind].push(res);
    cpu[r.kind].push(sample);
    checkLoad(what, res);
    progress(`  round ${n + 1}/4 ${what}: ${fmt(res.ok)} in ${fmt(res.elapsedMs / 1000)} s = ${fmt(rate(res.ok, res.elapsedMs))}/s, ${latencyText(summarize(res.latencies))}; cpu: ${describeCPU(cpuPercent([sample]))}`);
  }
  const total = (rs: LoadResult[]) => ({ ok: rs.reduce((a, r) => a + r.ok, 0), ms: rs.reduce((a, r) => a + r.elapsedMs, 0), lat: rs.flatMap((r) => r.latencies) });
  const p = total(runs.puts);
  const c = total(runs.creates);
  const putRate = rate(p.ok, p.ms);
  const createRate = rate(c.ok, c.ms);
  const putLat = summarize(p.lat);
  const createLat = summarize(c.lat);
  const putPct = cpuPercent(cpu.puts);
  const createPct = cpuPercent(cpu.creates);
  const putCPU = describeCPU(putPct);
  const createCPU = describeCPU(createPct);
  if (createPct.apiserver! >= 90) notes.push(`${shape}: creates: the apiserver processes used ${Math.round(createPct.apiserver!)}% of a core; etcd ${Math.round(createPct.etcd!)}%, the bench client ${Math.round(createPct.bench!)}%.`);
  if (putPct.bench! >= 90) notes.push(`${shape}: raw puts: the bench's etcd3 client (grpc-js, one thread) was CPU-bound at ${Math.round(putPct.bench!)}%; etcd used ${Math.round(putPct.etcd!)}%, so puts/s is the Node client's ceiling, not etcd's.`);
  progress(`  raw etcd puts: ${fmt(p.ok)} = ${fmt(putRate)}/s, ${latencyText(putLat)}; cpu: ${putCPU}`);
  progress(`  apiserver creates: ${fmt(c.ok)} = ${fmt(createRate)}/s, ${latencyText(createLat)}; cpu: ${createCPU}`);

  const ratio = createRate / putRate;
  record(`ConfigMap creates/s via apiserver (${o.concurrency} clients, HTTPS POST)`, `${fmt(createRate)}/s`);
  record(`raw etcd puts/s via etcd3 (${o.concurrency} clients, ${stored.length} B values)`, `${fmt(putRate)}/s`);
  record('creates/s ÷ puts/s', fmt(ratio), { text: '≥ 0.5', met: ratio >= 0.5 });
  record('create latency (apiserver)', latencyText(createLat));
  record('put latency (raw etcd)', latencyText(putLat));
  // CPU time per operation does not depend on how much of a core other work left us.
  const cpuSec = (samples: CPUSample[], name: string) => samples.reduce((a, x) => a + (x.cpu[name] ?? 0), 0);
  record('apiserver CPU time per create', `${fmt((cpuSec(cpu.creates, 'apiserver') * 1000) / c.ok)} ms`);
  record('bench etcd3 client CPU time per raw put', `${fmt((cpuSec(cpu.puts, 'bench') * 1000) / p.ok)} ms`);
  record('cpu during creates (% of one core)', createCPU);
  record('cpu during puts (% of one core)', putCPU);
}

// ---- 2. watch fan-out ----

/** Watch is one open HTTPS watch and what it received. */
interface Watch {
  req: ClientRequest;
  ended: boolean;
  errorEvents: number;
}

const watchNamespace = 'bench-watch';
const watchNamePrefix = '"name":"fw-';

/**
 * openWatch starts one chunked watch (its own TLS connection) and resolves once the 200 headers
 * arrive. Each event's receipt time is written to recvAt[base + index-of-the-object], read from
 * the object's name; only the first delivery per object counts.
 */
function openWatch(server: string, agent: https.Agent, rv: string, recvAt: Float64Array, base: number): Promise<Watch> {
  const url = new URL(`/api/v1/namespaces/${watchNamespace}/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=1800`, server);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`watch: HTTP ${res.statusCode}`));
        return;
      }
      const w: Watch = { req, ended: false, errorEvents: 0 };
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        pending += chunk;
        let start = 0;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
          const at = pending.indexOf(watchNamePrefix, start);
          if (at >= 0 && at < nl) {
            const from = at + watchNamePrefix.length;
            const i = Number(pending.slice(from, pending.indexOf('"', from)));
            if (Number.isInteger(i) && base + i < recvAt.length && !(recvAt[base + i]! > 0)) recvAt[base + i] = now;
          } else if (pending.startsWith('{"type":"ERROR"', start)) {
            w.errorEvents++;
          }
          start = nl + 1;
        }
        pending = pending.slice(start);
      });
      res.on('end', () => (w.ended = true));
      res.on('error', () => (w.ended = true));
      resolve(w);
    });
    req.on('error', reject);
    req.end();
  });
}

async function registeredWatchers(api: APIClient, resource: string): Promise<number> {
  const r = await api.expect('metrics', [200], 'GET', '/metrics');
  const m = new RegExp(`^apiserver_registered_watchers\\{[^}]*resource="${resource}"[^}]*\\} (\\d+)`, 'm').exec(r.body);
  return m ? Number(m[1]) : 0;
}

async function benchWatch(api: APIClient, tls: TLSFiles, apiserverPids: number[], inspectPort: number | undefined, o: BenchOptions, meter: CPUMeter): Promise<void> {
  const writes = o.watchRate * o.watchSeconds;
  progress(`phase 2/3: watch fan-out: ${fmt(o.watchers)} watchers on configmaps in ${watchNamespace}, ${o.watchRate} writes/s for ${o.watchSeconds} s`);
  await createNamespace(api, watchNamespace);
  const list = JSON.parse((await api.expect('list', [200], 'GET', `/api/v1/namespaces/${watchNamespace}/configmaps`)).body) as { metadata: { resourceVersion: string } };
  const rv = list.metadata.resourceVersion;

  // RSS moves with V8's collection schedule by more than 1,000 watchers weigh: read it right
  // after a forced full GC, before and after opening them.
  const settle = async (): Promise<string> => {
    try {
      // Several workers have no inspector of their own (they would share the primary's port).
      if (inspectPort === undefined) throw new Error('several apiserver processes');
      await collectGarbage(inspectPort);
      await sleep(500);
      return 'after a forced GC';
    } catch (err) {
      await sleep(1_000);
      return `without a forced GC (${(err as Error).message})`;
    }
  };
  const gcNote = await settle();
  const rss = () => apiserverPids.reduce((a, pid) => a + rssBytes(pid), 0);
  const rssBefore = rss();
  // One TLS connection per watch, as separate informers would have; Node's default limits suffice.
  const agent = new https.Agent({ keepAlive: false, maxSockets: Infinity, ca: tls.ca, cert: tls.cert, key: tls.key });
  const recvAt = new Float64Array(o.watchers * writes);
  const watches: Watch[] = [];
  try {
    meter.reset();
    const opened = await runConcurrent(
      o.watchers,
      32,
      async (i) => {
        watches.push(await openWatch(api.server, agent, rv, recvAt, i * writes));
      },
      { progress: loadProgress('watches opened', o.watchers) },
    );
    checkLoad('opening watches', opened);
    const openLat = summarize(opened.latencies);
    progress(`  ${watches.length} watches open in ${fmt(opened.elapsedMs / 1000)} s (open latency ${latencyText(openLat)}); cpu: ${describeMeter(meter)}`);
    // Registration in the watch cache follows the response headers: wait until every watch counts.
    for (let tries = 0; tries < 50 && (await registeredWatchers(api, 'configmaps')) < watches.length; tries++) await sleep(200);
    const registered = await registeredWatchers(api, 'configmaps');
    await settle();
    const rssAfter = rss();
    const perWatcher = (rssAfter - rssBefore) / Math.max(1, watches.length);
    progress(`  apiserver registered watchers: ${registered}; RSS ${gcNote}: ${formatBytes(rssBefore)} → ${formatBytes(rssAfter)} = ${formatBytes(perWatcher)} per watcher`);

    // Writes go out on a fixed schedule (open loop), each timed from just before its request.
    const writer = new APIClient(api.server, tls, 16);
    const sendAt = new Float64Array(writes);
    const respAt = new Float64Array(writes);
    const written = new Uint8Array(writes);
    let writeErrors = 0;
    let firstWriteError = '';
    meter.reset();
    const ticker = setInterval(() => {
      let got = 0;
      for (let k = 0; k < recvAt.length; k++) if (recvAt[k]! > 0) got++;
      progress(`  watch: ${fmt(written.reduce((a, b) => a + b, 0))} written, ${fmt(got)}/${fmt(o.watchers * writes)} deliveries; cpu: ${describeMeter(meter)}`);
    }, 2_000);
    const inflight: Promise<void>[] = [];
    const start = performance.now() + 50;
    try {
      for (let i = 0; i < writes; i++) {
        const wait = start + (i * 1000) / o.watchRate - performance.now();
        if (wait > 1) await sleep(wait);
        sendAt[i] = performance.now();
        inflight.push(
          writer.request('POST', `/api/v1/namespaces/${watchNamespace}/configmaps`, configMap(`fw-${pad(i)}`)).then(
            (r) => {
              respAt[i] = performance.now();
              if (r.status === 201) written[i] = 1;
              else {
                writeErrors++;
                firstWriteError ||= `HTTP ${r.status}: ${r.body.slice(0, 200)}`;
              }
            },
            (err: Error) => {
              writeErrors++;
              firstWriteError ||= err.message;
            },
          ),
        );
      }
      await Promise.all(inflight);
      const writeSpan = (performance.now() - start) / 1000;
      // Let deliveries drain: stop when all arrived, or nothing moved for 5 s.
      const expected = written.reduce((a, b) => a + b, 0) * watches.length;
      let last = -1;
      let still = performance.now();
      for (;;) {
        let got = 0;
        for (let k = 0; k < recvAt.length; k++) if (recvAt[k]! > 0) got++;
        if (got >= expected) break;
        if (got !== last) (last = got), (still = performance.now());
        if (performance.now() - still > 5_000) break;
        await sleep(100);
      }
      const fanoutSample = foldSample(meter.sample());
      const cpu = describeCPU(cpuPercent([fanoutSample]));
      const deliverSpan = (performance.now() - start) / 1000;
      clearInterval(ticker);

      const fromSend: number[] = [];
      const fromResponse: number[] = [];
      let lost = 0;
      for (let w = 0; w < watches.length; w++) {
        for (let i = 0; i < writes; i++) {
          if (!written[i]) continue;
          const t = recvAt[w * writes + i]!;
          if (!(t > 0)) {
            lost++;
            continue;
          }
          fromSend.push(t - sendAt[i]!);
          // An event may arrive before its POST's response: that counts as zero from the response.
          fromResponse.push(Math.max(0, t - respAt[i]!));
        }
      }
      const okWrites = written.reduce((a, b) => a + b, 0);
      if (okWrites / writeSpan < 0.95 * o.watchRate) {
        notes.push(`${shape}: fan-out: the apiserver completed ${fmt(okWrites / writeSpan)} of the ${o.watchRate} writes/s offered while serving ${fmt(watches.length)} watchers; writes queued behind the fan-out, so latency from before the POST includes that queue.`);
      }
      const ended = watches.filter((w) => w.ended).length;
      const errorEvents = watches.reduce((a, w) => a + w.errorEvents, 0);
      const sendLat = summarize(fromSend);
      const respLat = summarize(fromResponse);
      progress(`  wrote ${okWrites} in ${fmt(writeSpan)} s (${fmt(okWrites / writeSpan)}/s, ${writeErrors} failed${firstWriteError ? `: ${firstWriteError}` : ''}); cpu: ${cpu}`);
      progress(`  delivered ${fmt(fromSend.length)} of ${fmt(okWrites * watches.length)} (lost ${lost}); watches closed early: ${ended}; ERROR events: ${errorEvents}`);
      progress(`  write→delivery from just before the POST: ${latencyText(sendLat)}, max ${fmt(sendLat.max)} ms`);
      progress(`  write→delivery from the POST's response:  ${latencyText(respLat)}, max ${fmt(respLat.max)} ms`);
      if (writeErrors) problems.push(`watch writes: ${writeErrors} of ${writes} failed; first: ${firstWriteError}`);
      if (lost) problems.push(`watch: ${lost} events lost over ${watches.length} watchers (${ended} watches closed early, ${errorEvents} ERROR events)`);

      record(`watch p99 write→delivery, from just before the POST (${fmt(watches.length)} watchers, ${o.watchRate} writes/s)`, `${fmt(sendLat.p99)} ms`, { text: '≤ 100 ms', met: sendLat.p99 <= 100 });
      record('watch p50 write→delivery, from just before the POST', `${fmt(sendLat.p50)} ms`);
      record('watch p99 write→delivery, from the POST response', `${fmt(respLat.p99)} ms`);
      record(`watch events lost (${fmt(okWrites)} writes × ${fmt(watches.length)} watchers)`, String(lost), { text: '0', met: lost === 0 });
      record(`fan-out writes completed/s (offered ${o.watchRate}/s)`, `${fmt(okWrites / writeSpan)}/s`);
      record('fan-out deliveries/s (events × watchers)', `${fmt(fromSend.length / deliverSpan)}/s`);
      record('apiserver CPU time per delivered watch event (writes included)', `${fmt(((fanoutSample.cpu.apiserver ?? 0) * 1e6) / Math.max(1, fromSend.length))} µs`);
      record('apiserver RSS per watcher', `${formatBytes(perWatcher)} (${formatBytes(rssBefore)} → ${formatBytes(rssAfter)}, ${gcNote.split(' (')[0]})`);
      record('cpu during fan-out (% of one core)', cpu);
    } finally {
      clearInterval(ticker);
      writer.close();
    }
  } finally {
    for (const w of watches) w.req.destroy();
    agent.destroy();
  }
  for (let tries = 0; tries < 50 && (await registeredWatchers(api, 'configmaps')) > 0; tries++) await sleep(100);
}

// ---- 3. LIST with a label selector ----

async function timedLists(api: APIClient, path: string, n: number, check: (body: string, i: number) => void): Promise<LatencySummary> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await api.expect('list', [200], 'GET', path);
    lat.push(performance.now() - t);
    check(r.body, i);
  }
  return summarize(lat);
}

function countItems(body: string): number {
  return (JSON.parse(body) as { items: unknown[] }).items.length;
}

async function benchList(api: APIClient, o: BenchOptions, meter: CPUMeter): Promise<void> {
  const ns = 'bench-list';
  const selected = Math.floor(o.pods / 100);
  progress(`phase 3/3: LIST of ${fmt(o.pods)} pods, selector tier=selected matching ${selected}`);
  await createNamespace(api, ns);
  meter.reset();
  // Every 100th pod carries the label the selector matches: 1%.
  const created = await runConcurrent(o.pods, o.concurrency, (i) => api.expect('create pod', [201], 'POST', `/api/v1/namespaces/${ns}/pods`, pod(`p-${pad(i)}`, i % 100 === 0)).then(() => undefined), {
    progress: loadProgress('pods created', o.pods, meter),
  });
  checkLoad('creating pods', created);
  progress(`  ${fmt(created.ok)} pods in ${fmt(created.elapsedMs / 1000)} s = ${fmt(rate(created.ok, created.elapsedMs))}/s, ${latencyText(summarize(created.latencies))}; cpu: ${describeMeter(meter)}`);

  const expectItems = (want: number, what: string) => (body: string, i: number) => {
    // Parsing 10,000 pods costs the client time: check the first answer fully and the rest by size.
    if (i > 0) return;
    const got = countItems(body);
    if (got !== want) problems.push(`${what}: ${got} items, want ${want}`);
  };
  meter.reset();
  const sel = await timedLists(api, `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('tier=selected')}`, o.selectorLists, expectItems(selected, 'selector list'));
  const selCPU = describeMeter(meter);
  progress(`  selector LIST ×${o.selectorLists}: ${latencyText(sel)}, max ${fmt(sel.max)} ms; cpu: ${selCPU}`);
  meter.reset();
  let fullBytes = 0;
  const full = await timedLists(api, `/api/v1/namespaces/${ns}/pods`, o.fullLists, (body, i) => {
    fullBytes = Buffer.byteLength(body);
    expectItems(created.ok, 'full list')(body, i);
  });
  const fullCPU = describeMeter(meter);
  progress(`  full LIST ×${o.fullLists} (${formatBytes(fullBytes)} each): ${latencyText(full)}, max ${fmt(full.max)} ms; cpu: ${fullCPU}`);

  record(`LIST pods with selector (${selected} of ${fmt(o.pods)}), ${o.selectorLists} requests`, latencyText(sel), { text: 'p99 ≤ 100 ms', met: sel.p99 <= 100 });
  record(`LIST all ${fmt(o.pods)} pods (${formatBytes(fullBytes)}), ${o.fullLists} requests`, latencyText(full));
  record('full LIST p99 ÷ selector LIST p99', fmt(full.p99 / sel.p99));
  record(`pod creates/s via apiserver (${o.concurrency} clients)`, `${fmt(rate(created.ok, created.elapsedMs))}/s`);
}

// ---- main ----

function processOf(cluster: Cluster, name: string): ProcessState {
  const state = readState(stateFile(contextFor(cluster.config), name));
  if (!state) throw new Error(`no state file for ${name}`);
  return state;
}

/** childPids are a process's children, from /proc (an apiserver primary's workers). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * runShape starts etcd and the apiserver with `workers` apiserver processes and runs the phases
 * against them; every figure is recorded under the shape's label. Processes it started that are
 * still alive after the stop are returned.
 */
async function runShape(workers: number, o: BenchOptions, facts: string[], withLists: boolean): Promise<ProcessState[]> {
  shape = workers === 1 ? '1 worker' : `${workers} workers`;
  progress(`=== ${shape}: starting etcd and the apiserver (test harness, --apiserver-workers=${workers})`);
  // The single apiserver gets an inspector port so the watch phase can force a GC before each
  // memory reading; only the processes the harness spawns now see this NODE_OPTIONS. Workers
  // would all ask for the one port, so the multi-worker shape goes without.
  const [inspectPort] = workers === 1 ? await freePorts(1) : [undefined];
  const savedNodeOptions = process.env.NODE_OPTIONS;
  if (inspectPort) process.env.NODE_OPTIONS = [savedNodeOptions, `--inspect=127.0.0.1:${inspectPort}`].filter(Boolean).join(' ');
  let cluster: Cluster;
  try {
    cluster = await startCluster({ components: ['etcd', 'apiserver'], apiserverWorkers: workers });
  } finally {
    if (savedNodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = savedNodeOptions;
  }
  const procs = [processOf(cluster, 'apiserver'), processOf(cluster, 'etcd')];
  const primary = procs[0]!.pid;
  const workerPids = workers === 1 ? [] : childPids(primary);
  const apiserverPids = [primary, ...workerPids];
  const pids: Record<string, number> = { apiserver: primary, etcd: procs[1]!.pid };
  workerPids.forEach((pid, i) => (pids[`apiserver-w${i}`] = pid));
  const tls: TLSFiles = { ca: readFileSync(cluster.caFile, 'utf8'), cert: readFileSync(cluster.adminCert, 'utf8'), key: readFileSync(cluster.adminKey, 'utf8') };
  const api = new APIClient(cluster.server, tls, o.concurrency);
  const etcd = new Etcd3(cluster.etcdClientOptions);
  const rssText = () => [`primary ${formatBytes(rssBytes(primary))}`, ...workerPids.map((pid, i) => `worker ${i} ${formatBytes(rssBytes(pid))}`)].join(', ');
  const rssTotal = () => apiserverPids.reduce((a, pid) => a + rssBytes(pid), 0);
  try {
    if (!facts.some((f) => f.startsWith('etcd: '))) facts.push(`etcd: ${await etcdVersion(cluster.etcdEndpoint, cluster.etcdTLS)}`);
    progress(`etcd at ${cluster.etcdEndpoint} (pid ${pids.etcd}); apiserver at ${cluster.server} (pids ${apiserverPids.join(', ')})`);
    await sleep(1_000);
    const rest = workers === 1 ? formatBytes(rssTotal()) : `${formatBytes(rssTotal())} (${rssText()})`;
    progress(`  apiserver RSS at rest: ${rest}`);
    record('apiserver RSS at rest, every apiserver process', rest);
    const meter = new CPUMeter(pids);
    await benchCreates(api, etcd, o, meter);
    await benchWatch(api, tls, apiserverPids, inspectPort, o, meter);
    if (withLists) await benchList(api, o, meter);
    const end = workers === 1 ? formatBytes(rssTotal()) : `${formatBytes(rssTotal())} (${rssText()})`;
    record('apiserver RSS after the phases', end);
  } catch (err) {
    problems.push(`${shape}: bench failed: ${(err as Error)?.stack ?? String(err)}`);
  } finally {
    api.close();
    etcd.close();
    progress(`stopping etcd and the apiserver (${shape})`);
    await cluster.stop();
  }
  return [...procs, ...workerPids.map((pid) => ({ ...procs[0]!, name: 'apiserver worker', pid, startTicks: 0 }) as ProcessState)].filter((p) => isAlive(p));
}

async function main(): Promise<number> {
  const o = parseOptions('apiserver', process.argv.slice(2), defaults);
  // A hung phase must not leave etcd and the apiserver behind: exiting runs the harness's
  // exit handler, which kills every process it started.
  setTimeout(() => {
    progress(`bench: gave up after ${o.deadlineSeconds} s; stopping etcd and the apiserver`);
    process.exit(1);
  }, o.deadlineSeconds * 1000).unref();

  const facts = machineFacts();
  for (const f of facts) progress(f);
  progress(`note: etcd, the apiserver and this bench client all share these ${os.cpus().length} cores; figures include that contention`);
  const shapes = o.workers > 1 ? [1, o.workers] : [1];
  const leftovers: ProcessState[] = [];
  for (const [i, workers] of shapes.entries()) leftovers.push(...(await runShape(workers, o, facts, i === shapes.length - 1)));
  const labels = shapes.map((w) => (w === 1 ? '1 worker' : `${w} workers`));

  process.stdout.write(`\n=== skiff apiserver benchmark ===\n`);
  for (const f of facts) process.stdout.write(`${f}\n`);
  process.stdout.write(`etcd, the apiserver and the bench client share the ${os.cpus().length} cores above; each column was measured against its own etcd, one after the other in this run; the LIST phase runs in the last column only.\n\n`);
  process.stdout.write(resultTable(labels) + '\n\n');
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  if (notes.length) process.stdout.write('\n');
  const missed = results.filter((r) => r.met === 'NO').length;
  process.stdout.write(missed ? `${missed} target(s) not met (targets are reported, never enforced).\n` : 'All targets met.\n');
  if (leftovers.length) problems.push(`still running after stop: ${leftovers.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  for (const p of problems) process.stderr.write(`error: ${p}\n`);
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
