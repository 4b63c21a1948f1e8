// Bootstrap objects every cluster has from the start: the four system namespaces, the
// `kubernetes` Service in default (first ClusterIP, port 443) with Endpoints naming this apiserver,
// and the system-node-critical and system-cluster-critical PriorityClasses.
//
// The Endpoints and the EndpointSlice of the same name that follows them are kept right by a
// background reconciler every 10 s, as kube-apiserver's endpoint reconciler does: a failed write is
// logged and tried again, and a deleted slice comes back. They are not a condition of starting: an
// advertise address that endpoints validation refuses (loopback, as on a machine whose only
// interface is lo) leaves the Service without Endpoints or slice and a warning in the log.

import type { KubeObject } from '../lib/api/meta.js';
import type { EndpointAddress, Endpoints } from '../lib/api/core/endpoints.js';
import { AddressType, type Endpoint, type EndpointSlice, LabelServiceName } from '../lib/api/discovery/endpointslice.js';
import { semanticEqual } from '../lib/api/apps/equality.js';
import { isIPv6String as isIPv6 } from '../lib/net/ip.js';
import { systemPriorityClasses } from '../lib/api/scheduling/priorityclass.js';
import { isAlreadyExists, isNotFound, isConflict } from '../lib/machinery/status.js';
import { validateNonSpecialIP } from '../lib/api/core/validation.js';
import type { Logger } from '../lib/log.js';
import type { APIRegistry } from './registry/registry.js';
import type { GenericStore, RequestContext } from './registry/store.js';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** systemNamespacesIntervalMs is how often missing system namespaces are created again (kube's SystemNamespacesInterval). */
const systemNamespacesIntervalMs = 60_000;

/** ensureSystemNamespaces creates each system namespace that does not exist; one still terminating is left to finish. */
async function ensureSystemNamespaces(nsStore: GenericStore, ctx: () => RequestContext, log: Logger): Promise<void> {
  for (const name of systemNamespaces) {
    try {
      await nsStore.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx());
      log.info('Created system namespace', { name });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/** bootstrap creates what is missing of the objects above; it throws only when the namespaces, classes or Service cannot be written. */
export async function bootstrap(registry: APIRegistry, opts: { serviceIP: string; advertiseAddress: string; port: number; log: Logger; signal?: AbortSignal }): Promise<void> {
  const ctx = (): RequestContext => ({ now: new Date(), dryRun: false, user: { name: 'system:apiserver', groups: ['system:masters'] } });
  const nsStore = registry.lookup('', 'v1', 'namespaces')!;
  await ensureSystemNamespaces(nsStore, ctx, opts.log);
  // As kube-apiserver's system namespaces controller: a deleted kube-node-lease (it is not
  // protected) comes back within a minute, once its deletion has finished.
  const namespaces = setInterval(() => {
    ensureSystemNamespaces(nsStore, ctx, opts.log).catch((err: unknown) => {
      opts.log.error('Unable to create required system namespaces', { err: err as Error });
    });
  }, systemNamespacesIntervalMs).unref();
  opts.signal?.addEventListener('abort', () => clearInterval(namespaces), { once: true });
  // As kube-apiserver's scheduling/bootstrap-system-priority-classes hook: create what is missing, leave what exists.
  const pcStore = registry.lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
  for (const pc of pcStore ? systemPriorityClasses() : []) {
    try {
      await pcStore!.create(undefined, pc, ctx());
      opts.log.info('Created system PriorityClass', { name: pc.metadata.name, value: pc.value });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  const svcStore = registry.lookup('', 'v1', 'services')!;
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: opts.serviceIP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: opts.port }], sessionAffinity: 'None' },
  };
  // Look first: creating again would try to claim 10.96.0.1 a second time before the name check.
  const existing = await svcStore.get('default', 'kubernetes').catch((err) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!existing) {
    try {
      await svcStore.create('default', service, ctx());
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  const why = endpointsUnpublishable(opts.advertiseAddress);
  if (why) {
    // kube-apiserver's endpoint reconciler would fail on every pass; saying why once is clearer.
    opts.log.warn('Not publishing the kubernetes Endpoints: the advertise address cannot be an endpoint', {
      advertiseAddress: opts.advertiseAddress,
      reason: why,
      effect: 'clients outside this host, and pods through the kubernetes Service, cannot reach the apiserver; clients on this host still can',
      fix: 'start with --advertise-address set to a routable IP of this host',
    });
    return;
  }
  void reconcileEndpointsForever(registry, ctx, opts);
}

/**
 * endpointsUnpublishable says why an advertise address may not be an Endpoints address (endpoints
 * validation refuses loopback, link-local and unspecified IPs), or undefined when it may.
 */
export function endpointsUnpublishable(advertiseAddress: string): string | undefined {
  const errs = validateNonSpecialIP(advertiseAddress, 'advertiseAddress');
  return errs.length ? errs.map((e) => e.detail).join('; ') : undefined;
}

/** endpointsReconcileMs is how often the Endpoints and slice are checked, and a failed write tried again (kube's endpoint reconciler interval, 10 s). */
const endpointsReconcileMs = 10_000;

/**
 * reconcileEndpointsForever keeps the `kubernetes` Endpoints naming this apiserver, and the
 * EndpointSlice that follows them, as they should be. A failure is logged and tried again on the
 * next pass, as kube-apiserver's endpoint reconciler does; it never stops the apiserver.
 */
async function reconcileEndpointsForever(registry: APIRegistry, ctx: () => RequestContext, opts: { advertiseAddress: string; port: number; log: Logger; signal?: AbortSignal }): Promise<void> {
  while (!opts.signal?.aborted) {
    try {
      await reconcileEndpoints(registry, ctx, opts);
    } catch (err) {
      // A store closed under a stopping apiserver is no failure to report.
      if (opts.signal?.aborted) return;
      opts.log.error('Unable to sync the kubernetes service endpoints', { err: err as Error, retryInSeconds: endpointsReconcileMs / 1000 });
    }
    await new Promise((resolve) => setTimeout(resolve, endpointsReconcileMs).unref());
  }
}

const getOrUndefined = (p: Promise<KubeObject>): Promise<KubeObject | undefined> =>
  p.catch((err) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });

/** reconcileEndpoints writes the Endpoints when they differ from what they should be, then the slice from them. */
async function reconcileEndpoints(registry: APIRegistry, ctx: () => RequestContext, opts: { advertiseAddress: string; port: number }): Promise<void> {
  const epStore = registry.lookup('', 'v1', 'endpoints')!;
  const subsets = [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }] }];
  for (let attempt = 0; ; attempt++) {
    try {
      let cur = (await getOrUndefined(epStore.get('default', 'kubernetes'))) as Endpoints | undefined;
      if (!cur) {
        cur = (await epStore.create('default', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }, ctx())) as Endpoints;
      } else if (!semanticEqual(cur.subsets, subsets) || cur.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror'] !== 'true') {
        const labels = { ...cur.metadata.labels, 'endpointslice.kubernetes.io/skip-mirror': 'true' };
        cur = (await epStore.update('default', 'kubernetes', { ...cur, metadata: { ...cur.metadata, labels }, subsets }, ctx())).object as Endpoints;
      }
      await ensureEndpointSlice(registry, ctx, cur);
      return;
    } catch (err) {
      if (attempt >= 4 || (!isAlreadyExists(err) && !isConflict(err))) throw err;
    }
  }
}

/**
 * ensureEndpointSlice is the endpoints adapter's EnsureEndpointSliceFromEndpoints: create the
 * slice when missing, recreate it when its address type changed (the type is immutable), and
 * update it when its endpoints, ports or labels differ.
 */
async function ensureEndpointSlice(registry: APIRegistry, ctx: () => RequestContext, ep: Endpoints): Promise<void> {
  const store = registry.lookup('discovery.k8s.io', 'v1', 'endpointslices');
  if (!store) return;
  const want = endpointSliceFromEndpoints(ep);
  const cur = (await getOrUndefined(store.get('default', want.metadata.name!))) as EndpointSlice | undefined;
  if (!cur) {
    await store.create('default', want, ctx());
    return;
  }
  if (cur.addressType !== want.addressType) {
    await store.delete('default', want.metadata.name!, {}, ctx());
    await store.create('default', want, ctx());
    return;
  }
  if (semanticEqual(cur.endpoints ?? [], want.endpoints ?? []) && semanticEqual(cur.ports ?? [], want.ports ?? []) && semanticEqual(cur.metadata.labels ?? {}, want.metadata.labels)) return;
  await store.update('default', want.metadata.name!, { ...cur, metadata: { ...cur.metadata, labels: want.metadata.labels }, endpoints: want.endpoints, ports: want.ports }, ctx());
}

/**
 * endpointSliceFromEndpoints is the endpoints adapter's endpointSliceFromEndpoints: a slice of the
 * same name labelled with the service name only (no managed-by label: kube-apiserver writes it,
 * not a controller), from the first subset: its ports, its ready then not-ready addresses with
 * only the ready condition set, IPv6 when every address is IPv6.
 */
export function endpointSliceFromEndpoints(ep: Endpoints): EndpointSlice & { metadata: { labels: Record<string, string> } } {
  const slice: EndpointSlice & { metadata: { labels: Record<string, string> } } = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: ep.metadata.name, namespace: ep.metadata.namespace, labels: { [LabelServiceName]: ep.metadata.name ?? '' } },
    addressType: AddressType.IPv4,
    endpoints: null,
  };
  const subset = ep.subsets?.[0];
  if (!subset) return slice;
  slice.ports = (subset.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
  const all = [...(subset.addresses ?? []), ...(subset.notReadyAddresses ?? [])];
  if (all.length && all.every((a) => isIPv6(a.ip))) slice.addressType = AddressType.IPv6;
  const toEndpoint = (a: EndpointAddress, ready: boolean): Endpoint => {
    const e: Endpoint = { addresses: [a.ip], conditions: { ready } };
    if (a.targetRef) e.targetRef = a.targetRef;
    if (a.nodeName) e.nodeName = a.nodeName;
    if (a.hostname) e.hostname = a.hostname;
    return e;
  };
  const eps = [
    ...(subset.addresses ?? []).filter((a) => isIPv6(a.ip) === (slice.addressType === AddressType.IPv6)).map((a) => toEndpoint(a, true)),
    ...(subset.notReadyAddresses ?? []).filter((a) => isIPv6(a.ip) === (slice.addressType === AddressType.IPv6)).map((a) => toEndpoint(a, false)),
  ];
  if (eps.length) slice.endpoints = eps;
  return slice;
}
