// Bootstrap objects every cluster has from the start: the four system namespaces, the
// `kubernetes` Service in default (first ClusterIP, port 443) with Endpoints naming this apiserver,
// and the system-node-critical and system-cluster-critical PriorityClasses.
//
// The Endpoints are not a condition of starting: an advertise address that endpoints validation
// refuses (loopback, as on a machine whose only interface is lo) leaves the Service without
// Endpoints and a warning in the log, and a failed write is retried in the background, as
// kube-apiserver's endpoint reconciler logs and retries.

import type { KubeObject } from '../lib/api/meta.js';
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
export async function bootstrap(registry: APIRegistry, opts: { serviceIP: string; advertiseAddress: string; port: number; log: Logger }): Promise<void> {
  const ctx = (): RequestContext => ({ now: new Date(), dryRun: false, user: { name: 'system:apiserver', groups: ['system:masters'] } });
  const nsStore = registry.lookup('', 'v1', 'namespaces')!;
  await ensureSystemNamespaces(nsStore, ctx, opts.log);
  // As kube-apiserver's system namespaces controller: a deleted kube-node-lease (it is not
  // protected) comes back within a minute, once its deletion has finished.
  setInterval(() => {
    ensureSystemNamespaces(nsStore, ctx, opts.log).catch((err: unknown) => {
      opts.log.error('Unable to create required system namespaces', { err: err as Error });
    });
  }, systemNamespacesIntervalMs).unref();
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
  void reconcileEndpointsUntilDone(registry, ctx, opts);
}

/**
 * endpointsUnpublishable says why an advertise address may not be an Endpoints address (endpoints
 * validation refuses loopback, link-local and unspecified IPs), or undefined when it may.
 */
export function endpointsUnpublishable(advertiseAddress: string): string | undefined {
  const errs = validateNonSpecialIP(advertiseAddress, 'advertiseAddress');
  return errs.length ? errs.map((e) => e.detail).join('; ') : undefined;
}

/** endpointsRetryMs is how long a failed Endpoints write waits before the next try (kube's --endpoint-reconciler interval, 10 s). */
const endpointsRetryMs = 10_000;

/**
 * reconcileEndpointsUntilDone writes the `kubernetes` Endpoints naming this apiserver. A failure
 * is logged and retried in the background, as kube-apiserver's endpoint reconciler does; it never
 * stops the apiserver.
 */
async function reconcileEndpointsUntilDone(registry: APIRegistry, ctx: () => RequestContext, opts: { advertiseAddress: string; port: number; log: Logger }): Promise<void> {
  for (;;) {
    try {
      await reconcileEndpoints(registry, ctx, opts);
      return;
    } catch (err) {
      opts.log.error('Unable to sync the kubernetes service endpoints', { err: err as Error, retryInSeconds: endpointsRetryMs / 1000 });
    }
    await new Promise((resolve) => setTimeout(resolve, endpointsRetryMs).unref());
  }
}

async function reconcileEndpoints(registry: APIRegistry, ctx: () => RequestContext, opts: { advertiseAddress: string; port: number }): Promise<void> {
  const epStore = registry.lookup('', 'v1', 'endpoints')!;
  const subsets = [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }] }];
  for (let attempt = 0; ; attempt++) {
    try {
      const cur = await epStore.get('default', 'kubernetes').catch((err) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (!cur) {
        await epStore.create('default', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }, ctx());
      } else if (JSON.stringify(cur.subsets) !== JSON.stringify(subsets)) {
        await epStore.update('default', 'kubernetes', { ...cur, subsets }, ctx());
      }
      return;
    } catch (err) {
      if (attempt >= 4 || (!isAlreadyExists(err) && !isConflict(err))) throw err;
    }
  }
}
