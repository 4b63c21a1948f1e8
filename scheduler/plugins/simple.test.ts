// Table tests for the small filter plugins: NodeUnschedulable, NodeName, NodePorts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSnapshot } from '../framework/snapshot.js';
import { makeNode, makePod } from '../framework/testing.js';
import { filterResults } from './testing.js';

describe('NodeUnschedulable', () => {
  const snap = newSnapshot([makeNode('ok'), makeNode('cordoned', { unschedulable: true })]);
  it('rejects cordoned nodes as unresolvable', () => {
    assert.deepEqual(filterResults('NodeUnschedulable', makePod('p'), snap), {
      ok: 'Success',
      cordoned: 'UnschedulableAndUnresolvable: node(s) were unschedulable',
    });
  });
  it('lets pods that tolerate the unschedulable taint through', () => {
    const pods = [
      makePod('exists', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
      makePod('all', { tolerations: [{ operator: 'Exists' }] }),
    ];
    for (const pod of pods) assert.equal(filterResults('NodeUnschedulable', pod, snap).cordoned, 'Success');
    const wrongEffect = makePod('w', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] });
    assert.match(filterResults('NodeUnschedulable', wrongEffect, snap).cordoned, /were unschedulable/);
  });
});

describe('NodeName', () => {
  const snap = newSnapshot([makeNode('a'), makeNode('b')]);
  it('a pod naming a node fits only that node', () => {
    assert.deepEqual(filterResults('NodeName', makePod('p', { nodeName: 'b' }), snap), {
      a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name",
      b: 'Success',
    });
  });
  it('a pod naming none fits everywhere', () => {
    assert.deepEqual(filterResults('NodeName', makePod('p'), snap), { a: 'Success', b: 'Success' });
  });
});

describe('NodePorts', () => {
  const withPort = (name: string, node: string, port: number, hostIP?: string, protocol = 'TCP') =>
    makePod(name, { nodeName: node, containers: [{ name: 'c', ports: [{ containerPort: port, hostPort: port, hostIP, protocol }] }] });
  const snap = newSnapshot(
    [makeNode('free'), makeNode('taken'), makeNode('udp'), makeNode('otherip'), makeNode('sidecar')],
    [
      withPort('a', 'taken', 8080),
      withPort('b', 'udp', 8080, undefined, 'UDP'),
      withPort('c', 'otherip', 8080, '10.0.0.1'),
      makePod('d', { nodeName: 'sidecar', initContainers: [{ name: 's', restartPolicy: 'Always', ports: [{ containerPort: 8080, hostPort: 8080 }] }], containers: [{ name: 'c' }] }),
    ],
  );
  it('rejects nodes where a wanted host port is in use', () => {
    assert.deepEqual(filterResults('NodePorts', makePod('p', { hostPorts: [8080] }), snap), {
      free: 'Success',
      taken: "Unschedulable: node(s) didn't have free ports for the requested pod ports",
      udp: 'Success',
      // The pod binds 0.0.0.0, which clashes with any IP.
      otherip: "Unschedulable: node(s) didn't have free ports for the requested pod ports",
      sidecar: "Unschedulable: node(s) didn't have free ports for the requested pod ports",
    });
  });
  it('a pod without host ports skips the plugin', () => {
    const r = filterResults('NodePorts', makePod('p'), snap);
    assert.ok(Object.values(r).every((v) => v === 'Success'));
  });
  it('a specific host IP only clashes with the same IP or 0.0.0.0', () => {
    const pod = makePod('p', { containers: [{ name: 'c', ports: [{ containerPort: 8080, hostPort: 8080, hostIP: '10.0.0.2' }] }] });
    const r = filterResults('NodePorts', pod, snap);
    assert.equal(r.otherip, 'Success');
    assert.match(r.taken, /free ports/);
  });
});
