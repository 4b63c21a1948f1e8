// Kubernetes' protobuf wire format for request (and response) bodies of Content-Type
// application/vnd.kubernetes.protobuf: the 4 magic bytes `k8s\0`, then a runtime.Unknown whose
// typeMeta names the object's apiVersion/kind and whose raw field holds the object's own message.
// decodeKubeProtobuf turns such a body into exactly the JSON object the same Go object would
// marshal to, so the rest of the API server never knows which encoding the client picked.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { badRequest } from '../../lib/machinery/status.js';
import { parseJSON } from '../../lib/machinery/json.js';

/** kubeProtobufContentType is the media type kubectl and client-go send protobuf bodies with. */
export const kubeProtobufContentType = 'application/vnd.kubernetes.protobuf';

/** kubeProtobufPrefix is the magic that starts every body: "k8s" and a NUL byte. */
export const kubeProtobufPrefix = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** GroupVersionKindRef names the kind an endpoint expects, as apiVersion ("apps/v1") and kind. */
export interface GroupVersionKindRef {
  apiVersion?: string;
  kind?: string;
}

/** isKubeProtobuf reports whether a Content-Type header names the Kubernetes protobuf encoding. */
export function isKubeProtobuf(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return contentType.split(';')[0].trim().toLowerCase() === kubeProtobufContentType;
}

// Message types by apiVersion and kind: the kinds skiff serves (objects, and the bodies of the
// binding, eviction and scale subresources). Their messages are in proto/*.proto.
const kindMessages: Record<string, Record<string, string>> = {
  v1: {
    Namespace: 'core.v1.Namespace',
    ConfigMap: 'core.v1.ConfigMap',
    Secret: 'core.v1.Secret',
    LimitRange: 'core.v1.LimitRange',
    ResourceQuota: 'core.v1.ResourceQuota',
    ServiceAccount: 'core.v1.ServiceAccount',
    Service: 'core.v1.Service',
    Pod: 'core.v1.Pod',
    Endpoints: 'core.v1.Endpoints',
    Node: 'core.v1.Node',
    Event: 'core.v1.Event',
    Binding: 'core.v1.Binding',
    PersistentVolume: 'core.v1.PersistentVolume',
    PersistentVolumeClaim: 'core.v1.PersistentVolumeClaim',
    ReplicationController: 'core.v1.ReplicationController',
  },
  'apps/v1': { Deployment: 'apps.v1.Deployment', ReplicaSet: 'apps.v1.ReplicaSet', ControllerRevision: 'apps.v1.ControllerRevision', StatefulSet: 'apps.v1.StatefulSet', DaemonSet: 'apps.v1.DaemonSet' },
  'batch/v1': { Job: 'batch.v1.Job', CronJob: 'batch.v1.CronJob' },
  'discovery.k8s.io/v1': { EndpointSlice: 'discovery.v1.EndpointSlice' },
  'events.k8s.io/v1': { Event: 'events.v1.Event' },
  'coordination.k8s.io/v1': { Lease: 'coordination.v1.Lease' },
  'certificates.k8s.io/v1': { CertificateSigningRequest: 'certificates.v1.CertificateSigningRequest' },
  'scheduling.k8s.io/v1': { PriorityClass: 'scheduling.v1.PriorityClass' },
  'storage.k8s.io/v1': { StorageClass: 'storage.v1.StorageClass' },
  'autoscaling/v1': { Scale: 'autoscaling.v1.Scale', HorizontalPodAutoscaler: 'autoscaling.v1.HorizontalPodAutoscaler' },
  'autoscaling/v2': { HorizontalPodAutoscaler: 'autoscaling.v2.HorizontalPodAutoscaler' },
  'authorization.k8s.io/v1': {
    SelfSubjectAccessReview: 'authorization.v1.SelfSubjectAccessReview',
    SelfSubjectRulesReview: 'authorization.v1.SelfSubjectRulesReview',
    SubjectAccessReview: 'authorization.v1.SubjectAccessReview',
    LocalSubjectAccessReview: 'authorization.v1.LocalSubjectAccessReview',
  },
  'rbac.authorization.k8s.io/v1': { Role: 'rbac.v1.Role', ClusterRole: 'rbac.v1.ClusterRole', RoleBinding: 'rbac.v1.RoleBinding', ClusterRoleBinding: 'rbac.v1.ClusterRoleBinding' },
  'authentication.k8s.io/v1': { SelfSubjectReview: 'authentication.v1.SelfSubjectReview', TokenReview: 'authentication.v1.TokenReview', TokenRequest: 'authentication.v1.TokenRequest' },
  'policy/v1': { Eviction: 'policy.v1.Eviction', PodDisruptionBudget: 'policy.v1.PodDisruptionBudget' },
  'meta.k8s.io/v1': {},
};

// The options kinds metav1.AddToGroupVersion registers in every group version; of those only
// DeleteOptions travels as a body.
const optionsKinds: Record<string, string> = { DeleteOptions: 'meta.v1.DeleteOptions' };

// kube-apiserver's scheme, as named in its "no kind is registered" errors.
const schemeName = 'pkg/api/legacyscheme/scheme.go:30';

/** kubeProtobufKinds lists the apiVersion/kind pairs a protobuf body may carry (DeleteOptions aside). */
export function kubeProtobufKinds(): { apiVersion: string; kind: string }[] {
  return Object.entries(kindMessages).flatMap(([apiVersion, kinds]) => Object.keys(kinds).map((kind) => ({ apiVersion, kind })));
}

/** messageTypeName returns the proto message for apiVersion/kind, or undefined if not served. */
function messageTypeName(apiVersion: string, kind: string): string | undefined {
  const kinds = kindMessages[apiVersion];
  if (!kinds) return undefined;
  return kinds[kind] ?? optionsKinds[kind];
}

/**
 * protoDir is the folder of skiff's .proto files: beside this module when it runs from the source
 * tree, else the same folder under the package root (the compiled module is
 * dist/apiserver/protobuf/decode.js, and the build does not copy .proto files into dist/).
 */
function protoDir(): string {
  const here = fileURLToPath(new URL('./proto/', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../../apiserver/protobuf/proto/', import.meta.url));
}

/** loadSchema parses every .proto file of protoDir into one Root with every reference resolved. */
function loadSchema(): protobuf.Root {
  const dir = protoDir();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => join(dir, f));
  const root = new protobuf.Root();
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

// Parsed at start: a missing or broken .proto file stops the API server instead of failing the
// first protobuf request.
const schema = loadSchema();

function lookupType(name: string): protobuf.Type {
  return schema.lookupType(name);
}

/** kubeProtobufMessage is the proto message of a kind a protobuf body may carry (DeleteOptions included), undefined when skiff does not serve it. */
export function kubeProtobufMessage(apiVersion: string, kind: string): protobuf.Type | undefined {
  const name = messageTypeName(apiVersion, kind);
  return name ? lookupType(name) : undefined;
}

/** kubeProtobufEnvelope is the runtime.Unknown message every body is wrapped in. */
export function kubeProtobufEnvelope(): protobuf.Type {
  return lookupType('runtime.Unknown');
}

/** DecodeError is a failure inside the wire format; decodeKubeProtobuf wraps it in a Status. */
class DecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecodeError';
  }
}

// ---------------------------------------------------------------------------------------------
// decoding: proto message → JSON

type Msg = Record<string, unknown>;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** toNumber turns a decoded varint (a number, or a Long for 64-bit fields) into a number. */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  return protobuf.util.LongBits.from(v as protobuf.Long).toNumber();
}

/**
 * toInt64 turns a decoded 64-bit varint into its JSON number: a number while a double holds it
 * exactly, else a BigInt of all its digits (lib/machinery/json.ts writes those back bare).
 */
function toInt64(v: unknown): number | bigint {
  if (typeof v === 'number') return v;
  const long = v as protobuf.Long;
  const n = protobuf.util.LongBits.from(long).toNumber(long.unsigned);
  return Number.isSafeInteger(n) ? n : BigInt(long.toString());
}

function base64(v: unknown): string {
  return Buffer.from(v as Uint8Array).toString('base64');
}

/** formatTime renders a Time/MicroTime as Go's RFC3339 (seconds) or RFC3339Micro layouts. */
function formatTime(seconds: number, nanos: number, micro: boolean): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new DecodeError(`Time out of range: ${seconds}s`);
  const iso = date.toISOString(); // 2024-01-02T03:04:05.000Z
  const base = iso.slice(0, 19);
  if (!micro) return `${base}Z`;
  const us = Math.floor(nanos / 1000);
  return `${base}.${String(us).padStart(6, '0')}Z`;
}

/** isZeroTime: Go writes a zero metav1.Time as an empty message (its JSON is null). */
function isZeroTime(m: Msg): boolean {
  return !hasOwn(m, 'seconds') && !hasOwn(m, 'nanos');
}

function decodeTime(m: Msg, micro: boolean): string | undefined {
  if (isZeroTime(m)) return undefined;
  return formatTime(toNumber(m.seconds ?? 0), toNumber(m.nanos ?? 0), micro);
}

function decodeIntOrString(m: Msg): number | string {
  return toNumber(m.type ?? 0) === 1 ? String(m.strVal ?? '') : toNumber(m.intVal ?? 0);
}

function decodeRawJSON(raw: Uint8Array | undefined, what: string): unknown {
  if (!raw || raw.length === 0) return {};
  try {
    return parseJSON(Buffer.from(raw).toString('utf8'));
  } catch (err) {
    throw new DecodeError(`invalid ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * wrapperToJSON converts the apimachinery types whose JSON form is not an object (a string, a
 * number, an array); it returns undefined for ordinary messages. A zero Time yields `null`.
 */
function wrapperToJSON(type: protobuf.Type, m: Msg): { value: unknown } | undefined {
  switch (type.fullName) {
    case '.meta.v1.Time':
      return { value: decodeTime(m, false) ?? null };
    case '.meta.v1.MicroTime':
      return { value: decodeTime(m, true) ?? null };
    case '.resource.Quantity':
      return { value: String(m.string ?? '') || '0' };
    case '.intstr.IntOrString':
      return { value: decodeIntOrString(m) };
    case '.meta.v1.FieldsV1':
      return { value: decodeRawJSON(m.Raw as Uint8Array | undefined, 'FieldsV1') };
    case '.runtime.RawExtension':
      return { value: decodeRawJSON(m.raw as Uint8Array | undefined, 'RawExtension') };
    case '.authentication.v1.ExtraValue':
    case '.authorization.v1.ExtraValue':
      return { value: [...((m.items as string[] | undefined) ?? [])] };
    default:
      return undefined;
  }
}

/** valueToJSON converts one decoded value (a map value, a list element) of the field's type. */
function valueToJSON(field: protobuf.Field, v: unknown): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    // A map entry without its value field decodes as null; Go reads it as the zero message.
    if (v === null || v === undefined) v = {};
    const w = wrapperToJSON(t, v as Msg);
    return w ? w.value : messageToJSON(t, v as Msg);
  }
  switch (field.type) {
    case 'bytes':
      return base64(v);
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return toInt64(v);
    default:
      return v;
  }
}

function isZeroScalar(field: protobuf.Field, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (field.type) {
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'bytes':
      return (v as Uint8Array).length === 0;
    default:
      return toNumber(v) === 0;
  }
}

function zeroScalar(field: protobuf.Field): unknown {
  switch (field.type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

/**
 * singularToJSON decides whether and how one non-repeated field shows in JSON, following the
 * Go field's shape: pointers keep what the wire carries, value fields drop their zero value unless
 * the JSON tag lacks omitempty. A message shows exactly when the wire carries it: Go always writes
 * value structs and writes pointer structs only when set, which is also when encoding/json shows
 * them (`status: {}`, `emptyDir: {}`). Two departures from Go, both to spare the rest of the server
 * a value that means "unset": a zero Time is left out instead of `null`, and an omitempty
 * IntOrString holding 0 or "" (an unset ServicePort.targetPort) is left out instead of `0`.
 * Returns undefined to leave the field out.
 */
function singularToJSON(field: protobuf.Field, present: boolean, v: unknown): unknown {
  const opts = field.options ?? {};
  const pointer = opts['(pointer)'] === true;
  const always = opts['(omitempty)'] === false;
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    if (t.fullName === '.intstr.IntOrString') {
      if (!present) return always ? 0 : undefined;
      const value = decodeIntOrString(v as Msg);
      if (!pointer && !always && (value === 0 || value === '')) return undefined;
      return value;
    }
    if (!present) return undefined;
    const w = wrapperToJSON(t, v as Msg);
    if (w) return w.value ?? undefined;
    return messageToJSON(t, v as Msg);
  }
  if (!present) return always ? zeroScalar(field) : undefined;
  if (!pointer && !always && isZeroScalar(field, v)) return undefined;
  return valueToJSON(field, v);
}

/** messageToJSON converts a decoded message to the object encoding/json would produce. */
function messageToJSON(type: protobuf.Type, m: Msg): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const opts = field.options ?? {};
    const present = hasOwn(m, field.name);
    const v = m[field.name];
    if (opts['(inline)'] === true) {
      if (present && v) Object.assign(out, messageToJSON(field.resolvedType as protobuf.Type, v as Msg));
      continue;
    }
    const name = typeof opts['(json)'] === 'string' ? (opts['(json)'] as string) : field.name;
    if (field.map) {
      const entries = Object.entries((v as Record<string, unknown> | undefined) ?? {});
      if (entries.length > 0) out[name] = Object.fromEntries(entries.map(([k, x]) => [k, valueToJSON(field, x)]));
      continue;
    }
    if (field.repeated) {
      const items = (v as unknown[] | undefined) ?? [];
      if (items.length > 0) out[name] = items.map((x) => valueToJSON(field, x));
      continue;
    }
    const value = singularToJSON(field, present, v);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** decodeMessage reads bytes as the named message; truncated input reads as Go's "unexpected EOF". */
function decodeMessage(type: protobuf.Type, bytes: Uint8Array): Msg {
  try {
    return type.decode(bytes) as unknown as Msg;
  } catch (err) {
    if (err instanceof RangeError) throw new DecodeError('unexpected EOF', { cause: err });
    throw new DecodeError(`proto: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// the envelope

/** summarizeData mirrors kube-apiserver's summary of an undecodable body: hex, at most 30 bytes. */
export function summarizeData(data: Buffer, maxLength = 30): string {
  if (data.length === 0) return '<empty>';
  if (data[0] === 0x7b /* { */) {
    return data.length > maxLength ? `${data.subarray(0, maxLength).toString('utf8')} ...` : data.toString('utf8');
  }
  return data.length > maxLength ? `${data.subarray(0, maxLength).toString('hex')} ...` : data.toString('hex');
}

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** goTypeMeta renders a TypeMeta the way Go's %#v does, for the missing kind/version errors. */
function goTypeMeta(apiVersion: string, kind: string): string {
  return `runtime.TypeMeta{APIVersion:${JSON.stringify(apiVersion)}, Kind:${JSON.stringify(kind)}}`;
}

/**
 * decodeKubeProtobuf decodes a `k8s\0`-prefixed protobuf body into the object's JSON form, with
 * apiVersion and kind set from the envelope. `into` is the kind the endpoint serves: like
 * kube-apiserver it fills a missing apiVersion/kind in the envelope and names the expected kind in
 * errors. Every failure is a 400 BadRequest StatusError worded as kube-apiserver words it.
 */
export function decodeKubeProtobuf(body: Buffer | Uint8Array, into?: GroupVersionKindRef): Record<string, unknown> {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const unrecognized = (why: string): Error =>
    badRequest(
      into?.kind
        ? `the object provided is unrecognized (must be of type ${into.kind}): ${why} (${summarizeData(data)})`
        : `the object provided is unrecognized: ${why} (${summarizeData(data)})`,
    );

  if (data.length === 0) throw unrecognized('empty data');
  if (data.length < kubeProtobufPrefix.length || !data.subarray(0, kubeProtobufPrefix.length).equals(kubeProtobufPrefix)) {
    throw unrecognized(`provided data does not appear to be a protobuf message, expected prefix [${[...kubeProtobufPrefix].join(' ')}]`);
  }
  if (data.length === kubeProtobufPrefix.length) throw unrecognized('empty body');

  let unknown: Msg;
  try {
    unknown = decodeMessage(lookupType('runtime.Unknown'), data.subarray(kubeProtobufPrefix.length));
  } catch (err) {
    throw unrecognized((err as Error).message);
  }
  const typeMeta = (unknown.typeMeta as Msg | null | undefined) ?? {};
  const sentAPIVersion = String(typeMeta.apiVersion ?? '');
  const sentKind = String(typeMeta.kind ?? '');

  // copyKindDefaults: the endpoint's kind fills what the envelope left empty.
  let apiVersion = sentAPIVersion;
  let kind = sentKind;
  if (!kind && into?.kind) kind = into.kind;
  if (!splitAPIVersion(apiVersion).version && into?.apiVersion) apiVersion = into.apiVersion;
  if (!kind) throw unrecognized(`Object 'Kind' is missing in '${goTypeMeta(sentAPIVersion, sentKind)}'`);
  if (!splitAPIVersion(apiVersion).version) {
    throw unrecognized(`Object 'apiVersion' is missing in '${goTypeMeta(sentAPIVersion, sentKind)}'`);
  }

  const cannotHandle = (why: string): Error =>
    badRequest(`${kind} in version ${JSON.stringify(splitAPIVersion(apiVersion).version)} cannot be handled as a ${into?.kind || kind}: ${why}`);

  const typeName = messageTypeName(apiVersion, kind);
  if (!typeName) {
    throw cannotHandle(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme ${JSON.stringify(schemeName)}`);
  }
  const type = lookupType(typeName);
  const raw = (unknown.raw as Uint8Array | undefined) ?? new Uint8Array(0);
  try {
    const object = messageToJSON(type, decodeMessage(type, raw));
    return { apiVersion, kind, ...object };
  } catch (err) {
    // Whatever the bytes made go wrong is the body's fault: a 400, never a 500.
    throw cannotHandle(err instanceof DecodeError ? err.message : `proto: ${(err as Error).message}`);
  }
}
