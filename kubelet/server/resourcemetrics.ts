// The kubelet's `/metrics/resource` (pkg/kubelet/metrics/collectors/resource_metrics.go): the
// node's and every running container's cumulative CPU seconds and memory working set, which the
// apiserver's metrics scraper turns into metrics.k8s.io. Containers come from CRI
// ListContainerStats (grouped into pods by the kubelet's CRI labels); the node from /proc (CPU
// time that is not idle or iowait, memory in use less what the kernel can reclaim at once).

import { readFile } from 'node:fs/promises';
import type { CriClient } from '../cri/client.js';
import type { ContainerStats } from '../cri/types.js';
import { ContainerNameLabel, PodNameLabel, PodNamespaceLabel } from '../labels.js';
import { type NodeResourceMetrics, type PodResourceMetrics, renderResourceMetrics } from '../../lib/resourcemetrics/text.js';

/** userHz is the unit of /proc/stat's CPU times (USER_HZ, 100 on every Linux the kubelet runs on). */
const userHz = 100;

/** nodeCPUSeconds reads /proc/stat's first line: every CPU's busy time, in seconds. */
export function nodeCPUSeconds(procStat: string): number | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / userHz;
}

/** nodeWorkingSetBytes reads /proc/meminfo: MemTotal less MemAvailable. */
export function nodeWorkingSetBytes(meminfo: string): number | undefined {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return total !== undefined && available !== undefined ? total - available : undefined;
}

const nanosToMs = (ns: string | number) => Number(BigInt(ns) / 1_000_000n);

/** podsFromStats groups container stats into pods; of several attempts of a container, the newest reading counts. */
export function podsFromStats(stats: ContainerStats[]): { pods: PodResourceMetrics[]; incomplete: boolean } {
  const pods = new Map<string, PodResourceMetrics>();
  let incomplete = false;
  for (const s of stats) {
    const labels = s.attributes?.labels ?? {};
    const namespace = labels[PodNamespaceLabel];
    const name = labels[PodNameLabel];
    const container = labels[ContainerNameLabel] ?? s.attributes?.metadata?.name;
    const cpu = s.cpu?.usage_core_nano_seconds?.value;
    const mem = s.memory?.working_set_bytes?.value;
    if (!namespace || !name || !container) continue;
    if (cpu === undefined || mem === undefined || !s.cpu?.timestamp) {
      incomplete = true;
      continue;
    }
    const key = `${namespace}/${name}`;
    let pod = pods.get(key);
    if (!pod) pods.set(key, (pod = { namespace, name, containers: [] }));
    const sample = { cpuSeconds: Number(BigInt(cpu)) / 1e9, memoryBytes: Number(mem), timestampMs: nanosToMs(s.cpu.timestamp) };
    const existing = pod.containers.find((c) => c.name === container);
    if (existing) {
      if (sample.timestampMs >= existing.sample.timestampMs) existing.sample = sample;
    } else pod.containers.push({ name: container, sample });
  }
  for (const pod of pods.values()) {
    pod.sample = {
      cpuSeconds: pod.containers.reduce((a, c) => a + c.sample.cpuSeconds, 0),
      memoryBytes: pod.containers.reduce((a, c) => a + c.sample.memoryBytes, 0),
      timestampMs: Math.max(...pod.containers.map((c) => c.sample.timestampMs)),
    };
  }
  return { pods: [...pods.values()], incomplete };
}

/** collectResourceMetrics reads the node and its containers now and renders `/metrics/resource`. */
export async function collectResourceMetrics(cri: CriClient, procRoot = '/proc'): Promise<string> {
  const now = Date.now();
  const out: NodeResourceMetrics = { pods: [], scrapeError: false };
  const [stat, meminfo] = await Promise.all([readFile(`${procRoot}/stat`, 'utf8').catch(() => ''), readFile(`${procRoot}/meminfo`, 'utf8').catch(() => '')]);
  const cpu = nodeCPUSeconds(stat);
  const mem = nodeWorkingSetBytes(meminfo);
  if (cpu !== undefined && mem !== undefined) out.node = { cpuSeconds: cpu, memoryBytes: mem, timestampMs: now };
  try {
    const { pods, incomplete } = podsFromStats(await cri.listContainerStats());
    out.pods = pods;
    out.scrapeError = incomplete;
  } catch {
    out.scrapeError = true;
  }
  return renderResourceMetrics(new Map([['', out]]));
}
