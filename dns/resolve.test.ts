import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { ClusterIndex } from './records.js';
import { type Answered, defaultResolveConfig, podIP, resolve, reverseIP } from './resolve.js';

const svc = (namespace: string, name: string, spec: Service['spec']): Service => ({ metadata: { namespace, name }, spec });
const slice = (namespace: string, service: string, name: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = []): EndpointSlice => ({
  metadata: { namespace, name, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ports,
});

function cluster(): ClusterIndex {
  const idx = new ClusterIndex('cluster.local');
  idx.upsertService(svc('default', 'web', { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }] }));
  idx.upsertService(svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  idx.upsertSlice(slice('default', 'db', 'db-abc', [
    { addresses: ['10.244.0.5'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.244.0.6'], conditions: { ready: true } },
    { addresses: ['10.244.0.7'], hostname: 'db-2', conditions: { ready: false } },
  ], [{ name: 'pg', protocol: 'TCP', port: 5432 }]));
  idx.upsertService(svc('default', 'ext', { type: 'ExternalName', externalName: 'Example.COM.' }));
  idx.upsertService(svc('other', 'empty', { clusterIP: 'None' }));
  return idx;
}

const cfg = defaultResolveConfig('cluster.local', '10.96.0.10');

function ask(idx: ClusterIndex, name: string, type: Parameters<typeof resolve>[3]): Answered {
  const r = resolve(idx, cfg, name, type);
  assert.equal(r.forward, false, `${name} ${type} was forwarded`);
  return r as Answered;
}
const data = (r: Answered) => r.answers.map((a) => ('data' in a ? a.data : undefined));

describe('resolve', () => {
  it('answers a ClusterIP Service with its address, case-insensitively, TTL 30, owner as asked', () => {
    const r = ask(cluster(), 'Web.Default.SVC.cluster.local.', 'A');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.answers, [{ type: 'A', name: 'Web.Default.SVC.cluster.local', ttl: 30, data: '10.96.0.20' }]);
  });

  it('answers NODATA with the SOA (TTL 5) when the name exists without the type', () => {
    const r = ask(cluster(), 'web.default.svc.cluster.local', 'AAAA');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(r.answers, []);
    assert.equal(r.authorities[0]!.type, 'SOA');
    assert.equal(r.authorities[0]!.ttl, 5);
  });

  it('answers NXDOMAIN with the SOA for names in the zone that do not exist', () => {
    for (const name of ['nope.default.svc.cluster.local', 'web.nons.svc.cluster.local', 'x.web.default.svc.cluster.local', 'foo.cluster.local', '_http._udp.web.default.svc.cluster.local', 'empty.other.svc.cluster.local']) {
      const r = ask(cluster(), name, 'A');
      assert.equal(r.rcode, 'NXDOMAIN', name);
      assert.equal(r.authorities[0]!.type, 'SOA', name);
    }
    // Empty non-terminals exist.
    for (const name of ['cluster.local', 'svc.cluster.local', 'default.svc.cluster.local', '_tcp.web.default.svc.cluster.local', 'pod.cluster.local']) {
      assert.equal(ask(cluster(), name, 'A').rcode, 'NOERROR', name);
    }
  });

  it('serves SRV per named port, with the Service as target and its address as glue', () => {
    const r = ask(cluster(), '_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(r), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    assert.deepEqual(r.additionals, [{ type: 'A', name: 'web.default.svc.cluster.local', ttl: 30, data: '10.96.0.20' }]);
    assert.deepEqual(data(ask(cluster(), 'web.default.svc.cluster.local', 'SRV')).map((d) => (d as { port: number }).port), [80, 53]);
  });

  it('answers a headless Service with every ready endpoint, and each endpoint by hostname', () => {
    const idx = cluster();
    assert.deepEqual(data(ask(idx, 'db.default.svc.cluster.local', 'A')), ['10.244.0.5', '10.244.0.6']);
    assert.deepEqual(data(ask(idx, 'db-0.db.default.svc.cluster.local', 'A')), ['10.244.0.5']);
    assert.deepEqual(data(ask(idx, '10-244-0-6.db.default.svc.cluster.local', 'A')), ['10.244.0.6']);
    assert.equal(ask(idx, 'db-2.db.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    const srv = ask(idx, '_pg._tcp.db.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(srv).map((d) => (d as { target: string }).target), ['db-0.db.default.svc.cluster.local', '10-244-0-6.db.default.svc.cluster.local']);
    assert.equal(srv.additionals.length, 2);
  });

  it('follows endpoint changes: an endpoint going ready appears, a deleted slice empties the Service', () => {
    const idx = cluster();
    idx.upsertSlice(slice('default', 'db', 'db-abc', [{ addresses: ['10.244.0.7'], hostname: 'db-2', conditions: { ready: true } }]));
    assert.deepEqual(data(ask(idx, 'db.default.svc.cluster.local', 'A')), ['10.244.0.7']);
    idx.deleteSlice(slice('default', 'db', 'db-abc', []));
    assert.equal(ask(idx, 'db.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    idx.deleteService(svc('default', 'web', {}));
    assert.equal(ask(idx, 'web.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    assert.equal(resolve(idx, cfg, '20.0.96.10.in-addr.arpa', 'PTR').forward, true);
  });

  it('answers an ExternalName Service with a CNAME for any type', () => {
    for (const t of ['A', 'AAAA', 'CNAME'] as const) {
      assert.deepEqual(ask(cluster(), 'ext.default.svc.cluster.local', t).answers, [{ type: 'CNAME', name: 'ext.default.svc.cluster.local', ttl: 30, data: 'example.com' }]);
    }
  });

  it('answers pod names in "pods insecure" mode, without looking the pod up', () => {
    assert.deepEqual(data(ask(cluster(), '10-244-1-5.anyns.pod.cluster.local', 'A')), ['10.244.1.5']);
    assert.deepEqual(data(ask(cluster(), 'fd00--5.anyns.pod.cluster.local', 'AAAA')), ['fd00::5']);
    assert.equal(ask(cluster(), '10-244-1-999.anyns.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
    assert.equal(podIP('web'), undefined);
  });

  it('answers PTR for ClusterIPs and headless endpoints, and forwards reverse names it does not own', () => {
    assert.deepEqual(data(ask(cluster(), '20.0.96.10.in-addr.arpa.', 'PTR')), ['web.default.svc.cluster.local']);
    assert.deepEqual(data(ask(cluster(), '5.0.244.10.IN-ADDR.ARPA', 'PTR')), ['db-0.db.default.svc.cluster.local']);
    assert.equal(resolve(cluster(), cfg, '9.9.9.9.in-addr.arpa', 'PTR').forward, true);
    assert.equal(reverseIP('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'), 'fd00::1');
  });

  it('forwards every name outside the zone', () => {
    assert.equal(resolve(cluster(), cfg, 'example.com', 'A').forward, true);
    assert.equal(resolve(cluster(), cfg, 'notcluster.local', 'A').forward, true);
  });

  it('serves the schema version, the SOA and NS of the zone', () => {
    assert.deepEqual(data(ask(cluster(), 'dns-version.cluster.local', 'TXT')), ['1.1.0']);
    assert.equal(ask(cluster(), 'cluster.local', 'SOA').answers[0]!.type, 'SOA');
    const ns = ask(cluster(), 'cluster.local', 'NS');
    assert.deepEqual(data(ns), ['ns.dns.cluster.local']);
    assert.deepEqual(data(ask(cluster(), 'ns.dns.cluster.local', 'A')), ['10.96.0.10']);
  });
});
