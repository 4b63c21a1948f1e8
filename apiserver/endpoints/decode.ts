// Decode errors of request bodies in kube-apiserver's words (the create and update handlers'
// transformDecodeError): a body that is no object of any kind is "unrecognized (must be of type
// X)", with the first bytes of what was sent; an object of another kind "cannot be handled as" X.

import type { KubeObject } from '../../lib/api/meta.js';
import type { ResourceDefinition } from '../../lib/api/resource.js';
import { badRequest, StatusError } from '../../lib/machinery/status.js';
import { summarizeData } from '../protobuf/decode.js';

/** legacyScheme names kube-apiserver's scheme in its "no kind is registered" errors. */
const legacyScheme = 'pkg/api/legacyscheme/scheme.go:30';

/** unrecognizedObject wraps a body's syntax error (a 400 from the decoder) with the kind expected. */
export function unrecognizedObject(def: Pick<ResourceDefinition, 'kind'>, cause: StatusError, body: Buffer): StatusError {
  return badRequest(`the object provided is unrecognized (must be of type ${def.kind}): ${cause.message} (${summarizeData(body)})`);
}

/** internalPackage is the Go package kube-apiserver converts a group's objects to (core for the legacy group and events). */
function internalPackage(group: string): string {
  if (group === '' || group === 'events.k8s.io') return 'core';
  return group.split('.')[0]!;
}

/**
 * checkBodyKind refuses a body of another kind than the resource's, with the texts of
 * kube-apiserver's decoder: a kind the body's group/version has cannot be converted to this one,
 * and one it lacks is "not registered". isKind says whether apiVersion serves kind. Custom
 * resources are decoded as unstructured objects and keep the store's own check.
 */
export function checkBodyKind(def: ResourceDefinition, body: KubeObject, isKind: (apiVersion: string, kind: string) => boolean): void {
  if (def.unknownFields || typeof body.kind !== 'string' || body.kind === '' || body.kind === def.kind) return;
  const apiVersion = typeof body.apiVersion === 'string' && body.apiVersion !== '' ? body.apiVersion : def.group ? `${def.group}/${def.version}` : def.version;
  const slash = apiVersion.lastIndexOf('/');
  const version = apiVersion.slice(slash + 1);
  const cause = isKind(apiVersion, body.kind)
    ? `converting (${version}.${body.kind}) to (${internalPackage(def.group)}.${def.kind}): unknown conversion`
    : `no kind ${JSON.stringify(body.kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme ${JSON.stringify(legacyScheme)}`;
  throw badRequest(`${body.kind} in version ${JSON.stringify(version)} cannot be handled as a ${def.kind}: ${cause}`);
}
