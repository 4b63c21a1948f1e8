// The audit log: one audit.k8s.io/v1 Event per request stage, as kube-apiserver writes them with
// --audit-policy-file and --audit-log-path. The front door begins an AuditContext for every request
// (it sets the Audit-Id response header) and tells it who the user is (or that authentication
// failed) and what authorization decided; the context watches the response for its status code,
// and for the response body when the level asks for it or the answer is an error Status, and
// writes RequestReceived, ResponseStarted (long-running requests: watches, exec), ResponseComplete
// or Panic. Headers are never logged, so no bearer token reaches the audit log; bodies are logged
// only at Request level and above, which the default policy never gives Secrets, ConfigMaps or
// token requests.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { parse as parseYAML } from 'yaml';
import { parseJSON, stringifyJSON } from '../../lib/machinery/json.js';
import type { UserInfo } from '../auth/authn.js';
import type { Decision } from '../auth/authz.js';
import { isLongRunning } from '../endpoints/filters.js';
import { parseRequestPath } from '../endpoints/path.js';
import { parseRequestInfo, requestBodyOf, type ProtobufDecoder, type RequestInfo } from '../endpoints/request.js';
import { atLeast, PolicyEvaluator, type Level, type Policy, type RequestAuditConfig, type Stage } from './policy.js';
import { AuditLogWriter, type AuditLogOptions } from './writer.js';

/** ObjectReference is the audit event's objectRef. */
interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** AuditUser is authentication.k8s.io/v1 UserInfo as the event carries it. */
interface AuditUser {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** ResponseStatus is the metav1.Status subset the event keeps. */
interface ResponseStatus {
  metadata: Record<string, never>;
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code?: number;
}

/** Event is audit.k8s.io/v1 Event, its fields in kube-apiserver's order. */
export interface Event {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: Level;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** maxCapturedBytes bounds the response body kept for responseObject; a larger one is left out. */
const maxCapturedBytes = 3 * 1024 * 1024;

/** Auditor turns requests into audit events, by a policy, into a sink (the log writer). */
export class Auditor {
  private readonly evaluator: PolicyEvaluator;

  /**
   * Auditor's protobuf decodes Kubernetes-protobuf request bodies for requestObject (kubectl sends
   * built-in kinds that way).
   */
  constructor(
    policy: Policy,
    private readonly sink: { write(line: string): void; stop?(): void },
    private readonly protobuf?: ProtobufDecoder,
  ) {
    this.evaluator = new PolicyEvaluator(policy);
  }

  /** toFile is an Auditor writing to the --audit-log-path file. */
  static toFile(policy: Policy, opts: AuditLogOptions, protobuf?: ProtobufDecoder): Auditor {
    return new Auditor(policy, new AuditLogWriter(opts), protobuf);
  }

  /** begin starts auditing one request: call it first thing, before anything is written to res. */
  begin(req: IncomingMessage, res: ServerResponse): AuditContext {
    return new AuditContext(this.evaluator, this.sink, req, res, this.protobuf);
  }

  /** stop writes what is queued and closes the log. */
  stop(): void {
    this.sink.stop?.();
  }
}

/** AuditContext follows one request through the front door. */
export class AuditContext {
  readonly auditID: string;
  private readonly received = microTime();
  private readonly info: RequestInfo;
  private user?: UserInfo;
  private impersonatedUser?: UserInfo;
  private authFailure?: string;
  private config?: RequestAuditConfig;
  private readonly annotations: Record<string, string> = {};
  private status?: ResponseStatus;
  private body?: Buffer[];
  private bodySize = 0;
  private done = false;
  private started = false;

  constructor(
    private readonly evaluator: PolicyEvaluator,
    private readonly sink: { write(line: string): void },
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly protobuf?: ProtobufDecoder,
  ) {
    const given = req.headers['audit-id'];
    this.auditID = typeof given === 'string' && given.length > 0 && given.length <= 128 && /^[\x21-\x7e]+$/.test(given) ? given : randomUUID();
    res.setHeader('Audit-Id', this.auditID);
    let info: RequestInfo;
    try {
      info = parseRequestInfo((req.method ?? 'GET').toUpperCase(), parseRequestPath(req.url ?? '/'));
    } catch {
      // A path that does not decode is still audited, as the non-resource request it is.
      info = { isResourceRequest: false, path: (req.url ?? '/').split('?')[0]!, verb: (req.method ?? 'GET').toLowerCase(), apiPrefix: 'api', group: '', version: '', rest: [] };
    }
    this.info = info;
    this.watchResponse();
    // The response is over: nothing thrown while writing its record may reach the process (a
    // request body of any shape must never take the apiserver down).
    res.once('close', () => {
      try {
        this.complete();
      } catch (err) {
        process.emitWarning(`audit: could not record ${req.method} ${req.url}: ${(err as Error).message}`);
      }
    });
  }

  /** authenticated records the user and writes RequestReceived if the policy audits the request. */
  authenticated(user: UserInfo): void {
    this.user = user;
    this.evaluate();
    this.emit('RequestReceived');
  }

  /** impersonated records the user the request acts as (Impersonate-User); the authenticated user stays `user`. */
  impersonated(user: UserInfo): void {
    this.impersonatedUser = user;
  }

  /**
   * authenticationFailed marks a request refused with 401: it is audited without a user, once its
   * answer starts, with kube's message naming the credentials tried (never their values).
   */
  authenticationFailed(): void {
    this.authFailure = this.attemptedMethods();
    this.evaluate();
    this.emit('RequestReceived');
  }

  /** attemptedMethods is kube's message naming the kinds of credentials a refused request carried. */
  private attemptedMethods(): string {
    const methods: string[] = [];
    const auth = (this.req.headers.authorization ?? '').trim();
    const scheme = auth.split(' ')[0]?.toLowerCase();
    if (scheme === 'basic') methods.push('basic');
    if (scheme === 'bearer' && auth.split(' ').length > 1) methods.push('bearer');
    const socket = this.req.socket as { getPeerCertificate?: () => { raw?: Buffer } };
    if (socket.getPeerCertificate?.()?.raw) methods.push('x509');
    return methods.length ? `Authentication failed, attempted: ${methods.join(', ')}` : 'Authentication failed, no credentials provided';
  }

  /** authorized records the authorizer's decision as the event's annotations. */
  authorized(decision: Decision): void {
    this.annotations['authorization.k8s.io/decision'] = decision.allowed ? 'allow' : 'forbid';
    this.annotations['authorization.k8s.io/reason'] = decision.reason ?? '';
  }

  /** panicked writes the Panic stage for a request that failed unexpectedly (a bug, not a Status). */
  panicked(err: unknown): void {
    if (this.done) return;
    this.evaluate();
    this.status = { metadata: {}, status: 'Failure', message: `APIServer panic'd: ${err instanceof Error ? err.message : String(err)}`, reason: 'InternalError', code: 500 };
    this.emit('Panic');
    this.done = true;
  }

  private evaluate(): RequestAuditConfig {
    const info = this.info;
    this.config ??= this.evaluator.evaluate({
      user: this.user,
      verb: info.verb,
      resourceRequest: info.isResourceRequest,
      path: info.path,
      group: info.group,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
    });
    return this.config;
  }

  /** watchResponse notes the status code when headers go out (ResponseStarted for long-running requests) and keeps the body when needed. */
  private watchResponse(): void {
    const res = this.res;
    const writeHead = res.writeHead;
    const self = this;
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      self.headersOut(typeof args[0] === 'number' ? args[0] : res.statusCode);
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
    const write = res.write;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      self.capture(chunk, rest[0]);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    const end = res.end;
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') self.capture(chunk, rest[0]);
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
  }

  private headersOut(code: number): void {
    if (this.started) return;
    this.started = true;
    this.status = { metadata: {}, code };
    // A 401 before any user was known is a failed authentication, however the front door got there.
    if (code === 401 && !this.user && !this.authFailure) this.authFailure = this.attemptedMethods();
    const config = this.evaluate();
    if (config.level === 'None') return;
    // Bodies are kept for errors (their Status goes into responseStatus) and for RequestResponse.
    const longRunning = this.info.isResourceRequest && isLongRunning(this.info);
    if (code >= 400 || (config.level === 'RequestResponse' && !longRunning && code !== 101)) this.body = [];
    if (this.authFailure || longRunning || code === 101) this.emit('ResponseStarted');
  }

  private capture(chunk: unknown, encoding: unknown): void {
    if (!this.body || chunk === undefined || chunk === null) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding) : Buffer.from(chunk as Uint8Array);
    this.bodySize += buf.length;
    if (this.bodySize > maxCapturedBytes) {
      this.body = undefined;
      return;
    }
    this.body.push(buf);
  }

  /** complete writes ResponseComplete when the response is over (a failed authentication ends at ResponseStarted). */
  private complete(): void {
    if (this.done) return;
    this.done = true;
    if (this.authFailure) return;
    if (!this.user) return; // public endpoints and requests refused before authentication
    if (!this.status) this.status = { metadata: {}, status: 'Success', message: 'Connection closed early', code: 200 };
    this.emit('ResponseComplete');
  }

  private emit(stage: Stage): void {
    const config = this.evaluate();
    if (config.level === 'None' || config.omitStages.includes(stage)) return;
    const level = config.level;
    const info = this.info;
    const event: Event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID: this.auditID,
      stage,
      requestURI: this.req.url ?? '/',
      verb: info.verb,
      user: this.user ? auditUser(this.user) : {},
      impersonatedUser: this.impersonatedUser ? auditUser(this.impersonatedUser) : undefined,
      sourceIPs: sourceIPs(this.req),
      userAgent: this.req.headers['user-agent'],
      objectRef: info.isResourceRequest
        ? { resource: info.resource, namespace: info.namespace, name: info.name, apiGroup: info.group || undefined, apiVersion: info.version, subresource: info.subresource }
        : undefined,
      responseStatus: undefined,
      requestObject: undefined,
      responseObject: undefined,
      requestReceivedTimestamp: this.received,
      stageTimestamp: stage === 'RequestReceived' ? this.received : microTime(),
      annotations: Object.keys(this.annotations).length ? { ...this.annotations } : undefined,
    };
    if (stage !== 'RequestReceived') {
      event.responseStatus = this.authFailure ? { metadata: {}, message: this.authFailure, code: this.status?.code ?? 401 } : this.responseStatus();
    }
    if (atLeast(level, 'Request') && stage !== 'RequestReceived' && !this.authFailure) {
      const obj = decodeBody(requestBodyOf(this.req), this.req.headers['content-type'], undefined, this.protobuf);
      if (obj !== undefined) {
        event.requestObject = config.omitManagedFields ? withoutManagedFields(obj) : obj;
        fillObjectRef(event.objectRef, obj);
      }
    }
    if (level === 'RequestResponse' && stage === 'ResponseComplete' && this.body) {
      const obj = decodeBody(Buffer.concat(this.body), this.res.getHeader('content-type') as string | undefined, this.res.getHeader('content-encoding') as string | undefined);
      if (obj !== undefined) event.responseObject = config.omitManagedFields ? withoutManagedFields(obj) : obj;
    }
    this.sink.write(stringifyJSON(event));
  }

  private responseStatus(): ResponseStatus | undefined {
    const status = this.status;
    if (!status) return undefined;
    if ((status.code ?? 0) < 400 || !this.body) return status;
    // An error answer is a metav1.Status: its bounded fields go into the event.
    const s = decodeBody(Buffer.concat(this.body), this.res.getHeader('content-type') as string | undefined, this.res.getHeader('content-encoding') as string | undefined) as
      | { kind?: string; status?: string; message?: string; reason?: string; details?: unknown; code?: number }
      | undefined;
    if (s?.kind !== 'Status') return status;
    return { metadata: {}, status: s.status, message: s.message, reason: s.reason, details: s.details, code: s.code ?? status.code };
  }
}

/** microTime is now as a metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(): string {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
}

function auditUser(u: UserInfo): AuditUser {
  const extra = (u as UserInfo & { extra?: Record<string, string[]> }).extra;
  return { username: u.name, uid: u.uid || undefined, groups: u.groups, extra: extra && Object.keys(extra).length ? extra : undefined };
}

/** sourceIPs are X-Forwarded-For's addresses, then X-Real-Ip, then the peer (k8s.io/utils/net SourceIPs). */
function sourceIPs(req: IncomingMessage): string[] {
  const out: string[] = [];
  const fwd = req.headers['x-forwarded-for'];
  if (typeof fwd === 'string') for (const ip of fwd.split(',')) if (ip.trim()) out.push(ip.trim());
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string' && real.trim() && !out.includes(real.trim())) out.push(real.trim());
  const remote = req.socket.remoteAddress?.replace(/^::ffff:/, '');
  if (remote && !out.includes(remote)) out.push(remote);
  return out;
}

/**
 * decodeBody reads a JSON, YAML (apply patches) or Kubernetes-protobuf body as an object; anything
 * unreadable is left out of the event.
 */
function decodeBody(raw: Buffer | undefined, contentType: string | undefined, encoding: string | undefined, protobuf?: ProtobufDecoder): unknown {
  if (!raw || raw.length === 0) return undefined;
  try {
    const data = encoding === 'gzip' ? gunzipSync(raw) : raw;
    const type = (contentType ?? '').split(';')[0]!.trim();
    if (type.endsWith('json')) return parseJSON(data.toString('utf8'));
    if (type.endsWith('yaml')) return parseYAML(data.toString('utf8')) as unknown;
    if (type === 'application/vnd.kubernetes.protobuf' && protobuf) return protobuf(data);
  } catch {
    // not decodable: the event goes without it
  }
  return undefined;
}

/** fillObjectRef takes the name and namespace of a created object from its body (kube's LogRequestObject). */
function fillObjectRef(ref: ObjectReference | undefined, obj: unknown): void {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  if (!ref || !meta || typeof meta !== 'object') return;
  if (typeof meta.name === 'string') ref.name ??= meta.name || undefined;
  if (typeof meta.namespace === 'string') ref.namespace ??= meta.namespace || undefined;
}

/** withoutManagedFields drops metadata.managedFields from an object or a list's items (omitManagedFields). */
function withoutManagedFields(obj: unknown): unknown {
  if (!obj || typeof obj !== 'object') return obj;
  const o = obj as { metadata?: Record<string, unknown>; items?: unknown[] };
  const out: Record<string, unknown> = { ...o };
  if (o.metadata && typeof o.metadata === 'object' && !Array.isArray(o.metadata) && 'managedFields' in o.metadata) {
    const { managedFields: _drop, ...meta } = o.metadata;
    out.metadata = meta;
  }
  if (Array.isArray(o.items)) out.items = o.items.map(withoutManagedFields);
  return out;
}
