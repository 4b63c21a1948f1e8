// The front door's filters, as kube-apiserver's handler chain has them: which requests are
// long-running, the in-flight limits (--max-requests-inflight, --max-mutating-requests-inflight)
// and the request deadline (--request-timeout).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, StatusReason, tooManyRequests } from '../../lib/machinery/status.js';
import type { RequestInfo } from './request.js';

/** longRunningVerbs and longRunningSubresources are kube-apiserver's BasicLongRunningRequestCheck sets. */
const longRunningVerbs = new Set(['watch', 'proxy']);
const longRunningSubresources = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/** isLongRunning says whether a request may outlive the request timeout and the in-flight limits. */
export function isLongRunning(info: Pick<RequestInfo, 'isResourceRequest' | 'verb' | 'subresource'>): boolean {
  if (!info.isResourceRequest) return false;
  return longRunningVerbs.has(info.verb) || (info.subresource !== undefined && longRunningSubresources.has(info.subresource));
}

/** readOnlyVerbs are the verbs that do not count against --max-mutating-requests-inflight. */
const readOnlyVerbs = new Set(['get', 'list', 'watch', 'head']);

/** RequestKind is the `request_kind` label of the in-flight metrics. */
export type RequestKind = 'readOnly' | 'mutating';

export function requestKind(verb: string): RequestKind {
  return readOnlyVerbs.has(verb) ? 'readOnly' : 'mutating';
}

/** InflightMetrics receive the limiter's counts (apiserver_current_inflight_requests, apiserver_dropped_requests_total). */
export interface InflightMetrics {
  set(kind: RequestKind, value: number): void;
  dropped(kind: RequestKind): void;
}

/** tooManyRequestsMessage is what kube-apiserver's max-in-flight filter answers beyond its limits. */
export const tooManyRequestsMessage = 'Too many requests, please try again later.';

/**
 * InflightLimiter counts the short requests being served, read-only and mutating apart, and
 * refuses one beyond its kind's limit with 429 TooManyRequests and Retry-After: 1. A limit of 0
 * means no limit. Members of system:masters are served even beyond the limit, as kube does
 * (a super-admin or a loopback client always gets an answer).
 */
export class InflightLimiter {
  private readonly current: Record<RequestKind, number> = { readOnly: 0, mutating: 0 };
  private readonly limits: Record<RequestKind, number>;

  constructor(
    limits: { maxRequestsInflight: number; maxMutatingRequestsInflight: number },
    private readonly metrics?: InflightMetrics,
  ) {
    this.limits = { readOnly: limits.maxRequestsInflight, mutating: limits.maxMutatingRequestsInflight };
  }

  /**
   * admit takes a slot for the request or throws the 429; the slot is given back when the
   * response closes (answered or abandoned).
   */
  admit(kind: RequestKind, groups: readonly string[], res: ServerResponse): void {
    const limit = this.limits[kind];
    if (limit > 0 && this.current[kind] >= limit) {
      if (groups.includes('system:masters')) return;
      this.metrics?.dropped(kind);
      throw tooManyRequests(tooManyRequestsMessage, 1);
    }
    this.current[kind]++;
    this.metrics?.set(kind, this.current[kind]);
    res.once('close', () => {
      this.current[kind]--;
      this.metrics?.set(kind, this.current[kind]);
    });
  }

  /** inflight is how many requests of a kind hold a slot (for tests). */
  inflight(kind: RequestKind): number {
    return this.current[kind];
  }
}

/** requestTimeoutMessage is kube-apiserver's answer to a short request that outlives its deadline. */
export const requestTimeoutMessage = 'Timeout: request did not complete within requested timeout - context deadline exceeded';

export function requestTimeoutError(): StatusError {
  return new StatusError(504, StatusReason.Timeout, requestTimeoutMessage, {});
}

/**
 * RequestDeadline ends a request that does not finish in time. Every request starts with the
 * server's --request-timeout; a request whose body has not fully arrived by then is cut off
 * whatever it is (a slow client holds nothing for ever), and a short request whose answer is not
 * out gets 504 Timeout. A long-running request (a watch) with its whole body received is exempt.
 * Once cut off, the connection is closed: the rest of a half-sent body is never read.
 */
export class RequestDeadline {
  private timer: NodeJS.Timeout | undefined;
  private longRunning = false;
  /** expired says whether the deadline fired (later writes of the handler are moot). */
  expired = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    ms: number,
    private readonly onExpire: (answered: boolean) => void,
  ) {
    if (ms > 0) this.arm(ms);
    // A response that closes (answered, or its connection gone) ends the deadline, unless the
    // body is still arriving: then the timer stays to cut the connection.
    res.once('close', () => {
      if (req.complete || req.socket.destroyed) this.clear();
    });
  }

  /** shorten moves the deadline earlier (a client's ?timeout=); it never extends it. */
  shorten(ms: number, sinceStartMs: number): void {
    if (!this.timer || ms <= 0) return;
    const left = ms - sinceStartMs;
    this.clear();
    this.arm(Math.max(left, 1));
  }

  /** exempt marks a long-running request: once its body is in, no deadline applies. */
  exempt(): void {
    this.longRunning = true;
    if (this.req.complete) this.clear();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.fire(), ms);
    this.timer.unref?.();
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    const { req, res } = this;
    if (req.socket.destroyed || (res.writableEnded && req.complete)) return;
    if (this.longRunning && req.complete) return;
    this.expired = true;
    const socket = req.socket;
    if (!res.headersSent && !res.writableEnded) {
      this.onExpire(false);
      res.once('finish', () => closeSoon(socket));
      return;
    }
    this.onExpire(true);
    closeSoon(socket);
  }
}

/** closeSoon ends a connection after what was written has gone out, and destroys it if the peer lingers. */
function closeSoon(socket: IncomingMessage['socket']): void {
  socket.end();
  setTimeout(() => socket.destroy(), 1000).unref();
}
