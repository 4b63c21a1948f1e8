import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Lease } from '../../lib/api/coordination/lease.js';
import type { Condition } from '../../lib/api/meta.js';
import { FakeClient } from '../../lib/testing/fakeclient.js';
import { FakeRecorder } from '../../lib/testing/fakerecorder.js';
import { Nodes, Pods } from '../../lib/client/resources.js';
import { listerOf } from '../../lib/controller/factory.js';
import { NodeLifecycleController } from './lifecycle.js';
import { PodsByNode } from './podindex.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function node(name: string, ready: 'True' | 'False' | 'Unknown', extra: Partial<Node['spec']> = {}): Node {
  const c = (type: string, status: 'True' | 'False' | 'Unknown'): Condition => ({ type, status, lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0), reason: 'KubeletReady' });
  return {
    metadata: { name, uid: `uid-${name}`, resourceVersion: '1', creationTimestamp: iso(T0 - 60_000) },
    spec: { ...extra },
    status: { conditions: [c('Ready', ready), c('MemoryPressure', 'False'), c('DiskPressure', 'False')] },
  };
}
const lease = (name: string, renew: number): Lease => ({ metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, renewTime: new Date(renew).toISOString() } });
const pod = (name: string, nodeName: string): Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
  spec: { containers: [{ name: 'c' }], nodeName },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso(T0) }] },
});

function setup(nodes: Node[], leases: Lease[], pods: Pod[] = []) {
  const client = new FakeClient();
  for (const n of nodes) client.add(Nodes, n);
  for (const p of pods) client.add(Pods, p);
  const recorder = new FakeRecorder();
  let now = T0;
  const c = new NodeLifecycleController({
    client,
    nodes: listerOf(nodes),
    leases: listerOf(leases),
    podsByNode: new PodsByNode(listerOf(pods)),
    recorder,
    gracePeriodMs: 4000,
    startupGracePeriodMs: 6000,
    now: () => now,
  });
  return { client, recorder, c, at: (ms: number) => (now = T0 + ms) };
}

const writes = (client: FakeClient) => client.writes().map((a) => `${a.verb}${a.subresource ? `/${a.subresource}` : ''} ${a.resource} ${a.name}`);

describe('NodeLifecycleController.monitorNodeHealth', () => {
  it('keeps a node with a renewed Lease, then marks it Unknown, its pods NotReady, and taints it unreachable', async () => {
    const nodes = [node('dead', 'True'), node('alive', 'True')];
    const leases = [lease('dead', T0), lease('alive', T0)];
    const { client, recorder, c, at } = setup(nodes, leases, [pod('p1', 'dead'), pod('p2', 'alive')]);
    await c.monitorNodeHealth();
    at(3000);
    leases[0] = lease('dead', T0 + 3000);
    leases[1] = lease('alive', T0 + 3000);
    await c.monitorNodeHealth();
    at(6000);
    leases[1] = lease('alive', T0 + 6000);
    await c.monitorNodeHealth();
    assert.deepEqual(writes(client), [], 'a node that renewed its Lease 3 s ago is within its 4 s grace');

    at(7001);
    await c.monitorNodeHealth();
    assert.deepEqual(writes(client), ['update/status nodes dead', 'update/status pods p1']);
    const written = client.writes()[0]!.object as Node;
    assert.deepEqual(
      written.status!.conditions!.map((x) => [x.type, x.status, x.reason, x.message]),
      [
        ['Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
        ['MemoryPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
        ['DiskPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
        ['PIDPressure', 'Unknown', 'NodeStatusNeverUpdated', 'Kubelet never posted node status.'],
      ],
    );
    assert.equal(written.status!.conditions![0]!.lastTransitionTime, iso(T0 + 7001));
    assert.equal((client.writes()[1]!.object as Pod).status!.conditions![0]!.status, 'False');
    assert.ok(recorder.events.includes('Normal NodeNotReady Node dead status is now: NodeNotReady'));
    assert.ok(recorder.events.includes('Warning NodeNotReady Node is not ready'));

    // The next pass sees the Unknown condition in the cache and taints the node.
    client.clearActions();
    nodes[0] = client.stored<Node>(Nodes, '', 'dead')!;
    at(7500);
    leases[1] = lease('alive', T0 + 7500);
    await c.monitorNodeHealth();
    assert.deepEqual(writes(client), ['patch nodes dead']);
    assert.deepEqual((client.writes()[0]!.patch as { spec: { taints: unknown } }).spec.taints, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(T0 + 7500) }]);
  });

  it('removes the NoExecute taint once the node is Ready again', async () => {
    const tainted = node('n1', 'True', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(T0) }, { key: 'x', effect: 'NoSchedule' }] });
    const { client, c } = setup([tainted], [lease('n1', T0)]);
    await c.monitorNodeHealth();
    assert.deepEqual(client.writes().map((a) => a.patch), [{ metadata: { resourceVersion: '1' }, spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } }]);
  });

  it('swaps not-ready for unreachable at once when a NotReady node goes silent', async () => {
    const n = node('n1', 'Unknown', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: iso(T0) }] });
    const { client, c } = setup([n, node('ok', 'True')], [lease('ok', T0)]);
    await c.monitorNodeHealth();
    const patch = client.writes().find((a) => a.name === 'n1')!.patch as { spec: { taints: { key: string }[] } };
    assert.deepEqual(patch.spec.taints.map((t) => t.key), ['node.kubernetes.io/unreachable']);
  });

  it('stops tainting when every node is down (master disruption mode)', async () => {
    const nodes = [node('a', 'True'), node('b', 'True')];
    const { client, c, at } = setup(nodes, []);
    await c.monitorNodeHealth();
    at(5000);
    await c.monitorNodeHealth();
    nodes[0] = client.stored<Node>(Nodes, '', 'a')!;
    nodes[1] = client.stored<Node>(Nodes, '', 'b')!;
    client.clearActions();
    at(5500);
    await c.monitorNodeHealth();
    at(30_000);
    await c.monitorNodeHealth();
    assert.deepEqual(writes(client), [], 'no node gets a NoExecute taint while all of them are unreachable');
    assert.equal(c.zoneStates.get(''), 'FullDisruption');
  });

  it('marks a node that never posted a Ready condition Unknown after the startup grace period', async () => {
    const fresh: Node = { metadata: { name: 'new', resourceVersion: '1', creationTimestamp: iso(T0) }, spec: {} };
    const { client, c, at } = setup([fresh], []);
    at(5999);
    await c.monitorNodeHealth();
    assert.deepEqual(writes(client), []);
    at(6001);
    await c.monitorNodeHealth();
    const written = client.writes()[0]!.object as Node;
    assert.deepEqual(written.status!.conditions!.map((x) => [x.type, x.status, x.reason]), [
      ['Ready', 'Unknown', 'NodeStatusNeverUpdated'],
      ['MemoryPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['DiskPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['PIDPressure', 'Unknown', 'NodeStatusNeverUpdated'],
    ]);
  });
});
