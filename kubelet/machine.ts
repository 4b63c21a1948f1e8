// What the kubelet reports about its machine, as the real kubelet's cAdvisor-backed setters do:
// readMachineFacts gathers the facts once (CPU count, memory, the root dir's filesystem, kernel,
// OS image, machine/boot/system ids), and the pure functions below turn facts into a Node's
// capacity, allocatable reservations, nodeInfo and default labels, so they are tested as tables.

import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { arch as osArch, cpus, platform, release } from 'node:os';
import type { NodeSystemInfo } from '../lib/api/core/node.js';
import type { ResourceList } from '../lib/api/core/types.js';

/** KubeletVersion is the version skiff's kubelet reports (nodeInfo.kubeletVersion), the apiserver's line. */
export const KubeletVersion = 'v1.32.0-skiff';

/** DefaultMaxPods is the kubelet's default --max-pods. */
export const DefaultMaxPods = 110;

/** MachineFacts are the readings a Node's status is made of. */
export interface MachineFacts {
  cpus: number;
  /** memoryKi is MemTotal from /proc/meminfo. */
  memoryKi: number;
  /** ephemeralStorageBytes is the size of the filesystem holding the kubelet's root dir. */
  ephemeralStorageBytes: number;
  /** hugePageSizesKi are the huge page sizes the kernel offers (each reported with capacity 0). */
  hugePageSizesKi: number[];
  kernelVersion: string;
  osImage: string;
  /** operatingSystem and architecture are GOOS/GOARCH-style (linux, amd64). */
  operatingSystem: string;
  architecture: string;
  machineID: string;
  bootID: string;
  systemUUID: string;
}

/** goArch is Node's process.arch spelled as Go's GOARCH, which Kubernetes labels use. */
export function goArch(nodeArch: string): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

/** osImageFrom is PRETTY_NAME of an os-release file's text, or "Linux" when it has none. */
export function osImageFrom(osRelease: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  if (!m) return 'Linux';
  return m[1]!.trim().replace(/^["']|["']$/g, '');
}

/** memTotalKi is MemTotal of /proc/meminfo's text, in KiB. */
export function memTotalKi(meminfo: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  if (!m) throw new Error('no MemTotal in /proc/meminfo');
  return Number(m[1]);
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** readMachineFacts reads this machine's facts; rootDir's filesystem is the ephemeral storage. */
export function readMachineFacts(rootDir: string): MachineFacts {
  const fs = statfsSync(rootDir);
  let hugePageSizesKi: number[] = [];
  try {
    hugePageSizesKi = hugePageSizes(readdirSync('/sys/kernel/mm/hugepages'));
  } catch {
    // no huge pages on this kernel
  }
  return {
    cpus: cpus().length,
    memoryKi: memTotalKi(readFileSync('/proc/meminfo', 'utf8')),
    ephemeralStorageBytes: Number(fs.blocks) * Number(fs.bsize),
    hugePageSizesKi,
    kernelVersion: release(),
    osImage: osImageFrom(readTrimmed('/etc/os-release') || readTrimmed('/usr/lib/os-release')),
    operatingSystem: platform(),
    architecture: goArch(osArch()),
    machineID: readTrimmed('/etc/machine-id') || readTrimmed('/var/lib/dbus/machine-id'),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid').toLowerCase(),
  };
}

/** hugePageSizes reads the entries of /sys/kernel/mm/hugepages (hugepages-<n>kB) as sizes in KiB. */
export function hugePageSizes(entries: string[]): number[] {
  return entries.map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1]).filter((n): n is string => !!n).map(Number).sort((a, b) => a - b);
}

/** hugePageResource is the resource name of a huge page size (2048 KiB → hugepages-2Mi). */
export function hugePageResource(sizeKi: number): string {
  if (sizeKi % (1024 * 1024) === 0) return `hugepages-${sizeKi / (1024 * 1024)}Gi`;
  if (sizeKi % 1024 === 0) return `hugepages-${sizeKi / 1024}Mi`;
  return `hugepages-${sizeKi}Ki`;
}

/** nodeCapacity is a Node's status.capacity from the machine's facts, as the kubelet reports it. */
export function nodeCapacity(facts: MachineFacts, maxPods: number = DefaultMaxPods): ResourceList {
  const out: ResourceList = {
    cpu: String(facts.cpus),
    'ephemeral-storage': `${Math.floor(facts.ephemeralStorageBytes / 1024)}Ki`,
  };
  for (const size of facts.hugePageSizesKi) out[hugePageResource(size)] = '0';
  out.memory = `${facts.memoryKi}Ki`;
  out.pods = String(maxPods);
  return out;
}

/**
 * nodeReserved is what the kubelet subtracts from capacity for allocatable with its defaults: no
 * kube- or system-reserved, and the hard eviction thresholds memory.available<100Mi and
 * nodefs.available<10%.
 */
export function nodeReserved(facts: MachineFacts): ResourceList {
  return {
    memory: '100Mi',
    'ephemeral-storage': String(Math.ceil((Math.floor(facts.ephemeralStorageBytes / 1024) * 1024) / 10)),
  };
}

/** nodeSystemInfo is status.nodeInfo from the facts and the runtime's CRI Version answer. */
export function nodeSystemInfo(facts: MachineFacts, runtime: { runtime_name: string; runtime_version: string }): NodeSystemInfo {
  return {
    machineID: facts.machineID,
    systemUUID: facts.systemUUID,
    bootID: facts.bootID,
    kernelVersion: facts.kernelVersion,
    osImage: facts.osImage,
    containerRuntimeVersion: `${runtime.runtime_name}://${runtime.runtime_version}`,
    kubeletVersion: KubeletVersion,
    kubeProxyVersion: '',
    operatingSystem: facts.operatingSystem,
    architecture: facts.architecture,
  } as NodeSystemInfo;
}

/** defaultNodeLabels are the labels a kubelet puts on its Node (beta labels aside). */
export function defaultNodeLabels(nodeName: string, facts: Pick<MachineFacts, 'operatingSystem' | 'architecture'>): Record<string, string> {
  return {
    'kubernetes.io/arch': facts.architecture,
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': facts.operatingSystem,
  };
}
