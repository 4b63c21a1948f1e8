// The quota evaluators (pkg/quota/v1/evaluator/core and generic): for each kind, which quota
// resources it is charged to, what one object uses of them, which scopes it falls in and, for
// pods, the requests and limits a compute quota requires. Shared by the ResourceQuota admission
// plugin (charging a create) and the resource quota controller (recounting a namespace).

import { type Pod, PodQOSClass, computeQOSClass } from '../api/core/pod.js';
import { type ParsedQuantity, parseQuantity } from '../api/core/quantity.js';
import type { ResourceQuota, ScopedResourceSelectorRequirement } from '../api/core/resourcequota.js';
import type { Container, PodAffinityTerm, ResourceList } from '../api/core/types.js';
import type { KubeObject } from '../api/meta.js';
import { aggregateContainerRequests, type RequestOps } from '../pod/resources.js';
import { type Amounts, add, addQuantity, fromList, one } from './resources.js';

/** GroupResource names a kind's resource ('' for the core group). */
export interface GroupResource {
  group: string;
  resource: string;
}

/** Evaluator is quota.Evaluator for one resource. */
export interface Evaluator {
  gr: GroupResource;
  /** handles says whether an operation on the resource can change its usage (creates; updates for some). */
  handles(operation: 'CREATE' | 'UPDATE'): boolean;
  /** matchingResources picks the quota resources (of names) this evaluator is charged to. */
  matchingResources(names: readonly string[]): string[];
  /** usage is what one object uses; now decides whether a terminating pod still counts. */
  usage(obj: KubeObject, now: Date): Amounts;
  /** matchesScope says whether obj falls in one scope term (only pods fall in any). */
  matchesScope(scope: ScopedResourceSelectorRequirement, obj: KubeObject): boolean;
  /** constraints returns kube's "must specify …" text when obj lacks what required demands. */
  constraints(required: readonly string[], obj: KubeObject): string | undefined;
}

/** objectCountName is the `count/<resource>.<group>` name of a resource (`count/<resource>` in the core group). */
export function objectCountName(gr: GroupResource): string {
  return gr.group ? `count/${gr.resource}.${gr.group}` : `count/${gr.resource}`;
}

/** parseObjectCountName reads `count/<resource>[.<group>]`; undefined for any other name. */
export function parseObjectCountName(name: string): GroupResource | undefined {
  if (!name.startsWith('count/')) return undefined;
  const rest = name.slice('count/'.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? { group: '', resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
}

// The resources kube counted before count/ existed: their short names still work.
const legacyObjectCountAliases: Record<string, string> = {
  configmaps: 'configmaps',
  resourcequotas: 'resourcequotas',
  replicationcontrollers: 'replicationcontrollers',
  secrets: 'secrets',
};

/** objectCountEvaluator is generic.NewObjectCountEvaluator: one per object, charged on create. */
export function objectCountEvaluator(gr: GroupResource): Evaluator {
  const names = [objectCountName(gr)];
  const alias = gr.group === '' ? legacyObjectCountAliases[gr.resource] : undefined;
  if (alias) names.push(alias);
  return {
    gr,
    handles: (op) => op === 'CREATE',
    matchingResources: (items) => items.filter((n) => names.includes(n)),
    usage: () => new Map(names.map((n) => [n, one()])),
    matchesScope: () => false,
    constraints: () => undefined,
  };
}

// ---- pods ----

const podResources = new Set([
  'count/pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
]);
// Each container of a pod must name these when a quota limits one of them.
const validationSet = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

const isExtendedResourceName = (name: string) => name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');

const quantityOps: RequestOps<Amounts> = {
  zero: () => new Map(),
  clone: (r) => new Map(r),
  add: (a, b) => {
    for (const [k, v] of b) a.set(k, addQuantity(a.get(k), v));
  },
  max: (a, b) => {
    for (const [k, v] of b) if (!a.has(k) || v.nanos > a.get(k)!.nanos) a.set(k, v);
  },
};

function containerList(c: Container, which: 'requests' | 'limits'): Amounts {
  return fromList(c.resources?.[which]);
}

/** podRequestsAndLimits are resource.PodRequests and PodLimits with their notations kept (overhead included). */
export function podRequestsAndLimits(pod: Pod): { requests: Amounts; limits: Amounts } {
  const sum = (which: 'requests' | 'limits') => {
    const total = aggregateContainerRequests(pod, (pod.spec?.containers ?? []).map((c) => containerList(c, which)), (pod.spec?.initContainers ?? []).map((c) => containerList(c, which)), quantityOps);
    // Overhead is added only to resources the containers name (PodLimits), or always (PodRequests).
    for (const [k, v] of fromList(pod.spec?.overhead)) if (which === 'requests' || total.has(k)) total.set(k, addQuantity(total.get(k), v));
    return total;
  };
  return { requests: sum('requests'), limits: sum('limits') };
}

/** podComputeUsage is podComputeUsageHelper: pods, the cpu/memory/ephemeral-storage shorthands and their requests./limits. names. */
export function podComputeUsage(requests: Amounts, limits: Amounts): Amounts {
  const out: Amounts = new Map([['pods', one()]]);
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [name, q] of requests) {
    if (name.startsWith('hugepages-')) {
      out.set(name, q);
      out.set(`requests.${name}`, q);
    }
    if (isExtendedResourceName(name)) out.set(`requests.${name}`, q);
  }
  return out;
}

/** quotaV1Pod is QuotaV1Pod: a pod counts until it is terminal or past its deletion grace period. */
export function quotaV1Pod(pod: Pod, now: Date): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  const ts = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (ts && grace !== undefined && grace !== null) {
    if (now.getTime() > Date.parse(ts) + Number(grace) * 1000) return false;
  }
  return true;
}

const isTerminating = (pod: Pod) => pod.spec?.activeDeadlineSeconds !== undefined && pod.spec.activeDeadlineSeconds !== null && pod.spec.activeDeadlineSeconds >= 0;

function crossNamespaceTerm(t: PodAffinityTerm | undefined): boolean {
  return !!t && ((t.namespaces?.length ?? 0) > 0 || t.namespaceSelector !== undefined);
}

/** usesCrossNamespacePodAffinity: a pod (anti-)affinity term names other namespaces. */
function usesCrossNamespacePodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  for (const group of [a?.podAffinity, a?.podAntiAffinity]) {
    if (group?.requiredDuringSchedulingIgnoredDuringExecution?.some(crossNamespaceTerm)) return true;
    if (group?.preferredDuringSchedulingIgnoredDuringExecution?.some((w) => crossNamespaceTerm(w.podAffinityTerm))) return true;
  }
  return false;
}

/** podMatchesScope is podMatchesScopeFunc. */
export function podMatchesScope(scope: ScopedResourceSelectorRequirement, pod: Pod): boolean {
  switch (scope.scopeName) {
    case 'Terminating':
      return isTerminating(pod);
    case 'NotTerminating':
      return !isTerminating(pod);
    case 'BestEffort':
      return computeQOSClass(pod) === PodQOSClass.BestEffort;
    case 'NotBestEffort':
      return computeQOSClass(pod) !== PodQOSClass.BestEffort;
    case 'PriorityClass': {
      const name = pod.spec?.priorityClassName ?? '';
      // A label selector over {PriorityClass: name}: the key is always there.
      if (scope.operator === 'Exists') return name !== '';
      if (scope.operator === 'In') return (scope.values ?? []).includes(name);
      if (scope.operator === 'NotIn') return !(scope.values ?? []).includes(name);
      return false;
    }
    case 'CrossNamespacePodAffinity':
      return usesCrossNamespacePodAffinity(pod);
  }
  return false;
}

/** podEvaluator counts pods: compute resources while the pod lives, count/pods always. */
export const podEvaluator: Evaluator = {
  gr: { group: '', resource: 'pods' },
  handles: (op) => op === 'CREATE',
  matchingResources: (items) => items.filter((n) => podResources.has(n) || n.startsWith('requests.hugepages-') || n.startsWith('hugepages-') || (n.startsWith('requests.') && isExtendedResourceName(n.slice('requests.'.length)))),
  usage(obj, now) {
    const pod = obj as Pod;
    const out: Amounts = new Map([['count/pods', one()]]);
    if (!quotaV1Pod(pod, now)) return out;
    const { requests, limits } = podRequestsAndLimits(pod);
    return add(out, podComputeUsage(requests, limits));
  },
  matchesScope: (scope, obj) => podMatchesScope(scope, obj as Pod),
  constraints(required, obj) {
    const pod = obj as Pod;
    const requiredSet = required.filter((r) => validationSet.has(r));
    const missing = new Map<string, Set<string>>();
    const check = (c: Container) => {
      const usage = podComputeUsage(fromList(c.resources?.requests), fromList(c.resources?.limits));
      for (const r of requiredSet) if (!usage.has(r)) missing.set(r, (missing.get(r) ?? new Set()).add(c.name));
    };
    for (const c of pod.spec?.containers ?? []) check(c);
    for (const c of pod.spec?.initContainers ?? []) check(c);
    if (!missing.size) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

// ---- services ----

interface ServiceLike extends KubeObject {
  spec?: { type?: string; ports?: unknown[]; allocateLoadBalancerNodePorts?: boolean };
}

const serviceResources = ['count/services', 'services', 'services.nodeports', 'services.loadbalancers'];

/** serviceEvaluator counts services, their node ports and load balancers; a type change on update counts too. */
export const serviceEvaluator: Evaluator = {
  gr: { group: '', resource: 'services' },
  handles: (op) => op === 'CREATE' || op === 'UPDATE',
  matchingResources: (items) => items.filter((n) => serviceResources.includes(n)),
  usage(obj) {
    const svc = obj as ServiceLike;
    const zero = (): ParsedQuantity => ({ nanos: 0n, format: 'DecimalSI' });
    const count = (n: number): ParsedQuantity => ({ nanos: BigInt(n) * 1_000_000_000n, format: 'DecimalSI' });
    const out: Amounts = new Map([
      ['count/services', one()],
      ['services', one()],
      ['services.loadbalancers', zero()],
      ['services.nodeports', zero()],
    ]);
    const ports = svc.spec?.ports?.length ?? 0;
    if (svc.spec?.type === 'NodePort') out.set('services.nodeports', count(ports));
    if (svc.spec?.type === 'LoadBalancer') {
      out.set('services.nodeports', count(svc.spec.allocateLoadBalancerNodePorts === false ? 0 : ports));
      out.set('services.loadbalancers', one());
    }
    return out;
  },
  matchesScope: () => false,
  constraints: () => undefined,
};

// ---- persistent volume claims ----

/** storageClassSuffix joins a class name and a resource in a per-class quota name. */
export const storageClassSuffix = '.storageclass.storage.k8s.io/';

interface ClaimLike extends KubeObject {
  spec?: { storageClassName?: string; resources?: { requests?: ResourceList } };
}

/** claimClass is GetPersistentVolumeClaimClass: the beta annotation first, then spec.storageClassName. */
export function claimClass(pvc: ClaimLike): string {
  return pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
}

const pvcResources = ['persistentvolumeclaims', 'requests.storage'];

/** pvcEvaluator counts claims and the storage they request, in all and per storage class. */
export const pvcEvaluator: Evaluator = {
  gr: { group: '', resource: 'persistentvolumeclaims' },
  handles: (op) => op === 'CREATE' || op === 'UPDATE',
  matchingResources: (items) => items.filter((n) => n === 'count/persistentvolumeclaims' || pvcResources.includes(n) || pvcResources.some((r) => n.endsWith(storageClassSuffix + r))),
  usage(obj) {
    const pvc = obj as ClaimLike;
    const out: Amounts = new Map([
      ['persistentvolumeclaims', one()],
      ['count/persistentvolumeclaims', one()],
    ]);
    const cls = claimClass(pvc);
    if (cls) out.set(`${cls}${storageClassSuffix}persistentvolumeclaims`, one());
    const storage = parseQuantity(pvc.spec?.resources?.requests?.storage);
    if (storage) {
      out.set('requests.storage', storage);
      if (cls) out.set(`${cls}${storageClassSuffix}requests.storage`, storage);
    }
    return out;
  },
  matchesScope: () => false,
  constraints: () => undefined,
};

/** builtinEvaluators are the evaluators with more than an object count, by `group/resource`. */
const builtinEvaluators = new Map<string, Evaluator>([
  ['/pods', podEvaluator],
  ['/services', serviceEvaluator],
  ['/persistentvolumeclaims', pvcEvaluator],
]);

/** evaluatorFor is the registry's Get with the object-count fallback every other resource gets. */
export function evaluatorFor(gr: GroupResource): Evaluator {
  return builtinEvaluators.get(`${gr.group}/${gr.resource}`) ?? objectCountEvaluator(gr);
}

/** legacyCounted are the core resources the controller counts for their short quota names. */
const legacyCounted: GroupResource[] = ['configmaps', 'resourcequotas', 'replicationcontrollers', 'secrets'].map((resource) => ({ group: '', resource }));

/** evaluatorsForQuota lists the evaluators charged to any of the hard resources names. */
export function evaluatorsForQuota(names: readonly string[]): Evaluator[] {
  const out = new Map<string, Evaluator>();
  const consider = (e: Evaluator) => {
    if (e.matchingResources(names).length) out.set(`${e.gr.group}/${e.gr.resource}`, e);
  };
  for (const e of builtinEvaluators.values()) consider(e);
  for (const gr of legacyCounted) consider(objectCountEvaluator(gr));
  for (const n of names) {
    const gr = parseObjectCountName(n);
    if (gr && !out.has(`${gr.group}/${gr.resource}`)) consider(evaluatorFor(gr));
  }
  return [...out.values()];
}

/** quotaScopes is getScopeSelectorsFromQuota: spec.scopes as Exists terms, then spec.scopeSelector. */
export function quotaScopes(q: ResourceQuota): ScopedResourceSelectorRequirement[] {
  return [...(q.spec?.scopes ?? []).map((scopeName) => ({ scopeName, operator: 'Exists' })), ...(q.spec?.scopeSelector?.matchExpressions ?? [])];
}

/** quotaMatches is generic.Matches over names (the quota's hard resources): one resource in common and every scope matched. */
export function quotaMatches(q: ResourceQuota, names: readonly string[], e: Evaluator, obj: KubeObject): boolean {
  if (!e.matchingResources(names).length) return false;
  return quotaScopes(q).every((s) => e.matchesScope(s, obj));
}

/**
 * calculateUsage is quota.CalculateUsage for one evaluator: the usage of the objects that match
 * the quota's scopes, summed over the resources of hard it is charged to, each at least zero.
 */
export function calculateUsage(q: ResourceQuota, hardNames: readonly string[], e: Evaluator, objects: readonly KubeObject[], now: Date): Amounts {
  const names = e.matchingResources(hardNames);
  let total: Amounts = new Map(names.map((n) => [n, { nanos: 0n, format: 'DecimalSI' as const }]));
  const scopes = quotaScopes(q);
  for (const obj of objects) {
    if (!scopes.every((s) => e.matchesScope(s, obj))) continue;
    const u = e.usage(obj, now);
    const masked: Amounts = new Map();
    for (const n of names) if (u.has(n)) masked.set(n, u.get(n)!);
    total = add(total, masked);
  }
  return total;
}
