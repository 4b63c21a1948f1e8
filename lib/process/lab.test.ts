import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addNodeToLayout, desiredRoutes, labAPIServerHost, nodeAddress, nodeNameProblem, overlaps, zoneOf, type LabLayout } from './lab.js';
import { defaultConfig } from './cluster.js';

const layout = (): LabLayout => ({ subnet: '172.31.7.0/24', gateway: '172.31.7.1', bridge: 'skl00aa', prefix: 'lab', zones: [], nodes: [] });

test('nodes get .10+index of the lab subnet and <prefix>-<index> names; a removed index is not reused', () => {
  const lab = layout();
  assert.deepEqual(addNodeToLayout(lab), { name: 'lab-1', index: 1, ip: '172.31.7.11' });
  addNodeToLayout(lab);
  lab.nodes.shift();
  assert.deepEqual(addNodeToLayout(lab, 'extra'), { name: 'extra', index: 3, ip: '172.31.7.13' });
  assert.equal(nodeAddress('172.31.200.0/24', 5), '172.31.200.15');
});

test('host-gw routes: every podCIDR via its node, the host node and the apiserver via the gateway', () => {
  const lab = layout();
  lab.hostPodCIDR = '10.244.0.0/24';
  addNodeToLayout(lab).podCIDR = '10.244.1.0/24';
  addNodeToLayout(lab).podCIDR = '10.244.2.0/24';
  addNodeToLayout(lab); // no podCIDR yet: nobody routes to it
  const { host, nodes } = desiredRoutes(lab, '192.0.2.2');
  assert.deepEqual(host, [
    { dst: '10.244.1.0/24', via: '172.31.7.11' },
    { dst: '10.244.2.0/24', via: '172.31.7.12' },
  ]);
  assert.deepEqual(nodes.get('lab-1'), [
    { dst: '192.0.2.2/32', via: '172.31.7.1' },
    { dst: '10.244.0.0/24', via: '172.31.7.1' },
    { dst: '10.244.2.0/24', via: '172.31.7.12' },
  ]);
  assert.equal(nodes.get('lab-3')!.length, 4);
});

test('zones are spread round-robin; none without --zones', () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => zoneOf(['a', 'b', 'c'], i)), ['a', 'b', 'c', 'a']);
  assert.equal(zoneOf([], 2), undefined);
});

test('subnet overlap reads addresses and routes', () => {
  assert.equal(overlaps('inet 172.31.7.1/24 brd 172.31.7.255 scope global skl', '172.31.7.0/24'), true);
  assert.equal(overlaps('172.31.0.0/16 via 10.0.0.1 dev eth0', '172.31.9.0/24'), true);
  assert.equal(overlaps('default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0', '172.31.9.0/24'), false);
});

test('bad input: node names, a loopback apiserver', () => {
  assert.match(nodeNameProblem('Bad_Name')!, /DNS label/);
  assert.equal(nodeNameProblem('lab-4'), undefined);
  const config = { ...defaultConfig('/tmp/x'), bindAddress: '127.0.0.1' };
  assert.throws(() => labAPIServerHost(config), /loopback/);
  assert.equal(labAPIServerHost({ ...config, bindAddress: '0.0.0.0', advertiseAddress: '192.0.2.2' }), '192.0.2.2');
});
