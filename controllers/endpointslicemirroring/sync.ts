// syncEndpoints for EndpointSlice mirroring (kube's endpointslicemirroring Controller.syncEndpoints
// and the reconciler's finalize): mirror the Endpoints named by key when they may be mirrored and
// their Service exists without a selector; otherwise delete what was mirrored for them.

import type { Endpoints } from '../../lib/api/core/endpoints.js';
import type { Service } from '../../lib/api/core/service.js';
import { type EndpointSlice, LabelManagedBy, LabelServiceName } from '../../lib/api/discovery/endpointslice.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import type { Recorder } from '../../lib/client/events.js';
import { EndpointSlices } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import { splitKey } from '../../lib/controller/keys.js';
import type { Logger } from '../../lib/log.js';
import { selectorFromSet } from '../../lib/machinery/labels.js';
import { isNamespaceTerminatingError } from '../common/errors.js';
import { StaleInformerCacheError } from '../endpointslice/sync.js';
import type { EndpointSliceTracker } from '../endpointslice/tracker.js';
import { ControllerName, maxEndpointsPerSubset, planMirroring, shouldMirror } from './reconciler.js';

/** MirroringSyncer holds what syncEndpoints reads and writes. */
export interface MirroringSyncer {
  client: Client;
  services: Lister<Service>;
  endpoints: Lister<Endpoints>;
  slices: Lister<EndpointSlice>;
  tracker: EndpointSliceTracker;
  recorder: Recorder;
  log?: Logger;
  maxEndpointsPerSubset?: number;
}

/** mirroredSlices is endpointSlicesMirroredForService: the cached slices this controller made for the Endpoints name. */
export function mirroredSlices(slices: Lister<EndpointSlice>, namespace: string, name: string): EndpointSlice[] {
  return slices.list(namespace, selectorFromSet({ [LabelServiceName]: name, [LabelManagedBy]: ControllerName }));
}

/**
 * syncEndpoints brings the mirrored slices of the Endpoints named by key in line with them. The
 * slices go when the Endpoints or their Service go, when the Endpoints are marked skip-mirror, and
 * when the Service gains a selector (the endpointslice controller then writes its own).
 */
export async function syncEndpoints(s: MirroringSyncer, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const ep = s.endpoints.get(key);
  const svc = s.services.get(key);
  if (!ep || !shouldMirror(ep) || !svc || svc.spec?.selector) {
    s.tracker.deleteService(key);
    await deleteMirroredSlices(s, namespace, name);
    return;
  }
  const existing = mirroredSlices(s.slices, namespace, name);
  if (s.tracker.staleSlices(key, existing)) throw new StaleInformerCacheError();

  const max = s.maxEndpointsPerSubset ?? maxEndpointsPerSubset;
  const plan = planMirroring(ep, existing, max);
  // The kind is spelled out: a listed item may lack it, and kubectl describe finds events by it.
  const involved = { apiVersion: 'v1', kind: 'Endpoints', metadata: ep.metadata };
  if (plan.invalidAddresses > 0) {
    s.recorder.event(involved, 'Warning', 'InvalidIPAddress', `Skipped ${plan.invalidAddresses} invalid IP addresses when mirroring to EndpointSlices`);
  }
  if (plan.skippedAddresses > plan.invalidAddresses) {
    s.log?.info('Addresses in Endpoints were skipped due to exceeding MaxEndpointsPerSubset', { skippedAddresses: plan.skippedAddresses, endpoints: key });
    s.recorder.event(involved, 'Warning', 'TooManyAddressesToMirror', `A max of ${max} addresses can be mirrored to EndpointSlices per Endpoints subset. ${plan.skippedAddresses} addresses were skipped`);
  }

  // No new slices for Endpoints on their way out: the garbage collector would race them.
  if (!ep.metadata.deletionTimestamp) {
    for (const slice of plan.toCreate) {
      try {
        s.tracker.update(await s.client.create<EndpointSlice>(EndpointSlices, namespace, slice));
      } catch (err) {
        if (isNamespaceTerminatingError(err)) return;
        throw new Error(`failed to create EndpointSlice for Endpoints ${key}: ${message(err)}`, { cause: err });
      }
    }
  }
  for (const slice of plan.toUpdate) {
    try {
      s.tracker.update(await s.client.update<EndpointSlice>(EndpointSlices, slice));
    } catch (err) {
      throw new Error(`failed to update ${slice.metadata.name} EndpointSlice for Endpoints ${key}: ${message(err)}`, { cause: err });
    }
  }
  for (const slice of plan.toDelete) {
    try {
      await s.client.delete(EndpointSlices, namespace, slice.metadata.name!);
      s.tracker.expectDeletion(slice);
    } catch (err) {
      throw new Error(`failed to delete ${slice.metadata.name} EndpointSlice for Endpoints ${key}: ${message(err)}`, { cause: err });
    }
  }
  if (plan.toCreate.length + plan.toUpdate.length + plan.toDelete.length) {
    s.log?.v(4).info('Mirrored EndpointSlices', { endpoints: key, created: plan.toCreate.length, updated: plan.toUpdate.length, deleted: plan.toDelete.length });
  }
}

/** deleteMirroredSlices is deleteMirroredSlices: every slice mirrored for the name goes; errors are gathered and reported together. */
async function deleteMirroredSlices(s: MirroringSyncer, namespace: string, name: string): Promise<void> {
  const slices = mirroredSlices(s.slices, namespace, name);
  const errs: unknown[] = [];
  for (const slice of slices) {
    try {
      await s.client.delete(EndpointSlices, namespace, slice.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) errs.push(err);
    }
  }
  if (errs.length) {
    throw new Error(`error(s) deleting ${errs.length}/${slices.length} EndpointSlices for ${namespace}/${name} Endpoints, including: ${message(errs[0])}`, { cause: errs[0] });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
