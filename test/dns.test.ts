// skiff-dns end to end: a real apiserver, the real skiff-dns process (the `dns` component, on a
// free loopback port it publishes in the kube-dns EndpointSlice) and a fake upstream resolver
// on 127.0.0.1, so nothing is ever forwarded off this machine. Objects are written through the
// API and asked for over UDP and TCP with dns-packet.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as packet from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { type Cluster, startCluster } from './harness.js';
import { rcodeOf, tcpQuery, udpQuery } from '../dns/server.js';

/** fakeUpstream answers every question over UDP and TCP with 192.0.2.53, and records the names. */
async function fakeUpstream(): Promise<{ port: number; got: string[]; close(): void }> {
  const got: string[] = [];
  const reply = (m: Buffer) => {
    const q = packet.decode(m);
    got.push(q.questions![0]!.name);
    return packet.encode({ id: q.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 60, data: '192.0.2.53' }] });
  };
  const tcp = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (d) => s.end(packet.streamEncode(packet.decode(reply(d.subarray(2))))));
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udp.send(reply(m), r.port, r.address));
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()));
  return { port, got, close: () => (udp.close(), tcp.close()) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('skiff-dns', () => {
  let cluster: Cluster;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let port = 0;
  let id = 1;
  const ask = (name: string, type: RecordType, via = udpQuery): Promise<DecodedPacket> => via('127.0.0.1', port, { id: id++, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ type, name }] });
  const data = (r: DecodedPacket) => r.answers!.map((a) => ('data' in a ? a.data : undefined));
  /** until asks again until check passes (each answer is one watch round-trip later), or gives up. */
  async function until(name: string, type: RecordType, check: (r: DecodedPacket) => boolean): Promise<DecodedPacket> {
    let r: DecodedPacket | undefined;
    for (let i = 0; i < 300; i++) {
      r = await ask(name, type);
      if (check(r)) return r;
      await sleep(100);
    }
    assert.fail(`${name} ${type}: last answer ${rcodeOf(r!)} ${JSON.stringify(r?.answers)}\n${cluster.logs('dns')}`);
  }
  const create = async (path: string, body: object) => {
    const r = await cluster.request(path, { method: 'POST', body });
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body) as { spec?: { clusterIP?: string } };
  };

  before(async () => {
    upstream = await fakeUpstream();
    cluster = await startCluster({ components: ['etcd', 'apiserver', 'dns'], extraArgs: { dns: [`--upstream=127.0.0.1:${upstream.port}`] } });
    // skiff-dns publishes where it answers in its EndpointSlice; the test finds it there.
    for (let i = 0; i < 300 && !port; i++) {
      const r = await cluster.request('/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns-skiff-dns');
      if (r.status === 200) port = (JSON.parse(r.body) as { ports: { port: number }[] }).ports[0]!.port;
      else await sleep(100);
    }
    assert.ok(port, `no kube-dns EndpointSlice\n${cluster.logs('dns')}`);
  });
  after(async () => {
    await cluster?.stop();
    upstream?.close();
  });

  it('publishes kube-dns at 10.96.0.10 with 53/UDP and 53/TCP and no selector, and answers its own name', async () => {
    const r = await cluster.request('/api/v1/namespaces/kube-system/services/kube-dns');
    const svc = JSON.parse(r.body) as { spec: { clusterIP: string; selector?: object; ports: { name: string; port: number; protocol: string; targetPort: number }[] } };
    assert.equal(svc.spec.clusterIP, '10.96.0.10');
    assert.equal(svc.spec.selector, undefined);
    assert.deepEqual(svc.spec.ports.map((p) => [p.name, p.protocol, p.port, p.targetPort]), [['dns', 'UDP', 53, port], ['dns-tcp', 'TCP', 53, port]]);
    const a = await until('kube-dns.kube-system.svc.cluster.local', 'A', (x) => x.answers!.length > 0);
    assert.deepEqual(data(a), ['10.96.0.10']);
  });

  it('answers a new Service within a watch round-trip: A, SRV, PTR, over UDP and TCP', async () => {
    const made = await create('/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    const ip = made.spec!.clusterIP!;
    const a = await until('web.default.svc.cluster.local', 'A', (x) => x.answers!.length > 0);
    assert.deepEqual(data(a), [ip]);
    assert.equal(a.flag_aa, true);
    assert.equal((a.answers![0] as { ttl?: number }).ttl, 30);
    assert.deepEqual(data(await ask('WEB.default.svc.cluster.local', 'A', tcpQuery)), [ip]);
    const srv = await ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(srv), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    const ptr = await ask(`${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
    assert.deepEqual(data(ptr), ['web.default.svc.cluster.local']);
  });

  it('answers a headless Service with its ready endpoints and their hostnames', async () => {
    await create('/api/v1/namespaces/default/services', { metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] } });
    await create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.244.0.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.0.6'], hostname: 'db-1', conditions: { ready: false } },
      ],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    });
    const a = await until('db.default.svc.cluster.local', 'A', (x) => x.answers!.length > 0);
    assert.deepEqual(data(a), ['10.244.0.5']);
    assert.deepEqual(data(await ask('db-0.db.default.svc.cluster.local', 'A')), ['10.244.0.5']);
    assert.equal(rcodeOf(await ask('db-1.db.default.svc.cluster.local', 'A')), 'NXDOMAIN');
    const srv = await ask('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(srv).map((d) => (d as { target: string }).target), ['db-0.db.default.svc.cluster.local']);
  });

  it('answers an ExternalName Service with a CNAME, followed through the upstream for an address', async () => {
    await create('/api/v1/namespaces/default/services', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    const r = await until('ext.default.svc.cluster.local', 'A', (x) => x.answers!.length > 0);
    assert.deepEqual(r.answers!.map((x) => [x.type, 'data' in x && x.data]), [['CNAME', 'db.example.com'], ['A', '192.0.2.53']]);
    const cname = await ask('ext.default.svc.cluster.local', 'CNAME');
    assert.deepEqual(cname.answers!.map((x) => [x.type, 'data' in x && x.data]), [['CNAME', 'db.example.com']]);
  });

  it('says NXDOMAIN with the SOA for names in the zone that do not exist, NODATA for a missing type', async () => {
    const nx = await ask('nothing.default.svc.cluster.local', 'A');
    assert.equal(rcodeOf(nx), 'NXDOMAIN');
    assert.equal(nx.authorities![0]!.type, 'SOA');
    assert.equal(nx.authorities![0]!.ttl, 5);
    const nodata = await ask('kube-dns.kube-system.svc.cluster.local', 'AAAA');
    assert.equal(rcodeOf(nodata), 'NOERROR');
    assert.equal(nodata.answers!.length, 0);
  });

  it('forwards other names to the upstream, over UDP and TCP', async () => {
    for (const via of [udpQuery, tcpQuery]) {
      const name = via === udpQuery ? 'over-udp.example.org' : 'over-tcp.example.org';
      const r = await ask(name, 'A', via);
      assert.equal(rcodeOf(r), 'NOERROR');
      assert.deepEqual(data(r), ['192.0.2.53']);
      assert.ok(upstream.got.includes(name), upstream.got.join(','));
    }
  });

  it('answers garbage with FORMERR and keeps serving', async () => {
    const s = dgram.createSocket('udp4');
    const reply = await new Promise<Buffer>((res) => {
      s.on('message', (m) => res(m));
      s.send(Buffer.from('ab\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xffgarbage', 'latin1'), port, '127.0.0.1');
    });
    s.close();
    assert.equal(rcodeOf(packet.decode(reply)), 'FORMERR');
    assert.equal(packet.decode(reply).id, 0x6162);
    assert.equal(rcodeOf(await ask('web.default.svc.cluster.local', 'A')), 'NOERROR');
  });

  it('forgets a deleted Service', async () => {
    const r = await cluster.request('/api/v1/namespaces/default/services/web', { method: 'DELETE' });
    assert.equal(r.status, 200, r.body);
    await until('web.default.svc.cluster.local', 'A', (x) => rcodeOf(x) === 'NXDOMAIN');
  });
});
