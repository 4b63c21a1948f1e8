// The endpoints controller (kube's "endpoint" controller): wiring. Service events enqueue the
// Service; pod events enqueue the Services that select the pod now or did before; the deletion
// of an Endpoints object whose Service still exists enqueues it to be written again, its add or
// update to be compared again. At start, every existing Endpoints is enqueued once
// (checkLeftoverEndpoints), so Endpoints whose Service went away while the controller was down
// are deleted. Reconcile logic is in sync.ts.

import type { Endpoints as EndpointsObject } from '../../lib/api/core/endpoints.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import { Endpoints, Pods, Services } from '../../lib/client/resources.js';
import { keyOf } from '../../lib/controller/index.js';
import type { ControllerStarter } from '../context.js';
import { podEventHandler } from '../common/endpoints.js';
import { AnnotationLeaderElection, newEndpointsSyncer, syncService } from './sync.js';

/** startEndpointsController starts the endpoints controller. */
export const startEndpointsController: ControllerStarter = (ctx) => {
  const log = ctx.log.with({ controller: 'endpoint' });
  const serviceInformer = ctx.informers.informerFor<Service>(Services);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const endpointsInformer = ctx.informers.informerFor<EndpointsObject>(Endpoints);
  const services = serviceInformer.lister();
  const syncer = newEndpointsSyncer({
    client: ctx.client,
    services,
    pods: podInformer.lister(),
    endpoints: endpointsInformer.lister(),
    recorder: ctx.recorder('endpoint-controller'),
    log,
  });
  const controller = ctx.runController({
    name: 'endpoint',
    informers: [serviceInformer, podInformer, endpointsInformer],
    setup: (c) => {
      serviceInformer.on('change', (svc) => c.enqueue(svc));
      podInformer.addEventHandler(podEventHandler(services, (k) => c.enqueueKey(k)));
      // A deleted Endpoints whose Service remains is written again, and a hand edit of a managed
      // one is put back. Adds matter too: a create that met an Endpoints the cache did not show
      // yet waits for its arrival to compare.
      const enqueueIfService = (ep: EndpointsObject): void => {
        if (services.get(keyOf(ep))) c.enqueue(ep);
      };
      endpointsInformer.on('add', enqueueIfService);
      endpointsInformer.on('update', enqueueIfService);
      endpointsInformer.on('delete', enqueueIfService);
    },
    reconcile: (key) => syncService(syncer, key),
  });
  // checkLeftoverEndpoints, once the caches are in.
  void controller.synced.then((ok) => {
    if (!ok) return;
    for (const ep of endpointsInformer.lister().list()) {
      if (ep.metadata.annotations?.[AnnotationLeaderElection] !== undefined) continue;
      controller.enqueue(ep);
    }
  });
  return [controller];
};
