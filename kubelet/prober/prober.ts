// Probes and lifecycle hooks: the contract between the pod workers (kubelet/pods) and the probe
// code. ProbeManager keeps one ProbeWorker per container and probe type (worker.ts) and caches their
// results: the pod workers ask ready()/started() when they compute a pod's status, hear onChange
// when a readiness or startup result changes, and onLivenessFailure when a container must be
// restarted. The handlers are exec (exec.ts, CRI ExecSync), httpGet (http.ts), tcpSocket (tcp.ts)
// and grpc (grpc.ts, the standard health service). Lifecycle hooks are in lifecycle.ts.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container } from '../../lib/api/core/types.js';
import type { InvolvedObject, Recorder } from '../../lib/client/events.js';
import { type Clock, wallClock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { Registry } from '../../lib/metrics.js';
import type { CriClient } from '../cri/client.js';
import { expandCommand } from '../env/env.js';
import { execProbe } from './exec.js';
import { type ProberMetrics, proberMetrics } from './metrics.js';
import { grpcProbe } from './grpc.js';
import { httpGetProbeRequest, httpProbe } from './http.js';
import { podFullName, type ProbeOutcome, ProbeError, resolveContainerPort } from './result.js';
import { tcpProbe } from './tcp.js';
import { ProbeWorker, type ProbeType, probeTypeName, type WorkerHost } from './worker.js';

export { type HookContext, LifecycleHookError, preStopHookFailedMessage, runLifecycleHook } from './lifecycle.js';

/** ProberOptions wire the probe manager to the runtime and to the pod workers. */
export interface ProberOptions {
  runtime: Pick<CriClient, 'execSync'>;
  recorder: Recorder;
  log: Logger;
  /** onChange is called when a readiness or startup result of a container of the pod changes. */
  onChange(podUID: string): void;
  /** onLivenessFailure is called when a container fails its liveness (or startup) probe: restart it.
   * message is the Killing event's text (`Container web failed liveness probe, will be restarted`). */
  onLivenessFailure(podUID: string, containerName: string, message: string): void;
  /** clock times the probes and is compared with containers' start times (default: the wall clock). */
  clock?: Clock;
  /** random draws the first-run jitter, in [0, 1) (default Math.random). */
  random?: () => number;
  /** metrics gets the kubelet's prober_probe_total and prober_probe_duration_seconds. */
  metrics?: Registry;
}

/** maxProbeRetries is how often a probe that could not be run is tried again within one period. */
const maxProbeRetries = 3;

/** probeTypes in the order workers are made: startup gates the other two. */
const probeTypes: ProbeType[] = ['startup', 'readiness', 'liveness'];

interface ProbedContainer {
  containerId: string;
  workers: Map<ProbeType, ProbeWorker>;
}

/** podRef is the object an event about one of the pod's containers points at. */
function podRef(pod: Pod): InvolvedObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid } };
}

/** ProbeManager runs the liveness, readiness and startup probes of running containers. */
export class ProbeManager {
  private readonly containers = new Map<string, ProbedContainer>();
  private readonly clock: Clock;
  private readonly host: WorkerHost;
  private readonly metrics: ProberMetrics | undefined;

  constructor(readonly opts: ProberOptions) {
    this.clock = opts.clock ?? wallClock;
    this.metrics = opts.metrics ? proberMetrics(opts.metrics) : undefined;
    const startedAt = this.clock.now();
    this.host = {
      clock: this.clock,
      random: opts.random ?? Math.random,
      startedAt,
      probe: (w) => this.probe(w),
      isStarted: (w) => this.started(w.pod.metadata.uid ?? '', w.container.name),
      setResult: (w, result) => this.setResult(w, result),
      onError: (w, err) =>
        this.opts.log.error('Probe worker failed', { probeType: w.type, pod: w.pod.metadata.name, containerName: w.container.name, err: err instanceof Error ? err : String(err) }),
    };
  }

  /** addContainer starts probing a running container (pod IP for httpGet/tcpSocket). startedAt is
   * when it started (the clock's time, epoch ms by default; now when left out): initialDelaySeconds
   * counts from there. Adding the same container again only refreshes the pod and its IP; a new
   * container ID under the same name replaces the old container's workers. known is what the pod's
   * status last said of this very container (a kubelet restarted while it ran): its readiness and
   * startup results start from there instead of "not ready, not started", so a restart of the
   * kubelet does not take a ready pod out of its Services until a probe says otherwise. */
  addContainer(pod: Pod, container: Container, containerId: string, podIP: string | undefined, startedAt?: number, known?: { ready?: boolean; started?: boolean }): void {
    const k = key(pod.metadata.uid ?? '', container.name);
    const existing = this.containers.get(k);
    if (existing?.containerId === containerId) {
      for (const w of existing.workers.values()) {
        w.pod = pod;
        w.podIP = podIP;
      }
      return;
    }
    if (existing) this.stopWorkers(existing);
    const entry: ProbedContainer = { containerId, workers: new Map() };
    this.containers.set(k, entry);
    const at = startedAt ?? this.clock.now();
    for (const type of probeTypes) {
      const spec = type === 'startup' ? container.startupProbe : type === 'readiness' ? container.readinessProbe : container.livenessProbe;
      if (!spec) continue;
      const w = new ProbeWorker(this.host, type, pod, container, containerId, podIP, at);
      if (type === 'readiness' && known?.ready) w.result = 'success';
      if (type === 'startup' && known?.started) w.result = 'success';
      entry.workers.set(type, w);
    }
    for (const w of entry.workers.values()) w.start();
  }

  /** updatePod hands the workers a newer copy of the pod: once it carries a deletionTimestamp, its
   * liveness and startup probes stop (a pod being deleted is not restarted); readiness goes on. */
  updatePod(pod: Pod): void {
    const prefix = `${pod.metadata.uid ?? ''}/`;
    for (const [k, entry] of this.containers) {
      if (!k.startsWith(prefix)) continue;
      for (const w of entry.workers.values()) w.pod = pod;
    }
  }

  /** removeContainer stops probing it (it exited or is being restarted). */
  removeContainer(podUID: string, containerName: string): void {
    const k = key(podUID, containerName);
    const entry = this.containers.get(k);
    if (!entry) return;
    this.stopWorkers(entry);
    this.containers.delete(k);
  }

  /** removePod stops every probe of the pod. */
  removePod(podUID: string): void {
    const prefix = `${podUID}/`;
    for (const [k, entry] of this.containers) {
      if (!k.startsWith(prefix)) continue;
      this.stopWorkers(entry);
      this.containers.delete(k);
    }
  }

  /** ready is the container's readiness: false until it started and, with a readiness probe, until
   * that probe succeeded; true without a readiness probe once started. A container the manager does
   * not probe (never added, or removed) has no probe to fail: the caller decides from its state. */
  ready(podUID: string, containerName: string): boolean {
    if (!this.started(podUID, containerName)) return false;
    const w = this.containers.get(key(podUID, containerName))?.workers.get('readiness');
    return w ? w.result === 'success' : true;
  }

  /** started is whether the container passed its startup probe (true without one). */
  started(podUID: string, containerName: string): boolean {
    const w = this.containers.get(key(podUID, containerName))?.workers.get('startup');
    return w ? w.result === 'success' : true;
  }

  /** workerCount is how many probe workers run (for metrics and tests). */
  get workerCount(): number {
    let n = 0;
    for (const entry of this.containers.values()) for (const w of entry.workers.values()) if (!w.isStopped) n++;
    return n;
  }

  /** stop ends every probe. */
  stop(): void {
    for (const entry of this.containers.values()) this.stopWorkers(entry);
    this.containers.clear();
  }

  private stopWorkers(entry: ProbedContainer): void {
    for (const w of entry.workers.values()) {
      w.stop();
      if (!this.metrics) continue;
      // A container no longer probed leaves no series behind, as the kubelet's worker cleans up.
      const labels = { probe_type: probeTypeName[w.type], container: w.container.name, pod: w.pod.metadata.name ?? '', namespace: w.pod.metadata.namespace ?? '' };
      for (const result of ['successful', 'failed']) this.metrics.total.remove({ ...labels, result, pod_uid: w.pod.metadata.uid ?? '' });
      this.metrics.duration.remove(labels);
    }
  }

  private setResult(w: ProbeWorker, result: 'success' | 'failure'): void {
    const entry = this.containers.get(key(w.pod.metadata.uid ?? '', w.container.name));
    // A worker replaced or removed meanwhile speaks for no container any more.
    if (!entry || entry.workers.get(w.type) !== w) return;
    const previous = w.result;
    w.result = result;
    const uid = w.pod.metadata.uid ?? '';
    if ((w.type === 'liveness' || w.type === 'startup') && result === 'failure') {
      const restart = w.container.restartPolicy === 'Always' || w.pod.spec.restartPolicy !== 'Never';
      const message = `Container ${w.container.name} failed ${w.type} probe${restart ? ', will be restarted' : ''}`;
      this.opts.log.info('Container failed probe', { probeType: w.type, pod: w.pod.metadata.name, containerName: w.container.name });
      this.opts.onLivenessFailure(uid, w.container.name, message);
    }
    if (previous === result || w.type === 'liveness') return;
    if (w.type === 'startup' && result === 'success') {
      // The container started: its readiness and liveness probes need not wait for their next tick.
      for (const other of entry.workers.values()) if (other !== w) other.trigger();
    }
    this.opts.onChange(uid);
  }

  /** probe runs the worker's probe, trying again up to three times when it could not be run, and
   * records the kubelet's events: `Unhealthy` for a failure or an error, `ProbeWarning` for a warning. */
  private async probe(w: ProbeWorker): Promise<'success' | 'failure' | undefined> {
    const t0 = performance.now();
    const result = await this.probeAndRecord(w);
    if (this.metrics && result !== undefined) {
      const labels = { probe_type: probeTypeName[w.type], container: w.container.name, pod: w.pod.metadata.name ?? '', namespace: w.pod.metadata.namespace ?? '' };
      this.metrics.total.inc({ ...labels, result: result === 'success' ? 'successful' : 'failed', pod_uid: w.pod.metadata.uid ?? '' });
      if (result === 'success') this.metrics.duration.observe(labels, (performance.now() - t0) / 1000);
    }
    return result;
  }

  private async probeAndRecord(w: ProbeWorker): Promise<'success' | 'failure' | undefined> {
    let outcome: ProbeOutcome = { result: 'unknown', output: '' };
    for (let i = 0; i < maxProbeRetries; i++) {
      outcome = await this.runProbe(w);
      if (!outcome.error) break;
    }
    const name = probeTypeName[w.type];
    const log = this.opts.log.v(1);
    const data = { probeType: w.type, pod: `${w.pod.metadata.namespace}/${w.pod.metadata.name}`, containerName: w.container.name };
    if (outcome.error) {
      log.info('Probe errored', { ...data, probeResult: outcome.result, err: outcome.error.message });
      this.opts.recorder.event(podRef(w.pod), 'Warning', 'Unhealthy', `${name} probe errored and resulted in ${outcome.result} state: ${outcome.error.message}`);
      return undefined;
    }
    switch (outcome.result) {
      case 'success':
        return 'success';
      case 'warning':
        this.opts.recorder.event(podRef(w.pod), 'Warning', 'ProbeWarning', `${name} probe warning: ${outcome.output}`);
        return 'success';
      case 'failure':
        log.info('Probe failed', { ...data, output: outcome.output });
        this.opts.recorder.event(podRef(w.pod), 'Warning', 'Unhealthy', `${name} probe failed: ${outcome.output}`);
        return 'failure';
      default:
        return 'failure';
    }
  }

  /** runProbe runs the handler once. */
  private async runProbe(w: ProbeWorker): Promise<ProbeOutcome> {
    const p = w.spec;
    const timeout = p.timeoutSeconds;
    try {
      if (p.exec) {
        // Only the container's literal env values expand $(VAR) in a probe's command.
        const env = (w.container.env ?? []).filter((e) => e.value !== undefined && !e.valueFrom).map((e) => ({ key: e.name, value: e.value ?? '' }));
        const { command } = expandCommand({ ...w.container, command: p.exec.command ?? [], args: [] }, env);
        return await execProbe(this.opts.runtime, w.containerId, command, timeout);
      }
      if (p.httpGet) {
        if (!p.httpGet.host && !w.podIP) throw new ProbeError(`pod ${podFullName(w.pod)} has no IP address`);
        const req = httpGetProbeRequest(p.httpGet, w.container, w.podIP ?? '');
        if ('result' in req) return req;
        return await httpProbe(req, timeout);
      }
      if (p.tcpSocket) {
        const port = resolveContainerPort(p.tcpSocket.port, w.container);
        const host = p.tcpSocket.host || w.podIP;
        if (!host) throw new ProbeError(`pod ${podFullName(w.pod)} has no IP address`);
        return await tcpProbe(host, port, timeout);
      }
      if (p.grpc) {
        // As on Kubernetes, a gRPC probe always goes to the pod IP.
        if (!w.podIP) throw new ProbeError(`pod ${podFullName(w.pod)} has no IP address`);
        return await grpcProbe(w.podIP, p.grpc.service ?? '', p.grpc.port, timeout);
      }
      throw new ProbeError(`missing probe handler for ${podFullName(w.pod)}:${w.container.name}`);
    } catch (err) {
      return { result: 'unknown', output: '', error: err instanceof Error ? err : new ProbeError(String(err)) };
    }
  }
}

function key(podUID: string, containerName: string): string {
  return `${podUID}/${containerName}`;
}
