// Pod helpers the Endpoints and EndpointSlice controllers share (kube's
// k8s.io/endpointslice/util and pkg/api/v1/pod FindPort): which pods a Service publishes,
// which container port a service port resolves to, which Services a pod belongs to, and
// whether a pod update can change what those controllers publish.

import { type Pod, isPodReady, isPodTerminal, podIP } from '../../lib/api/core/pod.js';
import { isRestartableInitContainer } from '../../lib/api/core/podspec.js';
import type { Service, ServicePort } from '../../lib/api/core/service.js';
import { matches, selectorFromSet } from '../../lib/machinery/labels.js';
import type { ResourceEventHandler } from '../../lib/controller/informer.js';
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
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter(isRestartableInitContainer)];
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
 * podEndpointsChanged is podEndpointsChanged: whether anything of the pod an endpoint shows
 * changed (its addresses, readiness, phase, deletion, node or uid), and whether its Service
 * membership may have (its labels, hostname or subdomain).
 */
export function podEndpointsChanged(oldPod: Pod, pod: Pod): { podChanged: boolean; labelsChanged: boolean } {
  const membership = (p: Pod) => JSON.stringify([p.metadata.labels ?? {}, p.spec?.hostname ?? '', p.spec?.subdomain ?? '']);
  const endpoint = (p: Pod) =>
    JSON.stringify([p.status?.podIPs ?? p.status?.podIP ?? null, isPodReady(p), p.status?.phase ?? '', p.metadata.deletionTimestamp ?? '', p.spec?.nodeName ?? '', p.metadata.uid ?? '']);
  return { podChanged: endpoint(oldPod) !== endpoint(pod), labelsChanged: membership(oldPod) !== membership(pod) };
}

/**
 * servicesToUpdateOnPodChange is GetServicesToUpdateOnPodChange: the Service keys a pod update
 * can change. Nothing when no field an endpoint shows changed; the Services selecting the pod
 * now; on a relabel also those that selected the old pod (all of both when the pod changed too,
 * else only those not common to both).
 */
export function servicesToUpdateOnPodChange(services: Lister<Service>, oldPod: Pod, pod: Pod): Set<string> {
  if (oldPod.metadata.resourceVersion !== undefined && oldPod.metadata.resourceVersion === pod.metadata.resourceVersion) return new Set();
  const { podChanged, labelsChanged } = podEndpointsChanged(oldPod, pod);
  if (!podChanged && !labelsChanged) return new Set();
  const now = servicesForPod(services, pod);
  if (!labelsChanged) return now;
  const before = servicesForPod(services, oldPod);
  if (podChanged) return new Set([...now, ...before]);
  return new Set([...[...now].filter((k) => !before.has(k)), ...[...before].filter((k) => !now.has(k))]);
}

/**
 * podEventHandler turns pod events into the Service keys to sync, for the Endpoints and
 * EndpointSlice controllers (their addPod/updatePod/deletePod): a pod added or deleted touches
 * the Services that select it, an update those servicesToUpdateOnPodChange names.
 */
export function podEventHandler(services: Lister<Service>, enqueueKey: (key: string) => void): ResourceEventHandler<Pod> {
  return {
    onAdd: (pod) => servicesForPod(services, pod).forEach(enqueueKey),
    onUpdate: (oldPod, pod) => servicesToUpdateOnPodChange(services, oldPod, pod).forEach(enqueueKey),
    onDelete: (pod) => servicesForPod(services, pod).forEach(enqueueKey),
  };
}
