// computePodActions: what the kubelet must do to a pod, as a pure function of the desired pod,
// what the runtime runs for it and the time (kuberuntime_manager.go computePodActions). The
// crash-loop back-off is read from the runtime itself (the last exit's finishedAt and the
// restartCount on its container), so it carries on across kubelet restarts. The pod workers
// (manager.ts) carry the actions out through CRI; every action is safe to repeat.

import type { Pod } from '../../lib/api/core/pod.js';
import { isRestartableInitContainer } from '../../lib/api/core/podspec.js';
import { crashLoopBackOffMessage, crashLoopBackOffMs } from '../../lib/pod/backoff.js';
import { shouldRestartContainer } from '../../lib/pod/status.js';
import type { RuntimeContainer, RuntimePod, RuntimeSandbox } from './runtime.js';

/** KillContainer is a container to stop, with the reason given in its Killing event. */
export interface KillContainer {
  id: string;
  name: string;
  message: string;
}

/** BackOff is a container held back by the crash-loop back-off until `until` (epoch ms). */
export interface BackOff {
  name: string;
  message: string;
  until: number;
}

/** PodActions are the changes one sync makes. */
export interface PodActions {
  /** killPod: stop every container and the sandbox (a new sandbox may follow: createSandbox). */
  killPod: boolean;
  /** createSandbox: run a new sandbox with attempt sandboxAttempt. */
  createSandbox: boolean;
  sandboxAttempt: number;
  /** sandboxId is the sandbox the containers run in (when no new one is made). */
  sandboxId?: string;
  /** killContainers are containers to stop before the starts (failed liveness, half-created). */
  killContainers: KillContainer[];
  /** startInit names the init container to start next. */
  startInit?: string;
  /** startContainers name the regular containers to start, in spec order. */
  startContainers: string[];
  /** startSidecars name sidecars (init containers with restartPolicy Always) to start again once the pod is initialized. */
  startSidecars: string[];
  /** backOff are containers that would start but wait for their back-off. */
  backOff: BackOff[];
}

/** ActionContext is the rest of computePodActions' input. */
export interface ActionContext {
  /** now is wall time, epoch milliseconds. */
  now: number;
  /** livenessFailed are containers whose liveness (or startup) probe failed, by name, with the Killing message. */
  livenessFailed?: ReadonlyMap<string, string>;
}

/** sandboxNeedsReplacing is podSandboxChanged: no sandbox, several ready ones, the newest not ready, or no address. */
export function sandboxNeedsReplacing(pod: Pod, sandboxes: readonly RuntimeSandbox[]): { changed: boolean; attempt: number; sandboxId?: string } {
  if (sandboxes.length === 0) return { changed: true, attempt: 0 };
  const newest = sandboxes[0]!;
  const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY').length;
  if (ready > 1 || newest.state !== 'SANDBOX_READY') return { changed: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  if (!pod.spec.hostNetwork && newest.ips.length === 0) return { changed: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  return { changed: false, attempt: newest.attempt, sandboxId: newest.id };
}

/** latestContainer is the newest instance of a container (init or regular) of the pod, from any sandbox. */
export function latestContainer(rt: RuntimePod | undefined, name: string, init: boolean, sandboxId?: string): RuntimeContainer | undefined {
  return rt?.containers.find((c) => c.name === name && c.init === init && (sandboxId === undefined || c.sandboxId === sandboxId));
}

/** isTerminating: the pod is being deleted, or has reached a terminal phase. */
export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

const exited = (c: RuntimeContainer) => c.state === 'CONTAINER_EXITED';

/** backOffFor says whether a container that exited must still wait before its restart. */
function backOffFor(pod: Pod, c: RuntimeContainer, now: number): BackOff | undefined {
  const delay = crashLoopBackOffMs(c.restartCount);
  const until = c.finishedAt + delay;
  if (delay > 0 && now < until) return { name: c.name, message: crashLoopBackOffMessage(delay, c.name, pod), until };
  return undefined;
}

/**
 * computePodActions compares the pod with what the runtime holds for it: a pod being deleted or
 * finished is stopped; a missing or broken sandbox is replaced (attempt + 1) and the pod starts
 * over from its first init container; otherwise the next init container runs, or every regular
 * container that is not running and should be under restartPolicy is started, unless it waits
 * for its crash-loop back-off. When nothing runs and nothing is to start, the sandbox is stopped.
 */
export function computePodActions(pod: Pod, rt: RuntimePod | undefined, ctx: ActionContext): PodActions {
  const spec = pod.spec;
  const policy = spec.restartPolicy ?? 'Always';
  const actions: PodActions = { killPod: false, createSandbox: false, sandboxAttempt: 0, killContainers: [], startContainers: [], startSidecars: [], backOff: [] };
  if (isTerminating(pod)) {
    actions.killPod = true;
    return actions;
  }
  const sandbox = sandboxNeedsReplacing(pod, rt?.sandboxes ?? []);
  const inits = spec.initContainers ?? [];
  if (sandbox.changed) {
    actions.killPod = (rt?.sandboxes.length ?? 0) > 0 || (rt?.containers.length ?? 0) > 0;
    // A pod that never restarts and has run once is done: no new sandbox (kubelet: the pod
    // would otherwise run its containers a second time).
    if (policy === 'Never' && sandbox.attempt !== 0 && (rt?.containers.length ?? 0) > 0) return actions;
    actions.createSandbox = true;
    actions.sandboxAttempt = sandbox.attempt;
    if (inits.length > 0) {
      actions.startInit = inits[0]!.name;
      return actions;
    }
    for (const c of spec.containers) {
      const last = latestContainer(rt, c.name, false);
      // OnFailure: a container that has succeeded is not run again in the new sandbox.
      if (last && exited(last) && last.exitCode === 0 && policy === 'OnFailure') continue;
      actions.startContainers.push(c.name);
    }
    return actions;
  }
  actions.sandboxId = sandbox.sandboxId;
  const sid = sandbox.sandboxId;

  // Init containers run one at a time, in order, in the current sandbox, until a regular
  // container has started there.
  const regularStarted = spec.containers.some((c) => latestContainer(rt, c.name, false, sid));
  if (!regularStarted) {
    for (const c of inits) {
      const s = latestContainer(rt, c.name, true, sid);
      if (isRestartableInitContainer(c)) {
        // A sidecar is started in its turn and then kept running; the next init container
        // starts once it runs.
        if (s?.state === 'CONTAINER_RUNNING') continue;
        if (s && exited(s)) {
          const wait = backOffFor(pod, s, ctx.now);
          if (wait) actions.backOff.push(wait);
          else actions.startInit = c.name;
          return actions;
        }
        if (s) actions.killContainers.push({ id: s.id, name: c.name, message: `Container ${c.name} is not running` });
        actions.startInit = c.name;
        return actions;
      }
      if (!s) {
        actions.startInit = c.name;
        return actions;
      }
      if (s.state === 'CONTAINER_RUNNING') return actions;
      if (!exited(s)) {
        // Created but never started (a failed start): remove it and try again.
        actions.killContainers.push({ id: s.id, name: c.name, message: `Container ${c.name} is not running` });
        actions.startInit = c.name;
        return actions;
      }
      if (s.exitCode === 0) continue;
      if (policy === 'Never') {
        // A failed init container fails the pod.
        actions.killPod = true;
        return actions;
      }
      const wait = backOffFor(pod, s, ctx.now);
      if (wait) actions.backOff.push(wait);
      else actions.startInit = c.name;
      return actions;
    }
  }

  // Sidecars run beside the containers and are restarted whenever they exit (after their
  // back-off), whatever the pod's restartPolicy.
  if (regularStarted) {
    for (const c of inits) {
      if (!isRestartableInitContainer(c)) continue;
      const s = latestContainer(rt, c.name, true, sid);
      if (s?.state === 'CONTAINER_RUNNING') continue;
      const wait = s && exited(s) ? backOffFor(pod, s, ctx.now) : undefined;
      if (wait) actions.backOff.push(wait);
      else {
        if (s && !exited(s)) actions.killContainers.push({ id: s.id, name: c.name, message: `Container ${c.name} is not running` });
        actions.startSidecars.push(c.name);
      }
    }
  }

  let keep = 0;
  for (const c of spec.containers) {
    const s = latestContainer(rt, c.name, false);
    const inSandbox = s && s.sandboxId === sid;
    if (!s || !inSandbox) {
      if (s && exited(s) && !shouldRestartContainer(policy, s.exitCode)) continue;
      actions.startContainers.push(c.name);
      continue;
    }
    if (s.state === 'CONTAINER_RUNNING') {
      const failed = ctx.livenessFailed?.get(c.name);
      if (failed === undefined) {
        keep++;
        continue;
      }
      actions.killContainers.push({ id: s.id, name: c.name, message: failed });
      if (policy !== 'Never') actions.startContainers.push(c.name);
      continue;
    }
    if (!exited(s)) {
      actions.killContainers.push({ id: s.id, name: c.name, message: `Container ${c.name} is not running` });
      actions.startContainers.push(c.name);
      continue;
    }
    if (!shouldRestartContainer(policy, s.exitCode)) continue;
    const wait = backOffFor(pod, s, ctx.now);
    if (wait) {
      actions.backOff.push(wait);
      keep++;
    } else actions.startContainers.push(c.name);
  }
  if (keep === 0 && actions.startContainers.length === 0) {
    // Nothing regular runs or will: the pod is done, its sidecars are stopped with it.
    actions.killPod = true;
    actions.startSidecars = [];
    actions.killContainers = actions.killContainers.filter((k) => spec.containers.some((c) => c.name === k.name));
    actions.backOff = actions.backOff.filter((b) => spec.containers.some((c) => c.name === b.name));
  }
  return actions;
}
