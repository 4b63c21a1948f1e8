// What a simulated kubelet reports for a pod, as one pure function of the pod, the time and its
// addresses: the status a kubelet would write after running the pod's containers, in the
// simulated outcome the pod asks for (label skiff.dev/sim, or --fail-selector /
// --crashloop-selector): run and be Ready, run never Ready, exit 1, exit 0, or crash over and
// over. The pod's restartPolicy decides, as in the kubelet, whether an exited container is
// restarted (with the kubelet's crash-loop back-off: 10s doubling to 5m) or ends the pod
// Succeeded/Failed. spec.activeDeadlineSeconds fails the pod with reason DeadlineExceeded.
//
// Every timestamp already in the status is kept while what it dates holds, so computing the
// status again from its own result gives the same object: "nothing to write".

import { createHash } from 'node:crypto';
import { type ContainerStatus, type Pod, type PodStatus, PodPhase } from '../lib/api/core/pod.js';
import { isRestartableInitContainer } from '../lib/api/core/podspec.js';
import type { Container } from '../lib/api/core/types.js';
import { nowRFC3339 } from '../lib/api/meta.js';
import { parseDuration } from '../lib/machinery/duration.js';
import { type LabelSelectorExpr, matches } from '../lib/machinery/labels.js';
import { CrashLoopBackOffReason, crashLoopBackOffMessage, crashLoopBackOffMs } from '../lib/pod/backoff.js';
import { exitReason, kubeletPodConditions, podPhase, shouldRestartContainer } from '../lib/pod/status.js';

/** SimLabel picks a pod's simulated outcome: fail, crashloop, unready or succeed. */
export const SimLabel = 'skiff.dev/sim';

/**
 * SimRunForAnnotation delays a succeed, fail or crashloop pod's first exit: its containers run
 * (and are ready) for this Go duration after the pod starts ("3s"), as a batch job would.
 */
export const SimRunForAnnotation = 'skiff.dev/sim-run-for';

/** SimExitCodeAnnotation is the exit code of a fail or crashloop pod's containers (default 1). */
export const SimExitCodeAnnotation = 'skiff.dev/sim-exit-code';

/** SimMode is how a pod's containers behave. */
export const SimMode = {
  /** Run: containers run and are ready. */
  Run: 'run',
  /** Unready: containers run and are never ready. */
  Unready: 'unready',
  /** Fail: containers exit 1 right after they start. */
  Fail: 'fail',
  /** Succeed: containers exit 0 right after they start. */
  Succeed: 'succeed',
  /** CrashLoop: containers exit 1 right after every start. */
  CrashLoop: 'crashloop',
} as const;
export type SimMode = (typeof SimMode)[keyof typeof SimMode];

/** ModeSelectors are the flag selectors that pick failing pods besides the label. */
export interface ModeSelectors {
  failSelector?: LabelSelectorExpr;
  crashLoopSelector?: LabelSelectorExpr;
}

/** simModeOf reads a pod's mode: the skiff.dev/sim label first, then the flag selectors. */
export function simModeOf(pod: Pod, selectors: ModeSelectors = {}): SimMode {
  const labels = pod.metadata?.labels;
  switch (labels?.[SimLabel]) {
    case 'fail':
      return SimMode.Fail;
    case 'crashloop':
      return SimMode.CrashLoop;
    case 'unready':
      return SimMode.Unready;
    case 'succeed':
      return SimMode.Succeed;
  }
  if (selectors.crashLoopSelector && matches(selectors.crashLoopSelector, labels)) return SimMode.CrashLoop;
  if (selectors.failSelector && matches(selectors.failSelector, labels)) return SimMode.Fail;
  return SimMode.Run;
}

/** DeadlineExceededReason is the reason (and message) of a pod failed by spec.activeDeadlineSeconds. */
export const DeadlineExceededReason = 'DeadlineExceeded';
export const DeadlineExceededMessage = 'Pod was active on the node longer than the specified deadline';

/** imageRef is the fully qualified image a runtime reports (docker.io/library/nginx:latest). */
export function imageRef(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  let digest = '';
  if (at >= 0) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  if (!digest && !/:[^/]+$/.test(name)) name += ':latest';
  return name + digest;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** imageID is a digest reference that stays the same for the same image. */
export function imageID(image: string): string {
  const ref = imageRef(image);
  const repo = ref.replace(/@.*$/, '').replace(/:[^/]+$/, '');
  return `${repo}@sha256:${sha256(image)}`;
}

/** containerID names a container instance: the same pod, container and restart always get the same id. */
export function containerID(podUID: string, name: string, restartCount: number): string {
  return `sim://${sha256(`${podUID}/${name}/${restartCount}`)}`;
}

/** PodStatusInput is what computePodStatus needs besides the pod. */
export interface PodStatusInput {
  /** now is wall time in milliseconds. */
  now: number;
  mode: SimMode;
  hostIP: string;
  /** podIP is the pod's address (the host's for hostNetwork pods). */
  podIP: string;
}

/** PodStatusResult is the status to report and when it changes next on its own (undefined: never). */
export interface PodStatusResult {
  status: PodStatus;
  nextAt?: number;
}

type Outcome = { kind: 'running'; ready: boolean } | { kind: 'exit'; exitCode: number };

function outcomeFor(mode: SimMode, pod: Pod): Outcome {
  const code = Number.parseInt(pod.metadata?.annotations?.[SimExitCodeAnnotation] ?? '', 10);
  const failCode = Number.isInteger(code) && code > 0 && code < 256 ? code : 1;
  switch (mode) {
    case SimMode.Run:
      return { kind: 'running', ready: true };
    case SimMode.Unready:
      return { kind: 'running', ready: false };
    case SimMode.Succeed:
      return { kind: 'exit', exitCode: 0 };
    case SimMode.Fail:
    case SimMode.CrashLoop:
      return { kind: 'exit', exitCode: failCode };
  }
}

/** runForMs reads SimRunForAnnotation (0 when absent or not a duration). */
function runForMs(pod: Pod): number {
  const text = pod.metadata?.annotations?.[SimRunForAnnotation];
  if (!text) return 0;
  try {
    return parseDuration(text);
  } catch {
    return 0;
  }
}

/** ContainerStep is one container's computed status and when it next changes by itself. */
interface ContainerStep {
  status: ContainerStatus;
  /** terminal: exited and will not be restarted. */
  terminal: boolean;
  exitCode?: number;
  nextAt?: number;
}

interface ContainerContext {
  pod: Pod;
  now: number;
  nowText: string;
  startTime: string;
  /** killed: the pod is being stopped (deadline): every container ends. */
  killed: boolean;
}

/** imageCache remembers imageRef and imageID per image: a cluster runs few images in many pods. */
const imageCache = new Map<string, { ref: string; id: string }>();

function imageInfo(image: string): { ref: string; id: string } {
  let info = imageCache.get(image);
  if (!info) {
    if (imageCache.size >= 10_000) imageCache.clear();
    info = { ref: imageRef(image), id: imageID(image) };
    imageCache.set(image, info);
  }
  return info;
}

function baseStatus(c: Container, restartCount: number, ctx: ContainerContext): ContainerStatus {
  const image = imageInfo(c.image ?? '');
  return {
    name: c.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount,
    image: image.ref,
    imageID: image.id,
    containerID: containerID(ctx.pod.metadata.uid ?? '', c.name, restartCount),
    started: false,
  };
}

/**
 * containerStep moves one regular container (or sidecar) along: from nothing or its current
 * status to what the outcome asks for at ctx.now.
 */
function containerStep(c: Container, cur: ContainerStatus | undefined, outcome: Outcome, restartPolicy: string | undefined, ctx: ContainerContext): ContainerStep {
  const count = cur?.restartCount ?? 0;
  // A container already terminated for good stays so (the API forbids leaving it).
  if (cur?.state?.terminated && !shouldRestartContainer(restartPolicy, cur.state.terminated.exitCode)) {
    return { status: cur, terminal: true, exitCode: cur.state.terminated.exitCode };
  }
  if (ctx.killed) {
    // Killed by the kubelet: SIGKILL after the grace period, as a deadline kill ends.
    const s = baseStatus(c, count, ctx);
    const startedAt = cur?.state?.running?.startedAt ?? cur?.lastState?.terminated?.startedAt ?? ctx.startTime;
    s.state = { terminated: { exitCode: 137, reason: 'Error', startedAt, finishedAt: ctx.nowText, containerID: s.containerID } };
    if (cur?.state?.terminated) s.state = { terminated: cur.state.terminated };
    s.lastState = cur?.lastState ?? {};
    return { status: s, terminal: true, exitCode: 137 };
  }
  if (outcome.kind === 'running') {
    const wasRunning = cur?.state?.running !== undefined;
    // A container that was waiting or had exited is restarted once more.
    const restartCount = cur && !wasRunning ? count + 1 : count;
    const s = baseStatus(c, restartCount, ctx);
    const startedAt = wasRunning && cur?.containerID === s.containerID ? cur.state!.running!.startedAt ?? ctx.nowText : cur ? ctx.nowText : ctx.startTime;
    s.state = { running: { startedAt } };
    s.lastState = cur && !wasRunning ? lastTerminated(cur) : cur?.lastState ?? {};
    s.ready = outcome.ready;
    s.started = true;
    return { status: s, terminal: false };
  }
  const { exitCode } = outcome;
  if (!shouldRestartContainer(restartPolicy, exitCode)) {
    const s = baseStatus(c, count, ctx);
    const startedAt = cur?.state?.running?.startedAt ?? ctx.startTime;
    s.state = { terminated: { exitCode, reason: exitReason(exitCode), startedAt, finishedAt: cur ? ctx.nowText : ctx.startTime, containerID: s.containerID } };
    s.lastState = cur?.lastState ?? {};
    return { status: s, terminal: true, exitCode };
  }
  // Crash loop: the container exits, the kubelet restarts it after the back-off, it exits again.
  const waiting = cur?.state?.waiting?.reason === CrashLoopBackOffReason;
  const finishedAt = cur?.lastState?.terminated?.finishedAt;
  if (waiting && finishedAt) {
    const due = Date.parse(finishedAt) + crashLoopBackOffMs(count);
    if (ctx.now < due) return { status: cur, terminal: false, nextAt: due };
  }
  const restartCount = count + 1;
  const s = baseStatus(c, restartCount, ctx);
  const startedAt = cur?.state?.running?.startedAt ?? (cur ? ctx.nowText : ctx.startTime);
  const backOff = crashLoopBackOffMs(restartCount);
  s.state = { waiting: { reason: CrashLoopBackOffReason, message: crashLoopBackOffMessage(backOff, c.name, ctx.pod) } };
  s.lastState = { terminated: { exitCode, reason: exitReason(exitCode), startedAt, finishedAt: ctx.nowText, containerID: containerID(ctx.pod.metadata.uid ?? '', c.name, count) } };
  return { status: s, terminal: false, nextAt: Date.parse(ctx.nowText) + backOff };
}

function lastTerminated(cur: ContainerStatus): ContainerStatus['lastState'] {
  if (cur.state?.terminated) return { terminated: cur.state.terminated };
  return cur.lastState ?? {};
}

/** initContainerStep: plain init containers have completed; sidecars run (and are ready) like regular containers. */
function initContainerStep(c: Container, cur: ContainerStatus | undefined, ctx: ContainerContext): ContainerStep {
  if (isRestartableInitContainer(c)) return containerStep(c, cur, { kind: 'running', ready: true }, 'Always', ctx);
  if (cur?.state?.terminated) return { status: cur, terminal: true, exitCode: cur.state.terminated.exitCode };
  const s = baseStatus(c, 0, ctx);
  s.state = { terminated: { exitCode: 0, reason: 'Completed', startedAt: ctx.startTime, finishedAt: ctx.startTime, containerID: s.containerID } };
  s.ready = true;
  return { status: s, terminal: true, exitCode: 0 };
}

/**
 * computePodStatus is the status a kubelet reports for pod at input.now. The first call (no
 * startTime yet) starts the pod; later calls move it along (crash-loop restarts, the active
 * deadline) and otherwise return the current status unchanged, timestamps included.
 */
export function computePodStatus(pod: Pod, input: PodStatusInput): PodStatusResult {
  const cur = pod.status ?? {};
  const nowText = nowRFC3339(new Date(input.now));
  const startTime = cur.startTime ?? nowText;
  const spec = pod.spec;
  let nextAt: number | undefined;
  const later = (t: number | undefined) => {
    if (t !== undefined && (nextAt === undefined || t < nextAt)) nextAt = t;
  };

  const alreadyTerminal = cur.phase === PodPhase.Succeeded || cur.phase === PodPhase.Failed;
  const deadlineAt = spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null ? Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 : undefined;
  const deadlineExceeded = !alreadyTerminal && deadlineAt !== undefined && input.now >= deadlineAt;
  const ctx: ContainerContext = { pod, now: input.now, nowText, startTime, killed: deadlineExceeded };

  const curInit = new Map((cur.initContainerStatuses ?? []).map((s) => [s.name, s]));
  const curMain = new Map((cur.containerStatuses ?? []).map((s) => [s.name, s]));
  const initSteps = (spec.initContainers ?? []).map((c) => initContainerStep(c, curInit.get(c.name), ctx));
  let outcome = outcomeFor(input.mode, pod);
  const exitAt = Date.parse(startTime) + runForMs(pod);
  if (outcome.kind === 'exit' && input.now < exitAt) {
    outcome = { kind: 'running', ready: true };
    later(exitAt);
  }
  const mainSteps = (spec.containers ?? []).map((c) => containerStep(c, curMain.get(c.name), outcome, spec.restartPolicy, ctx));
  for (const s of [...initSteps, ...mainSteps]) later(s.nextAt);

  let phase: string;
  if (alreadyTerminal) phase = cur.phase!;
  else if (deadlineExceeded) phase = PodPhase.Failed;
  else {
    phase = podPhase(
      spec,
      initSteps.map((s) => s.status),
      mainSteps.map((s) => s.status),
    );
  }
  const terminal = phase === PodPhase.Succeeded || phase === PodPhase.Failed;
  if (!terminal && deadlineAt !== undefined) later(deadlineAt);

  const conditions = kubeletPodConditions({
    spec,
    current: cur.conditions,
    phase,
    initContainerStatuses: initSteps.map((s) => s.status),
    containerStatuses: mainSteps.map((s) => s.status),
    sandboxReady: !terminal,
    nowText,
  });

  const status: PodStatus = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: input.podIP,
    podIPs: [{ ip: input.podIP }],
    startTime,
  };
  if (cur.qosClass) status.qosClass = cur.qosClass;
  if (initSteps.length) status.initContainerStatuses = initSteps.map((s) => s.status);
  status.containerStatuses = mainSteps.map((s) => s.status);
  if (deadlineExceeded) {
    status.reason = DeadlineExceededReason;
    status.message = DeadlineExceededMessage;
  } else if (alreadyTerminal) {
    if (cur.reason) status.reason = cur.reason;
    if (cur.message) status.message = cur.message;
  }
  return { status, nextAt: terminal ? undefined : nextAt };
}
