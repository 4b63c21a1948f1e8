// The EndpointSlice controller: wiring. Service events enqueue the Service; pod events enqueue
// the Services that select the pod now or did before; slice events that are not the echo of this
// controller's own writes enqueue the slice's Service a second later (kube's
// endpointSliceChangeMinSyncDelay), and a Node's arrival enqueues the Services whose pods were
// waiting for it. Reconcile logic is in sync.ts and reconciler.ts.

import type { Node } from '../../lib/api/core/node.js';
import type { Pod } from '../../lib/api/core/pod.js';
import type { Service } from '../../lib/api/core/service.js';
import { type EndpointSlice, LabelManagedBy, LabelServiceName } from '../../lib/api/discovery/endpointslice.js';
import { EndpointSlices, Nodes, Pods, Services } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { podEventHandler } from '../common/endpoints.js';
import { ControllerName } from './reconciler.js';
import { type EndpointSliceSyncer, syncService } from './sync.js';
import { EndpointSliceTracker } from './tracker.js';

/** endpointSliceChangeMinSyncDelayMs batches the syncs that slice events cause. */
const endpointSliceChangeMinSyncDelayMs = 1000;

/** startEndpointSliceController starts the endpointslice controller. */
export const startEndpointSliceController: ControllerStarter = (ctx) => {
  const log = ctx.log.with({ controller: 'endpointslice' });
  const serviceInformer = ctx.informers.informerFor<Service>(Services);
  const podInformer = ctx.informers.informerFor<Pod>(Pods);
  const sliceInformer = ctx.informers.informerFor<EndpointSlice>(EndpointSlices);
  const nodeInformer = ctx.informers.informerFor<Node>(Nodes);
  const services = serviceInformer.lister();
  const tracker = new EndpointSliceTracker();
  // Services whose pods were left out because their Node was unknown, by node name.
  const waiting = new Map<string, Set<string>>();
  const serviceKeyOf = (slice: EndpointSlice) => {
    const svc = slice.metadata.labels?.[LabelServiceName];
    return svc && slice.metadata.labels?.[LabelManagedBy] === ControllerName ? `${slice.metadata.namespace}/${svc}` : undefined;
  };
  const syncer: EndpointSliceSyncer = {
    client: ctx.client,
    services,
    pods: podInformer.lister(),
    slices: sliceInformer.lister(),
    nodes: nodeInformer.lister(),
    tracker,
    recorder: ctx.recorder('endpoint-slice-controller'),
    log,
    waitingForNode: (svcKey, nodes) => {
      for (const n of nodes) waiting.set(n, (waiting.get(n) ?? new Set()).add(svcKey));
    },
  };
  const controller = ctx.runController({
    name: 'endpointslice',
    informers: [serviceInformer, podInformer, sliceInformer, nodeInformer],
    setup: (c) => {
      serviceInformer.on('change', (svc) => c.enqueue(svc));
      podInformer.addEventHandler(podEventHandler(services, (k) => c.enqueueKey(k)));
      const onSlice = (slice: EndpointSlice) => {
        const key = serviceKeyOf(slice);
        if (key && tracker.shouldSync(slice)) c.enqueueAfter(key, endpointSliceChangeMinSyncDelayMs);
      };
      sliceInformer.on('add', onSlice);
      sliceInformer.on('update', onSlice);
      sliceInformer.on('delete', (slice) => {
        const key = serviceKeyOf(slice);
        // An expected deletion is this controller's own; any other one is put right.
        if (key && !tracker.handleDeletion(slice)) c.enqueueAfter(key, endpointSliceChangeMinSyncDelayMs);
      });
      nodeInformer.on('add', (node) => {
        const name = node.metadata.name ?? '';
        const keys = waiting.get(name);
        if (!keys) return;
        waiting.delete(name);
        for (const k of keys) c.enqueueKey(k);
      });
    },
    reconcile: (key) => syncService(syncer, key),
  });
  return [controller];
};
