// Pod helpers the Endpoints and EndpointSlice controllers share (kube's
// k8s.io/endpointslice/util and pkg/api/v1/pod FindPort): which pods a Service publishes,
// which container port a service port resolves to, which Services a pod belongs to, and
// whether a pod update can change what those controllers publish.

import { type Pod, isPodReady, isPodTerminal, podIP } from '../../lib/api/core/pod.js';
import type { Service, ServicePort } from '../../lib/api/core/service.js';
import { matches, selectorFromSet } from '../../lib/machinery/labels.js';
import type { Lister } from '../../lib/controller/lister.js';

/** LabelHeadlessService marks the Endpoints and EndpointSlices of a Service without a ClusterIP (v1.IsHeadlessService). */
export const LabelHeadlessService = 'service.kubernetes.io/headless';
/** AnnotationLastChangeTriggerTime is v1.EndpointsLastChangeTriggerTime. */
export const AnnotationLastChangeTriggerTime = 'endpoints.kubernetes.io/last-change-trigger-time';

/**
 * hasSelector: the Service asks a controller to publish its pods. A selector that is absent or
 * empty means "endpoints are managed by hand": the apiserver stores an empty selector as none,
 * as Go's omitempty map does.
 */
export function hasSelector(svc: Service): boolean {
  return !!svc.spec?.selector && Object.keys(svc.spec.selector).length > 0;
}

/** isServiceIPSet is helper.IsServiceIPSet: the Service has a ClusterIP (it is not headless). */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/** managesEndpoints: the Service is one these controllers publish endpoints for (kube's syncService guards). */
export function managesEndpoints(svc: Service): boolean {
  if (svc.spec?.type === 'ExternalName') return false;
  // The apiserver owns default/kubernetes (it has no selector anyway).
  if (svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes') return false;
  return hasSelector(svc);
}

/** isIPv6 tells the family of a textual IP. */
export function isIPv6(ip: string): boolean {
  return ip.includes(':');
}

/** podIPs are every IP of the pod (status.podIPs, else the single status.podIP of older writers). */
export function podIPs(pod: Pod): string[] {
  if (pod.status?.podIPs?.length) return pod.status.podIPs.map((p) => p.ip);
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/**
 * shouldPodBeInEndpoints is ShouldPodBeInEndpoints: a pod that finished (Succeeded or Failed) or
 * has no IP yet is never published; a terminating pod only when includeTerminating.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** shouldSetHostname is ShouldSetHostname: the pod names itself inside the Service's subdomain. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace;
}

/**
 * findPort is FindPort: a numeric targetPort is used as is; a named one is looked up among the
 * ports of the pod's containers and sidecars (restartable init containers) with the service
 * port's protocol. undefined when the pod has no such port.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** servicesForPod is GetPodServiceMemberships: the keys of the Services (with selectors) in the pod's namespace that select it. */
export function servicesForPod(services: Lister<Service>, pod: Pod): Set<string> {
  const out = new Set<string>();
  const ns = pod.metadata?.namespace ?? '';
  for (const svc of services.list(ns)) {
    if (!hasSelector(svc)) continue;
    if (matches(selectorFromSet(svc.spec.selector), pod.metadata.labels)) out.add(`${ns}/${svc.metadata.name}`);
  }
  return out;
}

/**
 * endpointsRelevantState is what of a pod the Endpoints and EndpointSlice controllers read
 * (podEndpointsChanged's fields): a pod update that leaves it alone and keeps the labels
 * cannot change any Service's endpoints.
 */
export function endpointsRelevantState(pod: Pod): string {
  return JSON.stringify([
    pod.status?.podIPs ?? pod.status?.podIP ?? null,
    isPodReady(pod),
    pod.status?.phase ?? '',
    pod.metadata.deletionTimestamp ?? '',
    pod.spec?.nodeName ?? '',
    pod.spec?.hostname ?? '',
    pod.spec?.subdomain ?? '',
    pod.metadata.labels ?? {},
    pod.metadata.uid ?? '',
  ]);
}

/**
 * PodServiceTracker remembers each pod's last relevant state and the Services it belonged to,
 * so that a pod update enqueues exactly the Services it can change: those that select it now
 * and those that selected it before (kube's GetServicesToUpdateOnPodChange). The informer's
 * update callback does not hand over the old object, hence the memory.
 */
export class PodServiceTracker {
  private readonly seen = new Map<string, { state: string; services: Set<string> }>();

  constructor(private readonly services: Lister<Service>) {}

  /** changed returns the Service keys to sync after pod was added or updated. */
  changed(pod: Pod): Set<string> {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const state = endpointsRelevantState(pod);
    const before = this.seen.get(key);
    const now = servicesForPod(this.services, pod);
    this.seen.set(key, { state, services: now });
    if (before && before.state === state) {
      // Nothing a Service publishes changed; only membership changes (a Service's selector
      // was edited) matter, and the Service's own event covers those.
      return new Set();
    }
    const out = new Set(now);
    for (const s of before?.services ?? []) out.add(s);
    return out;
  }

  /** register feeds the tracker from a pod informer: each pod event enqueues the Service keys it can change. */
  register(pods: { on(verb: 'add' | 'update' | 'delete', cb: (pod: Pod) => void): void }, enqueueKey: (key: string) => void): void {
    const changed = (pod: Pod): void => this.changed(pod).forEach(enqueueKey);
    pods.on('add', changed);
    pods.on('update', changed);
    pods.on('delete', (pod) => this.deleted(pod).forEach(enqueueKey));
  }

  /** deleted returns the Service keys to sync after pod was deleted. */
  deleted(pod: Pod): Set<string> {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const before = this.seen.get(key);
    this.seen.delete(key);
    const out = servicesForPod(this.services, pod);
    for (const s of before?.services ?? []) out.add(s);
    return out;
  }
}
