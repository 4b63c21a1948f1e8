// The kubelet's resource metrics endpoint (`/metrics/resource`, the Prometheus text metrics-server
// scrapes): cumulative CPU seconds and memory working sets of the node, its pods and their
// containers, each sample with its own timestamp. renderResourceMetrics writes it (the kubelet and
// the node simulator); parseResourceMetrics reads it back (the apiserver's metrics scraper).
//
// The node simulator serves many nodes from one endpoint: it adds a `node` label to every sample,
// and the parser groups samples by it (no label: the one node the endpoint belongs to).

/**
 * MetricsURLAnnotation names the endpoint that serves a simulated Node's readings (the node
 * simulator's, for all its Nodes at once); the apiserver reads it instead of a kubelet's.
 */
export const MetricsURLAnnotation = 'skiff.dev/metrics-url';

/** ResourceSample is one reading: CPU core-seconds since start, memory working set, and when. */
export interface ResourceSample {
  cpuSeconds: number;
  memoryBytes: number;
  timestampMs: number;
}

export interface ContainerResourceMetrics {
  name: string;
  sample: ResourceSample;
}

export interface PodResourceMetrics {
  namespace: string;
  name: string;
  /** sample is the pod's own total; containers the per-container readings. */
  sample?: ResourceSample;
  containers: ContainerResourceMetrics[];
}

/** NodeResourceMetrics is what one node reports. */
export interface NodeResourceMetrics {
  node?: ResourceSample;
  pods: PodResourceMetrics[];
  /** scrapeError: the kubelet could not read some container's stats (resource_scrape_error 1). */
  scrapeError: boolean;
}

const help: Record<string, [string, 'counter' | 'gauge']> = {
  container_cpu_usage_seconds_total: ['[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter'],
  container_memory_working_set_bytes: ['[STABLE] Current working set of the container in bytes', 'gauge'],
  node_cpu_usage_seconds_total: ['[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter'],
  node_memory_working_set_bytes: ['[STABLE] Current working set of the node in bytes', 'gauge'],
  pod_cpu_usage_seconds_total: ['[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter'],
  pod_memory_working_set_bytes: ['[STABLE] Current working set of the pod in bytes', 'gauge'],
  resource_scrape_error: ['[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge'],
};

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: [string, string][]): string {
  return labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

/** formatNumber prints a sample value as Prometheus' text format does (Go's strconv 'g' style is not required). */
function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : '0';
}

/**
 * renderResourceMetrics is the body of `/metrics/resource` for the given nodes: one entry with
 * node name '' (no `node` label) for a kubelet, one per node (labelled) for the simulator.
 */
export function renderResourceMetrics(nodes: Map<string, NodeResourceMetrics>): string {
  const lines = new Map<string, string[]>(Object.keys(help).map((k) => [k, []]));
  const add = (metric: string, labels: [string, string][], value: number, ts?: number) => {
    lines.get(metric)!.push(`${metric}${labelText(labels)} ${formatNumber(value)}${ts !== undefined ? ` ${Math.round(ts)}` : ''}`);
  };
  for (const [nodeName, m] of nodes) {
    const nodeLabel: [string, string][] = nodeName ? [['node', nodeName]] : [];
    if (m.node) {
      add('node_cpu_usage_seconds_total', nodeLabel, m.node.cpuSeconds, m.node.timestampMs);
      add('node_memory_working_set_bytes', nodeLabel, m.node.memoryBytes, m.node.timestampMs);
    }
    for (const p of m.pods) {
      const podLabels: [string, string][] = [['namespace', p.namespace], ...nodeLabel, ['pod', p.name]];
      for (const c of p.containers) {
        const labels: [string, string][] = [['container', c.name], ...podLabels];
        add('container_cpu_usage_seconds_total', labels, c.sample.cpuSeconds, c.sample.timestampMs);
        add('container_memory_working_set_bytes', labels, c.sample.memoryBytes, c.sample.timestampMs);
      }
      if (p.sample) {
        add('pod_cpu_usage_seconds_total', podLabels, p.sample.cpuSeconds, p.sample.timestampMs);
        add('pod_memory_working_set_bytes', podLabels, p.sample.memoryBytes, p.sample.timestampMs);
      }
    }
    add('resource_scrape_error', nodeLabel, m.scrapeError ? 1 : 0);
  }
  let out = '';
  for (const [metric, ls] of lines) {
    if (!ls.length) continue;
    const [text, type] = help[metric]!;
    out += `# HELP ${metric} ${text}\n# TYPE ${metric} ${type}\n${ls.join('\n')}\n`;
  }
  return out;
}

/** ResourceMetricsParseError is a body that is not Prometheus text. */
export class ResourceMetricsParseError extends Error {
  override name = 'ResourceMetricsParseError';
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const m of text.matchAll(labelPair)) out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return out;
}

/**
 * parseResourceMetrics reads a `/metrics/resource` body into readings per node ('' when the
 * samples carry no `node` label). Samples without a timestamp are taken at nowMs. Other metrics
 * are skipped, as metrics-server skips them.
 */
export function parseResourceMetrics(text: string, nowMs: number): Map<string, NodeResourceMetrics> {
  const nodes = new Map<string, NodeResourceMetrics>();
  const pods = new Map<string, PodResourceMetrics>();
  const containers = new Map<string, ContainerResourceMetrics>();
  const nodeOf = (name: string) => {
    let n = nodes.get(name);
    if (!n) nodes.set(name, (n = { pods: [], scrapeError: false }));
    return n;
  };
  const fresh = (ts: number): ResourceSample => ({ cpuSeconds: NaN, memoryBytes: NaN, timestampMs: ts });
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = sampleLine.exec(line);
    if (!m) throw new ResourceMetricsParseError(`not a metrics line: ${line.slice(0, 100)}`);
    const metric = m[1]!;
    const labels = parseLabels(m[3]);
    const value = Number(m[4]);
    const ts = m[5] !== undefined ? Number(m[5]) : nowMs;
    const node = nodeOf(labels.node ?? '');
    const set = (s: ResourceSample, cpu: boolean) => {
      if (cpu) s.cpuSeconds = value;
      else s.memoryBytes = value;
      s.timestampMs = Math.max(s.timestampMs, ts);
    };
    switch (metric) {
      case 'node_cpu_usage_seconds_total':
      case 'node_memory_working_set_bytes':
        node.node ??= fresh(ts);
        set(node.node, metric.startsWith('node_cpu'));
        break;
      case 'pod_cpu_usage_seconds_total':
      case 'pod_memory_working_set_bytes':
      case 'container_cpu_usage_seconds_total':
      case 'container_memory_working_set_bytes': {
        const podKey = `${labels.node ?? ''}/${labels.namespace ?? ''}/${labels.pod ?? ''}`;
        let pod = pods.get(podKey);
        if (!pod) {
          pod = { namespace: labels.namespace ?? '', name: labels.pod ?? '', containers: [] };
          pods.set(podKey, pod);
          node.pods.push(pod);
        }
        const cpu = metric.includes('_cpu_');
        if (metric.startsWith('pod_')) {
          pod.sample ??= fresh(ts);
          set(pod.sample, cpu);
        } else {
          const cKey = `${podKey}/${labels.container ?? ''}`;
          let c = containers.get(cKey);
          if (!c) {
            c = { name: labels.container ?? '', sample: fresh(ts) };
            containers.set(cKey, c);
            pod.containers.push(c);
          }
          set(c.sample, cpu);
        }
        break;
      }
      case 'resource_scrape_error':
        node.scrapeError = value !== 0;
        break;
      default:
    }
  }
  return nodes;
}
