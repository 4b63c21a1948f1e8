// The stores behind metrics.k8s.io/v1beta1 nodes and pods: get and list only, computed from the
// scraper's readings for the Nodes and pods the registry holds (so label selectors, namespaces and
// field selectors work as for Nodes and pods), never stored. NotFound names the kind as
// metrics-server does: `podmetrics.metrics.k8s.io "default/web" not found`.

import type { KubeList, KubeObject } from '../../lib/api/meta.js';
import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import { nodeMetrics, podMetrics, type NodeMetrics, type PodMetrics, type ResourceUsage } from '../../lib/api/metrics/metrics.js';
import { goDuration } from '../../lib/machinery/duration.js';
import { isNotFound, methodNotAllowed, notFound } from '../../lib/machinery/status.js';
import type { APIRegistry } from '../registry/registry.js';
import { GenericStore, type ListQuery } from '../registry/store.js';
import type { ResourceMetricsScraper, Usage } from './scraper.js';

/** formatUsage prints usage as metrics-server does: CPU in nanocores, memory in Ki when whole. */
export function formatUsage(u: Pick<Usage, 'cpuCores' | 'memoryBytes'>): ResourceUsage {
  const bytes = Math.max(0, Math.round(u.memoryBytes));
  return { cpu: `${Math.max(0, Math.round(u.cpuCores * 1e9))}n`, memory: bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes) };
}

const everything: ListQuery = { predicate: () => true, selectorActive: false, resourceVersion: '0' };

/** metricsMeta is the metadata metrics-server gives: the object's name, namespace and labels, created now. */
function metricsMeta(obj: KubeObject, now: Date): KubeObject['metadata'] {
  const meta: KubeObject['metadata'] = { name: obj.metadata.name, creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  if (obj.metadata.namespace) meta.namespace = obj.metadata.namespace;
  if (obj.metadata.labels) meta.labels = obj.metadata.labels;
  return meta;
}

const orUndefined = (err: unknown) => {
  if (isNotFound(err)) return undefined;
  throw err;
};

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** windowText prints a window as a metav1.Duration (Go's time.Duration.String to the millisecond: "15.012s"). */
export function windowText(ms: number): string {
  const whole = Math.round(ms);
  if (whole >= 60_000) return goDuration(whole);
  const s = (whole / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${s}s`;
}

abstract class MetricsStore extends GenericStore {
  constructor(
    def: typeof nodeMetrics | typeof podMetrics,
    protected readonly registry: APIRegistry,
    protected readonly scraper: ResourceMetricsScraper,
  ) {
    super(def, registry.storage, registry.cache, (n) => registry.namespace(n));
  }

  protected source(resource: 'nodes' | 'pods'): GenericStore {
    return this.registry.lookup('', 'v1', resource)!;
  }

  override async watch(): Promise<() => void> {
    throw methodNotAllowed('GET', this.gr);
  }

  protected list_(items: KubeObject[]): KubeList {
    return { kind: `${this.def.kind}List`, apiVersion: this.apiVersion, metadata: {}, items };
  }
}

/** NodeMetricsStore serves metrics.k8s.io nodes. */
export class NodeMetricsStore extends MetricsStore {
  constructor(registry: APIRegistry, scraper: ResourceMetricsScraper) {
    super(nodeMetrics, registry, scraper);
  }

  private build(node: Node, now: Date): NodeMetrics | undefined {
    const u = this.scraper.nodeUsage(node.metadata.name ?? '');
    if (!u) return undefined;
    return { kind: 'NodeMetrics', apiVersion: this.apiVersion, metadata: metricsMeta(node, now), timestamp: rfc3339(u.timestampMs), window: windowText(u.windowMs), usage: formatUsage(u) };
  }

  override async get(_ns: string | undefined, name: string): Promise<KubeObject> {
    await this.scraper.ensureFresh();
    const node = (await this.source('nodes').get(undefined, name, '0').catch(orUndefined)) as Node | undefined;
    const m = node && this.build(node, new Date());
    if (!m) throw notFound({ group: 'metrics.k8s.io', resource: 'nodemetrics' }, name);
    return m;
  }

  override async list(q: ListQuery): Promise<KubeList> {
    await this.scraper.ensureFresh();
    const now = new Date();
    const nodes = (await this.source('nodes').list(everything)).items as Node[];
    return this.list_(nodes.filter(q.predicate).flatMap((n) => this.build(n, now) ?? []));
  }
}

/** PodMetricsStore serves metrics.k8s.io pods. */
export class PodMetricsStore extends MetricsStore {
  constructor(registry: APIRegistry, scraper: ResourceMetricsScraper) {
    super(podMetrics, registry, scraper);
  }

  private build(pod: Pod, now: Date): PodMetrics | undefined {
    const node = pod.spec?.nodeName;
    if (!node) return undefined;
    const containers = this.scraper.podUsage(node, pod.metadata.namespace ?? '', pod.metadata.name ?? '');
    if (!containers.length) return undefined;
    const ts = Math.max(...containers.map((c) => c.usage.timestampMs));
    const window = Math.max(...containers.map((c) => c.usage.windowMs));
    return {
      kind: 'PodMetrics',
      apiVersion: this.apiVersion,
      metadata: metricsMeta(pod, now),
      timestamp: rfc3339(ts),
      window: windowText(window),
      containers: containers.map((c) => ({ name: c.name, usage: formatUsage(c.usage) })),
    };
  }

  override async get(ns: string | undefined, name: string): Promise<KubeObject> {
    await this.scraper.ensureFresh();
    const pod = (await this.source('pods').get(ns, name, '0').catch(orUndefined)) as Pod | undefined;
    const m = pod && this.build(pod, new Date());
    if (!m) throw notFound({ group: 'metrics.k8s.io', resource: 'podmetrics' }, `${ns}/${name}`);
    return m;
  }

  override async list(q: ListQuery): Promise<KubeList> {
    await this.scraper.ensureFresh();
    const now = new Date();
    const pods = (await this.source('pods').list({ ...everything, namespace: q.namespace })).items as Pod[];
    return this.list_(pods.filter(q.predicate).flatMap((p) => this.build(p, now) ?? []));
  }
}
