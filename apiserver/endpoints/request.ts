// Request plumbing shared by every route: RequestInfo (k8s.io/apiserver endpoints/request), body
// reading with the 3 MiB limit, decoding JSON/YAML/protobuf, and Accept negotiation.

import { goJSONSyntaxError } from '../../lib/machinery/gojson.js';
import { mayHoldUnsafeInteger, parseJSON as parseLosslessJSON, safeIntegersToNumbers } from '../../lib/machinery/json.js';
import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { badRequest, notAcceptable, requestEntityTooLarge, StatusError, StatusReason } from '../../lib/machinery/status.js';
import { isValidPathSegmentName, type RequestPath } from './path.js';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: 'api' | 'apis';
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  /** parts beyond the subresource (e.g. proxy paths). */
  rest: string[];
}

const namespaceSubresources = new Set(['status', 'finalize']);

/**
 * parseRequestInfo maps a method and a decoded path to the request's attributes, as
 * k8s.io/apiserver's RequestInfoFactory does. It never throws: a path that names nothing is a
 * request info that is not a resource request.
 */
export function parseRequestInfo(method: string, path: RequestPath): RequestInfo {
  const parts = path.segments;
  const query = path.query;
  const info: RequestInfo = { isResourceRequest: false, path: path.pathname, verb: method.toLowerCase(), apiPrefix: 'api', group: '', version: '', rest: [] };
  if (parts[0] !== 'api' && parts[0] !== 'apis') return info;
  info.apiPrefix = parts[0];
  let cur: string[];
  if (parts[0] === 'api') {
    if (parts.length < 2) return info;
    info.version = parts[1];
    cur = parts.slice(2);
  } else {
    if (parts.length < 3) return info;
    info.group = parts[1];
    info.version = parts[2];
    cur = parts.slice(3);
  }
  if (cur.length === 0) return info;
  info.isResourceRequest = true;
  let watchPrefix = false;
  if (cur[0] === 'watch') {
    watchPrefix = true;
    cur = cur.slice(1);
  }
  if (cur[0] === 'namespaces' && cur.length > 1) {
    info.namespace = cur[1];
    if (cur.length > 2 && !namespaceSubresources.has(cur[2])) cur = cur.slice(2);
  }
  info.resource = cur[0];
  if (cur.length >= 2) info.name = cur[1];
  if (cur.length >= 3) info.subresource = cur[2];
  if (cur.length > 3) info.rest = cur.slice(3);
  // /api/v1/namespaces/{name} names a namespace, not a namespace scope.
  if (info.resource === 'namespaces') info.namespace = undefined;

  const m = method.toUpperCase();
  // The parameter codec's boolean: any value but false/0 is true (the Python client sends watch=True).
  const isWatch = watchPrefix || codecBool(query.get('watch')) === true;
  switch (m) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? (isWatch ? 'watch' : 'get') : isWatch ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = m.toLowerCase();
  }
  return info;
}

/**
 * codecBool reads a boolean query parameter as apimachinery's parameter codec does: absent is
 * undefined, `false` and `0` (any case) are false, anything else (`True`, `1`, ``) is true.
 */
export function codecBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  const l = v.toLowerCase();
  return !(l === 'false' || l === '0');
}

/**
 * checkPathNames refuses a request whose namespace or name could not be one segment of an
 * object's path (`.`, `..`, containing `/` or `%`), as the generic store's key functions do:
 * with it nothing acts on a parent resource by way of a dot segment.
 */
export function checkPathNames(info: RequestInfo): void {
  if (!info.isResourceRequest) return;
  const check = (what: string, value: string | undefined) => {
    if (value === undefined) return;
    const msgs = isValidPathSegmentName(value);
    if (msgs.length) throw badRequest(`${what} parameter invalid: ${JSON.stringify(value)}: ${msgs.join(';')}`);
  };
  check('Namespace', info.namespace);
  check('Name', info.name);
  for (const seg of [info.resource, info.subresource, ...info.rest]) {
    if (seg === '.' || seg === '..') throw badRequest(`invalid path segment ${JSON.stringify(seg)}`);
  }
}

export const maxRequestBodyBytes = 3 * 1024 * 1024;

/** readBody buffers the request body, refusing more than 3 MiB as kube-apiserver does. */
export async function readBody(req: IncomingMessage, limit = maxRequestBodyBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1);
  if (declared > limit) {
    req.resume();
    throw requestEntityTooLarge(`limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw requestEntityTooLarge(`limit is ${limit}`);
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  bodies.set(req, body);
  return body;
}

// Each request's body once read, for the audit log's requestObject (kept only as long as the request).
const bodies = new WeakMap<IncomingMessage, Buffer>();

/** requestBodyOf is the body readBody read for req, if it did. */
export function requestBodyOf(req: IncomingMessage): Buffer | undefined {
  return bodies.get(req);
}

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export type ProtobufDecoder = (body: Buffer) => Record<string, unknown>;

/** decodeBody turns a JSON, YAML or Kubernetes-protobuf body into an object. */
export function decodeBody(body: Buffer, contentType: string | undefined, protobuf?: ProtobufDecoder): unknown {
  const media = mediaTypeOf(contentType);
  if (body.length === 0) throw badRequest('the body of the request was empty');
  switch (media) {
    case '':
    case 'application/json':
      return parseJSON(body);
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return parseYAML(body);
    case 'application/vnd.kubernetes.protobuf':
      if (!protobuf) break;
      return protobuf(body);
  }
  throw new StatusError(415, StatusReason.UnsupportedMediaType, `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
}

/**
 * maxNestingDepth bounds how deep a decoded body may nest. encoding/json allows 10000; every
 * recursive step after decoding (clone, merge, stringify) runs on the JS stack, which ends near
 * 5000 levels, and no Kubernetes object comes near 1000.
 */
export const maxNestingDepth = 1000;

/** exceedsDepth reports whether a decoded value nests deeper than `limit` (iteratively: no stack). */
export function exceedsDepth(value: unknown, limit = maxNestingDepth): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

/** parseJSON parses a JSON body, integers beyond 2^53 exact (BigInts); a syntax error is a 400 worded as Go's encoding/json words it. */
export function parseJSON(body: Buffer, what = "couldn't get version/kind; json parse error"): unknown {
  let out: unknown;
  try {
    out = parseLosslessJSON(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`${what}: ${goJSONSyntaxError(body) ?? (err as Error).message}`);
  }
  if (exceedsDepth(out)) throw badRequest(`${what}: exceeded max depth of ${maxNestingDepth}`);
  return out;
}

/** parseYAML parses a YAML body's first document; integers beyond 2^53 stay exact (BigInts), as in parseJSON. */
export function parseYAML(body: Buffer): unknown {
  const text = body.toString('utf8');
  const bigInts = mayHoldUnsafeInteger(text);
  let docs: YAML.Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(text, { uniqueKeys: false, intAsBigInt: bigInts });
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
  }
  const first = docs[0];
  if (!first) throw badRequest('the body of the request was empty');
  if (first.errors.length) throw badRequest(`error converting YAML to JSON: ${first.errors[0].message}`);
  // Aliases are resolved here: an unknown one, or more than 100 (a "billion laughs"), is the
  // client's error, as are documents too deep to resolve.
  let out: unknown;
  try {
    // JSON mode turns BigInts into numbers; keeping them asks for the plain mode.
    out = first.toJS({ json: !bigInts, maxAliasCount: 100 });
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
  }
  if (bigInts) out = safeIntegersToNumbers(out);
  if (exceedsDepth(out)) throw badRequest(`error converting YAML to JSON: exceeded max depth of ${maxNestingDepth}`);
  return out;
}

export interface Negotiated {
  /** as is how objects are rendered: the object itself, a Table, or metadata only. */
  as: 'object' | 'Table' | 'PartialObjectMetadata';
  tableVersion?: 'v1' | 'v1beta1';
}

/** acceptedMediaTypes are the media types kube-apiserver lists when no Accept clause can be served. */
export const acceptedMediaTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/**
 * negotiate reads the Accept header the way kubectl and client-go write it. A kind that cannot be
 * shown as a table (`tables: false`, as a review kind has no TableConvertor in kube-apiserver)
 * skips Table clauses, and when nothing else is accepted the answer is 406 NotAcceptable.
 */
export function negotiate(accept: string | undefined, opts: { tables?: boolean } = {}): Negotiated {
  if (!accept) return { as: 'object' };
  let refusedTable = false;
  let otherClause = false;
  for (const clause of accept.split(',')) {
    const [media, ...params] = clause.split(';').map((s) => s.trim());
    const p = new Map(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    const as = p.get('as');
    if (media !== 'application/json' && media !== '*/*' && media !== 'application/*') {
      otherClause = true;
      continue;
    }
    if (as === 'Table' && p.get('g') === 'meta.k8s.io') {
      if (opts.tables === false) {
        refusedTable = true;
        continue;
      }
      const v = p.get('v');
      if (v === 'v1' || v === 'v1beta1') return { as: 'Table', tableVersion: v };
      continue;
    }
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && p.get('g') === 'meta.k8s.io') {
      return { as: 'PartialObjectMetadata', tableVersion: p.get('v') === 'v1beta1' ? 'v1beta1' : 'v1' };
    }
    if (!as) return { as: 'object' };
  }
  if (refusedTable && !otherClause) throw notAcceptable(`only the following media types are accepted: ${acceptedMediaTypes.join(', ')}`);
  // Only protobuf, or only forms we do not serve: JSON is what we can answer with, and every
  // client-go client lists it as a fallback.
  return { as: 'object' };
}
