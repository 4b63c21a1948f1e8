import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { service, slice, syntheticCluster, testNode } from './fixtures.js';
import { fwChain, sepChain, svcChain } from './names.js';
import { buildRules, cleanupText, ruleChunks } from './rules.js';

// Golden files live beside the sources (proxy/testdata); UPDATE_GOLDEN=1 rewrites them.
const testdata = fileURLToPath(new URL('../../proxy/testdata/', import.meta.url));

function golden(name: string, text: string): void {
  const file = `${testdata}${name}.golden`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'));
}

const tcp = (port: number, targetPort: number | string, name?: string, nodePort?: number) => ({ name, port, targetPort, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) });

describe('proxy buildRules', () => {
  it('ClusterIP with three endpoints: statistic balancing, hairpin masquerade, masquerade from outside the cluster CIDR', () => {
    const r = buildRules(
      [service('default', 'web', '10.116.0.10', [tcp(80, 8080, 'http')])],
      [slice('default', 'web', [{ name: 'http', port: 8080 }], [{ ip: '10.245.1.3' }, { ip: '10.245.1.2' }, { ip: '10.245.2.2' }])],
      testNode,
    );
    golden('clusterip', r.text);
    assert.equal(r.endpoints, 3);
    assert.ok(r.chains.has(svcChain('default/web:http', 'TCP')));
  });

  it('the kubernetes Service gets kube-proxy\'s chain name', () => {
    // Known from every kubeadm cluster: default/kubernetes:https → KUBE-SVC-NPX46M4PTMTKRN6Y.
    const r = buildRules([service('default', 'kubernetes', '10.116.0.1', [tcp(443, 6443, 'https')])], [slice('default', 'kubernetes', [{ name: 'https', port: 6443 }], [{ ip: '10.245.0.1' }])], testNode);
    assert.match(r.text, /-j KUBE-SVC-NPX46M4PTMTKRN6Y$/m);
  });

  it('NodePort, several ports, UDP and SCTP, targetPort by name resolved per slice', () => {
    const r = buildRules(
      [
        service('shop', 'api', '10.116.0.20', [tcp(80, 'web', 'http', 30080), { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP', nodePort: 30053 }, { name: 'sig', port: 9000, targetPort: 9000, protocol: 'SCTP' }], { type: 'NodePort' }),
      ],
      [
        // Two pods whose "web" container port differs: the slices carry the resolved numbers.
        slice('shop', 'api', [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'sig', port: 9000, protocol: 'SCTP' }], [{ ip: '10.245.1.5' }], 'api-1'),
        slice('shop', 'api', [{ name: 'http', port: 8081 }], [{ ip: '10.245.1.6' }], 'api-2'),
      ],
      testNode,
    );
    golden('nodeport-multiport', r.text);
    assert.match(r.text, /--to-destination 10\.245\.1\.6:8081/);
  });

  it('no endpoints: ICMP reject for the ClusterIP and the NodePort, no nat chains', () => {
    const r = buildRules([service('default', 'empty', '10.116.0.30', [tcp(80, 80, undefined, 30030)], { type: 'NodePort' })], [slice('default', 'empty', [{ port: 80 }], [{ ip: '10.245.1.9', ready: false, serving: false }])], testNode);
    golden('no-endpoints', r.text);
    assert.equal(r.chains.size, 0);
  });

  it('terminating endpoints serve only when no endpoint is ready', () => {
    const onlyTerminating = buildRules(
      [service('default', 'roll', '10.116.0.40', [tcp(80, 80)])],
      [slice('default', 'roll', [{ port: 80 }], [{ ip: '10.245.1.10', ready: false, serving: true, terminating: true }, { ip: '10.245.1.11', ready: false, serving: false, terminating: true }])],
      testNode,
    );
    assert.match(onlyTerminating.text, /DNAT --to-destination 10\.245\.1\.10:80/);
    assert.doesNotMatch(onlyTerminating.text, /10\.245\.1\.11/);
    const withReady = buildRules(
      [service('default', 'roll', '10.116.0.40', [tcp(80, 80)])],
      [slice('default', 'roll', [{ port: 80 }], [{ ip: '10.245.1.10', ready: false, serving: true, terminating: true }, { ip: '10.245.1.12' }])],
      testNode,
    );
    assert.doesNotMatch(withReady.text, /10\.245\.1\.10/);
    assert.match(withReady.text, /DNAT --to-destination 10\.245\.1\.12:80/);
  });

  it('ClientIP session affinity: recent checks with the timeout before balancing', () => {
    const r = buildRules(
      [service('default', 'sticky', '10.116.0.50', [tcp(80, 80)], { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } })],
      [slice('default', 'sticky', [{ port: 80 }], [{ ip: '10.245.1.20' }, { ip: '10.245.1.21' }])],
      testNode,
    );
    golden('affinity', r.text);
  });

  it('externalTrafficPolicy Local, internalTrafficPolicy Local, externalIPs and a LoadBalancer ingress', () => {
    const r = buildRules(
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
    golden('traffic-policy', r.text);
  });

  it('loadBalancerSourceRanges: a KUBE-FW chain lets only the ranges on to KUBE-EXT, KUBE-PROXY-FIREWALL drops the rest; the health check node port is let in', () => {
    const ingress = { loadBalancer: { ingress: [{ ip: '10.245.0.1', ipMode: 'VIP' as const }] } };
    const r = buildRules(
      [
        // Ranges outside the node: clients from them only.
        service('default', 'guarded', '10.116.0.65', [tcp(443, 8443, 'https', 30065)], { type: 'LoadBalancer', loadBalancerSourceRanges: ['203.0.113.0/25', ' 198.51.100.7/32 '] }, ingress),
        // A range holding the node's address: the VIP looping back from the node is let through too.
        service('default', 'local', '10.116.0.66', [tcp(80, 80, undefined, 30066)], { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, loadBalancerSourceRanges: ['10.245.0.0/24'] }, ingress),
        // Ranges but no ingress yet: no firewall at all.
        service('default', 'pending', '10.116.0.67', [tcp(80, 80, undefined, 30067)], { type: 'LoadBalancer', loadBalancerSourceRanges: ['203.0.113.0/25'] }),
      ],
      [
        slice('default', 'guarded', [{ name: 'https', port: 8443 }], [{ ip: '10.245.1.60', node: 'node-a' }]),
        slice('default', 'local', [{ port: 80 }], [{ ip: '10.245.1.61', node: 'node-a' }]),
        slice('default', 'pending', [{ port: 80 }], [{ ip: '10.245.1.62', node: 'node-a' }]),
      ],
      testNode,
    );
    golden('source-ranges', r.text);
    const fw = fwChain('default/guarded:https', 'TCP');
    assert.ok(r.chains.has(fw));
    assert.match(r.text, new RegExp(`-d 10\\.245\\.0\\.1/32 --dport 443 -j ${fw}$`, 'm'));
    assert.match(r.text, new RegExp(`^-A ${fw} .* -s 198\\.51\\.100\\.7/32 -j KUBE-EXT-`, 'm'));
    assert.doesNotMatch(r.text, new RegExp(`^-A ${fw} .* -s 10\\.245\\.0\\.1/32`, 'm'), 'the node is outside the ranges');
    assert.match(r.text, new RegExp(`^-A ${fwChain('default/local', 'TCP')} .* -s 10\\.245\\.0\\.1/32 -j KUBE-EXT-`, 'm'));
    assert.match(r.text, /^-A KUBE-NODEPORTS -m comment --comment "default\/local health check node port" -m tcp -p tcp --dport 32000 -j ACCEPT$/m);
    assert.doesNotMatch(r.text, /KUBE-FW-.*\n?.*default\/pending|default\/pending traffic not accepted/);
    // A partial sync that drops the ranges deletes the chain.
    const after = buildRules([service('default', 'guarded', '10.116.0.65', [tcp(443, 8443, 'https', 30065)], { type: 'LoadBalancer' }, ingress)], [slice('default', 'guarded', [{ name: 'https', port: 8443 }], [{ ip: '10.245.1.60', node: 'node-a' }])], testNode, {
      changed: new Set(['default/guarded']),
      previousChains: r.chains,
    });
    assert.match(after.text, new RegExp(`^-X ${fw}$`, 'm'));
  });

  it('headless and ExternalName Services get no rules; an IPv6 Service and an unknown protocol are skipped, the rest still programmed', () => {
    const r = buildRules(
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
    assert.match(r.text, /default\/fine cluster IP/);
  });

  it('a partial sync rewrites only the changed Service\'s chains and deletes the chains of removed endpoints', () => {
    const services = [service('default', 'a', '10.116.0.80', [tcp(80, 80)]), service('default', 'b', '10.116.0.81', [tcp(80, 80)])];
    const before = buildRules(services, [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.50' }, { ip: '10.245.1.51' }]), slice('default', 'b', [{ port: 80 }], [{ ip: '10.245.1.52' }])], testNode);
    const after = buildRules(services, [slice('default', 'a', [{ port: 80 }], [{ ip: '10.245.1.50' }]), slice('default', 'b', [{ port: 80 }], [{ ip: '10.245.1.52' }])], testNode, {
      changed: new Set(['default/a']),
      previousChains: before.chains,
    });
    golden('partial', after.text);
    const gone = sepChain('default/a', 'TCP', '10.245.1.51:80');
    assert.match(after.text, new RegExp(`^-X ${gone}$`, 'm'));
    assert.doesNotMatch(after.text, new RegExp(`^:${svcChain('default/b', 'TCP')}`, 'm'));
    assert.match(after.text, new RegExp(`-j ${svcChain('default/b', 'TCP')}$`, 'm'), 'the unchanged Service keeps its jump');
  });

  it('--nodeport-addresses limits NodePorts to those CIDRs', () => {
    const r = buildRules([], [], { ...testNode, nodePortAddresses: ['10.245.0.1/32', '127.0.0.0/8'] });
    assert.match(r.text, /-d 10\.245\.0\.1\/32 -j KUBE-NODEPORTS/);
    assert.match(r.text, /-d 127\.0\.0\.0\/8 -j KUBE-NODEPORTS/);
    assert.doesNotMatch(r.text, /dst-type LOCAL -j KUBE-NODEPORTS/);
  });

  it('cleanupText flushes then deletes every chain it is given', () => {
    golden('cleanup', cleanupText({ filter: ['KUBE-SERVICES', 'KUBE-FORWARD'], nat: ['KUBE-SEP-AAAA', 'KUBE-SERVICES'] }));
  });

  it('ruleChunks gives the same text in pieces a pipe holds, every chain declared before a rule jumps to it, extra lines before each COMMIT', () => {
    const c = syntheticCluster(2000, 3);
    const whole = buildRules(c.services, c.slices, testNode).text;
    const asked: string[] = [];
    const r = ruleChunks(c.services, c.slices, testNode, {}, (table) => {
      asked.push(table);
      return `-I ${table === 'nat' ? 'PREROUTING' : 'INPUT'} 1 -j KUBE-SERVICES\n`;
    });
    const chunks = [...r.chunks];
    assert.ok(chunks.length > 10 && chunks.every((x) => x.length < 200 * 1024), 'many chunks, each about a pipe\'s worth');
    assert.deepEqual(asked, ['nat', 'filter']);
    const text = chunks.join('');
    assert.equal(text.replace('-I PREROUTING 1 -j KUBE-SERVICES\n', '').replace('-I INPUT 1 -j KUBE-SERVICES\n', ''), whole);
    assert.match(text, /-I PREROUTING 1 -j KUBE-SERVICES\nCOMMIT\n\*filter\n/);
    assert.ok(text.endsWith('-I INPUT 1 -j KUBE-SERVICES\nCOMMIT\n'));
    assert.equal(r.servicePorts, 2000);
    assert.equal(r.endpoints, 6000);
    // iptables-restore takes a jump only to a chain declared before it.
    const declared = new Set<string>();
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) declared.clear();
      else if (line.startsWith(':')) declared.add(line.slice(1, line.indexOf(' ')));
      const to = / -j (KUBE-\S+)$/.exec(line)?.[1];
      if (to && !line.startsWith('-I ')) assert.ok(declared.has(to), `${line} jumps to a chain declared later`);
    }
  });
});
