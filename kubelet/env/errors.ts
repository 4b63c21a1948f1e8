// The error a container's configuration can fail with. It lives apart from env.ts so that the
// volume code (subPathExpr expansion, mounts) can throw it without importing the env resolver.

/** ConfigError is a container whose config cannot be made (a missing config map key, …): Waiting with reason CreateContainerConfigError. */
export class ConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** notFoundMessage is the kubelet's object manager's message for a missing config map or secret. */
export function notFoundMessage(kind: 'configmap' | 'secret', name: string): string {
  return `${kind} "${name}" not found`;
}
