import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { service } from './fixtures.js';
import { loadBalancerIngressPatch } from './status.js';

describe('loadBalancerIngressPatch', () => {
  const port = [{ port: 80, targetPort: 80, protocol: 'TCP', nodePort: 30080 }];
  it('gives a LoadBalancer Service the nodes\' addresses, sorted, once', () => {
    const svc = service('default', 'lb', '10.116.0.1', port, { type: 'LoadBalancer' });
    assert.deepEqual(loadBalancerIngressPatch(svc, ['10.245.0.2', '10.245.0.1']), { status: { loadBalancer: { ingress: [{ ip: '10.245.0.1', ipMode: 'VIP' }, { ip: '10.245.0.2', ipMode: 'VIP' }] } } });
    const done = service('default', 'lb', '10.116.0.1', port, { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '10.245.0.2' }, { ip: '10.245.0.1' }] } });
    assert.equal(loadBalancerIngressPatch(done, ['10.245.0.1', '10.245.0.2']), undefined);
  });
  it('leaves other types, other load-balancer classes and a cluster without node addresses alone', () => {
    assert.equal(loadBalancerIngressPatch(service('default', 'np', '10.116.0.1', port, { type: 'NodePort' }), ['10.245.0.1']), undefined);
    assert.equal(loadBalancerIngressPatch(service('default', 'lb', '10.116.0.1', port, { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' }), ['10.245.0.1']), undefined);
    assert.equal(loadBalancerIngressPatch(service('default', 'lb', '10.116.0.1', port, { type: 'LoadBalancer' }), []), undefined);
  });
});
