// A container's environment, as the kubelet's makeEnvironmentVariables makes it: envFrom first
// (config maps and secrets, with their prefix), then env in order, each value expanded against
// the variables made before it, each valueFrom resolved (configMapKeyRef, secretKeyRef, fieldRef,
// resourceFieldRef). A later definition of a name replaces an earlier one. Service link variables
// (servicelinks.ts) come last, for the names the container does not define itself.

import type { Pod } from '../../lib/api/core/pod.js';
import type { ConfigMap } from '../../lib/api/core/configmap.js';
import type { Secret } from '../../lib/api/core/secret.js';
import { isEnvVarName } from '../../lib/api/core/validation.js';
import type { Container } from '../../lib/api/core/types.js';
import type { ObjectSources } from '../volumes/volumes.js';
import { ConfigError, notFoundMessage } from './errors.js';
import { expand, mappingFuncFor } from './expansion.js';
import { containerResourceValue, findContainer, podFieldSelectorRuntimeValue } from './fieldpath.js';
import { serviceEnv } from './servicelinks.js';

export { ConfigError } from './errors.js';

/** EnvContext is what env var sources need beyond the pod. */
export interface EnvContext {
  sources: ObjectSources;
  nodeName: string;
  hostIP: string;
  /** hostIPs are the node's IPs for status.hostIPs (default: [hostIP]). */
  hostIPs?: string[];
  podIPs: string[];
  /** nodeAllocatable backs resourceFieldRef when the container has no limit. */
  nodeAllocatable: Record<string, string>;
  /**
   * warn is told what the kubelet reports as a Warning event on the pod and otherwise skips:
   * reason InvalidEnvironmentVariableNames for envFrom keys that are not variable names.
   */
  warn?: (reason: string, message: string) => void;
}

/** EnvVarKV is one variable of a CRI container config. */
export interface EnvVarKV {
  key: string;
  value: string;
}

/** objectCache fetches each config map and secret once per call, as the kubelet's maps do. */
class objectCache {
  private readonly configMaps = new Map<string, ConfigMap | undefined>();
  private readonly secrets = new Map<string, Secret | undefined>();
  constructor(
    private readonly sources: ObjectSources,
    private readonly namespace: string,
  ) {}

  async configMap(name: string): Promise<ConfigMap | undefined> {
    if (!this.configMaps.has(name)) this.configMaps.set(name, await this.sources.getConfigMap(this.namespace, name));
    return this.configMaps.get(name);
  }

  async secret(name: string): Promise<Secret | undefined> {
    if (!this.secrets.has(name)) this.secrets.set(name, await this.sources.getSecret(this.namespace, name));
    return this.secrets.get(name);
  }
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/**
 * containerEnv resolves the container's env and envFrom into CRI key/values. The order is the
 * order of first definition (envFrom keys, then env, then the service link variables the
 * container does not define); a name defined again keeps its place and takes the later value.
 * Anything that cannot be resolved throws ConfigError with the kubelet's
 * message (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`, …).
 */
export async function containerEnv(pod: Pod, container: Container, ctx: EnvContext): Promise<EnvVarKV[]> {
  try {
    return await makeEnvironmentVariables(pod, container, ctx);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

async function makeEnvironmentVariables(pod: Pod, container: Container, ctx: EnvContext): Promise<EnvVarKV[]> {
  const namespace = pod.metadata.namespace ?? 'default';
  const objects = new objectCache(ctx.sources, namespace);
  const services = await serviceEnv(pod, ctx.sources);
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    let what: string;
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      what = `configMap ${namespace}/${name}`;
      const cm = await objects.configMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ConfigError(notFoundMessage('configmap', name));
      }
      data = cm.data ?? {};
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      what = `secret ${namespace}/${name}`;
      const secret = await objects.secret(name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ConfigError(notFoundMessage('secret', name));
      }
      data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, decode(v)]));
    } else {
      continue;
    }
    const invalid: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      const name = prefix + key;
      if (isEnvVarName(name).length > 0) {
        invalid.push(name);
        continue;
      }
      env.set(name, value);
    }
    if (invalid.length > 0) {
      ctx.warn?.(
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  // Each value sees the variables defined before it (and every envFrom key) through the map
  // as it grows, as the kubelet's mapping over its tmpEnv does, then the service variables.
  const mapping = mappingFuncFor(env, services);
  const runtime = { hostIPs: ctx.hostIPs ?? (ctx.hostIP ? [ctx.hostIP] : []), podIPs: ctx.podIPs };
  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (value !== '') {
      value = expand(value, mapping);
    } else if (e.valueFrom) {
      const from = e.valueFrom;
      if (from.fieldRef) {
        value = podFieldSelectorRuntimeValue(from.fieldRef, { ...pod, spec: { ...pod.spec, nodeName: pod.spec.nodeName || ctx.nodeName } }, runtime);
      } else if (from.resourceFieldRef) {
        const ref = from.resourceFieldRef;
        const target = ref.containerName ? findContainer(pod, ref.containerName) : container;
        value = containerResourceValue(ref, target, ctx.nodeAllocatable);
      } else if (from.configMapKeyRef) {
        const { name = '', key, optional } = from.configMapKeyRef;
        const cm = await objects.configMap(name);
        if (!cm) {
          if (optional) continue;
          throw new ConfigError(notFoundMessage('configmap', name));
        }
        const v = cm.data?.[key];
        if (v === undefined) {
          if (optional) continue;
          throw new ConfigError(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
        }
        value = v;
      } else if (from.secretKeyRef) {
        const { name = '', key, optional } = from.secretKeyRef;
        const secret = await objects.secret(name);
        if (!secret) {
          if (optional) continue;
          throw new ConfigError(notFoundMessage('secret', name));
        }
        const v = secret.data?.[key];
        if (v === undefined) {
          if (optional) continue;
          throw new ConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
        }
        value = decode(v);
      }
    }
    env.set(e.name, value);
  }
  for (const [k, v] of services) if (!env.has(k)) env.set(k, v);
  return [...env].map(([key, value]) => ({ key, value }));
}

/** expandCommand expands $(VAR) references in command and args with the container's env, as Kubernetes does. */
export function expandCommand(container: Container, env: { key: string; value: string }[]): { command: string[]; args: string[] } {
  const mapping = mappingFuncFor(envMap(env));
  return {
    command: (container.command ?? []).map((c) => expand(c, mapping)),
    args: (container.args ?? []).map((a) => expand(a, mapping)),
  };
}

/** envMap is the env as a name → value map (the last value of a repeated name wins). */
export function envMap(env: { key: string; value: string }[]): Map<string, string> {
  return new Map(env.map((e) => [e.key, e.value]));
}
