// The files of configMap, secret, downwardAPI and projected volumes (MakePayload, CollectData and
// the projected volume's collectData in Kubernetes), with the kubelet's messages for what is
// missing. Each function returns a Payload for the atomic writer or throws PayloadError.

import type { Pod } from '../../lib/api/core/pod.js';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Secret } from '../../lib/api/core/secret.js';
import type { DownwardAPIVolumeFile, KeyToPath, VolumeProjection } from '../../lib/api/core/types.js';
import { notFoundMessage } from '../env/errors.js';
import { containerResourceValue, extractFieldPathAsString, findContainer } from '../env/fieldpath.js';
import { type Payload, PayloadError } from './atomicwriter.js';
import type { ObjectSources } from './types.js';

/** defaultVolumeMode is the API's default file mode for projected files (0644). */
export const defaultVolumeMode = 0o644;

/** configMapPayload is a config map's keys (data and binaryData) as files, all of them or the items named. */
export function configMapPayload(items: KeyToPath[] | undefined, cm: ConfigMap, defaultMode: number, optional: boolean): Payload {
  const payload: Payload = new Map();
  const value = (key: string): Buffer | undefined => {
    if (cm.data && key in cm.data) return Buffer.from(cm.data[key], 'utf8');
    if (cm.binaryData && key in cm.binaryData) return Buffer.from(cm.binaryData[key], 'base64');
    return undefined;
  };
  if (!items || items.length === 0) {
    for (const key of [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})]) payload.set(key, { data: value(key)!, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const data = value(item.key);
    if (data === undefined) {
      if (optional) continue;
      throw new PayloadError(`configmap references non-existent config key: ${item.key}`);
    }
    payload.set(item.path, { data, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** secretPayload is a secret's keys as files, all of them or the items named. */
export function secretPayload(items: KeyToPath[] | undefined, secret: Secret, defaultMode: number, optional: boolean): Payload {
  const payload: Payload = new Map();
  const data = secret.data ?? {};
  if (!items || items.length === 0) {
    for (const [key, v] of Object.entries(data)) payload.set(key, { data: Buffer.from(v, 'base64'), mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    if (!(item.key in data)) {
      if (optional) continue;
      throw new PayloadError(`references non-existent secret key: ${item.key}`);
    }
    payload.set(item.path, { data: Buffer.from(data[item.key], 'base64'), mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** aggregate joins several failures the way Kubernetes' error aggregate prints them. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

/** downwardAPIPayload is the pod's fields and container resources as files (CollectData). */
export function downwardAPIPayload(items: DownwardAPIVolumeFile[] | undefined, pod: Pod, defaultMode: number, nodeAllocatable: Record<string, string>): Payload {
  const payload: Payload = new Map();
  const errs: string[] = [];
  for (const item of items ?? []) {
    let text = '';
    try {
      if (item.fieldRef) text = extractFieldPathAsString(pod, item.fieldRef.fieldPath);
      else if (item.resourceFieldRef) {
        const ref = item.resourceFieldRef;
        text = containerResourceValue(ref, findContainer(pod, ref.containerName ?? ''), nodeAllocatable);
      }
    } catch (err) {
      errs.push((err as Error).message);
    }
    payload.set(item.path, { data: Buffer.from(text, 'utf8'), mode: item.mode ?? defaultMode });
  }
  if (errs.length > 0) throw new PayloadError(aggregate(errs));
  return payload;
}

/** TokenIssuer issues service account tokens for projected volumes (ObjectSources.getServiceAccountToken). */
type TokenIssuer = NonNullable<ObjectSources['getServiceAccountToken']>;

interface CachedToken {
  token: string;
  expiresMs: number;
  issuedMs: number;
}

/**
 * tokenCache keeps each issued token until it needs a refresh, as the kubelet's token manager
 * does: past 80% of its lifetime or older than 24 hours. Without it each periodic resync of the
 * volume would ask the API for a new token.
 */
const tokenCache = new Map<string, CachedToken>();

async function serviceAccountToken(issue: TokenIssuer, pod: Pod, audience: string | undefined, expirationSeconds: number, nowMs: number): Promise<string> {
  const ns = pod.metadata.namespace ?? 'default';
  const sa = pod.spec.serviceAccountName || 'default';
  const key = JSON.stringify([pod.metadata.uid, ns, sa, audience ?? '', expirationSeconds]);
  const cached = tokenCache.get(key);
  if (cached) {
    const ttl = cached.expiresMs - cached.issuedMs;
    if (nowMs < cached.expiresMs - ttl * 0.2 && nowMs - cached.issuedMs < 24 * 3600_000) return cached.token;
  }
  const tr = await issue(ns, sa, audience, expirationSeconds, pod);
  tokenCache.set(key, { token: tr.token, expiresMs: Date.parse(tr.expirationTimestamp) || nowMs + expirationSeconds * 1000, issuedMs: nowMs });
  return tr.token;
}

/** forgetPodTokens drops the cached tokens of a pod (when its volumes are torn down). */
export function forgetPodTokens(podUID: string | undefined): void {
  for (const key of tokenCache.keys()) if ((JSON.parse(key) as string[])[0] === podUID) tokenCache.delete(key);
}

/**
 * projectedPayload is every source of a projected volume in one payload. A source that fails
 * does not stop the others from being read; the failures are reported together.
 */
export async function projectedPayload(sources: VolumeProjection[] | undefined, pod: Pod, defaultMode: number, objects: ObjectSources, nodeAllocatable: Record<string, string>): Promise<Payload> {
  // With an fsGroup the token is written 0600 and the ownership pass makes it 0640.
  const tokenMode = pod.spec.securityContext?.fsGroup !== undefined ? 0o600 : defaultMode;
  const payload: Payload = new Map();
  const errs: string[] = [];
  const ns = pod.metadata.namespace ?? 'default';
  const merge = (p: Payload): void => {
    for (const [k, v] of p) payload.set(k, v);
  };
  for (const source of sources ?? []) {
    try {
      if (source.configMap) {
        const { name = '', items, optional = false } = source.configMap;
        const cm = await objects.getConfigMap(ns, name);
        if (!cm && !optional) throw new PayloadError(notFoundMessage('configmap', name));
        merge(configMapPayload(items, cm ?? { metadata: { name, namespace: ns } }, defaultMode, optional));
      } else if (source.secret) {
        const { name = '', items, optional = false } = source.secret;
        const secret = await objects.getSecret(ns, name);
        if (!secret && !optional) throw new PayloadError(notFoundMessage('secret', name));
        merge(secretPayload(items, secret ?? { metadata: { name, namespace: ns } }, defaultMode, optional));
      } else if (source.downwardAPI) {
        merge(downwardAPIPayload(source.downwardAPI.items, pod, defaultMode, nodeAllocatable));
      } else if (source.serviceAccountToken) {
        const tp = source.serviceAccountToken;
        if (!objects.getServiceAccountToken) {
          throw new PayloadError(`cannot issue a token for serviceAccountToken path "${tp.path}": this cluster's API does not issue service account tokens yet`);
        }
        const token = await serviceAccountToken(objects.getServiceAccountToken.bind(objects), pod, tp.audience || undefined, tp.expirationSeconds ?? 3600, Date.now());
        payload.set(tp.path, { data: Buffer.from(token, 'utf8'), mode: tokenMode });
      } else if (source.clusterTrustBundle) {
        throw new PayloadError('clusterTrustBundle projections are not supported by this kubelet');
      }
    } catch (err) {
      errs.push((err as Error).message);
    }
  }
  if (errs.length > 0) throw new PayloadError(aggregate(errs));
  return payload;
}
