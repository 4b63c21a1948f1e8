// PodInfo (framework.PodInfo): a pod with what every cycle would otherwise recompute, its
// requests, host ports and parsed pod (anti-)affinity terms.

import type { LabelSelector } from '../../lib/api/meta.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { PodAffinityTerm } from '../../lib/api/core/types.js';
import { type LabelSelectorExpr, type Labels, labelSelectorAsSelector, matches, nothing } from '../../lib/machinery/labels.js';
import { type ContainerHostPort, podHostPorts } from './hostports.js';
import { podRequestsBoth, type Resource } from './resource.js';

/**
 * AffinityTerm is framework.AffinityTerm: a pod (anti-)affinity term with its selectors parsed.
 * namespaces is the term's namespaces, or the owning pod's namespace when the term names neither
 * namespaces nor a namespaceSelector.
 */
export interface AffinityTerm {
  readonly namespaces: ReadonlySet<string>;
  readonly selector: LabelSelectorExpr;
  readonly topologyKey: string;
  readonly namespaceSelector: LabelSelectorExpr;
}

/** WeightedAffinityTerm is a preferred term with its weight. */
export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

function parseSelector(ls: LabelSelector | undefined): LabelSelectorExpr {
  try {
    return labelSelectorAsSelector(ls);
  } catch {
    // The apiserver rejects invalid selectors; one that slips through selects nothing.
    return nothing();
  }
}

/** newAffinityTerm parses term as it applies to a pod in namespace podNamespace. */
export function newAffinityTerm(podNamespace: string, term: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set<string>(term.namespaces ?? []);
  if (namespaces.size === 0 && !term.namespaceSelector) namespaces.add(podNamespace);
  return {
    namespaces,
    selector: parseSelector(term.labelSelector),
    topologyKey: term.topologyKey,
    namespaceSelector: term.namespaceSelector ? parseSelector(term.namespaceSelector) : nothing(),
  };
}

/** affinityTermMatches is AffinityTerm.Matches: pod's namespace is covered and its labels match. */
export function affinityTermMatches(term: AffinityTerm, pod: Pod, nsLabels: Labels | undefined): boolean {
  if (term.namespaces.has(pod.metadata.namespace ?? '') || matches(term.namespaceSelector, nsLabels ?? {})) {
    return matches(term.selector, pod.metadata.labels);
  }
  return false;
}

/**
 * PodInfo is framework.PodInfo: a pod plus what every cycle would otherwise recompute: its
 * requests (plain and non-zero) and its parsed affinity terms. Build one per pod version and
 * reuse it; it never changes (a new pod version gets a new PodInfo).
 */
export class PodInfo {
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** hostPorts are the host ports the pod holds (NodePorts, NodeInfo.usedPorts). */
  readonly hostPorts: readonly ContainerHostPort[];
  /** key identifies the pod across versions: its uid, else namespace/name. */
  readonly key: string;

  constructor(readonly pod: Pod) {
    [this.requests, this.nonZeroRequests] = podRequestsBoth(pod);
    const ns = pod.metadata.namespace ?? '';
    const aff = pod.spec?.affinity;
    const req = (terms: PodAffinityTerm[] | undefined) => (terms ?? []).map((t) => newAffinityTerm(ns, t));
    const pref = (terms: { weight: number; podAffinityTerm: PodAffinityTerm }[] | undefined) =>
      (terms ?? []).filter((t) => t.weight !== 0).map((t): WeightedAffinityTerm => ({ ...newAffinityTerm(ns, t.podAffinityTerm), weight: t.weight }));
    this.requiredAffinityTerms = req(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinityTerms = req(aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinityTerms = pref(aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = pref(aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.hostPorts = podHostPorts(pod);
    this.key = podKey(pod);
  }

  /**
   * withPod is this PodInfo for pod, a copy of this one's pod that differs in nothing the
   * PodInfo parsed (the assumed pod: the same pod with spec.nodeName set). The parsed requests,
   * terms and ports are shared, not computed again.
   */
  withPod(pod: Pod): PodInfo {
    const c = Object.create(PodInfo.prototype) as Record<string, unknown>;
    Object.assign(c, this);
    c.pod = pod;
    return c as unknown as PodInfo;
  }

  /** hasAffinity: the pod has any pod affinity or anti-affinity term (it goes in NodeInfo.podsWithAffinity). */
  get hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length + this.requiredAntiAffinityTerms.length + this.preferredAffinityTerms.length + this.preferredAntiAffinityTerms.length >
      0
    );
  }
}

/** podKey is the identity NodeInfo uses for a pod: uid, else namespace/name. */
export function podKey(pod: Pod): string {
  return pod.metadata.uid || `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** newPodInfo builds the PodInfo of pod. */
export function newPodInfo(pod: Pod): PodInfo {
  return new PodInfo(pod);
}
