// What a machine needs to join a cluster, published in kube-system in kubeadm's shape:
//
// - kubeadm-certs (Secret): the control plane's CA keys, each encrypted with AES-256-GCM under
//   a certificate key that only the admin has (kubeadm's `init phase upload-certs` and
//   `join --certificate-key`). Each value is nonce ‖ ciphertext ‖ tag, as Go's gcm.Seal(nonce,
//   nonce, …) lays it out. The Secret is owned by a bootstrap token of its own with a 2 h TTL and
//   no usages, so the token cleaner's deletion of that token makes the garbage collector delete
//   the keys (kubeadm does the same).
// - kubeadm-config (ConfigMap): ClusterConfiguration (the cluster's pod and Service ranges, its
//   control-plane endpoint) and ClusterStatus (the control-plane members: their apiserver and
//   etcd client addresses). Bootstrap tokens may read both objects (apiserver/auth/bootstrap.ts,
//   kubeadm's kubeadm:nodes-kubeadm-config and kubeadm:kubeadm-certs Roles).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';

/** kubeadmCertsSecret and kubeadmConfigMap are the objects' names, in kube-system. */
export const kubeadmCertsSecret = 'kubeadm-certs';
export const kubeadmConfigMap = 'kubeadm-config';
export const kubeadmNamespace = 'kube-system';
/** clusterConfigurationKey and clusterStatusKey are kubeadm-config's data keys. */
export const clusterConfigurationKey = 'ClusterConfiguration';
export const clusterStatusKey = 'ClusterStatus';
/** certsTTLMs is how long uploaded certificates stay (kubeadm's 2 h). */
export const certsTTLMs = 2 * 3600_000;

/**
 * uploadedFiles are the files kubeadm-certs carries, by data key, as paths under a home: the
 * cluster CA, the service-account key pair, etcd's client CA and the etcd peer CA, the
 * encryption-at-rest keys (every apiserver must read what another wrote) and the static tokens.
 */
export const uploadedFiles: Readonly<Record<string, string>> = Object.freeze({
  'ca.crt': 'pki/ca.crt',
  'ca.key': 'pki/ca.key',
  'sa.key': 'pki/sa.key',
  'sa.pub': 'pki/sa.pub',
  'etcd-ca.crt': 'pki/etcd/ca.crt',
  'etcd-ca.key': 'pki/etcd/ca.key',
  'etcd-peer-ca.crt': 'pki/etcd-peer/ca.crt',
  'etcd-peer-ca.key': 'pki/etcd-peer/ca.key',
  'encryption-config.yaml': 'pki/encryption-config.yaml',
  'tokens.csv': 'pki/tokens.csv',
});

/** CertificateKeyError says why a certificate key or an uploaded value is unusable; its message is for the user. */
export class CertificateKeyError extends Error {
  override name = 'CertificateKeyError';
}

/** newCertificateKey is 32 random bytes in hex, as `kubeadm certs certificate-key` prints. */
export function newCertificateKey(): string {
  return randomBytes(32).toString('hex');
}

/** parseCertificateKey checks a key's form (64 hex digits: AES-256). */
export function parseCertificateKey(key: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(key)) throw new CertificateKeyError('the certificate key must be 64 hexadecimal digits (32 bytes); skiff token create --control-plane prints one');
  return Buffer.from(key, 'hex');
}

/** encryptValue seals data with AES-256-GCM: nonce ‖ ciphertext ‖ tag. */
export function encryptValue(data: Buffer, key: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

/** decryptValue opens what encryptValue sealed; a wrong key or altered data fails authentication. */
export function decryptValue(sealed: Buffer, key: Buffer): Buffer {
  if (sealed.length < 12 + 16) throw new CertificateKeyError('size of data is less than the nonce and tag sizes');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  } catch {
    throw new CertificateKeyError('error decoding secret data with provided key: cipher: message authentication failed (is the --certificate-key right?)');
  }
}

/** ClusterConfiguration is the part of kubeadm's ClusterConfiguration skiff publishes. */
export interface ClusterConfiguration {
  apiVersion: 'kubeadm.k8s.io/v1beta4';
  kind: 'ClusterConfiguration';
  kubernetesVersion: string;
  clusterName: string;
  controlPlaneEndpoint: string;
  networking: { podSubnet: string; serviceSubnet: string; dnsDomain: string };
}

/** APIEndpoint is one control-plane member's apiserver, and (skiff's addition) its etcd member. */
export interface APIEndpoint {
  advertiseAddress: string;
  bindPort: number;
  /** etcdClientURL is the member's etcd client URL (TLS, client certificates of etcd's CA). */
  etcdClientURL?: string;
}

/** ClusterStatus is kubeadm's (v1beta2) record of the control-plane members, by member name. */
export interface ClusterStatus {
  apiVersion: 'kubeadm.k8s.io/v1beta2';
  kind: 'ClusterStatus';
  apiEndpoints: Record<string, APIEndpoint>;
}

/** parseClusterConfiguration reads kubeadm-config's ClusterConfiguration (undefined when absent or not YAML). */
export function parseClusterConfiguration(data: Record<string, string> | undefined): ClusterConfiguration | undefined {
  const text = data?.[clusterConfigurationKey];
  if (!text) return undefined;
  try {
    const v = parse(text) as ClusterConfiguration;
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** parseClusterStatus reads kubeadm-config's ClusterStatus (no members when absent). */
export function parseClusterStatus(data: Record<string, string> | undefined): ClusterStatus {
  const empty: ClusterStatus = { apiVersion: 'kubeadm.k8s.io/v1beta2', kind: 'ClusterStatus', apiEndpoints: {} };
  const text = data?.[clusterStatusKey];
  if (!text) return empty;
  try {
    const v = parse(text) as ClusterStatus;
    return v && typeof v === 'object' && v.apiEndpoints && typeof v.apiEndpoints === 'object' ? v : empty;
  } catch {
    return empty;
  }
}

/** statusYAML is ClusterStatus as kubeadm-config holds it. */
export function statusYAML(s: ClusterStatus): string {
  return stringify(s);
}

/** configurationYAML is ClusterConfiguration as kubeadm-config holds it. */
export function configurationYAML(c: ClusterConfiguration): string {
  return stringify(c);
}
