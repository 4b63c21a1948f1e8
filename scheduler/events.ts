// The scheduler's Events (Scheduled, FailedScheduling, Preempted), written as kube-scheduler's
// events/v1 broadcaster (client-go tools/events) writes them: recording an event only queues it
// (at most maxQueuedEvents wait; more are dropped, as its DropIfChannelFull broadcaster does),
// and one writer sends the queue to the apiserver one event at a time, through the event
// client's own rate limit (kube-scheduler's clientConnection defaults: 50 per second, bursts of
// 100). A binding never waits for its event, and 300 pods bound per second cost the apiserver
// at most 50 event writes per second instead of 300.
//
// A repeat of the same event (same object, type, reason and message) within ten minutes bumps
// count and lastTimestamp on the first one, as lib/client's EventRecorder does.

import type { Logger } from '../lib/log.js';
import type { Client } from '../lib/client/client.js';
import { EventWriter, type EventType, type InvolvedObject, type Recorder } from '../lib/client/events.js';

/** maxQueuedEvents is client-go tools/events' queue length: events beyond it are dropped. */
export const maxQueuedEvents = 1000;
/** DefaultEventQPS and DefaultEventBurst are kube-scheduler's clientConnection defaults (its event client's rate limit). */
export const DefaultEventQPS = 50;
export const DefaultEventBurst = 100;

/** QueuedEventRecorderOptions tune a QueuedEventRecorder. */
export interface QueuedEventRecorderOptions {
  /** component is source.component and reportingComponent (the profile's schedulerName). */
  component: string;
  log?: Logger;
  qps?: number;
  burst?: number;
  maxQueued?: number;
}

interface QueuedEvent {
  obj: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  at: number;
}

/** QueuedEventRecorder is a Recorder that queues events and writes them one at a time within a rate limit. */
export class QueuedEventRecorder implements Recorder {
  private readonly queue: QueuedEvent[] = [];
  private head = 0;
  private readonly writer: EventWriter;
  private writing = false;
  private tokens: number;
  private refilledAt = Date.now();
  private seq = 0;
  /** dropped counts the events dropped because the queue was full. */
  dropped = 0;
  /** written counts the events sent (created or bumped). */
  written = 0;
  private readonly qps: number;
  private readonly burst: number;
  private readonly maxQueued: number;

  constructor(
    client: Client,
    private readonly opts: QueuedEventRecorderOptions,
  ) {
    this.qps = opts.qps ?? DefaultEventQPS;
    this.burst = opts.burst ?? DefaultEventBurst;
    this.maxQueued = opts.maxQueued ?? maxQueuedEvents;
    this.tokens = this.burst;
    this.writer = new EventWriter(client, { component: opts.component }, opts.log, true);
  }

  /** pending is the number of queued events not yet sent. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  event(obj: InvolvedObject, type: EventType, reason: string, message: string): void {
    if (this.pending >= this.maxQueued) {
      this.dropped++;
      this.opts.log?.v(2).info('Dropped event: the event queue is full', { reason, object: `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}` });
      return;
    }
    this.queue.push({ obj, type, reason, message, at: Date.now() });
    if (!this.writing) void this.drain();
  }

  /** drain writes the queue, one event at a time, waiting for a token before each. */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending > 0) {
        const wait = this.takeToken();
        if (wait > 0) {
          await new Promise<void>((r) => setTimeout(r, wait).unref());
          continue;
        }
        const ev = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as QueuedEvent;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        await this.write(ev);
      }
    } finally {
      this.writing = false;
    }
  }

  /** takeToken takes one token and answers 0, or answers how many ms until one is there. */
  private takeToken(): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.qps) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.qps);
  }

  private async write(ev: QueuedEvent): Promise<void> {
    // kube names an event after its object and the time in nanoseconds, in hex.
    const name = (objectName: string) => `${objectName}.${(BigInt(ev.at) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    if (await this.writer.write(ev.obj, ev.type, ev.reason, ev.message, ev.at, name)) this.written++;
  }
}
