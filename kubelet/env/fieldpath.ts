// The downward API's values: a pod field (fieldRef) or a container resource (resourceFieldRef),
// shared by env vars and downwardAPI/projected volumes. Texts and rounding follow the kubelet
// (pkg/fieldpath, pkg/api/v1/resource): maps print as sorted `key="value"` lines, CPU rounds up
// in millicores over the divisor, memory and ephemeral storage round up in bytes over it.

import type { Pod } from '../../lib/api/core/pod.js';
import { parseQuantity } from '../../lib/api/core/quantity.js';
import type { Container, ResourceFieldSelector } from '../../lib/api/core/types.js';

/** FieldPathError is a fieldRef or resourceFieldRef the kubelet cannot resolve. */
export class FieldPathError extends Error {}

/** formatMap prints labels or annotations as the downward API does: `key="value"` lines, keys sorted. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m![k])}`)
    .join('\n');
}

/** goQuote is Go's %q for the strings labels and annotations hold. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

const subscripted = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/;

/** supportedFieldLabels are the pod fields ConvertDownwardAPIFieldLabel accepts (v1). */
const supportedFieldLabels = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/**
 * convertFieldLabel checks a fieldRef's apiVersion and path as ConvertDownwardAPIFieldLabel does
 * and returns the internal path (spec.host is the old name of spec.nodeName).
 */
export function convertFieldLabel(apiVersion: string | undefined, fieldPath: string): string {
  if (apiVersion && apiVersion !== 'v1') throw new FieldPathError(`unsupported pod version: ${apiVersion}`);
  const m = subscripted.exec(fieldPath);
  if (m) return fieldPath;
  if (/\[.*\]$/.test(fieldPath)) throw new FieldPathError(`field label does not support subscript: ${fieldPath}`);
  if (fieldPath === 'spec.host') return 'spec.nodeName';
  if (!supportedFieldLabels.has(fieldPath)) throw new FieldPathError(`field label not supported: ${fieldPath}`);
  return fieldPath;
}

/** extractFieldPathAsString is fieldpath.ExtractFieldPathAsString: the pod's metadata fields (what downwardAPI volumes offer). */
export function extractFieldPathAsString(pod: Pod, fieldPath: string): string {
  const m = subscripted.exec(fieldPath);
  if (m) {
    const map = m[1] === 'metadata.labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[m[2]] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
  }
  throw new FieldPathError(`unsupported fieldPath: ${fieldPath}`);
}

/** RuntimeFields are the values of a pod's fields that only the node knows when a container is made. */
export interface RuntimeFields {
  hostIPs: string[];
  podIPs: string[];
}

/** podFieldSelectorRuntimeValue is an env var's fieldRef value: node and IP fields from the node, the rest from the pod. */
export function podFieldSelectorRuntimeValue(fs: { apiVersion?: string; fieldPath: string }, pod: Pod, runtime: RuntimeFields): string {
  const path = convertFieldLabel(fs.apiVersion, fs.fieldPath);
  switch (path) {
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return runtime.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return runtime.hostIPs.join(',');
    case 'status.podIP':
      return runtime.podIPs[0] ?? '';
    case 'status.podIPs':
      return runtime.podIPs.join(',');
  }
  return extractFieldPathAsString(pod, path);
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a % b === 0n ? a / b : a / b + (a > 0n === b > 0n ? 1n : 0n));

/** milliValue is Quantity.MilliValue(): the value in thousandths, rounded up. */
function milliValue(q: string | number | undefined): bigint {
  const n = parseQuantity(q)?.nanos ?? 0n;
  return ceilDiv(n, 1_000_000n);
}

/** value is Quantity.Value(): the value in units, rounded up. */
function value(q: string | number | undefined): bigint {
  const n = parseQuantity(q)?.nanos ?? 0n;
  return ceilDiv(n, 1_000_000_000n);
}

/** limitResources are the limits the kubelet fills from node allocatable for the downward API. */
const limitResources = ['cpu', 'memory', 'ephemeral-storage'];

/**
 * containerResourceValue is a resourceFieldRef's value for container: its request or limit over
 * the divisor (default 1), rounded up; a limit it does not set is the node's allocatable, as
 * the kubelet's defaultPodLimitsForDownwardAPI makes it.
 */
export function containerResourceValue(fs: ResourceFieldSelector, container: Container, nodeAllocatable: Record<string, string>): string {
  const divisorNanos = parseQuantity(fs.divisor)?.nanos ?? 0n;
  const divisor = divisorNanos === 0n ? '1' : fs.divisor!;
  const [kind, name] = splitResource(fs.resource);
  let list = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  if (kind === 'limits' && limitResources.includes(name) && list?.[name] === undefined) list = { ...list, [name]: nodeAllocatable[name] ?? '0' };
  const q = list?.[name];
  if (name === 'cpu') {
    const d = milliValue(divisor);
    return String(d === 0n ? 0n : ceilDiv(milliValue(q), d));
  }
  if (name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-')) {
    const d = value(divisor);
    return String(d === 0n ? 0n : ceilDiv(value(q), d));
  }
  throw new FieldPathError(`unsupported container resource : ${fs.resource}`);
}

function splitResource(resource: string): [string, string] {
  const dot = resource.indexOf('.');
  const kind = dot > 0 ? resource.slice(0, dot) : '';
  if (kind !== 'limits' && kind !== 'requests') throw new FieldPathError(`unsupported container resource : ${resource}`);
  return [kind, resource.slice(dot + 1)];
}

/** findContainer finds a container of the pod by name, as the downward API's containerName does. */
export function findContainer(pod: Pod, name: string): Container {
  const c = pod.spec.containers.find((x) => x.name === name) ?? pod.spec.initContainers?.find((x) => x.name === name);
  if (!c) throw new FieldPathError(`container ${name} not found`);
  return c;
}
