// The cluster's side of a join (lib/controlplanejoin.ts has the formats): publishClusterConfig
// keeps kube-system/kubeadm-config in step with cluster.json (ranges, endpoint, this machine's
// members), and uploadCerts seals the control plane's CA keys into kube-system/kubeadm-certs
// under a certificate key (kubeadm init phase upload-certs).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Secret } from '../api/core/secret.js';
import { bootstrapTokenNamespace, bootstrapTokenSecretType, descriptionKey, expirationKey, generateToken, secretName, tokenIDKey, tokenSecretKey } from '../bootstraptoken.js';
import { ConfigMaps, isAlreadyExists, isConflict, isNotFound, type RestClient, Secrets } from '../client/index.js';
import {
  type ClusterConfiguration,
  certsTTLMs,
  clusterConfigurationKey,
  clusterStatusKey,
  configurationYAML,
  encryptValue,
  kubeadmCertsSecret,
  kubeadmConfigMap,
  kubeadmNamespace,
  parseCertificateKey,
  parseClusterStatus,
  statusYAML,
  uploadedFiles,
} from '../controlplanejoin.js';
import type { ClusterConfig } from './components.js';
import { etcdMemberName, memberCount, memberNetns, memberPorts } from './controlplane.js';

/** clusterConfiguration is what kubeadm-config's ClusterConfiguration says about config. */
export function clusterConfiguration(config: ClusterConfig, endpoint: string): ClusterConfiguration {
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    kubernetesVersion: 'v1.32.0',
    clusterName: 'skiff',
    controlPlaneEndpoint: new URL(endpoint).host,
    networking: { podSubnet: config.clusterCIDR, serviceSubnet: config.serviceCIDR, dnsDomain: 'cluster.local' },
  };
}

/**
 * publishClusterConfig creates or updates kubeadm-config: ClusterConfiguration from config, and
 * in ClusterStatus this machine's members (etcd-<n>: the apiserver's port and, with several
 * members, the etcd client URL on the advertise address), keeping members other machines added.
 */
export async function publishClusterConfig(client: RestClient, config: ClusterConfig, endpoint: string): Promise<void> {
  const several = (config.controlPlaneMembers ?? 1) > 1;
  for (let attempt = 0; ; attempt++) {
    const existing = await client.get<ConfigMap>(ConfigMaps, kubeadmNamespace, kubeadmConfigMap).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const status = parseClusterStatus(existing?.data);
    for (const name of Object.keys(status.apiEndpoints)) if (/^etcd-\d+$/.test(name) || name === 'default') delete status.apiEndpoints[name];
    for (let n = 1; n <= memberCount(config); n++) {
      const p = memberPorts(config, n);
      // A lab member in a namespace of its own serves on the namespace's address.
      const address = memberNetns(config, n)?.ip ?? config.advertiseAddress;
      status.apiEndpoints[several ? etcdMemberName(n) : 'default'] = {
        advertiseAddress: address,
        bindPort: several ? p.apiserverPort : config.apiserverPort,
        ...(several ? { etcdClientURL: `https://${address}:${p.etcdClientPort}` } : {}),
      };
    }
    const data = { ...existing?.data, [clusterConfigurationKey]: configurationYAML(clusterConfiguration(config, endpoint)), [clusterStatusKey]: statusYAML(status) };
    try {
      if (existing) await client.update(ConfigMaps, { ...existing, data });
      else await client.create(ConfigMaps, kubeadmNamespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: kubeadmConfigMap, namespace: kubeadmNamespace }, data });
      return;
    } catch (err) {
      if (!(isConflict(err) || isAlreadyExists(err)) || attempt > 5) throw err;
    }
  }
}

/**
 * uploadCerts seals the home's CA keys (uploadedFiles) with key and stores them as
 * kube-system/kubeadm-certs, replacing an earlier upload. The Secret is owned by a new bootstrap
 * token with no usages that expires in 2 h: when the token cleaner deletes it, the garbage
 * collector deletes the keys.
 */
export async function uploadCerts(client: RestClient, home: string, certificateKey: string): Promise<void> {
  const key = parseCertificateKey(certificateKey);
  const data: Record<string, string> = {};
  for (const [name, rel] of Object.entries(uploadedFiles)) {
    const path = join(home, rel);
    if (existsSync(path)) data[name] = encryptValue(readFileSync(path), key).toString('base64');
  }
  const ttlToken = generateToken();
  const owner: Secret = await client.create<Secret>(Secrets, bootstrapTokenNamespace, {
    apiVersion: 'v1',
    kind: 'Secret',
    type: bootstrapTokenSecretType,
    metadata: { name: secretName(ttlToken.id), namespace: bootstrapTokenNamespace },
    stringData: {
      [tokenIDKey]: ttlToken.id,
      [tokenSecretKey]: ttlToken.secret,
      [expirationKey]: new Date(Math.floor((Date.now() + certsTTLMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      [descriptionKey]: `Proxy for managing TTL for the ${kubeadmCertsSecret} secret`,
    },
  });
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: kubeadmCertsSecret,
      namespace: kubeadmNamespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    data,
  };
  await client.delete(Secrets, kubeadmNamespace, kubeadmCertsSecret).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
  await client.create(Secrets, kubeadmNamespace, secret);
}
