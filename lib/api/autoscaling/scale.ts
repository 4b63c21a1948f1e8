// autoscaling/v1 Scale, the body of every `/scale` subresource. The registry serves /scale for any
// declaration with a ScaleSubresource (Deployments, ReplicaSets, CRDs with a scale subresource):
// GET builds a Scale from the object with scaleFromObject; PUT/PATCH apply the new Scale to the
// object with applyScale and then store the object through the normal update path, as
// kube-apiserver's scaleUpdatedObjectInfo and the apiextensions scale REST do.

import { type FieldError, Path, invalidValue } from '../../machinery/field-errors.js';
import { badRequest, internalError } from '../../machinery/status.js';
import { nameIsDNSSubdomain, validateObjectMeta } from '../../machinery/validation.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import type { ResourceDefinition, ScaleSubresource } from '../resource.js';

export interface ScaleSpec {
  /** replicas is omitempty in autoscaling/v1: 0 is sent as an absent field. */
  replicas?: number;
}

export interface ScaleStatus {
  replicas: number;
  /** selector is the label selector string of the pods (omitted when empty). */
  selector?: string;
}

export interface Scale extends KubeObject {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  spec: ScaleSpec;
  status: ScaleStatus;
}

/** scaleGroupKind names a Scale in Invalid errors: `Scale.autoscaling "web" is invalid: …`. */
export const scaleGroupKind = { group: 'autoscaling', kind: 'Scale' } as const;

function scaleOf(def: ResourceDefinition<any>): ScaleSubresource {
  const scale = def.subresources?.scale;
  if (!scale) throw new Error(`${def.plural} has no scale subresource`);
  return scale;
}

/** pathSegments turns a JSONPath like `.spec.replicas` into its field names. */
function pathSegments(path: string): string[] {
  return path.split('.').slice(1);
}

/** readReplicas reads an integer at path; absent is 0 (unstructured.NestedInt64 not found), anything else fails. */
function readReplicas(obj: KubeObject, path: string): number {
  let cur: unknown = obj;
  for (const seg of pathSegments(path)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return 0;
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return 0;
  if (typeof cur !== 'number' || !Number.isInteger(cur)) {
    throw internalError(new Error(`${path} accessor error: ${JSON.stringify(cur)} is of the type ${typeof cur}, expected int64`));
  }
  return cur;
}

function readString(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of pathSegments(path)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  return typeof cur === 'string' ? cur : '';
}

/** writeReplicas sets an integer at path, creating the objects on the way (unstructured.SetNestedField). */
function writeReplicas(obj: KubeObject, path: string, replicas: number): void {
  const segs = pathSegments(path);
  let cur = obj as Record<string, unknown>;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]] = replicas;
}

/**
 * scaleFromObject is the Scale GET returns: the object's name, namespace, uid, resourceVersion and
 * creationTimestamp, spec.replicas from specReplicasPath, status.replicas from statusReplicasPath
 * and status.selector from the declaration's selector function or labelSelectorPath.
 */
export function scaleFromObject(def: ResourceDefinition<any>, obj: KubeObject): Scale {
  const sub = scaleOf(def);
  const m = obj.metadata;
  const metadata: ObjectMeta = { name: m.name };
  if (m.namespace) metadata.namespace = m.namespace;
  if (m.uid) metadata.uid = m.uid;
  if (m.resourceVersion) metadata.resourceVersion = m.resourceVersion;
  metadata.creationTimestamp = m.creationTimestamp;
  const specReplicas = readReplicas(obj, sub.specReplicasPath);
  const status: ScaleStatus = { replicas: readReplicas(obj, sub.statusReplicasPath) };
  const selector = sub.selector ? sub.selector(obj) : sub.labelSelectorPath ? readString(obj, sub.labelSelectorPath) : '';
  if (selector) status.selector = selector;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: specReplicas ? { replicas: specReplicas } : {},
    status,
  };
}

/**
 * applyScale writes a new Scale's spec.replicas into obj (in place) at specReplicasPath. It returns
 * the validation errors of the Scale (ValidateScale; the registry answers them as
 * `invalid(scaleGroupKind, name, errs)`) without touching obj, and throws 400 BadRequest when the
 * Scale names another object, or when spec.replicas is not an integer (a decoding error in
 * Kubernetes). A resourceVersion in the Scale is a precondition the registry must apply to the
 * object's update (kube-apiserver copies it onto the object); applyScale does not read it.
 */
export function applyScale(def: ResourceDefinition<any>, obj: KubeObject, scale: Partial<Scale>): FieldError[] | void {
  const sub = scaleOf(def);
  const name = obj.metadata.name;
  const scaleName = scale.metadata?.name;
  if (scaleName !== undefined && scaleName !== name) {
    throw badRequest(`the name of the object (${scaleName}) does not match the name on the URL (${name})`);
  }
  const replicas = scale.spec?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    throw badRequest(
      `Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${jsonTypeName(replicas)} into Go struct field ScaleSpec.spec.replicas of type int32`,
    );
  }
  const meta: ObjectMeta = { ...scale.metadata, name };
  if (def.namespaced) meta.namespace = obj.metadata.namespace;
  else delete meta.namespace;
  const errs = validateObjectMeta(meta, def.namespaced, nameIsDNSSubdomain);
  if (replicas < 0) errs.push(invalidValue(new Path('spec').child('replicas'), replicas, 'must be greater than or equal to 0'));
  if (errs.length) return errs;
  writeReplicas(obj, sub.specReplicasPath, replicas);
}

/** jsonTypeName is the JSON type word encoding/json uses in UnmarshalTypeError. */
function jsonTypeName(v: unknown): string {
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}
