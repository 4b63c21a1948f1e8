import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../lib/api/core/service.js';
import { Services } from '../lib/client/resources.js';
import { newLogger } from '../lib/log.js';
import { FakeClient } from '../lib/testing/fakeclient.js';
import { desiredKubeDNS, ensureKubeDNS } from './selfservice.js';

const log = newLogger('dns-test', 0);
const want = desiredKubeDNS({ clusterIP: '10.96.0.10', address: '192.168.1.5', port: 5353 });
const verbs = (c: FakeClient) => c.writes().map((a) => `${a.verb} ${a.resource}`);

describe('ensureKubeDNS', () => {
  it('creates the selector-less Service, skip-mirror Endpoints and its own slice, then writes nothing more', async () => {
    const c = new FakeClient();
    await ensureKubeDNS(c, want, log);
    assert.deepEqual(verbs(c), ['create services', 'create endpoints', 'create endpointslices']);
    assert.equal(want.service.spec.selector, undefined);
    assert.equal(want.endpoints.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'], 'true');
    assert.deepEqual(want.slice.endpoints, [{ addresses: ['192.168.1.5'], conditions: { ready: true, serving: true, terminating: false } }]);
    c.clearActions();
    await ensureKubeDNS(c, want, log);
    assert.deepEqual(verbs(c), []);
  });

  it('moves an existing Service to its ports without touching its ClusterIP, and drops a selector', async () => {
    const old: Service = { ...want.service, metadata: { ...want.service.metadata, resourceVersion: '1' }, spec: { clusterIP: '10.96.0.99', selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 }] } };
    const c = new FakeClient().add(Services, old);
    await ensureKubeDNS(c, want, log, { endpoints: false });
    assert.deepEqual(verbs(c), ['update services']);
    const updated = c.writes()[0]!.object as Service;
    assert.equal(updated.spec.clusterIP, '10.96.0.99');
    assert.equal(updated.spec.selector, undefined);
    assert.deepEqual(updated.spec.ports, want.service.spec.ports);
  });
});
