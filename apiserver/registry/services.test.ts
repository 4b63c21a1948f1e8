// The Service allocator's health check node ports, on in-memory storage: a LoadBalancer Service
// with externalTrafficPolicy Local gets one from the node port range (apart from its nodePorts), a
// requested one already held is refused with kube-apiserver's message, and the port is released
// when the policy turns Cluster or the Service is deleted.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../lib/api/meta.js';
import { MemoryStorage } from '../storage/memory.js';
import { ServiceAllocator, parseCIDR } from './services.js';
import type { RequestContext } from './store.js';

const ctx = {} as RequestContext;
type Svc = KubeObject & { spec: { type?: string; externalTrafficPolicy?: string; healthCheckNodePort?: number; ports: { port: number; nodePort?: number }[] } };
const lb = (uid: string, policy: string, healthCheckNodePort?: number): Svc => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: uid, namespace: 'default', uid },
  spec: { type: 'LoadBalancer', externalTrafficPolicy: policy, ports: [{ port: 80 }], ...(healthCheckNodePort ? { healthCheckNodePort } : {}) },
});

describe('ServiceAllocator health check node ports', () => {
  it('allocates, refuses a taken one, and releases on a policy change and on delete', async () => {
    // A small range, so a port released is soon needed again.
    const alloc = new ServiceAllocator(new MemoryStorage(), parseCIDR('10.96.0.0/24'), { min: 30000, max: 30004 });
    const a = lb('a', 'Local');
    await alloc.beforeCreate(a, ctx);
    const hc = a.spec.healthCheckNodePort!;
    assert.ok(hc >= 30000 && hc <= 30004);
    assert.notEqual(hc, a.spec.ports[0]!.nodePort);

    // Cluster policy: no health check port.
    const c = lb('c', 'Cluster');
    await alloc.beforeCreate(c, ctx);
    assert.equal(c.spec.healthCheckNodePort, undefined);

    // Asking for a's port: an internal error, as kube-apiserver answers, and nothing claimed.
    const b = lb('b', 'Local', hc);
    await assert.rejects(alloc.beforeCreate(b, ctx), (err: Error) => err.message.includes(`failed to allocate requested HealthCheck NodePort ${hc}: provided port is already allocated`));

    // a turns Cluster: its health check port is free again (the Service strategy drops the field).
    const prev = structuredClone(a);
    const next = structuredClone(a);
    next.spec.externalTrafficPolicy = 'Cluster';
    delete next.spec.healthCheckNodePort;
    await alloc.beforeUpdate(next, prev);
    await alloc.afterUpdate(next, prev);
    await alloc.afterDelete(c);
    const b2 = lb('b2', 'Local', hc);
    await alloc.beforeCreate(b2, ctx);
    assert.equal(b2.spec.healthCheckNodePort, hc);

    // Deleting b2 releases both of its ports.
    await alloc.afterDelete(b2);
    const d = lb('d', 'Local', hc);
    await alloc.beforeCreate(d, ctx);
    assert.equal(d.spec.healthCheckNodePort, hc);
  });
});
