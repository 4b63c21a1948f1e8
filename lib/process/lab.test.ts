import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addNodeToLayout, desiredRoutes, labAPIServerHost, memberNetnsConfig, memberVeth, membersNote, nodeAddress, nodeNameProblem, overlaps, planControlPlane, zoneOf, type LabLayout } from './lab.js';
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

test('control-plane members: member 1 on the host, the others at .n in namespaces of their own; the count is fixed', () => {
  const lab = layout();
  const members = planControlPlane(lab, 3);
  assert.deepEqual(members, [
    { name: 'lab-cp-1', member: 1 },
    { name: 'lab-cp-2', member: 2, ip: '172.31.7.2' },
    { name: 'lab-cp-3', member: 3, ip: '172.31.7.3' },
  ]);
  assert.deepEqual(memberNetnsConfig(lab), [
    { member: 2, netns: 'skiff-lab-cp-2', ip: '172.31.7.2', gateway: '172.31.7.1' },
    { member: 3, netns: 'skiff-lab-cp-3', ip: '172.31.7.3', gateway: '172.31.7.1' },
  ]);
  assert.equal(memberVeth(lab, members[1]!), 'skl00aac2');
  assert.equal(planControlPlane(lab, 3), members, 'a lab keeps its members');
  assert.throws(() => planControlPlane(lab, 5), /has 3 members; it cannot become 5/);
  assert.throws(() => planControlPlane(layout(), 8), /2 to 7 members/);
  // Member addresses stay below the nodes' (.11 and up).
  assert.equal(addNodeToLayout(lab).ip, '172.31.7.11');
  assert.match(membersNote(lab), /lab-cp-2: etcd-2, apiserver-2, controller-manager-2, scheduler-2 in skiff-lab-cp-2 at 172.31.7.2/);
  assert.equal(membersNote(layout()), '');
});
