import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeStatus } from '../api/core/node.js';
import { allocatableFor, kubeletNodeStatus, nodeConditions, nodeStatusDiff } from './status.js';

const t0 = new Date('2024-05-01T12:00:00Z');
const t1 = new Date('2024-05-01T12:00:40Z');
const nodeInfo = { machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: 'k', osImage: 'o', containerRuntimeVersion: 'r', kubeletVersion: 'v', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' };
const input = { internalIP: '10.0.0.5', hostname: 'n1', capacity: { cpu: '4', memory: '8Gi', pods: '110' }, nodeInfo, now: t0, heartbeat: true };

describe('allocatableFor', () => {
  const cases: [string, Record<string, string>, Record<string, string> | undefined, Record<string, string>][] = [
    ['nothing reserved: the same spelling', { cpu: '4', memory: '8Gi' }, undefined, { cpu: '4', memory: '8Gi' }],
    ['reserved is subtracted in the capacity\'s notation', { cpu: '4', memory: '8Gi', pods: '110' }, { cpu: '500m', memory: '1Gi' }, { cpu: '3500m', memory: '7Gi', pods: '110' }],
    ['never below zero', { cpu: '1' }, { cpu: '2' }, { cpu: '0' }],
  ];
  for (const [name, cap, res, want] of cases) test(name, () => assert.deepEqual(allocatableFor(cap, res), want));
});

describe('kubelet node status', () => {
  test('a new node: the four healthy conditions, InternalIP then Hostname', () => {
    const s = kubeletNodeStatus(undefined, input);
    assert.deepEqual(
      s.conditions!.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ['MemoryPressure=False/KubeletHasSufficientMemory', 'DiskPressure=False/KubeletHasNoDiskPressure', 'PIDPressure=False/KubeletHasSufficientPID', 'Ready=True/KubeletReady'],
    );
    assert.deepEqual(s.addresses, [
      { type: 'InternalIP', address: '10.0.0.5' },
      { type: 'Hostname', address: 'n1' },
    ]);
    assert.deepEqual(s.allocatable, s.capacity);
  });

  test('without a heartbeat the times stay; a status flip moves both', () => {
    const first = kubeletNodeStatus(undefined, input);
    const quiet = nodeConditions(first.conditions, [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }], t1, false);
    assert.equal(quiet[0]!.lastHeartbeatTime, '2024-05-01T12:00:00Z');
    const flipped = nodeConditions(first.conditions, [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'x' }], t1, false);
    assert.equal(flipped[0]!.lastHeartbeatTime, '2024-05-01T12:00:40Z');
    assert.equal(flipped[0]!.lastTransitionTime, '2024-05-01T12:00:40Z');
  });

  test('nodeStatusDiff ignores heartbeats and spelling, and names what differs', () => {
    const want = kubeletNodeStatus(undefined, input);
    const beat = kubeletNodeStatus(want, { ...input, now: t1 });
    assert.equal(nodeStatusDiff(want, beat), undefined);
    const respelled: NodeStatus = { ...want, capacity: { cpu: '4000m', memory: '8192Mi', pods: '110' } };
    assert.equal(nodeStatusDiff(respelled, want), undefined);
    assert.equal(nodeStatusDiff({ ...want, addresses: [] }, want), 'addresses');
    assert.equal(nodeStatusDiff(undefined, want), 'status');
  });
});
