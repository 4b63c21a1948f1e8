import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { service, slice, testNode } from './fixtures.js';
import { buildNftRules, chainsOf, emptyNftState, endpointChainBase, serviceChainBase } from './nftables.js';

// Golden files live beside the sources (proxy/testdata); UPDATE_GOLDEN=1 rewrites them.
const testdata = fileURLToPath(new URL('../../proxy/testdata/', import.meta.url));

function golden(name: string, text: string): void {
  const file = `${testdata}${name}.nft.golden`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'));
}

const tcp = (port: number, targetPort: number | string, name?: string, nodePort?: number) => ({ name, port, targetPort, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) });

describe('proxy buildNftRules (nftables mode)', () => {
  it('names chains as kube-proxy does', () => {
    // The examples in kube-proxy's pkg/proxy/nftables sources.
    assert.equal(serviceChainBase('ns1', 'svc1', 'tcp', 'p80'), 'ULMVA6XW-ns1/svc1/tcp/p80');
    assert.equal(endpointChainBase('ns1', 'svc1', 'tcp', 'p80', '10.180.0.1', 80), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });

  it('loadBalancerSourceRanges: a firewall chain drops other sources to the ingress IP, and goes with the ranges', () => {
    const edge = (ranges: string[]) =>
      service('default', 'edge', '10.116.0.20', [tcp(80, 8080, undefined, 30080)], { type: 'LoadBalancer', loadBalancerSourceRanges: ranges }, { loadBalancer: { ingress: [{ ip: '10.245.0.1' }] } });
    const slices = [slice('default', 'edge', [{ port: 8080 }], [{ ip: '10.245.1.3' }])];
    const state = emptyNftState();
    const first = buildNftRules([edge(['203.0.113.0/24', '10.245.0.0/16'])], slices, testNode, { previous: state });
    first.commit();
    const fw = `firewall-${serviceChainBase('default', 'edge', 'tcp', '')}`;
    // The node's own address is inside 10.245.0.0/16, so it is allowed too.
    assert.match(first.text, new RegExp(`^add rule ip kube-proxy ${fw.replace(/[/.]/g, '\\$&')} ip saddr != \\{ 203\\.0\\.113\\.0/24, 10\\.245\\.0\\.0/16, 10\\.245\\.0\\.1 \\} drop$`, 'm'));
    assert.match(first.text, new RegExp(`^add element ip kube-proxy firewall-ips \\{ 10\\.245\\.0\\.1 \\. tcp \\. 80 : goto ${fw.replace(/[/.]/g, '\\$&')} \\}$`, 'm'));
    assert.match(first.text, /^add rule ip kube-proxy cluster-ips-check ip daddr \{ 10\.116\.0\.0\/16 \} drop comment "Drop traffic to unallocated ClusterIPs"$/m);
    // The ranges removed: a partial sync deletes the element and the chain.
    const second = buildNftRules([edge([])], slices, testNode, { previous: state, changed: new Set(['default/edge']) });
    assert.match(second.text, /^delete element ip kube-proxy firewall-ips \{ 10\.245\.0\.1 \. tcp \. 80 \}$/m);
    assert.match(second.text, new RegExp(`^delete chain ip kube-proxy ${fw.replace(/[/.]/g, '\\$&')}$`, 'm'));
  });

  it('a full sync: the table, its maps and sets, a ClusterIP with three endpoints and a NodePort with none', () => {
    const r = buildNftRules(
      [
        service('default', 'web', '10.116.0.10', [tcp(80, 8080, 'http')]),
        service('default', 'empty', '10.116.0.30', [tcp(80, 80, undefined, 30030)], { type: 'NodePort' }),
      ],
      [
        slice('default', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.245.1.3' }, { ip: '10.245.1.2' }, { ip: '10.245.2.2' }]),
        slice('default', 'empty', [{ port: 80 }], [{ ip: '10.245.1.9', ready: false, serving: false }]),
      ],
      testNode,
    );
    golden('full', r.text);
    assert.equal(r.endpoints, 3);
    assert.match(r.text, /^add element ip kube-proxy service-ips \{ 10\.116\.0\.10 \. tcp \. 80 : goto service-\S+-default\/web\/tcp\/http \}$/m);
    assert.match(r.text, /^add element ip kube-proxy no-endpoint-nodeports \{ tcp \. 30030 comment "default\/empty" : goto reject-chain \}$/m);
    assert.match(r.text, /^add element ip kube-proxy no-endpoint-services \{ 10\.116\.0\.30 \. tcp \. 80 comment "default\/empty" : goto reject-chain \}$/m);
  });

  it('ClientIP affinity: a set per endpoint with the timeout, checked before the random pick, updated by it', () => {
    const r = buildNftRules(
      [service('default', 'sticky', '10.116.0.50', [tcp(80, 80)], { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } })],
      [slice('default', 'sticky', [{ port: 80 }], [{ ip: '10.245.1.20' }, { ip: '10.245.1.21' }])],
      testNode,
    );
    golden('affinity', r.text.split('\n').filter((l) => /affinity|sticky/.test(l)).join('\n') + '\n');
    assert.match(r.text, /flags dynamic,timeout ; timeout 600s/);
  });

  it('externalTrafficPolicy Local, internalTrafficPolicy Local, externalIPs and a LoadBalancer ingress', () => {
    const r = buildNftRules(
      [
        service('default', 'edge', '10.116.0.60', [tcp(80, 80, undefined, 30060)], { type: 'LoadBalancer', externalTrafficPolicy: 'Local', externalIPs: ['10.245.200.1'] }, { loadBalancer: { ingress: [{ ip: '10.245.0.1', ipMode: 'VIP' }] } }),
        service('default', 'near', '10.116.0.61', [tcp(80, 80)], { internalTrafficPolicy: 'Local' }),
        service('default', 'far', '10.116.0.62', [tcp(80, 80, undefined, 30062)], { type: 'NodePort', externalTrafficPolicy: 'Local' }),
      ],
      [
        slice('default', 'edge', [{ port: 80 }], [{ ip: '10.245.1.30', node: 'node-a' }, { ip: '10.245.2.30', node: 'node-b' }]),
        slice('default', 'near', [{ port: 80 }], [{ ip: '10.245.1.31', node: 'node-a' }, { ip: '10.245.2.31', node: 'node-b' }]),
        slice('default', 'far', [{ port: 80 }], [{ ip: '10.245.2.32', node: 'node-b' }]),
      ],
      testNode,
    );
    // Only the per-Service part: the fixed part is in full.nft.golden.
    golden('traffic-policy', r.text.split('\n').filter((l) => /default\/|10\.245\.200\.1|10\.245\.0\.1 /.test(l)).join('\n') + '\n');
    // far has no local endpoint: outside traffic to its NodePort is dropped, pods and the node still reach it.
    assert.match(r.text, /no-endpoint-nodeports \{ tcp \. 30062 comment "default\/far" : drop/);
    assert.match(r.text, /service-nodeports \{[^}]*tcp \. 30062 : goto external-/);
  });

  it('headless and ExternalName Services get nothing; an IPv6 Service and an unknown protocol are skipped', () => {
    const r = buildNftRules(
      [
        service('default', 'headless', 'None', [tcp(80, 80)]),
        service('default', 'alias', '', [], { type: 'ExternalName', externalName: 'example.org' }),
        service('default', 'six', 'fd00::10', [tcp(80, 80)]),
        service('default', 'odd', '10.116.0.70', [{ port: 80, targetPort: 80, protocol: 'ICMP' }]),
        service('default', 'fine', '10.116.0.71', [tcp(80, 80)]),
      ],
      [slice('default', 'headless', [{ port: 80 }], [{ ip: '10.245.1.40' }]), slice('default', 'fine', [{ port: 80 }], [{ ip: '10.245.1.41' }])],
      testNode,
    );
    assert.deepEqual(r.skipped.map((s) => [s.name, s.reason]), [['odd', 'UnsupportedProtocol'], ['six', 'UnsupportedIPFamily']]);
    assert.doesNotMatch(r.text, /headless|alias|10\.245\.1\.40/);
    assert.match(r.text, /default\/fine/);
  });

  it('a partial sync rewrites only the changed Service\'s chain and changes only the map elements that differ', () => {
    const services = [service('default', 'a', '10.116.0.80', [tcp(80, 80)]), service('default', 'b', '10.116.0.81', [tcp(80, 80)]), service('default', 'c', '10.116.0.82', [tcp(80, 80)])];
    const before = buildNftRules(services, [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.50' }, { ip: '10.245.1.51' }]), slice('default', 'b', [{ port: 80 }], [{ ip: '10.245.1.52' }]), slice('default', 'c', [{ port: 80 }], [{ ip: '10.245.1.53' }])], testNode);
    const state = before.commit();
    // a loses an endpoint, c loses all of them; b is untouched.
    const after = buildNftRules(services, [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.50' }]), slice('default', 'b', [{ port: 80 }], [{ ip: '10.245.1.52' }]), slice('default', 'c', [{ port: 80 }], [])], testNode, {
      changed: new Set(['default/a', 'default/c']),
      previous: state,
    });
    golden('partial', after.text);
    assert.doesNotMatch(after.text, /default\/b/, 'the unchanged Service is not touched');
    assert.doesNotMatch(after.text, /add table|flush map/, 'no fixed part');
    after.commit();
    assert.deepEqual([...chainsOf(state)].map((c) => c.replace(/-[A-Z2-7]{8}-/, '-')).sort(), ['service-default/a/tcp/', 'service-default/b/tcp/']);
    // The next sync of nothing changed writes nothing.
    assert.equal(buildNftRules(services, [], testNode, { changed: new Set(), previous: state }).text, '');
  });

  it('a full sync after a restart deletes what the earlier proxy left and no longer wants', () => {
    const found = emptyNftState();
    found.leftovers.chains.add('service-AAAAAAAA-default/gone/tcp/');
    found.leftovers.sets.add('affinity-AAAAAAAA-default/gone/tcp/__10.245.1.1/80');
    const r = buildNftRules([service('default', 'a', '10.116.0.80', [tcp(80, 80)])], [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.50' }])], testNode, { previous: found });
    assert.match(r.text, /^flush chain ip kube-proxy service-AAAAAAAA-default\/gone\/tcp\/\n[\s\S]*^delete chain ip kube-proxy service-AAAAAAAA-default\/gone\/tcp\/$/m);
    assert.match(r.text, /^delete set ip kube-proxy affinity-AAAAAAAA-default\/gone\/tcp\/__10\.245\.1\.1\/80$/m);
  });

  it('--nodeport-addresses: NodePorts only on those addresses', () => {
    const r = buildNftRules([], [], { ...testNode, nodePortAddresses: ['10.245.0.1/32'] });
    assert.match(r.text, /^add element ip kube-proxy nodeport-ips \{ 10\.245\.0\.1\/32 \}$/m);
    assert.match(r.text, /services ip daddr @nodeport-ips meta l4proto \. th dport vmap @service-nodeports/);
    assert.doesNotMatch(r.text, /delete set ip kube-proxy nodeport-ips/);
  });
});
