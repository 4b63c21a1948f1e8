import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints } from '../../lib/api/core/endpoints.js';
import type { Service } from '../../lib/api/core/service.js';
import type { EndpointSlice } from '../../lib/api/discovery/endpointslice.js';
import { EndpointSlices } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { StaleInformerCacheError } from '../endpointslice/sync.js';
import { EndpointSliceTracker } from '../endpointslice/tracker.js';
import { endpointSlicePrefix } from './reconciler.js';
import { type MirroringSyncer, syncEndpoints } from './sync.js';

const svc = (selector?: Record<string, string>): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'db', namespace: 'ns', uid: 'svc-uid' },
  spec: { ports: [{ port: 5432, protocol: 'TCP' }], ...(selector ? { selector } : {}) },
});

function endpoints(subsets: Endpoints['subsets'], meta: Partial<Endpoints['metadata']> = {}): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'ns', uid: 'ep-uid', ...meta }, subsets };
}

const pgPorts = [{ name: 'pg', port: 5432, protocol: 'TCP' }];
const owner = { apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-uid', controller: true, blockOwnerDeletion: true };
const labels = { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' };

function stored(name: string, endpoints: EndpointSlice['endpoints'], o: { ports?: EndpointSlice['ports']; addressType?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '7', generation: 1, labels: o.labels ?? labels, annotations: o.annotations ?? {}, ownerReferences: [owner] },
    addressType: o.addressType ?? 'IPv4',
    endpoints,
    ports: o.ports ?? pgPorts,
  };
}

function syncer(services: Service[], eps: Endpoints[], slices: EndpointSlice[] = [], max?: number) {
  const client = new FakeClient();
  for (const s of slices) client.add(EndpointSlices, s);
  const recorder = new FakeRecorder();
  const s: MirroringSyncer = { client, services: listerOf(services), endpoints: listerOf(eps), slices: listerOf(slices), tracker: new EndpointSliceTracker(), recorder, maxEndpointsPerSubset: max };
  return { client, recorder, s };
}

const summary = (client: FakeClient) => client.writes().map((a) => `${a.verb} ${a.name}`);

describe('endpointslicemirroring syncEndpoints', () => {
  it('mirrors the Endpoints of a Service without a selector: labels, annotations, owner, ports and ready conditions as Kubernetes writes them', async () => {
    const ep = endpoints(
      [{ addresses: [{ ip: '192.0.2.10', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p', namespace: 'ns' } }], notReadyAddresses: [{ ip: '192.0.2.11', hostname: 'db-1' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }],
      { labels: { team: 'data' }, annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'endpoints.kubernetes.io/last-change-trigger-time': 't' } },
    );
    const { client, s } = syncer([svc()], [ep]);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual(summary(client), ['create db-']);
    assert.deepEqual(client.writes()[0]!.object, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { generateName: 'db-', namespace: 'ns', labels: { team: 'data', ...labels }, annotations: { note: 'x' }, ownerReferences: [owner] },
      addressType: 'IPv4',
      ports: pgPorts,
      endpoints: [
        { addresses: ['192.0.2.10'], conditions: { ready: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p', namespace: 'ns' } },
        { addresses: ['192.0.2.11'], conditions: { ready: false }, hostname: 'db-1' },
      ],
    });
  });

  it('writes one slice per subset and address family', async () => {
    const ep = endpoints([
      { addresses: [{ ip: '192.0.2.10' }, { ip: '2001:db8::a' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
      { addresses: [{ ip: '192.0.2.20' }], ports: [{ name: 'admin', port: 9000, protocol: 'TCP' }] },
    ]);
    const { client } = await (async () => {
      const x = syncer([svc()], [ep]);
      await syncEndpoints(x.s, 'ns/db');
      return x;
    })();
    const made = client.writes().map((a) => a.object as EndpointSlice).map((sl) => `${sl.addressType} ${sl.ports?.map((p) => p.port).join(',')} ${sl.endpoints?.flatMap((e) => e.addresses).join(',')}`);
    assert.deepEqual(made.sort(), ['IPv4 5432 192.0.2.10', 'IPv4 9000 192.0.2.20', 'IPv6 5432 2001:db8::a']);
  });

  it('writes nothing when the slice matches, and rewrites it in place (unconditionally, by name) when an address changes', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }]);
    const same = syncer([svc()], [ep], [stored('db-abcde', [{ addresses: ['192.0.2.10'], conditions: { ready: true } }])]);
    await syncEndpoints(same.s, 'ns/db');
    assert.deepEqual(summary(same.client), []);

    const moved = syncer([svc()], [ep], [stored('db-abcde', [{ addresses: ['192.0.2.99'], conditions: { ready: true } }])]);
    await syncEndpoints(moved.s, 'ns/db');
    assert.deepEqual(summary(moved.client), ['update db-abcde']);
    const slice = moved.client.writes()[0]!.object as EndpointSlice;
    assert.deepEqual(slice.endpoints, [{ addresses: ['192.0.2.10'], conditions: { ready: true } }]);
    assert.equal(slice.metadata.resourceVersion, undefined);

    const relabelled = syncer([svc()], [endpoints(ep.subsets, { labels: { team: 'data' } })], [stored('db-abcde', [{ addresses: ['192.0.2.10'], conditions: { ready: true } }])]);
    await syncEndpoints(relabelled.s, 'ns/db');
    assert.deepEqual(summary(relabelled.client), ['update db-abcde']);
  });

  it('reuses a slice whose ports changed instead of deleting it and creating another', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 6543, protocol: 'TCP' }] }]);
    const { client, s } = syncer([svc()], [ep], [stored('db-abcde', [{ addresses: ['192.0.2.10'], conditions: { ready: true } }])]);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual(summary(client), ['update db-abcde']);
    assert.deepEqual((client.writes()[0]!.object as EndpointSlice).ports, [{ name: 'pg', port: 6543, protocol: 'TCP' }]);
  });

  it('mirrors at most the limit per subset, ready addresses first, and says how many were skipped', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }], notReadyAddresses: [{ ip: '192.0.2.3' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }]);
    const { client, recorder, s } = syncer([svc()], [ep], [], 2);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual((client.writes()[0]!.object as EndpointSlice).endpoints?.map((e) => e.addresses?.[0]), ['192.0.2.1', '192.0.2.2']);
    assert.deepEqual(recorder.events, ['Warning TooManyAddressesToMirror A max of 2 addresses can be mirrored to EndpointSlices per Endpoints subset. 1 addresses were skipped']);
  });

  it('deletes the mirrored slices when the Service gains a selector, the Service or Endpoints go, or the Endpoints are marked skip-mirror', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }]);
    const mirrored = stored('db-abcde', [{ addresses: ['192.0.2.10'], conditions: { ready: true } }]);
    const other = stored('db-fromctl', [], { labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } });
    const cases: [Service[], Endpoints[]][] = [
      [[svc({ app: 'db' })], [ep]],
      [[], [ep]],
      [[svc()], []],
      [[svc()], [endpoints(ep.subsets, { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } })]],
      [[svc()], [endpoints(ep.subsets, { annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } })]],
    ];
    for (const [services, eps] of cases) {
      const { client, s } = syncer(services, eps, [mirrored, other]);
      await syncEndpoints(s, 'ns/db');
      assert.deepEqual(summary(client), ['delete db-abcde']);
    }
  });

  it('deletes a mirrored slice whose Endpoints lost all addresses of its family', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }]);
    const v6 = stored('db-v6', [{ addresses: ['2001:db8::a'], conditions: { ready: true } }], { addressType: 'IPv6' });
    const v4 = stored('db-v4', [{ addresses: ['192.0.2.10'], conditions: { ready: true } }]);
    const { client, s } = syncer([svc()], [ep], [v4, v6]);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual(summary(client), ['delete db-v6']);
  });

  it('records InvalidIPAddress for addresses that are not IPs and mirrors the rest', async () => {
    const ep = endpoints([{ addresses: [{ ip: 'not-an-ip' }, { ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }]);
    const { client, recorder, s } = syncer([svc()], [ep]);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual((client.writes()[0]!.object as EndpointSlice).endpoints?.map((e) => e.addresses?.[0]), ['192.0.2.10']);
    assert.deepEqual(recorder.events, ['Warning InvalidIPAddress Skipped 1 invalid IP addresses when mirroring to EndpointSlices']);
  });

  it('refuses to act on a slice cache that has not seen its own create, so no second slice is made', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }]);
    const { client, s } = syncer([svc()], [ep]);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual(summary(client), ['create db-']);
    await assert.rejects(syncEndpoints(s, 'ns/db'), StaleInformerCacheError);
    assert.deepEqual(summary(client), ['create db-']);
  });

  it('creates nothing for Endpoints being deleted', async () => {
    const ep = endpoints([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }], { deletionTimestamp: '2024-01-01T00:00:00Z' });
    const { client, s } = syncer([svc()], [ep]);
    await syncEndpoints(s, 'ns/db');
    assert.deepEqual(summary(client), []);
  });

  it('names slices after the Endpoints, or by the bare name when `name-` would be too long', () => {
    assert.equal(endpointSlicePrefix('db'), 'db-');
    const long = 'a'.repeat(253);
    assert.equal(endpointSlicePrefix(long), long);
  });
});
