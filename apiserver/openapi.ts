// The OpenAPI v3 documents of /openapi/v3, built from the served resource definitions the way
// kube-apiserver's route installer and kube-openapi's builder shape them: one document per
// group/version with an operation per route (operationId `patchAppsV1NamespacedDeployment`,
// `x-kubernetes-action`, `x-kubernetes-group-version-kind`, the query parameters of the options
// kinds), the schemas the operations refer to, and a discovery index whose URLs carry a content
// hash so clients may cache a document forever.
//
// Clients depend on details here: kubectl decides that the server validates fields itself when
// the PATCH operation of the kind lists a `fieldValidation` query parameter (cli-runtime's
// queryParamVerifierV3 looks at the first PATCH operation carrying the kind's GVK, in map order,
// so every PATCH operation must list it), and `kubectl explain` finds a kind by the
// `x-kubernetes-group-version-kind` of its schema.

import { createHash } from 'node:crypto';
import { AllVerbs, listKindOf, type ResourceDefinition, type Verb } from '../lib/api/resource.js';
import { modelAttributes } from './openapi/models.js';
import { PatchDefinition, definitionName, modelNameFor } from './openapi/names.js';
import { addSchemasFor, apimachinerySchemaFor, type Schema } from './openapi/schemas.js';
import { stringifyJSON } from '../lib/machinery/json.js';
import { setOwn } from '../lib/machinery/ownprops.js';

/** ServedResource is a resource definition, optionally naming its client-node model (e.g. 'V1Deployment'). */
export type ServedResource = ResourceDefinition<any> & { model?: string };

/** OpenAPIDocument is an OpenAPI 3.0 document as plain JSON. */
export type OpenAPIDocument = Record<string, unknown>;

/** DocumentOptions tune the documents. */
export interface DocumentOptions {
  /** info of every document; kube-apiserver fills title "Kubernetes". */
  info?: { title: string; version: string };
  /** descriptions copies field descriptions into the schemas (default true). */
  descriptions?: boolean;
}

const defaultInfo = { title: 'Kubernetes', version: 'unversioned' };

/** mediaTypes are what a built-in resource's routes produce; list and watch add the streaming forms. */
const mediaTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const streamMediaTypes = ['application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const patchMediaTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/**
 * patchTypesOf is what a kind's PATCH accepts: custom resources declare theirs (no strategic
 * merge), and kubectl picks its client-side apply patch type from this list.
 */
function patchTypesOf(def: ServedResource): string[] {
  return def.patchTypes ? patchMediaTypes.filter((t) => def.patchTypes!.includes(t)) : patchMediaTypes;
}

const metaV1 = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const StatusDefinition = `${metaV1}.Status`;
const DeleteOptionsDefinition = `${metaV1}.DeleteOptions`;
const WatchEventDefinition = `${metaV1}.WatchEvent`;
const APIResourceListDefinition = `${metaV1}.APIResourceList`;

// ---------------------------------------------------------------------------------------------
// Names

/** gvPath is a group/version's path below /openapi/v3 (and below the server root): `api/v1`, `apis/apps/v1`. */
export function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** parseGroupVersion splits `apps/v1` or `v1` (core). */
export function parseGroupVersion(gv: string): { group: string; version: string } {
  const i = gv.indexOf('/');
  return i < 0 ? { group: '', version: gv } : { group: gv.slice(0, i), version: gv.slice(i + 1) };
}

/** toValidOperationID is kube-apiserver's ToValidOperationID: letters, `_` and inner digits kept, the next letter after anything else capitalised. */
export function toValidOperationID(s: string, capitalizeFirst: boolean): string {
  let out = '';
  let capitalize = capitalizeFirst;
  [...s].forEach((ch, i) => {
    if (/\p{L}/u.test(ch) || ch === '_' || (i !== 0 && /\p{Nd}/u.test(ch))) {
      out += capitalize ? ch.toUpperCase() : ch;
      capitalize = false;
    } else capitalize = true;
  });
  return out;
}

/** groupVersionWords are the words GetOperationIDAndTags puts after an operation's verb: `AppsV1`, `CoreV1`, `RbacAuthorizationV1`. */
function groupVersionWords(group: string, version: string): { infix: string; tag: string } {
  const trimmed = (group || 'core').replace(/\.k8s\.io$/, '');
  return {
    infix: toValidOperationID(trimmed, true) + toValidOperationID(version, true),
    tag: `${toValidOperationID(trimmed, false)}_${toValidOperationID(version, false)}`,
  };
}

const capitalize = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** article is GetArticleForNoun: " an " before a vowel sound, " a " otherwise. */
function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? ' an ' : ' a ';
}

/** modelOf returns a definition's client-node model: its `model`, or the one named after its kind. */
export function modelOf(def: ServedResource): string | undefined {
  if (def.model && modelAttributes(def.model)) return def.model;
  return modelNameFor(def.group, def.version, def.kind);
}

function listModelOf(def: ServedResource, model: string | undefined): string | undefined {
  const byKind = modelNameFor(def.group, def.version, listKindOf(def));
  if (byKind) return byKind;
  return model && modelAttributes(`${model}List`) ? `${model}List` : undefined;
}

/** customDefinitionName names a kind with no model as Kubernetes names CRD schemas: `com.example.stable.v1.CronTab`. */
function customDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

// ---------------------------------------------------------------------------------------------
// Parameters

type Parameter = Record<string, unknown>;

function query(name: string, type: 'string' | 'integer' | 'boolean', description: string): Parameter {
  return { description, in: 'query', name, schema: { type, uniqueItems: true } };
}

function pathParam(name: string, description: string): Parameter {
  return { description, in: 'path', name, required: true, schema: { type: 'string', uniqueItems: true } };
}

// Descriptions are skiff's own words; names, places and types are Kubernetes'.
const P = {
  pretty: query('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: query('dryRun', 'string', "When present, modifications are not persisted. The only valid value is 'All': every dry-run stage is processed."),
  fieldManager: query('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields. Required for apply requests.'),
  fieldValidation: query(
    'fieldValidation',
    'string',
    "How the server treats unknown and duplicate fields in the request body: 'Ignore' drops them, 'Warn' (the default) drops them and answers with a warning per field, 'Strict' fails the request.",
  ),
  force: query('force', 'boolean', 'Force apply requests to take over fields other managers own. Only valid for apply requests.'),
  allowWatchBookmarks: query('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK watch events; servers may send them at their discretion.'),
  continue: query('continue', 'string', 'Token from a previous paged list call, asking for the next page.'),
  fieldSelector: query('fieldSelector', 'string', 'Restrict the returned objects by their fields. Defaults to everything.'),
  labelSelector: query('labelSelector', 'string', 'Restrict the returned objects by their labels. Defaults to everything.'),
  limit: query('limit', 'integer', 'Maximum number of objects to return; a continue token is returned when there are more.'),
  resourceVersion: query('resourceVersion', 'string', 'Constrains which resource versions the request may be served from.\n\nDefaults to unset'),
  resourceVersionMatch: query('resourceVersionMatch', 'string', 'How resourceVersion applies to list calls.\n\nDefaults to unset'),
  sendInitialEvents: query('sendInitialEvents', 'boolean', 'With watch=true, start the watch with synthetic events for the current state, ended by a bookmark.'),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout of the list/watch call.'),
  watch: query('watch', 'boolean', 'Watch for changes to the described resources instead of listing them.'),
  gracePeriodSeconds: query('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted; zero deletes immediately. Defaults to the per-object value.'),
  ignoreStoreReadError: query(
    'ignoreStoreReadErrorWithClusterBreakingPotential',
    'boolean',
    'Delete an object that cannot be read from storage, skipping finalizers and preconditions. Use only as a last resort.',
  ),
  orphanDependents: query('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Whether dependents are orphaned.'),
  propagationPolicy: query('propagationPolicy', 'string', "Whether and how garbage collection is performed: 'Orphan', 'Background' or 'Foreground'."),
};

const listParams = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
const patchParams = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const deleteParams = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const deleteCollectionParams = [...deleteParams, ...listParams.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')];

// ---------------------------------------------------------------------------------------------
// Operations

type Operation = Record<string, unknown>;
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

interface Route {
  path: string;
  method: Method;
  operation: Operation;
  params: Parameter[];
}

const schemaRef = (definition: string) => ({ $ref: `#/components/schemas/${definition}` });

function content(types: string[], definition: string): Record<string, unknown> {
  return Object.fromEntries(types.map((t) => [t, { schema: schemaRef(definition) }]));
}

function responses(codes: [number, string][], types: string[], definition: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [code, text] of codes) out[String(code)] = { content: content(types, definition), description: text };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** RouteSet collects the routes of one group/version; paths are assembled at the end. */
class RouteSet {
  readonly routes: Route[] = [];
  constructor(
    private readonly infix: string,
    private readonly tag: string,
  ) {}

  add(path: string, method: Method, verbOp: string, rest: string, action: string, gvk: GVK | undefined, doc: string, params: Parameter[], body: Partial<Operation>): void {
    const operation: Operation = {
      description: doc,
      operationId: verbOp + this.infix + capitalize(rest),
      ...body,
      tags: [this.tag],
    };
    if (action) operation['x-kubernetes-action'] = action;
    if (gvk) operation['x-kubernetes-group-version-kind'] = { group: gvk.group, kind: gvk.kind, version: gvk.version };
    this.routes.push({ path, method, operation, params });
  }
}

/**
 * deletedObjectResources are the built-in resources whose DELETE answers with the object (its
 * store sets ReturnDeletedObject) rather than a Status.
 */
const deletedObjectResources = new Set(['/pods', '/services', '/serviceaccounts', '/persistentvolumes', '/persistentvolumeclaims', '/podtemplates', '/resourcequotas']);

function returnsDeletedObject(def: ServedResource): boolean {
  return deletedObjectResources.has(`${def.group}/${def.plural}`);
}

/** routesFor adds the routes kube-apiserver installs for one resource (and its status and scale subresources). */
function routesFor(rs: RouteSet, def: ServedResource, kindDef: string, listDef: string, root: string): void {
  const verbs = new Set<Verb>(def.verbs ?? AllVerbs);
  const gvk: GVK = { group: def.group, version: def.version, kind: def.kind };
  const kind = def.kind;
  const ns = def.namespaced;
  const scoped = ns ? 'Namespaced' : '';
  const collection = ns ? `${root}/namespaces/{namespace}/${def.plural}` : `${root}/${def.plural}`;
  const item = `${collection}/{name}`;
  const namespaceParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');
  const nameParam = pathParam('name', `name of the ${kind}`);
  const scopeParams = ns ? [namespaceParam] : [];
  const itemParams = [nameParam, ...scopeParams];

  const list = verbs.has('list');
  const watch = verbs.has('watch');
  if (list) {
    const doc = watch ? `list or watch objects of kind ${kind}` : `list objects of kind ${kind}`;
    const listBody = { responses: responses([[200, 'OK']], [...mediaTypes, ...streamMediaTypes], listDef) };
    rs.add(collection, 'get', 'list', `${scoped}${kind}`, 'list', gvk, doc, [...scopeParams, P.pretty, ...listParams], listBody);
    if (ns) rs.add(`${root}/${def.plural}`, 'get', 'list', `${kind}ForAllNamespaces`, 'list', gvk, doc, [P.pretty, ...listParams], listBody);
  }
  if (verbs.has('create')) {
    rs.add(collection, 'post', 'create', `${scoped}${kind}`, 'post', gvk, `create${article(kind)}${kind}`, [...scopeParams, P.pretty, ...writeParams], {
      requestBody: { content: { '*/*': { schema: schemaRef(kindDef) } }, required: true },
      responses: responses([[200, 'OK'], [201, 'Created'], [202, 'Accepted']], mediaTypes, kindDef),
    });
  }
  if (verbs.has('deletecollection')) {
    rs.add(collection, 'delete', 'delete', `Collection${scoped}${kind}`, 'deletecollection', gvk, `delete collection of ${kind}`, [...scopeParams, P.pretty, ...deleteCollectionParams], {
      requestBody: { content: { '*/*': { schema: schemaRef(DeleteOptionsDefinition) } } },
      responses: responses([[200, 'OK']], mediaTypes, StatusDefinition),
    });
  }
  if (verbs.has('get')) {
    rs.add(item, 'get', 'read', `${scoped}${kind}`, 'get', gvk, `read the specified ${kind}`, [...itemParams, P.pretty], {
      responses: responses([[200, 'OK']], mediaTypes, kindDef),
    });
  }
  if (verbs.has('update')) {
    rs.add(item, 'put', 'replace', `${scoped}${kind}`, 'put', gvk, `replace the specified ${kind}`, [...itemParams, P.pretty, ...writeParams], {
      requestBody: { content: { '*/*': { schema: schemaRef(kindDef) } }, required: true },
      responses: responses([[200, 'OK'], [201, 'Created']], mediaTypes, kindDef),
    });
  }
  if (verbs.has('patch')) {
    rs.add(item, 'patch', 'patch', `${scoped}${kind}`, 'patch', gvk, `partially update the specified ${kind}`, [...itemParams, P.pretty, ...patchParams], {
      requestBody: { content: content(patchTypesOf(def), PatchDefinition), required: true },
      responses: responses([[200, 'OK'], [201, 'Created']], mediaTypes, kindDef),
    });
  }
  if (verbs.has('delete')) {
    const returned = returnsDeletedObject(def) ? kindDef : StatusDefinition;
    rs.add(item, 'delete', 'delete', `${scoped}${kind}`, 'delete', gvk, `delete${article(kind)}${kind}`, [...itemParams, P.pretty, ...deleteParams], {
      requestBody: { content: { '*/*': { schema: schemaRef(DeleteOptionsDefinition) } } },
      responses: responses([[200, 'OK'], [202, 'Accepted']], mediaTypes, returned),
    });
  }
  if (watch) {
    const wbody = { responses: responses([[200, 'OK']], [...mediaTypes, ...streamMediaTypes], WatchEventDefinition) };
    const wroot = ns ? `${root}/watch/namespaces/{namespace}/${def.plural}` : `${root}/watch/${def.plural}`;
    const wParams = [P.pretty, ...listParams];
    if (verbs.has('get')) {
      rs.add(
        `${wroot}/{name}`,
        'get',
        'watch',
        `${scoped}${kind}`,
        'watch',
        gvk,
        `watch changes to an object of kind ${kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        [...itemParams, ...wParams],
        wbody,
      );
    }
    if (list) {
      const doc = `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`;
      rs.add(wroot, 'get', 'watch', `${scoped}${kind}List`, 'watchlist', gvk, doc, [...scopeParams, ...wParams], wbody);
      if (ns) rs.add(`${root}/watch/${def.plural}`, 'get', 'watch', `${kind}ListForAllNamespaces`, 'watchlist', gvk, doc, wParams, wbody);
    }
  }

  const sub = (name: 'status' | 'scale', subGVK: GVK, subDef: string) => {
    const path = `${item}/${name}`;
    const word = capitalize(name);
    rs.add(path, 'get', 'read', `${scoped}${kind}${word}`, 'get', subGVK, `read ${name} of the specified ${kind}`, [...itemParams, P.pretty], {
      responses: responses([[200, 'OK']], mediaTypes, subDef),
    });
    rs.add(path, 'put', 'replace', `${scoped}${kind}${word}`, 'put', subGVK, `replace ${name} of the specified ${kind}`, [...itemParams, P.pretty, ...writeParams], {
      requestBody: { content: { '*/*': { schema: schemaRef(subDef) } }, required: true },
      responses: responses([[200, 'OK'], [201, 'Created']], mediaTypes, subDef),
    });
    rs.add(path, 'patch', 'patch', `${scoped}${kind}${word}`, 'patch', subGVK, `partially update ${name} of the specified ${kind}`, [...itemParams, P.pretty, ...patchParams], {
      // /status has the kind's own patch types; /scale is the built-in Scale type.
      requestBody: { content: content(name === 'status' ? patchTypesOf(def) : patchMediaTypes, PatchDefinition), required: true },
      responses: responses([[200, 'OK'], [201, 'Created']], mediaTypes, subDef),
    });
  };
  if (def.subresources?.status) sub('status', gvk, kindDef);
  if (def.subresources?.scale) sub('scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }, definitionName('V1Scale', 'autoscaling'));
}

const paramKey = (p: Parameter) => `${String(p.name)}\u0000${String(p.in)}`;

function sortParams(ps: Parameter[]): Parameter[] {
  return [...ps].sort((a, b) => {
    const ka = paramKey(a);
    const kb = paramKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/**
 * assemblePaths groups routes by path as kube-openapi does: parameters every operation of a path
 * shares move to the path item, the rest stay on each operation, both sorted by name.
 */
function assemblePaths(routes: Route[]): Record<string, Record<string, unknown>> {
  const byPath = new Map<string, Route[]>();
  for (const r of routes) {
    const list = byPath.get(r.path) ?? [];
    list.push(r);
    byPath.set(r.path, list);
  }
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, rs] of byPath) {
    const common = rs[0].params.filter((p) => rs.every((r) => r.params.some((q) => paramKey(q) === paramKey(p))));
    const commonKeys = new Set(common.map(paramKey));
    const item: Record<string, unknown> = {};
    if (common.length) item.parameters = sortParams(common);
    for (const r of rs) {
      const own = r.params.filter((p) => !commonKeys.has(paramKey(p)));
      item[r.method] = own.length ? { ...r.operation, parameters: sortParams(own) } : r.operation;
    }
    paths[path] = item;
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Documents

/** servedGroupVersions lists the group/versions of the definitions, core first, in first-seen order. */
export function servedGroupVersions(defs: readonly ServedResource[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const d of defs) seen.set(`${d.group}/${d.version}`, seen.get(`${d.group}/${d.version}`) ?? { group: d.group, version: d.version });
  return [...seen.values()].sort((a, b) => Number(a.group !== '') - Number(b.group !== ''));
}

function metaKindGVKs(defs: readonly ServedResource[], kind: string): GVK[] {
  const gvs = servedGroupVersions(defs);
  const out: GVK[] = [{ group: '', version: 'v1', kind }];
  for (const gv of gvs) if (gv.group) out.push({ group: gv.group, version: gv.version, kind });
  return out.sort((a, b) => (a.group === b.group ? (a.version < b.version ? -1 : 1) : a.group < b.group ? -1 : 1));
}

/** kindSchemas adds the schemas of one definition and returns the definition names of its kind and list. */
function kindSchemas(schemas: Record<string, Schema>, def: ServedResource, descriptions: boolean): { kindDef: string; listDef: string } {
  const model = modelOf(def);
  if (model) {
    const kindDef = addSchemasFor(schemas, model, { group: def.group, descriptions });
    const listModel = listModelOf(def, model);
    const listDef = listModel ? addSchemasFor(schemas, listModel, { group: def.group, descriptions }) : `${kindDef}List`;
    if (!schemas[listDef]) schemas[listDef] = genericList(kindDef, { group: def.group, version: def.version, kind: listKindOf(def) }, schemas, descriptions);
    return { kindDef, listDef };
  }
  // No model (a custom resource): its declared schema, or an object that keeps every field.
  const kindDef = customDefinitionName(def.group, def.version, def.kind);
  const own = def.schema ? { ...def.schema } : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  addSchemasFor(schemas, 'V1ObjectMeta', { descriptions });
  schemas[kindDef] = { ...own, 'x-kubernetes-group-version-kind': [{ group: def.group, kind: def.kind, version: def.version }] };
  const listDef = customDefinitionName(def.group, def.version, listKindOf(def));
  schemas[listDef] = genericList(kindDef, { group: def.group, version: def.version, kind: listKindOf(def) }, schemas, descriptions);
  return { kindDef, listDef };
}

function genericList(itemDef: string, gvk: GVK, schemas: Record<string, Schema>, descriptions: boolean): Schema {
  const listMeta = addSchemasFor(schemas, 'V1ListMeta', { descriptions });
  return {
    properties: {
      apiVersion: { type: 'string' },
      items: { items: { allOf: [schemaRef(itemDef)], default: {} }, type: 'array' },
      kind: { type: 'string' },
      metadata: { allOf: [schemaRef(listMeta)], default: {} },
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: gvk.group, kind: gvk.kind, version: gvk.version }],
  };
}

/** securitySchemes is what kube-apiserver declares for bearer tokens. */
const securitySchemes = { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } };

/**
 * openAPIV3Document builds the document of one group/version (`v1`, `apps/v1`) from all served
 * definitions (the others contribute the group/versions listed on DeleteOptions and WatchEvent),
 * or returns undefined when nothing is served there.
 */
export function openAPIV3Document(groupVersion: string, defs: readonly ServedResource[], opts: DocumentOptions = {}): OpenAPIDocument | undefined {
  const { group, version } = parseGroupVersion(groupVersion);
  const mine = defs.filter((d) => d.group === group && d.version === version);
  if (!mine.length) return undefined;
  const descriptions = opts.descriptions ?? true;
  const { infix, tag } = groupVersionWords(group, version);
  const root = `/${gvPath(group, version)}`;
  const schemas: Record<string, Schema> = {};
  const rs = new RouteSet(infix, tag);

  rs.add(`${root}/`, 'get', 'get', 'APIResources', '', undefined, 'get available resources', [], {
    responses: responses([[200, 'OK']], mediaTypes, APIResourceListDefinition),
  });
  for (const def of mine) {
    const { kindDef, listDef } = kindSchemas(schemas, def, descriptions);
    if (def.subresources?.scale) addSchemasFor(schemas, 'V1Scale', { group: 'autoscaling', descriptions });
    routesFor(rs, def, kindDef, listDef, root);
  }
  for (const model of ['V1Status', 'V1DeleteOptions', 'V1WatchEvent', 'V1APIResourceList']) addSchemasFor(schemas, model, { descriptions });
  schemas[PatchDefinition] = apimachinerySchemaFor(PatchDefinition);
  for (const [def, kind] of [
    [DeleteOptionsDefinition, 'DeleteOptions'],
    [WatchEventDefinition, 'WatchEvent'],
  ] as const) {
    schemas[def] = { ...schemas[def], 'x-kubernetes-group-version-kind': metaKindGVKs(defs, kind) };
  }

  return {
    components: { schemas, securitySchemes },
    info: opts.info ?? defaultInfo,
    openapi: '3.0.0',
    paths: assemblePaths(rs.routes),
  };
}

/** openAPIV3RootDocument is the document of `/api/` (`api`) or `/apis/` (`apis`). */
export function openAPIV3RootDocument(which: 'api' | 'apis', opts: DocumentOptions = {}): OpenAPIDocument {
  const descriptions = opts.descriptions ?? true;
  const schemas: Record<string, Schema> = {};
  let path: string;
  let op: Operation;
  if (which === 'api') {
    const def = addSchemasFor(schemas, 'V1APIVersions', { descriptions });
    // kube-apiserver names this one `core.v1.APIVersions` in the /api document.
    schemas['core.v1.APIVersions'] = schemas[def];
    delete schemas[def];
    path = '/api/';
    op = {
      description: 'get available API versions',
      operationId: 'getCoreAPIVersions',
      responses: responses([[200, 'OK']], mediaTypes, 'core.v1.APIVersions'),
      tags: ['core'],
    };
  } else {
    addSchemasFor(schemas, 'V1APIGroupList', { descriptions });
    path = '/apis/';
    op = {
      description: 'get available API versions',
      operationId: 'getAPIVersions',
      responses: responses([[200, 'OK']], mediaTypes, `${metaV1}.APIGroupList`),
      tags: ['apis'],
    };
  }
  return { components: { schemas, securitySchemes }, info: opts.info ?? defaultInfo, openapi: '3.0.0', paths: { [path]: { get: op } } };
}

/** openAPIV3GroupDocument is the document of `/apis/<group>/` (`apis/<group>`). */
export function openAPIV3GroupDocument(group: string, opts: DocumentOptions = {}): OpenAPIDocument {
  const descriptions = opts.descriptions ?? true;
  const schemas: Record<string, Schema> = {};
  const def = addSchemasFor(schemas, 'V1APIGroup', { descriptions });
  // kube-apiserver names this one `core.v1.APIGroup` in the group documents.
  schemas['core.v1.APIGroup'] = schemas[def];
  delete schemas[def];
  const { infix } = groupVersionWords(group, '');
  const op: Operation = {
    description: 'get information of a group',
    operationId: `get${infix}APIGroup`,
    responses: responses([[200, 'OK']], mediaTypes, 'core.v1.APIGroup'),
    tags: [toValidOperationID(group.replace(/\.k8s\.io$/, ''), false)],
  };
  return { components: { schemas, securitySchemes }, info: opts.info ?? defaultInfo, openapi: '3.0.0', paths: { [`/apis/${group}/`]: { get: op } } };
}

/** documentPaths lists every path the index advertises for the definitions: `api`, `api/v1`, `apis`, `apis/apps`, `apis/apps/v1`, … */
export function documentPaths(defs: readonly ServedResource[]): string[] {
  const out = ['api', 'apis'];
  for (const gv of servedGroupVersions(defs)) {
    if (gv.group && !out.includes(`apis/${gv.group}`)) out.push(`apis/${gv.group}`);
    out.push(gvPath(gv.group, gv.version));
  }
  return out;
}

/** openAPIV3DocumentAt builds the document served at an index path, or undefined if there is none. */
export function openAPIV3DocumentAt(path: string, defs: readonly ServedResource[], opts: DocumentOptions = {}): OpenAPIDocument | undefined {
  if (path === 'api' || path === 'apis') return openAPIV3RootDocument(path, opts);
  const parts = path.split('/');
  if (parts[0] === 'api' && parts.length === 2) return openAPIV3Document(parts[1], defs, opts);
  if (parts[0] !== 'apis') return undefined;
  if (parts.length === 2) return defs.some((d) => d.group === parts[1]) ? openAPIV3GroupDocument(parts[1], opts) : undefined;
  if (parts.length === 3) return openAPIV3Document(`${parts[1]}/${parts[2]}`, defs, opts);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Serialization and hashing

/** serializeDocument writes a document as JSON with every object's keys sorted, so equal documents are equal bytes. */
export function serializeDocument(doc: unknown): string {
  // A CRD schema's default, enum or example may hold an int64 beyond 2^53 (a BigInt), which only
  // stringifyJSON writes; so the keys are sorted first rather than in a JSON.stringify replacer.
  return stringifyJSON(sortedKeys(doc));
}

/** sortedKeys copies a JSON value with every object's keys in sorted order. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (!v || typeof v !== 'object') return v;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) setOwn(sorted, k, sortedKeys((v as Record<string, unknown>)[k]));
  return sorted;
}

/** documentHash is kube-openapi's ETag of a document: the upper-case hex SHA-512 of its bytes. */
export function documentHash(body: string | Buffer): string {
  return createHash('sha512').update(body).digest('hex').toUpperCase();
}

/** serverRelativeURL is the index's URL of a document: `/openapi/v3/apis/apps/v1?hash=…`. */
export function serverRelativeURL(path: string, hash: string): string {
  return `/openapi/v3/${path}?hash=${encodeURIComponent(hash)}`;
}

/** OpenAPIV3Index is the /openapi/v3 discovery document. */
export interface OpenAPIV3Index {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** openAPIV3Index builds the /openapi/v3 discovery document, with each document's hash from `hashOf`. */
export function openAPIV3Index(defs: readonly ServedResource[], hashOf: (path: string) => string): OpenAPIV3Index {
  const paths: OpenAPIV3Index['paths'] = {};
  for (const p of documentPaths(defs)) paths[p] = { serverRelativeURL: serverRelativeURL(p, hashOf(p)) };
  return { paths };
}

// ---------------------------------------------------------------------------------------------
// Serving

/** SerializedDocument is a document's bytes and their hash (its ETag, unquoted). */
export interface SerializedDocument {
  body: string;
  etag: string;
}

/**
 * OpenAPIV3Service serves the documents of a changing set of definitions: each document is built
 * on first request and kept until the set changes (a CRD added or removed).
 */
export class OpenAPIV3Service {
  private fingerprint = '';
  private cache = new Map<string, SerializedDocument | null>();

  constructor(
    private readonly definitions: () => readonly ServedResource[],
    private readonly opts: DocumentOptions = {},
  ) {}

  private defs(): readonly ServedResource[] {
    const defs = this.definitions();
    const fp = stringifyJSON(
      defs.map((d) => [d.group, d.version, d.kind, d.plural, d.namespaced, d.verbs ?? null, !!d.subresources?.status, !!d.subresources?.scale, d.model ?? null, d.schema ?? null]),
    );
    if (fp !== this.fingerprint) {
      this.fingerprint = fp;
      this.cache = new Map();
    }
    return defs;
  }

  /** document returns the serialized document at an index path (`apis/apps/v1`), or undefined. */
  document(path: string): SerializedDocument | undefined {
    const defs = this.defs();
    const p = path.replace(/^\/+|\/+$/g, '');
    let doc = this.cache.get(p);
    if (doc === undefined) {
      const built = openAPIV3DocumentAt(p, defs, this.opts);
      doc = built ? { body: serializeDocument(built), etag: '' } : null;
      if (doc) doc.etag = documentHash(doc.body);
      this.cache.set(p, doc);
    }
    return doc ?? undefined;
  }

  /** index returns the /openapi/v3 discovery document. */
  index(): OpenAPIV3Index {
    const defs = this.defs();
    return openAPIV3Index(defs, (p) => this.document(p)?.etag ?? '');
  }
}

/** OpenAPIV3Response is what to answer for GET /openapi/v3/<path>. */
export interface OpenAPIV3Response {
  status: 200 | 301 | 304 | 404 | 406;
  headers: Record<string, string>;
  body?: string;
}

/**
 * openAPIV3Response answers a request for a document as kube-openapi's handler3 does: 404 for an
 * unknown path; 406 unless JSON is acceptable; with `?hash=` equal to the current hash the
 * response may be cached for a year (`Cache-Control: public, immutable`), with a stale hash a 301
 * to the current URL; an `If-None-Match` of the current ETag gives 304.
 */
export function openAPIV3Response(
  service: Pick<OpenAPIV3Service, 'document'>,
  path: string,
  searchParams: URLSearchParams,
  headers: { accept?: string; ifNoneMatch?: string } = {},
  now = new Date(),
): OpenAPIV3Response {
  const p = path.replace(/^\/+|\/+$/g, '');
  const doc = service.document(p);
  if (!doc) return { status: 404, headers: {} };
  const accept = headers.accept || '*/*';
  const acceptsJSON = accept.split(',').some((c) => {
    const t = c.split(';')[0].trim().toLowerCase();
    return t === '*/*' || t === 'application/*' || t === 'application/json';
  });
  if (!acceptsJSON) return { status: 406, headers: { Vary: 'Accept' } };
  const etag = `"${doc.etag}"`;
  const out: Record<string, string> = { Vary: 'Accept', 'Content-Type': 'application/json', Etag: etag };
  const hash = searchParams.get('hash');
  if (hash) {
    if (hash !== doc.etag) return { status: 301, headers: { Vary: 'Accept', Location: serverRelativeURL(p, doc.etag) } };
    out['Cache-Control'] = 'public, immutable';
    const expires = new Date(now);
    expires.setUTCFullYear(expires.getUTCFullYear() + 1);
    out.Expires = expires.toUTCString();
  }
  if (headers.ifNoneMatch && headers.ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return { status: 304, headers: out };
  return { status: 200, headers: out, body: doc.body };
}
