// The stale-UDP-flow cleanup as a pure function of Services, EndpointSlices and `conntrack -L`
// output: which `conntrack -D` commands it chooses, and the runner's handling of "nothing matched".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newLogger } from '../lib/log.js';
import { Conntrack, parseFlows, staleDeletes, udpFrontends } from './conntrack.js';
import { service, slice } from './fixtures.js';

const log = newLogger('test');

// Real `conntrack -L -p udp -f ipv4` lines: a flow to the DNS ClusterIP DNATed to 10.245.0.11, one
// to the same ClusterIP that never got an endpoint (its reply comes from the ClusterIP itself), a
// NodePort flow DNATed to a pod that is gone, and an unrelated flow.
const listing = [
  'udp      17 29 src=10.245.0.20 dst=10.116.0.10 sport=40000 dport=53 src=10.245.0.11 dst=10.245.0.20 sport=8053 dport=40000 mark=0 use=1',
  'udp      17 28 src=10.245.0.21 dst=10.116.0.10 sport=40001 dport=53 [UNREPLIED] src=10.116.0.10 dst=10.245.0.21 sport=53 dport=40001 mark=0 use=1',
  'udp      17 179 src=10.245.9.2 dst=10.245.0.1 sport=5000 dport=30053 src=10.245.0.13 dst=10.245.9.2 sport=8053 dport=5000 [ASSURED] mark=0 use=1',
  'udp      17 20 src=10.245.0.20 dst=10.245.0.12 sport=40002 dport=8053 src=10.245.0.12 dst=10.245.0.20 sport=8053 dport=40002 mark=0 use=1',
  'tcp      6 431999 ESTABLISHED src=10.245.0.20 dst=10.116.0.10 sport=40003 dport=53 src=10.245.0.13 dst=10.245.0.20 sport=8053 dport=40003 [ASSURED] mark=0 use=1',
].join('\n');

const dns = (nodePort?: number) =>
  service('kube-system', 'dns', '10.116.0.10', [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: 8053, ...(nodePort ? { nodePort } : {}) },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 8053 },
  ], { type: nodePort ? 'NodePort' : 'ClusterIP', externalIPs: ['10.245.0.100'] });
const dnsSlice = (ips: string[], extra: { ready?: boolean; serving?: boolean; terminating?: boolean } = {}) =>
  slice('kube-system', 'dns', [{ name: 'dns', port: 8053, protocol: 'UDP' }, { name: 'dns-tcp', port: 8053 }], ips.map((ip) => ({ ip, node: 'node-a', ...extra })));

describe('conntrack cleanup', () => {
  it('parses both tuples of each flow, skipping the summary line', () => {
    const flows = parseFlows(listing + '\nconntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.\n');
    assert.equal(flows.length, 5);
    assert.deepEqual(flows[1], {
      protocol: 'udp',
      original: { src: '10.245.0.21', dst: '10.116.0.10', sport: 40001, dport: 53 },
      reply: { src: '10.116.0.10', dst: '10.245.0.21', sport: 53, dport: 40001 },
    });
    assert.equal(flows[4]!.protocol, 'tcp');
  });

  it('deletes UDP flows to a Service whose reply source is no serving endpoint', () => {
    const flows = parseFlows(listing);
    // 10.245.0.11 went away; 10.245.0.12 serves now.
    const want = udpFrontends([dns(30053)], [dnsSlice(['10.245.0.12'])]);
    assert.deepEqual(staleDeletes(flows, want), [
      ['-D', '-p', 'udp', '-f', 'ipv4', '--orig-dst', '10.116.0.10', '--orig-port-dst', '53', '--reply-src', '10.116.0.10'],
      ['-D', '-p', 'udp', '-f', 'ipv4', '--orig-dst', '10.116.0.10', '--orig-port-dst', '53', '--reply-src', '10.245.0.11'],
      ['-D', '-p', 'udp', '-f', 'ipv4', '--orig-port-dst', '30053', '--reply-src', '10.245.0.13'],
    ]);
  });

  it('keeps flows to serving endpoints, terminating ones included, and TCP flows', () => {
    const flows = parseFlows(listing);
    const want = udpFrontends([dns(30053)], [dnsSlice(['10.245.0.11', '10.245.0.13', '10.116.0.10'], { ready: false, serving: true, terminating: true })]);
    assert.deepEqual(staleDeletes(flows, want), []);
  });

  it('leaves a Service with no serving endpoint alone, and ignores TCP-only and headless Services', () => {
    const flows = parseFlows(listing);
    assert.deepEqual(staleDeletes(flows, udpFrontends([dns(30053)], [])), []);
    assert.deepEqual(staleDeletes(flows, udpFrontends([dns(30053)], [dnsSlice(['10.245.0.12'], { ready: false, serving: false })])), []);
    const tcpOnly = service('kube-system', 'dns', '10.116.0.10', [{ name: 'dns-tcp', port: 53, protocol: 'TCP' }]);
    assert.deepEqual(staleDeletes(flows, udpFrontends([tcpOnly], [dnsSlice(['10.245.0.12'])])), []);
    const headless = service('kube-system', 'dns', 'None', [{ name: 'dns', port: 53, protocol: 'UDP' }]);
    assert.equal(udpFrontends([headless], [dnsSlice(['10.245.0.12'])]).byAddress.size, 0);
  });

  it('covers external and load-balancer IPs', () => {
    const svc = dns();
    svc.status = { loadBalancer: { ingress: [{ ip: '10.245.0.1' }] } };
    const want = udpFrontends([svc], [dnsSlice(['10.245.0.12'])]);
    assert.deepEqual([...want.byAddress.keys()].sort(), ['10.116.0.10:53', '10.245.0.100:53', '10.245.0.1:53']);
    const flows = parseFlows('udp      17 29 src=10.245.9.2 dst=10.245.0.100 sport=1 dport=53 src=10.245.0.11 dst=10.245.9.2 sport=8053 dport=1 mark=0 use=1');
    assert.deepEqual(staleDeletes(flows, want), [['-D', '-p', 'udp', '-f', 'ipv4', '--orig-dst', '10.245.0.100', '--orig-port-dst', '53', '--reply-src', '10.245.0.11']]);
  });

  it('runs the list and the deletes, a delete that matched nothing being no failure', async () => {
    const calls: string[] = [];
    const runner = async (command: string, args: string[]): Promise<string> => {
      calls.push([command, ...args].join(' '));
      if (args.includes('-L')) return listing;
      if (args.includes('30053')) throw Object.assign(new Error('conntrack exited 1'), { stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' });
      return '';
    };
    const ct = new Conntrack(log, runner, ['nsenter', '--net=/var/run/netns/x']);
    const n = await ct.cleanStaleEntries([dns(30053)], [dnsSlice(['10.245.0.12'])]);
    assert.equal(n, 2);
    assert.equal(calls[0], 'nsenter --net=/var/run/netns/x conntrack -L -p udp -f ipv4');
    assert.equal(calls.length, 4);
    // No UDP Service with endpoints: nothing is listed at all.
    calls.length = 0;
    assert.equal(await ct.cleanStaleEntries([], []), 0);
    assert.deepEqual(calls, []);
  });
});
