import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import * as packet from 'dns-packet';
import { newLogger } from '../lib/log.js';
import { Forwarder, parseUpstreams, resolvConfUpstreams } from './forward.js';
import { ClusterIndex } from './records.js';
import { defaultResolveConfig } from './resolve.js';
import { DnsServer, rcodeOf, tcpQuery, udpQuery } from './server.js';

/** fakeUpstream answers every A question with 192.0.2.1 and counts what it got; hold delays answers. */
async function fakeUpstream(opts: { hold?: boolean } = {}): Promise<{ port: number; got: string[]; close(): void }> {
  const s = dgram.createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m, r) => {
    const q = packet.decode(m);
    got.push(q.questions![0]!.name);
    if (opts.hold) return;
    s.send(packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 60, data: '192.0.2.1' }] }), r.port, r.address);
  });
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
  return { port: s.address().port, got, close: () => s.close() };
}

describe('DnsServer', () => {
  const idx = new ClusterIndex('cluster.local');
  // 40 ports make the SRV answer larger than 512 bytes.
  idx.upsertService({ metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.20', ports: Array.from({ length: 40 }, (_, i) => ({ name: `p${i}`, protocol: 'TCP', port: 1000 + i })) } });
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let server: DnsServer;
  let port: number;
  const log = newLogger('dns-test', 0);
  before(async () => {
    upstream = await fakeUpstream();
    const forwarder = new Forwarder({ upstreams: [{ host: '127.0.0.1', port: upstream.port }] });
    server = new DnsServer({ address: '127.0.0.1', port: 0, view: idx, config: defaultResolveConfig('cluster.local', '10.96.0.10'), forwarder, log });
    port = await server.start();
  });
  after(async () => {
    await server.close();
    upstream.close();
  });

  it('answers cluster names authoritatively over UDP and TCP', async () => {
    for (const query of [udpQuery, tcpQuery]) {
      const r = await query('127.0.0.1', port, { id: 7, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }] });
      assert.equal(r.id, 7);
      assert.equal(rcodeOf(r), 'NOERROR');
      assert.equal(r.flag_aa, true);
      assert.equal(r.flag_rd, true);
      assert.deepEqual(r.answers!.map((a) => 'data' in a && a.data), ['10.96.0.20']);
    }
    const nx = await udpQuery('127.0.0.1', port, { id: 8, type: 'query', questions: [{ type: 'A', name: 'nope.default.svc.cluster.local' }] });
    assert.equal(rcodeOf(nx), 'NXDOMAIN');
    assert.equal(nx.authorities![0]!.type, 'SOA');
  });

  it('forwards other names to the upstream and gives the reply back under the client id', async () => {
    const r = await udpQuery('127.0.0.1', port, { id: 4242, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: 'example.org' }] });
    assert.equal(r.id, 4242);
    assert.deepEqual(r.answers!.map((a) => 'data' in a && a.data), ['192.0.2.1']);
    assert.ok(upstream.got.includes('example.org'));
  });

  it('truncates UDP answers over 512 bytes without EDNS0, and not over TCP or within the EDNS0 size', async () => {
    const q = { id: 9, type: 'query' as const, questions: [{ type: 'SRV' as const, name: 'web.default.svc.cluster.local' }] };
    const udp = await udpQuery('127.0.0.1', port, q);
    assert.equal(udp.flag_tc, true);
    assert.equal(udp.answers!.length, 0);
    const tcp = await tcpQuery('127.0.0.1', port, q);
    assert.equal(tcp.flag_tc, false);
    assert.equal(tcp.answers!.length, 40);
    const edns = await udpQuery('127.0.0.1', port, { ...q, additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as never] });
    assert.equal(edns.flag_tc, false);
    assert.equal(edns.answers!.length, 40);
  });

  it('answers garbage with FORMERR under the same id', async () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x61]);
    const s = dgram.createSocket('udp4');
    const reply = await new Promise<Buffer>((res) => {
      s.on('message', (m) => res(m));
      s.send(garbage, port, '127.0.0.1');
    });
    s.close();
    const r = packet.decode(reply);
    assert.equal(r.id, 0x1234);
    assert.equal(rcodeOf(r), 'FORMERR');
  });

  it('follows an ExternalName CNAME into the cluster domain from the index', async () => {
    idx.upsertService({ metadata: { namespace: 'default', name: 'alias' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' } });
    const r = await udpQuery('127.0.0.1', port, { id: 11, type: 'query', questions: [{ type: 'A', name: 'alias.default.svc.cluster.local' }] });
    assert.deepEqual(r.answers!.map((a) => [a.type, 'data' in a && a.data]), [['CNAME', 'web.default.svc.cluster.local'], ['A', '10.96.0.20']]);
  });

  it('survives a flood: forwards stay within the bound, the rest is REFUSED, TCP connections are capped, cluster names still answer', async () => {
    const silent = await fakeUpstream({ hold: true });
    const forwarder = new Forwarder({ upstreams: [{ host: '127.0.0.1', port: silent.port }], maxInFlight: 50, timeoutMs: 500 });
    const s3 = new DnsServer({ address: '127.0.0.1', port: 0, view: idx, config: defaultResolveConfig('cluster.local', '10.96.0.10'), forwarder, log, maxTCPConnections: 20 });
    const p3 = await s3.start();
    const client = dgram.createSocket('udp4');
    const sockets: import('node:net').Socket[] = [];
    try {
      const rcodes = new Map<string, number>();
      let maxInFlight = 0;
      client.on('message', (m) => {
        const rc = rcodeOf(packet.decode(m));
        rcodes.set(rc, (rcodes.get(rc) ?? 0) + 1);
      });
      for (let i = 0; i < 3000; i++) {
        client.send(packet.encode({ id: i, type: 'query', questions: [{ type: 'A', name: `flood-${i}.example` }] }), p3, '127.0.0.1');
        maxInFlight = Math.max(maxInFlight, forwarder.inFlight);
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      }
      const net = await import('node:net');
      for (let i = 0; i < 40; i++) {
        const c = net.connect({ host: '127.0.0.1', port: p3 });
        c.on('error', () => undefined);
        sockets.push(c);
      }
      for (let i = 0; i < 100 && forwarder.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(maxInFlight <= 50, `in flight ${maxInFlight}`);
      assert.ok((rcodes.get('REFUSED') ?? 0) > 0, JSON.stringify([...rcodes]));
      assert.equal(forwarder.inFlight, 0);
      assert.equal(silent.got.length <= 3000, true);
      const ok = await tcpQuery('127.0.0.1', p3, { id: 1, type: 'query', questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }] }).catch(() => undefined);
      const viaUDP = await udpQuery('127.0.0.1', p3, { id: 2, type: 'query', questions: [{ type: 'A', name: 'web.default.svc.cluster.local' }] });
      assert.equal(rcodeOf(viaUDP), 'NOERROR');
      // The 41st TCP client is past the cap (20): it is closed rather than queued.
      assert.equal(ok, undefined);
    } finally {
      for (const c of sockets) c.destroy();
      client.close();
      await s3.close();
      forwarder.close();
      silent.close();
    }
  });

  it('refuses forwards beyond the in-flight bound instead of queueing them', async () => {
    const silent = await fakeUpstream({ hold: true });
    const forwarder = new Forwarder({ upstreams: [{ host: '127.0.0.1', port: silent.port }], maxInFlight: 2, timeoutMs: 1500 });
    const s2 = new DnsServer({ address: '127.0.0.1', port: 0, view: idx, config: defaultResolveConfig('cluster.local', '10.96.0.10'), forwarder, log });
    const p2 = await s2.start();
    try {
      const waiting = [1, 2].map((id) => udpQuery('127.0.0.1', p2, { id, type: 'query', questions: [{ type: 'A', name: `slow${id}.example` }] }, 3000));
      await new Promise((r) => setTimeout(r, 100));
      const third = await udpQuery('127.0.0.1', p2, { id: 3, type: 'query', questions: [{ type: 'A', name: 'third.example' }] });
      assert.equal(rcodeOf(third), 'REFUSED');
      for (const r of await Promise.all(waiting)) assert.equal(rcodeOf(r), 'SERVFAIL');
      assert.equal(forwarder.inFlight, 0);
    } finally {
      await s2.close();
      forwarder.close();
      silent.close();
    }
  });
});

describe('upstreams', () => {
  it('reads --upstream and resolv.conf', () => {
    assert.deepEqual(parseUpstreams('127.0.0.1:5353, 10.0.0.2,[::1]:54'), [{ host: '127.0.0.1', port: 5353 }, { host: '10.0.0.2', port: 53 }, { host: '::1', port: 54 }]);
    assert.throws(() => parseUpstreams('dns.example:53'), /invalid upstream/);
    assert.deepEqual(resolvConfUpstreams('# x\nnameserver 127.0.0.53\nsearch a\nnameserver fe80::1%eth0\n'), [{ host: '127.0.0.53', port: 53 }, { host: 'fe80::1', port: 53 }]);
  });
});
