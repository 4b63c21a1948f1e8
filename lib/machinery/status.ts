// StatusError carries a metav1.Status across the API boundary. Every error a client sees is one of
// these, built by the constructors below so code, reason, details and message read exactly as
// kube-apiserver's (k8s.io/apimachinery/pkg/api/errors) do: kubectl prints them verbatim.

import { type FieldError, formatFieldErrors } from './field-errors.js';

export const StatusReason = {
  Unknown: '',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Gone',
  Invalid: 'Invalid',
  ServerTimeout: 'ServerTimeout',
  Timeout: 'Timeout',
  TooManyRequests: 'TooManyRequests',
  BadRequest: 'BadRequest',
  MethodNotAllowed: 'MethodNotAllowed',
  NotAcceptable: 'NotAcceptable',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  UnsupportedMediaType: 'UnsupportedMediaType',
  InternalError: 'InternalError',
  Expired: 'Expired',
  ServiceUnavailable: 'ServiceUnavailable',
} as const;
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** GroupResource names a resource the way error messages do: `deployments.apps`, `configmaps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** GroupKind names a kind the way Invalid messages do: `Deployment.apps`, `ConfigMap`. */
export interface GroupKind {
  group: string;
  kind: string;
}

function qualified(name: string, group: string): string {
  return group ? `${name}.${group}` : name;
}

/** StatusError is thrown anywhere in the apiserver; the HTTP layer turns it into a Status body. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: reason || undefined,
      details,
      code,
    };
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export function isStatusError(err: unknown): err is StatusError {
  return err instanceof StatusError;
}

export function isNotFound(err: unknown): boolean {
  return isStatusError(err) && err.reason === StatusReason.NotFound;
}

export function isConflict(err: unknown): boolean {
  return isStatusError(err) && err.reason === StatusReason.Conflict;
}

export function isAlreadyExists(err: unknown): boolean {
  return isStatusError(err) && err.reason === StatusReason.AlreadyExists;
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, StatusReason.NotFound, `${qualified(gr.resource, gr.group)} "${name}" not found`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, StatusReason.AlreadyExists, `${qualified(gr.resource, gr.group)} "${name}" already exists`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export const optimisticLockErrorMsg = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError(409, StatusReason.Conflict, `Operation cannot be fulfilled on ${qualified(gr.resource, gr.group)} "${name}": ${why}`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function invalid(gk: GroupKind, name: string, errs: FieldError[]): StatusError {
  const causes = errs.map((e) => ({ reason: e.type, message: formatFieldErrors([e], { withField: false }), field: e.field }));
  const body = formatFieldErrors(errs, { withField: true });
  return new StatusError(422, StatusReason.Invalid, `${qualified(gk.kind, gk.group)} "${name}" is invalid: ${body}`, {
    name,
    group: gk.group || undefined,
    kind: gk.kind,
    causes,
  });
}

export function badRequest(message: string, causes?: StatusCause[]): StatusError {
  return new StatusError(400, StatusReason.BadRequest, message, causes ? { causes } : undefined);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, StatusReason.Unauthorized, message);
}

export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  const what = name ? `${qualified(gr.resource, gr.group)} "${name}"` : qualified(gr.resource, gr.group);
  return new StatusError(403, StatusReason.Forbidden, `${what} is forbidden: ${why}`, {
    name: name || undefined,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function methodNotAllowed(verb: string, gr: GroupResource): StatusError {
  return new StatusError(405, StatusReason.MethodNotAllowed, `${verb} is not supported on resources of kind "${qualified(gr.resource, gr.group)}"`, {
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function notFoundPath(): StatusError {
  return new StatusError(404, StatusReason.NotFound, 'the server could not find the requested resource', {});
}

export function resourceExpired(message: string): StatusError {
  return new StatusError(410, StatusReason.Expired, message);
}

export function requestEntityTooLarge(message: string): StatusError {
  return new StatusError(413, StatusReason.RequestEntityTooLarge, `Request entity too large: ${message}`);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(415, StatusReason.UnsupportedMediaType, `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`, {});
}

export function notAcceptable(message: string): StatusError {
  return new StatusError(406, StatusReason.NotAcceptable, message);
}

export function timeout(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError(504, StatusReason.Timeout, message, { retryAfterSeconds });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, StatusReason.ServiceUnavailable, message);
}

export function tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError(429, StatusReason.TooManyRequests, message, { retryAfterSeconds });
}

export function internalError(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StatusError(500, StatusReason.InternalError, `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

export function successStatus(details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
