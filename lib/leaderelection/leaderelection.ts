// Leader election on a coordination.k8s.io/v1 Lease, as client-go's tools/leaderelection:
// candidates race to write their identity into the Lease's holderIdentity; the holder renews
// renewTime every retryPeriod; the others take over once they have seen the same record,
// unchanged, for leaseDurationSeconds. Every write carries the resourceVersion that was read,
// so two candidates can never both win the same round (409 Conflict for the loser).
//
// Expiry is judged by the local clock from when this candidate last saw the record change (its
// "observed time"), never by comparing renewTime with our clock: clocks across machines differ.
// The leader stops acting as soon as it fails to renew for renewDeadline, which is shorter than
// leaseDuration, so it has stopped before anyone else may take over.

import type { V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RestClient, isNotFound } from '../client/client.js';
import type { ClusterAccess } from '../client/kubeconfig.js';
import { Leases } from '../client/resources.js';
import type { Logger } from '../log.js';

/** LeaderElectionRecord is the Lease spec fields leader election reads and writes. */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/** LeaseClient reads and writes one Lease; leaseClientFor builds it over a RestClient. */
export interface LeaseClient {
  /** get returns the Lease, or undefined when it does not exist. */
  get(): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  /** update replaces the Lease; it must fail when metadata.resourceVersion is stale. */
  update(lease: V1Lease): Promise<V1Lease>;
}

/** LeaderCallbacks are called as leadership changes. */
export interface LeaderCallbacks {
  /** onStartedLeading runs the leader's work; signal aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** onStoppedLeading is called when run() ends, whether or not this candidate ever led (as client-go). */
  onStoppedLeading(): void;
  /** onNewLeader is called when a different holder is observed (including this candidate). */
  onNewLeader?(identity: string): void;
}

/** LeaderElectionConfig configures a LeaderElector. Durations are milliseconds. */
export interface LeaderElectionConfig {
  /** kubeConfig builds the Lease client, unless client is given. */
  kubeConfig?: ClusterAccess;
  client?: LeaseClient;
  namespace: string;
  /** name of the Lease (e.g. `kube-controller-manager`). */
  name: string;
  /** identity is this candidate's unique holderIdentity (e.g. hostname + '_' + a random id). */
  identity: string;
  /**
   * leaseDuration is how long non-leaders wait after the last observed change before taking
   * over (15 s). The Lease stores it truncated to whole seconds, as client-go does; at least 1 s.
   */
  leaseDuration?: number;
  /** renewDeadline is how long the leader keeps retrying a renewal before it gives up leading (10 s). */
  renewDeadline?: number;
  /** retryPeriod is the wait between attempts (2 s). */
  retryPeriod?: number;
  /** releaseOnCancel clears holderIdentity when run() is stopped while leading (default true). */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  log?: Logger;
}

/** jitterFactor is client-go's JitterFactor: acquire attempts wait retryPeriod * [1, 1.2). */
const jitterFactor = 1.2;

/** LeaderElectionConfigError reports a config client-go's NewLeaderElector would refuse. */
export class LeaderElectionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaderElectionConfigError';
  }
}

/**
 * leaseClientFor is a LeaseClient for the Lease namespace/name over a RestClient: GET, POST and
 * PUT of /apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}. A missing Lease is
 * undefined; any other answer but 2xx is thrown as an ApiError (its code: 409 for a lost race).
 */
export function leaseClientFor(kc: ClusterAccess, namespace: string, name: string, userAgent = 'skiff-leader-election'): LeaseClient {
  // Its own connections (RestClient's default 16): a renewal must not queue behind the
  // component's other requests, nor behind its own earlier attempts that hang until their 30 s
  // timeout while withTimeout has long moved on.
  const client = new RestClient(kc, { userAgent });
  // The path is this Lease's whatever the body's metadata says, as CoordinationV1Api's was.
  const named = (lease: V1Lease): V1Lease => ({ ...lease, metadata: { ...lease.metadata, namespace, name } });
  return {
    get: async () => {
      try {
        return await client.get<V1Lease>(Leases, namespace, name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (lease) => client.create<V1Lease>(Leases, namespace, named(lease)),
    update: (lease) => client.update<V1Lease>(Leases, named(lease)),
  };
}

/**
 * MicroTime is a metav1.MicroTime: a Date written as RFC 3339 with microseconds
 * (2026-01-02T03:04:05.678000Z), as client-node's V1MicroTime is; JSON.stringify writes a Date
 * through toISOString.
 */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().slice(0, -1) + '000Z';
  }
}

/** microTime is ms as a MicroTime (whole milliseconds). */
function microTime(ms: number): V1MicroTime {
  return new MicroTime(Math.floor(ms));
}

/** timeString is a MicroTime field as its wire string (client-node hands MicroTime back as a string). */
function timeString(t: unknown): string | undefined {
  if (t === undefined || t === null) return undefined;
  return t instanceof Date ? t.toISOString() : String(t);
}

/** recordOf reads a Lease's spec as a LeaderElectionRecord. */
export function recordOf(lease: V1Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: timeString(spec.acquireTime),
    renewTime: timeString(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** withTimeout rejects when p has not settled after ms. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms`)), Math.max(0, ms));
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** LeaderElector runs one candidate. */
export class LeaderElector {
  readonly identity: string;
  private readonly leaseDuration: number;
  private readonly renewDeadline: number;
  private readonly retryPeriod: number;
  private readonly client: LeaseClient;
  private readonly log: Logger | undefined;
  /** observed is the last Lease we read or wrote, and observedTime when its record last changed. */
  private observed: V1Lease | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private reportedLeader = '';

  constructor(private readonly config: LeaderElectionConfig) {
    this.leaseDuration = config.leaseDuration ?? 15_000;
    this.renewDeadline = config.renewDeadline ?? 10_000;
    this.retryPeriod = config.retryPeriod ?? 2_000;
    if (this.leaseDuration <= this.renewDeadline) throw new LeaderElectionConfigError('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadline <= jitterFactor * this.retryPeriod) throw new LeaderElectionConfigError('renewDeadline must be greater than retryPeriod*JitterFactor');
    if (this.leaseDuration < 1) throw new LeaderElectionConfigError('leaseDuration must be greater than zero');
    if (this.retryPeriod < 1) throw new LeaderElectionConfigError('retryPeriod must be greater than zero');
    if (!config.identity) throw new LeaderElectionConfigError('Lock identity is empty');
    if (this.leaseDuration < 1000) throw new LeaderElectionConfigError('leaseDuration must be at least one second (the Lease stores whole seconds)');
    if (config.client) this.client = config.client;
    else if (config.kubeConfig) this.client = leaseClientFor(config.kubeConfig, config.namespace, config.name);
    else throw new LeaderElectionConfigError('either client or kubeConfig is required');
    this.identity = config.identity;
    this.log = config.log?.with({ lease: `${config.namespace}/${config.name}`, identity: config.identity });
  }

  /** isLeader tells whether the last observed record names this candidate. */
  isLeader(): boolean {
    return this.observedRecord()?.holderIdentity === this.identity;
  }

  /** getLeader is the holderIdentity last observed ('' when none). */
  getLeader(): string {
    return this.observedRecord()?.holderIdentity ?? '';
  }

  /**
   * run campaigns until this candidate leads, runs onStartedLeading, renews until renewal fails
   * for renewDeadline or signal aborts, releases the Lease if configured, calls
   * onStoppedLeading and resolves. A LeaderElector runs once.
   */
  async run(signal: AbortSignal): Promise<void> {
    try {
      if (!(await this.acquire(signal))) return;
      const leading = new AbortController();
      const stopLeading = (): void => leading.abort();
      signal.addEventListener('abort', stopLeading, { once: true });
      // The leader's work runs alongside the renew loop, as client-go's goroutine does.
      void Promise.resolve()
        .then(() => this.config.callbacks.onStartedLeading(leading.signal))
        .catch((err: unknown) => this.log?.error('onStartedLeading failed', { err: err instanceof Error ? err : String(err) }));
      await this.renew(signal);
      stopLeading();
      signal.removeEventListener('abort', stopLeading);
      if (signal.aborted && (this.config.releaseOnCancel ?? true)) await this.release();
    } finally {
      this.config.callbacks.onStoppedLeading();
    }
  }

  /** acquire retries tryAcquireOrRenew every retryPeriod (jittered) until it wins or signal aborts. */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log?.info('Attempting to acquire leader lease');
    while (!signal.aborted) {
      const ok = await this.tryAcquireOrRenew(this.retryPeriod * jitterFactor);
      this.maybeReportTransition();
      if (ok) {
        this.log?.info('Successfully acquired lease');
        return true;
      }
      await sleep(this.retryPeriod * (1 + Math.random() * (jitterFactor - 1)), signal);
    }
    return false;
  }

  /** renew renews every retryPeriod; it returns when a renewal could not succeed within renewDeadline, or signal aborts. */
  private async renew(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const deadline = performance.now() + this.renewDeadline;
      let ok = false;
      while (!signal.aborted) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        ok = await this.tryAcquireOrRenew(left);
        if (ok) break;
        await sleep(Math.min(this.retryPeriod, Math.max(0, deadline - performance.now())), signal);
      }
      this.maybeReportTransition();
      if (signal.aborted) return;
      if (!ok) {
        this.log?.warn('Failed to renew lease: leadership lost', { renewDeadlineMs: this.renewDeadline });
        return;
      }
      await sleep(this.retryPeriod, signal);
    }
  }

  /** release clears holderIdentity so another candidate can take over at once (within 1 s). */
  private async release(): Promise<void> {
    if (!this.isLeader() || !this.observed) return;
    const now = microTime(Date.now());
    const lease: V1Lease = {
      ...this.observed,
      spec: {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: this.observedRecord()?.leaseTransitions ?? 0,
      },
    };
    try {
      const written = await withTimeout(this.client.update(lease), this.renewDeadline);
      this.setObserved(written, performance.now());
      this.log?.info('Released leader lease');
    } catch (err) {
      this.log?.error('Failed to release lease', { err: err instanceof Error ? err : String(err) });
    }
  }

  /**
   * tryAcquireOrRenew is one round: create the Lease if missing; otherwise, unless someone else
   * holds a lease that has not expired by our observation, write ourselves in as holder with the
   * resourceVersion we read. It never throws; false means "not leader after this round".
   */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const wall = Date.now();
    const now = performance.now();
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.floor(this.leaseDuration / 1000),
      acquireTime: microTime(wall).toISOString(),
      renewTime: microTime(wall).toISOString(),
      leaseTransitions: 0,
    };
    let current: V1Lease | undefined;
    try {
      current = await withTimeout(this.client.get(), timeoutMs);
    } catch (err) {
      this.log?.warn('Error retrieving lease', { err: err instanceof Error ? err : String(err) });
      return false;
    }
    if (!current) {
      try {
        const created = await withTimeout(
          this.client.create({
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.config.name, namespace: this.config.namespace },
            spec: this.specOf(desired, wall),
          }),
          timeoutMs - (performance.now() - now),
        );
        this.setObserved(created, performance.now());
        return true;
      } catch (err) {
        this.log?.warn('Error initially creating lease', { err: err instanceof Error ? err : String(err) });
        return false;
      }
    }
    const old = recordOf(current);
    const raw = JSON.stringify(old);
    if (raw !== this.observedRaw) {
      this.observed = current;
      this.observedRaw = raw;
      this.observedTime = now;
    } else {
      // Same record: keep observedTime, but take the fresh resourceVersion for our write.
      this.observed = current;
    }
    const leader = old.holderIdentity === this.identity;
    if (old.holderIdentity !== '' && !leader && this.observedTime + old.leaseDurationSeconds * 1000 > now) {
      this.log?.v(4).info('Lease is held by another candidate and has not yet expired', { holder: old.holderIdentity });
      return false;
    }
    if (leader) {
      desired.acquireTime = old.acquireTime;
      desired.leaseTransitions = old.leaseTransitions;
    } else {
      desired.leaseTransitions = old.leaseTransitions + 1;
    }
    try {
      const written = await withTimeout(
        this.client.update({ ...current, spec: this.specOf(desired, wall) }),
        timeoutMs - (performance.now() - now),
      );
      this.setObserved(written, performance.now());
      return true;
    } catch (err) {
      this.log?.warn('Failed to update lease', { err: err instanceof Error ? err : String(err) });
      return false;
    }
  }

  private specOf(r: LeaderElectionRecord, wall: number): V1Lease['spec'] {
    return {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: r.acquireTime ? microTime(Date.parse(r.acquireTime)) : microTime(wall),
      renewTime: microTime(wall),
      leaseTransitions: r.leaseTransitions,
    };
  }

  private setObserved(lease: V1Lease, at: number): void {
    this.observed = lease;
    this.observedRaw = JSON.stringify(recordOf(lease));
    this.observedTime = at;
  }

  private observedRecord(): LeaderElectionRecord | undefined {
    return this.observed ? recordOf(this.observed) : undefined;
  }

  private maybeReportTransition(): void {
    const holder = this.getLeader();
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (!this.config.callbacks.onNewLeader) return;
    try {
      this.config.callbacks.onNewLeader(holder);
    } catch (err) {
      this.log?.error('onNewLeader failed', { err: err instanceof Error ? err : String(err) });
    }
  }
}

/** defaultIdentity is `<hostname>_<uuid>`, the holderIdentity kube-controller-manager and kube-scheduler use. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** runLeaderElection builds a LeaderElector from config and runs it until signal aborts or leadership is lost. */
export function runLeaderElection(config: LeaderElectionConfig, signal: AbortSignal): Promise<void> {
  return new LeaderElector(config).run(signal);
}
