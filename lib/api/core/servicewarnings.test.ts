import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceWarnings } from './servicewarnings.js';

test('serviceWarnings: kube-apiserver texts for deprecated hints, leading-zero IPv4 and non-canonical IPv6', () => {
  const svc = {
    metadata: { name: 's', annotations: { 'service.kubernetes.io/topology-aware-hints': 'auto' } },
    spec: {
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      externalIPs: ['010.1.2.3', '2001:DB8:0:0:0:0:0:1', '2001:db8::2', '::ffff:1.2.3.4'],
      loadBalancerSourceRanges: ['2001:db8:0::/64', '10.0.0.0/8'],
    },
  };
  assert.deepEqual(serviceWarnings(svc), [
    'annotation service.kubernetes.io/topology-aware-hints is deprecated, please use service.kubernetes.io/topology-mode instead',
    'spec.externalIPs[0]: IP address was accepted, but will be invalid in a future Kubernetes release: ParseAddr("010.1.2.3"): IPv4 field has octet with leading zero',
    'spec.externalIPs[1]: IPv6 address "2001:DB8:0:0:0:0:0:1" is not in RFC 5952 canonical format ("2001:db8::1"), which may cause controller apply-loops',
    'spec.loadBalancerSourceRanges[0]: IPv6 prefix "2001:db8:0::/64" is not in RFC 5952 canonical format ("2001:db8::/64"), which may cause controller apply-loops',
  ]);
  assert.deepEqual(serviceWarnings({ metadata: { name: 'h' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } }), []);
});
