import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointSliceFromEndpoints } from './bootstrap.js';

describe('endpointSliceFromEndpoints', () => {
  it('names the slice after the Endpoints, labels it with the service name only, and takes the first subset', () => {
    const slice = endpointSliceFromEndpoints({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [
        { addresses: [{ ip: '192.168.1.10' }], notReadyAddresses: [{ ip: '192.168.1.11', nodeName: 'n1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
        { addresses: [{ ip: '192.168.1.12' }], ports: [{ name: 'other', port: 1, protocol: 'TCP' }] },
      ],
    });
    assert.deepEqual(slice, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['192.168.1.10'], conditions: { ready: true } },
        { addresses: ['192.168.1.11'], conditions: { ready: false }, nodeName: 'n1' },
      ],
    });
  });

  it('is IPv6 only when every address is, and keeps only the addresses of its family', () => {
    const meta = { name: 'kubernetes', namespace: 'default' };
    const v6 = endpointSliceFromEndpoints({ metadata: meta, subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }] });
    assert.equal(v6.addressType, 'IPv6');
    const mixed = endpointSliceFromEndpoints({ metadata: meta, subsets: [{ addresses: [{ ip: 'fd00::1' }, { ip: '10.0.0.1' }], ports: [] }] });
    assert.equal(mixed.addressType, 'IPv4');
    assert.deepEqual(mixed.endpoints, [{ addresses: ['10.0.0.1'], conditions: { ready: true } }]);
  });

  it('has no endpoints and no ports for Endpoints without subsets', () => {
    const empty = endpointSliceFromEndpoints({ metadata: { name: 'kubernetes', namespace: 'default' } });
    assert.equal(empty.endpoints, null);
    assert.equal(empty.ports, undefined);
  });
});
