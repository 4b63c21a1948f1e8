// syncNamespace for the root CA publisher (kube's pkg/controller/certificates/rootcacertpublisher):
// every namespace holds the `kube-root-ca.crt` ConfigMap with the cluster's CA bundle as
// `ca.crt`, for pods that reach the apiserver at kubernetes.default.svc. A deleted one is made
// again, a changed one put back.

import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Namespace } from '../../lib/api/core/namespace.js';
import { type Client, isNotFound } from '../../lib/client/client.js';
import { ConfigMaps } from '../../lib/client/resources.js';
import type { Lister } from '../../lib/controller/lister.js';
import type { Logger } from '../../lib/log.js';
import { isNamespaceTerminatingError } from '../common/errors.js';

/** rootCACertConfigMapName is the ConfigMap's name in every namespace. */
export const rootCACertConfigMapName = 'kube-root-ca.crt';

/** descriptionAnnotation says what the ConfigMap is for. */
export const descriptionAnnotation = 'kubernetes.io/description';

/** description is kube's text for that annotation. */
export const description =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** PublisherSyncer holds what syncNamespace reads and writes. */
export interface PublisherSyncer {
  client: Client;
  namespaces: Lister<Namespace>;
  configMaps: Lister<ConfigMap>;
  /** rootCA is the CA bundle (PEM) to publish. */
  rootCA: string;
  log?: Logger;
}

/** syncNamespace makes the namespace's kube-root-ca.crt hold exactly the CA bundle. */
export async function syncNamespace(s: PublisherSyncer, key: string): Promise<void> {
  const ns = s.namespaces.get(key);
  if (!ns || ns.metadata.deletionTimestamp) return;
  const data = { 'ca.crt': s.rootCA };
  const cm = s.configMaps.get(`${key}/${rootCACertConfigMapName}`);
  try {
    if (!cm) {
      await s.client.create<ConfigMap>(ConfigMaps, key, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: rootCACertConfigMapName, namespace: key, annotations: { [descriptionAnnotation]: description } },
        data,
      });
      s.log?.v(2).info('Published the root CA', { namespace: key });
      return;
    }
    const sameData = Object.keys(cm.data ?? {}).length === 1 && cm.data?.['ca.crt'] === s.rootCA && !cm.binaryData;
    if (sameData && cm.metadata.annotations?.[descriptionAnnotation]) return;
    // Never change the cached object: write a copy.
    const updated: ConfigMap = { ...cm, metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [descriptionAnnotation]: description } }, data };
    delete updated.binaryData;
    await s.client.update<ConfigMap>(ConfigMaps, updated);
    s.log?.v(2).info('Restored the root CA', { namespace: key });
  } catch (err) {
    // The namespace is going or gone. Anything else (an AlreadyExists from a lagging cache, a conflict) retries.
    if (isNotFound(err) || isNamespaceTerminatingError(err)) return;
    throw err;
  }
}
