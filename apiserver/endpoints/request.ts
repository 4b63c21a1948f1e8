// Request plumbing shared by every route: RequestInfo (k8s.io/apiserver endpoints/request), body
// reading with the 3 MiB limit, decoding JSON/YAML/protobuf, and Accept negotiation.

import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { badRequest, requestEntityTooLarge, StatusError, StatusReason } from '../../lib/machinery/status.js';

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

/** parseRequestInfo maps a URL path and method to the request's attributes. */
export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const info: RequestInfo = { isResourceRequest: false, path: pathname, verb: method.toLowerCase(), apiPrefix: 'api', group: '', version: '', rest: [] };
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
  const isWatch = watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
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
  return Buffer.concat(chunks);
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

export function parseJSON(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function parseYAML(body: Buffer): unknown {
  let docs: YAML.Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(body.toString('utf8'), { uniqueKeys: false });
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
  }
  const first = docs[0];
  if (!first) throw badRequest('the body of the request was empty');
  if (first.errors.length) throw badRequest(`error converting YAML to JSON: ${first.errors[0].message}`);
  return first.toJSON();
}

export interface Negotiated {
  /** as is how objects are rendered: the object itself, a Table, or metadata only. */
  as: 'object' | 'Table' | 'PartialObjectMetadata';
  tableVersion?: 'v1' | 'v1beta1';
}

/** negotiate reads the Accept header the way kubectl and client-go write it. */
export function negotiate(accept: string | undefined): Negotiated {
  if (!accept) return { as: 'object' };
  for (const clause of accept.split(',')) {
    const [media, ...params] = clause.split(';').map((s) => s.trim());
    const p = new Map(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    const as = p.get('as');
    if (media !== 'application/json' && media !== '*/*' && media !== 'application/*') continue;
    if (as === 'Table' && p.get('g') === 'meta.k8s.io') {
      const v = p.get('v');
      if (v === 'v1' || v === 'v1beta1') return { as: 'Table', tableVersion: v };
      continue;
    }
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && p.get('g') === 'meta.k8s.io') {
      return { as: 'PartialObjectMetadata', tableVersion: p.get('v') === 'v1beta1' ? 'v1beta1' : 'v1' };
    }
    if (!as) return { as: 'object' };
  }
  // Only protobuf, or only forms we do not serve: JSON is what we can answer with, and every
  // client-go client lists it as a fallback.
  return { as: 'object' };
}
