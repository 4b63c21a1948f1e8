// FieldManager keeps metadata.managedFields for one kind and serves server-side apply, layered as
// kube-apiserver's default field manager is (k8s.io/apimachinery managedfields/internal):
//
//   version check → last-applied updater → last-applied manager → skip-non-applied → cap managers
//   → manager identity → managedFields times → strip metadata → structured merge (updater.ts)
//
// Each layer is one small step below. The object handed in is never modified; every method
// returns the object to store.

import type { KubeObject } from '../../lib/api/meta.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { apiVersionOf, type ResourceDefinition } from '../../lib/api/resource.js';
import { badRequest, internalError, StatusError, StatusReason } from '../../lib/machinery/status.js';
import { FieldSet, fieldPath, goJSON, isObject, pathString, type Json, type JsonObject, type Path } from './fieldpath.js';
import {
  Managed,
  ManagedFieldsError,
  Operation,
  decodeManagedFields,
  encodeManagedFields,
  isResetManagedFields,
  managerIdentifier,
  printManager,
} from './managedfields.js';
import { Typed } from './typed.js';
import { typeSchemaFor } from './types.js';
import { ConflictsError, Updater, noFilter, type Conflict, type IgnoreFilter } from './updater.js';
import { parseJSON, stringifyJSON } from '../../lib/machinery/json.js';

/** LastAppliedConfigAnnotation is client-side apply's record of the last applied configuration. */
export const LastAppliedConfigAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** DefaultMaxUpdateManagers: beyond this many Update entries the oldest are merged into "ancient-changes". */
export const DefaultMaxUpdateManagers = 10;

/** Subresource is a write path with its own managedFields entries. */
export type Subresource = 'status' | 'scale';

/** WriteOptions name the writer of one request. */
export interface WriteOptions {
  /** manager is ?fieldManager= or the User-Agent's prefix; empty becomes "unknown". */
  manager: string;
  subresource?: Subresource;
  now: Date;
}

export interface ApplyOptions extends WriteOptions {
  force: boolean;
}

/** stripSet: fields no manager ever owns (kube-apiserver's stripMetaManager). */
const stripSet = FieldSet.of(
  fieldPath('apiVersion'),
  fieldPath('kind'),
  fieldPath('metadata'),
  fieldPath('metadata', 'name'),
  fieldPath('metadata', 'namespace'),
  fieldPath('metadata', 'creationTimestamp'),
  fieldPath('metadata', 'selfLink'),
  fieldPath('metadata', 'uid'),
  fieldPath('metadata', 'clusterName'),
  fieldPath('metadata', 'generation'),
  fieldPath('metadata', 'managedFields'),
  fieldPath('metadata', 'resourceVersion'),
);

const statusPath = fieldPath('status');
const statusSet = FieldSet.of(statusPath);
const scaleReplicasPath = fieldPath('spec', 'replicas');
const scaleGroupVersion = 'autoscaling/v1';

function withoutManagedFields(obj: KubeObject): KubeObject {
  const { managedFields: _m, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/** pathFromJSONPath reads `.spec.replicas` into a field path. */
function pathFromJSONPath(p: string): Path {
  return fieldPath(...p.replace(/^\./, '').split('.'));
}

export class FieldManager {
  readonly apiVersion: string;
  readonly typed: Typed;
  private readonly hasStatus: boolean;
  private readonly replicasPath?: Path;

  constructor(private readonly def: ResourceDefinition<any>) {
    this.apiVersion = apiVersionOf(def);
    this.typed = new Typed(typeSchemaFor(def));
    this.hasStatus = !!def.subresources?.status;
    const scale = def.subresources?.scale;
    if (scale) this.replicasPath = pathFromJSONPath(scale.specReplicasPath);
  }

  /**
   * resetFields: what a write path never owns. With a status subresource the main resource
   * resets status and /status resets everything else (skiff's status writes change status only).
   */
  private ignoreFilter(subresource?: Subresource): IgnoreFilter {
    if (subresource === 'status') return (s) => s.only(statusPath);
    if (this.hasStatus) return (s) => s.recursiveDifference(statusSet);
    return noFilter;
  }

  /** emptyObject is what a create compares against: the kind's zero value. */
  private emptyObject(): KubeObject {
    return { apiVersion: this.apiVersion, kind: this.def.kind } as KubeObject;
  }

  /** typedValue is an object as the comparisons see it: no managedFields, Go's zero-value fields filled in. */
  private typedValue(obj: KubeObject): Json {
    return this.typed.withGoZeroFields(withoutManagedFields(obj) as unknown as Json)!;
  }

  private identifier(manager: string, operation: Operation, subresource?: Subresource, apiVersion = this.apiVersion): string {
    return managerIdentifier({ manager: manager || 'unknown', operation, apiVersion, subresource });
  }

  // ---- Update ----

  /**
   * update records a create (live undefined), update or patch in next.metadata.managedFields: the
   * manager owns what it changed, others lose it. managedFields the request itself carries
   * replace the live ones (that is how clients edit them, `[]` or `[{}]` clears them); an object
   * that has none is not tracked until its first apply, as in Kubernetes.
   */
  update(live: KubeObject | undefined, next: KubeObject, opts: WriteOptions): KubeObject {
    if (opts.subresource === 'scale') return this.updateScale(live!, next, opts);
    const managed = this.decodeLiveOrNew(live, next, !!opts.subresource);
    const out = withoutManagedFields(next);
    if (!managed.fields.size && live) return out;
    this.recordUpdate(live ?? this.emptyObject(), out, managed, this.identifier(opts.manager, Operation.Update, opts.subresource), opts);
    this.capManagers(managed);
    return this.encode(out, managed);
  }

  private decodeLiveOrNew(live: KubeObject | undefined, next: KubeObject, isSubresource: boolean): Managed {
    const fromLive = () => decodeOrEmpty(live?.metadata?.managedFields);
    if (isSubresource) return fromLive();
    const requested = next.metadata?.managedFields;
    if (isResetManagedFields(requested)) return new Managed();
    try {
      const m = decodeManagedFields(requested);
      return m.fields.size ? m : fromLive();
    } catch {
      return fromLive();
    }
  }

  /** recordUpdate: what changed from live to next goes to manager (managedFieldsUpdater over stripMeta over the updater). */
  private recordUpdate(live: KubeObject, next: KubeObject, managed: Managed, manager: string, opts: WriteOptions): void {
    const self = 'current-operation';
    new Updater(this.typed, this.ignoreFilter(opts.subresource)).update(this.typedValue(live), this.typedValue(next), this.apiVersion, managed.fields, self);
    this.stripMeta(managed, self);
    const vs = managed.fields.get(self);
    if (!vs) return;
    managed.fields.delete(self);
    const prev = managed.fields.get(manager);
    managed.fields.set(manager, { ...vs, set: prev ? vs.set.union(prev.set) : vs.set });
    managed.times.set(manager, nowRFC3339(opts.now));
  }

  private stripMeta(managed: Managed, manager: string): void {
    const vs = managed.fields.get(manager);
    if (!vs) return;
    const set = vs.set.difference(stripSet);
    if (set.empty()) managed.fields.delete(manager);
    else managed.fields.set(manager, { ...vs, set });
  }

  /** capManagers merges the oldest Update entries, per version, into "ancient-changes" until at most ten remain. */
  private capManagers(managed: Managed, max = DefaultMaxUpdateManagers): void {
    const updaters = [...managed.fields.entries()].filter(([, vs]) => !vs.applied).map(([id]) => id);
    if (updaters.length <= max) return;
    const secs = (id: string) => {
      const t = managed.times.get(id);
      return t ? Math.floor(Date.parse(t) / 1000) : 0;
    };
    updaters.sort((a, b) => secs(a) - secs(b) || (a < b ? -1 : a > b ? 1 : 0));
    const firstOfVersion = new Map<string, string>();
    let length = updaters.length;
    for (let i = 0; i < updaters.length && length > max; i++) {
      const id = updaters[i];
      const vs = managed.fields.get(id)!;
      const time = managed.times.get(id);
      const bucket = managerIdentifier({ manager: 'ancient-changes', operation: Operation.Update, apiVersion: vs.apiVersion });
      const first = firstOfVersion.get(vs.apiVersion);
      if (first === undefined) {
        firstOfVersion.set(vs.apiVersion, id);
        continue;
      }
      if (!managed.fields.has(bucket)) {
        managed.fields.set(bucket, managed.fields.get(first)!);
        managed.fields.delete(first);
      }
      managed.fields.set(bucket, { ...vs, set: vs.set.union(managed.fields.get(bucket)!.set) });
      managed.fields.delete(id);
      managed.times.set(bucket, time);
      length--;
    }
  }

  private encode(obj: KubeObject, managed: Managed): KubeObject {
    const entries = encodeManagedFields(managed);
    const meta = { ...obj.metadata };
    if (entries) meta.managedFields = entries as never;
    else delete meta.managedFields;
    return { ...obj, metadata: meta };
  }

  // ---- /scale ----

  /**
   * updateScale records a write through /scale. Kubernetes runs it on the Scale object (the
   * entries that own the replicas field, seen as autoscaling/v1) and maps the result back: the
   * writer's entry is `subresource: scale` at the parent's version and owns the replicas path.
   */
  private updateScale(live: KubeObject, next: KubeObject, opts: WriteOptions): KubeObject {
    const out = withoutManagedFields(next);
    const replicas = this.replicasPath;
    if (!replicas) return this.encode(out, decodeOrEmpty(live.metadata?.managedFields));
    const parent = decodeOrEmpty(live.metadata?.managedFields);
    // To the subresource: entries owning replicas, keyed as they decode at autoscaling/v1.
    const scale = new Managed();
    for (const [id, vs] of parent.fields) {
      if (!vs.set.has(replicas)) continue;
      const m = JSON.parse(id) as { manager?: string; operation: Operation; subresource?: Subresource };
      const sid = managerIdentifier({ manager: m.manager ?? '', operation: m.operation, apiVersion: scaleGroupVersion, subresource: m.subresource });
      scale.fields.set(sid, { set: FieldSet.of(scaleReplicasPath), apiVersion: scaleGroupVersion, applied: vs.applied });
      scale.times.set(sid, parent.times.get(id));
    }
    // The Scale's own update. An untracked Scale stays untracked, as any object without entries
    // does; and a write that leaves replicas as they are changes no ownership (Kubernetes would
    // still re-key Update entries here, duplicating them: skiff keeps them as they were).
    if (!scale.fields.size || sameValue(getPath(live, replicas), getPath(next, replicas))) return this.encode(out, parent);
    const key = managerIdentifier({ manager: opts.manager || 'unknown', operation: Operation.Update, apiVersion: scaleGroupVersion, subresource: 'scale' });
    for (const [id, vs] of [...scale.fields]) {
      if (id === key) continue;
      const set = vs.set.difference(FieldSet.of(scaleReplicasPath));
      if (set.empty()) scale.fields.delete(id);
      else scale.fields.set(id, { ...vs, set });
    }
    scale.fields.set(key, { set: FieldSet.of(scaleReplicasPath), apiVersion: scaleGroupVersion, applied: false });
    scale.times.set(key, nowRFC3339(opts.now));
    // Back to the parent.
    const result = new Managed();
    for (const [id, vs] of parent.fields) {
      if (!vs.set.has(replicas)) {
        result.fields.set(id, vs);
        result.times.set(id, parent.times.get(id));
      } else if (!scale.fields.has(id)) {
        const set = vs.set.difference(FieldSet.of(replicas));
        if (!set.empty()) {
          result.fields.set(id, { ...vs, set });
          result.times.set(id, parent.times.get(id));
        }
      } else {
        result.fields.set(id, vs);
        result.times.set(id, parent.times.get(id));
        scale.fields.delete(id);
      }
    }
    for (const [id, vs] of scale.fields) {
      if (!vs.set.has(scaleReplicasPath)) continue;
      result.fields.set(id, { set: FieldSet.of(replicas), apiVersion: this.apiVersion, applied: vs.applied });
      // Kubernetes looks the time up among the parent's entries, under the Scale's identifier.
      result.times.set(id, parent.times.get(id));
    }
    return this.encode(out, result);
  }

  // ---- Apply ----

  /**
   * apply merges an applied configuration into live (undefined: the object does not exist yet)
   * and returns the object to store, managedFields included, or throws the StatusError
   * kube-apiserver answers with (409 conflicts, 400 bad configurations).
   */
  apply(live: KubeObject | undefined, config: unknown, opts: ApplyOptions): KubeObject {
    if (!isObject(config as Json)) throw badRequest('error decoding patch: the applied configuration must be an object');
    const cfg = config as KubeObject;
    if (cfg.apiVersion !== this.apiVersion || cfg.kind !== this.def.kind) {
      throw badRequest(`invalid object type: ${gvkString(cfg.apiVersion, cfg.kind)}`);
    }
    const liveObj = live ?? this.emptyObject();
    let managed: Managed;
    try {
      managed = decodeManagedFields(liveObj.metadata?.managedFields);
    } catch (err) {
      throw internalError(new Error(`failed to decode managed fields: ${(err as Error).message}`));
    }
    let result: { object: KubeObject; managed: Managed };
    try {
      result = this.applyOnce(liveObj, cfg, managed.clone(), opts, opts.force);
    } catch (err) {
      if (!(err instanceof ConflictsError)) throw err;
      // Upgrading from client-side apply: kubectl's own conflicts with values its last-applied
      // configuration already set are not conflicts.
      if (opts.manager !== 'kubectl') throw conflictError(err.conflicts);
      const allowed = this.allowedConflictsFromLastApplied(liveObj);
      if (!allowed) throw conflictError(err.conflicts);
      const remaining = err.conflicts.filter((c) => !allowed.has(c.path));
      if (remaining.length) throw conflictError(remaining);
      result = this.applyOnce(liveObj, cfg, managed.clone(), opts, true);
    }
    let object = result.object;
    if (opts.manager === 'kubectl' && hasLastApplied(object)) object = setLastApplied(object, buildLastApplied(cfg));
    return this.encode(object, result.managed);
  }

  private applyOnce(live: KubeObject, config: KubeObject, managed: Managed, opts: ApplyOptions, force: boolean): { object: KubeObject; managed: Managed } {
    // skip-non-applied: an untracked object's fields go to "before-first-apply" first.
    if (!managed.fields.size) {
      this.recordUpdate(this.emptyObject(), live, managed, this.identifier('before-first-apply', Operation.Update, opts.subresource), opts);
      this.capManagers(managed);
    }
    const key = this.identifier(opts.manager, Operation.Apply, opts.subresource);
    if (config.metadata?.managedFields !== undefined && config.metadata.managedFields !== null) throw badRequest('metadata.managedFields must be nil');
    const errs = this.typed.validate(config as unknown as Json);
    if (errs.length) {
      const meta = config.metadata ?? {};
      const what = `${meta.namespace ?? ''}/${meta.name ?? ''}; ${gvkString(config.apiVersion, config.kind)}`;
      const detail = errs.length === 1 ? errs[0] : `errors:\n${errs.map((e) => `  ${e}`).join('\n')}`;
      // A configuration that does not fit the kind's types is the client's error, never the server's.
      throw badRequest(`failed to create typed patch object (${what}): ${detail}`);
    }
    const liveValue = this.typedValue(live);
    const merged = new Updater(this.typed, this.ignoreFilter(opts.subresource)).apply(liveValue, config as unknown as Json, this.apiVersion, managed.fields, key, force);
    this.stripMeta(managed, key);
    let object: KubeObject;
    if (merged === undefined) object = withoutManagedFields(live);
    else {
      object = this.typed.dropNulls(merged) as unknown as KubeObject;
      managed.times.set(key, nowRFC3339(opts.now));
    }
    return { object, managed };
  }

  /** allowedConflictsFromLastApplied: the fields the last-applied annotation set to the values they still have. */
  private allowedConflictsFromLastApplied(live: KubeObject): FieldSet | undefined {
    const text = live.metadata?.annotations?.[LastAppliedConfigAnnotation];
    if (!text) return undefined;
    let last: Json;
    try {
      last = parseJSON(text) as Json;
    } catch {
      return undefined;
    }
    if (!isObject(last) || last.apiVersion !== this.apiVersion) return undefined;
    if (this.typed.validate(last).length) return undefined;
    const set = this.typed.toFieldSet(last);
    const c = this.typed.compare(last, this.typedValue(live));
    return set.difference(c.modified).difference(c.added).difference(c.removed);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManagedFields(entries);
  } catch (err) {
    if (err instanceof ManagedFieldsError) return new Managed();
    throw err;
  }
}

function getPath(obj: unknown, path: Path): unknown {
  let v: unknown = obj;
  for (const pe of path) {
    if (!isObject(v as Json) || !('field' in pe)) return undefined;
    v = (v as JsonObject)[pe.field];
  }
  return v;
}

function sameValue(a: unknown, b: unknown): boolean {
  return stringifyJSON(a) === stringifyJSON(b);
}

/** gvkString is Go's GroupVersionKind.String(): `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`. */
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const i = av.indexOf('/');
  const group = i < 0 ? '' : av.slice(0, i);
  const version = i < 0 ? av : av.slice(i + 1);
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

function hasLastApplied(obj: KubeObject): boolean {
  return !!obj.metadata?.annotations?.[LastAppliedConfigAnnotation];
}

/** buildLastApplied is the configuration without its own last-applied annotation, as JSON the way Go encodes it. */
export function buildLastApplied(config: KubeObject): string {
  const c = structuredClone(config);
  const annotations = c.metadata?.annotations;
  if (annotations) delete annotations[LastAppliedConfigAnnotation];
  return `${goJSON(c)}\n`;
}

/** totalAnnotationSizeLimitB: annotations may hold 256 KiB in all; a last-applied value that does not fit is dropped. */
const totalAnnotationSizeLimitB = 256 * 1024;

function setLastApplied(obj: KubeObject, value: string): KubeObject {
  const annotations: Record<string, string> = { ...(obj.metadata?.annotations ?? {}), [LastAppliedConfigAnnotation]: value };
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += k.length + v.length;
  if (size > totalAnnotationSizeLimitB) delete annotations[LastAppliedConfigAnnotation];
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

/** conflictError is the 409 kube-apiserver answers an apply with: one FieldManagerConflict cause per field. */
export function conflictError(conflicts: Conflict[]): StatusError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${pathString(conflicts[0].path)}`;
  } else {
    const byManager = new Map<string, Path[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(m)}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, StatusReason.Conflict, message, { causes });
}

const fieldManagers = new WeakMap<object, FieldManager>();

/** fieldManagerFor returns the (cached) FieldManager of a kind. */
export function fieldManagerFor(def: ResourceDefinition<any>): FieldManager {
  let fm = fieldManagers.get(def);
  if (!fm) {
    fm = new FieldManager(def);
    fieldManagers.set(def, fm);
  }
  return fm;
}
