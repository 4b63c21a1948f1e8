// ProbeWorker probes one container for one probe type, as the kubelet's prober worker does: the first
// run jittered over a period while the kubelet has just started (so a restarted kubelet does not
// probe every container at once), then one run per periodSeconds; nothing before
// initialDelaySeconds since the container started; liveness and readiness wait for the startup
// probe, which stops once it passed; a result changes only after successThreshold (or
// failureThreshold) equal results in a row; a probe that could not be run is thrown away; after a
// liveness or startup failure the worker holds until the container is replaced.

import type { Pod } from '../../lib/api/core/pod.js';
import type { Container, Probe } from '../../lib/api/core/types.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';

/** ProbeType is which probe a worker runs. */
export type ProbeType = 'liveness' | 'readiness' | 'startup';

/** probeTypeName is the probe type as event messages print it. */
export const probeTypeName = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' } as const satisfies Record<ProbeType, string>;

/** CachedResult is a worker's current result; undefined is "unknown" (a startup probe before its first verdict). */
export type CachedResult = 'success' | 'failure' | undefined;

/** WorkerHost is what a worker needs from its manager. */
export interface WorkerHost {
  clock: Clock;
  random(): number;
  /** startedAt is when the manager started (clock time), for the first-run jitter. */
  startedAt: number;
  /** probe runs the probe once (with retries on errors) and records events; undefined: it could not be run. */
  probe(w: ProbeWorker): Promise<'success' | 'failure' | undefined>;
  /** isStarted is whether the worker's container passed its startup probe (true without one). */
  isStarted(w: ProbeWorker): boolean;
  /** setResult stores a new result of the worker and tells whoever cares. */
  setResult(w: ProbeWorker, result: 'success' | 'failure'): void;
  /** onError reports an unexpected exception of a probe run. */
  onError(w: ProbeWorker, err: unknown): void;
}

/** initialResult is what a probe type reports before its first verdict: not ready, alive, not started. */
function initialResult(type: ProbeType): CachedResult {
  if (type === 'readiness') return 'failure';
  if (type === 'liveness') return 'success';
  return undefined;
}

/** ProbeWorker runs one probe of one container. */
export class ProbeWorker {
  result: CachedResult;
  private lastResult: CachedResult;
  private resultRun = 0;
  private onHold = false;
  private stopped = false;
  private running = false;
  private rerun = false;
  private timer: TimerHandle | undefined;
  private nextAt = 0;
  readonly spec: Required<Pick<Probe, 'initialDelaySeconds' | 'timeoutSeconds' | 'periodSeconds' | 'successThreshold' | 'failureThreshold'>> & Probe;

  constructor(
    private readonly host: WorkerHost,
    readonly type: ProbeType,
    public pod: Pod,
    readonly container: Container,
    readonly containerId: string,
    public podIP: string | undefined,
    /** containerStartedAt is when the container started (wall-clock ms, the clock's time base). */
    readonly containerStartedAt: number,
  ) {
    const p = (type === 'liveness' ? container.livenessProbe : type === 'readiness' ? container.readinessProbe : container.startupProbe) ?? {};
    this.spec = {
      ...p,
      initialDelaySeconds: p.initialDelaySeconds ?? 0,
      timeoutSeconds: p.timeoutSeconds || 1,
      periodSeconds: p.periodSeconds || 10,
      successThreshold: p.successThreshold || 1,
      failureThreshold: p.failureThreshold || 3,
    };
    this.result = initialResult(type);
  }

  /** start schedules the first run: jittered over one period while the manager is young, else at once. */
  start(): void {
    const period = this.spec.periodSeconds * 1000;
    const now = this.host.clock.now();
    const delay = period > now - this.host.startedAt ? Math.floor(this.host.random() * period) : 0;
    this.nextAt = now + delay;
    this.timer = this.host.clock.setTimeout(() => void this.tick(), delay);
  }

  /** trigger runs the probe now instead of at its next tick (the kubelet's manual trigger). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
    void this.tick();
  }

  /** stop ends the worker; a run in flight finishes but changes nothing. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** isStopped is whether the worker has ended. */
  get isStopped(): boolean {
    return this.stopped;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    let keepGoing = true;
    try {
      keepGoing = await this.doProbe();
    } catch (err) {
      this.host.onError(this, err);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (!keepGoing) {
      this.stop();
      return;
    }
    if (this.rerun) {
      this.rerun = false;
      void this.tick();
      return;
    }
    const period = this.spec.periodSeconds * 1000;
    const now = this.host.clock.now();
    // A fixed-rate ticker: a run that took longer than a period skips the ticks it missed.
    while (this.nextAt <= now) this.nextAt += period;
    this.timer = this.host.clock.setTimeout(() => void this.tick(), this.nextAt - now);
  }

  /** doProbe probes once and records the result; false ends the worker. */
  private async doProbe(): Promise<boolean> {
    if (this.onHold) return true;
    if (this.pod.metadata.deletionTimestamp && (this.type === 'liveness' || this.type === 'startup')) {
      // A pod being deleted is not restarted: a last success keeps its shutdown quiet.
      this.record('success');
      return false;
    }
    const sinceStart = Math.floor((this.host.clock.now() - this.containerStartedAt) / 1000);
    if (sinceStart < this.spec.initialDelaySeconds) return true;
    const started = this.host.isStarted(this);
    // The startup probe stops once the container started; the others wait for that.
    if (this.type === 'startup' ? started : !started) return true;

    const result = await this.host.probe(this);
    if (this.stopped || result === undefined) return true;

    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    if ((result === 'failure' && this.resultRun < this.spec.failureThreshold) || (result === 'success' && this.resultRun < this.spec.successThreshold)) {
      return true;
    }
    this.record(result);
    if ((this.type === 'liveness' || this.type === 'startup') && result === 'failure') {
      // The container is about to be killed: no more probes until it is replaced.
      this.onHold = true;
      this.resultRun = 0;
    }
    return true;
  }

  private record(result: 'success' | 'failure'): void {
    this.host.setResult(this, result);
  }
}
