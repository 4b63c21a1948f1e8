// API errors every controller reads the same way.

import { ApiError } from '../../lib/client/client.js';

/** NamespaceTerminatingCause is v1.NamespaceTerminatingCause: the Status cause of a create refused in a terminating namespace. */
export const NamespaceTerminatingCause = 'NamespaceTerminating';

/**
 * isNamespaceTerminatingError: the apiserver refused a create because the namespace is being
 * deleted (a 403 with a NamespaceTerminating cause, as kube's NamespaceLifecycle admission
 * answers). Every later create there fails too, and the namespace controller is about to delete
 * what asked, so controllers drop the work instead of retrying or reporting it.
 */
export function isNamespaceTerminatingError(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.code !== 403) return false;
  return err.status.details?.causes?.some((c) => c.reason === NamespaceTerminatingCause) ?? false;
}

/**
 * namespaceTerminatingError is the error the apiserver answers a create of resource in a
 * terminating namespace with (test-only: unit tests fail their FakeClient's creates with it).
 */
export function namespaceTerminatingError(resource: string, namespace: string, name = ''): ApiError {
  return new ApiError({
    kind: 'Status',
    status: 'Failure',
    code: 403,
    reason: 'Forbidden',
    message: `${resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
    details: { name, kind: resource, causes: [{ reason: NamespaceTerminatingCause, message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] },
  });
}
