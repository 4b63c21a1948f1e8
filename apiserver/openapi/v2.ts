// /openapi/v2: the Swagger 2.0 document kube-apiserver serves beside the OpenAPI v3 documents,
// read by kubectl's client-side validation (when server-side field validation is not used), by
// kustomize and by the many SDKs and older clients that know only v2. It is built from the v3
// documents' output (every served group/version merged into one document) rather than from the
// schema reflection behind them, so both always describe the same schemas: components/schemas
// become `definitions`, request bodies become `in: body` parameters, content types become
// `consumes`/`produces`, and the shapes v2 has no words for are written as kube-openapi writes
// them (a single-`$ref` `allOf` is the `$ref`; int-or-string and Quantity are strings).

import { createHash } from 'node:crypto';
import type { OpenAPIDocument, OpenAPIV3Index, SerializedDocument } from '../openapi.js';
import { encodeOpenAPIV2, openAPIV2LegacyProtobufType, openAPIV2ProtobufType } from './v2proto.js';
import { parseJSON, stringifyJSON } from '../../lib/machinery/json.js';

type JSONObject = Record<string, unknown>;

const isObject = (v: unknown): v is JSONObject => !!v && typeof v === 'object' && !Array.isArray(v);

/** V3Documents is what the v2 document is built from: the v3 service's index and documents. */
export interface V3Documents {
  index(): OpenAPIV3Index;
  document(path: string): SerializedDocument | undefined;
}

const v3Ref = '#/components/schemas/';
const v2Ref = '#/definitions/';

/**
 * toV2Schema rewrites one v3 schema as a Swagger 2.0 schema: references point at definitions, an
 * `allOf` of one reference becomes that reference (kube-openapi's v2 keeps the description beside
 * it), and what v2 lacks (`nullable`, `oneOf`, `anyOf`, `not`) is dropped; IntOrString and
 * Quantity are strings, as kube-openapi declares them in v2. Where kubectl's validation would
 * refuse what the server accepts, the schema says less, as apiextensions-apiserver's
 * ToStructuralOpenAPIV2 does for CRDs: a nullable value has no type, items or properties (kubectl
 * knows no null), a nullable property is not required, and an object that keeps unknown fields
 * lists no properties (kubectl would call every other field unknown).
 */
export function toV2Schema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV2Schema);
  if (!isObject(s)) return s;
  const out: JSONObject = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.startsWith(v3Ref) ? v2Ref + v.slice(v3Ref.length) : v;
    else if (k === 'nullable' || k === 'oneOf' || k === 'anyOf' || k === 'not') continue;
    else if (k === 'properties' || k === 'patternProperties' || k === 'definitions') out[k] = mapValues(v as JSONObject, toV2Schema);
    else if (k === 'items' || k === 'additionalProperties' || k === 'allOf') out[k] = toV2Schema(v);
    else out[k] = v; // scalars, `required`, `enum`, `default`, `example`, `x-` extensions: values, not schemas
  }
  const allOf = out.allOf as JSONObject[] | undefined;
  if (allOf?.length === 1 && typeof allOf[0].$ref === 'string' && Object.keys(allOf[0]).length === 1) {
    delete out.allOf;
    delete out.default; // a default of a referenced object ({}) has no v2 form beside $ref
    out.$ref = allOf[0].$ref;
  }
  if (out.type === undefined) {
    // The built-in Quantity and IntOrString (a oneOf of a string and a number); a CRD's
    // x-kubernetes-int-or-string stays untyped, as kube-apiserver leaves it.
    const alternatives = (s.oneOf as JSONObject[] | undefined)?.map((a) => a.type);
    if (out.format === 'int-or-string' || (alternatives?.includes('string') && s['x-kubernetes-int-or-string'] !== true)) out.type = 'string';
  }
  if (s.nullable === true) {
    delete out.type;
    delete out.items;
    delete out.properties;
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.items;
    delete out.properties;
  }
  if (Array.isArray(out.required) && isObject(s.properties)) {
    const props = s.properties;
    out.required = out.required.filter((f) => !(isObject(props[f as string]) && (props[f as string] as JSONObject).nullable === true));
    if (!(out.required as unknown[]).length) delete out.required;
  }
  // kubectl's model parser rejects an array without items; an array of anything is no type at all.
  if (out.type === 'array' && !isObject(out.items)) delete out.type;
  return out;
}

function mapValues(o: JSONObject, f: (v: unknown) => unknown): JSONObject {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** toV2Parameter rewrites a v3 path, query or header parameter: its schema's type moves onto it. */
function toV2Parameter(p: JSONObject): JSONObject {
  const { schema, ...rest } = p;
  return { ...rest, ...(isObject(schema) ? (toV2Schema(schema) as JSONObject) : {}) };
}

/** toV2Operation rewrites one v3 operation. */
function toV2Operation(op: JSONObject): JSONObject {
  const { requestBody, responses, parameters, ...rest } = op;
  const out: JSONObject = {};
  const params = ((parameters as JSONObject[] | undefined) ?? []).map(toV2Parameter);
  const consumes: string[] = [];
  if (isObject(requestBody)) {
    const content = (requestBody.content ?? {}) as Record<string, { schema?: unknown }>;
    consumes.push(...Object.keys(content));
    const first = Object.values(content)[0];
    const body: JSONObject = { in: 'body', name: 'body', required: requestBody.required === true, schema: toV2Schema(first?.schema ?? {}) };
    if (!body.required) delete body.required;
    params.unshift(body);
  }
  const produces: string[] = [];
  const v2Responses: JSONObject = {};
  for (const [code, r] of Object.entries((responses ?? {}) as Record<string, JSONObject>)) {
    const content = (r.content ?? {}) as Record<string, { schema?: unknown }>;
    for (const t of Object.keys(content)) if (!produces.includes(t)) produces.push(t);
    const first = Object.values(content)[0];
    v2Responses[code] = first?.schema ? { description: r.description, schema: toV2Schema(first.schema) } : { description: r.description };
  }
  if (consumes.length) out.consumes = consumes;
  Object.assign(out, rest);
  if (params.length) out.parameters = params;
  if (produces.length) out.produces = produces;
  out.responses = v2Responses;
  out.schemes = ['https'];
  return out;
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

/** toV2PathItem rewrites a v3 path item. */
function toV2PathItem(item: JSONObject): JSONObject {
  const out: JSONObject = {};
  for (const [k, v] of Object.entries(item)) {
    if (methods.includes(k)) out[k] = toV2Operation(v as JSONObject);
    else if (k === 'parameters') out.parameters = (v as JSONObject[]).map(toV2Parameter);
    else if (k.startsWith('x-')) out[k] = v;
  }
  return out;
}

/** securityDefinitions are kube-apiserver's: a bearer token in the authorization header. */
const securityDefinitions = { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } };

/**
 * openAPIV2Document merges v3 documents (in the order given) into the one Swagger 2.0 document,
 * paths and definitions sorted by name as kube-openapi writes them.
 */
export function openAPIV2Document(v3docs: readonly OpenAPIDocument[], info: { title: string; version: string } = { title: 'Kubernetes', version: 'unversioned' }): JSONObject {
  const paths: JSONObject = {};
  const definitions: JSONObject = {};
  for (const doc of v3docs) {
    for (const [p, item] of Object.entries((doc.paths ?? {}) as Record<string, JSONObject>)) paths[p] = toV2PathItem(item);
    const schemas = ((doc.components as JSONObject | undefined)?.schemas ?? {}) as JSONObject;
    for (const [name, s] of Object.entries(schemas)) definitions[name] = toV2Schema(s);
  }
  const sorted = (o: JSONObject) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  return {
    definitions: sorted(definitions),
    info,
    paths: sorted(paths),
    security: [{ BearerToken: [] }],
    securityDefinitions,
    swagger: '2.0',
  };
}

/** V2Representation is one encoding of the document: its bytes, ETag (unquoted) and build time. */
interface V2Representation {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

/** etagOf is kube-openapi's ETag: the upper-case hex SHA-512 of the bytes. */
function etagOf(body: Buffer): string {
  return createHash('sha512').update(body).digest('hex').toUpperCase();
}

/**
 * OpenAPIV2Service serves /openapi/v2 from the v3 documents: the document is rebuilt when any v3
 * document's hash changes (a CRD added, changed or removed), and each encoding is made on first
 * request and kept until then.
 */
export class OpenAPIV2Service {
  private key = '';
  private doc: JSONObject | undefined;
  private json: V2Representation | undefined;
  private proto: V2Representation | undefined;
  private built = new Date(0);

  /** info is the document's; kube-apiserver names its version there (`v1.32.0`), unlike in v3. */
  constructor(
    private readonly v3: V3Documents,
    private readonly info?: { title: string; version: string },
  ) {}

  /** document is the current Swagger 2.0 document. */
  document(): JSONObject {
    const index = this.v3.index();
    const key = Object.entries(index.paths)
      .map(([p, e]) => `${p} ${e.serverRelativeURL}`)
      .join('\n');
    if (key !== this.key || !this.doc) {
      const docs = Object.keys(index.paths).flatMap((p) => {
        const d = this.v3.document(p);
        return d ? [parseJSON(d.body) as OpenAPIDocument] : [];
      });
      this.doc = openAPIV2Document(docs, this.info);
      this.key = key;
      this.json = this.proto = undefined;
      // Last-Modified never goes backwards, even when two builds fall in one second.
      this.built = new Date(Math.max(Date.now(), this.built.getTime() + 1000));
    }
    return this.doc;
  }

  /** representation returns the document as JSON or as gnostic's protobuf. */
  representation(kind: 'json' | 'protobuf'): V2Representation {
    const doc = this.document();
    if (kind === 'json') {
      this.json ??= this.make(Buffer.from(stringifyJSON(doc)));
      return this.json;
    }
    this.proto ??= this.make(encodeOpenAPIV2(doc));
    return this.proto;
  }

  private make(body: Buffer): V2Representation {
    return { body, etag: etagOf(body), lastModified: this.built };
  }
}

/** OpenAPIV2Response is what to answer for GET /openapi/v2. */
export interface OpenAPIV2Response {
  status: 200 | 304 | 406;
  headers: Record<string, string>;
  body?: Buffer;
}

/** offered are the media types /openapi/v2 answers with, in kube-openapi's order of preference. */
// Both protobuf types are answered with the dotted one: Go's mime parser, which client-go runs
// every response's Content-Type through, rejects the `@`.
const offered: { type: string; kind: 'json' | 'protobuf'; contentType: string }[] = [
  { type: 'application/json', kind: 'json', contentType: 'application/json' },
  { type: openAPIV2ProtobufType, kind: 'protobuf', contentType: openAPIV2LegacyProtobufType },
  { type: openAPIV2LegacyProtobufType, kind: 'protobuf', contentType: openAPIV2LegacyProtobufType },
];

/** acceptClauses parses an Accept header, best first: by q, then more specific before wildcards (goautoneg's order). */
function acceptClauses(accept: string): { type: string; sub: string }[] {
  return accept
    .split(',')
    .map((c, i) => {
      const [range, ...params] = c.split(';').map((s) => s.trim());
      const q = params.map((p) => /^q=([0-9.]+)$/i.exec(p)).find(Boolean);
      const [type = '', sub = ''] = range.toLowerCase().split('/');
      const specificity = type === '*' ? 0 : sub === '*' ? 1 : 2;
      return { type, sub, q: q ? Number(q[1]) : 1, specificity, i };
    })
    .filter((c) => c.type && c.q > 0)
    .sort((a, b) => b.q - a.q || b.specificity - a.specificity || a.i - b.i);
}

/**
 * openAPIV2Response answers GET /openapi/v2 as kube-openapi's handler does: the first acceptable
 * encoding of JSON, the protobuf document or its legacy media type, each with its own ETag;
 * 304 when If-None-Match names it (or If-Modified-Since is not older than it); 406 when nothing
 * offered is acceptable. `Vary: Accept` always.
 */
export function openAPIV2Response(service: Pick<OpenAPIV2Service, 'representation'>, headers: { accept?: string; ifNoneMatch?: string; ifModifiedSince?: string } = {}): OpenAPIV2Response {
  for (const clause of acceptClauses(headers.accept || '*/*')) {
    const match = offered.find((o) => {
      const [type, sub] = o.type.split('/');
      return (clause.type === '*' || clause.type === type) && (clause.sub === '*' || clause.sub === sub);
    });
    if (!match) continue;
    const rep = service.representation(match.kind);
    const etag = `"${rep.etag}"`;
    const out: Record<string, string> = { Vary: 'Accept', 'Content-Type': match.contentType, Etag: etag, 'Last-Modified': rep.lastModified.toUTCString() };
    if (headers.ifNoneMatch !== undefined) {
      if (headers.ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return { status: 304, headers: out };
    } else if (headers.ifModifiedSince) {
      const since = Date.parse(headers.ifModifiedSince);
      if (!Number.isNaN(since) && Math.floor(rep.lastModified.getTime() / 1000) * 1000 <= since) return { status: 304, headers: out };
    }
    return { status: 200, headers: out, body: rep.body };
  }
  return { status: 406, headers: { Vary: 'Accept' } };
}
