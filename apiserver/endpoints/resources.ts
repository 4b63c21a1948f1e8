// The generic resource handler: every verb and subresource of every declared kind goes through
// here (k8s.io/apiserver endpoints/handlers). Nothing in this file knows a kind by name except the
// subresources Kubernetes itself special-cases (pods/binding, namespaces/finalize).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../lib/api/meta.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import type { ResourceDefinition, VirtualContext } from '../../lib/api/resource.js';
import { checkFieldSelectorSupported, defaultFieldLabels, notAKnownFieldSelector, parseFieldSelector, matchesFields, isEverything as fieldsEverything } from '../../lib/machinery/fields.js';
import { matches as labelsMatch, parseLabelSelector, isEverything as labelsEverything } from '../../lib/machinery/labels.js';
import { badRequest, conflict, invalid, methodNotAllowed, notFoundPath, optimisticLockErrorMsg, StatusError, successStatus, type Status } from '../../lib/machinery/status.js';
import { applyScale, scaleFromObject, scaleGroupKind, type Scale } from '../../lib/api/autoscaling/scale.js';
import { invalidValue, required } from '../../lib/machinery/field-errors.js';
import type { Logger } from '../../lib/log.js';
import type { APIRegistry } from '../registry/registry.js';
import type { DeleteOptions, GenericStore, ListQuery, RequestContext } from '../registry/store.js';
import { parseRV } from '../registry/store.js';
import type { UserInfo } from '../auth/authn.js';
import { applyJSONPatch, applyMergePatch, applyStrategicMergePatch, checkPatchedObject, noPatchMeta, PatchType, schemaPatchMeta, type PatchMetaLookup } from './patch.js';
import { modelOf } from '../openapi.js';
import { decodeBody, mediaTypeOf, negotiate, readBody, type ProtobufDecoder, type RequestInfo } from './request.js';
import { partialObjectMetadata, toTable, type IncludeObject } from './table.js';
import { serveWatch } from './watch.js';
import { unknownField, validateFieldValidation } from '../fieldvalidation.js';
import { decodeApplyPatch, forceOf, requestFieldManager, validatePatchOptions } from '../fieldmanager/request.js';

export interface FieldValidator {
  /** check returns unknown/duplicate field problems for the body, by its raw text when JSON/YAML. */
  check(def: ResourceDefinition, obj: unknown, raw: Buffer, mediaType: string): string[];
  /** strictError is the error for Strict: a decoding error for bodies, an Invalid `patch` for patches. */
  strictError(def: ResourceDefinition, body: unknown, problems: string[], patchValue?: string): StatusError;
  warnings(problems: string[]): string[];
}

export interface ResourceHandlerDeps {
  registry: APIRegistry;
  /** authorize answers access reviews with the same authorizer that guards requests. */
  authorize?: VirtualContext['authorize'];
  log: Logger;
  protobuf?: ProtobufDecoder;
  fieldValidator?: FieldValidator;
  watchMetrics?: { inc(resource: string): void; dec(resource: string): void };
}

export function writeJSON(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function writeStatus(res: ServerResponse, err: StatusError | Status): void {
  const status = err instanceof StatusError ? err.status : err;
  const headers: Record<string, string> = {};
  if (status.details?.retryAfterSeconds) headers['Retry-After'] = String(status.details.retryAfterSeconds);
  writeJSON(res, status.code, status, headers);
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === 'true' || v === '1' || v === '') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`invalid boolean value for ${name}: ${JSON.stringify(v)}`);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63 - 1) {
    throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  }
  return n;
}

function dryRunOf(q: URLSearchParams, body?: { dryRun?: string[] }): boolean {
  const values = [...q.getAll('dryRun'), ...(body?.dryRun ?? [])];
  for (const v of values) {
    if (v !== 'All') {
      throw invalid({ group: 'meta.k8s.io', kind: 'CreateOptions' }, '', [
        { type: 'FieldValueNotSupported', field: 'dryRun', value: values, detail: 'supported values: "All"' },
      ]);
    }
  }
  return values.length > 0;
}

/** selectorPredicate compiles labelSelector and fieldSelector into one predicate. */
export function selectorPredicate(def: ResourceDefinition, q: URLSearchParams): { predicate: (o: KubeObject) => boolean; active: boolean } {
  const ls = parseLabelSelector(q.get('labelSelector') ?? '');
  const fs = parseFieldSelector(q.get('fieldSelector') ?? '');
  const extra = def.fieldSelectors ?? {};
  const supported = [...defaultFieldLabels, ...Object.keys(extra)];
  checkFieldSelectorSupported(fs, supported, Object.keys(extra).length ? undefined : notAKnownFieldSelector);
  const labelsAll = labelsEverything(ls);
  const fieldsAll = fieldsEverything(fs);
  if (labelsAll && fieldsAll) return { predicate: () => true, active: false };
  const fieldNames = fs.requirements.map((r) => r.field);
  return {
    active: true,
    predicate: (obj) => {
      if (!labelsAll && !labelsMatch(ls, obj.metadata.labels)) return false;
      if (fieldsAll) return true;
      const fields: Record<string, string | undefined> = {};
      for (const f of fieldNames) {
        if (f === 'metadata.name') fields[f] = obj.metadata.name;
        else if (f === 'metadata.namespace') fields[f] = obj.metadata.namespace ?? '';
        else fields[f] = extra[f]?.(obj as never) ?? '';
      }
      return matchesFields(fs, fields);
    },
  };
}

export class ResourceHandler {
  constructor(private readonly deps: ResourceHandlerDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, query: URLSearchParams, user: UserInfo): Promise<void> {
    const store = this.deps.registry.lookup(info.group, info.version, info.resource!);
    if (!store) throw notFoundPath();
    const def = store.def;
    if (info.namespace !== undefined && !def.namespaced) throw notFoundPath();
    const ns = def.namespaced ? info.namespace : undefined;
    const ctx: RequestContext = { now: new Date(), user: { name: user.name, groups: user.groups }, dryRun: false, fieldManager: requestFieldManager(query, req.headers['user-agent'], info.verb) };
    const verbs = def.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    const sub = info.subresource;

    // Namespaced kinds answer across all namespaces for list and watch only (Kubernetes installs no other route there).
    if (def.namespaced && !ns && !['list', 'watch'].includes(info.verb)) {
      if (info.verb === 'deletecollection' || info.verb === 'create') throw methodNotAllowed(req.method ?? info.verb, store.gr);
      throw notFoundPath();
    }
    if (sub) return this.handleSubresource(req, res, info, query, store, ns, ctx);
    if (info.rest.length) throw notFoundPath();
    const allowed = (verb: string) => {
      if (!(verbs as readonly string[]).includes(verb)) throw methodNotAllowed(verbMethod(verb), store.gr);
    };
    switch (info.verb) {
      case 'get':
        allowed('get');
        return this.get(res, store, ns, info.name!, query, req);
      case 'list':
        allowed('list');
        if (def.namespaced === false && info.namespace) throw notFoundPath();
        return this.list(res, store, ns, query, req);
      case 'watch':
        allowed('watch');
        return this.watch(req, res, store, ns, info.name, query);
      case 'create': {
        allowed('create');
        if (info.name) throw methodNotAllowed('POST', store.gr);
        const { obj, warnings } = await this.readObject(req, def, query);
        ctx.dryRun = dryRunOf(query);
        if (def.virtualCreate) return this.virtualCreate(res, store, obj as KubeObject, user);
        const out = await store.create(ns, obj as KubeObject, ctx);
        return this.respond(res, 201, store, out, req, warnings);
      }
      case 'update': {
        allowed('update');
        if (!info.name) throw methodNotAllowed('PUT', store.gr);
        const { obj, warnings } = await this.readObject(req, def, query);
        ctx.dryRun = dryRunOf(query);
        const { object, created } = await store.update(ns, info.name, obj as KubeObject, ctx);
        return this.respond(res, created ? 201 : 200, store, object, req, warnings);
      }
      case 'patch': {
        allowed('patch');
        if (!info.name) throw methodNotAllowed('PATCH', store.gr);
        return this.patch(req, res, store, ns, info.name, query, ctx, undefined);
      }
      case 'delete': {
        allowed('delete');
        const opts = await this.deleteOptions(req, query);
        ctx.dryRun = dryRunOf(query, opts);
        const r = await store.delete(ns, info.name!, opts, ctx);
        if (r.deleted) {
          if (def.returnDeletedObject) return this.respond(res, 200, store, r.object, req);
          return writeJSON(res, 200, successStatus({ name: info.name, group: def.group || undefined, kind: def.plural, uid: r.object.metadata.uid }));
        }
        // Still terminating (finalizers, grace period): 200, or 202 only for the deprecated
        // orphanDependents=false, exactly as kube-apiserver keeps it for old clients.
        return this.respond(res, opts.orphanDependents === false ? 202 : 200, store, r.object, req);
      }
      case 'deletecollection': {
        allowed('deletecollection');
        const opts = await this.deleteOptions(req, query);
        ctx.dryRun = dryRunOf(query, opts);
        const sel = selectorPredicate(def, query);
        const list = await store.deleteCollection({ namespace: ns, predicate: sel.predicate, selectorActive: sel.active }, opts, ctx);
        return writeJSON(res, 200, list);
      }
      default:
        throw methodNotAllowed(req.method ?? info.verb, store.gr);
    }
  }

  /** virtualCreate answers a review kind: validated like a create, computed, never stored. */
  private virtualCreate(res: ServerResponse, store: GenericStore, body: KubeObject, user: UserInfo): void {
    const def = store.def;
    if (body.apiVersion !== undefined && body.apiVersion !== store.apiVersion) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${store.apiVersion})`);
    }
    const obj: KubeObject = { ...body, apiVersion: store.apiVersion, kind: def.kind, metadata: body.metadata ?? {} };
    const errs = def.validate?.(obj) ?? [];
    if (errs.length) throw invalid(store.gk, obj.metadata.name ?? '', errs);
    const authorize = this.deps.authorize ?? (() => ({ allowed: false, reason: 'no authorizer' }));
    const out = def.virtualCreate!(obj, { user: { name: user.name, uid: user.uid, groups: user.groups }, authorize });
    writeJSON(res, 201, out);
  }

  private async readObject(req: IncomingMessage, def: ResourceDefinition, query: URLSearchParams): Promise<{ obj: unknown; warnings: string[] }> {
    const raw = await readBody(req);
    const media = mediaTypeOf(req.headers['content-type']);
    const obj = decodeBody(raw, req.headers['content-type'], this.deps.protobuf);
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the body of the request must be a JSON or YAML object');
    const optionsKind = req.method === 'PUT' ? 'UpdateOptions' : 'CreateOptions';
    return { obj, warnings: this.fieldValidation(def, obj, raw, media, query, optionsKind) };
  }

  /**
   * fieldValidation applies ?fieldValidation=Strict|Warn|Ignore (kubectl sends Strict by default):
   * unknown and duplicate fields fail the request, become Warning headers, or pass silently.
   * Protobuf bodies carry no unknown fields to report.
   */
  private fieldValidation(
    def: ResourceDefinition,
    obj: unknown,
    raw: Buffer,
    media: string,
    query: URLSearchParams,
    optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
    patchValue?: string,
  ): string[] {
    const mode = query.get('fieldValidation') ?? '';
    const bad = validateFieldValidation(mode, optionsKind);
    if (bad) throw bad;
    const fv = this.deps.fieldValidator;
    if (mode === 'Ignore' || !fv || media === 'application/vnd.kubernetes.protobuf') return [];
    const problems = fv.check(def, obj, raw, media);
    // Custom resources: the schema's unknown fields, after the decoder's duplicates (as kube-apiserver orders them).
    if (def.unknownFields) problems.push(...def.unknownFields(obj).map(unknownField));
    if (!problems.length) return [];
    if (mode === 'Strict') throw fv.strictError(def, obj, problems, patchValue);
    return fv.warnings(problems);
  }

  private async deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
    let opts: DeleteOptions = {};
    const raw = await readBody(req);
    if (raw.length) {
      const body = decodeBody(raw, req.headers['content-type'], this.deps.protobuf) as Record<string, unknown>;
      if (body && typeof body === 'object') {
        if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw badRequest(`expected DeleteOptions, got ${String(body.kind)}`);
        opts = body as DeleteOptions;
      }
    }
    const grace = intParam(query, 'gracePeriodSeconds');
    if (grace !== undefined) opts.gracePeriodSeconds = grace;
    const policy = query.get('propagationPolicy');
    if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
    const orphan = boolParam(query, 'orphanDependents');
    if (orphan !== undefined) opts.orphanDependents = orphan;
    return opts;
  }

  /** respond renders one object as asked: itself, a Table, or metadata only. */
  private respond(res: ServerResponse, code: number, store: GenericStore, obj: KubeObject, req: IncomingMessage, warnings: string[] = []): void {
    const headers: Record<string, string | string[]> = warnings.length ? { Warning: warnings } : {};
    const neg = negotiate(req.headers.accept);
    if (neg.as === 'Table') {
      const url = new URL(req.url ?? '/', 'https://x');
      const table = toTable(store.def, [obj], { tableVersion: neg.tableVersion!, includeObject: includeObjectOf(url.searchParams), now: new Date(), listMeta: { resourceVersion: obj.metadata.resourceVersion } });
      return writeJSON(res, code, table, headers);
    }
    if (neg.as === 'PartialObjectMetadata') return writeJSON(res, code, partialObjectMetadata(obj, neg.tableVersion ?? 'v1'), headers);
    writeJSON(res, code, obj, headers);
  }

  private async get(res: ServerResponse, store: GenericStore, ns: string | undefined, name: string, query: URLSearchParams, req: IncomingMessage): Promise<void> {
    const rv = query.get('resourceVersion') ?? undefined;
    if (rv && rv !== '0') parseRV(rv);
    const obj = await store.get(ns, name, rv);
    this.respond(res, 200, store, obj, req);
  }

  private listQuery(store: GenericStore, ns: string | undefined, query: URLSearchParams): ListQuery {
    const sel = selectorPredicate(store.def, query);
    const limit = intParam(query, 'limit');
    return {
      namespace: ns,
      predicate: sel.predicate,
      selectorActive: sel.active,
      limit: limit !== undefined && limit > 0 ? limit : undefined,
      continue: query.get('continue') || undefined,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      resourceVersionMatch: query.get('resourceVersionMatch') || undefined,
    };
  }

  private async list(res: ServerResponse, store: GenericStore, ns: string | undefined, query: URLSearchParams, req: IncomingMessage): Promise<void> {
    const list = await store.list(this.listQuery(store, ns, query));
    const neg = negotiate(req.headers.accept);
    if (neg.as === 'Table') {
      const table = toTable(store.def, list.items, { tableVersion: neg.tableVersion!, includeObject: includeObjectOf(query), now: new Date(), listMeta: list.metadata });
      return writeJSON(res, 200, table);
    }
    if (neg.as === 'PartialObjectMetadata') {
      const v = neg.tableVersion ?? 'v1';
      return writeJSON(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${v}`, metadata: list.metadata, items: list.items.map((o) => partialObjectMetadata(o, v)) });
    }
    writeJSON(res, 200, list);
  }

  private async watch(req: IncomingMessage, res: ServerResponse, store: GenericStore, ns: string | undefined, name: string | undefined, query: URLSearchParams): Promise<void> {
    if (name) {
      // A watch on one object is a watch with a metadata.name field selector.
      const fs = query.get('fieldSelector');
      query.set('fieldSelector', fs ? `${fs},metadata.name=${name}` : `metadata.name=${name}`);
    }
    const sel = selectorPredicate(store.def, query);
    await serveWatch(req, res, store, ns, query, sel.predicate, this.deps);
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    store: GenericStore,
    ns: string | undefined,
    name: string,
    query: URLSearchParams,
    ctx: RequestContext,
    subresource: 'status' | undefined,
  ): Promise<void> {
    const media = mediaTypeOf(req.headers['content-type']);
    const raw = await readBody(req);
    checkPatchType(store.def, media);
    validatePatchOptions(query, media);
    if (media === PatchType.Apply) {
      // Server-side apply: merge, take ownership, or create (apiserver/fieldmanager).
      const { config, warnings } = decodeApplyPatch(raw, query);
      ctx.dryRun = dryRunOf(query);
      const { object, created } = await store.apply(ns, name, config, ctx, { force: forceOf(query), subresource });
      return this.respond(res, created ? 201 : 200, store, object, req, warnings);
    }
    if (![PatchType.JSON, PatchType.Merge, PatchType.Strategic].includes(media as never)) throw unsupportedPatch();
    const patch = parsePatch(raw);
    ctx.dryRun = dryRunOf(query);
    let warnings: string[] = [];
    const mutate = (current: KubeObject): KubeObject => {
      let next: unknown;
      if (media === PatchType.JSON) next = applyJSONPatch(current, patch);
      else if (media === PatchType.Merge) next = applyMergePatch(current, patch);
      else next = applyStrategicMergePatch(current, patch, patchMetaOf(store.def));
      if (next === null || typeof next !== 'object' || Array.isArray(next)) throw badRequest('the patch produced something that is not an object');
      checkPatchedObject(store.def, next as Record<string, unknown>, media, patch);
      const text = JSON.stringify(next);
      warnings = this.fieldValidation(store.def, next, Buffer.from(text), 'application/json', query, 'PatchOptions', text);
      return next as KubeObject;
    };
    // A resourceVersion inside a merge/strategic patch is a precondition, as in Kubernetes.
    const rvPre = typeof patch === 'object' && patch !== null && !Array.isArray(patch) ? (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion : undefined;
    const { object } = await store.update(ns, name, null, ctx, { subresource, mutate, preconditions: rvPre ? { resourceVersion: rvPre } : undefined });
    this.respond(res, 200, store, object, req, warnings);
  }

  private async handleSubresource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, query: URLSearchParams, store: GenericStore, ns: string | undefined, ctx: RequestContext): Promise<void> {
    const def = store.def;
    const sub = info.subresource!;
    const name = info.name!;
    if (info.rest.length) throw notFoundPath();
    if (sub === 'status' && def.subresources?.status) {
      switch (info.verb) {
        case 'get':
          return this.respond(res, 200, store, await store.get(ns, name), req);
        case 'update': {
          const { obj } = await this.readObject(req, def, query);
          ctx.dryRun = dryRunOf(query);
          const { object } = await store.update(ns, name, obj as KubeObject, ctx, { subresource: 'status' });
          return this.respond(res, 200, store, object, req);
        }
        case 'patch':
          return this.patch(req, res, store, ns, name, query, ctx, 'status');
      }
      throw methodNotAllowed(req.method ?? '', { group: def.group, resource: `${def.plural}/status` });
    }
    if (sub === 'scale' && def.subresources?.scale) return this.scale(req, res, info, query, store, ns, ctx);
    if (sub === 'eviction' && def.group === '' && def.plural === 'pods') {
      if (info.verb !== 'create') throw methodNotAllowed(req.method ?? '', { group: '', resource: 'pods/eviction' });
      return this.evict(req, res, store, ns, name, query, ctx);
    }
    if (sub === 'binding' && def.group === '' && def.plural === 'pods') {
      if (info.verb !== 'create') throw methodNotAllowed(req.method ?? '', { group: '', resource: 'pods/binding' });
      return this.bind(req, res, store, ns, name, query, ctx);
    }
    if (sub === 'finalize' && def.group === '' && def.plural === 'namespaces') {
      if (info.verb !== 'update') throw methodNotAllowed(req.method ?? '', { group: '', resource: 'namespaces/finalize' });
      const { obj } = await this.readObject(req, def, query);
      const finalizers = ((obj as KubeObject).spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
      ctx.dryRun = dryRunOf(query);
      // finalize takes the new spec.finalizers as given (the namespace update strategy would keep the old ones).
      const rv = (obj as KubeObject).metadata?.resourceVersion;
      const object = await store.updateRaw(undefined, name, (cur) => ({ ...cur, spec: { ...((cur.spec as object) ?? {}), finalizers } }), rv ? { resourceVersion: rv } : undefined, ctx.dryRun);
      // A terminating namespace whose finalizers are all gone is removed.
      const spec = object.spec as { finalizers?: string[] } | undefined;
      if (object.metadata.deletionTimestamp && !(spec?.finalizers ?? []).length && !(object.metadata.finalizers ?? []).length && !ctx.dryRun) {
        const r = await store.delete(undefined, name, {}, ctx).catch(() => undefined);
        return this.respond(res, 200, store, r?.object ?? object, req);
      }
      return this.respond(res, 200, store, object, req);
    }
    throw notFoundPath();
  }

  /**
   * evict is policy/v1 Eviction: a graceful delete of the pod with the Eviction's deleteOptions.
   * With no PodDisruptionBudgets served yet, every eviction is allowed.
   */
  private async evict(req: IncomingMessage, res: ServerResponse, store: GenericStore, ns: string | undefined, name: string, query: URLSearchParams, ctx: RequestContext): Promise<void> {
    const raw = await readBody(req);
    const eviction = decodeBody(raw, req.headers['content-type'], this.deps.protobuf) as KubeObject & { deleteOptions?: DeleteOptions };
    if (!eviction || typeof eviction !== 'object' || Array.isArray(eviction)) throw badRequest('the body of the request must be an Eviction');
    if (eviction.kind !== undefined && eviction.kind !== 'Eviction') throw badRequest(`the kind in the data (${String(eviction.kind)}) does not match the expected kind (Eviction)`);
    if (eviction.metadata?.name && eviction.metadata.name !== name) {
      throw badRequest(`name in URL does not match name in Eviction object`);
    }
    const opts: DeleteOptions = { ...(eviction.deleteOptions ?? {}) };
    ctx.dryRun = dryRunOf(query, opts);
    await store.delete(ns, name, opts, ctx);
    writeJSON(res, 201, { ...successStatus(), code: 201 });
  }

  private async bind(req: IncomingMessage, res: ServerResponse, store: GenericStore, ns: string | undefined, name: string, query: URLSearchParams, ctx: RequestContext): Promise<void> {
    const raw = await readBody(req);
    const binding = decodeBody(raw, req.headers['content-type'], this.deps.protobuf) as KubeObject & { target?: { kind?: string; name?: string } };
    if (!binding || typeof binding !== 'object') throw badRequest('the body of the request must be a Binding');
    if (binding.metadata?.name && binding.metadata.name !== name) {
      throw badRequest(`the name of the object (${binding.metadata.name}) does not match the name on the URL (${name})`);
    }
    const target = binding.target;
    if (!target?.name) throw invalid({ group: '', kind: 'Binding' }, name, [required('target.name')]);
    if (target.kind && target.kind !== 'Node') throw invalid({ group: '', kind: 'Binding' }, name, [invalidValue('target.kind', target.kind, 'must be empty or "Node"')]);
    ctx.dryRun = dryRunOf(query);
    // One write, no pod update strategy (nodeName is otherwise immutable): node, annotations and
    // the PodScheduled condition land together, as kube-apiserver's binding storage does.
    await store.updateRaw(
      ns,
      name,
      (pod) => {
        const spec = (pod.spec ?? {}) as { nodeName?: string };
        if (pod.metadata.deletionTimestamp) throw conflict(store.gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
        if (spec.nodeName) throw conflict(store.gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
        spec.nodeName = target.name;
        pod.spec = spec;
        if (binding.metadata?.annotations) pod.metadata.annotations = { ...pod.metadata.annotations, ...binding.metadata.annotations };
        const status = (pod.status ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
        status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339(ctx.now) }];
        pod.status = status;
        return pod;
      },
      binding.metadata?.uid ? { uid: binding.metadata.uid as string } : undefined,
      ctx.dryRun,
    );
    writeJSON(res, 201, successStatus());
  }

  /** scale serves /scale as autoscaling/v1 Scale for every kind that declares the subresource. */
  private async scale(req: IncomingMessage, res: ServerResponse, info: RequestInfo, query: URLSearchParams, store: GenericStore, ns: string | undefined, ctx: RequestContext): Promise<void> {
    const def = store.def;
    const name = info.name!;
    // A resourceVersion in the Scale is a precondition on the object, as kube-apiserver applies it.
    const writeScale = async (scaleOf: (current: KubeObject) => KubeObject) => {
      ctx.dryRun = dryRunOf(query);
      const { object } = await store.update(ns, name, null, ctx, {
        subresource: 'scale',
        mutate: (cur) => {
          const scale = scaleOf(cur);
          const rv = scale.metadata?.resourceVersion;
          if (rv && rv !== cur.metadata.resourceVersion) throw conflict(store.gr, name, optimisticLockErrorMsg);
          const errs = applyScale(def, cur, scale as Partial<Scale>);
          if (errs && errs.length) throw invalid(scaleGroupKind, name, errs);
          return cur;
        },
      });
      writeJSON(res, 200, scaleFromObject(def, object));
    };
    switch (info.verb) {
      case 'get':
        return writeJSON(res, 200, scaleFromObject(def, await store.get(ns, name)));
      case 'update': {
        const scale = decodeBody(await readBody(req), req.headers['content-type'], this.deps.protobuf) as KubeObject;
        if (!scale || typeof scale !== 'object' || Array.isArray(scale)) throw badRequest('the body of the request must be a Scale');
        return writeScale(() => scale);
      }
      case 'patch': {
        const media = mediaTypeOf(req.headers['content-type']);
        checkPatchType(def, media);
        const patch = parsePatch(await readBody(req));
        return writeScale((cur) => {
          const current = scaleFromObject(def, cur);
          if (media === PatchType.JSON) return applyJSONPatch(current, patch) as KubeObject;
          if (media === PatchType.Merge) return applyMergePatch(current, patch) as KubeObject;
          if (media === PatchType.Strategic) return applyStrategicMergePatch(current, patch, schemaPatchMeta('V1Scale')) as KubeObject;
          throw unsupportedPatch();
        });
      }
    }
    throw methodNotAllowed(req.method ?? '', { group: def.group, resource: `${def.plural}/scale` });
  }
}

/** checkPatchType refuses a patch type the kind does not take (strategic merge on custom resources) with a 415 listing those it does. */
function checkPatchType(def: ResourceDefinition, media: string): void {
  if (def.patchTypes && !def.patchTypes.includes(media)) {
    throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${def.patchTypes.join(', ')}`);
  }
}

function unsupportedPatch(): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');
}

function parsePatch(raw: Buffer): unknown {
  let patch: unknown;
  try {
    patch = JSON.parse(raw.toString('utf8') || 'null');
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (patch === null) throw badRequest('the body of the request was empty');
  return patch;
}

/** patchMetaOf is the strategic-merge metadata of a kind, from its schema model. */
function patchMetaOf(def: ResourceDefinition): PatchMetaLookup {
  const model = modelOf(def as ResourceDefinition<any>);
  return model ? schemaPatchMeta(model) : noPatchMeta;
}

function verbMethod(verb: string): string {
  return ({ create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE', get: 'GET', list: 'GET', watch: 'GET' } as Record<string, string>)[verb] ?? verb;
}

export function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  if (v) throw badRequest(`includeObject must be one of "None", "Metadata", "Object"`);
  return 'Metadata';
}
