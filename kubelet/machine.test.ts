import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQuantity } from '../lib/api/core/quantity.js';
import { allocatableFor } from '../lib/node/status.js';
import {
  KubeletVersion,
  type MachineFacts,
  defaultNodeLabels,
  goArch,
  hugePageSizes,
  memTotalKi,
  nodeCapacity,
  nodeReserved,
  nodeSystemInfo,
  osImageFrom,
} from './machine.js';

const facts: MachineFacts = {
  cpus: 2,
  memoryKi: 8_138_412,
  ephemeralStorageBytes: 50 * 1024 * 1024 * 1024,
  hugePageSizesKi: [2048, 1048576],
  kernelVersion: '6.1.0-18-amd64',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  machineID: 'abc',
  bootID: 'def',
  systemUUID: 'ec2d-…',
};

test('capacity is the machine: cores, MemTotal and the root filesystem in Ki, huge pages at 0, pods from --max-pods', () => {
  assert.deepEqual(nodeCapacity(facts), {
    cpu: '2',
    'ephemeral-storage': '52428800Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: '8138412Ki',
    pods: '110',
  });
  assert.equal(nodeCapacity(facts, 30).pods, '30');
});

test('allocatable subtracts the default hard eviction thresholds: 100Mi of memory and 10% of the root filesystem', () => {
  const alloc = allocatableFor(nodeCapacity(facts), nodeReserved(facts));
  assert.equal(alloc.memory, `${8_138_412 - 102_400}Ki`);
  // 10% of 52428800Ki in bytes, rounded up: what the kubelet shows as allocatable ephemeral storage.
  assert.equal(parseQuantity(alloc['ephemeral-storage'])!.nanos, BigInt(52428800 * 1024 - Math.ceil((52428800 * 1024) / 10)) * 1_000_000_000n);
  assert.equal(alloc.cpu, '2');
  assert.equal(alloc.pods, '110');
});

test('nodeInfo names the runtime as <name>://<version>, the kubelet as skiff\'s v1.32 line', () => {
  const info = nodeSystemInfo(facts, { runtime_name: 'containerd', runtime_version: '1.6.20~ds1' });
  assert.equal(info.containerRuntimeVersion, 'containerd://1.6.20~ds1');
  assert.equal(info.kubeletVersion, KubeletVersion);
  assert.match(KubeletVersion, /^v1\.32\.\d+/);
  assert.equal(info.osImage, 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(info.architecture, 'amd64');
});

test('machine readings: os-release, meminfo, architectures, huge page dirs, labels', () => {
  assert.equal(osImageFrom('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(osImageFrom('ID=x\n'), 'Linux');
  assert.equal(memTotalKi('MemTotal:        8138412 kB\nMemFree: 1 kB\n'), 8138412);
  assert.throws(() => memTotalKi('nothing'));
  assert.equal(goArch('x64'), 'amd64');
  assert.equal(goArch('arm64'), 'arm64');
  assert.deepEqual(hugePageSizes(['hugepages-1048576kB', 'hugepages-2048kB', 'other']), [2048, 1048576]);
  assert.deepEqual(defaultNodeLabels('vm', facts), { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'vm', 'kubernetes.io/os': 'linux' });
});
