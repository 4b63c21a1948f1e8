// Client is the API surface skiff's own processes write through: every verb a controller,
// the scheduler or the node simulator needs, for any resource, subresources included. It is
// an interface so a controller's unit test can hand its reconcile a FakeClient and assert the
// exact actions it took (sample-controller's fixture); RestClient is the real one, speaking
// JSON over HTTPS with the credentials of a kubeconfig (a ClusterAccess: skiff's ClientConfig, or
// client-node's KubeConfig). Integers beyond 2^53 are read and written as BigInts
// (lib/machinery/json.ts), so a controller that copies an int64 field writes back the value it
// read.
//
// Reads in controllers come from informer caches (lib/controller); the Client is for writes
// and for the few live reads a controller must make (a GET to check a uid before adoption).

import https from 'node:https';
import { parseJSON, stringifyJSON } from '../machinery/json.js';
import type { ClusterAccess } from './kubeconfig.js';

/** ResourceType names a served resource the way a REST path does. */
export interface ResourceType {
  /** group is '' for the core group. */
  group: string;
  version: string;
  /** resource is the plural (e.g. `replicasets`). */
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** apiVersionOf is `group/version` (or just `version` for the core group). */
export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** resourcePath is the REST path of a collection (name omitted) or an object, with an optional subresource. */
export function resourcePath(r: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** PatchType is the patch flavour, as kubectl's --type. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** ListOptions are the query parameters of a list. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

/** ObjectList is a list response. */
export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** DeleteOptions are metav1.DeleteOptions. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** DeleteCollectionOptions are metav1.DeleteOptions plus the list selectors of a deletecollection. */
export interface DeleteCollectionOptions extends DeleteOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/** WriteOptions apply to create, update and patch. */
export interface WriteOptions {
  subresource?: string;
  fieldManager?: string;
  force?: boolean;
}

/** Client is every verb skiff's processes use, for any resource. Errors are ApiError. */
export interface Client {
  get<T>(r: ResourceType, namespace: string, name: string, subresource?: string): Promise<T>;
  list<T>(r: ResourceType, namespace?: string, opts?: ListOptions): Promise<ObjectList<T>>;
  /** create POSTs obj to its collection; with opts.subresource (binding, eviction) it POSTs to the object's subresource. */
  create<T, R = T>(r: ResourceType, namespace: string, obj: T, opts?: WriteOptions & { name?: string }): Promise<R>;
  /** update PUTs obj (optimistic concurrency on its resourceVersion); opts.subresource: status, scale, finalize. */
  update<T>(r: ResourceType, obj: T, opts?: WriteOptions): Promise<T>;
  patch<T>(r: ResourceType, namespace: string, name: string, type: PatchType, patch: unknown, opts?: WriteOptions): Promise<T>;
  /** delete answers the object as the server returned it (still there while finalizers or grace run), or undefined. */
  delete<T = unknown>(r: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<T | undefined>;
  /** deleteCollection DELETEs every object of r in namespace ('' for all namespaces, or cluster-scoped) that opts' selectors match. */
  deleteCollection(r: ResourceType, namespace: string, opts?: DeleteCollectionOptions): Promise<void>;
  /** getPath GETs any API path (discovery: `/api`, `/apis`, `/apis/apps/v1`). */
  getPath<T>(path: string): Promise<T>;
}

/** Status is metav1.Status as the apiserver sends it. */
export interface Status {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }>; retryAfterSeconds?: number };
}

/** ApiError is an answer other than 2xx, carrying the apiserver's Status. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(readonly status: Status, options?: { cause?: unknown }) {
    super(status.message ?? `request failed with code ${status.code}`, options);
    this.name = 'ApiError';
    this.code = status.code ?? 0;
    this.reason = status.reason ?? '';
  }
}

/** isNotFound is true for a 404 (the object, or its namespace, is gone). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

/** isConflict is true for a 409 with reason Conflict (stale resourceVersion or failed precondition). */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === 'Conflict';
}

/** isAlreadyExists is true for a 409 with reason AlreadyExists. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

/** isForbidden is true for a 403 (including namespace-terminating rejections). */
export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.code === 403;
}

/** RestClientOptions tune a RestClient. */
export interface RestClientOptions {
  /** userAgent is sent on every request (e.g. `skiff-controller-manager`). */
  userAgent?: string;
  /** maxSockets bounds concurrent connections to the apiserver (default 16). */
  maxSockets?: number;
  /** timeoutMs bounds one request (default 30 s). */
  timeoutMs?: number;
}

/** RestClient is the Client over HTTPS with a kubeconfig's server, CA and credentials. */
export class RestClient implements Client {
  private readonly base: URL;
  private readonly ready: Promise<https.RequestOptions>;
  private readonly opts: RestClientOptions;

  constructor(kc: ClusterAccess, opts: RestClientOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.base = new URL(cluster.server);
    this.opts = opts;
    this.ready = (async () => {
      const o: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      o.agent = new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 16, ca: o.ca, cert: o.cert, key: o.key });
      return o;
    })();
  }

  async get<T>(r: ResourceType, namespace: string, name: string, subresource?: string): Promise<T> {
    return (await this.request('GET', resourcePath(r, namespace, name, subresource))) as T;
  }

  async list<T>(r: ResourceType, namespace?: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.continue) q.set('continue', opts.continue);
    if (opts.resourceVersion !== undefined) q.set('resourceVersion', opts.resourceVersion);
    const qs = q.toString();
    return (await this.request('GET', resourcePath(r, namespace) + (qs ? `?${qs}` : ''))) as ObjectList<T>;
  }

  async create<T, R = T>(r: ResourceType, namespace: string, obj: T, opts: WriteOptions & { name?: string } = {}): Promise<R> {
    const path = opts.subresource ? resourcePath(r, namespace, opts.name, opts.subresource) : resourcePath(r, namespace);
    return (await this.request('POST', path + writeQuery(opts), obj)) as R;
  }

  async update<T>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    const meta = (obj as { metadata?: { name?: string; namespace?: string } }).metadata ?? {};
    return (await this.request('PUT', resourcePath(r, meta.namespace, meta.name, opts.subresource) + writeQuery(opts), obj)) as T;
  }

  async patch<T>(r: ResourceType, namespace: string, name: string, type: PatchType, patch: unknown, opts: WriteOptions = {}): Promise<T> {
    const q = writeQuery(type === 'apply' ? { ...opts, fieldManager: opts.fieldManager ?? this.opts.userAgent ?? 'skiff' } : opts);
    return (await this.request('PATCH', resourcePath(r, namespace, name, opts.subresource) + q, patch, patchContentTypes[type])) as T;
  }

  async delete<T = unknown>(r: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): Promise<T | undefined> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...opts };
    const out = (await this.request('DELETE', resourcePath(r, namespace, name), body)) as { kind?: string } | undefined;
    return out && out.kind !== 'Status' ? (out as T) : undefined;
  }

  async deleteCollection(r: ResourceType, namespace: string, opts: DeleteCollectionOptions = {}): Promise<void> {
    const { labelSelector, fieldSelector, ...options } = opts;
    const q = new URLSearchParams();
    if (labelSelector) q.set('labelSelector', labelSelector);
    if (fieldSelector) q.set('fieldSelector', fieldSelector);
    const qs = q.toString();
    await this.request('DELETE', resourcePath(r, namespace || undefined) + (qs ? `?${qs}` : ''), { apiVersion: 'v1', kind: 'DeleteOptions', ...options });
  }

  async getPath<T>(path: string): Promise<T> {
    return (await this.request('GET', path)) as T;
  }

  /**
   * request sends one API request. An answer the server asks to have retried (429, or a 5xx to a
   * GET, with a Retry-After header) is sent again after that many seconds, at most
   * maxRetries times, as client-go's rest client does; then its error is thrown.
   */
  private async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(stringifyJSON(body));
    for (let attempt = 0; ; attempt++) {
      const answer = await this.send(method, path, payload, contentType);
      if (answer.code >= 200 && answer.code < 300) return answer.parsed;
      const retryable = answer.code === 429 || (method === 'GET' && answer.code >= 500);
      if (retryable && answer.retryAfterSeconds !== undefined && attempt < maxRetries) {
        await new Promise((r) => setTimeout(r, answer.retryAfterSeconds! * 1000));
        continue;
      }
      const parsed = answer.parsed;
      const status: Status =
        parsed && typeof parsed === 'object' && (parsed as Status).kind === 'Status'
          ? (parsed as Status)
          : { code: answer.code, message: answer.text.slice(0, 500) || `${method} ${new URL(path, this.base).pathname}: HTTP ${answer.code}` };
      status.code ??= answer.code;
      throw new ApiError(status);
    }
  }

  /** send makes one HTTPS exchange and returns the code, the body (parsed when JSON) and any Retry-After. */
  private async send(method: string, path: string, payload: Buffer | undefined, contentType: string): Promise<{ code: number; parsed: unknown; text: string; retryAfterSeconds?: number }> {
    const base = await this.ready;
    const url = new URL(path, this.base);
    return await new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(base.headers as Record<string, string> | undefined), accept: 'application/json' };
      if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
      if (payload) {
        headers['content-type'] = contentType;
        headers['content-length'] = String(payload.length);
      }
      const req = https.request(
        { ...base, method, hostname: url.hostname, port: url.port || 443, path: url.pathname + url.search, headers, timeout: this.opts.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              // parseJSON: an int64 beyond 2^53 (a grace period of 2^63-1) must come back digit for digit.
              parsed = text ? parseJSON(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const retryAfter = Number(res.headers['retry-after']);
            resolve({ code: res.statusCode ?? 0, parsed, text, retryAfterSeconds: res.headers['retry-after'] !== undefined && Number.isInteger(retryAfter) && retryAfter >= 0 ? retryAfter : undefined });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** maxRetries is how often a request the server asks to retry is sent again (client-go's default, 10). */
const maxRetries = 10;

function writeQuery(opts: WriteOptions): string {
  const q = new URLSearchParams();
  if (opts.fieldManager) q.set('fieldManager', opts.fieldManager);
  if (opts.force) q.set('force', 'true');
  const s = q.toString();
  return s ? `?${s}` : '';
}
