// Pod warnings: what kube-apiserver tells a client about a pod spec it accepts but that will not
// do what it says (pkg/api/pod/warnings.go), for pods and for the pod templates of workloads. The
// common cases only: deprecated node labels and annotations, duplicate or empty image pull
// secrets, fractional byte quantities, environment variables that hide earlier ones, ambiguous
// ports, a negative grace period, and topology spread constraints that match nothing.

import type { ObjectMeta } from '../meta.js';
import { Path } from '../../machinery/field-errors.js';
import { canonicalQuantity, parseQuantity } from './quantity.js';
import { visitContainers } from './podspec.js';
import type { ContainerPort, PodSpec } from './types.js';

/** deprecatedNodeLabels are the node labels kube-apiserver warns about in selectors (pkg/api/node). */
const deprecatedNodeLabels: Record<string, string> = {
  'beta.kubernetes.io/arch': 'deprecated since v1.14; use "kubernetes.io/arch" instead',
  'beta.kubernetes.io/os': 'deprecated since v1.14; use "kubernetes.io/os" instead',
  'failure-domain.beta.kubernetes.io/region': 'deprecated since v1.17; use "topology.kubernetes.io/region" instead',
  'failure-domain.beta.kubernetes.io/zone': 'deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
  'beta.kubernetes.io/instance-type': 'deprecated since v1.17; use "node.kubernetes.io/instance-type" instead',
};

const deprecatedAnnotations: { key: string; message: string }[] = [
  { key: 'scheduler.alpha.kubernetes.io/critical-pod', message: 'non-functional in v1.16+; use the "priorityClassName" field instead' },
  { key: 'security.alpha.kubernetes.io/sysctls', message: 'non-functional in v1.11+; use the "sysctls" field instead' },
  { key: 'security.alpha.kubernetes.io/unsafe-sysctls', message: 'non-functional in v1.11+; use the "sysctls" field instead' },
];

/** goQuoted is Go's %q of a plain string. */
const goQuoted = (s: string) => JSON.stringify(s);

/** fractionalBytes: a byte quantity whose MilliValue is not a whole number of units. */
function fractionalBytes(q: unknown): string | undefined {
  const p = parseQuantity(q as string);
  if (!p) return undefined;
  const milli = p.nanos / 1_000_000n + (p.nanos % 1_000_000n > 0n ? 1n : 0n);
  return milli % 1000n !== 0n ? canonicalQuantity(q as string) : undefined;
}

/**
 * podSpecWarnings are the warnings for a pod spec and its metadata; `at` is where the spec's
 * object sits (`spec.template` for a workload, the root for a pod).
 */
export function podSpecWarnings(spec: PodSpec | undefined, meta: ObjectMeta | undefined, at?: Path): string[] {
  if (!spec) return [];
  const root = (name: string) => (at ? at.child(name) : Path.root(name));
  const specPath = root('spec');
  const out: string[] = [];
  for (const k of Object.keys(spec.nodeSelector ?? {})) {
    const msg = deprecatedNodeLabels[k];
    if (msg) out.push(`${specPath.child('nodeSelector').key(k)}: ${msg}`);
  }
  (spec.topologySpreadConstraints ?? []).forEach((t, i) => {
    const p = specPath.child('topologySpreadConstraints').index(i);
    const msg = deprecatedNodeLabels[t.topologyKey];
    if (msg) out.push(`${p.child('topologyKey')}: ${t.topologyKey} is ${msg}`);
    if (!t.labelSelector) out.push(`${p.child('labelSelector')}: a null labelSelector results in matching no pod`);
  });
  const annotations = meta?.annotations ?? {};
  for (const d of deprecatedAnnotations) {
    if (Object.hasOwn(annotations, d.key)) out.push(`${root('metadata').child('annotations').key(d.key)}: ${d.message}`);
  }
  const pullSecrets = spec.imagePullSecrets ?? [];
  const seen = new Set<string>();
  pullSecrets.forEach((s, i) => {
    if (pullSecrets.length > 1 && seen.has(s.name ?? '')) out.push(`${specPath.child('imagePullSecrets').index(i).child('name')}: duplicate name ${goQuoted(s.name ?? '')}`);
    seen.add(s.name ?? '');
  });
  pullSecrets.forEach((s, i) => {
    if (!s.name) out.push(`${specPath.child('imagePullSecrets').index(i).child('name')}: invalid empty name ""`);
  });

  visitContainers(spec, specPath, (c, p) => {
    for (const kind of ['limits', 'requests'] as const) {
      for (const resource of ['memory', 'ephemeral-storage']) {
        const q = c.resources?.[kind]?.[resource];
        const frac = q === undefined ? undefined : fractionalBytes(q);
        if (frac !== undefined) out.push(`${p.child('resources', kind).key(resource)}: fractional byte value ${goQuoted(frac)} is invalid, must be an integer`);
      }
    }
    const names = new Set<string>();
    (c.env ?? []).forEach((e, i) => {
      if (!names.has(e.name)) {
        names.add(e.name);
        return;
      }
      const ref = `$(${e.name})`;
      const value = e.value ?? '';
      if (e.valueFrom || value === ref || !value.includes(ref)) out.push(`${p.child('env').index(i)}: hides previous definition of ${goQuoted(e.name)}, which may be dropped when using apply`);
    });
  });

  // Ports of every container, keyed by number and protocol.
  const ports = new Map<string, { field: Path; port: ContainerPort }[]>();
  visitContainers(spec, specPath, (c, p) => {
    (c.ports ?? []).forEach((port, i) => {
      const field = p.child('ports').index(i);
      const key = `${port.containerPort}/${port.protocol ?? 'TCP'}`;
      const others = ports.get(key) ?? [];
      for (const other of others) {
        const [hostIP, otherIP] = [port.hostIP ?? '', other.port.hostIP ?? ''];
        const [hostPort, otherPort] = [port.hostPort ?? 0, other.port.hostPort ?? 0];
        if (hostIP === otherIP && hostPort === otherPort) out.push(`${field}: duplicate port definition with ${other.field}`);
        else if (hostPort === 0 || otherPort === 0) out.push(`${field}: overlapping port definition with ${other.field}`);
        else if (hostPort === otherPort && (hostIP === '') !== (otherIP === '')) out.push(`${field}: dangerously ambiguous port definition with ${other.field}`);
      }
      others.push({ field, port });
      ports.set(key, others);
    });
  });

  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0) {
    out.push(`${specPath.child('terminationGracePeriodSeconds')}: must be >= 0; negative values are invalid and will be treated as 1`);
  }
  return out;
}
