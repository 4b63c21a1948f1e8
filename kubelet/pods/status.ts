// The pod status a real node reports, as a pure function of the pod, what the runtime holds for it
// and the pod worker's memory of failed starts (kubelet_pods.go generateAPIPodStatus and
// convertToAPIContainerStatuses): each container's state from its newest instance and lastState
// from the one before, Waiting reasons from the last failed start (ErrImagePull,
// CreateContainerConfigError, CrashLoopBackOff…), the phase and conditions through lib/pod/status.

import { computeQOSClass, type ContainerStatus, type ContainerState, type Pod, type PodStatus } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { exitReason, kubeletPodConditions, podPhase } from '../../lib/pod/status.js';
import { sandboxNeedsReplacing } from './actions.js';
import type { RuntimeContainer, RuntimePod } from './runtime.js';

/** ContainerCreating and PodInitializing are the waiting reasons of a container not created yet. */
export const ContainerCreating = 'ContainerCreating';
export const PodInitializing = 'PodInitializing';

/** WaitingReason is why a container is not running: the last failed start, or its back-off. */
export interface WaitingReason {
  reason: string;
  message?: string;
}

/** StatusContext is the rest of computePodStatus' input. */
export interface StatusContext {
  /** now is wall time, epoch milliseconds. */
  now: number;
  hostIP: string;
  /** waiting are the containers' last start failures by name (the kubelet's reasonCache). */
  waiting: ReadonlyMap<string, WaitingReason>;
  /** ready and started are the probes' verdicts for a running container. */
  ready(name: string): boolean;
  started(name: string): boolean;
  /** podIsTerminal: the kubelet has stopped the pod for good (deleted): its phase is final. */
  podIsTerminal?: boolean;
}

const rfc3339 = (ms: number) => nowRFC3339(new Date(ms));

/** containerID is how the API names a runtime container: containerd://<id>. */
export const containerID = (id: string) => `containerd://${id}`;

function terminatedState(c: RuntimeContainer): ContainerState {
  const t: NonNullable<ContainerState['terminated']> = {
    exitCode: c.exitCode,
    reason: c.reason || exitReason(c.exitCode),
    startedAt: c.startedAt ? rfc3339(c.startedAt) : null,
    finishedAt: c.finishedAt ? rfc3339(c.finishedAt) : null,
    containerID: containerID(c.id),
  } as NonNullable<ContainerState['terminated']>;
  if (c.message) t.message = c.message;
  return { terminated: t };
}

/** containerStatus is one container's status from its instances (newest first) and its waiting reason. */
function containerStatus(spec: Container, instances: RuntimeContainer[], waiting: WaitingReason | undefined, defaultReason: string, ctx: StatusContext): ContainerStatus {
  const [cur, prev] = instances;
  const s: ContainerStatus = {
    name: spec.name,
    state: { waiting: { reason: defaultReason } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: spec.image ?? '',
    imageID: '',
    started: false,
  };
  if (cur) {
    s.restartCount = cur.restartCount;
    if (cur.image) s.image = cur.image;
    s.imageID = cur.imageRef;
    s.containerID = containerID(cur.id);
    if (cur.state === 'CONTAINER_RUNNING') {
      s.state = { running: { startedAt: rfc3339(cur.startedAt || cur.createdAt) } };
      s.started = ctx.started(spec.name);
      s.ready = s.started && ctx.ready(spec.name);
    } else if (cur.state === 'CONTAINER_EXITED') {
      s.state = terminatedState(cur);
    } else if (cur.state === 'CONTAINER_UNKNOWN') {
      s.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', containerID: containerID(cur.id) } as NonNullable<ContainerState['terminated']> };
    } else {
      s.state = { waiting: { reason: ContainerCreating } };
    }
    if (prev && prev.state === 'CONTAINER_EXITED') s.lastState = terminatedState(prev);
  }
  // A failed start or a back-off shows as Waiting; a container that had exited keeps that exit
  // as lastState.
  if (waiting && !s.state?.running) {
    if (s.state?.terminated) s.lastState = { terminated: s.state.terminated };
    s.state = { waiting: waiting.message ? { reason: waiting.reason, message: waiting.message } : { reason: waiting.reason } };
  }
  if (!s.state?.running) {
    s.ready = false;
    s.started = false;
  }
  return s;
}

/** podIPs are the pod's addresses: the ready sandbox's, the host's for hostNetwork, else the last reported. */
function podIPs(pod: Pod, rt: RuntimePod | undefined, hostIP: string): string[] {
  if (pod.spec.hostNetwork) return hostIP ? [hostIP] : [];
  const sandbox = rt?.sandboxes.find((s) => s.state === 'SANDBOX_READY' && s.ips.length > 0);
  if (sandbox) return sandbox.ips;
  return (pod.status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
}

/**
 * computePodStatus is the status the kubelet writes for pod: startTime, qosClass and the
 * scheduler's PodScheduled are kept; phase and the other conditions, addresses and container
 * statuses are computed afresh from the runtime. A pod the API already has in a terminal phase
 * keeps its status: nothing of it runs again.
 */
export function computePodStatus(pod: Pod, rt: RuntimePod | undefined, ctx: StatusContext): PodStatus {
  const cur = pod.status ?? {};
  const spec = pod.spec;
  const nowText = rfc3339(ctx.now);
  const inits = spec.initContainers ?? [];
  const instances = (name: string, init: boolean) => (rt?.containers ?? []).filter((c) => c.name === name && c.init === init);
  const defaultReason = inits.length > 0 ? PodInitializing : ContainerCreating;
  const initStatuses = inits.map((c) => containerStatus(c, instances(c.name, true), ctx.waiting.get(c.name), defaultReason, ctx));
  const statuses = spec.containers.map((c) => containerStatus(c, instances(c.name, false), ctx.waiting.get(c.name), defaultReason, ctx));
  const phase = cur.phase === 'Succeeded' || cur.phase === 'Failed' ? cur.phase : podPhase(spec, initStatuses, statuses, ctx.podIsTerminal);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const sandbox = sandboxNeedsReplacing(pod, rt?.sandboxes ?? []);
  const ips = podIPs(pod, rt, ctx.hostIP);
  const status: PodStatus = {
    phase,
    conditions: kubeletPodConditions({
      spec,
      current: cur.conditions,
      phase,
      initContainerStatuses: initStatuses,
      containerStatuses: statuses,
      sandboxReady: !sandbox.changed && !terminal,
      nowText,
    }),
    hostIP: ctx.hostIP,
    hostIPs: ctx.hostIP ? [{ ip: ctx.hostIP }] : [],
    startTime: cur.startTime ?? nowText,
    qosClass: cur.qosClass ?? computeQOSClass(pod),
  };
  if (ips.length) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  if (inits.length) status.initContainerStatuses = initStatuses;
  status.containerStatuses = statuses;
  if (cur.reason) status.reason = cur.reason;
  if (cur.message) status.message = cur.message;
  if (cur.nominatedNodeName) status.nominatedNodeName = cur.nominatedNodeName;
  return status;
}
