import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import type { EndpointSlice } from '../../lib/api/discovery/endpointslice.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { EndpointSlices } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { newEndpointSlice, planSlices } from './reconciler.js';
import { type EndpointSliceSyncer, MissingNodesError, StaleInformerCacheError, syncService } from './sync.js';
import { EndpointSliceTracker } from './tracker.js';

function svc(over: Partial<Service['spec']> = {}, meta: Partial<Service['metadata']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels: { tier: 'front' }, ...meta },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...over },
  };
}

function pod(name: string, o: { ip?: string; ready?: boolean; deleting?: boolean; node?: string; webPort?: number } = {}): Pod {
  const ip = o.ip ?? '10.244.0.1';
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'c', ports: o.webPort ? [{ name: 'web', containerPort: o.webPort, protocol: 'TCP' }] : [] }], ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

const ref = (name: string) => ({ kind: 'Pod', namespace: 'ns', name, uid: `uid-${name}` });
const labels = { tier: 'front', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' };
const owner = { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true };
const httpPort = [{ name: 'http', port: 8080, protocol: 'TCP' }];

function stored(name: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = httpPort, extra: Partial<EndpointSlice['metadata']> = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '10', generation: 1, labels, ownerReferences: [owner], ...extra },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

function syncer(services: Service[], pods: Pod[], slices: EndpointSlice[] = [], nodes: Node[] = []) {
  const client = new FakeClient();
  for (const s of slices) client.add(EndpointSlices, s);
  const recorder = new FakeRecorder();
  const waits: string[] = [];
  const s: EndpointSliceSyncer = {
    client,
    services: listerOf(services),
    pods: listerOf(pods),
    slices: listerOf(slices),
    nodes: listerOf(nodes),
    tracker: new EndpointSliceTracker(),
    recorder,
    waitingForNode: (key, ns) => waits.push(`${key}:${ns.join(',')}`),
  };
  return { client, recorder, s, waits };
}

const summary = (client: FakeClient) => client.writes().map((a) => `${a.verb} ${a.name}`);

describe('endpointslice syncService', () => {
  it('creates one slice with the conditions, labels, owner and ports Kubernetes sets', async () => {
    const pods = [pod('a', { ip: '10.244.0.2' }), pod('b', { ip: '10.244.0.3', ready: false }), pod('c', { ip: '10.244.0.4', deleting: true })];
    const { client, s } = syncer([svc()], pods);
    await syncService(s, 'ns/web');
    assert.deepEqual(summary(client), ['create web-']);
    const slice = client.writes()[0]!.object as EndpointSlice;
    assert.deepEqual(slice, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { generateName: 'web-', namespace: 'ns', labels, ownerReferences: [owner] },
      addressType: 'IPv4',
      ports: httpPort,
      endpoints: [
        { addresses: ['10.244.0.2'], conditions: { ready: true, serving: true, terminating: false }, targetRef: ref('a') },
        { addresses: ['10.244.0.3'], conditions: { ready: false, serving: false, terminating: false }, targetRef: ref('b') },
        { addresses: ['10.244.0.4'], conditions: { ready: false, serving: true, terminating: true }, targetRef: ref('c') },
      ],
    });
  });

  it('keeps one empty placeholder slice for a Service without endpoints, and reuses it once pods appear', async () => {
    const first = syncer([svc()], []);
    await syncService(first.s, 'ns/web');
    assert.deepEqual(summary(first.client), ['create web-']);
    assert.deepEqual((first.client.writes()[0]!.object as EndpointSlice).ports, []);

    const placeholder = stored('web-abcde', [], []);
    const again = syncer([svc()], [], [placeholder]);
    await syncService(again.s, 'ns/web');
    assert.deepEqual(summary(again.client), []);

    const filled = syncer([svc()], [pod('a', { ip: '10.244.0.2' })], [placeholder]);
    await syncService(filled.s, 'ns/web');
    assert.deepEqual(summary(filled.client), ['update web-abcde']);
    const slice = filled.client.writes()[0]!.object as EndpointSlice;
    assert.deepEqual(slice.ports, httpPort);
    assert.deepEqual(slice.endpoints?.map((e) => e.addresses), [['10.244.0.2']]);
    assert.equal(slice.metadata.resourceVersion, '10');
  });

  it('writes nothing when the slices already match, and updates only the slice whose endpoint changed', async () => {
    const pods = [pod('a', { ip: '10.244.0.2' }), pod('b', { ip: '10.244.0.3' })];
    const ep = (name: string, ip: string, ready: boolean) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false }, targetRef: ref(name) });
    const sliceA = stored('web-aaaaa', [ep('a', '10.244.0.2', true)]);
    const sliceB = stored('web-bbbbb', [ep('b', '10.244.0.3', true)]);
    const same = syncer([svc()], pods, [sliceA, sliceB]);
    await syncService(same.s, 'ns/web');
    assert.deepEqual(summary(same.client), []);

    const changed = syncer([svc()], [pods[0]!, pod('b', { ip: '10.244.0.3', ready: false })], [sliceA, sliceB]);
    await syncService(changed.s, 'ns/web');
    assert.deepEqual(summary(changed.client), ['update web-bbbbb']);
    assert.deepEqual((changed.client.writes()[0]!.object as EndpointSlice).endpoints, [ep('b', '10.244.0.3', false)]);
  });

  it('splits 250 endpoints into slices of at most 100', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, { ip: `10.244.${Math.floor(i / 200)}.${(i % 200) + 2}` }));
    const plan = planSlices({ svc: svc(), pods, existing: [], nodeOf: () => undefined });
    assert.deepEqual(plan.toCreate.map((s) => s.endpoints?.length), [100, 100, 50]);
    assert.equal(new Set(plan.toCreate.flatMap((s) => s.endpoints!.map((e) => e.targetRef!.name))).size, 250);
  });

  it('puts pods whose named targetPort resolves to different numbers into different slices', () => {
    const service = svc({ ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }] });
    const plan = planSlices({ svc: service, pods: [pod('a', { ip: '10.244.0.2', webPort: 8080 }), pod('b', { ip: '10.244.0.3', webPort: 9090 }), pod('c', { ip: '10.244.0.4' })], existing: [], nodeOf: () => undefined });
    const got = plan.toCreate.map((s) => ({ ports: s.ports?.map((p) => p.port), pods: s.endpoints?.map((e) => e.targetRef?.name) })).sort((x, y) => (x.ports?.[0] ?? 0) - (y.ports?.[0] ?? 0));
    // The pod without the port still gets an endpoint, in a slice with no ports (as kube does).
    assert.deepEqual(got, [
      { ports: [], pods: ['c'] },
      { ports: [8080], pods: ['a'] },
      { ports: [9090], pods: ['b'] },
    ]);
  });

  it('replaces slices left by an earlier Service of the same name', async () => {
    const old = stored('web-old00', [], httpPort, { ownerReferences: [{ ...owner, uid: 'old-uid' }] });
    const { client, s } = syncer([svc()], [pod('a', { ip: '10.244.0.2' })], [old]);
    await syncService(s, 'ns/web');
    assert.deepEqual(summary(client), ['create web-', 'delete web-old00']);
  });

  it('waits for the cache after its own create instead of creating twice', async () => {
    const { client, s } = syncer([svc()], [pod('a', { ip: '10.244.0.2' })]);
    await syncService(s, 'ns/web');
    await assert.rejects(syncService(s, 'ns/web'), StaleInformerCacheError);
    assert.equal(client.writes().length, 1);
  });

  it('deletes the slices of a deleted Service, and forgets the Service once their deletion is seen', async () => {
    const slice = stored('web-aaaaa', []);
    const { client, s } = syncer([], [], [slice]);
    await syncService(s, 'ns/web');
    assert.deepEqual(summary(client), ['delete web-aaaaa']);
    assert.equal(s.tracker.handleDeletion(slice), true, 'its own deletion is expected');
    assert.equal(s.tracker.trackedServices, 0);
  });

  it('leaves pods on an unknown Node out, retries, and says which Node it waits for', async () => {
    const node: Node = { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } };
    const { client, s, waits } = syncer([svc()], [pod('a', { ip: '10.244.0.2', node: 'n1' }), pod('b', { ip: '10.244.0.3', node: 'gone' })], [], [node]);
    await assert.rejects(syncService(s, 'ns/web'), MissingNodesError);
    const slice = client.writes()[0]!.object as EndpointSlice;
    assert.deepEqual(slice.endpoints, [{ addresses: ['10.244.0.2'], conditions: { ready: true, serving: true, terminating: false }, targetRef: ref('a'), nodeName: 'n1', zone: 'z1' }]);
    assert.deepEqual(waits, ['ns/web:gone']);
  });

  it('leaves Services without a selector alone', async () => {
    const { client, s } = syncer([svc({ selector: undefined })], [pod('a')], [stored('web-aaaaa', [])]);
    await syncService(s, 'ns/web');
    assert.deepEqual(client.actions, []);
  });

  it('records FailedToUpdateEndpointSlices when a write fails', async () => {
    const { client, recorder, s } = syncer([svc()], [pod('a')]);
    client.failOn('create', 'endpointslices', new Error('boom'));
    await assert.rejects(syncService(s, 'ns/web'));
    assert.deepEqual(recorder.events, ['Warning FailedToUpdateEndpointSlices Error updating Endpoint Slices for Service ns/web: failed to create EndpointSlice for Service ns/web: boom']);
  });

  it('makes placeholders comparable to stored ones', () => {
    assert.deepEqual(newEndpointSlice(svc(), [], 'IPv4').metadata.labels, labels);
  });
});
