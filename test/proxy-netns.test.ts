// More of the proxy for real, in a lab of network namespaces (test/netns.ts, names skx*, addresses
// in 10.245.0.0/16):
// - stale UDP flows: a pod keeps sending to a UDP ClusterIP from one source port. When its
//   endpoint is replaced, the kernel's conntrack entry keeps the flow on the old backend even with
//   the new rules in place; the proxy's cleanup (proxy/conntrack.ts, the `conntrack` tool in the
//   node's namespace) deletes the entry and the next datagram reaches the new backend.
// - loadBalancerSourceRanges: a client outside the pod network reaches a LoadBalancer ingress
//   only from inside the ranges; the NodePort is not limited by them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { newLogger } from '../lib/log.js';
import { Conntrack } from '../proxy/conntrack.js';
import { service, slice } from '../proxy/fixtures.js';
import { Iptables, detectBackend } from '../proxy/iptables.js';
import { type NodeState, buildRules } from '../proxy/rules.js';
import { Lab, inNs } from './netns.js';

const nodeIP = '10.245.0.1';
const node: NodeState = { nodeName: 'node-a', nodeIPs: [nodeIP], clusterCIDR: '10.245.0.0/24', masqueradeMark: 0x4000, nodePortAddresses: [] };
const podIP = '10.245.0.20';
const clusterIP = '10.116.0.10';
const outsideIP = '10.245.9.2';

// One datagram from a fixed source port (the same flow each time), the answer or TIMEOUT.
const udpFrom = `
const dgram = require('node:dgram');
const [host, port, sport] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const t = setTimeout(() => { s.close(); process.stdout.write('TIMEOUT'); }, 1500);
s.on('message', (m) => { clearTimeout(t); s.close(); process.stdout.write(String(m).trim().split(' ')[0]); });
s.on('error', (e) => { clearTimeout(t); s.close(); process.stdout.write(e.code); });
s.bind(Number(sport), () => s.send('hi', Number(port), host));
`;

const skip = process.getuid?.() !== 0 ? 'needs root for network namespaces' : spawnSync('conntrack', ['--version']).status !== 0 ? 'needs the conntrack tool' : false;

describe('the proxy in a network namespace: conntrack cleanup and load-balancer source ranges', { skip }, () => {
  let lab: Lab;
  let ipt: Iptables;
  let chains = new Set<string>();
  const dns = service('kube-system', 'dns', clusterIP, [{ name: 'dns', port: 53, targetPort: 8053, protocol: 'UDP' }]);
  const sliceOf = (ips: string[]) => slice('kube-system', 'dns', [{ name: 'dns', port: 8053, protocol: 'UDP' }], ips.map((ip) => ({ ip, node: 'node-a' })));

  async function apply(services: Service[], slices: EndpointSlice[]): Promise<void> {
    const rules = buildRules(services, slices, node, { previousChains: chains });
    await ipt.restore(rules.text);
    await ipt.ensureJumps();
    chains = rules.chains;
  }
  const send = (sport: number) => inNs(`${lab.node}-pod`, process.execPath, ['-e', udpFrom, clusterIP, '53', String(sport)]);

  before(async () => {
    lab = new Lab();
    lab.setupNode(nodeIP, '10.116.0.0/16');
    for (const [name, ip] of [['b1', '10.245.0.11'], ['b2', '10.245.0.12']] as const) {
      lab.addPod(`${lab.node}-${name}`, ip, nodeIP);
      await lab.serve(`${lab.node}-${name}`, name, 8053);
    }
    await lab.serve(`${lab.node}-b1`, 'b1', 8080);
    lab.addPod(`${lab.node}-pod`, podIP, nodeIP);
    lab.addRouted(`${lab.node}-out`, '10.245.9.1', outsideIP);
    ipt = new Iptables(await detectBackend(), ['nsenter', `--net=/var/run/netns/${lab.node}`]);
  });
  after(() => lab?.cleanup());

  it('a flow stays on a removed endpoint until the cleanup deletes its entry', async () => {
    const ct = new Conntrack(newLogger('test'), undefined, ['nsenter', `--net=/var/run/netns/${lab.node}`]);
    await apply([dns], [sliceOf(['10.245.0.11'])]);
    assert.equal(send(41000), 'b1');
    // Nothing stale while the flow's endpoint serves.
    assert.equal(await ct.cleanStaleEntries([dns], [sliceOf(['10.245.0.11'])]), 0);

    // The endpoint is replaced: new rules send new flows to b2, but this flow's entry still says b1.
    await apply([dns], [sliceOf(['10.245.0.12'])]);
    assert.equal(send(41000), 'b1', 'the conntrack entry outlives the rules');
    assert.equal(send(41001), 'b2', 'a new flow takes the new rules');

    const deleted = await ct.cleanStaleEntries([dns], [sliceOf(['10.245.0.12'])]);
    assert.equal(deleted, 1);
    assert.equal(send(41000), 'b2');
    assert.doesNotMatch(inNs(lab.node, 'conntrack', ['-L', '-p', 'udp']), /src=10\.245\.0\.11 /, 'no entry replies from b1 any more');
  });

  it('loadBalancerSourceRanges let only their clients reach the load-balancer ingress', async () => {
    const edge = (ranges: string[]) =>
      service('default', 'edge', '10.116.0.20', [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], { type: 'LoadBalancer', loadBalancerSourceRanges: ranges }, { loadBalancer: { ingress: [{ ip: nodeIP, ipMode: 'VIP' }] } });
    const edgeSlice = slice('default', 'edge', [{ port: 8080 }], [{ ip: '10.245.0.11', node: 'node-a' }]);
    const out = `${lab.node}-out`;
    await apply([edge(['10.245.9.0/24'])], [edgeSlice]);
    assert.deepEqual(lab.connect(out, nodeIP, 80, 'tcp', 2).map((a) => a.split(' ')[0]), ['b1', 'b1']);
    // The client is outside the ranges now: dropped (no answer), while the NodePort still answers.
    await apply([edge(['203.0.113.0/24', '10.245.8.0/24'])], [edgeSlice]);
    assert.deepEqual(lab.connect(out, nodeIP, 80, 'tcp', 1), ['TIMEOUT']);
    assert.deepEqual(lab.connect(out, nodeIP, 30080, 'tcp', 1).map((a) => a.split(' ')[0]), ['b1']);
    // No ranges: everyone.
    await apply([edge([])], [edgeSlice]);
    assert.deepEqual(lab.connect(out, nodeIP, 80, 'tcp', 1).map((a) => a.split(' ')[0]), ['b1']);
    assert.doesNotMatch(inNs(lab.node, ipt.backend.save, ['-t', 'nat']), /KUBE-FW-/, 'the firewall chain is gone with the ranges');
  });
});
