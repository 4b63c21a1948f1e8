// ObjectSources for the pod workers: the config maps and secrets pods refer to, read with GET and
// kept for a short while, as the kubelet's default configMapAndSecretChangeDetectionStrategy
// (Watch aside) reads through a TTL cache. A missing object is remembered as missing for the same
// time, so a pod waiting for one does not hammer the apiserver. When the apiserver cannot be
// reached, the last answer read is served instead (the kubelet's watch-based caches and Service
// informer keep their objects while the apiserver is away), so containers restart as before.

import type { ConfigMap } from '../lib/api/core/configmap.js';
import type { Secret } from '../lib/api/core/secret.js';
import type { Service } from '../lib/api/core/service.js';
import { type Client, isNotFound, type ResourceType } from '../lib/client/client.js';
import { ConfigMaps, PersistentVolumeClaims, PersistentVolumes, Secrets, ServiceAccounts, Services } from '../lib/client/resources.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../lib/api/core/persistentvolume.js';
import type { Pod } from '../lib/api/core/pod.js';
import type { TokenRequest } from '../lib/api/authentication/tokenrequest.js';
import type { Clock } from '../lib/clock.js';
import type { ObjectSources } from './volumes/volumes.js';

/** DefaultObjectTTLMs is how long a read object (or its absence) is served from the cache. */
export const DefaultObjectTTLMs = 5_000;

interface Entry {
  at: number;
  value: Promise<unknown>;
}

/** CachingObjectSources reads config maps and secrets through client with a TTL cache. */
export class CachingObjectSources implements ObjectSources {
  private readonly cache = new Map<string, Entry>();
  /** last is the last answer the apiserver gave for each key, served when it cannot be reached. */
  private readonly last = new Map<string, unknown>();

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
    private readonly ttlMs = DefaultObjectTTLMs,
  ) {}

  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.get<ConfigMap>(ConfigMaps, namespace, name);
  }

  getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.get<Secret>(Secrets, namespace, name);
  }

  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.get<PersistentVolumeClaim>(PersistentVolumeClaims, namespace, name);
  }

  getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return this.get<PersistentVolume>(PersistentVolumes, '', name);
  }

  /**
   * listServices lists a namespace's Services for the service link env vars, through the same
   * TTL cache (the kubelet reads them from a Service informer; a few seconds' staleness is the
   * same as a late watch event). An error is not cached and reaches the env code.
   */
  listServices(namespace: string): Promise<Service[]> {
    const key = `services/${namespace}/`;
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<Service[]>;
    const value = this.client.list<Service>(Services, namespace).then(
      (l) => this.remember(key, l.items),
      (err: unknown) => {
        this.cache.delete(key);
        if (this.last.has(key)) return this.last.get(key) as Service[];
        throw err;
      },
    );
    this.cache.set(key, { at: now, value });
    return value;
  }

  /**
   * getServiceAccountToken asks the apiserver for a token bound to pod (a TokenRequest on the
   * pod's service account), as the kubelet's token manager does. Caching and renewal at 80% of
   * the lifetime are the volume code's (volumes/payload.ts); nothing is cached here.
   */
  async getServiceAccountToken(namespace: string, serviceAccountName: string, audience: string | undefined, expirationSeconds: number, pod: Pod): Promise<{ token: string; expirationTimestamp: string }> {
    const request: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: {
        audiences: audience ? [audience] : [],
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    const out = await this.client.create<TokenRequest>(ServiceAccounts, namespace, request, { subresource: 'token', name: serviceAccountName });
    if (!out.status?.token) throw new Error(`the apiserver answered the TokenRequest for ${namespace}/${serviceAccountName} without a token`);
    return { token: out.status.token, expirationTimestamp: out.status.expirationTimestamp };
  }

  /** invalidate drops every cached object of a namespace (or all), e.g. when a pod is re-synced on request. */
  invalidate(namespace?: string): void {
    for (const key of this.cache.keys()) if (namespace === undefined || key.split('/')[1] === namespace) this.cache.delete(key);
    // last stays: it only answers while the apiserver cannot be reached.
  }

  private get<T>(r: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    const key = `${r.resource}/${namespace}/${name}`;
    const now = this.clock.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T | undefined>;
    const value = this.client.get<T>(r, namespace, name).then(
      (obj) => this.remember(key, obj),
      (err: unknown) => {
        if (isNotFound(err)) return this.remember(key, undefined);
        // Errors other than "not found" are not cached: the next call asks again, and the last
        // answer (if any) stands in meanwhile.
        this.cache.delete(key);
        if (this.last.has(key)) return this.last.get(key) as T | undefined;
        throw err;
      },
    );
    this.cache.set(key, { at: now, value });
    // Entries expire lazily; keep the map from growing without bound on many distinct names.
    if (this.cache.size > 10_000) {
      for (const [k, e] of this.cache) if (now - e.at >= this.ttlMs) this.cache.delete(k);
    }
    return value;
  }

  /** remember keeps an answer of the apiserver as the key's last (bounded: the oldest go first). */
  private remember<T>(key: string, value: T): T {
    this.last.delete(key);
    this.last.set(key, value);
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
    return value;
  }
}
