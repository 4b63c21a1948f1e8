// The DNS benchmark (`npm run bench -- dns`). For each Service count (--services=N and
// --services-large=N, default 1,000 and 10,000) it starts a child process that fills skiff-dns's
// index with that many ClusterIP Services (every tenth one headless with three endpoints, as the
// informers would from Services and EndpointSlices) and serves it with the real DnsServer on
// 127.0.0.1, then sends --queries=N A queries for random Service names over UDP with
// --concurrency=N outstanding, and reports queries per second and p50/p99 latency. In the same
// run the same client drives a trivial responder (a child process that sends each datagram back
// with the response bit set, no decoding): the ratio says what the DNS work costs over the bare
// UDP round trip in Node. Nothing is forwarded: every name is in the cluster domain.
//
// Options: --services=N --services-large=N --queries=N --concurrency=N

import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as packet from 'dns-packet';
import { Forwarder } from '../dns/forward.js';
import { ClusterIndex } from '../dns/records.js';
import { defaultResolveConfig } from '../dns/resolve.js';
import { DnsServer } from '../dns/server.js';
import { newLogger } from '../lib/log.js';
import { parseOptions, progress } from './lib/cli.js';
import { fmt, formatTable, summarize } from './lib/stats.js';

const opts = parseOptions('dns', process.argv.slice(2), { services: 1000, servicesLarge: 10000, queries: 50000, concurrency: 64, serve: 0, echo: 0 });

/** serve is the child's side: an index of n Services behind a DnsServer; prints the port. */
async function serve(n: number): Promise<void> {
  const index = new ClusterIndex('cluster.local');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const headless = i % 10 === 9;
    const name = `svc-${i}`;
    index.upsertService({ metadata: { namespace: `ns-${i % 50}`, name }, spec: { clusterIP: headless ? 'None' : `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } });
    if (headless) {
      index.upsertSlice({
        metadata: { namespace: `ns-${i % 50}`, name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints: [1, 2, 3].map((e) => ({ addresses: [`10.244.${(i >> 8) & 255}.${(i * 3 + e) & 255}`], conditions: { ready: true } })),
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      });
    }
  }
  const buildMs = performance.now() - t0;
  const server = new DnsServer({ address: '127.0.0.1', port: 0, view: index, config: defaultResolveConfig('cluster.local', '10.96.0.10'), forwarder: new Forwarder({ upstreams: [] }), log: newLogger('dns-bench', 0) });
  const port = await server.start();
  process.stdout.write(JSON.stringify({ port, buildMs }) + '\n');
}

/** echo is the baseline child: every datagram goes back with QR set, nothing decoded. */
async function echo(): Promise<void> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => {
    m[2]! |= 0x80;
    s.send(m, r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  process.stdout.write(JSON.stringify({ port: s.address().port, buildMs: 0 }) + '\n');
}

async function child(args: string[]): Promise<{ proc: ChildProcess; port: number; buildMs: number }> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((res, rej) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) res(buf.split('\n')[0]!);
    });
    proc.once('exit', (code) => rej(new Error(`child ${args.join(' ')} exited ${code}`)));
  });
  return { proc, ...(JSON.parse(line) as { port: number; buildMs: number }) };
}

/** drive sends total queries (names from nameAt) with width outstanding; latencies in ms. */
async function drive(port: number, total: number, width: number, nameAt: (i: number) => string): Promise<{ qps: number; latencies: number[]; errors: number }> {
  const s = dgram.createSocket('udp4');
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const queries = Array.from({ length: Math.min(total, 4096) }, (_, i) => packet.encode({ id: 0, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: nameAt(i) }] }));
  const start = performance.now();
  await new Promise<void>((done) => {
    const send = () => {
      if (next >= total) return;
      const id = next++ & 0xffff;
      const q = Buffer.from(queries[id % queries.length]!);
      q.writeUInt16BE(id, 0);
      sent.set(id, performance.now());
      s.send(q, port, '127.0.0.1');
    };
    s.on('message', (m) => {
      const id = m.readUInt16BE(0);
      const t = sent.get(id);
      if (t === undefined) return;
      sent.delete(id);
      latencies.push(performance.now() - t);
      if ((m[3]! & 0x0f) !== 0) errors++;
      if (latencies.length === total) done();
      else send();
    });
    // A lost datagram would stall a slot: resend nothing, just stop waiting after a while.
    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const [id, t] of sent) {
        if (now - t < 2000) continue;
        sent.delete(id);
        errors++;
        total--;
        if (latencies.length >= total) done();
        else send();
      }
    }, 500);
    s.once('close', () => clearInterval(watchdog));
    for (let i = 0; i < width; i++) send();
  });
  const elapsed = performance.now() - start;
  s.close();
  return { qps: (latencies.length / elapsed) * 1000, latencies, errors };
}

async function main(): Promise<void> {
  if (opts.serve) return serve(opts.serve);
  if (opts.echo) return echo();
  const rows: string[][] = [];
  const baseline = await child(['--echo=1']);
  try {
    for (const n of [opts.services, opts.servicesLarge]) {
      const srv = await child([`--serve=${n}`]);
      try {
        progress(`${fmt(n)} Services indexed in ${srv.buildMs.toFixed(0)} ms; ${fmt(opts.queries)} A queries, ${opts.concurrency} outstanding`);
        const nameAt = (i: number) => `svc-${(i * 7919) % n}.ns-${((i * 7919) % n) % 50}.svc.cluster.local`;
        // Warm up both (JIT), then measure them back to back.
        await drive(srv.port, 2000, opts.concurrency, nameAt);
        await drive(baseline.port, 2000, opts.concurrency, nameAt);
        const dns = await drive(srv.port, opts.queries, opts.concurrency, nameAt);
        const raw = await drive(baseline.port, opts.queries, opts.concurrency, nameAt);
        if (dns.errors) progress(`${dns.errors} queries failed or were lost`);
        const d = summarize(dns.latencies), r = summarize(raw.latencies);
        rows.push([fmt(n), 'skiff-dns', fmt(Math.round(dns.qps)), d.p50.toFixed(2), d.p99.toFixed(2), (raw.qps / dns.qps).toFixed(2)]);
        rows.push([fmt(n), 'UDP echo', fmt(Math.round(raw.qps)), r.p50.toFixed(2), r.p99.toFixed(2), '1.00']);
      } finally {
        srv.proc.kill();
      }
    }
  } finally {
    baseline.proc.kill();
  }
  process.stdout.write('\n' + formatTable(['Services', 'responder', 'queries/s', 'p50 ms', 'p99 ms', 'echo qps ÷ this'], rows) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench dns: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
