// httpGet probes and lifecycle hooks, as Kubernetes' pkg/probe/http makes them: a GET from the node
// to the pod (scheme HTTP or HTTPS, the certificate not verified), User-Agent `kube-probe/1.32`
// (`kube-lifecycle/1.32` for hooks) and `Accept: */*` unless the spec sets them, no keep-alive, at
// most 10 KiB of the body read. Redirects as the kubelet's client takes them: a probe follows a
// redirect to the same host (up to 10) and stops at one to another host, which then counts as a
// success with a warning; a hook follows any. Errors read as Go's http client words them
// (`Get "http://10.244.0.5:80/": dial tcp 10.244.0.5:80: connect: connection refused`), since
// they end up verbatim in event messages.

import * as http from 'node:http';
import * as https from 'node:https';
import type { Container, HTTPGetAction } from '../../lib/api/core/types.js';
import { goQuote } from '../../lib/machinery/goquote.js';
import { joinHostPort, maxOutputBytes, type ProbeOutcome, ProbeError, resolveContainerPort, socketErrorText } from './result.js';

/** kubeVersion is the major.minor the User-Agent names (the Kubernetes release skiff follows). */
const kubeVersion = '1.32';

/** maxRedirects is Go's http.Client limit. */
const maxRedirects = 10;

/** httpResponseToHTTPS is Go's error when an HTTPS request gets an HTTP answer. */
export const httpResponseToHTTPS = 'http: server gave HTTP response to HTTPS client';

/** HTTPGetRequest is a probe's or hook's request, resolved against the container and pod IP. */
export interface HTTPGetRequest {
  url: string;
  /** headers in the order given, names canonicalized as Go's http.Header does. */
  headers: [string, string][];
}

/** canonicalHeaderKey is Go's textproto.CanonicalMIMEHeaderKey: `x-custom-header` → `X-Custom-Header`. */
function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** newHTTPGetRequest builds the request of an httpGet action (pkg/probe/http NewRequestForHTTPGetAction):
 * purpose is `probe` or `lifecycle`, for the User-Agent. It throws a ProbeError for a bad port. */
export function newHTTPGetRequest(action: HTTPGetAction, container: Container, podIP: string, purpose: 'probe' | 'lifecycle'): HTTPGetRequest {
  const scheme = (action.scheme ?? '').toLowerCase() || 'http';
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  let path = action.path ?? '';
  // Go's url.URL.String puts a slash between a host and a relative path.
  if (path !== '' && !path.startsWith('/')) path = `/${path}`;
  const url = `${scheme}://${joinHostPort(host, port)}${path}`;
  const headers: [string, string][] = (action.httpHeaders ?? []).map((h) => [canonicalHeaderKey(h.name), h.value]);
  const has = (name: string) => headers.some(([n]) => n === name);
  if (!has('User-Agent')) headers.push(['User-Agent', `kube-${purpose}/${kubeVersion}`]);
  if (!has('Accept')) headers.push(['Accept', '*/*']);
  else if (headers.filter(([n]) => n === 'Accept').every(([, v]) => v === '')) {
    // An Accept header set to nothing means "send none".
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === 'Accept') headers.splice(i, 1);
  }
  return { url, headers };
}

/** HTTPResponse is the part of an answer a probe looks at. */
export interface HTTPResponse {
  status: number;
  /** body is at most limit bytes of the body, as text. */
  body: string;
}

/** HTTPGetError is a request that got no answer; its message is Go's url.Error text. */
export class HTTPGetError extends Error {
  override name = 'HTTPGetError';
}

/** HTTPBodyError is an answer whose body could not be read. */
export class HTTPBodyError extends Error {
  override name = 'HTTPBodyError';
}

/** HTTPGetOptions tune one exchange. */
export interface HTTPGetOptions {
  /** timeoutMs bounds the whole exchange, redirects and body included (0: none). */
  timeoutMs: number;
  /** followNonLocalRedirects follows a redirect to another host (hooks); probes stop there. */
  followNonLocalRedirects: boolean;
  /** bodyLimit is how much of the body is read (default 10 KiB). */
  bodyLimit?: number;
}

/** headerObject turns the request's header list into Node's outgoing form (repeats as arrays). */
function headerObject(headers: [string, string][]): http.OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** isRedirect is whether Go's client follows a status (it needs a Location too). */
function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** exchange makes one GET and reads at most limit bytes of its body. */
function exchange(
  url: URL,
  headers: [string, string][],
  limit: number,
  signal: AbortSignal,
): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    let gotHeaders = false;
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: headerObject(headers),
        agent: false,
        rejectUnauthorized: false,
        // Go's client (kube's prober) reads header lines ended by a bare "\n", as busybox httpd's
        // CGI answers are; Node's strict parser would call such an answer a failure.
        insecureHTTPParser: true,
        signal,
      },
      (res) => {
        gotHeaders = true;
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () =>
          done(() => {
            const status = res.statusCode ?? 0;
            resolve({ status, location: res.headers.location, body: Buffer.concat(chunks).subarray(0, limit).toString('utf8') });
          });
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= limit) {
            // Enough of the body: the rest is not read (the kubelet truncates silently).
            finish();
            res.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', (err) => done(() => reject(new HTTPBodyError(err.message, { cause: err }))));
        res.on('aborted', () => done(() => reject(new HTTPBodyError('unexpected EOF'))));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      done(() => {
        if (signal.aborted) {
          const phase = gotHeaders ? 'Client.Timeout or context cancellation while reading body' : 'Client.Timeout exceeded while awaiting headers';
          const text = `Get ${goQuote(url.href)}: context deadline exceeded (${phase})`;
          reject(gotHeaders ? new HTTPBodyError(text) : new HTTPGetError(text));
          return;
        }
        if (url.protocol === 'https:' && (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(err.message))) {
          // A plain HTTP server answered the TLS hello: Go's client says so in these words.
          reject(new HTTPGetError(`Get ${goQuote(url.href)}: ${httpResponseToHTTPS}`, { cause: err }));
          return;
        }
        const dial = err.syscall === 'connect' || err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH';
        const hostPort = joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
        const text = dial ? `dial tcp ${hostPort}: ${socketErrorText(err)}` : socketErrorText(err);
        reject(new HTTPGetError(`Get ${goQuote(url.href)}: ${text}`, { cause: err }));
      });
    });
    req.end();
  });
}

/** httpGet makes the request and follows redirects as the kubelet's client does; it throws an
 * HTTPGetError when no answer came (refused, timed out, too many redirects) and an HTTPBodyError
 * when the body could not be read. */
export async function httpGet(req: HTTPGetRequest, opts: HTTPGetOptions): Promise<HTTPResponse> {
  const limit = opts.bodyLimit ?? maxOutputBytes;
  const controller = new AbortController();
  const timer = opts.timeoutMs > 0 ? setTimeout(() => controller.abort(), opts.timeoutMs) : undefined;
  try {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (err) {
      throw new HTTPGetError(`parse ${goQuote(req.url)}: invalid URL`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new HTTPGetError(`Get ${goQuote(req.url)}: unsupported protocol scheme ${goQuote(url.protocol.replace(/:$/, ''))}`);
    }
    const firstHost = url.hostname;
    // Go prints the first URL as built (no slash added to an empty path), later ones as parsed.
    let text = req.url;
    for (let hops = 0; ; hops++) {
      let res;
      try {
        res = await exchange(url, req.headers, limit, controller.signal);
      } catch (err) {
        if (err instanceof Error) err.message = err.message.replace(goQuote(url.href), goQuote(text));
        throw err;
      }
      if (!isRedirect(res.status) || res.location === undefined) return { status: res.status, body: res.body };
      const next = new URL(res.location, url);
      if (!opts.followNonLocalRedirects && next.hostname !== firstHost) return { status: res.status, body: res.body };
      if (hops + 1 >= maxRedirects) throw new HTTPGetError(`Get ${goQuote(next.href)}: stopped after ${maxRedirects} redirects`);
      url = next;
      text = next.href;
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** httpProbe runs an httpGet probe (pkg/probe/http DoHTTPProbe): 200–299 success, 300–399 a success
 * with a warning (a redirect it did not follow), anything else or no answer a failure. */
export async function httpProbe(req: HTTPGetRequest, timeoutSeconds: number): Promise<ProbeOutcome> {
  let res: HTTPResponse;
  try {
    res = await httpGet(req, { timeoutMs: timeoutSeconds * 1000, followNonLocalRedirects: false });
  } catch (err) {
    // No answer is a failure, not an error: that is how timeouts and refusals count.
    if (err instanceof HTTPGetError) return { result: 'failure', output: err.message };
    return { result: 'failure', output: '', error: err instanceof Error ? err : new ProbeError(String(err)) };
  }
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    return { result: 'success', output: res.body };
  }
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
}

/** httpGetProbeRequest builds a probe's request, or an outcome that says why it cannot be made. */
export function httpGetProbeRequest(action: HTTPGetAction, container: Container, podIP: string): HTTPGetRequest | ProbeOutcome {
  try {
    return newHTTPGetRequest(action, container, podIP, 'probe');
  } catch (err) {
    return { result: 'unknown', output: '', error: err instanceof Error ? err : new ProbeError(String(err)) };
  }
}
