// GenericStore serves one ResourceDefinition over Storage and the WatchCache: the same code path
// for every kind (k8s.io/apiserver registry/generic/registry/store.go). Per-kind behaviour comes
// only from the declaration's hooks and from RegistryHooks (allocation of IPs and ports, …).

import { randomUUID } from 'node:crypto';
import { deepClone, nowRFC3339, type KubeList, type KubeObject } from '../../lib/api/meta.js';
import { apiVersionOf, listKindOf, type ResourceDefinition, type StrategyContext } from '../../lib/api/resource.js';
import { type FieldError, Path, invalidValue, forbiddenField } from '../../lib/machinery/field-errors.js';
import {
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  internalError,
  invalid,
  notFound,
  optimisticLockErrorMsg,
  resourceExpired,
  serviceUnavailable,
  timeout,
} from '../../lib/machinery/status.js';
import { validateObjectMeta, nameIsDNSSubdomain } from '../../lib/machinery/validation.js';
import { jsonEqual } from '../../lib/machinery/canonical.js';
import { TooLargeResourceVersionError, TooOldResourceVersionError, type CacheWatcher, type WatchCache } from '../storage/cacher.js';
import { CompactedError, ConflictError, KeyExistsError, KeyNotFoundError, StorageUnavailableError, type Preconditions, type Storage } from '../storage/interface.js';
import { decodeContinue, encodeContinue } from './continue.js';
import { listPrefix, objectKey } from './keys.js';
import { bodyDecodeError, objectDecodeError } from './decode.js';
import { fieldManagerFor, type FieldManager, type Subresource } from '../fieldmanager/fieldmanager.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

export interface RequestContext extends StrategyContext {
  dryRun: boolean;
  /** fieldManager is who writes, for metadata.managedFields: ?fieldManager= or the User-Agent's prefix. */
  fieldManager?: string;
}

/** WriteOptions: internal switches of create and update. */
interface WriteOptions {
  /** managedFieldsSet: the object's managedFields are already computed (server-side apply). */
  managedFieldsSet?: boolean;
}

/**
 * AdmissionRequest is what mutating admission sees of a create or update (kube-apiserver's
 * admission.Attributes): the object after defaulting, which it may change or refuse.
 */
export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE';
  object: KubeObject;
  /** oldObject is the stored object an update replaces. */
  oldObject?: KubeObject;
  /** name is the name the request named ('' for a create by generateName, as the name is generated later in Kubernetes). */
  name: string;
  namespace?: string;
  /** subresource is 'status' for a status update (plugins that only judge the main resource skip it). */
  subresource?: string;
  ctx: RequestContext;
}

/** DeleteAdmissionRequest is what admission sees of a delete: the object named, before the store looks it up. */
export interface DeleteAdmissionRequest {
  name: string;
  namespace?: string;
  ctx: RequestContext;
}

/**
 * ValidatingAdmission is the validating phase of admission, for every resource alike
 * (kube-apiserver's validating plugins, LimitRanger's checks and ResourceQuota): it runs on
 * creates and main-resource updates after the object passed validation, and may only refuse.
 */
export type ValidatingAdmission = (req: AdmissionRequest, def: ResourceDefinition) => Promise<void>;

/** RegistryHooks let a kind reserve and release things outside its object (IPs, ports). */
export interface RegistryHooks {
  /** admitDelete is admission on delete (each item of a deletecollection too); it refuses by throwing a StatusError. */
  admitDelete?(req: DeleteAdmissionRequest): Promise<void>;
  /**
   * admit is mutating admission: it runs on creates, on updates of the main resource and on
   * status updates (req.subresource 'status') after
   * defaulting and before the strategy and validation, may change the object, and refuses by
   * throwing a StatusError (usually 403 Forbidden).
   */
  admit?(req: AdmissionRequest): Promise<void>;
  /** beforeCreate may change obj (e.g. allocate a ClusterIP); it must be undone by afterCreateFailed. */
  beforeCreate?(obj: KubeObject, ctx: RequestContext): Promise<void>;
  afterCreateFailed?(obj: KubeObject, ctx: RequestContext): Promise<void>;
  /** beforeUpdate runs inside the update retry loop after validation. */
  beforeUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<void>;
  afterUpdateFailed?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<void>;
  /** afterUpdate runs after the write landed (release what the old object held). */
  afterUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<void>;
  afterDelete?(obj: KubeObject, ctx: RequestContext): Promise<void>;
}

export interface ListQuery {
  namespace?: string;
  /** predicate filters by label and field selectors; selectorActive says whether it filters at all. */
  predicate: (obj: KubeObject) => boolean;
  selectorActive: boolean;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface DeleteOptions {
  /** gracePeriodSeconds is an int64: a BigInt beyond 2^53. */
  gracePeriodSeconds?: number | bigint;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface DeleteResult {
  /** object is the final or still-terminating state; deleted says whether it is gone from the store. */
  object: KubeObject;
  deleted: boolean;
}

/** NamespaceLookup lets the store refuse writes into missing or terminating namespaces. */
export type NamespaceLookup = (name: string) => Promise<KubeObject | undefined>;

/** storagePageSize bounds the keys of one storage read behind a list: big lists are read in pages at one revision. */
const storagePageSize = 1000;

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
  return s;
}

/**
 * deleteCollectionWorkers is how many deletes of one deletecollection run at once
 * (--delete-collection-workers; kube-apiserver's default is 1, skiff's 16).
 */
let deleteCollectionWorkers = 16;

/** setDeleteCollectionWorkers sets --delete-collection-workers for every store of this process. */
export function setDeleteCollectionWorkers(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`delete collection workers must be a positive integer, not ${n}`);
  deleteCollectionWorkers = n;
}

/** specOf is what counts as "spec" for generation bumps: the object without metadata and status. */
function specOf(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export class GenericStore {
  readonly def: ResourceDefinition;
  readonly gr: { group: string; resource: string };
  readonly gk: { group: string; kind: string };
  readonly apiVersion: string;
  /** validating is the registry's validating admission (APIRegistry sets it on every store it serves). */
  validating?: (req: AdmissionRequest) => Promise<void>;

  constructor(
    def: ResourceDefinition<any>,
    private readonly storage: Storage,
    private readonly cache: WatchCache,
    private readonly namespaces: NamespaceLookup,
    private readonly hooks: RegistryHooks = {},
  ) {
    this.def = def as ResourceDefinition;
    this.gr = { group: def.group, resource: def.plural };
    this.gk = { group: def.group, kind: def.kind };
    this.apiVersion = apiVersionOf(def);
  }

  key(ns: string | undefined, name: string): string {
    return objectKey(this.def, ns, name);
  }

  /** mapStorageError turns storage failures into the Status errors kube-apiserver sends. */
  mapError(err: unknown, name: string): never {
    if (err instanceof StatusError) throw err;
    if (err instanceof KeyNotFoundError) throw notFound(this.gr, name);
    if (err instanceof KeyExistsError) throw alreadyExists(this.gr, name);
    if (err instanceof ConflictError) {
      if (err.reason === 'uid') {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${err.expected}, UID in object meta: ${err.actual}`);
      }
      throw conflict(this.gr, name, optimisticLockErrorMsg);
    }
    if (err instanceof StorageUnavailableError) {
      if (err.timedOut) throw timeout('Timeout: request did not complete within requested timeout - context deadline exceeded', 2);
      throw serviceUnavailable(`etcd is unavailable: ${err.message}`);
    }
    throw internalError(err);
  }

  private typeCheck(body: KubeObject): void {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be an object');
    if (body.apiVersion !== undefined && body.apiVersion !== this.apiVersion) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${this.apiVersion})`);
    }
    if (body.kind !== undefined && body.kind !== this.def.kind) {
      throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${this.def.kind})`);
    }
    if (body.metadata !== undefined && (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata))) {
      throw badRequest('metadata must be an object');
    }
  }

  /**
   * decode holds an object a write would store against the kind's Go types (apiserver/registry/
   * decode.ts), before defaulting and validation, and drops what decoding drops. A body of the
   * wrong shape is refused as kube-apiserver's decoder refuses it (`Secret in version "v1" cannot be
   * handled as a Secret: json: cannot unmarshal number into Go struct field Secret.data of type
   * map[string][]uint8`); an object a patch or apply produced gets the decoder's text alone (the
   * patch handlers check first, with their own texts, so this is the backstop).
   */
  private decode(obj: KubeObject, from: 'body' | 'mutate'): void {
    if (from === 'body') {
      const err = bodyDecodeError(this.def, obj as unknown as Record<string, unknown>, true);
      if (err) throw err;
      return;
    }
    const msg = objectDecodeError(this.def, obj as unknown as Record<string, unknown>, { flavor: 'json', trim: true });
    if (msg !== undefined) throw badRequest(msg);
  }

  private async checkNamespaceForCreate(ns: string | undefined): Promise<void> {
    if (!this.def.namespaced || !ns) return;
    const nsObj = await this.namespaces(ns);
    if (!nsObj) throw notFound({ group: '', resource: 'namespaces' }, ns);
    if (nsObj.metadata.deletionTimestamp || (nsObj.status as { phase?: string } | undefined)?.phase === 'Terminating') {
      const err = forbidden(this.gr, '', `unable to create new content in namespace ${ns} because it is being terminated`);
      // As kube's NamespaceLifecycle admission: controllers tell this refusal apart by its cause.
      const details = (err.status.details ??= {});
      (details.causes ??= []).push({ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' });
      throw err;
    }
  }

  /** validateObject: a kind's own validate checks its ObjectMeta with its name rule; others get the generic one. */
  private validateObject(obj: KubeObject): FieldError[] {
    if (this.def.validate) return dedupe(this.def.validate(obj));
    return validateObjectMeta(obj.metadata, this.def.namespaced, nameIsDNSSubdomain);
  }

  // ---- create ----

  async create(ns: string | undefined, body: KubeObject, ctx: RequestContext, wopts: WriteOptions = {}): Promise<KubeObject> {
    this.typeCheck(body);
    const obj = deepClone(body);
    this.decode(obj, 'body');
    obj.apiVersion = this.apiVersion;
    obj.kind = this.def.kind;
    obj.metadata = obj.metadata ?? {};
    const meta = obj.metadata;
    if (this.def.namespaced) {
      if (meta.namespace && ns && meta.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = ns;
    } else if (meta.namespace) {
      delete meta.namespace;
    }
    if (!isUnsetRV(meta.resourceVersion)) throw badRequest('resourceVersion should not be set on objects to be created');
    delete meta.resourceVersion;
    delete meta.uid;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = meta.generateName + randomSuffix();
    meta.creationTimestamp = nowRFC3339(ctx.now);
    if (this.def.hasGeneration) meta.generation = 1;
    else delete meta.generation;

    omitEmptyMeta(meta);
    this.def.defaults?.(obj);
    if (!wopts.managedFieldsSet) this.recordManagedFields(undefined, obj, ctx);
    await this.hooks.admit?.({ operation: 'CREATE', object: obj, name: generated ? '' : (meta.name ?? ''), namespace: ns, ctx });
    this.def.prepareForCreate?.(obj, ctx);
    // The uid comes before validation, as kube's BeforeCreate fills it before Validate: a Job's
    // generated selector is made of it.
    meta.uid = randomUUID();
    const errs = this.validateObject(obj);
    if (errs.length) throw invalid(this.gk, meta.name ?? meta.generateName ?? '', errs);
    for (const w of this.def.warningsOnCreate?.(obj) ?? []) ctx.warn?.(w);
    await this.checkNamespaceForCreate(ns);
    await this.validating?.({ operation: 'CREATE', object: obj, name: generated ? '' : (meta.name ?? ''), namespace: ns, ctx });

    for (let attempt = 0; ; attempt++) {
      await this.hooks.beforeCreate?.(obj, ctx);
      if (ctx.dryRun) {
        await this.hooks.afterCreateFailed?.(obj, ctx);
        return obj;
      }
      try {
        return await this.storage.create(this.key(ns, meta.name!), obj);
      } catch (err) {
        await this.hooks.afterCreateFailed?.(obj, ctx).catch(() => undefined);
        if (err instanceof KeyExistsError && generated && attempt < 8) {
          meta.name = meta.generateName + randomSuffix();
          continue;
        }
        if (err instanceof KeyExistsError && generated) {
          throw new StatusError(500, 'ServerTimeout', `The POST operation against ${this.gr.resource} could not be completed at this time, please try again.`);
        }
        this.mapError(err, meta.name!);
      }
    }
  }

  // ---- get / list ----

  async get(ns: string | undefined, name: string, resourceVersion?: string): Promise<KubeObject> {
    const key = this.key(ns, name);
    let obj: KubeObject | undefined;
    if (resourceVersion === '0' && this.cache.ready) obj = this.cache.get(key);
    else {
      try {
        obj = await this.storage.get(key);
      } catch (err) {
        this.mapError(err, name);
      }
    }
    if (!obj) throw notFound(this.gr, name);
    return obj;
  }

  async list(q: ListQuery): Promise<KubeList> {
    const prefix = listPrefix(this.def, q.namespace);
    const rvMatch = q.resourceVersionMatch;
    if (rvMatch && !['Exact', 'NotOlderThan'].includes(rvMatch)) {
      throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [
        { type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: rvMatch, detail: 'supported values: "Exact", "NotOlderThan"' },
      ]);
    }
    if (rvMatch && !q.resourceVersion) {
      throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    }
    if (q.continue && q.resourceVersion && q.resourceVersion !== '0') {
      throw badRequest('specifying resource version is not allowed when using continue');
    }
    if (rvMatch === 'Exact' && q.resourceVersion === '0') {
      throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [forbiddenField('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')]);
    }
    const rv = q.resourceVersion ? parseRV(q.resourceVersion) : undefined;

    // A paged list at a given resourceVersion without a match rule reads exactly that revision
    // (the legacy paging semantics kube-apiserver keeps).
    const exact = rvMatch === 'Exact' || (!rvMatch && !!q.limit && q.limit > 0 && rv !== undefined && rv > 0);
    // Paged reads, continuations and exact reads go to etcd at one revision.
    if (q.continue || (q.limit && q.limit > 0 && q.resourceVersion !== '0') || exact) {
      let revision = 0;
      let startKey: string | undefined;
      if (q.continue) {
        const tok = decodeContinue(q.continue, prefix);
        revision = tok.revision;
        startKey = tok.startKey;
      } else if (exact) {
        revision = rv!;
      }
      return this.listFromEtcd(prefix, q, revision, startKey);
    }

    // Everything else is served from the watch cache once it is fresh enough.
    if (!this.cache.ready) return this.listFromEtcd(prefix, q, 0, undefined);
    if (q.resourceVersion !== '0') {
      let want = rv;
      if (want === undefined) {
        try {
          want = await this.storage.currentRevision();
        } catch (err) {
          this.mapError(err, '');
        }
      }
      const fresh = await this.cache.waitUntilFresh(want!, 3_000);
      if (!fresh) {
        if (q.resourceVersion) throw tooLargeRV(want!, this.cache.revision);
        return this.listFromEtcd(prefix, q, 0, undefined);
      }
    }
    const revision = this.cache.revision;
    const items = q.selectorActive ? this.cache.list(prefix).filter(q.predicate) : this.cache.list(prefix);
    return this.listObject(items, String(revision));
  }

  private async listFromEtcd(prefix: string, q: ListQuery, revision: number, startKey: string | undefined): Promise<KubeList> {
    const limit = q.limit && q.limit > 0 ? q.limit : 0;
    const items: KubeObject[] = [];
    let nextKey: string | undefined;
    let remaining: number | undefined;
    let atRevision = revision;
    try {
      for (;;) {
        const want = limit ? limit - items.length : 0;
        // With a selector, read in larger pages until enough objects matched (as kube-apiserver
        // does); never more than storagePageSize keys in one read, whatever the client's limit.
        const pageLimit = Math.min(storagePageSize, limit ? (q.selectorActive ? Math.max(want, 500) : want) : storagePageSize);
        const page = await this.storage.list(prefix, { revision: atRevision, limit: pageLimit, startKey });
        atRevision = page.revision;
        let i = 0;
        for (; i < page.items.length; i++) {
          if (limit && items.length >= limit) break;
          const obj = page.items[i];
          if (!q.selectorActive || q.predicate(obj)) items.push(obj);
        }
        if (limit && items.length >= limit && (i < page.items.length || page.nextKey)) {
          nextKey = i < page.items.length ? page.keys[i] : page.nextKey;
          if (!q.selectorActive && page.remaining !== undefined) remaining = page.remaining + (page.items.length - i);
          break;
        }
        if (!page.nextKey) break;
        startKey = page.nextKey;
      }
    } catch (err) {
      if (err instanceof CompactedError) {
        if (q.continue) {
          throw resourceExpired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
        }
        throw resourceExpired(`The resourceVersion for the provided list is too old.`);
      }
      this.mapError(err, '');
    }
    const list = this.listObject(items, String(atRevision));
    if (nextKey) {
      list.metadata.continue = encodeContinue(atRevision, nextKey, prefix);
      if (remaining !== undefined) list.metadata.remainingItemCount = remaining;
    }
    return list;
  }

  private listObject(items: KubeObject[], resourceVersion: string): KubeList {
    return { apiVersion: this.apiVersion, kind: listKindOf(this.def), metadata: { resourceVersion }, items };
  }

  // ---- update ----

  /**
   * update replaces the object (PUT). With subresource 'status' only status is taken from body.
   * mutate, when given, builds the new object from the current one (patches, scale).
   */
  async update(
    ns: string | undefined,
    name: string,
    body: KubeObject | null,
    ctx: RequestContext,
    opts: { subresource?: Subresource; mutate?: (current: KubeObject) => KubeObject | Promise<KubeObject>; preconditions?: Preconditions } & WriteOptions = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    if (body) {
      this.typeCheck(body);
      const bodyName = body.metadata?.name;
      if (bodyName !== undefined && bodyName !== name) {
        throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
      }
      if (this.def.namespaced && body.metadata?.namespace && ns && body.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
    }
    const key = this.key(ns, name);
    // The versioner reads "" and "0" alike as "no version": an unconditional update, where the
    // kind's strategy allows one (kubectl replace of a file holding resourceVersion "0").
    const bodyRV = isUnsetRV(body?.metadata?.resourceVersion) ? undefined : body!.metadata.resourceVersion;
    const preconditions: Preconditions = { ...opts.preconditions };
    if (bodyRV) preconditions.resourceVersion = bodyRV;

    let finalObj: KubeObject | undefined;
    let oldObj: KubeObject | undefined;
    let deleteInstead = false;
    const tryUpdate = async (current: KubeObject): Promise<KubeObject | null> => {
      // A retry starts over: undo what the previous attempt reserved.
      if (finalObj && oldObj) await this.hooks.afterUpdateFailed?.(finalObj, oldObj, ctx);
      finalObj = undefined;
      deleteInstead = false;
      oldObj = current;
      let next: KubeObject;
      if (opts.mutate) next = deepClone(await opts.mutate(deepClone(current)));
      else {
        if (!bodyRV && this.def.allowUnconditionalUpdate === false) {
          throw invalid({ group: this.gr.group, kind: this.gr.resource }, name, [
            invalidValue(new Path('metadata').child('resourceVersion'), 0, 'must be specified for an update'),
          ]);
        }
        next = deepClone(body!);
      }
      this.typeCheck(next);
      this.decode(next, opts.mutate ? 'mutate' : 'body');
      next.apiVersion = this.apiVersion;
      next.kind = this.def.kind;
      next.metadata = next.metadata ?? {};
      const appliedManagedFields = next.metadata.managedFields;
      if (opts.subresource === 'status') {
        // A status update changes status and nothing else.
        const status = next.status;
        const annotations = next.metadata?.annotations;
        next = deepClone(current);
        if (status === undefined) delete next.status;
        else next.status = status;
        if (this.def.statusUpdateKeepsAnnotations) {
          if (annotations === undefined) delete next.metadata.annotations;
          else next.metadata.annotations = annotations;
        }
      } else if (this.def.subresources?.status) {
        if (current.status === undefined) delete next.status;
        else next.status = deepClone(current.status);
      }
      const meta = next.metadata;
      const cur = current.metadata;
      meta.name = cur.name;
      if (this.def.namespaced) meta.namespace = cur.namespace;
      else delete meta.namespace;
      if (meta.uid !== undefined && meta.uid !== cur.uid) {
        throw invalid(this.gk, name, [invalidValue(new Path('metadata').child('uid'), meta.uid, 'field is immutable')]);
      }
      meta.uid = cur.uid;
      meta.creationTimestamp = cur.creationTimestamp;
      if (cur.deletionTimestamp) meta.deletionTimestamp = cur.deletionTimestamp;
      else delete meta.deletionTimestamp;
      if (cur.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = cur.deletionGracePeriodSeconds;
      else delete meta.deletionGracePeriodSeconds;
      meta.resourceVersion = cur.resourceVersion;
      delete meta.selfLink;
      if (this.def.hasGeneration) meta.generation = cur.generation ?? 1;
      else delete meta.generation;

      omitEmptyMeta(meta);
      this.def.defaults?.(next);
      if (!opts.managedFieldsSet) this.recordManagedFields(current, next, ctx, opts.subresource);
      else if (appliedManagedFields) meta.managedFields = appliedManagedFields;
      else delete meta.managedFields;
      if (opts.subresource === 'status') {
        await this.hooks.admit?.({ operation: 'UPDATE', object: next, oldObject: current, name, namespace: ns, subresource: 'status', ctx });
        this.def.prepareForStatusUpdate?.(next, current, ctx);
        const errs = this.def.validateStatusUpdate?.(next, current) ?? [];
        if (errs.length) throw invalid(this.gk, name, errs);
      } else {
        if (!opts.subresource) await this.hooks.admit?.({ operation: 'UPDATE', object: next, oldObject: current, name, namespace: ns, ctx });
        this.def.prepareForUpdate?.(next, current, ctx);
        const errs = this.validateObject(next);
        if (this.def.validateUpdate) errs.push(...this.def.validateUpdate(next, current));
        if (errs.length) throw invalid(this.gk, name, dedupe(errs));
        if (!opts.subresource) await this.validating?.({ operation: 'UPDATE', object: next, oldObject: current, name, namespace: ns, ctx });
        for (const w of this.def.warningsOnUpdate?.(next, current) ?? []) ctx.warn?.(w);
        if (this.def.hasGeneration && !jsonEqual(specOf(next), specOf(current))) meta.generation = (cur.generation ?? 1) + 1;
      }
      // An object being deleted whose last finalizer this update removes goes now, instead of being written.
      if (shouldDeleteDuringUpdate(next)) {
        deleteInstead = true;
        finalObj = next;
        return null;
      }
      await this.hooks.beforeUpdate?.(next, current, ctx);
      finalObj = next;
      if (ctx.dryRun) return null;
      return next;
    };
    let object!: KubeObject;
    for (let attempt = 0; ; attempt++) {
      try {
        object = await this.storage.guaranteedUpdate(key, tryUpdate, preconditions, this.cachedState(key));
      } catch (err) {
        if (finalObj && oldObj) await this.hooks.afterUpdateFailed?.(finalObj, oldObj, ctx).catch(() => undefined);
        if (err instanceof KeyNotFoundError && body && !opts.subresource && !opts.mutate && this.def.allowCreateOnUpdate && !bodyRV) {
          const obj = deepClone(body);
          obj.metadata = { ...obj.metadata, name };
          delete obj.metadata.resourceVersion;
          return { object: await this.create(ns, obj, ctx), created: true };
        }
        this.mapError(err, name);
      }
      if (!deleteInstead) break;
      if (ctx.dryRun) return { object: finalObj!, created: false };
      // Delete exactly the version the update was computed from; if it moved, compute again.
      try {
        const gone = await this.finalDelete(key, { uid: oldObj!.metadata.uid, resourceVersion: oldObj!.metadata.resourceVersion }, ctx, oldObj);
        return { object: gone, created: false };
      } catch (err) {
        if (err instanceof ConflictError && !preconditions.resourceVersion && attempt < 16) continue;
        this.mapError(err, name);
      }
    }
    if (ctx.dryRun) {
      if (finalObj && oldObj) await this.hooks.afterUpdateFailed?.(finalObj, oldObj, ctx).catch(() => undefined);
      return { object: finalObj ?? object, created: false };
    }
    if (oldObj && object !== oldObj) await this.hooks.afterUpdate?.(object, oldObj, ctx);
    else if (finalObj && oldObj) await this.hooks.afterUpdateFailed?.(finalObj, oldObj, ctx).catch(() => undefined);
    return { object, created: false };
  }

  /**
   * updateRaw changes the stored object with fn and no strategy or validation: for the few
   * server-side writes Kubernetes itself makes that way (pod binding, namespace finalize).
   */
  async updateRaw(ns: string | undefined, name: string, fn: (current: KubeObject) => KubeObject | null, preconditions?: Preconditions, dryRun = false): Promise<KubeObject> {
    let planned: KubeObject | undefined;
    const key = this.key(ns, name);
    try {
      const out = await this.storage.guaranteedUpdate(
        key,
        (cur) => {
          const next = fn(deepClone(cur));
          // What a subresource takes from its body (finalize's spec.finalizers) must decode too.
          if (next) this.decode(next, 'mutate');
          planned = next ?? cur;
          return dryRun ? null : next;
        },
        preconditions,
        this.cachedState(key),
      );
      return dryRun ? planned! : out;
    } catch (err) {
      this.mapError(err, name);
    }
  }

  /**
   * cachedState is a copy of the watch cache's state of key, which an update tries its write
   * against before reading etcd (kube-apiserver's cacher does the same): when the cache is
   * current, as it is for a Lease renewal, the write is one etcd transaction and no read.
   */
  private cachedState(key: string): KubeObject | undefined {
    const obj = this.cache.ready ? this.cache.get(key) : undefined;
    return obj && deepClone(obj);
  }

  // ---- managed fields and server-side apply (apiserver/fieldmanager) ----

  private fm?: FieldManager;

  private get fieldManager(): FieldManager {
    this.fm ??= fieldManagerFor(this.def);
    return this.fm;
  }

  /**
   * recordManagedFields sets next's metadata.managedFields for a create (live undefined) or an
   * update by ctx.fieldManager; writes the apiserver makes itself (no request) are
   * "kube-apiserver"'s, as its loopback client's are in Kubernetes. As there, a failure here never
   * fails the write: the live object's managedFields are kept.
   */
  private recordManagedFields(live: KubeObject | undefined, next: KubeObject, ctx: RequestContext, subresource?: Subresource): void {
    let managedFields: unknown;
    try {
      managedFields = this.fieldManager.update(live, next, { manager: ctx.fieldManager ?? 'kube-apiserver', subresource, now: ctx.now }).metadata.managedFields;
    } catch {
      managedFields = live?.metadata.managedFields;
    }
    if (managedFields) next.metadata.managedFields = managedFields as never;
    else delete next.metadata.managedFields;
  }

  /**
   * apply serves server-side apply (PATCH application/apply-patch+yaml) by ctx.fieldManager: it
   * merges config into the live object, or creates the object when there is none (not through
   * /status). A resourceVersion in config is a precondition.
   */
  async apply(
    ns: string | undefined,
    name: string,
    config: unknown,
    ctx: RequestContext,
    opts: { force: boolean; subresource?: 'status' },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const fm = this.fieldManager;
    const aopts = { manager: ctx.fieldManager ?? '', force: opts.force, subresource: opts.subresource, now: ctx.now };
    const cmeta = (config as Partial<KubeObject> | null)?.metadata;
    const rv = typeof cmeta?.resourceVersion === 'string' && cmeta.resourceVersion ? cmeta.resourceVersion : undefined;
    const checked = (obj: KubeObject): KubeObject => checkName(this.def, obj, ns, name);
    try {
      return await this.update(ns, name, null, ctx, {
        subresource: opts.subresource,
        preconditions: rv ? { resourceVersion: rv } : undefined,
        mutate: (current) => checked(fm.apply(current, config, aopts)),
        managedFieldsSet: true,
      });
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 404 && err.reason === 'NotFound') || opts.subresource) throw err;
    }
    const obj = checked(fm.apply(undefined, config, aopts));
    if (obj.metadata.uid) {
      throw conflict(this.gr, name, `uid mismatch: the provided object specified uid ${obj.metadata.uid}, and no existing object was found`);
    }
    return { object: await this.create(ns, obj, ctx, { managedFieldsSet: true }), created: true };
  }

  // ---- delete ----

  async delete(ns: string | undefined, name: string, options: DeleteOptions, ctx: RequestContext): Promise<DeleteResult> {
    checkDeleteOptions(options);
    await this.hooks.admitDelete?.({ name, namespace: ns, ctx });
    const key = this.key(ns, name);
    const pre: Preconditions = { ...options.preconditions };
    if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) {
      options = { ...options, gracePeriodSeconds: 1 };
    }
    if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
        { type: 'FieldValueNotSupported', field: 'propagationPolicy', value: options.propagationPolicy, detail: 'supported values: "Foreground", "Background", "Orphan", "nil"' },
      ]);
    }
    if (options.orphanDependents !== undefined && options.propagationPolicy) {
      throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
        { type: 'FieldValueInvalid', field: 'propagationPolicy', value: options.propagationPolicy, detail: 'orphanDependents and deletionPropagation cannot be both set' },
      ]);
    }
    const policy = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : options.orphanDependents === false ? 'Background' : undefined);
    const addFinalizer = policy === 'Orphan' ? 'orphan' : policy === 'Foreground' ? 'foregroundDeletion' : undefined;
    const isNamespace = this.def.group === '' && this.def.plural === 'namespaces';

    // Decide from the current state; if the object changes under us (and the client named no
    // resourceVersion), decide again from the new state rather than failing with a conflict.
    // One read, then one transaction against the state read (storage gets it as cachedExisting);
    // a conflict hands back the state the failed transaction found, so a retry reads nothing.
    let known: KubeObject | undefined;
    for (let attempt = 0; ; attempt++) {
      let current = known;
      known = undefined;
      if (!current) {
        try {
          current = await this.storage.get(key);
        } catch (err) {
          this.mapError(err, name);
        }
      }
      if (!current) throw notFound(this.gr, name);
      if (pre.uid && pre.uid !== current.metadata.uid) {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
      }
      const finalizers = current.metadata.finalizers ?? [];
      const nsFinalizers = isNamespace ? (((current.spec as { finalizers?: string[] } | undefined)?.finalizers) ?? []) : [];
      const graceful = this.def.gracefulDelete?.(current, options.gracePeriodSeconds);
      const needsGraceful = !!graceful?.graceful && graceful.gracePeriodSeconds > 0;
      const keep = finalizers.length > 0 || !!addFinalizer || nsFinalizers.length > 0 || needsGraceful;
      const atRV: Preconditions = { uid: current.metadata.uid, resourceVersion: current.metadata.resourceVersion };
      try {
        if (!keep) {
          if (ctx.dryRun) return { object: current, deleted: true };
          return { object: await this.finalDelete(key, atRV, ctx, current), deleted: true };
        }
        // Deletion that waits: finalizers, namespace content, or a graceful pod.
        const marked = markForDeletion(current, { addFinalizer, policy, graceSeconds: needsGraceful ? graceful!.gracePeriodSeconds : 0, now: ctx.now, isNamespace });
        const pending = needsGraceful || (marked.metadata.finalizers ?? []).length > 0 || nsFinalizers.length > 0;
        if (ctx.dryRun) return { object: marked, deleted: !pending };
        const updated = marked === current ? current : await this.storage.guaranteedUpdate(key, () => marked, atRV, current);
        if (!pending) return { object: await this.finalDelete(key, { uid: updated.metadata.uid, resourceVersion: updated.metadata.resourceVersion }, ctx, updated), deleted: true };
        return { object: updated, deleted: false };
      } catch (err) {
        if (err instanceof ConflictError && !pre.resourceVersion && attempt < 16) {
          known = err.current;
          continue;
        }
        if (err instanceof KeyNotFoundError) throw notFound(this.gr, name);
        this.mapError(err, name);
      }
    }
  }

  /** finalDelete removes the key at pre; cachedExisting is the state the caller read (saves storage a read). */
  private async finalDelete(key: string, pre: Preconditions, ctx: RequestContext, cachedExisting?: KubeObject): Promise<KubeObject> {
    const out = await this.storage.delete(key, pre, cachedExisting);
    await this.hooks.afterDelete?.(out, ctx).catch(() => undefined);
    return out;
  }

  async deleteCollection(q: ListQuery, options: DeleteOptions, ctx: RequestContext): Promise<KubeList> {
    checkDeleteOptions(options);
    const list = await this.list({ ...q, limit: undefined, continue: undefined });
    // Each delete waits mostly for etcd's commit; deleteCollectionWorkers of them in flight let
    // etcd batch the commits. The answer lists what was deleted in list order; the first error
    // (other than an item someone else deleted meanwhile) stops handing out work and is thrown.
    const deleted: (KubeObject | undefined)[] = new Array(list.items.length);
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < list.items.length) {
        const i = next++;
        const item = list.items[i]!;
        try {
          deleted[i] = (await this.delete(item.metadata.namespace, item.metadata.name!, options, ctx)).object;
        } catch (err) {
          if (err instanceof StatusError && err.code === 404) continue;
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(deleteCollectionWorkers, list.items.length) }, worker));
    if (failure !== undefined) throw failure;
    return this.listObject(deleted.filter((o): o is KubeObject => o !== undefined), list.metadata.resourceVersion ?? '');
  }

  // ---- watch ----

  async watch(ns: string | undefined, resourceVersion: string | undefined, w: Omit<CacheWatcher, 'prefix'>): Promise<() => void> {
    const prefix = listPrefix(this.def, ns);
    const rv = resourceVersion && resourceVersion !== '0' ? parseRV(resourceVersion) : undefined;
    if (!this.cache.ready) {
      const ok = await this.cache.waitUntilFresh(0, 3_000);
      if (!ok) throw serviceUnavailable('the watch cache is not ready');
    }
    try {
      return await this.cache.watch({ ...w, prefix }, rv);
    } catch (err) {
      if (err instanceof TooOldResourceVersionError) throw resourceExpired(err.message);
      if (err instanceof TooLargeResourceVersionError) throw tooLargeRV(err.requested, err.current);
      throw err;
    }
  }

  /** currentCacheRevision is the newest revision the watch cache has applied. */
  currentCacheRevision(): number {
    return this.cache.revision;
  }

}

/**
 * checkName refuses an object that a patch or an apply made whose name or namespace is not the
 * request's (the handlers' checkName in k8s.io/apiserver): 400, and nothing is written.
 */
export function checkName(def: ResourceDefinition, obj: KubeObject, ns: string | undefined, name: string): KubeObject {
  const meta = obj.metadata ?? {};
  if ((meta.name ?? '') !== name) throw badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`);
  const want = def.namespaced ? (ns ?? '') : '';
  if (meta.namespace && meta.namespace !== want) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  return obj;
}

export function parseRV(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

function tooLargeRV(requested: number, current: number): StatusError {
  return new StatusError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/**
 * shouldDeleteDuringUpdate is Kubernetes' rule: an object with a deletionTimestamp, no
 * finalizers left and no grace period still running is deleted rather than written. A
 * namespace also waits for its spec.finalizers (the namespace controller's work).
 */
function shouldDeleteDuringUpdate(obj: KubeObject): boolean {
  const m = obj.metadata;
  if (!m.deletionTimestamp || (m.finalizers ?? []).length) return false;
  if (m.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds !== 0) return false;
  if (obj.kind === 'Namespace' && ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length) return false;
  return true;
}

/** markForDeletion returns obj with its deletion recorded (deletionTimestamp, finalizers, phase), or obj itself if nothing changes. */
function markForDeletion(
  obj: KubeObject,
  o: { addFinalizer?: string; policy?: string; graceSeconds: number | bigint; now: Date; isNamespace: boolean },
): KubeObject {
  const next = deepClone(obj);
  const meta = next.metadata;
  let changed = false;
  if (o.addFinalizer && !(meta.finalizers ?? []).includes(o.addFinalizer)) {
    // Orphan and foreground replace each other, as Kubernetes does.
    meta.finalizers = [...(meta.finalizers ?? []).filter((f) => f !== 'orphan' && f !== 'foregroundDeletion'), o.addFinalizer];
    changed = true;
  }
  if (o.policy === 'Background' && (meta.finalizers ?? []).some((f) => f === 'orphan' || f === 'foregroundDeletion')) {
    meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
    changed = true;
  }
  const at = nowRFC3339(deletionDeadline(o.now, o.graceSeconds));
  if (!meta.deletionTimestamp) {
    meta.deletionTimestamp = at;
    meta.deletionGracePeriodSeconds = o.graceSeconds;
    changed = true;
  } else if (o.graceSeconds > 0 && meta.deletionGracePeriodSeconds !== undefined && o.graceSeconds < meta.deletionGracePeriodSeconds) {
    // A shorter grace period may shorten a deletion already under way, never lengthen it.
    meta.deletionTimestamp = at;
    meta.deletionGracePeriodSeconds = o.graceSeconds;
    changed = true;
  } else if (o.graceSeconds === 0 && meta.deletionGracePeriodSeconds) {
    meta.deletionGracePeriodSeconds = 0;
    changed = true;
  }
  if (o.isNamespace && (next.status as { phase?: string } | undefined)?.phase !== 'Terminating') {
    next.status = { ...((next.status as object) ?? {}), phase: 'Terminating' };
    changed = true;
  }
  return changed ? next : obj;
}

/** latestRFC3339 is the last instant metav1.Time can write (its year has four digits). */
const latestRFC3339 = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * deletionDeadline is now plus a grace period, which may be any int64 number of seconds (a BigInt
 * beyond 2^53): a deadline past year 9999 is the last second of it.
 */
function deletionDeadline(now: Date, graceSeconds: number | bigint): Date {
  const ms = now.getTime() + Number(graceSeconds) * 1000;
  return new Date(Math.min(ms, latestRFC3339));
}

function dedupe(errs: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const k = `${e.type}|${e.field}|${stringifyJSON(e.value)}|${e.detail}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * omitEmptyMeta drops empty lists and maps from metadata, as Go's `omitempty` does when
 * kube-apiserver stores an object: a client that removes the last owner reference or
 * finalizer reads the field back absent, not as [].
 */
function omitEmptyMeta(meta: KubeObject['metadata']): void {
  const m = meta as Record<string, unknown>;
  for (const field of ['labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields']) {
    const v = m[field];
    if (v === null || (Array.isArray(v) && v.length === 0) || (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) delete m[field];
  }
}

const deleteOptionsType = { group: '', version: 'v1', kind: 'DeleteOptions', model: 'V1DeleteOptions' };

/** checkDeleteOptions refuses DeleteOptions of the wrong shape (a string grace period would be stored in the object's metadata). */
function checkDeleteOptions(options: DeleteOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw badRequest('the body of the request must be a DeleteOptions object');
  const err = bodyDecodeError(deleteOptionsType, options as Record<string, unknown>);
  if (err) throw err;
}

/** isUnsetRV says whether an object's resourceVersion means "none": absent, "" or "0" (the versioner's 0). */
function isUnsetRV(rv: string | undefined): boolean {
  return rv === undefined || rv === '' || rv === '0';
}
