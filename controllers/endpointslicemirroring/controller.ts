// The EndpointSlice mirroring controller: wiring. Endpoints events enqueue the Endpoints when they
// may be mirrored (before or after the change); a Service without a selector enqueues its
// Endpoints when it comes or goes, and any Service when it gains or loses its selector; slice
// events that are not the echo of this controller's own writes enqueue the Endpoints of the
// slice's service-name label. Reconcile logic is in sync.ts and reconciler.ts.

import type { Endpoints } from '../../lib/api/core/endpoints.js';
import type { Service } from '../../lib/api/core/service.js';
import { type EndpointSlice, LabelManagedBy, LabelServiceName } from '../../lib/api/discovery/endpointslice.js';
import { EndpointSlices, Endpoints as EndpointsResource, Services } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { EndpointSliceTracker } from '../endpointslice/tracker.js';
import { ControllerName, shouldMirror } from './reconciler.js';
import { type MirroringSyncer, syncEndpoints } from './sync.js';

const managedByController = (slice: EndpointSlice) => slice.metadata.labels?.[LabelManagedBy] === ControllerName;

/** endpointsKeyOf is endpointsControllerKey: the Endpoints a slice was mirrored from, by its service-name label. */
function endpointsKeyOf(slice: EndpointSlice): string | undefined {
  const name = slice.metadata.labels?.[LabelServiceName];
  return name ? `${slice.metadata.namespace}/${name}` : undefined;
}

/** startEndpointSliceMirroringController starts the endpointslicemirroring controller. */
export const startEndpointSliceMirroringController: ControllerStarter = (ctx) => {
  const serviceInformer = ctx.informers.informerFor<Service>(Services);
  const endpointsInformer = ctx.informers.informerFor<Endpoints>(EndpointsResource);
  const sliceInformer = ctx.informers.informerFor<EndpointSlice>(EndpointSlices);
  const tracker = new EndpointSliceTracker();
  const syncer: MirroringSyncer = {
    client: ctx.client,
    services: serviceInformer.lister(),
    endpoints: endpointsInformer.lister(),
    slices: sliceInformer.lister(),
    tracker,
    recorder: ctx.recorder('endpoint-slice-mirroring-controller'),
    log: ctx.log.with({ controller: 'endpointslicemirroring' }),
  };
  const controller = ctx.runController({
    name: 'endpointslicemirroring',
    informers: [serviceInformer, endpointsInformer, sliceInformer],
    setup: (c) => {
      const enqueueSlice = (slice: EndpointSlice) => {
        const key = endpointsKeyOf(slice);
        if (key) c.enqueueKey(key);
      };
      serviceInformer.addEventHandler({
        onAdd: (svc) => {
          if (!svc.spec?.selector) c.enqueue(svc);
        },
        onUpdate: (old, svc) => {
          if (!svc.spec?.selector !== !old.spec?.selector) c.enqueue(svc);
        },
        onDelete: (svc) => {
          if (!svc.spec?.selector) c.enqueue(svc);
        },
      });
      endpointsInformer.addEventHandler({
        onAdd: (ep) => {
          if (shouldMirror(ep)) c.enqueue(ep);
        },
        onUpdate: (old, ep) => {
          if (shouldMirror(ep) || shouldMirror(old)) c.enqueue(ep);
        },
        onDelete: (ep) => {
          if (shouldMirror(ep)) c.enqueue(ep);
        },
      });
      sliceInformer.addEventHandler({
        onAdd: (slice) => {
          if (managedByController(slice) && tracker.shouldSync(slice)) enqueueSlice(slice);
        },
        onUpdate: (old, slice) => {
          // Users may relabel a slice: both the old and the new Endpoints are looked at again.
          if (old.metadata.labels?.[LabelServiceName] !== slice.metadata.labels?.[LabelServiceName]) {
            enqueueSlice(old);
            enqueueSlice(slice);
            return;
          }
          if (managedByController(old) !== managedByController(slice) || (managedByController(slice) && tracker.shouldSync(slice))) enqueueSlice(slice);
        },
        onDelete: (slice) => {
          // An expected deletion is this controller's own; any other one is put right.
          if (managedByController(slice) && tracker.has(slice) && !tracker.handleDeletion(slice)) enqueueSlice(slice);
        },
      });
    },
    reconcile: (key) => syncEndpoints(syncer, key),
  });
  return [controller];
};
