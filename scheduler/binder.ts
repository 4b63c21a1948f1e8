// Binder writes the scheduler's decisions through pods/binding (DefaultBinder), many at once:
// the scheduling loop hands it a binding and moves on to the next pod, so one slow API call
// never stalls the queue. At most maxInFlight bindings run at a time; when all slots are taken
// the loop waits for one (backpressure instead of an unbounded pile of requests).

import type { Pod } from '../lib/api/core/pod.js';
import { type Client, Pods } from '../lib/client/index.js';

/** Binder runs bindings with bounded concurrency. */
export class Binder {
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly client: Client,
    readonly maxInFlight = 64,
  ) {}

  /** bind is DefaultBinder.Bind: POST a Binding of pod (by name and uid) to nodeName. */
  async bind(pod: Pod, nodeName: string): Promise<void> {
    const name = pod.metadata.name ?? '';
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      // The uid makes the apiserver refuse to bind a pod recreated under the same name meanwhile.
      metadata: { name, namespace: pod.metadata.namespace, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    await this.client.create(Pods, pod.metadata.namespace ?? '', binding, { subresource: 'binding', name });
  }

  /** pending is the number of bindings in flight. */
  get pending(): number {
    return this.inFlight;
  }

  /** waitForSlot resolves once fewer than maxInFlight bindings run (or signal aborts). */
  async waitForSlot(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.slotWaiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** run starts work in a slot; it never rejects (work handles its own failures). */
  run(work: () => Promise<void>): void {
    this.inFlight++;
    void work()
      .catch(() => undefined)
      .finally(() => {
        this.inFlight--;
        this.slotWaiters.shift()?.();
        if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  /** drain resolves when no binding is in flight. */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
