// ResourceMetricsScraper is the apiserver's metrics-server: every 15 s (and on demand when its
// data is stale) it reads `/metrics/resource` from every Node's kubelet with the apiserver's
// kubelet client certificate, keeps the last two readings per node, and turns them into usage:
// CPU as the rate of the cumulative counter between the two readings (the window), memory as the
// latest working set, as metrics-server's storage does.
//
// A simulated Node (skiff.dev/simulated: "true") has no kubelet; the node simulator serves the
// readings of all its Nodes from one endpoint, named by the Node's skiff.dev/metrics-url
// annotation, which is then read once per scrape for all of them.

import https from 'node:https';
import type { Node } from '../../lib/api/core/node.js';
import { nodeAddress, NodeAddressType } from '../../lib/api/core/node.js';
import type { Logger } from '../../lib/log.js';
import { MetricsURLAnnotation, type NodeResourceMetrics, type PodResourceMetrics, type ResourceSample, parseResourceMetrics } from '../../lib/resourcemetrics/text.js';

const SimulatedAnnotation = 'skiff.dev/simulated';
const defaultKubeletPort = 10250;

/** Usage is a rate over a window: CPU in cores, memory in bytes, at the latest reading's time. */
export interface Usage {
  cpuCores: number;
  memoryBytes: number;
  timestampMs: number;
  windowMs: number;
}

/** usageBetween is the usage from two readings of the same counter; undefined when they give none (reset, no time between). */
export function usageBetween(prev: ResourceSample | undefined, cur: ResourceSample | undefined): Usage | undefined {
  if (!prev || !cur) return undefined;
  const dt = cur.timestampMs - prev.timestampMs;
  const dcpu = cur.cpuSeconds - prev.cpuSeconds;
  if (!(dt > 0) || !(dcpu >= 0) || !Number.isFinite(cur.memoryBytes)) return undefined;
  return { cpuCores: dcpu / (dt / 1000), memoryBytes: cur.memoryBytes, timestampMs: cur.timestampMs, windowMs: dt };
}

interface NodeReadings {
  previous?: Indexed;
  latest: Indexed;
  /** at is when latest was read (this process's clock). */
  at: number;
}

interface Indexed {
  metrics: NodeResourceMetrics;
  pods: Map<string, PodResourceMetrics>;
}

function index(metrics: NodeResourceMetrics): Indexed {
  return { metrics, pods: new Map(metrics.pods.map((p) => [`${p.namespace}/${p.name}`, p])) };
}

/** ScrapeTarget is one endpoint and the Nodes whose readings it holds. */
export interface ScrapeTarget {
  url: URL;
  /** shared: the endpoint serves several Nodes (samples carry a node label). */
  shared: boolean;
  nodes: string[];
}

/** scrapeTargets groups Nodes by the endpoint that serves their readings. */
export function scrapeTargets(nodes: Node[]): ScrapeTarget[] {
  const byURL = new Map<string, ScrapeTarget>();
  for (const n of nodes) {
    const name = n.metadata.name ?? '';
    const annotations = n.metadata.annotations ?? {};
    const simURL = annotations[SimulatedAnnotation] === 'true' ? annotations[MetricsURLAnnotation] : undefined;
    let url: URL | undefined;
    let shared = false;
    if (simURL) {
      try {
        url = new URL(simURL);
        shared = url.protocol === 'https:';
      } catch {
        url = undefined;
      }
      if (!shared) continue;
    } else {
      const host = nodeAddress(n, NodeAddressType.InternalIP) ?? nodeAddress(n, NodeAddressType.Hostname);
      if (!host) continue;
      const port = n.status?.daemonEndpoints?.kubeletEndpoint?.Port || defaultKubeletPort;
      url = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}/metrics/resource`);
    }
    const key = url!.href;
    const t = byURL.get(key) ?? { url: url!, shared, nodes: [] };
    t.nodes.push(name);
    byURL.set(key, t);
  }
  return [...byURL.values()];
}

export interface ScraperOptions {
  /** listNodes reads the Nodes (from the watch cache). */
  listNodes: () => Promise<Node[]>;
  /** fetch reads one endpoint's body. */
  fetch: (url: URL) => Promise<string>;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
  /** concurrency bounds the endpoints read at once. */
  concurrency?: number;
}

/** minWindowMs: a reading this soon after the last one replaces it instead of shifting the pair (the window stays long enough). */
const minWindowMs = 1_000;

export class ResourceMetricsScraper {
  private readonly readings = new Map<string, NodeReadings>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private inflight?: Promise<void>;
  private scrapes = 0;
  private lastScrapeAt = -Infinity;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: ScraperOptions) {
    this.intervalMs = opts.intervalMs ?? 15_000;
    this.now = opts.now ?? Date.now;
  }

  /** start scrapes now and every interval until stop. */
  start(): void {
    void this.scrape();
    this.timer = setInterval(() => void this.scrape(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** scrape reads every endpoint once; concurrent callers share one pass. */
  scrape(): Promise<void> {
    return (this.inflight ??= this.scrapeAll().finally(() => (this.inflight = undefined)));
  }

  /**
   * ensureFresh makes sure a request sees usage: it scrapes when the last pass is older than two
   * intervals, and when fewer than two passes were made it makes the second one a second after
   * the first, so the first `kubectl top` after start has a rate to show.
   */
  async ensureFresh(): Promise<void> {
    if (this.now() - this.lastScrapeAt > 2 * this.intervalMs) await this.scrape();
    if (this.scrapes < 2) {
      const wait = minWindowMs - (this.now() - this.lastScrapeAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.scrape();
    }
  }

  private async scrapeAll(): Promise<void> {
    const started = this.now();
    let nodes: Node[];
    try {
      nodes = await this.opts.listNodes();
    } catch (err) {
      this.opts.log.warn('Listing nodes for resource metrics failed', { err: err as Error });
      return;
    }
    const names = new Set(nodes.map((n) => n.metadata.name ?? ''));
    for (const name of this.readings.keys()) if (!names.has(name)) this.readings.delete(name);
    const targets = scrapeTargets(nodes);
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const t = targets[next++]!;
        await this.scrapeTarget(t);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 16, targets.length) }, worker));
    this.scrapes++;
    this.lastScrapeAt = started;
  }

  private async scrapeTarget(t: ScrapeTarget): Promise<void> {
    let body: string;
    try {
      body = await this.opts.fetch(t.url);
    } catch (err) {
      this.opts.log.v(2).info('Scraping resource metrics failed', { url: t.url.href, nodes: t.nodes.length, err: err as Error });
      return;
    }
    const at = this.now();
    let parsed: Map<string, NodeResourceMetrics>;
    try {
      parsed = parseResourceMetrics(body, at);
    } catch (err) {
      this.opts.log.warn('Resource metrics did not parse', { url: t.url.href, err: err as Error });
      return;
    }
    for (const name of t.nodes) {
      const m = parsed.get(t.shared ? name : '');
      if (m) this.record(name, m, at);
    }
  }

  private record(node: string, metrics: NodeResourceMetrics, at: number): void {
    const cur = this.readings.get(node);
    const latest = index(metrics);
    if (!cur) this.readings.set(node, { latest, at });
    else if (at - cur.at < minWindowMs) this.readings.set(node, { previous: cur.previous, latest, at });
    else this.readings.set(node, { previous: cur.latest, latest, at });
  }

  /** nodeUsage is a Node's usage, if two readings give one. */
  nodeUsage(node: string): Usage | undefined {
    const r = this.readings.get(node);
    return usageBetween(r?.previous?.metrics.node, r?.latest.metrics.node);
  }

  /** podUsage is each container's usage of a pod on a node (only containers with a rate). */
  podUsage(node: string, namespace: string, name: string): { name: string; usage: Usage }[] {
    const r = this.readings.get(node);
    const key = `${namespace}/${name}`;
    const cur = r?.latest.pods.get(key);
    const prev = r?.previous?.pods.get(key);
    if (!cur || !prev) return [];
    const out: { name: string; usage: Usage }[] = [];
    for (const c of cur.containers) {
      const usage = usageBetween(prev.containers.find((p) => p.name === c.name)?.sample, c.sample);
      if (usage) out.push({ name: c.name, usage });
    }
    return out;
  }
}

/** kubeletFetcher reads an endpoint with the apiserver's kubelet client certificate. */
export function kubeletFetcher(tls: { cert: Buffer; key: Buffer; ca?: Buffer }, timeoutMs = 10_000): (url: URL) => Promise<string> {
  const agent = new https.Agent({ cert: tls.cert, key: tls.key, ca: tls.ca, rejectUnauthorized: !!tls.ca, keepAlive: true, maxSockets: 16 });
  return (url) =>
    new Promise((resolve, reject) => {
      const req = https.get(url, { agent, timeout: timeoutMs, headers: { accept: 'text/plain' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`${url.href} answered ${res.statusCode}: ${body.slice(0, 200)}`));
          else resolve(body);
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${url.href} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
    });
}
