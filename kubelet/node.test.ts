import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MachineFacts } from './machine.js';
import { type KubeletNodeInput, desiredNodeStatus, nodeStatusEvents, readyConditionFor, registrationNode } from './node.js';

const facts: MachineFacts = {
  cpus: 4,
  memoryKi: 4_000_000,
  ephemeralStorageBytes: 10 * 1024 ** 3,
  hugePageSizesKi: [],
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  machineID: 'm',
  bootID: 'b',
  systemUUID: 'u',
};
const input: KubeletNodeInput = {
  nodeName: 'vm',
  nodeIP: '192.0.2.2',
  hostname: 'vm',
  facts,
  runtimeVersion: { runtime_name: 'containerd', runtime_version: '1.6.20' },
  maxPods: 110,
  kubeletPort: 10250,
  labels: { tier: 'edge' },
  taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }],
};

const notInitialized = [
  { type: 'RuntimeReady', status: true, reason: '', message: '' },
  { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'Network plugin returns error: cni plugin not initialized' },
];

test('while the runtime\'s network is not ready the Node is NotReady with the kubelet\'s reason and message', () => {
  assert.deepEqual(readyConditionFor(notInitialized), {
    type: 'Ready',
    status: 'False',
    reason: 'KubeletNotReady',
    message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
  });
  const ready = readyConditionFor([{ ...notInitialized[0]! }, { type: 'NetworkReady', status: true, reason: '', message: '' }]);
  assert.deepEqual(ready, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
  assert.match(readyConditionFor(new Error('connection refused')).message!, /^container runtime is down/);
});

test('the Node registers with the default labels, --node-labels and its taints', () => {
  const node = registrationNode(input);
  assert.deepEqual(node.metadata?.labels, { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'vm', 'kubernetes.io/os': 'linux', tier: 'edge' });
  assert.deepEqual(node.spec?.taints, input.taints);
});

test('status: conditions in the kubelet\'s order, addresses, capacity, nodeInfo and the kubelet endpoint port', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const s = desiredNodeStatus(undefined, input, readyConditionFor(notInitialized), now, true);
  assert.deepEqual(s.conditions?.map((c) => `${c.type}=${c.status}`), ['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=False']);
  assert.deepEqual(s.addresses, [{ type: 'InternalIP', address: '192.0.2.2' }, { type: 'Hostname', address: 'vm' }]);
  assert.equal(s.capacity?.cpu, '4');
  assert.equal(s.nodeInfo?.containerRuntimeVersion, 'containerd://1.6.20');
  assert.deepEqual(s.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
});

test('condition changes become the kubelet\'s node events; unchanged ones do not', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const notReady = desiredNodeStatus(undefined, input, readyConditionFor(notInitialized), now, true);
  assert.deepEqual(nodeStatusEvents('vm', undefined, notReady).map((e) => e.reason), ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID', 'NodeNotReady']);
  const ready = desiredNodeStatus(notReady, input, readyConditionFor([{ ...notInitialized[0]! }, { type: 'NetworkReady', status: true, reason: '', message: '' }]), now, false);
  assert.deepEqual(nodeStatusEvents('vm', notReady, ready), [{ type: 'Normal', reason: 'NodeReady', message: 'Node vm status is now: NodeReady' }]);
  assert.deepEqual(nodeStatusEvents('vm', ready, ready), []);
});
