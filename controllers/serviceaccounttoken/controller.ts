// The token controller (kube-controller-manager's serviceaccount-token): wiring. Token Secrets
// are enqueued when added or changed; a deleted service account enqueues its token Secrets,
// which the sync then deletes. It runs only with --service-account-private-key-file. Reconcile
// logic is in sync.ts.

import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { SecretKeys, SecretType, type Secret } from '../../lib/api/core/secret.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import { Secrets, ServiceAccounts } from '../../lib/client/resources.js';
import { rootCAOf } from '../rootcacertpublisher/controller.js';
import type { ControllerStarter } from '../context.js';
import { syncSecret, type TokensSyncer } from './sync.js';

/** startTokensController starts the token controller, or nothing without a signing key. */
export const startTokensController: ControllerStarter = (ctx) => {
  const keyFile = ctx.config.serviceAccountPrivateKeyFile;
  if (!keyFile || !existsSync(keyFile)) {
    ctx.log.warn('Not starting the serviceaccount-token controller: no --service-account-private-key-file', { file: keyFile });
    return [];
  }
  const secretInformer = ctx.informers.informerFor<Secret>(Secrets);
  const saInformer = ctx.informers.informerFor<ServiceAccount>(ServiceAccounts);
  const syncer: TokensSyncer = {
    client: ctx.client,
    secrets: secretInformer.lister(),
    serviceAccounts: saInformer.lister(),
    signingKey: createPrivateKey(readFileSync(keyFile)),
    rootCA: rootCAOf(ctx),
    log: ctx.log.with({ controller: 'serviceaccount-token' }),
  };
  const controller = ctx.runController({
    name: 'serviceaccount-token',
    informers: [secretInformer, saInformer],
    setup: (c) => {
      const onSecret = (s: Secret) => {
        if (s.type === SecretType.ServiceAccountToken) c.enqueue(s);
      };
      secretInformer.on('add', onSecret);
      secretInformer.on('update', onSecret);
      saInformer.on('delete', (sa) => {
        for (const s of syncer.secrets.list(sa.metadata.namespace)) {
          if (s.type === SecretType.ServiceAccountToken && s.metadata.annotations?.[SecretKeys.serviceAccountName] === sa.metadata.name) c.enqueue(s);
        }
      });
    },
    reconcile: (key) => syncSecret(syncer, key),
  });
  return [controller];
};
