// A pod's status as the kubelet computes it from its containers' statuses, as pure functions of
// data (kubelet_pods.go getPhase and generateAPIPodStatus, pkg/kubelet/status's
// Generate*Condition): the phase, the conditions in the kubelet's order with its reasons and
// messages, whether an exited container is restarted, and status equality as the API stores it.
// The simulator and the kubelet both report through these.

import { type ContainerStatus, type PodCondition, PodConditionType, PodPhase, type PodStatus } from '../api/core/pod.js';
import { isRestartableInitContainer } from '../api/core/podspec.js';
import type { PodSpec } from '../api/core/types.js';
import { emptyEqual } from '../machinery/equality.js';

/** shouldRestartContainer says whether the kubelet restarts a container that exited with exitCode under restartPolicy (default Always). */
export function shouldRestartContainer(restartPolicy: string | undefined, exitCode: number): boolean {
  const policy = restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** exitReason is the terminated reason the runtime reports for an exit code. */
export function exitReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}

function statusOf(statuses: readonly ContainerStatus[] | undefined, name: string): ContainerStatus | undefined {
  return statuses?.find((s) => s.name === name);
}

/** hasAnyRegularContainerStarted: some regular container has run (so the pod was initialized before). */
function hasAnyRegularContainerStarted(spec: PodSpec, statuses: readonly ContainerStatus[] | undefined): boolean {
  return spec.containers.some((c) => {
    const s = statusOf(statuses, c.name);
    return !!s && (s.state?.running !== undefined || s.state?.terminated !== undefined || s.lastState?.terminated !== undefined);
  });
}

/** goList formats names as Go's %s prints a []string: [a b]. */
function goList(names: readonly string[]): string {
  return `[${names.join(' ')}]`;
}

/**
 * podPhase is the kubelet's getPhase: Pending while a plain init container has not succeeded
 * (or a sidecar has not started, before any regular container ran) or a container waits to be
 * created; Running once every container is known and one runs, or all have exited and will be
 * restarted; Succeeded or Failed when all have exited for good (podIsTerminal: the kubelet is
 * done with the pod, so nothing restarts). A failed init container fails the pod under
 * restartPolicy Never.
 */
export function podPhase(spec: PodSpec, initStatuses: readonly ContainerStatus[] | undefined, statuses: readonly ContainerStatus[] | undefined, podIsTerminal = false): PodPhase {
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    const s = statusOf(initStatuses, c.name);
    if (isRestartableInitContainer(c)) {
      if (!s) unknown++;
      else if (s.state?.running) {
        if (!s.started) pendingSidecars++;
        running++;
      } else if (s.state?.terminated || s.lastState?.terminated) {
        // An exited sidecar does not count for the phase.
      } else if (s.state?.waiting) {
        pendingSidecars++;
        waiting++;
      } else {
        pendingSidecars++;
        unknown++;
      }
      continue;
    }
    if (!s || s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting && s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  for (const c of spec.containers) {
    const s = statusOf(statuses, c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && spec.restartPolicy === 'Never') return PodPhase.Failed;
  if (pendingInit > 0 || (pendingSidecars > 0 && !hasAnyRegularContainerStarted(spec, statuses)) || waiting > 0) return PodPhase.Pending;
  if (running > 0 && unknown === 0) return PodPhase.Running;
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? PodPhase.Succeeded : PodPhase.Failed;
    if ((spec.restartPolicy ?? 'Always') === 'Always') return PodPhase.Running;
    if (stopped === succeeded) return PodPhase.Succeeded;
    if (spec.restartPolicy === 'Never') return PodPhase.Failed;
    return PodPhase.Running;
  }
  return PodPhase.Pending;
}

/**
 * podCondition is a condition of the given status stamped against the current list: it keeps
 * its lastTransitionTime while its status holds; lastProbeTime is null, as the kubelet writes it.
 */
export function podCondition(current: readonly PodCondition[] | undefined, type: string, status: PodCondition['status'], nowText: string, reason?: string, message?: string): PodCondition {
  const old = current?.find((c) => c.type === type);
  const c: PodCondition = {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : nowText,
  };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

type ConditionWant = Pick<PodCondition, 'status' | 'reason' | 'message'>;

const isTerminalPhase = (phase: string) => phase === PodPhase.Succeeded || phase === PodPhase.Failed;
const terminalReason = (phase: string) => (phase === PodPhase.Failed ? 'PodFailed' : 'PodCompleted');

/** containersReady is GenerateContainersReadyCondition: sidecars and regular containers all ready. */
function containersReady(spec: PodSpec, initStatuses: readonly ContainerStatus[] | undefined, statuses: readonly ContainerStatus[] | undefined, phase: string): ConditionWant {
  const unknown: string[] = [];
  const unready: string[] = [];
  const visit = (name: string, list: readonly ContainerStatus[] | undefined) => {
    const s = statusOf(list, name);
    if (!s) unknown.push(name);
    else if (!s.ready) unready.push(name);
  };
  for (const c of spec.initContainers ?? []) if (isRestartableInitContainer(c)) visit(c.name, initStatuses);
  for (const c of spec.containers) visit(c.name, statuses);
  if ((phase === PodPhase.Succeeded && unknown.length === 0) || phase === PodPhase.Failed) return { status: 'False', reason: terminalReason(phase) };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length) messages.push(`containers with unready status: ${goList(unready)}`);
  return messages.length ? { status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') } : { status: 'True' };
}

/** podReady is GeneratePodReadyCondition: containers ready, then every readiness gate's condition True. */
function podReady(spec: PodSpec, current: readonly PodCondition[] | undefined, ready: ConditionWant): ConditionWant {
  if (ready.status !== 'True') return ready;
  const messages: string[] = [];
  for (const g of spec.readinessGates ?? []) {
    const c = current?.find((x) => x.type === g.conditionType);
    if (!c) messages.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') messages.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  return messages.length ? { status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') } : { status: 'True' };
}

/** podInitialized is GeneratePodInitializedCondition: plain init containers succeeded, sidecars started. */
function podInitialized(spec: PodSpec, initStatuses: readonly ContainerStatus[] | undefined, statuses: readonly ContainerStatus[] | undefined, phase: string): ConditionWant {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of spec.initContainers ?? []) {
    const s = statusOf(initStatuses, c.name);
    if (!s) unknown.push(c.name);
    else if (isRestartableInitContainer(c)) {
      if (!s.started) incomplete.push(c.name);
    } else if (s.state?.terminated?.exitCode !== 0) incomplete.push(c.name);
  }
  if (phase === PodPhase.Succeeded && unknown.length === 0) return { status: 'True', reason: 'PodCompleted' };
  if (hasAnyRegularContainerStarted(spec, statuses)) return { status: 'True' };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  return messages.length ? { status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') } : { status: 'True' };
}

/** kubeletConditionTypes are the conditions kubeletPodConditions owns; any other is kept as it is. */
const kubeletConditionTypes = new Set<string>([
  PodConditionType.PodReadyToStartContainers,
  PodConditionType.Initialized,
  PodConditionType.Ready,
  PodConditionType.ContainersReady,
  PodConditionType.PodScheduled,
]);

/** PodConditionsInput is what kubeletPodConditions is computed from. */
export interface PodConditionsInput {
  spec: PodSpec;
  /** current are the conditions the pod has now (their times are kept while their status holds). */
  current?: readonly PodCondition[];
  phase: string;
  initContainerStatuses?: readonly ContainerStatus[];
  containerStatuses?: readonly ContainerStatus[];
  /** sandboxReady: the pod's sandbox and network are up (PodReadyToStartContainers). */
  sandboxReady: boolean;
  nowText: string;
}

/**
 * kubeletPodConditions are the pod's conditions in the order the kubelet writes them:
 * PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled (the scheduler's,
 * kept; True when missing), then every other condition (readiness gates, DisruptionTarget) as
 * it is.
 */
export function kubeletPodConditions(input: PodConditionsInput): PodCondition[] {
  const { spec, current, phase, nowText } = input;
  const stamp = (type: string, w: ConditionWant) => podCondition(current, type, w.status, nowText, w.reason, w.message);
  const cr = containersReady(spec, input.initContainerStatuses, input.containerStatuses, phase);
  const ready = isTerminalPhase(phase) ? { status: 'False' as const, reason: terminalReason(phase) } : podReady(spec, current, cr);
  return [
    podCondition(current, PodConditionType.PodReadyToStartContainers, input.sandboxReady ? 'True' : 'False', nowText),
    stamp(PodConditionType.Initialized, podInitialized(spec, input.initContainerStatuses, input.containerStatuses, phase)),
    stamp(PodConditionType.Ready, ready),
    stamp(PodConditionType.ContainersReady, cr),
    current?.find((c) => c.type === PodConditionType.PodScheduled) ?? podCondition(undefined, PodConditionType.PodScheduled, 'True', nowText),
    ...(current ?? []).filter((c) => !kubeletConditionTypes.has(c.type)),
  ];
}

/**
 * statusEqual compares two statuses as the API stores them: a missing field equals null, an
 * empty object or an empty list, and key order does not matter. Equal means nothing to write.
 */
export const statusEqual = emptyEqual;

/** isStarted says whether the kubelet already reported this pod (it has a startTime). */
export function isStarted(status: PodStatus | undefined): boolean {
  return !!status?.startTime;
}
