// The generic resource handler: every verb and subresource of every declared kind goes through
// here (k8s.io/apiserver endpoints/handlers). Nothing in this file knows a kind by name: status and
// scale come from the kind's declaration, every other subresource is a SubresourceStorage of the
// registry (apiserver/registry/subresources).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../lib/api/meta.js';
import type { ResourceDefinition, VirtualContext } from '../../lib/api/resource.js';
import { checkFieldSelectorSupported, defaultFieldLabels, notAKnownFieldSelector, parseFieldSelector, matchesFields, isEverything as fieldsEverything } from '../../lib/machinery/fields.js';
import { matches as labelsMatch, parseLabelSelector, isEverything as labelsEverything } from '../../lib/machinery/labels.js';
import { badRequest, conflict, invalid, methodNotAllowed, notFoundPath, optimisticLockErrorMsg, StatusError, successStatus } from '../../lib/machinery/status.js';
import { applyScale, scaleFromObject, scaleGroupKind, type Scale } from '../../lib/api/autoscaling/scale.js';
import type { Logger } from '../../lib/log.js';
import type { APIRegistry } from '../registry/registry.js';
import type { DeleteOptions, GenericStore, ListQuery, RequestContext } from '../registry/store.js';
import { checkName, parseRV } from '../registry/store.js';
import { findSubresource, type KubeletClientConfig, type SubresourceRequest, type SubresourceResult } from '../registry/subresources/index.js';
import { upgradeOf } from './upgrade.js';
import type { UserInfo } from '../auth/authn.js';
import { applyJSONPatch, applyMergePatch, applyStrategicMergePatch, checkPatchedObject, noPatchMeta, PatchType, schemaPatchMeta, type PatchMetaLookup } from './patch.js';
import { modelOf } from '../openapi.js';
import { checkBodyKind, unrecognizedObject } from './decode.js';
import { decodeBody, exceedsDepth, maxNestingDepth, mediaTypeOf, negotiate, parseJSON, readBody, type ProtobufDecoder, type RequestInfo } from './request.js';
import { partialObjectMetadata, toTable } from './table.js';
import { serveWatch, type WatchDeps } from './watch.js';
import { anyResourceVersion, isDryRun, type RequestOptions } from './options.js';
import { writeJSON } from './response.js';
import { addWarning, addWarnings } from './warning.js';
import { unknownField, validateFieldValidation } from '../fieldvalidation.js';
import { decodeApplyPatch, requestFieldManager, validatePatchOptions } from '../fieldmanager/request.js';
import { stringifyJSON } from '../../lib/machinery/json.js';

export interface FieldValidator {
  /** check returns unknown/duplicate field problems for the body, by its raw text when JSON/YAML. */
  check(def: ResourceDefinition, obj: unknown, raw: Buffer, mediaType: string): string[];
  /** strictError is the error for Strict: a decoding error for bodies, an Invalid `patch` for patches. */
  strictError(def: ResourceDefinition, body: unknown, problems: string[], patchValue?: string): StatusError;
  /** warnings are the warning texts (see ./warning.ts) for the problems under Warn. */
  warnings(problems: string[]): string[];
}

export interface ResourceHandlerDeps extends WatchDeps {
  registry: APIRegistry;
  /** authorize answers access reviews with the same authorizer that guards requests. */
  authorize?: VirtualContext['authorize'];
  /** rules answers SelfSubjectRulesReview. */
  rules?: VirtualContext['rules'];
  log: Logger;
  protobuf?: ProtobufDecoder;
  fieldValidator?: FieldValidator;
  /** kubelet is how connecting subresources (pods/log, pods/exec, nodes/proxy) reach kubelets. */
  kubelet?: KubeletClientConfig;
  /** authenticateToken answers TokenReviews with the authenticator that guards requests. */
  authenticateToken?: VirtualContext['authenticateToken'];
  /** tokenSigner signs the tokens serviceaccounts/token issues. */
  tokenSigner?: SubresourceRequest['tokenSigner'];
}

/** selectorPredicate compiles labelSelector and fieldSelector into one predicate. */
export function selectorPredicate(def: ResourceDefinition, labelSelector: string, fieldSelector: string): { predicate: (o: KubeObject) => boolean; active: boolean } {
  const ls = parseLabelSelector(labelSelector);
  const fs = parseFieldSelector(fieldSelector);
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

  /**
   * handle serves one resource request. `opts` is the request's query parsed once; `query` is
   * kept for the field manager's own checks, which read it as kube's PatchOptions do.
   */
  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, opts: RequestOptions, query: URLSearchParams, user: UserInfo): Promise<void> {
    const store = this.deps.registry.lookup(info.group, info.version, info.resource!);
    if (!store) throw notFoundPath();
    const def = store.def;
    if (info.namespace !== undefined && !def.namespaced) throw notFoundPath();
    const ns = def.namespaced ? info.namespace : undefined;
    const ctx: RequestContext = { now: new Date(), user: { name: user.name, groups: user.groups }, dryRun: false, fieldManager: requestFieldManager(query, req.headers['user-agent'], info.verb) };
    const verbs = def.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    const sub = info.subresource;
    // A connecting subresource (pods/log, pods/exec, nodes/proxy) answers in its own format, with
    // no content negotiation: kube's rest.Connecter handlers.
    const connecter = sub ? findSubresource(def, sub) : undefined;
    if (connecter?.connect) {
      if (!ns && def.namespaced) throw notFoundPath();
      if (info.rest.length && !connecter.acceptsPath) throw notFoundPath();
      if (!(connecter.connectVerbs ?? []).includes(info.verb)) throw methodNotAllowed(req.method ?? info.verb, { group: def.group, resource: `${def.plural}/${sub}` });
      const call: SubresourceRequest = { store, namespace: ns, name: info.name!, ctx, dryRun: () => false, registry: this.deps.registry, kubelet: this.deps.kubelet, tokenSigner: this.deps.tokenSigner };
      return connecter.connect(call, { req, res, query, rest: info.rest, upgrade: upgradeOf(req) });
    }
    // Output is negotiated before anything else, as in kube-apiserver: a kind with no table (one
    // that cannot be listed, such as a review) refuses a Table-only Accept with 406, and so do the
    // subresources served by code of their own (binding, eviction, finalize have no table
    // convertor); status and scale show the parent's table.
    negotiate(req.headers.accept, { tables: sub ? !findSubresource(def, sub) : verbs.includes('list') });
    // A deprecated version warns on every request to it, as kube-apiserver's custom resource handler does.
    if (def.deprecationWarning !== undefined) addWarning(res, def.deprecationWarning);
    ctx.warn = (text) => addWarning(res, text);

    // Namespaced kinds answer across all namespaces for list and watch only (Kubernetes installs no other route there).
    if (def.namespaced && !ns && !['list', 'watch'].includes(info.verb)) {
      if (info.verb === 'deletecollection' || info.verb === 'create') throw methodNotAllowed(req.method ?? info.verb, store.gr);
      throw notFoundPath();
    }
    if (sub) return this.handleSubresource(req, res, info, opts, query, store, ns, ctx);
    if (info.rest.length) throw notFoundPath();
    const allowed = (verb: string) => {
      if (!(verbs as readonly string[]).includes(verb)) throw methodNotAllowed(verbMethod(verb), store.gr);
    };
    switch (info.verb) {
      case 'get':
        allowed('get');
        return this.get(res, store, ns, info.name!, opts, req);
      case 'list':
        allowed('list');
        if (def.namespaced === false && info.namespace) throw notFoundPath();
        return this.list(res, store, ns, opts, req);
      case 'watch':
        allowed('watch');
        return this.watch(req, res, store, ns, info.name, opts);
      case 'create': {
        allowed('create');
        if (info.name) throw methodNotAllowed('POST', store.gr);
        const { obj, warnings } = await this.readObject(req, def, opts);
        ctx.dryRun = isDryRun(opts);
        if (def.virtualCreate) return await this.virtualCreate(res, store, obj as KubeObject, user, ns);
        const out = await store.create(ns, obj as KubeObject, ctx);
        return this.respond(res, 201, store, out, req, opts, warnings);
      }
      case 'update': {
        allowed('update');
        if (!info.name) throw methodNotAllowed('PUT', store.gr);
        const { obj, warnings } = await this.readObject(req, def, opts);
        ctx.dryRun = isDryRun(opts);
        const { object, created } = await store.update(ns, info.name, obj as KubeObject, ctx);
        return this.respond(res, created ? 201 : 200, store, object, req, opts, warnings);
      }
      case 'patch': {
        allowed('patch');
        if (!info.name) throw methodNotAllowed('PATCH', store.gr);
        return this.patch(req, res, store, ns, info.name, opts, query, ctx, undefined);
      }
      case 'delete': {
        allowed('delete');
        const del = await this.deleteOptions(req, opts);
        ctx.dryRun = isDryRun(opts, del.dryRun);
        const r = await store.delete(ns, info.name!, del, ctx);
        if (r.deleted) {
          if (def.returnDeletedObject) return this.respond(res, 200, store, r.object, req, opts);
          return writeJSON(res, 200, successStatus({ name: info.name, group: def.group || undefined, kind: def.plural, uid: r.object.metadata.uid }));
        }
        // Still terminating (finalizers, grace period): 200, or 202 only for the deprecated
        // orphanDependents=false, exactly as kube-apiserver keeps it for old clients.
        return this.respond(res, del.orphanDependents === false ? 202 : 200, store, r.object, req, opts);
      }
      case 'deletecollection': {
        allowed('deletecollection');
        const del = await this.deleteOptions(req, opts);
        ctx.dryRun = isDryRun(opts, del.dryRun);
        const sel = selectorPredicate(def, opts.labelSelector, opts.fieldSelector);
        const list = await store.deleteCollection({ namespace: ns, predicate: sel.predicate, selectorActive: sel.active }, del, ctx);
        return writeJSON(res, 200, list);
      }
      default:
        throw methodNotAllowed(req.method ?? info.verb, store.gr);
    }
  }

  /** virtualCreate answers a review kind: validated like a create, computed, never stored. */
  private async virtualCreate(res: ServerResponse, store: GenericStore, body: KubeObject, user: UserInfo, namespace: string | undefined): Promise<void> {
    const def = store.def;
    if (body.apiVersion !== undefined && body.apiVersion !== store.apiVersion) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${store.apiVersion})`);
    }
    const obj: KubeObject = { ...body, apiVersion: store.apiVersion, kind: def.kind, metadata: body.metadata ?? {} };
    const errs = def.validate?.(obj) ?? [];
    if (errs.length) throw invalid(store.gk, obj.metadata.name ?? '', errs);
    const authorize = this.deps.authorize ?? (() => ({ allowed: false, reason: 'no authorizer' }));
    const out = await def.virtualCreate!(obj, { user: { name: user.name, uid: user.uid, groups: user.groups, extra: user.extra }, authorize, namespace, rules: this.deps.rules, authenticateToken: this.deps.authenticateToken });
    writeJSON(res, 201, out);
  }

  private async readObject(req: IncomingMessage, def: ResourceDefinition, opts: RequestOptions): Promise<{ obj: unknown; warnings: string[] }> {
    const raw = await readBody(req);
    const media = mediaTypeOf(req.headers['content-type']);
    let obj: unknown;
    try {
      obj = decodeBody(raw, req.headers['content-type'], this.deps.protobuf);
    } catch (err) {
      // A body that does not parse is no object of any kind: say which kind was expected (the
      // protobuf decoder words its own errors so).
      if (raw.length > 0 && media !== 'application/vnd.kubernetes.protobuf' && err instanceof StatusError && err.code === 400) throw unrecognizedObject(def, err, raw);
      throw err;
    }
    if (obj !== null && typeof obj !== 'object') throw unrecognizedObject(def, badRequest(notAnObject(typeof obj)), raw);
    if (Array.isArray(obj)) throw unrecognizedObject(def, badRequest(notAnObject('array')), raw);
    if (obj === null) throw badRequest('the body of the request must be a JSON or YAML object');
    checkBodyKind(def, obj as KubeObject, (apiVersion, kind) => this.deps.registry.all().some((s) => s.apiVersion === apiVersion && s.def.kind === kind));
    const optionsKind = req.method === 'PUT' ? 'UpdateOptions' : 'CreateOptions';
    return { obj, warnings: this.fieldValidation(def, obj, raw, media, opts, optionsKind) };
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
    opts: RequestOptions,
    optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
    patchValue?: string,
  ): string[] {
    const mode = opts.fieldValidation;
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

  /** deleteOptions reads a DeleteOptions body, if any, with the query's options over it. */
  private async deleteOptions(req: IncomingMessage, q: RequestOptions): Promise<DeleteOptions & { dryRun?: string[] }> {
    let opts: DeleteOptions & { dryRun?: string[] } = {};
    const raw = await readBody(req);
    if (raw.length) {
      const body = decodeBody(raw, req.headers['content-type'], this.deps.protobuf) as Record<string, unknown>;
      if (body && typeof body === 'object') {
        if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw badRequest(`expected DeleteOptions, got ${String(body.kind)}`);
        opts = body as DeleteOptions;
      }
    }
    if (q.gracePeriodSeconds !== undefined) opts.gracePeriodSeconds = q.gracePeriodSeconds;
    if (q.propagationPolicy) opts.propagationPolicy = q.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (q.orphanDependents !== undefined) opts.orphanDependents = q.orphanDependents;
    return opts;
  }

  /** respond renders one object as asked: itself, a Table, or metadata only. */
  private respond(res: ServerResponse, code: number, store: GenericStore, obj: KubeObject, req: IncomingMessage, opts: RequestOptions, warnings: string[] = []): void {
    addWarnings(res, warnings);
    const neg = negotiate(req.headers.accept);
    if (neg.as === 'Table') {
      const table = toTable(store.def, [obj], { tableVersion: neg.tableVersion!, includeObject: opts.includeObject, now: new Date(), listMeta: { resourceVersion: obj.metadata.resourceVersion } });
      return writeJSON(res, code, table);
    }
    if (neg.as === 'PartialObjectMetadata') return writeJSON(res, code, partialObjectMetadata(obj, neg.tableVersion ?? 'v1'));
    writeJSON(res, code, obj);
  }

  private async get(res: ServerResponse, store: GenericStore, ns: string | undefined, name: string, opts: RequestOptions, req: IncomingMessage): Promise<void> {
    const rv = opts.resourceVersion;
    if (rv && rv !== anyResourceVersion) parseRV(rv);
    const obj = await store.get(ns, name, rv);
    this.respond(res, 200, store, obj, req, opts);
  }

  private listQuery(store: GenericStore, ns: string | undefined, opts: RequestOptions): ListQuery {
    const sel = selectorPredicate(store.def, opts.labelSelector, opts.fieldSelector);
    return {
      namespace: ns,
      predicate: sel.predicate,
      selectorActive: sel.active,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
    };
  }

  private async list(res: ServerResponse, store: GenericStore, ns: string | undefined, opts: RequestOptions, req: IncomingMessage): Promise<void> {
    const list = await store.list(this.listQuery(store, ns, opts));
    const neg = negotiate(req.headers.accept);
    if (neg.as === 'Table') {
      const table = toTable(store.def, list.items, { tableVersion: neg.tableVersion!, includeObject: opts.includeObject, now: new Date(), listMeta: list.metadata });
      return writeJSON(res, 200, table);
    }
    if (neg.as === 'PartialObjectMetadata') {
      const v = neg.tableVersion ?? 'v1';
      return writeJSON(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${v}`, metadata: list.metadata, items: list.items.map((o) => partialObjectMetadata(o, v)) });
    }
    writeJSON(res, 200, list);
  }

  private async watch(req: IncomingMessage, res: ServerResponse, store: GenericStore, ns: string | undefined, name: string | undefined, opts: RequestOptions): Promise<void> {
    // A watch on one object is a watch with a metadata.name field selector.
    const fs = name ? (opts.fieldSelector ? `${opts.fieldSelector},metadata.name=${name}` : `metadata.name=${name}`) : opts.fieldSelector;
    const sel = selectorPredicate(store.def, opts.labelSelector, fs);
    await serveWatch(req, res, store, ns, opts, sel.predicate, this.deps);
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    store: GenericStore,
    ns: string | undefined,
    name: string,
    opts: RequestOptions,
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
      const { config, warnings } = decodeApply(raw, query);
      ctx.dryRun = isDryRun(opts);
      const { object, created } = await store.apply(ns, name, config, ctx, { force: opts.force, subresource });
      return this.respond(res, created ? 201 : 200, store, object, req, opts, warnings);
    }
    if (![PatchType.JSON, PatchType.Merge, PatchType.Strategic].includes(media as never)) throw unsupportedPatch();
    const patch = parsePatch(raw);
    ctx.dryRun = isDryRun(opts);
    let warnings: string[] = [];
    const mutate = (current: KubeObject): KubeObject => {
      let next: unknown;
      if (media === PatchType.JSON) next = applyJSONPatch(current, patch);
      else if (media === PatchType.Merge) next = applyMergePatch(current, patch);
      else next = applyStrategicMergePatch(current, patch, patchMetaOf(store.def));
      if (next === null || typeof next !== 'object' || Array.isArray(next)) throw badRequest('the patch produced something that is not an object');
      checkPatchedObject(store.def, next as Record<string, unknown>, media, patch);
      checkName(store.def, next as KubeObject, ns, name);
      const text = stringifyJSON(next);
      warnings = this.fieldValidation(store.def, next, Buffer.from(text), 'application/json', opts, 'PatchOptions', text);
      return next as KubeObject;
    };
    // A resourceVersion inside a merge/strategic patch is a precondition, as in Kubernetes; "0"
    // is the versioner's "no version", an unconditional patch.
    const rvPre = typeof patch === 'object' && patch !== null && !Array.isArray(patch) ? (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion : undefined;
    const conditional = rvPre !== undefined && rvPre !== '' && rvPre !== '0';
    const { object } = await store.update(ns, name, null, ctx, { subresource, mutate, preconditions: conditional ? { resourceVersion: rvPre } : undefined });
    this.respond(res, 200, store, object, req, opts, warnings);
  }

  private async handleSubresource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, opts: RequestOptions, query: URLSearchParams, store: GenericStore, ns: string | undefined, ctx: RequestContext): Promise<void> {
    const def = store.def;
    const sub = info.subresource!;
    const name = info.name!;
    if (info.rest.length) throw notFoundPath();
    const notAllowed = () => methodNotAllowed(req.method ?? '', { group: def.group, resource: `${def.plural}/${sub}` });
    if (sub === 'status' && def.subresources?.status) {
      switch (info.verb) {
        case 'get':
          return this.respond(res, 200, store, await store.get(ns, name), req, opts);
        case 'update': {
          const { obj } = await this.readObject(req, def, opts);
          ctx.dryRun = isDryRun(opts);
          const { object } = await store.update(ns, name, obj as KubeObject, ctx, { subresource: 'status' });
          return this.respond(res, 200, store, object, req, opts);
        }
        case 'patch':
          return this.patch(req, res, store, ns, name, opts, query, ctx, 'status');
      }
      throw notAllowed();
    }
    if (sub === 'scale' && def.subresources?.scale) return this.scale(req, res, info, opts, store, ns, ctx);
    const rest = findSubresource(def, sub);
    if (!rest) throw notFoundPath();
    const call: SubresourceRequest = { store, namespace: ns, name, ctx, dryRun: (bodyValues) => isDryRun(opts, bodyValues), registry: this.deps.registry, kubelet: this.deps.kubelet, tokenSigner: this.deps.tokenSigner };
    let result: SubresourceResult;
    switch (info.verb) {
      case 'get':
        if (!rest.get) throw notAllowed();
        result = await rest.get(call);
        break;
      case 'create':
      case 'update': {
        const handler = info.verb === 'create' ? rest.create : rest.update;
        if (!handler) throw notAllowed();
        let body: unknown;
        if (rest.bodyIsParent) body = (await this.readObject(req, def, opts)).obj;
        else {
          body = decodeBody(await readBody(req), req.headers['content-type'], this.deps.protobuf);
          if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`the body of the request must be ${rest.bodyName ?? 'a JSON or YAML object'}`);
        }
        result = await handler.call(rest, call, body as Record<string, unknown>);
        break;
      }
      default:
        throw notAllowed();
    }
    if ('object' in result) return this.respond(res, result.code, store, result.object, req, opts);
    writeJSON(res, result.code, result.body);
  }

  /** scale serves /scale as autoscaling/v1 Scale for every kind that declares the subresource. */
  private async scale(req: IncomingMessage, res: ServerResponse, info: RequestInfo, opts: RequestOptions, store: GenericStore, ns: string | undefined, ctx: RequestContext): Promise<void> {
    const def = store.def;
    const name = info.name!;
    // A resourceVersion in the Scale is a precondition on the object, as kube-apiserver applies it.
    const writeScale = async (scaleOf: (current: KubeObject) => KubeObject) => {
      ctx.dryRun = isDryRun(opts);
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
  const patch = parseJSON(raw.length ? raw : Buffer.from('null'), 'error decoding patch');
  if (patch === null) throw badRequest('the body of the request was empty');
  return patch;
}

/**
 * decodeApply decodes an apply body; what the YAML decoder throws (an unknown alias, too many
 * aliases, a document too deep to resolve) is the client's error, a 400.
 */
function decodeApply(raw: Buffer, query: URLSearchParams): { config: unknown; warnings: string[] } {
  let out: { config: unknown; warnings: string[] };
  try {
    out = decodeApplyPatch(raw, query);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (exceedsDepth(out.config)) throw badRequest(`error decoding patch: exceeded max depth of ${maxNestingDepth}`);
  return out;
}

/** patchMetaOf is the strategic-merge metadata of a kind, from its schema model. */
function patchMetaOf(def: ResourceDefinition): PatchMetaLookup {
  const model = modelOf(def as ResourceDefinition<any>);
  return model ? schemaPatchMeta(model) : noPatchMeta;
}

function verbMethod(verb: string): string {
  return ({ create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE', get: 'GET', list: 'GET', watch: 'GET' } as Record<string, string>)[verb] ?? verb;
}

/** notAnObject is encoding/json's error for a body that is not a JSON object, as the kind sniffer reports it. */
function notAnObject(jsType: string): string {
  const goType = jsType === 'boolean' ? 'bool' : jsType;
  return `couldn't get version/kind; json parse error: json: cannot unmarshal ${goType} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`;
}
