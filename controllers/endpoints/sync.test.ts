import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints as EndpointsObject } from '../../lib/api/core/endpoints.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { Endpoints } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { podEventHandler } from '../common/endpoints.js';
import { namespaceTerminatingError } from '../common/errors.js';
import { computeSubsets, newEndpointsSyncer, syncService, truncateEndpoints } from './sync.js';

function svc(name: string, over: Partial<Service['spec']> = {}, labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'ns', uid: `svc-${name}`, ...(labels ? { labels } : {}) },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...over },
  };
}

interface PodOpts {
  ip?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  ports?: { name: string; containerPort: number }[];
  deleting?: boolean;
  phase?: string;
  node?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'c', ports: (o.ports ?? []).map((p) => ({ ...p, protocol: 'TCP' })) }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? '10.244.0.1', podIPs: [{ ip: o.ip ?? '10.244.0.1' }] }),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

const ref = (name: string) => ({ kind: 'Pod', namespace: 'ns', name, uid: `uid-${name}` });

function setup(services: Service[], pods: Pod[], endpoints: EndpointsObject[] = []) {
  const client = new FakeClient();
  for (const e of endpoints) client.add(Endpoints, e);
  const recorder = new FakeRecorder();
  const syncer = newEndpointsSyncer({ client, services: listerOf(services), pods: listerOf(pods), endpoints: listerOf(endpoints), recorder });
  return { client, recorder, syncer };
}

describe('endpoints syncService', () => {
  it('creates Endpoints with ready and not-ready addresses of the selected pods', async () => {
    const pods = [
      pod('a', { ip: '10.244.0.2', node: 'n1' }),
      pod('b', { ip: '10.244.0.3', ready: false }),
      pod('other', { ip: '10.244.0.9', labels: { app: 'db' } }),
      pod('noip', { ip: '' }),
      pod('done', { ip: '10.244.0.7', phase: 'Succeeded' }),
      pod('going', { ip: '10.244.0.8', deleting: true }),
    ];
    const { client, syncer } = setup([svc('web', {}, { tier: 'front' })], pods);
    await syncService(syncer, 'ns/web');
    assert.deepEqual(client.writes().map((a) => `${a.verb} ${a.resource} ${a.namespace}/${a.name}`), ['create endpoints ns/web']);
    const ep = client.writes()[0]!.object as EndpointsObject;
    assert.deepEqual(ep.metadata.labels, { tier: 'front' });
    assert.deepEqual(ep.subsets, [
      {
        addresses: [{ ip: '10.244.0.2', nodeName: 'n1', targetRef: ref('a') }],
        notReadyAddresses: [{ ip: '10.244.0.3', targetRef: ref('b') }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('resolves a named targetPort per pod, splitting subsets by port number and skipping pods without it', async () => {
    const service = svc('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }] });
    const pods = [
      pod('a', { ip: '10.244.0.2', ports: [{ name: 'web', containerPort: 8080 }] }),
      pod('b', { ip: '10.244.0.3', ports: [{ name: 'web', containerPort: 9090 }] }),
      pod('c', { ip: '10.244.0.4', ports: [{ name: 'metrics', containerPort: 9100 }] }),
    ];
    const { subsets } = computeSubsets(service, pods);
    assert.deepEqual(subsets, [
      { addresses: [{ ip: '10.244.0.2', targetRef: ref('a') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.244.0.3', targetRef: ref('b') }], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }] },
    ]);
  });

  it('publishes not-ready and terminating pods as ready with publishNotReadyAddresses', () => {
    const service = svc('web', { publishNotReadyAddresses: true });
    const { subsets } = computeSubsets(service, [pod('a', { ip: '10.244.0.2', ready: false }), pod('b', { ip: '10.244.0.3', deleting: true })]);
    assert.deepEqual(subsets, [
      { addresses: [{ ip: '10.244.0.2', targetRef: ref('a') }, { ip: '10.244.0.3', targetRef: ref('b') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('lists bare addresses for a headless Service without ports and labels it headless', async () => {
    const { client, syncer } = setup([svc('h', { clusterIP: 'None', ports: [] })], [pod('a', { ip: '10.244.0.2' })]);
    await syncService(syncer, 'ns/h');
    const ep = client.writes()[0]!.object as EndpointsObject;
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '10.244.0.2', targetRef: ref('a') }] }]);
    assert.deepEqual(ep.metadata.labels, { 'service.kubernetes.io/headless': '' });
  });

  it('writes nothing when the stored Endpoints already match', async () => {
    const service = svc('web');
    const pods = [pod('a', { ip: '10.244.0.2' }), pod('b', { ip: '10.244.0.3', ready: false })];
    const current: EndpointsObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'ns', resourceVersion: '5' },
      // Key order and a targetRef resourceVersion must not count as a difference.
      subsets: [
        {
          ports: [{ protocol: 'TCP', port: 8080, name: 'http' }],
          notReadyAddresses: [{ targetRef: { ...ref('b'), resourceVersion: '77' }, ip: '10.244.0.3' }],
          addresses: [{ ip: '10.244.0.2', targetRef: ref('a') }],
        },
      ],
    };
    const { client, syncer } = setup([service], pods, [current]);
    await syncService(syncer, 'ns/web');
    assert.deepEqual(client.writes(), []);
  });

  it('updates the Endpoints when a pod turns ready, and does not act on the stale cached copy afterwards', async () => {
    const service = svc('web');
    const current: EndpointsObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'ns', resourceVersion: '5' },
      subsets: [{ notReadyAddresses: [{ ip: '10.244.0.2', targetRef: ref('a') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    };
    const client = new FakeClient().add(Endpoints, current);
    const syncer = newEndpointsSyncer({ client, services: listerOf([service]), pods: listerOf([pod('a', { ip: '10.244.0.2' })]), endpoints: listerOf([current]), recorder: new FakeRecorder() });
    await syncService(syncer, 'ns/web');
    assert.deepEqual(client.writes().map((a) => a.verb), ['update']);
    assert.deepEqual((client.writes()[0]!.object as EndpointsObject).subsets, [{ addresses: [{ ip: '10.244.0.2', targetRef: ref('a') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }]);
    // The cache still shows the version just replaced: the next sync must wait for the informer
    // (whose event for this very write brings the Service back) instead of writing again.
    client.clearActions();
    await syncService(syncer, 'ns/web');
    assert.deepEqual(client.actions, []);
  });

  it('leaves the Endpoints of a Service without a selector alone', async () => {
    const current: EndpointsObject = { metadata: { name: 'manual', namespace: 'ns', resourceVersion: '3' }, subsets: [{ addresses: [{ ip: '192.168.1.1' }] }] };
    const { client, syncer } = setup([svc('manual', { selector: undefined })], [pod('a')], [current]);
    await syncService(syncer, 'ns/manual');
    assert.deepEqual(client.writes(), []);
  });

  it('never touches default/kubernetes', async () => {
    const kubernetes: Service = { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { selector: { component: 'apiserver' }, ports: [{ port: 443 }] } };
    const client = new FakeClient();
    const syncer = newEndpointsSyncer({ client, services: listerOf([kubernetes]), pods: listerOf([]), endpoints: listerOf([]), recorder: new FakeRecorder() });
    await syncService(syncer, 'default/kubernetes');
    assert.deepEqual(client.actions, []);
  });

  it('deletes the Endpoints of a deleted Service, tolerating that they are gone already', async () => {
    const current: EndpointsObject = { metadata: { name: 'web', namespace: 'ns' } };
    const { client, syncer } = setup([], [], [current]);
    await syncService(syncer, 'ns/web');
    assert.deepEqual(client.writes().map((a) => `${a.verb} ${a.namespace}/${a.name}`), ['delete ns/web']);
    await syncService(syncer, 'ns/web');
  });

  it('records FailedToCreateEndpoint and retries when the create fails', async () => {
    const { client, recorder, syncer } = setup([svc('web')], [pod('a')]);
    client.failOn('create', 'endpoints', new Error('boom'));
    await assert.rejects(syncService(syncer, 'ns/web'), /boom/);
    assert.deepEqual(recorder.events, ['Warning FailedToCreateEndpoint Failed to create endpoint for service ns/web: boom']);
  });

  it('a create that meets Endpoints the cache does not show yet reports no failure and waits for the cache', async () => {
    // The apiserver has them (this controller's own create a moment ago); the cache does not yet.
    const { client, recorder, syncer } = setup([svc('web')], [pod('a')]);
    client.add(Endpoints, { metadata: { name: 'web', namespace: 'ns' } });
    await syncService(syncer, 'ns/web');
    assert.deepEqual(recorder.events, []);
    assert.deepEqual(client.writes().map((a) => a.verb), ['create']);
  });

  it('drops a create refused because the namespace is terminating, without an event', async () => {
    const { client, recorder, syncer } = setup([svc('web')], [pod('a')]);
    client.failOn('create', 'endpoints', namespaceTerminatingError('endpoints', 'ns', 'web'));
    await syncService(syncer, 'ns/web');
    assert.deepEqual(recorder.events, []);
  });

  it('truncates beyond 1000 addresses, ready ones first', () => {
    const addrs = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.${base}.${Math.floor(i / 250)}.${i % 250}` }));
    const ep: EndpointsObject = { metadata: { name: 'x' }, subsets: [{ addresses: addrs(900, 1), notReadyAddresses: addrs(300, 2) }] };
    assert.equal(truncateEndpoints(ep), true);
    assert.equal(ep.subsets![0]!.addresses!.length, 900);
    assert.equal(ep.subsets![0]!.notReadyAddresses!.length, 100);
  });
});

describe('podEventHandler', () => {
  it('enqueues old and new Services on a relabel and nothing for an irrelevant update', () => {
    const services = listerOf([svc('web'), svc('db', { selector: { app: 'db' } }), svc('manual', { selector: undefined })]);
    let keys: string[] = [];
    const h = podEventHandler(services, (k) => keys.push(k));
    const took = (f: () => void): string[] => {
      keys = [];
      f();
      return keys.sort();
    };
    const p = pod('a');
    const annotated = { ...p, metadata: { ...p.metadata, annotations: { x: 'y' } } };
    const relabelled = { ...p, metadata: { ...p.metadata, labels: { app: 'db' } } };
    assert.deepEqual(took(() => h.onAdd!(p)), ['ns/web']);
    assert.deepEqual(took(() => h.onUpdate!(p, annotated)), []);
    assert.deepEqual(took(() => h.onUpdate!(annotated, relabelled)), ['ns/db', 'ns/web']);
    // The delete event carries the pod as last seen: the Services that select it then.
    assert.deepEqual(took(() => h.onDelete!(relabelled)), ['ns/db']);
  });
});
