// The namespace controller, as kube's: every namespace with a deletionTimestamp is emptied by
// the NamespacedResourcesDeleter (deleter.ts) and then finalized, which lets the apiserver
// remove it. While content is still going away (graceful pods, finalizers) the namespace is
// checked again after a growing delay, bounded by kube's estimate, never in a hot loop.

import type { Namespace } from '../../lib/api/core/namespace.js';
import { Namespaces } from '../../lib/client/resources.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter } from '../../lib/workqueue/ratelimiter.js';
import type { ControllerContext, ControllerStarter } from '../context.js';
import { discoverResources } from '../common/discovery.js';
import { NamespacedResourcesDeleter, ResourcesRemainingError } from './deleter.js';

/** remainingDelayMs is how long to wait before checking a namespace whose content is still going away. */
export function remainingDelayMs(estimateSeconds: number, backoffMs: number): number {
  // kube waits estimate/2+1 seconds; skiff's pods and finalizers usually go much sooner, so poll
  // with a backoff that starts small, never beyond kube's bound.
  return Math.min((Math.floor(estimateSeconds / 2) + 1) * 1000, backoffMs);
}

/** startNamespaceController starts the namespace controller. */
export const startNamespaceController: ControllerStarter = (ctx: ControllerContext) => {
  const log = ctx.log.with({ controller: 'namespace' });
  const informer = ctx.informers.informerFor<Namespace>(Namespaces);
  const namespaces = informer.lister();
  const deleter = new NamespacedResourcesDeleter({ client: ctx.client, log, discover: () => discoverResources(ctx.client) });
  const remaining = new ItemExponentialFailureRateLimiter<string>(250, 15_000);
  const enqueueIfDeleting = (c: { enqueue(ns: Namespace): void }, ns: Namespace): void => {
    if (ns.metadata?.deletionTimestamp) c.enqueue(ns);
  };
  return [
    ctx.runController({
      name: 'namespace',
      informers: [informer],
      log,
      // kube's nsControllerRateLimiter: per item 5 ms doubling to 60 s, overall 10 qps.
      rateLimiter: new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter<string>(5, 60_000), new BucketRateLimiter<string>(10, 100)),
      setup: (c) => {
        informer.on('add', (ns) => enqueueIfDeleting(c, ns));
        informer.on('update', (ns) => enqueueIfDeleting(c, ns));
      },
      reconcile: async (key) => {
        const ns = namespaces.get(key);
        if (!ns) {
          remaining.forget(key);
          return;
        }
        const start = performance.now();
        try {
          await deleter.delete(ns.metadata.name ?? key);
        } catch (err) {
          if (err instanceof ResourcesRemainingError) {
            const delay = remainingDelayMs(err.estimate, remaining.when(key));
            log.v(4).info('Content remains in namespace; checking again later', { namespace: key, estimateSeconds: err.estimate, delayMs: delay });
            return { requeueAfter: delay };
          }
          throw err;
        }
        remaining.forget(key);
        log.v(4).info('Finished syncing namespace', { namespace: key, ms: Math.round(performance.now() - start) });
        return undefined;
      },
    }),
  ];
};
