// The bootstrap signer and the token cleaner (kube-controller-manager's bootstrapsigner and
// tokencleaner, pkg/controller/bootstrap):
//  - syncClusterInfo keeps one `jws-kubeconfig-<id>` detached JWS of the kube-public cluster-info
//    ConfigMap's kubeconfig per bootstrap token that may sign, and none for any other token, so a
//    joining machine holding a token can tell that the CA it read came from this cluster.
//  - syncTokenSecret deletes a bootstrap token Secret once it has expired, and otherwise asks to
//    be called again at its expiration.

import type { ConfigMap } from '../../lib/api/core/configmap.js';
import {
  bootstrapTokenNamespace,
  bootstrapTokenSecretType,
  clusterInfoName,
  clusterInfoNamespace,
  computeDetachedSignature,
  expiration,
  isExpired,
  jwsSignaturePrefix,
  kubeconfigKey,
  validSigningToken,
  type TokenSecret,
} from '../../lib/bootstraptoken.js';
import { type Client, isConflict, isNotFound } from '../../lib/client/client.js';
import { ConfigMaps, Secrets } from '../../lib/client/resources.js';
import type { ReconcileResult } from '../../lib/controller/controller.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';

/** BootstrapSyncer holds what the two reconciles read and write. */
export interface BootstrapSyncer {
  client: Client;
  /** configMaps is the signer's (the cleaner has none). */
  configMaps?: Lister<ConfigMap>;
  secrets: Lister<TokenSecret & { metadata: { labels?: Record<string, string> } }>;
  log?: Logger;
  now?: () => number;
}

/** clusterInfoKey is the one key the signer's queue holds. */
export const clusterInfoKey = `${clusterInfoNamespace}/${clusterInfoName}`;

/** syncClusterInfo signs cluster-info with every valid signing token (the bootstrap signer's signConfigMap). */
export async function syncClusterInfo(s: BootstrapSyncer): Promise<void> {
  const cm = s.configMaps?.get(clusterInfoKey);
  if (!cm || cm.metadata.deletionTimestamp) return;
  const content = cm.data?.[kubeconfigKey];
  if (content === undefined) return;
  const now = s.now?.() ?? Date.now();
  const want: Record<string, string> = {};
  for (const secret of s.secrets.list(bootstrapTokenNamespace)) {
    const token = validSigningToken(secret, now);
    if (token) want[`${jwsSignaturePrefix}${token.id}`] = await computeDetachedSignature(content, token);
  }
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) if (!k.startsWith(jwsSignaturePrefix)) data[k] = v;
  Object.assign(data, want);
  const have = Object.entries(cm.data ?? {}).filter(([k]) => k.startsWith(jwsSignaturePrefix));
  const same = have.length === Object.keys(want).length && have.every(([k, v]) => want[k] === v);
  if (same) return;
  // Never modify the cached object: write a copy.
  const updated: ConfigMap = { ...structuredClone(cm), data };
  try {
    await s.client.update<ConfigMap>(ConfigMaps, updated);
    s.log?.v(2).info('Signed cluster-info', { tokens: Object.keys(want).map((k) => k.slice(jwsSignaturePrefix.length)) });
  } catch (err) {
    // A newer cluster-info is on its way through the informer: its event brings another sync.
    if (isConflict(err) || isNotFound(err)) return;
    throw err;
  }
}

/** syncTokenSecret deletes an expired bootstrap token Secret (the token cleaner's evalSecret). */
export async function syncTokenSecret(s: BootstrapSyncer, key: string): Promise<void | ReconcileResult> {
  const secret = s.secrets.get(key);
  if (!secret || secret.type !== bootstrapTokenSecretType || secret.metadata.deletionTimestamp) return;
  const now = s.now?.() ?? Date.now();
  if (!isExpired(secret, now)) {
    const at = expiration(secret);
    return at === undefined ? undefined : { requeueAfter: Math.max(0, at - now) + 1 };
  }
  try {
    await s.client.delete(Secrets, bootstrapTokenNamespace, secret.metadata.name!, { preconditions: { uid: secret.metadata.uid } });
    s.log?.info('Deleted expired bootstrap token', { secret: key });
  } catch (err) {
    if (isNotFound(err) || isConflict(err)) return;
    throw err;
  }
}
