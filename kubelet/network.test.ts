import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cniConflist, cniRulesOf, exceptionPosition, masqueradeExceptionRule, type NodeNetwork, splitRule } from './network.js';

const net: NodeNetwork = {
  name: 'skiff-abc',
  bridge: 'sknb-abc',
  sink: 'skns-abc',
  clusterCIDR: '10.240.0.0/16',
  serviceCIDR: '10.112.0.0/16',
  ipamDataDir: '/tmp/x/cni/networks',
};

test('the conflist: bridge (gateway, masquerade, hairpin) with host-local on the podCIDR in its own data dir, then portmap and loopback', () => {
  assert.deepEqual(cniConflist(net, '10.240.3.0/24'), {
    cniVersion: '0.4.0',
    name: 'skiff-abc',
    plugins: [
      {
        type: 'bridge',
        bridge: 'sknb-abc',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.240.3.0/24' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/tmp/x/cni/networks' },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  });
});

test('pod-to-pod traffic inside the cluster CIDR is exempt from masquerade', () => {
  assert.deepEqual(masqueradeExceptionRule(net).slice(0, 4), ['-s', '10.240.0.0/16', '-d', '10.240.0.0/16']);
  assert.equal(masqueradeExceptionRule(net).at(-1), 'RETURN');
  // Below kube-proxy's jump (its marked Service traffic is still masqueraded), else first.
  const withProxy = ['-P POSTROUTING ACCEPT', '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', '-A POSTROUTING -s 10.240.3.2/32 -j CNI-1111'].join('\n');
  assert.equal(exceptionPosition(withProxy), 2);
  assert.equal(exceptionPosition('-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.240.3.2/32 -j CNI-1111\n'), 1);
});

test('cleanup finds the CNI rules and per-pod chains of its own network only, never the shared hostport chains', () => {
  const save = [
    '*nat',
    ':CNI-1111 - [0:0]',
    '-A POSTROUTING -s 10.240.3.2/32 -m comment --comment "name: \\"skiff-abc\\" id: \\"c1\\"" -j CNI-1111',
    '-A POSTROUTING -s 10.244.9.2/32 -m comment --comment "name: \\"other\\" id: \\"c9\\"" -j CNI-9999',
    '-A CNI-1111 -d 10.240.3.0/24 -m comment --comment "name: \\"skiff-abc\\" id: \\"c1\\"" -j ACCEPT',
    '-A CNI-1111 ! -d 224.0.0.0/4 -m comment --comment "name: \\"skiff-abc\\" id: \\"c1\\"" -j MASQUERADE',
    '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"skiff-abc\\" id: \\"c1\\"" -m multiport --dports 8080 -j CNI-DN-2222',
    'COMMIT',
  ].join('\n');
  const { rules, chains } = cniRulesOf(save, 'skiff-abc');
  assert.equal(rules.length, 4);
  assert.deepEqual(chains.sort(), ['CNI-1111', 'CNI-DN-2222']);
  assert.deepEqual(splitRule(rules[0]!), ['POSTROUTING', '-s', '10.240.3.2/32', '-m', 'comment', '--comment', 'name: "skiff-abc" id: "c1"', '-j', 'CNI-1111']);
  assert.deepEqual(cniRulesOf(save, 'skiff-ab').rules, [], 'a network whose name is a prefix of ours is not ours');
});
