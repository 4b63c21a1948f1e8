// syncService for EndpointSlices (kube's endpointslice Controller.syncService and the write half
// of the reconciler's finalize): read the Service, its pods and its slices from the caches,
// refuse to act while the slice cache lags behind this controller's own writes, plan with
// planSlices, then create, update and delete.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import { type EndpointSlice, LabelManagedBy, LabelServiceName } from '../../lib/api/discovery/endpointslice.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { EndpointSlices } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Logger } from '../../lib/log.js';
import { selectorFromSet } from '../../lib/machinery/labels.js';
import { managesEndpoints } from '../common/endpoints.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import { ControllerName, planSlices } from './reconciler.js';
import type { EndpointSliceTracker } from './tracker.js';

/** EndpointSliceSyncer holds what syncService reads and writes. */
export interface EndpointSliceSyncer {
  client: Client;
  services: Lister<Service>;
  pods: Lister<Pod>;
  slices: Lister<EndpointSlice>;
  nodes: Lister<Node>;
  tracker: EndpointSliceTracker;
  recorder: Recorder;
  log?: Logger;
  maxEndpointsPerSlice?: number;
  /** waitingForNode is told which nodes a Service's pods were left out for, so the Node's arrival can enqueue it. */
  waitingForNode?(serviceKey: string, nodes: string[]): void;
}

/** StaleInformerCacheError is NewStaleInformerCache: the slice cache has not seen this controller's last writes yet. */
export class StaleInformerCacheError extends Error {
  constructor() {
    super('EndpointSlice informer cache is out of date');
    this.name = 'StaleInformerCacheError';
  }
}

/** MissingNodesError reports pods left out because their Node is unknown; the sync is retried. */
export class MissingNodesError extends Error {
  constructor(serviceKey: string, nodes: string[]) {
    super(`skipping Pods for Service ${serviceKey}: Node ${nodes.join(', ')} Not Found`);
    this.name = 'MissingNodesError';
  }
}

/** managedSlices are the cached slices of a Service this controller manages, those being deleted left out. */
export function managedSlices(slices: Lister<EndpointSlice>, namespace: string, serviceName: string): EndpointSlice[] {
  return slices
    .list(namespace, selectorFromSet({ [LabelServiceName]: serviceName, [LabelManagedBy]: ControllerName }))
    .filter((s) => !s.metadata.deletionTimestamp);
}

/**
 * syncService brings the slices of the Service named by key in line with its pods. Services
 * without a selector and ExternalName Services are left alone. The slices of a deleted Service
 * are deleted here as well as by the garbage collector (through their ownerReference), so they
 * go even when that controller is off.
 */
export async function syncService(s: EndpointSliceSyncer, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const svc = s.services.get(key);
  if (!svc) {
    s.tracker.deleteService(key);
    for (const slice of managedSlices(s.slices, namespace, name)) {
      if (!(slice.metadata.ownerReferences ?? []).some((o) => o.kind === 'Service' && o.name === name)) continue;
      await deleteSlice(s, slice);
    }
    return;
  }
  if (!managesEndpoints(svc)) return;

  const pods = s.pods.list(namespace, selectorFromSet(svc.spec.selector));
  const existing = managedSlices(s.slices, namespace, name);
  if (s.tracker.staleSlices(key, existing)) throw new StaleInformerCacheError();

  const plan = planSlices({ svc, pods, existing, nodeOf: (n) => s.nodes.get(n), maxEndpointsPerSlice: s.maxEndpointsPerSlice });
  try {
    // Creating slices for a Service on its way out would race the garbage collector.
    if (!svc.metadata.deletionTimestamp) {
      for (const slice of plan.toCreate) {
        try {
          const created = await s.client.create<EndpointSlice>(EndpointSlices, namespace, slice);
          s.tracker.update(created);
        } catch (err) {
          if (isNamespaceTerminatingError(err)) return;
          throw new Error(`failed to create EndpointSlice for Service ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
    }
    for (const slice of plan.toUpdate) {
      try {
        const updated = await s.client.update<EndpointSlice>(EndpointSlices, slice);
        s.tracker.update(updated);
      } catch (err) {
        throw new Error(`failed to update ${slice.metadata.name} EndpointSlice for Service ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    for (const slice of plan.toDelete) await deleteSlice(s, slice);
  } catch (err) {
    // The kind is spelled out: kubectl describe finds events by it, and a listed item may lack it.
    s.recorder.event({ apiVersion: 'v1', kind: 'Service', metadata: svc.metadata }, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
  if (plan.toCreate.length + plan.toUpdate.length + plan.toDelete.length) {
    s.log?.v(4).info('Reconciled EndpointSlices', { service: key, created: plan.toCreate.length, updated: plan.toUpdate.length, deleted: plan.toDelete.length });
  }
  if (plan.missingNodes.length) {
    s.waitingForNode?.(key, plan.missingNodes);
    throw new MissingNodesError(key, plan.missingNodes);
  }
}

async function deleteSlice(s: EndpointSliceSyncer, slice: EndpointSlice): Promise<void> {
  try {
    await s.client.delete(EndpointSlices, slice.metadata.namespace ?? '', slice.metadata.name!);
    s.tracker.expectDeletion(slice);
  } catch (err) {
    if (!isNotFound(err)) throw new Error(`failed to delete ${slice.metadata.name} EndpointSlice: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
