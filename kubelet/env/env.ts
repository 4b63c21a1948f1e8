// A container's environment. INTERFACE STUB: the signatures are the contract between the pod
// workers (kubelet/pods) and the env code; the bodies are filled in by the env work.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import type { ObjectSources } from '../volumes/volumes.js';

/** ConfigError is a container whose config cannot be made (a missing config map key, …): Waiting with reason CreateContainerConfigError. */
export class ConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** EnvContext is what env var sources need beyond the pod. */
export interface EnvContext {
  sources: ObjectSources;
  nodeName: string;
  hostIP: string;
  podIPs: string[];
  /** nodeAllocatable backs resourceFieldRef when the container has no limit. */
  nodeAllocatable: Record<string, string>;
}

/** containerEnv resolves the container's env and envFrom into CRI key/values, in Kubernetes' order. */
export async function containerEnv(pod: Pod, container: Container, ctx: EnvContext): Promise<{ key: string; value: string }[]> {
  void pod;
  void ctx;
  return (container.env ?? []).map((e) => ({ key: e.name, value: e.value ?? '' }));
}

/** expandCommand expands $(VAR) references in command and args with the container's env, as Kubernetes does. */
export function expandCommand(container: Container, env: { key: string; value: string }[]): { command: string[]; args: string[] } {
  void env;
  return { command: container.command ?? [], args: container.args ?? [] };
}
