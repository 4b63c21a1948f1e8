// Test doubles for the volume code: an in-memory mount table and API objects served from memory.
// Test-only: nothing outside *.test.ts imports this file.

import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Secret } from '../../lib/api/core/secret.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../lib/api/core/persistentvolume.js';
import type { Mounter, ObjectSources } from './types.js';

/** FakeMounter records tmpfs mounts instead of making them (test-only). */
export class FakeMounter implements Mounter {
  readonly mounted = new Map<string, bigint | undefined>();
  readonly calls: string[] = [];

  async mountTmpfs(dir: string, sizeBytes?: bigint): Promise<void> {
    this.calls.push(`mount ${dir}${sizeBytes !== undefined ? ` size=${sizeBytes}` : ''}`);
    this.mounted.set(dir, sizeBytes);
  }

  async unmount(dir: string): Promise<void> {
    this.calls.push(`umount ${dir}`);
    this.mounted.delete(dir);
  }

  mountsUnder(dir: string): string[] {
    return [...this.mounted.keys()].filter((m) => m === dir || m.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
  }
}

/** FakeSources serves config maps and secrets from maps keyed `namespace/name` (test-only). */
export class FakeSources implements ObjectSources {
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  readonly claims = new Map<string, PersistentVolumeClaim>();
  readonly volumes = new Map<string, PersistentVolume>();
  tokens = 0;
  getServiceAccountToken?: ObjectSources['getServiceAccountToken'];

  constructor(withTokens = false) {
    if (withTokens) {
      this.getServiceAccountToken = async (namespace, sa, audience, expirationSeconds) => {
        this.tokens++;
        return { token: `token-${this.tokens}:${namespace}/${sa}:${audience ?? ''}:${expirationSeconds}`, expirationTimestamp: new Date(Date.now() + expirationSeconds * 1000).toISOString() };
      };
    }
  }

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return structuredClone(this.configMaps.get(`${namespace}/${name}`));
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return structuredClone(this.secrets.get(`${namespace}/${name}`));
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return structuredClone(this.claims.get(`${namespace}/${name}`));
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return structuredClone(this.volumes.get(name));
  }

  /** putBoundClaim stores a claim bound to a hostPath volume at path. */
  putBoundClaim(namespace: string, name: string, volumeName: string, path: string, type = 'DirectoryOrCreate'): void {
    this.claims.set(`${namespace}/${name}`, { metadata: { namespace, name, uid: `uid-${name}` }, spec: { volumeName }, status: { phase: 'Bound' } });
    this.volumes.set(volumeName, { metadata: { name: volumeName }, spec: { hostPath: { path, type }, claimRef: { namespace, name, uid: `uid-${name}` } } });
  }

  /** putConfigMap stores a config map of string data. */
  putConfigMap(namespace: string, name: string, data: Record<string, string>, binaryData?: Record<string, string>): void {
    this.configMaps.set(`${namespace}/${name}`, { metadata: { namespace, name }, data, ...(binaryData ? { binaryData } : {}) });
  }

  /** putSecret stores a secret, encoding its values. */
  putSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.secrets.set(`${namespace}/${name}`, { metadata: { namespace, name }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
  }
}
