// What simulated pods use, for the resource metrics the simulator serves in place of the
// kubelets' `/metrics/resource` (so `kubectl top` and the HPA work on simulated Nodes). A pod's
// annotations skiff.dev/sim-cpu and skiff.dev/sim-memory set its total usage (split over its
// containers by their requests); without them each container uses a tenth of its CPU request
// and half of its memory request (1m and 8Mi without requests). The counters are made so that
// any two readings give the set usage: a pod's CPU seconds are its usage times its running
// time; a Node's are accumulated between readings from the usage of the pods on it at the time.

import type { Pod } from '../lib/api/core/pod.js';
import type { Container, Quantity } from '../lib/api/core/types.js';
import { parseQuantity } from '../lib/api/core/quantity.js';
import { type NodeResourceMetrics, type PodResourceMetrics, renderResourceMetrics } from '../lib/resourcemetrics/text.js';

export const SimCPUAnnotation = 'skiff.dev/sim-cpu';
export const SimMemoryAnnotation = 'skiff.dev/sim-memory';

/** nodeBaseUsage is what a simulated Node uses besides its pods (its "system" share). */
export const nodeBaseUsage = { cpuCores: 0.05, memoryBytes: 256 * 1024 * 1024 };

const defaultCPUShare = 0.1;
const defaultMemoryShare = 0.5;
const noRequestCPU = 0.001;
const noRequestMemory = 8 * 1024 * 1024;

/** quantityValue is a quantity as a number of units (cores, bytes); undefined when absent or invalid. */
function quantityValue(q: Quantity | undefined): number | undefined {
  const p = parseQuantity(q);
  return p && p.nanos >= 0n ? Number(p.nanos) / 1e9 : undefined;
}

export interface ContainerUsage {
  name: string;
  cpuCores: number;
  memoryBytes: number;
}

/** split shares a pod total over containers by their requests of resource (evenly when none has one). */
function split(total: number, containers: Container[], resource: 'cpu' | 'memory'): number[] {
  const reqs = containers.map((c) => quantityValue(c.resources?.requests?.[resource]) ?? 0);
  const sum = reqs.reduce((a, b) => a + b, 0);
  return containers.map((_, i) => (sum > 0 ? (total * reqs[i]!) / sum : total / containers.length));
}

/** simulatedUsage is what each container of a pod uses. */
export function simulatedUsage(pod: Pod): ContainerUsage[] {
  const containers = pod.spec?.containers ?? [];
  if (!containers.length) return [];
  const annotations = pod.metadata?.annotations ?? {};
  const cpuTotal = quantityValue(annotations[SimCPUAnnotation]);
  const memTotal = quantityValue(annotations[SimMemoryAnnotation]);
  const cpu = cpuTotal !== undefined ? split(cpuTotal, containers, 'cpu') : undefined;
  const mem = memTotal !== undefined ? split(memTotal, containers, 'memory') : undefined;
  return containers.map((c, i) => {
    const reqCPU = quantityValue(c.resources?.requests?.cpu);
    const reqMem = quantityValue(c.resources?.requests?.memory);
    return {
      name: c.name,
      cpuCores: cpu?.[i] ?? (reqCPU !== undefined ? reqCPU * defaultCPUShare : noRequestCPU),
      memoryBytes: Math.round(mem?.[i] ?? (reqMem !== undefined ? reqMem * defaultMemoryShare : noRequestMemory)),
    };
  });
}

/** podStartMs is when a simulated pod started running (its status.startTime, else its creation). */
function podStartMs(pod: Pod): number {
  const t = Date.parse(pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : 0;
}

/** SimResourceMetrics renders the readings of every simulated Node, keeping each Node's CPU counter between readings. */
export class SimResourceMetrics {
  private readonly nodeCPU = new Map<string, { seconds: number; atMs: number }>();

  /**
   * render is the `/metrics/resource` body for nodes (name → its running pods), every sample
   * labelled with its node, at nowMs.
   */
  render(nodes: Map<string, Pod[]>, nowMs: number): string {
    const out = new Map<string, NodeResourceMetrics>();
    for (const [node, pods] of nodes) {
      let cpu = nodeBaseUsage.cpuCores;
      let mem = nodeBaseUsage.memoryBytes;
      const podMetrics: PodResourceMetrics[] = [];
      for (const pod of pods) {
        const running = Math.max(0, nowMs - podStartMs(pod)) / 1000;
        const usage = simulatedUsage(pod);
        const containers = usage.map((u) => ({ name: u.name, sample: { cpuSeconds: u.cpuCores * running, memoryBytes: u.memoryBytes, timestampMs: nowMs } }));
        const podCPU = usage.reduce((a, u) => a + u.cpuCores, 0);
        const podMem = usage.reduce((a, u) => a + u.memoryBytes, 0);
        cpu += podCPU;
        mem += podMem;
        podMetrics.push({ namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', containers, sample: { cpuSeconds: podCPU * running, memoryBytes: podMem, timestampMs: nowMs } });
      }
      const acc = this.nodeCPU.get(node) ?? { seconds: 0, atMs: nowMs };
      acc.seconds += cpu * Math.max(0, nowMs - acc.atMs) / 1000;
      acc.atMs = nowMs;
      this.nodeCPU.set(node, acc);
      out.set(node, { node: { cpuSeconds: acc.seconds, memoryBytes: mem, timestampMs: nowMs }, pods: podMetrics, scrapeError: false });
    }
    for (const name of this.nodeCPU.keys()) if (!nodes.has(name)) this.nodeCPU.delete(name);
    return renderResourceMetrics(out);
  }
}
