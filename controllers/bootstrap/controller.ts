// The bootstrap signer and token cleaner: wiring. Any change to the cluster-info ConfigMap or to a
// kube-system Secret enqueues the one cluster-info key for the signer; every kube-system Secret of
// the bootstrap token type is a key of the cleaner. Reconcile logic is in sync.ts.

import type { ConfigMap } from '../../lib/api/core/configmap.js';
import { bootstrapTokenNamespace, bootstrapTokenSecretType, clusterInfoName, expiration, clusterInfoNamespace, type TokenSecret } from '../../lib/bootstraptoken.js';
import { ConfigMaps, Secrets } from '../../lib/client/resources.js';
import type { ControllerStarter } from '../context.js';
import { clusterInfoKey, syncClusterInfo, syncTokenSecret, type BootstrapSyncer } from './sync.js';

type SecretObject = TokenSecret & { metadata: { labels?: Record<string, string> } };

/** startBootstrapSignerController starts the bootstrapsigner controller. */
export const startBootstrapSignerController: ControllerStarter = (ctx) => {
  const cmInformer = ctx.informers.informerFor<ConfigMap>(ConfigMaps);
  const secretInformer = ctx.informers.informerFor<SecretObject>(Secrets);
  const syncer: BootstrapSyncer = { client: ctx.client, configMaps: cmInformer.lister(), secrets: secretInformer.lister(), log: ctx.log.with({ controller: 'bootstrapsigner' }) };
  const isClusterInfo = (cm: ConfigMap) => cm.metadata.namespace === clusterInfoNamespace && cm.metadata.name === clusterInfoName;
  const isTokenSecret = (s: SecretObject) => s.metadata.namespace === bootstrapTokenNamespace && s.type === bootstrapTokenSecretType;
  const controller = ctx.runController({
    name: 'bootstrapsigner',
    informers: [cmInformer, secretInformer],
    // One key, one worker: signing is a single object.
    workers: 1,
    setup: (c) => {
      for (const ev of ['add', 'update'] as const) cmInformer.on(ev, (cm) => isClusterInfo(cm) && c.enqueueKey(clusterInfoKey));
      for (const ev of ['add', 'update', 'delete'] as const) secretInformer.on(ev, (s) => isTokenSecret(s) && c.enqueueKey(clusterInfoKey));
    },
    reconcile: async () => {
      await syncClusterInfo(syncer);
      // An expiring token's signature goes with it, whether or not the cleaner got to its Secret yet.
      const now = Date.now();
      const next = Math.min(...syncer.secrets.list(bootstrapTokenNamespace).map((s) => (expiration(s) ?? NaN) - now).filter((ms) => ms > 0));
      return Number.isFinite(next) ? { requeueAfter: next + 1 } : undefined;
    },
  });
  return [controller];
};

/** startTokenCleanerController starts the tokencleaner controller. */
export const startTokenCleanerController: ControllerStarter = (ctx) => {
  const secretInformer = ctx.informers.informerFor<SecretObject>(Secrets);
  const syncer: BootstrapSyncer = { client: ctx.client, secrets: secretInformer.lister(), log: ctx.log.with({ controller: 'tokencleaner' }) };
  const controller = ctx.runController({
    name: 'tokencleaner',
    informers: [secretInformer],
    setup: (c) => {
      for (const ev of ['add', 'update'] as const) {
        secretInformer.on(ev, (s) => {
          if (s.metadata.namespace === bootstrapTokenNamespace && s.type === bootstrapTokenSecretType) c.enqueue(s);
        });
      }
    },
    reconcile: (key) => syncTokenSecret(syncer, key),
  });
  return [controller];
};
