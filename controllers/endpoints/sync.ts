// syncService for core/v1 Endpoints (kube's pkg/controller/endpoint): every Service with a
// selector gets an Endpoints object of the same name listing the IPs of the pods it selects,
// ready ones under `addresses` and the rest under `notReadyAddresses`, with the container port
// each service port resolves to on each pod. The subsets are repacked with the apiserver's own
// RepackSubsets, so an unchanged set compares equal to what is stored and is never rewritten.

import { type EndpointAddress, type EndpointPort, type EndpointSubset, type Endpoints as EndpointsObject, repackSubsets } from '../../lib/api/core/endpoints.js';
import { type Pod, isPodReady } from '../../lib/api/core/pod.js';
import type { Service, ServicePort } from '../../lib/api/core/service.js';
import { semanticEqual } from '../../lib/api/apps/equality.js';
import { type Client, isAlreadyExists, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { Endpoints } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Logger } from '../../lib/log.js';
import { selectorFromSet } from '../../lib/machinery/labels.js';
import {
  AnnotationLastChangeTriggerTime,
  LabelHeadlessService,
  findPort,
  isIPv6,
  isServiceIPSet,
  managesEndpoints,
  podIPs,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from '../common/endpoints.js';
import { isNamespaceTerminatingError } from '../common/errors.js';

/** maxCapacity is the most addresses one Endpoints object holds; beyond it the controller truncates. */
export const maxCapacity = 1000;
/** AnnotationOverCapacity is v1.EndpointsOverCapacity, set to "truncated" when addresses were dropped. */
export const AnnotationOverCapacity = 'endpoints.kubernetes.io/over-capacity';
/** AnnotationLeaderElection marks Endpoints used as leader-election locks; they have no Service and must stay. */
export const AnnotationLeaderElection = 'control-plane.alpha.kubernetes.io/leader';

/** EndpointsSyncer holds what syncService reads and writes. */
export interface EndpointsSyncer {
  client: Client;
  services: Lister<Service>;
  pods: Lister<Pod>;
  endpoints: Lister<EndpointsObject>;
  recorder: Recorder;
  log?: Logger;
  /** stale remembers, per key, the resourceVersion this controller replaced: seeing it again in the cache means the cache lags. */
  stale: Map<string, string>;
}

/** newEndpointsSyncer makes an EndpointsSyncer with an empty stale tracker. */
export function newEndpointsSyncer(deps: Omit<EndpointsSyncer, 'stale'>): EndpointsSyncer {
  return { ...deps, stale: new Map() };
}

/**
 * podAddress is podToEndpointAddressForService: the pod's IP of the Service's (first) IP family,
 * or undefined when the pod has none (a single-stack pod behind a Service of the other family).
 */
export function podAddress(svc: Service, pod: Pod): EndpointAddress | undefined {
  const ips = podIPs(pod);
  let ip: string | undefined;
  const family = svc.spec?.ipFamilies?.[0] ?? (isServiceIPSet(svc) ? (isIPv6(svc.spec.clusterIP!) ? 'IPv6' : 'IPv4') : undefined);
  if (family === undefined) ip = ips[0];
  else ip = ips.find((a) => isIPv6(a) === (family === 'IPv6'));
  if (!ip) return undefined;
  const addr: EndpointAddress = { ip };
  // Pods a kubelet runs always have a node; an empty nodeName is left out rather than sent as "".
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  addr.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  return addr;
}

function endpointPort(sp: ServicePort, port: number): EndpointPort {
  const p: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
  if (sp.name) p.name = sp.name;
  if (sp.appProtocol) p.appProtocol = sp.appProtocol;
  return p;
}

/** DesiredSubsets is what computeSubsets found. */
export interface DesiredSubsets {
  subsets: EndpointSubset[];
  ready: number;
  notReady: number;
}

/**
 * computeSubsets is the heart of syncService: one single-address subset per (pod, service port)
 * — ready or not ready — then RepackSubsets. publishNotReadyAddresses publishes every pod as
 * ready, terminating ones included. A pod without the named port a service port targets is
 * left out of that port only.
 */
export function computeSubsets(svc: Service, pods: readonly Pod[]): DesiredSubsets {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const raw: EndpointSubset[] = [];
  let ready = 0;
  let notReady = 0;
  const add = (pod: Pod, addr: EndpointAddress, port: EndpointPort | undefined) => {
    const ports = port ? [port] : [];
    if (publishNotReady || isPodReady(pod)) {
      raw.push({ addresses: [addr], ports });
      ready++;
    } else {
      raw.push({ notReadyAddresses: [addr], ports });
      notReady++;
    }
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const addr = podAddress(svc, pod);
    if (!addr) continue;
    if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec.hostname;
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) {
      // A headless Service may have no ports: its Endpoints list bare addresses.
      if (svc.spec?.clusterIP === 'None') add(pod, addr, undefined);
      continue;
    }
    for (const sp of ports) {
      const num = findPort(pod, sp);
      if (num === undefined) continue;
      add(pod, addr, endpointPort(sp, num));
    }
  }
  return { subsets: repackSubsets(raw), ready, notReady };
}

/** withoutTargetRefVersions drops targetRef.resourceVersion, which must not make two subsets differ. */
function withoutTargetRefVersions(subsets: readonly EndpointSubset[] | undefined): EndpointSubset[] {
  const strip = (a: EndpointAddress): EndpointAddress => {
    if (!a.targetRef?.resourceVersion) return a;
    const { resourceVersion: _rv, ...targetRef } = a.targetRef;
    return { ...a, targetRef };
  };
  return (subsets ?? []).map((ss) => ({
    ...ss,
    ...(ss.addresses ? { addresses: ss.addresses.map(strip) } : {}),
    ...(ss.notReadyAddresses ? { notReadyAddresses: ss.notReadyAddresses.map(strip) } : {}),
  }));
}

function countAddresses(subsets: readonly EndpointSubset[] | undefined): number {
  let n = 0;
  for (const ss of subsets ?? []) n += (ss.addresses?.length ?? 0) + (ss.notReadyAddresses?.length ?? 0);
  return n;
}

/** capacityAnnotationSetCorrectly: the over-capacity annotation is present exactly when it must be. */
function capacityAnnotationSetCorrectly(annotations: Record<string, string> | undefined, subsets: readonly EndpointSubset[] | undefined): boolean {
  if (countAddresses(subsets) > maxCapacity) return false;
  return !(annotations && AnnotationOverCapacity in annotations);
}

/**
 * truncateEndpoints keeps at most maxCapacity addresses, ready ones first, spreading the cut over
 * the subsets in proportion to their size (kube's truncateEndpoints). It returns whether it cut.
 */
export function truncateEndpoints(ep: EndpointsObject): boolean {
  const subsets = ep.subsets ?? [];
  let totalReady = 0;
  let totalNotReady = 0;
  for (const ss of subsets) {
    totalReady += ss.addresses?.length ?? 0;
    totalNotReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= maxCapacity) return false;
  const truncateReady = totalReady > maxCapacity;
  const max = truncateReady ? maxCapacity : maxCapacity - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const ss of subsets) {
    const inSubset = truncateReady ? (ss.addresses?.length ?? 0) : (ss.notReadyAddresses?.length ?? 0);
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * max), canBeAdded);
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, toBeAdded);
      delete ss.notReadyAddresses;
      canBeAdded -= ss.addresses.length;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= ss.notReadyAddresses.length;
    }
  }
  // A subset left with no address at all is invalid; drop it.
  ep.subsets = subsets.filter((ss) => ss.addresses?.length || ss.notReadyAddresses?.length);
  return true;
}

function withoutLabel(labels: Record<string, string> | undefined, key: string): Record<string, string> | undefined {
  if (!labels || !(key in labels)) return labels;
  const { [key]: _drop, ...rest } = labels;
  return rest;
}

/**
 * syncService brings the Endpoints named by key in line with its Service: deleted with the
 * Service, left alone for Services without a selector (their Endpoints are written by hand) and
 * ExternalName Services, and otherwise written only when subsets, labels or the over-capacity
 * annotation differ from what the cache holds.
 */
export async function syncService(s: EndpointsSyncer, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const svc = s.services.get(key);
  if (!svc) {
    if (s.endpoints.get(key)?.metadata.annotations?.[AnnotationLeaderElection] !== undefined) return;
    try {
      await s.client.delete(Endpoints, namespace, name);
      s.log?.v(2).info('Deleted Endpoints of deleted Service', { service: key });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    s.stale.delete(key);
    return;
  }
  if (!managesEndpoints(svc)) return;

  const pods = s.pods.list(namespace, selectorFromSet(svc.spec.selector));
  const { subsets, ready, notReady } = computeSubsets(svc, pods);

  const current = s.endpoints.get(key);
  if (current && s.stale.get(key) === current.metadata.resourceVersion) {
    // The cache still shows the version this controller replaced. Acting on it could undo the
    // write; the informer's update event for that write enqueues the Service again.
    s.log?.v(4).info('Endpoints informer cache is out of date; waiting for it', { service: key, resourceVersion: current.metadata.resourceVersion });
    return;
  }
  const create = !current;
  const currentLabels = withoutLabel(current?.metadata.labels, LabelHeadlessService);
  if (
    current &&
    semanticEqual(withoutTargetRefVersions(current.subsets), subsets) &&
    semanticEqual(currentLabels, svc.metadata.labels) &&
    capacityAnnotationSetCorrectly(current.metadata.annotations, current.subsets)
  ) {
    return;
  }

  const next: EndpointsObject = current
    ? structuredClone(current)
    : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
  next.apiVersion = 'v1';
  next.kind = 'Endpoints';
  next.subsets = subsets;
  const annotations = { ...(next.metadata.annotations ?? {}) };
  // No trigger time is tracked, so the annotation is cleared as kube does when it has none.
  delete annotations[AnnotationLastChangeTriggerTime];
  if (truncateEndpoints(next)) annotations[AnnotationOverCapacity] = 'truncated';
  else delete annotations[AnnotationOverCapacity];
  if (Object.keys(annotations).length) next.metadata.annotations = annotations;
  else delete next.metadata.annotations;
  const labels = { ...(svc.metadata.labels ?? {}) };
  if (!isServiceIPSet(svc)) labels[LabelHeadlessService] = '';
  else delete labels[LabelHeadlessService];
  if (Object.keys(labels).length) next.metadata.labels = labels;
  else delete next.metadata.labels;

  s.log?.v(4).info('Update endpoints', { service: key, readyEndpoints: ready, notReadyEndpoints: notReady });
  try {
    if (create) {
      await s.client.create(Endpoints, namespace, next);
    } else {
      const updated = await s.client.update(Endpoints, next);
      if (updated.metadata.resourceVersion !== current.metadata.resourceVersion) s.stale.set(key, current.metadata.resourceVersion ?? '');
    }
  } catch (err) {
    // A terminating namespace refuses new objects for good: drop the key instead of retrying.
    if (create && isNamespaceTerminatingError(err)) return;
    if (create && isAlreadyExists(err)) {
      // The cache has not shown this controller's own create (or another writer's) yet: no
      // failure to report. Its add event enqueues the Service again, and that sync compares.
      s.log?.v(4).info('Endpoints informer cache is out of date; waiting for it', { service: key });
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    if (create) s.recorder.event(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${namespace}/${name}: ${msg}`);
    else s.recorder.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${name}: ${msg}`);
    throw err;
  }
}
