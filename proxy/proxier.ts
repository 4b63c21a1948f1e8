// Proxier turns informer events into iptables syncs: it tracks which Services changed since the
// last sync, coalesces bursts (at most one sync per --min-sync-period, at least one per
// --sync-period), writes only the chains of changed Services after the first full sync, and
// falls back to a full sync after any failure (kube-proxy's iptables proxier and its
// BoundedFrequencyRunner).

import { setFlagsFromString } from 'node:v8';
import type { Service } from '../lib/api/core/service.js';
import type { EndpointSlice } from '../lib/api/discovery/endpointslice.js';
import { LabelServiceName } from '../lib/api/discovery/endpointslice.js';
import type { Logger } from '../lib/log.js';
import { Counter, Gauge, Histogram, type Registry } from '../lib/metrics.js';
import { type NftState, buildNftRules } from './nftables.js';
import type { ChunkSource, PendingRestore } from './iptables.js';
import { type NodeState, type RuleStream, type Skipped, ruleChunks, serviceKey } from './rules.js';

/** RuleApplier is what the proxier needs of iptables or nft (Iptables, Nftables, or a fake in tests). */
export interface RuleApplier {
  /** restore applies one sync's text (iptables-restore --noflush, or nft -f). */
  restore(text: string): Promise<void>;
  /** ensureJumps makes the hooks into the proxy's chains (nothing to do in nftables mode: its table has its own base chains). */
  ensureJumps(): Promise<void>;
  /**
   * begin (optional) starts a sync's restore before its text is built, so the process starts
   * while the proxier builds; with withJumps the same restore also makes the missing jumps (what
   * ensureJumps would do). Without it the proxier calls ensureJumps, then restore.
   */
  begin?(withJumps: boolean): PendingRestore;
}

/**
 * BuiltRules is one sync's output; commit records that it was applied. An engine whose text can
 * be fed while it is built gives source; then text, skipped and the counts are read after the
 * text was taken from one or the other, once.
 */
export interface BuiltRules {
  text: string;
  source?: ChunkSource;
  skipped: Skipped[];
  servicePorts: number;
  endpoints: number;
  commit(): void;
}

/** RuleEngine is a proxy mode's rule builder with its memory of what the kernel holds. */
export interface RuleEngine {
  /** build computes a sync: every Service's chains, or only those of changed (a partial sync). */
  build(services: readonly Service[], slices: readonly EndpointSlice[], node: NodeState, changed: ReadonlySet<string> | undefined): BuiltRules;
}

/**
 * capJitTiers stops V8 short of its optimizing compiler (TurboFan) in the proxy's process: a
 * sync is a burst of building text from objects mostly seen once, and TurboFan's background
 * compiles of the builders cost more CPU than the optimized code saves before the sync is over.
 * Measured on a cold process (README, proxy benchmark): the first full sync of 1,000 Services ×
 * 3 endpoints in nftables mode 51–56 ms of CPU instead of 122–163 ms, of 10,000 0.62–0.73 s
 * instead of 0.78–1.0 s; partial syncs unchanged. V8 reads the flag when it decides to tier up,
 * so setting it at start takes effect. Only for the proxy's own process (main.ts, the benchmark).
 */
export function capJitTiers(): void {
  setFlagsFromString('--max-opt=2');
}

/**
 * iptablesEngine is the iptables mode; existingChains are the per-Service chains found at start.
 * Its text is built as it is taken (ruleChunks): fed to a restore that was started, chunk by chunk.
 */
export function iptablesEngine(existingChains: ReadonlySet<string> = new Set()): RuleEngine {
  let chains = new Set(existingChains);
  return {
    build(services, slices, node, changed) {
      let r: RuleStream | undefined;
      const stream = (sectionEnd?: (table: 'filter' | 'nat') => string) => {
        if (r) throw new Error('a sync\'s rules are built once');
        r = ruleChunks(services, slices, node, { changed, previousChains: chains }, sectionEnd);
        return r.chunks;
      };
      let text: string | undefined;
      const done = () => {
        if (!r) text = [...stream()].join('');
        return r!;
      };
      return {
        get text() {
          if (text === undefined) text = [...stream()].join('');
          return text;
        },
        source: { chunks: stream },
        get skipped() {
          return done().skipped;
        },
        get servicePorts() {
          return done().servicePorts;
        },
        get endpoints() {
          return done().endpoints;
        },
        commit: () => void (chains = done().chains),
      };
    },
  };
}

/** nftablesEngine is the nftables mode; found is what an earlier proxy left (Nftables.existing). */
export function nftablesEngine(found?: NftState): RuleEngine {
  let state = found;
  return {
    build(services, slices, node, changed) {
      const r = buildNftRules(services, slices, node, { changed, previous: state });
      return { ...r, commit: () => void (state = r.commit()) };
    },
  };
}

/** ProxierOptions configure a Proxier. */
export interface ProxierOptions {
  applier: RuleApplier;
  services: () => readonly Service[];
  slices: () => readonly EndpointSlice[];
  /** node is this node's state, undefined while its Node does not exist (no sync then). */
  node: () => NodeState | undefined;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  log: Logger;
  metrics?: Registry;
  /** existingChains are the per-Service chains found at start (taken over from an earlier proxy; iptables mode). */
  existingChains?: ReadonlySet<string>;
  /** engine is the proxy mode (default: iptables with existingChains). */
  engine?: RuleEngine;
  /** onSkipped reports a Service the rules leave out (an Event in the real process). */
  onSkipped?: (s: Skipped) => void;
  /** onQueued is told of each change that waits for a sync (the proxier's health). */
  onQueued?: () => void;
  /**
   * onSynced runs after each successful sync with the state the rules were built from (health
   * check ports, conntrack cleanup); a failure there is logged and does not fail the sync.
   */
  onSynced?: (state: SyncedState) => Promise<void> | void;
}

/** SyncedState is what one successful sync programmed. */
export interface SyncedState {
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  node: NodeState;
  full: boolean;
}

const triggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';

/** Proxier is the sync loop of one node's proxy. */
export class Proxier {
  private changed = new Set<string>();
  private needFull = true;
  private readonly engine: RuleEngine;
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastSyncAt = 0;
  private stopped = false;
  private started = false;
  private waitingLogged = false;
  private needJumps = true;
  private pendingTriggers: number[] = [];
  private readonly reportedSkips = new Set<string>();
  private readonly m;
  /** syncs counts finished syncs (for tests and /readyz). */
  syncs = 0;
  /** lastRuleSet is the last applied output. */
  lastRuleSet: BuiltRules | undefined;

  constructor(private readonly opts: ProxierOptions) {
    this.engine = opts.engine ?? iptablesEngine(opts.existingChains);
    const registers = opts.metrics ? [opts.metrics] : [];
    this.m = {
      duration: new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60], registers }),
      last: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced.', registers }),
      failures: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures.', registers }),
      partial: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total', help: 'Cumulative proxy iptables partial restore failures.', registers }),
      full: new Counter({ name: 'kubeproxy_sync_full_proxy_rules_total', help: 'Full syncs of the proxy rules.', registers }),
      latency: new Histogram({ name: 'kubeproxy_network_programming_duration_seconds', help: 'In Cluster Network Programming Latency in seconds.', buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers }),
      skipped: new Gauge({ name: 'kubeproxy_sync_proxy_rules_skipped_services', help: 'Services the last sync could not express.', registers }),
    };
  }

  /** onServiceChange marks a Service as changed (add, update or delete) and asks for a sync. */
  onServiceChange(svc: Service): void {
    this.changed.add(serviceKey(svc));
    this.opts.onQueued?.();
    this.requestSync();
  }

  /** onSliceChange marks the slice's Service as changed and records its trigger time. */
  onSliceChange(slice: EndpointSlice): void {
    const svc = slice.metadata?.labels?.[LabelServiceName];
    if (!svc) return;
    this.changed.add(`${slice.metadata?.namespace ?? ''}/${svc}`);
    const t = Date.parse((slice.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[triggerTimeAnnotation] ?? '');
    if (!Number.isNaN(t)) this.pendingTriggers.push(t);
    this.opts.onQueued?.();
    this.requestSync();
  }

  /** onNodeChange forces a full sync (node addresses feed every NodePort and LoadBalancer rule). */
  onNodeChange(): void {
    this.needFull = true;
    this.requestSync();
  }

  /** start runs the first (full) sync now and then every syncPeriod; changes reported before it only mark Services changed. */
  start(): void {
    this.started = true;
    this.schedule(0);
    this.periodic = setInterval(() => {
      this.needFull = true;
      this.requestSync();
    }, this.opts.syncPeriodMs);
  }

  /** stop ends the loop; rules stay in place (a restarted proxy takes them over). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.periodic);
    await this.running;
  }

  /** requestSync schedules a sync no sooner than minSyncPeriod after the last one. */
  requestSync(): void {
    // Before start() the informers are still listing: a sync now could see Services without
    // their EndpointSlices and reject their traffic (kube-proxy waits for isInitialized too).
    if (this.stopped || !this.started || this.timer) return;
    const wait = Math.max(0, this.lastSyncAt + this.opts.minSyncPeriodMs - Date.now());
    this.schedule(wait);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) {
        // A sync is under way: run again once it is done.
        void this.running.then(() => this.requestSync());
        return;
      }
      this.running = this.syncProxyRules().finally(() => (this.running = undefined));
    }, ms);
  }

  /** syncProxyRules is one sync: build, restore, and on failure mark the next sync full. */
  async syncProxyRules(): Promise<void> {
    const node = this.opts.node();
    if (!node) {
      if (!this.waitingLogged) this.opts.log.info('Waiting for this node\'s Node object before programming rules');
      this.waitingLogged = true;
      return;
    }
    const full = this.needFull;
    const changed = this.changed;
    const triggers = this.pendingTriggers;
    this.changed = new Set();
    this.pendingTriggers = [];
    this.needFull = false;
    this.lastSyncAt = Date.now();
    const start = performance.now();
    // The jumps from the built-in chains: checked on the first sync and after any failure. The
    // restore (and the jump check) start now and run while the rules are built: an applier with
    // begin() makes the missing jumps in the sync's own restore; otherwise ensureJumps runs first.
    const pending = this.opts.applier.begin?.(this.needJumps);
    const jumps = !pending && this.needJumps ? this.opts.applier.ensureJumps() : undefined;
    jumps?.catch(() => undefined);
    const services = this.opts.services();
    const slices = this.opts.slices();
    let rules: BuiltRules;
    try {
      rules = this.engine.build(services, slices, node, full ? undefined : changed);
    } catch (err) {
      pending?.abort();
      throw err;
    }
    try {
      if (pending) await pending.write(rules.source ?? rules.text);
      else {
        await jumps;
        await this.opts.applier.restore(rules.text);
      }
      this.needJumps = false;
    } catch (err) {
      this.m.failures.inc();
      if (!full) this.m.partial.inc();
      // The kernel's state is unknown now: rewrite everything next time.
      this.needFull = true;
      this.needJumps = true;
      for (const k of changed) this.changed.add(k);
      this.pendingTriggers.push(...triggers);
      this.opts.log.error('Failed to apply proxy rules', { err: (err as Error).message, full });
      if (!this.stopped) this.schedule(this.opts.minSyncPeriodMs);
      return;
    }
    rules.commit();
    this.lastRuleSet = rules;
    this.syncs++;
    if (full) this.m.full.inc();
    const seconds = (performance.now() - start) / 1000;
    this.m.duration.observe(seconds);
    this.m.last.set(Date.now() / 1000);
    for (const t of triggers) this.m.latency.observe(Math.max(0, (Date.now() - t) / 1000));
    this.m.skipped.set(rules.skipped.length);
    for (const s of rules.skipped) {
      const key = `${s.namespace}/${s.name}/${s.reason}`;
      if (this.reportedSkips.has(key)) continue;
      this.reportedSkips.add(key);
      this.opts.log.info('Skipping Service the proxy cannot express', { service: `${s.namespace}/${s.name}`, reason: s.reason, message: s.message });
      this.opts.onSkipped?.(s);
    }
    try {
      await this.opts.onSynced?.({ services, slices, node, full });
    } catch (err) {
      this.opts.log.error('Post-sync step failed', { err: (err as Error).message });
    }
    this.opts.log.v(2).info('Synced proxy rules', { full, changed: changed.size, servicePorts: rules.servicePorts, endpoints: rules.endpoints, seconds });
  }
}
