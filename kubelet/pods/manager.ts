// The pods of one real node: a worker per pod, serialized per pod, that compares the pod with what
// the runtime holds (computePodActions, a pure function), carries the actions out through CRI
// (volumes, sandbox, image, env, container, hooks, probes: every call safe to repeat), then
// writes the status the kubelet would (computePodStatus) through pods/status when it changed.
// Workers are woken by the informer (onPod/onPodDelete), by a relist of the runtime every second
// (the kubelet's PLEG), by the probes, and by timers for back-offs. A failure never throws out of
// a worker: it becomes a Waiting reason, an event and a retry after a back-off.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod, PodStatus } from '../../lib/api/core/pod.js';
import type { Secret } from '../../lib/api/core/secret.js';
import { isRestartableInitContainer } from '../../lib/api/core/podspec.js';
import { quantityNanos } from '../../lib/api/core/quantity.js';
import type { Container } from '../../lib/api/core/types.js';
import { nowRFC3339 } from '../../lib/api/meta.js';
import { type Client, isConflict, isNotFound as isApiNotFound } from '../../lib/client/client.js';
import type { EventType, Recorder } from '../../lib/client/events.js';
import { Pods } from '../../lib/client/resources.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { Histogram, type Registry } from '../../lib/metrics.js';
import { CrashLoopBackOffReason } from '../../lib/pod/backoff.js';
import { statusEqual } from '../../lib/pod/status.js';

import { type CriClient, isNotFound as isCriNotFound } from '../cri/client.js';
import type { PodSandboxConfig } from '../cri/types.js';
import { ConfigError, containerEnv, expandCommand } from '../env/env.js';
import { PodTerminationGracePeriodAnnotation } from '../labels.js';
import { ProbeManager, runLifecycleHook } from '../prober/prober.js';
import { containerMounts, type ObjectSources, type PodVolumes, setUpPodVolumes, tearDownPodVolumes, VolumeError } from '../volumes/volumes.js';
import { type PodActions, computePodActions, latestContainer } from './actions.js';
import { admitPod } from './admission.js';
import { removePodCgroup } from './cgroups.js';
import { grpcMessage, StartError } from './errors.js';
import { ImagePuller } from './images.js';
import { ContainerLogManager } from '../logs/rotation.js';
import { containerConfig, type NodeConfig, podCgroupParent, podLogDirectory, sandboxConfig } from './config.js';
import { RuntimeState, type RuntimeContainer, type RuntimePod } from './runtime.js';
import { computePodStatus, containerID, type WaitingReason } from './status.js';

/** DeadlineExceededReason and DeadlineExceededMessage fail a pod past spec.activeDeadlineSeconds (the kubelet's words). */
const DeadlineExceededReason = 'DeadlineExceeded';
const DeadlineExceededMessage = 'Pod was active on the node longer than the specified deadline';

/** PodManagerOptions are what the pod workers need from the kubelet. */
export interface PodManagerOptions {
  nodeName: string;
  /** client is the kubelet's API client (a RestClient; a FakeClient in unit tests). */
  client: Client;
  runtime: CriClient;
  recorder: Recorder;
  log: Logger;
  metrics: Registry;
  /** clock must tell wall time (wallClock): its now() is compared with the runtime's timestamps. */
  clock: Clock;
  sources: ObjectSources;
  /** rootDir is the kubelet's directory (pods/<uid>/volumes …). */
  rootDir: string;
  /** podLogsDir is where containers log (<ns>_<name>_<uid>/<container>/<restart>.log). */
  podLogsDir: string;
  /** cgroupParent is the cgroup under which pod cgroups are made (e.g. /skiff/<node>). */
  cgroupParent: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** hostIP is the node's InternalIP (status.hostIP). */
  hostIP: string;
  /** nodeAllocatable is the node's allocatable, for admission and resourceFieldRef. */
  nodeAllocatable: () => Record<string, string>;
  /** relistPeriodMs is how often the runtime is listed for changes (the kubelet's PLEG: 1 s). */
  relistPeriodMs?: number;
  /** containerLogMaxSize is the size in bytes past which a container's log is rotated (default 10Mi). */
  containerLogMaxSize?: number;
  /** containerLogMaxFiles is how many log files a container keeps, the live one included (default 5). */
  containerLogMaxFiles?: number;
}

/** ErrorRetryMs is the wait before a sync that failed is tried again (the kubelet's backOffPeriod). */
const ErrorRetryMs = 10_000;
/** ResyncMs is how often a pod is synced when nothing happens to it. */
const ResyncMs = 60_000;
/** MinGracePeriodSeconds is the least time a container is given to stop (minimumGracePeriodInSeconds). */
const MinGracePeriodSeconds = 2;

/** Worker is the pod worker's memory of one pod. */
interface Worker {
  uid: string;
  pod: Pod;
  /** deleted: the pod is gone from the API (onPodDelete). */
  deleted: boolean;
  /** done: the worker has nothing more to do (pod terminated and its delete confirmed, or rejected). */
  done: boolean;
  admitted: boolean;
  running: boolean;
  dirty: boolean;
  timer?: TimerHandle;
  timerAt?: number;
  fingerprint: string;
  /** waiting is the reasonCache: the last failed start of each container. */
  waiting: Map<string, WaitingReason>;
  livenessFailed: Map<string, string>;
  /** backOffEvents remembers the back-off each BackOff event was recorded for (one event per wait). */
  backOffEvents: Map<string, number>;
  /** probed maps container names to the container id the prober watches. */
  probed: Map<string, string>;
  volumes?: PodVolumes;
  volumesAt: number;
  sandboxReady: boolean;
  /** retryAt is when a failed step is tried again. */
  retryAt?: number;
  /** firstSeen is when the worker was made (monotonic ms), until the pod first runs. */
  firstSeen?: number;
}

/** formatPod is the kubelet's format.Pod: name_namespace(uid). */
function formatPod(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

function newerPod(a: Pod, b: Pod): boolean {
  const ra = Number(a.metadata.resourceVersion ?? 0);
  const rb = Number(b.metadata.resourceVersion ?? 0);
  return Number.isNaN(ra) || Number.isNaN(rb) || ra >= rb;
}

const isTerminalPhase = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

/** PodManager runs the pods bound to this node through CRI and reports their status. */
export class PodManager {
  private readonly workers = new Map<string, Worker>();
  private readonly state: RuntimeState;
  private readonly probes: ProbeManager;
  private readonly node: NodeConfig;
  private readonly logs: ContainerLogManager;
  private readonly images: ImagePuller;
  private readonly workerDuration: Histogram;
  private readonly startDuration: Histogram;
  private relistTimer?: TimerHandle;
  /** started: start() ran (pods fed before are held until then); stopped: stop() ran. */
  private started = false;
  private stopped = false;
  private orphansChecked = false;

  constructor(readonly opts: PodManagerOptions) {
    this.state = new RuntimeState(opts.runtime);
    this.probes = new ProbeManager({
      runtime: opts.runtime,
      recorder: opts.recorder,
      log: opts.log,
      onChange: (uid) => this.wake(uid),
      onLivenessFailure: (uid, name, message) => {
        const w = this.workers.get(uid);
        if (!w) return;
        w.livenessFailed.set(name, message);
        this.enqueue(w);
      },
    });
    this.workerDuration = histogram(opts.metrics, 'kubelet_pod_worker_duration_seconds', 'Duration in seconds to sync a single pod.', [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
    this.startDuration = histogram(opts.metrics, 'kubelet_pod_start_duration_seconds', 'Duration in seconds from the kubelet seeing a pod for the first time to the pod starting to run.', [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120]);
    this.images = new ImagePuller({
      runtime: opts.runtime,
      event: (pod, type, reason, message) => this.event(pod, type, reason, message),
      now: () => this.now(),
      pullSecrets: (pod) => this.pullSecrets(pod),
    });
    this.logs = new ContainerLogManager({
      runtime: opts.runtime,
      clock: opts.clock,
      log: opts.log,
      maxSize: opts.containerLogMaxSize,
      maxFiles: opts.containerLogMaxFiles,
    });
    this.node = {
      podLogsDir: opts.podLogsDir,
      cgroupParent: opts.cgroupParent,
      clusterDNS: opts.clusterDNS,
      clusterDomain: opts.clusterDomain,
      memoryCapacity: 0,
    };
  }

  /**
   * start adopts what the runtime already runs (after a kubelet restart) and starts working.
   * Call it before feeding pods: it lists the runtime's pods, then the API's pods bound to this
   * node (one LIST), and stops and removes every runtime pod whose pod is gone from the API
   * (deleted while the kubelet was down); if the API cannot be reached it tries again on each
   * relist. Running containers of pods that still exist are left alone: when the informer has
   * synced, the caller calls onPod for each pod, and the workers adopt the containers they find
   * (restart counts and back-offs carry on from the containers' annotations and timestamps).
   */
  async start(): Promise<void> {
    if (this.stopped) throw new Error('PodManager: start after stop');
    try {
      await this.cleanupOrphans();
    } catch (err) {
      this.opts.log.warn('Could not look for pods deleted while the kubelet was down; will retry', { err: String(err) });
    }
    this.started = true;
    // Pods fed before start() were held: their workers begin now.
    for (const w of this.workers.values()) if (!w.done) this.enqueue(w);
    this.scheduleRelist();
    this.logs.start();
    this.opts.log.info('Started pod workers', { node: this.opts.nodeName });
  }

  /** onPod is called for every add/update of a pod bound to this node. */
  onPod(pod: Pod): void {
    if (this.stopped || pod.spec?.nodeName !== this.opts.nodeName || !pod.metadata.uid) return;
    let w = this.workers.get(pod.metadata.uid);
    if (!w) {
      w = this.newWorker(pod);
      this.workers.set(w.uid, w);
    } else {
      // The echo of our own status write (same resourceVersion) changes nothing.
      if (pod.metadata.resourceVersion && pod.metadata.resourceVersion === w.pod.metadata.resourceVersion) return;
      if (newerPod(pod, w.pod)) w.pod = pod;
    }
    if (w.done) return;
    this.enqueue(w);
  }

  /** onPodDelete is called when a pod bound to this node is gone from the API. */
  onPodDelete(pod: Pod): void {
    if (this.stopped || !pod.metadata.uid) return;
    let w = this.workers.get(pod.metadata.uid);
    if (!w) {
      w = this.newWorker(pod);
      this.workers.set(w.uid, w);
    }
    w.deleted = true;
    w.done = false;
    this.enqueue(w);
  }

  /** runningPods is how many pods have a sandbox on this node. */
  get runningPods(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.sandboxReady) n++;
    return n;
  }

  /** busy is whether a pod worker is in the middle of a sync (tests wait for it). */
  get busy(): boolean {
    for (const w of this.workers.values()) if (w.running) return true;
    return false;
  }

  /** stop ends the workers and leaves every container running (a restarted kubelet adopts them). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.relistTimer !== undefined) this.opts.clock.clearTimeout(this.relistTimer);
    for (const w of this.workers.values()) if (w.timer !== undefined) this.opts.clock.clearTimeout(w.timer);
    this.probes.stop();
    void this.logs.stop();
    // Let syncs under way finish their current CRI call chain (bounded).
    const deadline = Date.now() + 15_000;
    while ([...this.workers.values()].some((w) => w.running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduling

  private newWorker(pod: Pod): Worker {
    return {
      uid: pod.metadata.uid!,
      pod,
      deleted: false,
      done: false,
      // A pod a kubelet has started before (startTime) was admitted then.
      admitted: !!pod.status?.startTime,
      running: false,
      dirty: false,
      fingerprint: '',
      waiting: new Map(),
      livenessFailed: new Map(),
      backOffEvents: new Map(),
      probed: new Map(),
      volumesAt: 0,
      sandboxReady: false,
      firstSeen: pod.status?.phase === 'Running' ? undefined : performance.now(),
    };
  }

  private wake(uid: string): void {
    const w = this.workers.get(uid);
    if (w && !w.done) this.enqueue(w);
  }

  /** enqueue runs the pod's sync now, or once more after the one under way (one at a time per pod). */
  private enqueue(w: Worker): void {
    if (this.stopped || !this.started) return;
    if (w.running) {
      w.dirty = true;
      return;
    }
    w.running = true;
    void (async () => {
      try {
        do {
          w.dirty = false;
          const t0 = performance.now();
          try {
            await this.syncPod(w);
            this.workerDuration.observe((performance.now() - t0) / 1000);
          } catch (err) {
            this.opts.log.error('Pod sync failed', { pod: formatPod(w.pod), err: String(err) });
            this.syncAt(w, this.now() + ErrorRetryMs);
          }
        } while (w.dirty && !this.stopped);
      } finally {
        w.running = false;
      }
    })();
  }

  /** syncAt makes sure the pod is synced again no later than at (wall ms). */
  private syncAt(w: Worker, at: number): void {
    if (this.stopped || w.done) return;
    if (w.timer !== undefined && w.timerAt !== undefined && w.timerAt <= at) return;
    if (w.timer !== undefined) this.opts.clock.clearTimeout(w.timer);
    w.timerAt = at;
    w.timer = this.opts.clock.setTimeout(() => {
      w.timer = undefined;
      w.timerAt = undefined;
      this.enqueue(w);
    }, Math.max(0, at - this.now()));
  }

  private scheduleRelist(): void {
    if (this.stopped) return;
    this.relistTimer = this.opts.clock.setTimeout(() => {
      void this.relist().finally(() => this.scheduleRelist());
    }, this.opts.relistPeriodMs ?? 1000);
  }

  /** relist wakes the workers of pods whose runtime objects changed state (the kubelet's PLEG). */
  private async relist(): Promise<void> {
    if (!this.orphansChecked) await this.cleanupOrphans().catch(() => undefined);
    let fps;
    try {
      fps = await this.state.fingerprints();
    } catch (err) {
      this.opts.log.v(2).info('Runtime relist failed', { err: String(err) });
      return;
    }
    for (const w of this.workers.values()) {
      const fp = fps.get(w.uid)?.fingerprint ?? '';
      if (fp === w.fingerprint) continue;
      w.fingerprint = fp;
      if (!w.done || fp !== '') this.enqueue(w);
    }
  }

  /** now is wall time in epoch ms (compared with the runtime's timestamps). A clock that is
   * not a wall clock (realClock counts from process start) is only used for its timers. */
  private now(): number {
    const t = this.opts.clock.now();
    return t > 1e12 ? t : Date.now();
  }

  private event(pod: Pod, type: EventType, reason: string, message: string): void {
    this.opts.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, type, reason, message);
  }

  // ---------------------------------------------------------------------------------------------
  // The sync

  /** syncPod brings one pod a step closer to its spec and reports its status. */
  private async syncPod(w: Worker): Promise<void> {
    if (w.deleted) {
      // Gone from the API: stop whatever still runs and clean up; no status to write.
      const rt = await this.state.pod(w.uid);
      if (rt) await this.killPod(w, rt, this.gracePeriod(w.pod));
      await this.cleanupPod(w.pod, rt);
      this.forget(w);
      return;
    }
    if (w.done) return;
    const pod = w.pod;
    if (pod.metadata.deletionTimestamp) {
      await this.terminatePod(w);
      return;
    }
    if (!w.admitted && !isTerminalPhase(pod.status?.phase)) {
      const rejection = admitPod(pod, this.admittedPods(w.uid), this.opts.nodeAllocatable());
      if (rejection) {
        this.opts.log.info('Pod rejected', { pod: formatPod(pod), reason: rejection.reason });
        this.event(pod, 'Warning', rejection.reason, rejection.message);
        const status: PodStatus = {
          ...(pod.status ?? {}),
          phase: 'Failed',
          reason: rejection.reason,
          message: `Pod was rejected: ${rejection.message}`,
          startTime: pod.status?.startTime ?? nowRFC3339(new Date(this.now())),
        };
        // Done once the API has it; a failed write is tried again (and the pod admitted anew).
        if (await this.writeStatus(w, status)) w.done = true;
        return;
      }
      w.admitted = true;
    }

    let rt = await this.state.pod(w.uid);
    let status = this.computeStatus(w, rt);
    if (!isTerminalPhase(status.phase) && this.deadlineExceeded(pod)) {
      // spec.activeDeadlineSeconds: the pod is stopped and fails for good.
      this.event(pod, 'Warning', DeadlineExceededReason, DeadlineExceededMessage);
      if (rt) await this.killPod(w, rt, this.gracePeriod(pod));
      rt = await this.state.pod(w.uid);
      status = { ...this.computeStatus(w, rt, true), phase: 'Failed', reason: DeadlineExceededReason, message: DeadlineExceededMessage };
    }
    if (!isTerminalPhase(status.phase)) {
      const actions = computePodActions(pod, rt, { now: this.now(), livenessFailed: w.livenessFailed });
      await this.runActions(w, pod, rt, actions);
      rt = await this.state.pod(w.uid);
      if (rt && (await this.collectGarbage(rt))) rt = await this.state.pod(w.uid);
      status = this.computeStatus(w, rt);
    }
    this.syncProbes(w, rt);
    if (isTerminalPhase(status.phase)) {
      // Done for good (restartPolicy): the containers have exited; stop the sandbox, keep the
      // containers and their logs until the pod is deleted.
      await this.stopSandboxes(rt);
      this.probes.removePod(w.uid);
      w.probed.clear();
      const final = this.computeStatus(w, await this.state.pod(w.uid), true);
      status = { ...final, phase: status.phase, ...(status.reason ? { reason: status.reason, message: status.message } : {}) };
    }
    w.sandboxReady = !!rt?.sandboxes.some((s) => s.state === 'SANDBOX_READY') && !isTerminalPhase(status.phase);
    await this.writeStatus(w, status);
    if (w.firstSeen !== undefined && status.phase === 'Running') {
      this.startDuration.observe((performance.now() - w.firstSeen) / 1000);
      w.firstSeen = undefined;
    }
    let next = this.now() + ResyncMs;
    if (w.retryAt !== undefined && w.retryAt > this.now()) next = Math.min(next, w.retryAt);
    const pull = this.images.nextRetry(w.uid);
    if (pull !== undefined) next = Math.min(next, pull);
    if (!isTerminalPhase(status.phase)) {
      const deadline = this.deadlineAt(w.pod);
      if (deadline !== undefined) next = Math.min(next, deadline);
      this.syncAt(w, next);
    }
  }

  /** deadlineAt is when spec.activeDeadlineSeconds runs out (wall ms), counted from startTime. */
  private deadlineAt(pod: Pod): number | undefined {
    const secs = pod.spec.activeDeadlineSeconds;
    const start = pod.status?.startTime;
    if (secs === undefined || secs === null || !start) return undefined;
    return Date.parse(start) + secs * 1000;
  }

  private deadlineExceeded(pod: Pod): boolean {
    const at = this.deadlineAt(pod);
    return at !== undefined && this.now() >= at;
  }

  /**
   * collectGarbage removes what a pod no longer needs (the kubelet's container GC): exited
   * instances of a container older than the last two (the current one and the previous, for
   * lastState and `kubectl logs --previous`), and stopped sandboxes none of whose containers is
   * kept. Returns whether it removed anything.
   */
  private async collectGarbage(rt: RuntimePod): Promise<boolean> {
    const seen = new Map<string, number>();
    const kept = new Set<string>();
    const remove: RuntimeContainer[] = [];
    for (const c of rt.containers) {
      const key = `${c.init}/${c.name}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n > 2 && c.state === 'CONTAINER_EXITED') remove.push(c);
      else kept.add(c.sandboxId);
    }
    for (const c of remove) await this.opts.runtime.removeContainer(c.id).catch(() => undefined);
    let removed = remove.length > 0;
    for (const s of rt.sandboxes.slice(1)) {
      if (s.state === 'SANDBOX_READY' || kept.has(s.id)) continue;
      await this.opts.runtime.removePodSandbox(s.id).catch(() => undefined);
      removed = true;
    }
    return removed;
  }

  private computeStatus(w: Worker, rt: RuntimePod | undefined, podIsTerminal = false): PodStatus {
    return computePodStatus(w.pod, rt, {
      now: this.now(),
      hostIP: this.opts.hostIP,
      waiting: w.waiting,
      ready: (name) => this.probes.ready(w.uid, name),
      started: (name) => this.probes.started(w.uid, name),
      podIsTerminal,
    });
  }

  /** admittedPods are the pods that count against the node's room: admitted and not finished. */
  private admittedPods(except: string): Pod[] {
    const out: Pod[] = [];
    for (const w of this.workers.values()) {
      if (w.uid === except || !w.admitted || w.done || w.deleted || isTerminalPhase(w.pod.status?.phase)) continue;
      out.push(w.pod);
    }
    return out;
  }

  private forget(w: Worker): void {
    if (w.timer !== undefined) this.opts.clock.clearTimeout(w.timer);
    this.probes.removePod(w.uid);
    this.workers.delete(w.uid);
    this.images.forgetPod(w.uid);
  }

  /** runActions carries out computePodActions' answer. */
  private async runActions(w: Worker, pod: Pod, rt: RuntimePod | undefined, actions: PodActions): Promise<void> {
    w.retryAt = undefined;
    for (const b of actions.backOff) {
      w.waiting.set(b.name, { reason: CrashLoopBackOffReason, message: b.message });
      if (w.backOffEvents.get(b.name) !== b.until) {
        w.backOffEvents.set(b.name, b.until);
        this.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${b.name} in pod ${formatPod(pod)}`);
      }
      w.retryAt = Math.min(w.retryAt ?? Infinity, b.until);
    }
    if (actions.killPod && rt) {
      if (actions.createSandbox && rt.sandboxes.length > 0) this.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.killPod(w, rt, this.gracePeriod(pod));
    }
    let sandboxId = actions.sandboxId;
    let config: PodSandboxConfig | undefined;
    let podIPs: string[] = [];
    if (actions.createSandbox) {
      if (!(await this.setUpVolumes(w, pod, true))) return;
      config = sandboxConfig(pod, actions.sandboxAttempt, this.node);
      try {
        mkdirSync(config.log_directory!, { recursive: true });
        sandboxId = await this.opts.runtime.runPodSandbox(config);
      } catch (err) {
        const message = grpcMessage(err);
        this.opts.log.warn('RunPodSandbox failed', { pod: formatPod(pod), err: message });
        this.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
        w.retryAt = this.now() + ErrorRetryMs;
        return;
      }
      const fresh = await this.state.pod(w.uid);
      podIPs = fresh?.sandboxes.find((s) => s.id === sandboxId)?.ips ?? [];
    } else if (sandboxId) {
      config = sandboxConfig(pod, rt?.sandboxes.find((s) => s.id === sandboxId)?.attempt ?? 0, this.node);
      podIPs = rt?.sandboxes.find((s) => s.id === sandboxId)?.ips ?? [];
      // configMap, secret and projected volumes follow their objects (idempotent refresh).
      if (actions.startInit || actions.startContainers.length || this.now() - w.volumesAt >= ResyncMs) {
        if (!(await this.setUpVolumes(w, pod, false))) return;
      }
    }
    if (!sandboxId || !config) return;
    if (pod.spec.hostNetwork) podIPs = this.opts.hostIP ? [this.opts.hostIP] : [];
    for (const k of actions.killContainers) {
      const c = rt?.containers.find((x) => x.id === k.id);
      if (c) await this.killContainer(w, pod, c, k.message, this.gracePeriod(pod));
      // A container that never ran is removed; a killed one stays as the previous instance.
      if (c?.state !== 'CONTAINER_RUNNING') await this.opts.runtime.removeContainer(k.id).catch(() => undefined);
      w.livenessFailed.delete(k.name);
    }
    const starts: [Container, boolean][] = [];
    if (actions.startInit) starts.push([(pod.spec.initContainers ?? []).find((c) => c.name === actions.startInit)!, true]);
    for (const name of actions.startSidecars) starts.push([(pod.spec.initContainers ?? []).find((c) => c.name === name)!, true]);
    for (const name of actions.startContainers) starts.push([pod.spec.containers.find((c) => c.name === name)!, false]);
    for (const [c, init] of starts) {
      await this.startContainer(w, pod, c, init, rt, sandboxId, config, podIPs);
    }
  }

  /** setUpVolumes mounts (or refreshes) the pod's volumes; false when they cannot be set up yet. */
  private async setUpVolumes(w: Worker, pod: Pod, required: boolean): Promise<boolean> {
    try {
      w.volumes = await setUpPodVolumes(pod, { podDir: this.podDir(pod), sources: this.opts.sources, nodeName: this.opts.nodeName, nodeAllocatable: this.opts.nodeAllocatable() });
      w.volumesAt = this.now();
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const reason = err instanceof VolumeError ? err.reason : 'FailedMount';
      this.event(pod, 'Warning', reason, message);
      w.retryAt = this.now() + ErrorRetryMs;
      if (!required && w.volumes) return true; // a refresh that failed keeps the volumes as they are
      return false;
    }
  }

  /**
   * pullSecrets reads the pod's imagePullSecrets; those that cannot be read are left out, with
   * the kubelet's FailedToRetrieveImagePullSecret event (the pull goes on, perhaps without credentials).
   */
  private async pullSecrets(pod: Pod): Promise<Secret[]> {
    const found: Secret[] = [];
    const failed: string[] = [];
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      if (!ref.name) continue;
      const secret = await this.opts.sources.getSecret(pod.metadata.namespace ?? 'default', ref.name).catch(() => undefined);
      if (secret) found.push(secret);
      else failed.push(ref.name);
    }
    if (failed.length) {
      this.opts.log.info('Unable to retrieve pull secret, the image pull may not succeed.', { pod: formatPod(pod), secrets: failed.join(', ') });
      this.event(pod, 'Warning', 'FailedToRetrieveImagePullSecret', `Unable to retrieve some image pull secrets (${failed.join(', ')}); attempting to pull the image may not succeed.`);
    }
    return found;
  }

  private podDir(pod: Pod): string {
    return join(this.opts.rootDir, 'pods', pod.metadata.uid ?? '');
  }

  /** startContainer pulls (as the policy says), creates and starts one container; a failure becomes its Waiting reason. */
  private async startContainer(w: Worker, pod: Pod, c: Container, init: boolean, rt: RuntimePod | undefined, sandboxId: string, sandbox: PodSandboxConfig, podIPs: string[]): Promise<void> {
    const last = latestContainer(rt, c.name, init);
    const restartCount = last ? last.restartCount + 1 : 0;
    try {
      const imageRef = await this.images.ensureImage(pod, c);
      let env;
      try {
        env = await containerEnv(pod, c, {
          sources: this.opts.sources,
          nodeName: this.opts.nodeName,
          hostIP: this.opts.hostIP,
          podIPs,
          nodeAllocatable: this.opts.nodeAllocatable(),
        });
      } catch (err) {
        if (err instanceof ConfigError) throw new StartError(err.reason, err.message);
        throw new StartError('CreateContainerConfigError', err instanceof Error ? err.message : String(err));
      }
      const { command, args } = expandCommand(c, env);
      // containerMounts makes the etc-hosts and termination-log mounts of this instance too.
      let mounts;
      try {
        mounts = containerMounts(pod, c, w.volumes ?? new Map(), { podDir: this.podDir(pod), podIPs, env, clusterDomain: this.opts.clusterDomain });
      } catch (err) {
        if (err instanceof ConfigError) throw new StartError(err.reason, err.message);
        throw err;
      }
      const config = containerConfig(pod, c, {
        imageRef,
        restartCount,
        init,
        env,
        command,
        args,
        mounts,
        memoryCapacity: this.memoryCapacity(),
      });
      let id: string;
      try {
        id = await this.opts.runtime.createContainer(sandboxId, config, sandbox);
      } catch (err) {
        throw new StartError('CreateContainerError', grpcMessage(err));
      }
      this.event(pod, 'Normal', 'Created', `Created container: ${c.name}`);
      try {
        await this.opts.runtime.startContainer(id);
      } catch (err) {
        throw new StartError('RunContainerError', grpcMessage(err));
      }
      this.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
      w.waiting.delete(c.name);
      if (c.lifecycle?.postStart) {
        try {
          await runLifecycleHook(c.lifecycle.postStart, c, { runtime: this.opts.runtime, containerId: id, podIP: podIPs[0], timeoutSeconds: this.gracePeriod(pod) });
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.event(pod, 'Warning', 'FailedPostStartHook', message);
          await this.opts.runtime.stopContainer(id, MinGracePeriodSeconds).catch(() => undefined);
          w.waiting.set(c.name, { reason: 'PostStartHookError', message });
          return;
        }
      }
      if (!init || isRestartableInitContainer(c)) {
        this.probes.addContainer(pod, c, id, podIPs[0]);
        w.probed.set(c.name, id);
      }
    } catch (err) {
      const e = err instanceof StartError ? err : new StartError('CreateContainerError', err instanceof Error ? err.message : String(err));
      w.waiting.set(c.name, { reason: e.reason, message: e.message });
      this.event(pod, 'Warning', 'Failed', e.eventMessage);
      w.retryAt = Math.min(w.retryAt ?? Infinity, this.now() + ErrorRetryMs);
    }
  }

  /** memoryCapacity is the node's allocatable memory in bytes (for the OOM score of Burstable containers). */
  private memoryCapacity(): number {
    return Number(quantityNanos(this.opts.nodeAllocatable().memory ?? '0') / 1_000_000_000n);
  }


  /** syncProbes keeps the prober watching exactly the running regular containers. */
  private syncProbes(w: Worker, rt: RuntimePod | undefined): void {
    const ips = rt?.sandboxes.find((s) => s.state === 'SANDBOX_READY')?.ips ?? [];
    const podIP = w.pod.spec.hostNetwork ? this.opts.hostIP : ips[0];
    const probed: [Container, boolean][] = [
      ...(w.pod.spec.initContainers ?? []).filter((c) => isRestartableInitContainer(c)).map((c): [Container, boolean] => [c, true]),
      ...w.pod.spec.containers.map((c): [Container, boolean] => [c, false]),
    ];
    for (const [c, init] of probed) {
      const cur = latestContainer(rt, c.name, init);
      const running = cur?.state === 'CONTAINER_RUNNING' ? cur.id : undefined;
      const probed = w.probed.get(c.name);
      if (running === probed) continue;
      if (probed) this.probes.removeContainer(w.uid, c.name);
      w.probed.delete(c.name);
      if (running) {
        // A container already running when this kubelet came up: its pod's status says how ready it was.
        const statuses = init ? w.pod.status?.initContainerStatuses : w.pod.status?.containerStatuses;
        const known = statuses?.find((s) => s.name === c.name && s.containerID === containerID(running));
        if (known) this.probes.addContainer(w.pod, c, running, podIP, cur!.startedAt || undefined, { ready: known.ready, started: known.started ?? undefined });
        else this.probes.addContainer(w.pod, c, running, podIP);
        w.probed.set(c.name, running);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping

  /** gracePeriod is the pod's deletion grace period, else its spec's (default 30 s). */
  private gracePeriod(pod: Pod): number {
    // An int64 beyond 2^53 arrives as a BigInt: any such period is "forever" to a timer.
    return Number(pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
  }

  /** killContainer runs the preStop hook (within the grace period), then stops the container: SIGTERM, SIGKILL after the rest of the grace period. */
  private async killContainer(w: Worker, pod: Pod, c: RuntimeContainer, message: string, gracePeriod: number): Promise<void> {
    if (c.state !== 'CONTAINER_RUNNING' && c.state !== 'CONTAINER_CREATED') return;
    const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === c.name);
    let grace = gracePeriod;
    this.event(pod, 'Normal', 'Killing', message);
    this.probes.removeContainer(w.uid, c.name);
    w.probed.delete(c.name);
    if (spec?.lifecycle?.preStop && c.state === 'CONTAINER_RUNNING' && grace > 0) {
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const hook = runLifecycleHook(spec.lifecycle.preStop, spec, {
        runtime: this.opts.runtime,
        containerId: c.id,
        podIP: pod.status?.podIP,
        timeoutSeconds: grace,
      }).catch((err) => {
        this.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      await Promise.race([hook, new Promise((r) => (timer = setTimeout(r, grace * 1000)))]);
      clearTimeout(timer);
      grace -= Math.floor((Date.now() - t0) / 1000);
    }
    grace = Math.max(grace, MinGracePeriodSeconds);
    try {
      await this.opts.runtime.stopContainer(c.id, grace);
    } catch (err) {
      if (!isCriNotFound(err)) this.opts.log.warn('StopContainer failed', { pod: formatPod(pod), container: c.name, err: String(err) });
    }
  }

  /** killPod stops every running container of the pod (in parallel) and then its sandboxes. */
  private async killPod(w: Worker, rt: RuntimePod, gracePeriod: number): Promise<void> {
    const pod = w.pod;
    await Promise.all(rt.containers.map((c) => this.killContainer(w, pod, c, `Stopping container ${c.name}`, gracePeriod)));
    await this.stopSandboxes(rt);
    this.probes.removePod(w.uid);
    w.probed.clear();
    w.sandboxReady = false;
  }

  private async stopSandboxes(rt: RuntimePod | undefined): Promise<void> {
    for (const s of rt?.sandboxes ?? []) {
      if (s.state !== 'SANDBOX_READY') continue;
      try {
        await this.opts.runtime.stopPodSandbox(s.id);
      } catch (err) {
        if (!isCriNotFound(err)) throw err;
      }
    }
  }

  /**
   * terminatePod is a graceful deletion: every container gets its preStop hook and SIGTERM, SIGKILL
   * after the grace period; then the sandboxes, volumes, logs and pod cgroup go, the final status
   * is written, and the delete is confirmed (grace 0, on this pod's uid only).
   */
  private async terminatePod(w: Worker): Promise<void> {
    const pod = w.pod;
    const rt = await this.state.pod(w.uid);
    if (rt) await this.killPod(w, rt, this.gracePeriod(pod));
    const final = await this.state.pod(w.uid);
    if (!isTerminalPhase(pod.status?.phase)) await this.writeStatus(w, this.computeStatus(w, final, true)).catch(() => undefined);
    await this.cleanupPod(pod, final);
    try {
      await this.opts.client.delete(Pods, pod.metadata.namespace ?? 'default', pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: w.uid } });
    } catch (err) {
      if (!isApiNotFound(err) && !isConflict(err)) {
        this.opts.log.warn('Could not confirm the pod deletion; will retry', { pod: formatPod(pod), err: String(err) });
        this.syncAt(w, this.now() + ErrorRetryMs);
        return;
      }
    }
    w.done = true;
    this.opts.log.info('Pod terminated', { pod: formatPod(pod) });
  }

  /** cleanupPod removes the pod's sandboxes and containers, volumes, termination message files, logs and cgroup. */
  private async cleanupPod(pod: Pod, rt: RuntimePod | undefined): Promise<void> {
    for (const s of rt?.sandboxes ?? []) {
      try {
        await this.opts.runtime.stopPodSandbox(s.id).catch((err) => {
          if (!isCriNotFound(err)) throw err;
        });
        await this.opts.runtime.removePodSandbox(s.id);
      } catch (err) {
        this.opts.log.warn('Removing a sandbox failed', { pod: formatPod(pod), err: String(err) });
      }
    }
    // Containers of a sandbox already gone (half-made) are removed on their own.
    for (const c of rt?.containers ?? []) await this.opts.runtime.removeContainer(c.id).catch(() => undefined);
    await tearDownPodVolumes(this.podDir(pod)).catch((err) => this.opts.log.warn('Tearing down volumes failed', { pod: formatPod(pod), err: String(err) }));
    rmSync(this.podDir(pod), { recursive: true, force: true });
    rmSync(podLogDirectory(pod, this.opts.podLogsDir), { recursive: true, force: true });
    removePodCgroup(podCgroupParent(pod, this.opts.cgroupParent));
  }

  /**
   * cleanupOrphans stops and removes the runtime's pods whose pod is no longer in the API (deleted
   * while the kubelet was down), with the grace period written on their containers.
   */
  private async cleanupOrphans(): Promise<void> {
    const fps = await this.state.fingerprints();
    if (fps.size === 0) {
      this.orphansChecked = true;
      return;
    }
    const list = await this.opts.client.list<Pod>(Pods, undefined, { fieldSelector: `spec.nodeName=${this.opts.nodeName}` });
    const live = new Set(list.items.map((p) => p.metadata.uid));
    this.orphansChecked = true;
    for (const [uid, info] of fps) {
      if (live.has(uid) || this.workers.has(uid)) continue;
      const rt = await this.state.pod(uid);
      if (!rt) continue;
      const grace = Number(rt.containers[0] ? (await this.opts.runtime.containerStatus(rt.containers[0].id).catch(() => undefined))?.status.annotations?.[PodTerminationGracePeriodAnnotation] ?? 30 : 30);
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: info.name, namespace: info.namespace, uid },
        spec: { containers: [], terminationGracePeriodSeconds: Number.isFinite(grace) ? grace : 30 },
      } as Pod;
      this.opts.log.info('Removing a pod deleted while the kubelet was down', { pod: formatPod(pod) });
      const w = this.newWorker(pod);
      w.deleted = true;
      this.workers.set(uid, w);
      this.enqueue(w);
    }
  }

  /** writeStatus writes status through pods/status when it differs from what the API holds, retrying on conflicts; false when it could not (a retry is scheduled). */
  private async writeStatus(w: Worker, status: PodStatus): Promise<boolean> {
    for (let attempt = 0; attempt < 4; attempt++) {
      if (statusEqual(w.pod.status ?? {}, status)) return true;
      try {
        const updated = await this.opts.client.update<Pod>(Pods, { ...w.pod, status }, { subresource: 'status' });
        if (newerPod(updated, w.pod)) w.pod = updated;
        return true;
      } catch (err) {
        if (isApiNotFound(err)) return true;
        if (!isConflict(err)) {
          this.opts.log.warn('Pod status write failed; will retry', { pod: formatPod(w.pod), err: String(err) });
          this.syncAt(w, this.now() + ErrorRetryMs);
          return false;
        }
        try {
          const fresh = await this.opts.client.get<Pod>(Pods, w.pod.metadata.namespace ?? 'default', w.pod.metadata.name ?? '');
          if (fresh.metadata.uid !== w.uid) return true;
          w.pod = fresh;
          // Keep what others own (the scheduler's condition, readiness gates) from the fresh copy.
          status = { ...status, conditions: mergeConditions(status.conditions ?? [], fresh.status?.conditions ?? []) };
        } catch (e) {
          if (isApiNotFound(e)) return true;
          this.syncAt(w, this.now() + ErrorRetryMs);
          return false;
        }
      }
    }
    this.syncAt(w, this.now() + ErrorRetryMs);
    return false;
  }
}

const kubeletConditions = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);

/** mergeConditions keeps the kubelet's conditions from ours and every other from the API's copy. */
function mergeConditions(ours: NonNullable<PodStatus['conditions']>, theirs: NonNullable<PodStatus['conditions']>): NonNullable<PodStatus['conditions']> {
  return [...ours.filter((c) => kubeletConditions.has(c.type)), ...theirs.filter((c) => !kubeletConditions.has(c.type))];
}

/** histogram registers a histogram once per registry (a second PodManager on the same registry shares it). */
function histogram(registry: Registry, name: string, help: string, buckets: number[]): Histogram {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram;
  return new Histogram({ name, help, buckets, registers: [registry] });
}
