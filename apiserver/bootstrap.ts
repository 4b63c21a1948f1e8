// Bootstrap objects every cluster has from the start: the four system namespaces, the
// `kubernetes` Service in default (first ClusterIP, port 443) with Endpoints naming this apiserver,
// and the system-node-critical and system-cluster-critical PriorityClasses.

import type { KubeObject } from '../lib/api/meta.js';
import { systemPriorityClasses } from '../lib/api/scheduling/priorityclass.js';
import { isAlreadyExists, isNotFound, isConflict } from '../lib/machinery/status.js';
import type { Logger } from '../lib/log.js';
import type { APIRegistry } from './registry/registry.js';
import type { RequestContext } from './registry/store.js';

export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function bootstrap(registry: APIRegistry, opts: { serviceIP: string; advertiseAddress: string; port: number; log: Logger }): Promise<void> {
  const ctx = (): RequestContext => ({ now: new Date(), dryRun: false, user: { name: 'system:apiserver', groups: ['system:masters'] } });
  const nsStore = registry.lookup('', 'v1', 'namespaces')!;
  for (const name of systemNamespaces) {
    try {
      await nsStore.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx());
      opts.log.info('Created system namespace', { name });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
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
  const epStore = registry.lookup('', 'v1', 'endpoints')!;
  const subsets = [{ addresses: [{ ip: opts.advertiseAddress }], ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }] }];
  for (let attempt = 0; attempt < 5; attempt++) {
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
      if (!isAlreadyExists(err) && !isConflict(err)) throw err;
    }
  }
}
