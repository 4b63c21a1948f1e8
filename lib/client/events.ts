// EventRecorder writes core/v1 Events about objects, as client-go's record.EventRecorder does:
// `kubectl describe` lists them under Events. Repeats of the same event (same object, type,
// reason and message) within ten minutes bump count and lastTimestamp on the first Event
// instead of creating another (client-go's EventCorrelator, simplified). Writes are
// fire-and-forget and bounded: an event is advice, and losing one must never stall a reconcile.

import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Client } from './client.js';
import { CoreEvents } from './resources.js';

/** EventType is Normal or Warning. */
export type EventType = 'Normal' | 'Warning';

/** InvolvedObject is the part of an object an Event points at. */
export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** Recorder is what controllers call; lib/testing/fakerecorder.ts has a fake for tests. */
export interface Recorder {
  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

/** EventSource is who writes Events: source.component and reportingComponent, and source.host (kubelets set it). */
export interface EventSource {
  component: string;
  host?: string;
}

const correlationWindowMs = 10 * 60_000;
const maxSeen = 4096;

/**
 * EventWriter writes one Event, or bumps count and lastTimestamp on the first Event when the same
 * object, type, reason and message came within ten minutes (client-go's EventCorrelator,
 * simplified). Both recorders write through one; its correlation is decided synchronously, before
 * the write's first await, so events recorded back to back correlate.
 */
export class EventWriter {
  private readonly seen = new Map<string, Seen>();

  /** capSeen also drops the oldest half of the correlations when more than 4,096 are recent (otherwise only expired ones go). */
  constructor(
    private readonly client: Client,
    private readonly source: EventSource,
    private readonly log?: Logger,
    private readonly capSeen = false,
  ) {}

  /** write sends the event recorded at `at`, named by newName when it is not a repeat; it answers whether the write went through. */
  async write(obj: InvolvedObject, type: EventType, reason: string, message: string, at: number, newName: (objectName: string) => string): Promise<boolean> {
    const m = obj.metadata ?? {};
    const namespace = m.namespace || 'default';
    const key = [obj.kind, namespace, m.name, m.uid, type, reason, message].join('\x00');
    const timestamp = new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
    const seen = this.seen.get(key);
    try {
      if (seen && at - seen.at < correlationWindowMs) {
        seen.count++;
        seen.at = at;
        await this.client.patch(CoreEvents, seen.namespace, seen.name, 'merge', { count: seen.count, lastTimestamp: timestamp });
      } else {
        const name = newName(m.name ?? 'unknown');
        this.seen.set(key, { name, namespace, count: 1, at });
        if (this.seen.size > maxSeen) this.prune(at);
        const { component, host } = this.source;
        await this.client.create(CoreEvents, namespace, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
          type,
          reason,
          message,
          source: { component, ...(host ? { host } : {}) },
          reportingComponent: component,
          reportingInstance: host ?? '',
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          count: 1,
        });
      }
      return true;
    } catch (err) {
      this.seen.delete(key);
      this.log?.v(2).info('Could not write event', { reason, object: `${namespace}/${m.name}`, err: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  /** prune forgets correlations older than the window; with capSeen, when all are recent, the oldest half (a Map keeps insertion order). */
  private prune(now: number): void {
    for (const [k, s] of this.seen) if (now - s.at >= correlationWindowMs) this.seen.delete(k);
    if (!this.capSeen || this.seen.size <= maxSeen) return;
    let drop = this.seen.size - maxSeen / 2;
    for (const k of this.seen.keys()) {
      if (drop-- <= 0) break;
      this.seen.delete(k);
    }
  }
}

/** EventRecorderOptions tune an EventRecorder. */
export interface EventRecorderOptions extends EventSource {
  log?: Logger;
  /** maxInFlight bounds concurrent Event writes; more are dropped (default 50). */
  maxInFlight?: number;
}

/** EventRecorder writes Events through a Client, fire-and-forget, at most maxInFlight at once. */
export class EventRecorder implements Recorder {
  private readonly writer: EventWriter;
  private inFlight = 0;

  constructor(
    client: Client,
    private readonly opts: EventRecorderOptions,
  ) {
    this.writer = new EventWriter(client, opts, opts.log);
  }

  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    if (this.inFlight >= (this.opts.maxInFlight ?? 50)) {
      this.opts.log?.v(2).info('Dropped event', { reason, object: `${obj.metadata?.namespace || 'default'}/${obj.metadata?.name}` });
      return;
    }
    this.inFlight++;
    void this.writer.write(obj, type, reason, message, Date.now(), (n) => `${n}.${randomBytes(8).toString('hex')}`).finally(() => this.inFlight--);
  }
}
