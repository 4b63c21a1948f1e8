// syncSecret for the token controller (kube's pkg/controller/serviceaccount TokensController):
// a Secret of type kubernetes.io/service-account-token that names a service account gets that
// account's uid, a legacy token signed with the cluster's key, the root CA and the namespace; a
// token Secret whose service account is gone (or was replaced) is deleted.

import type { KeyObject } from 'node:crypto';
import type { Secret } from '../../lib/api/core/secret.js';
import { SecretKeys, SecretType } from '../../lib/api/core/secret.js';
import type { ServiceAccount } from '../../lib/api/core/serviceaccount.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import { Secrets, ServiceAccounts } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { legacyClaims, signJWT } from '../../lib/serviceaccount/legacy.js';

/** TokensSyncer holds what syncSecret reads and writes. */
export interface TokensSyncer {
  client: Client;
  secrets: Lister<Secret>;
  serviceAccounts: Lister<ServiceAccount>;
  /** signingKey signs the legacy tokens (--service-account-private-key-file). */
  signingKey: KeyObject;
  /** rootCA is the CA bundle (PEM) written as ca.crt. */
  rootCA: string;
  log?: Logger;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** syncSecret fills or deletes the token Secret named key (namespace/name). */
export async function syncSecret(s: TokensSyncer, key: string): Promise<void> {
  const secret = s.secrets.get(key);
  if (!secret || secret.type !== SecretType.ServiceAccountToken || secret.metadata.deletionTimestamp) return;
  const namespace = secret.metadata.namespace!;
  const annotations = secret.metadata.annotations ?? {};
  const saName = annotations[SecretKeys.serviceAccountName];
  if (!saName) return;
  const wantUID = annotations[SecretKeys.serviceAccountUID];
  // The cache may not have a service account made a moment ago: ask the apiserver before deleting.
  let sa = s.serviceAccounts.get(`${namespace}/${saName}`);
  if (!sa || (wantUID && sa.metadata.uid !== wantUID)) sa = await liveServiceAccount(s.client, namespace, saName);
  if (!sa || (wantUID && sa.metadata.uid !== wantUID)) {
    try {
      await s.client.delete(Secrets, namespace, secret.metadata.name!, { preconditions: { uid: secret.metadata.uid } });
      s.log?.v(2).info('Deleted the token Secret of a missing service account', { namespace, secret: secret.metadata.name, serviceAccount: saName });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return;
  }
  const data = secret.data ?? {};
  const needs = {
    uid: wantUID !== sa.metadata.uid,
    ca: data[SecretKeys.serviceAccountCA] !== b64(s.rootCA),
    namespace: data[SecretKeys.serviceAccountNamespace] !== b64(namespace),
    token: !data[SecretKeys.serviceAccountToken],
  };
  if (!needs.uid && !needs.ca && !needs.namespace && !needs.token) return;
  // Never change the cached object: write a copy (its resourceVersion guards a concurrent write).
  const updated: Secret = {
    ...secret,
    metadata: { ...secret.metadata, annotations: { ...annotations, [SecretKeys.serviceAccountUID]: sa.metadata.uid! } },
    data: { ...data, [SecretKeys.serviceAccountCA]: b64(s.rootCA), [SecretKeys.serviceAccountNamespace]: b64(namespace) },
  };
  if (needs.token) {
    const token = await signJWT(s.signingKey, legacyClaims(namespace, { name: saName, uid: sa.metadata.uid! }, secret.metadata.name!));
    updated.data![SecretKeys.serviceAccountToken] = b64(token);
  }
  await s.client.update<Secret>(Secrets, updated);
  s.log?.v(2).info('Filled a service account token Secret', { namespace, secret: secret.metadata.name, serviceAccount: saName });
}

async function liveServiceAccount(client: Client, namespace: string, name: string): Promise<ServiceAccount | undefined> {
  try {
    return await client.get<ServiceAccount>(ServiceAccounts, namespace, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
