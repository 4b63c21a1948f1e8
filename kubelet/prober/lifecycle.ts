// Lifecycle hooks (postStart, preStop) as the kubelet's handler runner runs them: exec through CRI
// ExecSync, httpGet from the node (the answer's status is not looked at: only getting no answer
// fails a hook), sleep. A failure rejects with the text Kubernetes puts into the
// FailedPostStartHook event (for preStop the kubelet's event says only `PreStopHook failed`, so
// that no secret leaks: export preStopHookFailedMessage). tcpSocket handlers are accepted by the
// API but never run, as on Kubernetes.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container, IntOrString, LifecycleHandler } from '../../lib/api/core/types.js';
import { type Clock, realClock } from '../../lib/clock.js';
import { goQuote } from '../../lib/machinery/goquote.js';
import type { Recorder } from '../../lib/client/events.js';
import type { CriClient } from '../cri/client.js';
import { ExecTimeoutError, runInContainer } from './exec.js';
import { httpGet, HTTPGetError, httpResponseToHTTPS, newHTTPGetRequest } from './http.js';
import { podFullName } from './result.js';

/** HookContext is where a lifecycle hook runs. */
export interface HookContext {
  runtime: Pick<CriClient, 'execSync'>;
  containerId: string;
  podIP: string | undefined;
  /** timeoutSeconds bounds the hook (preStop: the remaining grace period); 0 leaves it unbounded. */
  timeoutSeconds: number;
  /** pod names the pod in failure messages (`in Pod "web_default(uid)"`). */
  pod?: Pick<Pod, 'metadata'>;
  /** clock times sleep hooks (default: the real clock). */
  clock?: Clock;
  /** recorder gets the LifecycleHTTPFallback event of an HTTPS hook answered over HTTP. */
  recorder?: Recorder;
}

/** preStopHookFailedMessage is the FailedPreStopHook event's whole message on Kubernetes. */
export const preStopHookFailedMessage = 'PreStopHook failed';

/** LifecycleHookError is a hook that failed; message is the FailedPostStartHook event's text.
 * timedOut says the hook was cut short by its timeout (the kubelet records no event for a preStop
 * hook that outlived the grace period). */
export class LifecycleHookError extends Error {
  override name = 'LifecycleHookError';
  constructor(
    message: string,
    readonly timedOut = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** intOrStringText prints an IntOrString as Go's %v does for the struct: `{0 8080 }` or `{1 0 http}`. */
function intOrStringText(v: IntOrString): string {
  return typeof v === 'number' ? `{0 ${v} }` : `{1 0 ${v}}`;
}

/** handlerText prints a handler the way its Go String method does, for "invalid handler" messages. */
function handlerText(h: LifecycleHandler): string {
  const tcp = h.tcpSocket ? `&TCPSocketAction{Port:${intOrStringText(h.tcpSocket.port)},Host:${h.tcpSocket.host ?? ''},}` : 'nil';
  return `&LifecycleHandler{Exec:nil,HTTPGet:nil,TCPSocket:${tcp},Sleep:nil,}`;
}

/** runLifecycleHook runs a postStart or preStop handler (exec, httpGet, sleep); it rejects with a
 * LifecycleHookError whose message is Kubernetes' failure message. */
export async function runLifecycleHook(handler: LifecycleHandler, container: Container, ctx: HookContext): Promise<void> {
  const where = `for Container ${goQuote(container.name)} in Pod ${goQuote(ctx.pod ? podFullName(ctx.pod) : '')}`;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    const text = (error: string, output: string) => `Exec lifecycle hook ([${cmd.join(' ')}]) ${where} failed - error: ${error}, message: ${goQuote(output)}`;
    let res;
    try {
      res = await runInContainer(ctx.runtime, ctx.containerId, cmd, Math.max(0, ctx.timeoutSeconds));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new LifecycleHookError(text(message, ''), err instanceof ExecTimeoutError, { cause: err });
    }
    if (res.exitCode !== 0) throw new LifecycleHookError(text(`command '${cmd.join(' ')}' exited with ${res.exitCode}: ${res.stderr}`, res.output));
    return;
  }
  if (handler.httpGet) {
    const action = handler.httpGet;
    const text = (error: string) => `HTTP lifecycle hook (${action.path ?? ''}) ${where} failed - error: ${error}`;
    const host = action.host || ctx.podIP;
    if (!host) throw new LifecycleHookError(text('failed to find networking container: the pod has no IP address'));
    let req;
    try {
      req = newHTTPGetRequest(action, container, host, 'lifecycle');
    } catch (err) {
      throw new LifecycleHookError(text(err instanceof Error ? err.message : String(err)), false, { cause: err });
    }
    const opts = { timeoutMs: Math.max(0, ctx.timeoutSeconds) * 1000, followNonLocalRedirects: true };
    try {
      await httpGet(req, opts);
    } catch (err) {
      // Only getting no answer fails a hook; a body cut short does not.
      if (!(err instanceof HTTPGetError)) return;
      if (!err.message.endsWith(httpResponseToHTTPS)) throw new LifecycleHookError(text(err.message), /context deadline exceeded/.test(err.message), { cause: err });
      // An HTTPS hook answered by a plain HTTP server is tried again over HTTP, without credentials,
      // as the kubelet does for hooks written before it spoke HTTPS; the original error stands if that fails too.
      const plain = { url: req.url.replace(/^https:/, 'http:'), headers: req.headers.filter(([n]) => n !== 'Authorization') };
      try {
        await httpGet(plain, opts);
      } catch (retryErr) {
        if (retryErr instanceof HTTPGetError) throw new LifecycleHookError(text(err.message), false, { cause: err });
      }
      if (ctx.recorder && ctx.pod) {
        const m = ctx.pod.metadata;
        ctx.recorder.event(
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: m.name, namespace: m.namespace, uid: m.uid } },
          'Warning',
          'LifecycleHTTPFallback',
          `request to HTTPS lifecycle hook ${new URL(plain.url).host} got HTTP response, retry with HTTP succeeded`,
        );
      }
    }
    return;
  }
  if (handler.sleep) {
    const seconds = handler.sleep.seconds;
    const clock = ctx.clock ?? realClock;
    const bounded = ctx.timeoutSeconds > 0 && ctx.timeoutSeconds < seconds;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, (bounded ? ctx.timeoutSeconds : seconds) * 1000));
    if (bounded) throw new LifecycleHookError(`Sleep lifecycle hook (${seconds}) ${where} failed - error: container terminated before sleep hook finished`, true);
    return;
  }
  throw new LifecycleHookError(`Cannot run handler: invalid handler: ${handlerText(handler)}`);
}
