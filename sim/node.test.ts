import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node } from '../lib/api/core/node.js';
import { nodeStatusText, validateNode } from '../lib/api/core/node.js';
import { leases } from '../lib/api/coordination/lease.js';
import { parseSimConfig } from './config.js';
import { nodeLease } from '../lib/node/lease.js';
import { nodeStatusDiffers } from '../lib/node/status.js';
import { capacityFor, desiredNodeStatus, isSimulated, newSimNode, nodeOrdinal, zoneName } from './node.js';

const config = parseSimConfig({ 'node-labels': 'team=a,tier=gold', 'node-taints': 'dedicated=sim:NoSchedule,spot:PreferNoSchedule' });
const t0 = new Date('2025-03-01T10:00:00Z');
const t1 = new Date('2025-03-01T10:01:00Z');

describe('created Nodes', () => {
  const node = newSimNode({ name: 'sim-4', ordinal: 4, internalIP: '172.30.0.5', config, now: t0 });

  test('carry the kubelet labels, the zone, --node-labels, --node-taints and the simulated annotation', () => {
    assert.ok(isSimulated(node));
    assert.deepEqual(node.metadata.labels, {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': 'sim-4',
      'kubernetes.io/os': 'linux',
      'node.kubernetes.io/instance-type': 'skiff-sim',
      'topology.kubernetes.io/zone': 'zone-b',
      team: 'a',
      tier: 'gold',
    });
    assert.deepEqual(node.spec?.taints, [
      { key: 'dedicated', value: 'sim', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
  });

  test('register Ready, with capacity, addresses and nodeInfo, and pass Node validation', () => {
    assert.deepEqual(validateNode(node), []);
    assert.equal(nodeStatusText(node), 'Ready');
    const st = node.status!;
    assert.deepEqual(st.capacity, { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' });
    assert.deepEqual(st.allocatable, st.capacity);
    assert.deepEqual(st.addresses, [
      { type: 'InternalIP', address: '172.30.0.5' },
      { type: 'Hostname', address: 'sim-4' },
    ]);
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ],
    );
    assert.equal(st.conditions?.[3]?.message, 'kubelet is posting ready status');
    assert.equal(st.nodeInfo?.kubeletVersion, 'v1.32.0-skiff-sim');
    assert.equal(st.nodeInfo?.containerRuntimeVersion, 'skiff-sim://1');
    assert.equal(st.nodeInfo?.operatingSystem, 'linux');
    assert.deepEqual(newSimNode({ name: 'sim-4', ordinal: 4, internalIP: '172.30.0.5', config, now: t1 }).status?.nodeInfo, st.nodeInfo, 'ids stay the same across restarts');
  });

  test('zones go round-robin: zone-a, zone-b, zone-c, then again; none with --zones=0', () => {
    assert.deepEqual([0, 1, 2, 3].map((i) => newSimNode({ name: `sim-${i}`, ordinal: i, internalIP: '172.30.0.1', config, now: t0 }).metadata.labels?.['topology.kubernetes.io/zone']), ['zone-a', 'zone-b', 'zone-c', 'zone-a']);
    const flat = parseSimConfig({ zones: '0' });
    assert.equal(newSimNode({ name: 'sim-0', ordinal: 0, internalIP: '172.30.0.1', config: flat, now: t0 }).metadata.labels?.['topology.kubernetes.io/zone'], undefined);
    assert.deepEqual([25, 26, 27].map(zoneName), ['zone-z', 'zone-aa', 'zone-ab']);
  });

  test('nodeOrdinal reads N of prefix+N only', () => {
    assert.equal(nodeOrdinal('sim-12', 'sim-'), 12);
    assert.equal(nodeOrdinal('sim-012', 'sim-'), undefined);
    assert.equal(nodeOrdinal('simx', 'sim-'), undefined);
    assert.equal(nodeOrdinal('other-1', 'sim-'), undefined);
  });
});

describe('capacity', () => {
  const userNode = (annotations: Record<string, string>, capacity?: Record<string, string>): Node => ({
    metadata: { name: 'big', annotations: { 'skiff.dev/simulated': 'true', ...annotations } },
    ...(capacity ? { status: { capacity } } : {}),
  });

  test('annotations win, then a user Node\'s own capacity, then the flags', () => {
    assert.deepEqual(capacityFor(userNode({ 'skiff.dev/capacity-cpu': '64', 'skiff.dev/capacity-pods': '500' }), config, false), {
      cpu: '64',
      memory: '32Gi',
      pods: '500',
      'ephemeral-storage': '100Gi',
    });
    assert.deepEqual(capacityFor(userNode({}, { cpu: '2', memory: '4Gi' }), config, false), { cpu: '2', memory: '4Gi', pods: '110', 'ephemeral-storage': '100Gi' });
    assert.deepEqual(capacityFor(userNode({ 'skiff.dev/capacity-cpu': 'lots' }), config, false).cpu, '8', 'a bad annotation is ignored');
  });

  test('a Node the simulator made follows the flags, not what its status says', () => {
    assert.equal(capacityFor(userNode({}, { cpu: '2' }), config, true).cpu, '8');
  });
});

describe('node status', () => {
  const base = newSimNode({ name: 'sim-0', ordinal: 0, internalIP: '172.30.0.1', config, now: t0 });
  const input = { internalIP: '172.30.0.1', capacity: base.status!.capacity!, now: t1 };

  test('a heartbeat moves lastHeartbeatTime and keeps lastTransitionTime; nothing differs but the heartbeat', () => {
    const hb = desiredNodeStatus(base, { ...input, heartbeat: true });
    for (const c of hb.conditions!) {
      assert.equal(c.lastHeartbeatTime, '2025-03-01T10:01:00Z');
      assert.equal(c.lastTransitionTime, '2025-03-01T10:00:00Z');
    }
    assert.equal(nodeStatusDiffers(base.status, hb), false);
    const quiet = desiredNodeStatus(base, { ...input, heartbeat: false });
    assert.equal(quiet.conditions![3]!.lastHeartbeatTime, '2025-03-01T10:00:00Z');
  });

  test('Ready=Unknown from the node lifecycle controller differs, and turns True with a new transition time', () => {
    const lost = structuredClone(base);
    const ready = lost.status!.conditions!.find((c) => c.type === 'Ready')!;
    Object.assign(ready, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    const want = desiredNodeStatus(lost, { ...input, heartbeat: false });
    assert.ok(nodeStatusDiffers(lost.status, want));
    const r = want.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual([r.status, r.lastTransitionTime, r.lastHeartbeatTime], ['True', '2025-03-01T10:01:00Z', '2025-03-01T10:01:00Z']);
  });

  test('a user Node without status differs; capacity is compared by value, not spelling', () => {
    assert.ok(nodeStatusDiffers(undefined, desiredNodeStatus(base, { ...input, heartbeat: false })));
    const spelled = structuredClone(base);
    spelled.status!.capacity = { ...spelled.status!.capacity, cpu: '8000m' };
    spelled.status!.allocatable = { ...spelled.status!.capacity };
    assert.equal(nodeStatusDiffers(spelled.status, desiredNodeStatus(base, { ...input, heartbeat: false })), false);
    const other = desiredNodeStatus(base, { ...input, capacity: { ...input.capacity, cpu: '16' }, heartbeat: false });
    assert.ok(nodeStatusDiffers(base.status, other));
  });

  test('someone else\'s condition is neither reported nor compared', () => {
    const withNet = structuredClone(base);
    withNet.status!.conditions!.push({ type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' });
    const want = desiredNodeStatus(withNet, { ...input, heartbeat: true });
    assert.equal(want.conditions!.length, 4);
    assert.equal(nodeStatusDiffers(withNet.status, want), false);
  });
});

test('the node Lease is valid, held by the node, owned by the Node, 40s long', () => {
  const lease = nodeLease('sim-0', 'uid-1', t0);
  assert.deepEqual(leases.validate!(lease), []);
  assert.equal(lease.metadata.namespace, 'kube-node-lease');
  assert.deepEqual(lease.spec, { holderIdentity: 'sim-0', leaseDurationSeconds: 40, renewTime: '2025-03-01T10:00:00.000000Z' });
  assert.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'sim-0', uid: 'uid-1' }]);
});
