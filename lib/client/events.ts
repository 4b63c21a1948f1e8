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
  first: string;
  at: number;
}

/** EventRecorderOptions tune an EventRecorder. */
export interface EventRecorderOptions {
  /** component is the Event's source.component and reportingController (e.g. `deployment-controller`). */
  component: string;
  /** host is source.host (kubelets set it). */
  host?: string;
  log?: Logger;
  /** maxInFlight bounds concurrent Event writes; more are dropped (default 50). */
  maxInFlight?: number;
}

const correlationWindowMs = 10 * 60_000;

/** EventRecorder writes Events through a Client. */
export class EventRecorder implements Recorder {
  private readonly seen = new Map<string, Seen>();
  private inFlight = 0;

  constructor(
    private readonly client: Client,
    private readonly opts: EventRecorderOptions,
  ) {}

  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    const m = obj.metadata ?? {};
    const namespace = m.namespace || 'default';
    const key = [obj.kind, namespace, m.name, m.uid, type, reason, message].join('\x00');
    const now = Date.now();
    if (this.inFlight >= (this.opts.maxInFlight ?? 50)) {
      this.opts.log?.v(2).info('Dropped event', { reason, object: `${namespace}/${m.name}` });
      return;
    }
    const seen = this.seen.get(key);
    const timestamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    this.inFlight++;
    let write: Promise<unknown>;
    if (seen && now - seen.at < correlationWindowMs) {
      seen.count++;
      seen.at = now;
      write = this.client.patch(CoreEvents, seen.namespace, seen.name, 'merge', { count: seen.count, lastTimestamp: timestamp });
    } else {
      const name = `${m.name ?? 'unknown'}.${randomBytes(8).toString('hex')}`;
      this.seen.set(key, { name, namespace, count: 1, first: timestamp, at: now });
      if (this.seen.size > 4096) this.prune(now);
      write = this.client.create(CoreEvents, namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
        type,
        reason,
        message,
        source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
        reportingComponent: this.opts.component,
        reportingInstance: this.opts.host ?? '',
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        count: 1,
      });
    }
    write
      .catch((err: unknown) => {
        this.seen.delete(key);
        this.opts.log?.v(2).info('Could not write event', { reason, object: `${namespace}/${m.name}`, err: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => this.inFlight--);
  }

  private prune(now: number): void {
    for (const [k, s] of this.seen) if (now - s.at >= correlationWindowMs) this.seen.delete(k);
  }
}
